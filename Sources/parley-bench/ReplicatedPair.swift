import AsyncHTTPClient
import Foundation

/// `parley-bench replicated pair` with Parley's options (`--http`, `--h2c`, `--admin-token`,
/// `--parley-pids`, `--rooms`, `--protocol`) and etcd's (`--endpoints`, `--etcd-pids`), and
/// `[--slices N] [--seconds S] [--clients C] [--failover-seconds F] [--idle-seconds I]`: both
/// clusters running at once (as `scripts/bench-replicated` starts them), measured in turns so
/// that both meet the same machine. First both idle for `idle-seconds` (10): each cluster's
/// CPU then, in percent of one core. A shared machine's speed drifts by a fifth from one minute to the next,
/// so two systems measured a minute apart compare their minutes as much as themselves:
/// - `slices` (4) throughput turns of each system, `seconds` (5) each after a 1 s warm-up,
///   in the order Parley, etcd, etcd, Parley, Parley, etcd, … (each pair of turns swaps who goes
///   first, so a drift over the run weighs on both alike); the other cluster idles meanwhile
///   (its CPU over the turn is reported);
/// - then one failover of each (Parley's first), as `replicated parley|etcd` measure it.
/// Prints `{"parley_writes_per_s","etcd_writes_per_s","ratio","parley_p99_ms","etcd_p99_ms",
/// "parley_failover_ms","etcd_failover_ms","parley_cpu_us_per_write","etcd_cpu_us_per_write","failed","non2xx",
/// "parley_idle_cpu_pct","etcd_idle_cpu_pct"}`:
/// writes/s are the means over the turns, the ratio is Parley's total over etcd's (their turns
/// are as long), each p99 is over every write of its turns, the CPU per write over its turns,
/// and `failed`/`non2xx` count both systems' failed throughput writes.
func runReplicatedPair(_ arguments: [String], client: HTTPClient) async throws {
    var parley = try ReplicatedBenchmark(
        system: try await ParleySystem.prepare(arguments: arguments, client: client), arguments: arguments,
        http1: option("--protocol", in: arguments) != "h2c", pidsOption: "--parley-pids")
    var etcd = try ReplicatedBenchmark(system: try EtcdSystem(arguments: arguments), arguments: arguments, http1: true, pidsOption: "--etcd-pids")
    if option("--seconds", in: arguments) == nil { (parley.settings.seconds, etcd.settings.seconds) = (5, 5) }
    let slices = option("--slices", in: arguments).flatMap(Int.init).map { min(max($0, 1), 20) } ?? 4
    let work = try ReplicatedBenchmark<ParleySystem>.workDirectory()
    defer { try? FileManager.default.removeItem(atPath: work) }

    // Both clusters idle (no client at all), before any load: CPU in percent of one core,
    // each whole cluster.
    let idleSeconds = option("--idle-seconds", in: arguments).flatMap(Int.init).map { min(max($0, 1), 120) } ?? 10
    try await Task.sleep(for: .seconds(3))  // the setup's last writes settle (Parley's groups go quiet after 1 s)
    let (_, idle) = try await NodesCPU.measure(pids: parley.nodePIDs + etcd.nodePIDs) { try await Task.sleep(for: .seconds(idleSeconds)) }
    let idleShares = idle.seconds.map { $0 / Double(idleSeconds) * 100 }
    let parleyIdle = idleShares.prefix(parley.nodePIDs.count).reduce(0, +)
    let etcdIdle = idleShares.dropFirst(parley.nodePIDs.count).reduce(0, +)
    note("pair: idle for \(idleSeconds) s: parley \(rounded(parleyIdle)) % of a core (nodes \(idleShares.prefix(parley.nodePIDs.count).map(rounded))), etcd \(rounded(etcdIdle)) % (members \(idleShares.dropFirst(parley.nodePIDs.count).map(rounded)))")

    var parleyTurns: [ThroughputFigures] = []
    var etcdTurns: [ThroughputFigures] = []
    for slice in 0..<slices {
        for parleyTurn in slice % 2 == 0 ? [true, false] : [false, true] {
            if parleyTurn {
                parleyTurns.append(try await turn(of: parley, idle: etcd.nodePIDs, client: client, work: work))
            } else {
                etcdTurns.append(try await turn(of: etcd, idle: parley.nodePIDs, client: client, work: work))
            }
        }
        let ratio = parleyTurns[slice].writesPerSecond / max(etcdTurns[slice].writesPerSecond, 1)
        note("pair: turn \(slice + 1) of \(slices): parley \(parleyTurns[slice].writesPerSecond.rounded()) writes/s, etcd \(etcdTurns[slice].writesPerSecond.rounded()), ratio \(rounded(ratio))")
    }
    let parleyFailover = try await parley.measureFailover(client: client, work: work)
    let etcdFailover = try await etcd.measureFailover(client: client, work: work)

    let parleyRuns = ThroughputFigures(pooling: parleyTurns)
    let etcdRuns = ThroughputFigures(pooling: etcdTurns)
    printJSONLine([
        "parley_writes_per_s": parleyRuns.writesPerSecond.rounded(), "etcd_writes_per_s": etcdRuns.writesPerSecond.rounded(),
        "ratio": etcdRuns.writesPerSecond > 0 ? (parleyRuns.writesPerSecond / etcdRuns.writesPerSecond * 1_000).rounded() / 1_000 : 0,
        "parley_p99_ms": rounded(parleyRuns.p99Milliseconds), "etcd_p99_ms": rounded(etcdRuns.p99Milliseconds),
        "parley_failover_ms": rounded(parleyFailover.firstWrite), "etcd_failover_ms": rounded(etcdFailover.firstWrite),
        "parley_cpu_us_per_write": rounded(parleyRuns.cpuMicrosecondsPerWrite), "etcd_cpu_us_per_write": rounded(etcdRuns.cpuMicrosecondsPerWrite),
        "failed": Double(parleyRuns.failed + etcdRuns.failed), "non2xx": Double(parleyRuns.non2xx + etcdRuns.non2xx),
        "parley_idle_cpu_pct": rounded(parleyIdle), "etcd_idle_cpu_pct": rounded(etcdIdle),
    ])
}

/// One throughput turn of `bench`, with the CPU the idle cluster (`idle`) spent meanwhile.
private func turn<System>(
    of bench: ReplicatedBenchmark<System>, idle: [Int32], client: HTTPClient, work: String
) async throws -> ThroughputFigures {
    let (figures, idleCPU) = try await NodesCPU.measure(pids: idle) { try await bench.throughput(client: client, work: work) }
    let seconds = Double(bench.settings.seconds + bench.settings.warmUpSeconds)
    note("\(bench.system.name): the other cluster, idle, took \(rounded(idleCPU.seconds.reduce(0, +) / seconds * 100)) % of a core meanwhile")
    return figures
}
