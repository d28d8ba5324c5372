import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `parley-bench replicated parley --http URL,… --h2c URL,… --admin-token T --node-pids P,… [--protocol h1|h2c] [--rooms R]
/// [--placement spread|leader]` or `parley-bench replicated etcd --endpoints URL,… --node-pids P,…`, both with
/// `[--seconds S] [--clients C] [--failover-seconds F] [--no-failover]`: against a running 3-node cluster (as
/// `scripts/bench-replicated` starts them), in one run:
/// - throughput: one h2load per node, side by side, the `clients` spread over them, posting
///   writes for `seconds` after a 1 s warm-up (HTTP/1.1 unless `--protocol h2c`);
/// - failover: the same load on the nodes but the leader, SIGKILLs the leader 2 s into the
///   measured period, and from the kill sends a write every 20 ms through the survivors
///   (each bounded by 3 s) until one has succeeded on every probe target: the failover is the
///   time from the kill to the end of the earliest successful write that needed a new leader
///   (each target's on stderr).
///   (`--no-failover`: throughput only; failover_ms and all_led_ms print -1).
/// Prints `{"writes_per_s","p99_ms","cpu_us_per_write","failover_ms","all_led_ms","failed","non2xx"}`
/// (`cpu_us_per_write`: the nodes' CPU time over the load, warm-up included, per write;
/// `all_led_ms`: from the kill until every survivor sees a live leader for everything;
/// `failed`, `non2xx`: of the throughput run). Details on stderr. `parley-bench replicated pair`
/// measures both systems in turns (`runReplicatedPair`).
func runReplicatedBenchmark(_ arguments: [String]) async throws {
    var configuration = HTTPClient.Configuration()
    // Writes stuck on the dead leader hold their connection up to 3 s: room for them all.
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
    configuration.timeout.connect = .seconds(1)
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    let outcome: Result<Void, any Error>
    do {
        switch arguments.count >= 3 ? arguments[2] : "" {
        case "parley":
            let system = try await ParleySystem.prepare(arguments: arguments, client: client)
            try await ReplicatedBenchmark(system: system, arguments: arguments, http1: system.http1).run(client: client)
        case "etcd":
            let system = try EtcdSystem(arguments: arguments)
            try await ReplicatedBenchmark(system: system, arguments: arguments, http1: true).run(client: client)
        case "pair":
            try await runReplicatedPair(arguments, client: client)
        default:
            throw BenchError("replicated takes parley, etcd or pair")
        }
        outcome = .success(())
    } catch {
        outcome = .failure(error)
    }
    try? await client.shutdown()
    try outcome.get()
}

/// A replicated system under test: where its load goes, and how to find, kill and replace
/// its leader.
protocol ReplicatedSystem: Sendable {
    /// "parley" or "etcd", for the details.
    var name: String { get }
    var nodeCount: Int { get }
    /// The URLs h2load posts to on `node`, in turn (one scheme, host and port).
    func loadURLs(node: Int) -> [String]
    /// `name: value` headers of the load.
    var loadHeaders: [String] { get }
    var loadBody: String { get }
    /// Counters read from every node's `/metrics` around the throughput run, per write.
    var counterNames: [String] { get }
    func metricsURL(node: Int) -> String
    /// The leader to kill and the writes that will need its successor.
    func failoverPlan(client: HTTPClient) async throws -> FailoverPlan
    /// `plan` checked again just before the kill; throws when the leader moved meanwhile.
    func recheck(_ plan: FailoverPlan, client: HTTPClient) async throws -> FailoverPlan
}

/// Whom a failover run kills and how it writes through the survivors.
struct FailoverPlan: Sendable {
    /// The index of the node to kill.
    var leader: Int
    /// Write URLs on the survivors only; probe `n` posts to `writeURLs[n % count]`.
    var writeURLs: [String]
    var authorization: String?
    /// Probe `n`'s body.
    var body: @Sendable (Int) -> String
    /// Whether every survivor now sees a live leader (not the killed node) for everything.
    var settled: @Sendable (HTTPClient) async -> Bool
}

/// The run common to both systems.
struct ReplicatedBenchmark<System: ReplicatedSystem>: Sendable {
    let system: System
    let nodePIDs: [Int32]
    let http1: Bool
    var settings = H2LoadRun.Settings()
    var failoverSeconds = 8
    /// False with `--no-failover` (e.g. a cluster without replicas, whose partitions die with
    /// their node).
    var measuresFailover = true

    /// `pidsOption`: the option listing the nodes' pids (`--node-pids`; a paired run names
    /// each system's own).
    init(system: System, arguments: [String], http1: Bool, pidsOption: String = "--node-pids") throws {
        self.system = system
        self.http1 = http1
        nodePIDs = (option(pidsOption, in: arguments) ?? "").split(separator: ",").compactMap { Int32($0) }
        guard nodePIDs.count == system.nodeCount else { throw BenchError("\(pidsOption) must list one pid per node") }
        settings.clients = option("--clients", in: arguments).flatMap(Int.init).map { min(max($0, system.nodeCount), 1_000) } ?? 64
        settings.seconds = option("--seconds", in: arguments).flatMap(Int.init).map { min(max($0, 1), 600) } ?? 10
        failoverSeconds = option("--failover-seconds", in: arguments).flatMap(Int.init).map { min(max($0, 4), 60) } ?? 8
        measuresFailover = !arguments.contains("--no-failover")
    }

    func run(client: HTTPClient) async throws {
        let work = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let load = try await throughput(client: client, work: work)
        let failover = measuresFailover ? try await measureFailover(client: client, work: work) : (firstWrite: -1, allLed: nil)
        printJSONLine([
            "writes_per_s": load.writesPerSecond.rounded(), "p99_ms": rounded(load.p99Milliseconds),
            "cpu_us_per_write": rounded(load.cpuMicrosecondsPerWrite),
            "failover_ms": rounded(failover.firstWrite), "all_led_ms": rounded(failover.allLed ?? -1),
            "failed": Double(load.failed), "non2xx": Double(load.non2xx),
        ])
    }

    /// A fresh directory for h2load's logs (the caller removes it).
    static func workDirectory() throws -> String {
        let work = NSTemporaryDirectory() + "parley-bench-replicated-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return work
    }

    /// One throughput run: h2load on every node, side by side, after a warm-up; the details on
    /// stderr.
    func throughput(client: HTTPClient, work: String) async throws -> ThroughputFigures {
        let name = system.name
        let transport = http1 ? "HTTP/1.1" : "h2c"
        note("\(name): \(system.nodeCount) nodes, \(settings.clients) h2load clients over \(transport), \(settings.warmUpSeconds) s warm-up + \(settings.seconds) s")

        // Counters are details: a node that does not answer leaves them out, not the run.
        let countersBefore = try? await counters(client: client)
        let (load, cpu) = try await NodesCPU.measure(pids: nodePIDs) {
            try await spreadLoad(over: Array(0..<system.nodeCount), settings: settings, work: work)
        }
        let countersAfter = try? await counters(client: client)
        guard load.succeeded > 0 else { throw BenchError("no write succeeded under load (h2load: \(load.failed) failed)") }
        let writes = load.run.requestsPerSecond * Double(max(load.succeeded - load.non2xx, 0)) / Double(max(load.succeeded, 1))
        note("\(name): writes per node \(load.perNode.map { $0.rounded() }) req/s; in all \(writes.rounded()) writes/s, p99 \(rounded(load.run.p99Milliseconds)) ms, \(load.succeeded) succeeded, \(load.failed) failed, \(load.non2xx) non-2xx")
        let latencies = load.run.latenciesMilliseconds
        if !latencies.isEmpty {
            let mean = latencies.reduce(0, +) / Double(latencies.count)
            let quantiles = percentiles(latencies, [0.5, 0.9, 0.99, 0.999]).map(rounded)
            note("\(name): latency mean \(rounded(mean)) ms, p50 \(quantiles[0]), p90 \(quantiles[1]), p99 \(quantiles[2]), p99.9 \(quantiles[3]), max \(rounded(latencies.max() ?? 0)) ms")
        }
        // The CPU and the counters cover the warm-up too: per write of the whole run, its
        // writes estimated at the measured rate.
        let written = max(load.run.requestsPerSecond * Double(settings.seconds + settings.warmUpSeconds), 1)
        note("\(name): nodes' CPU \(cpu.seconds.map(rounded)) s for the load (warm-up included): \(rounded(cpu.microseconds(per: written))) µs per write")
        if let machine = cpu.machine {
            note("\(name): machine busy \(rounded(machine.busy)) % during the load (all cores): the nodes \(rounded(machine.nodes)) %, everything else (h2load, this tool, anyone else's work) \(rounded(machine.busy - machine.nodes)) %; stolen by other guests \(rounded(machine.stolen)) %")
        }
        if let countersBefore, let countersAfter {
            let perWrite = system.counterNames.map { counter in
                "\(counter) \(rounded(((countersAfter[counter] ?? 0) - (countersBefore[counter] ?? 0)) / written))"
            }
            note("\(name): per write, summed over the nodes (warm-up included): \(perWrite.joined(separator: ", "))")
        } else {
            note("\(name): a node's /metrics did not answer: no counters per write")
        }
        if load.failed > 0 || load.non2xx > 0 { note("\(name): WARNING: writes failed under load (reported, not retried)") }
        return ThroughputFigures(
            writesPerSecond: writes, p99Milliseconds: load.run.p99Milliseconds, latenciesMilliseconds: latencies,
            cpuSeconds: cpu.seconds.reduce(0, +), written: written, failed: load.failed, non2xx: load.non2xx)
    }

    /// One h2load per node in `nodes`, side by side, with the clients spread over them.
    private func spreadLoad(over nodes: [Int], settings: H2LoadRun.Settings, work: String) async throws -> SpreadLoad {
        var settings = settings
        settings.http1 = http1
        return try await SpreadLoad.run(
            urlsByNode: nodes.map { system.loadURLs(node: $0) }, settings: settings, headers: system.loadHeaders, body: system.loadBody,
            workDirectory: work)
    }

    /// The load on the survivors-to-be; 2 s into its measured period, the leader's SIGKILL,
    /// then probe writes until each probe target has taken one.
    func measureFailover(client: HTTPClient, work: String) async throws -> (firstWrite: Double, allLed: Double?) {
        let name = system.name
        let planned = try await system.failoverPlan(client: client)
        let survivors = (0..<system.nodeCount).filter { $0 != planned.leader }
        let loadSettings = { var share = settings; share.seconds = failoverSeconds; return share }()
        let (load, failover) = try await withThrowingTaskGroup(of: FailoverPart.self) { group in
            group.addTask { .load(try await spreadLoad(over: survivors, settings: loadSettings, work: work)) }
            group.addTask {
                try await Task.sleep(for: .seconds(loadSettings.warmUpSeconds + 2))
                let plan = try await system.recheck(planned, client: client)
                let pid = nodePIDs[plan.leader]
                let killed = ContinuousClock.now
                guard kill(pid, SIGKILL) == 0 else { throw BenchError("could not SIGKILL pid \(pid)") }
                note("\(name): SIGKILL to node \(plan.leader + 1) (pid \(pid)) under load")
                async let allLed = Self.untilSettled(plan, since: killed, client: client)
                let (first, each) = try await Self.firstWrite(plan, since: killed, client: client)
                return .failover(first, await allLed, each)
            }
            var load: SpreadLoad?
            var failover: (Double, Double?, [Double])?
            for try await part in group {
                switch part {
                case let .load(run): load = run
                case let .failover(first, all, each): failover = (first, all, each)
                }
            }
            guard let load, let failover else { throw BenchError("the failover run did not finish") }
            return (load, failover)
        }
        note("\(name): first write through a new leader \(rounded(failover.0)) ms after the kill (first success by probe target: \(failover.2.map { rounded($0) }) ms)")
        note("\(name): every survivor sees live leaders for everything after \(failover.1.map { "\(rounded($0)) ms" } ?? "never (30 s)")")
        note("\(name): load during the failover \(load.perNode.map { $0.rounded() }) req/s on the survivors, \(load.succeeded) succeeded, \(load.failed) failed, \(load.non2xx) non-2xx, p99 \(rounded(load.run.p99Milliseconds)) ms")
        return (failover.0, failover.1)
    }

    /// `counterNames` summed over the nodes.
    private func counters(client: HTTPClient) async throws -> [String: Double] {
        try await summedCounters(system.counterNames, metricsURLs: (0..<system.nodeCount).map { system.metricsURL(node: $0) }, client: client)
    }

    /// A write every 20 ms from `killed` (each bounded by 3 s), through the survivors in
    /// turn, until one has succeeded on every target (a target: a URL's path, e.g. one room);
    /// the milliseconds from the kill to the end of the earliest success, and each target's.
    /// Writes are sent on a schedule rather than one after another so that a write stuck on
    /// the dead leader (a follower forwards until it notices) does not hold up the next.
    static func firstWrite(_ plan: FailoverPlan, since killed: ContinuousClock.Instant, client: HTTPClient) async throws -> (Double, [Double]) {
        let target: @Sendable (Int) -> String = { number in String(plan.writeURLs[number % plan.writeURLs.count].split(separator: "/", maxSplits: 2).last ?? "") }
        let targets = Set(plan.writeURLs.indices.map(target)).count
        let firsts = FirstSuccesses()
        await withTaskGroup(of: Void.self) { group in
            for number in 0..<1_500 {
                try? await Task.sleep(until: killed + .milliseconds(20 * number))
                if firsts.elapsed.withLock({ $0.count }) == targets { break }
                group.addTask {
                    guard await write(plan, number: number, client: client) else { return }
                    let elapsed = ContinuousClock.now - killed
                    firsts.elapsed.withLock { $0[target(number)] = min($0[target(number)] ?? elapsed, elapsed) }
                }
            }
            group.cancelAll()
        }
        let each = firsts.elapsed.withLock { $0.values.map(milliseconds) }.sorted()
        guard let first = each.first else { throw BenchError("no write succeeded within 30 s of the kill") }
        return (first, each)
    }

    /// Probe write `number`; whether it was answered 2xx within 3 s.
    static func write(_ plan: FailoverPlan, number: Int, client: HTTPClient) async -> Bool {
        var request = HTTPClientRequest(url: plan.writeURLs[number % plan.writeURLs.count])
        request.method = .POST
        if let authorization = plan.authorization { request.headers.add(name: "authorization", value: authorization) }
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: plan.body(number)))
        guard let response = try? await client.execute(request, timeout: .seconds(3)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return (200..<300).contains(response.status.code)
    }

    /// Polls every 50 ms (for 30 s at most) until the survivors agree on live leaders.
    static func untilSettled(_ plan: FailoverPlan, since killed: ContinuousClock.Instant, client: HTTPClient) async -> Double? {
        for _ in 0..<600 {
            if await plan.settled(client) { return milliseconds(ContinuousClock.now - killed) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

/// The earliest successful probe write of each target, from the kill.
private final class FirstSuccesses: Sendable {
    let elapsed = Mutex<[String: Duration]>([:])
}

/// What one throughput run measured.
struct ThroughputFigures: Sendable {
    var writesPerSecond: Double
    var p99Milliseconds: Double
    /// Every successful write's latency (to pool runs).
    var latenciesMilliseconds: [Double]
    /// The nodes' CPU over the run, warm-up included, and the writes estimated over it.
    var cpuSeconds: Double
    var written: Double
    var failed: Int
    var non2xx: Int

    var cpuMicrosecondsPerWrite: Double { cpuSeconds / max(written, 1) * 1_000_000 }
}

extension ThroughputFigures {
    /// Runs of equal length taken as one: the mean rate, the p99 over every write, the CPU
    /// and writes summed, the failures counted.
    init(pooling runs: [ThroughputFigures]) {
        let latencies = runs.flatMap(\.latenciesMilliseconds)
        self.init(
            writesPerSecond: runs.map(\.writesPerSecond).reduce(0, +) / Double(max(runs.count, 1)),
            p99Milliseconds: percentile(latencies, 0.99), latenciesMilliseconds: latencies,
            cpuSeconds: runs.map(\.cpuSeconds).reduce(0, +), written: runs.map(\.written).reduce(0, +),
            failed: runs.map(\.failed).reduce(0, +), non2xx: runs.map(\.non2xx).reduce(0, +))
    }
}

private enum FailoverPart: Sendable {
    case load(SpreadLoad)
    case failover(Double, Double?, [Double])
}
