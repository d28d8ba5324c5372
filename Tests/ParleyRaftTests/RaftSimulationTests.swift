import Foundation
import ParleyRaft
import ParleyTestKit
import Testing

/// Deterministic simulation of whole clusters (issue 5, deliverable 5).
///
/// Every run covers `shards × seedsPerShard` seeds (1,000). A failure names its seeds; rerun
/// one alone with its trace printed:
///
///     PARLEY_SIM_SEED=123 swift test --filter RaftSimulationTests
///
/// (`parley-bench simulate --seed 123` runs the same `runSimulation(seed:trace:)`.)
@Suite struct RaftSimulationTests {
    static let shards = 8
    static let seedsPerShard = 125
    static let requestedSeed: UInt64? = ProcessInfo.processInfo.environment["PARLEY_SIM_SEED"].flatMap { UInt64($0) }

    @Test(arguments: 0..<shards)
    func simulatedClustersStaySafeAndLinearizable(shard: Int) {
        guard Self.requestedSeed == nil else { return }
        let first = UInt64(shard * Self.seedsPerShard)
        var failures: [String] = []
        var failingSeeds: [UInt64] = []
        var completed = 0, crashes = 0, partitions = 0, transfers = 0, snapshots = 0, lost = 0
        for seed in first..<first + UInt64(Self.seedsPerShard) {
            SeedCrashReporter.mark(shard, seed)
            defer { SeedCrashReporter.mark(shard, nil) }
            let outcome = runSimulation(seed: seed)
            completed += outcome.completedOperations
            crashes += outcome.crashes
            partitions += outcome.partitions
            transfers += outcome.transfers
            snapshots += outcome.snapshotsInstalled
            lost += outcome.messagesLost
            if !outcome.passed {
                failingSeeds.append(seed)
                if failures.count < 5 { failures.append(outcome.summary) }
            }
        }
        #expect(failingSeeds.isEmpty, "failing seeds \(failingSeeds) (rerun one with PARLEY_SIM_SEED=N); first: \(failures)")
        // The runs must actually exercise what they claim to.
        #expect(completed > Self.seedsPerShard * 20, "clients completed only \(completed) operations")
        #expect(crashes > 0 && partitions > 0 && transfers > 0 && snapshots > 0 && lost > 0,
                "crashes \(crashes) partitions \(partitions) transfers \(transfers) snapshots \(snapshots) lost \(lost)")
    }

    @Test func requestedSeedWithTrace() {
        guard let seed = Self.requestedSeed else { return }
        // Echoed line by line, so the trace survives a trap.
        let outcome = runSimulation(seed: seed, options: RaftSimulationOptions(), trace: true, echo: true)
        print(outcome.summary)
        #expect(outcome.passed, "\(outcome.summary)")
    }

    @Test func sameSeedSameRun() {
        let a = runSimulation(seed: 42, trace: true)
        let b = runSimulation(seed: 42, trace: true)
        #expect(a.trace == b.trace)
        #expect(a.operations == b.operations)
    }
}
