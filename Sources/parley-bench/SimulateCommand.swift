import Foundation
import ParleyTestKit

/// `parley-bench simulate --seed N` replays one seeded Raft simulation with its trace (each
/// line as it happens, so a run that traps still shows how it got there), then its summary;
/// `parley-bench simulate --seeds FIRST-LAST` runs a range and names the seeds that failed.
/// Exits 1 when any seed failed. The same runs as `RaftSimulationTests` (ParleyTestKit).
func runSimulateCommand(_ arguments: [String]) -> Int32 {
    if let seed = option("--seed", in: arguments).flatMap(UInt64.init) {
        let outcome = runSimulation(seed: seed, options: RaftSimulationOptions(), trace: true, echo: true)
        print(outcome.summary)
        return outcome.passed ? 0 : 1
    }
    let range = (option("--seeds", in: arguments) ?? "1-1000").split(separator: "-").compactMap { UInt64($0) }
    guard range.count == 2, range[0] <= range[1], range[1] - range[0] < 10_000_000 else {
        note("parley-bench simulate: --seed N, or --seeds FIRST-LAST")
        return 2
    }
    var failed: [UInt64] = []
    let started = ContinuousClock.now
    for seed in range[0]...range[1] {
        let outcome = runSimulation(seed: seed)
        if !outcome.passed {
            failed.append(seed)
            note(outcome.summary)
        }
    }
    let seconds = (ContinuousClock.now - started) / .seconds(1)
    print("{\"seeds\":\(range[1] - range[0] + 1),\"failed\":\(failed.count),\"failed_seeds\":\(failed),\"seconds\":\((seconds * 10).rounded() / 10)}")
    return failed.isEmpty ? 0 : 1
}
