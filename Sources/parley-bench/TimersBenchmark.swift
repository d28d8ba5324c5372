import Foundation
import Logging
import ParleyCluster
import ParleyDomain
import ParleyRuntime
import ParleyStorage
import Synchronization

/// `parley-bench timers [--timers N] [--seconds S] [--posters C]`: how late durable timers
/// fire, on one node's runtime in this process (a real RocksDB and partition log, 64
/// partitions, the timer service and outbox relay a node runs), twice: idle, then while `C`
/// posters post room messages as fast as the log takes them. `N` timers (one entity each,
/// over every partition) are set in the first second, due spread evenly over the next `S`
/// seconds. Lateness is the time the fired timer's command was decided minus its deadline
/// (its commit, one fsync later, is not in it). Prints one JSON line:
/// `{"timers","idle_p50_ms","idle_p99_ms","idle_max_ms","idle_unfired","loaded_p50_ms","loaded_p99_ms","loaded_max_ms","loaded_unfired","loaded_posts_per_s"}`.
struct TimersBenchmark: Sendable {
    let timers: Int
    let seconds: Int
    let posters: Int

    init(arguments: [String]) {
        timers = option("--timers", in: arguments).flatMap(Int.init).map { min(max($0, 1), 100_000) } ?? 2_000
        seconds = option("--seconds", in: arguments).flatMap(Int.init).map { min(max($0, 2), 600) } ?? 10
        posters = option("--posters", in: arguments).flatMap(Int.init).map { min(max($0, 1), 1_000) } ?? 64
    }

    func run() async throws {
        let idle = try await phase(posters: 0)
        let loaded = try await phase(posters: posters)
        note("bench timers: idle \(idle.summary); loaded \(loaded.summary), \(Int(loaded.postsPerSecond)) posts/s")
        printJSONLine([
            "timers": Double(timers),
            "idle_p50_ms": idle.quantile(0.5), "idle_p99_ms": idle.quantile(0.99), "idle_max_ms": idle.quantile(1), "idle_unfired": Double(idle.unfired),
            "loaded_p50_ms": loaded.quantile(0.5), "loaded_p99_ms": loaded.quantile(0.99), "loaded_max_ms": loaded.quantile(1),
            "loaded_unfired": Double(loaded.unfired), "loaded_posts_per_s": loaded.postsPerSecond.rounded(),
        ])
    }

    struct Outcome {
        var lateness: [Int64]
        var unfired: Int
        var postsPerSecond: Double

        func quantile(_ q: Double) -> Double {
            guard !lateness.isEmpty else { return -1 }
            let sorted = lateness.sorted()
            let rank = Int((Double(sorted.count) * q).rounded(.up)) - 1
            return Double(sorted[min(sorted.count - 1, max(0, rank))])
        }

        var summary: String { "p50 \(quantile(0.5)) ms, p99 \(quantile(0.99)) ms, max \(quantile(1)) ms, \(unfired) unfired of \(lateness.count + unfired)" }
    }

    private func phase(posters: Int) async throws -> Outcome {
        let directory = NSTemporaryDirectory() + "parley-bench-timers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try LocalPartitionLog.openDatabase(at: directory + "/db", stateInsertHints: NodeRuntime.stateInsertHints)
        defer { database.close() }
        var logger = Logger(label: "bench.timers")
        logger.logLevel = .warning
        let log = try LocalPartitionLog(database: database, partitionCount: 64, stateMachine: EntityStateApplier(kinds: BenchTimer.kinds), logger: logger)
        var configuration = RuntimeConfiguration()
        configuration.kinds = BenchTimer.kinds
        let runtime = NodeRuntime(database: database, stateFamily: log.stateColumnFamily, log: log, configuration: configuration, logger: logger)
        let outbox = OutboxRelay(runtime: runtime, logger: logger)
        runtime.onOutboxWritten { outbox.nudge() }
        let timerService = TimerService(runtime: runtime, logger: logger)
        let clock = SystemClock()
        let timers = self.timers
        let seconds = self.seconds

        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await log.run() }
            group.addTask { try await outbox.run() }
            group.addTask { try await timerService.run() }
            let sender = StaffID(unchecked: "bench-sender")
            _ = try await runtime.staffCommand(.create(displayName: "Sender", role: .agent, tokenHash: Array(repeating: 1, count: 32)), for: sender)
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Load", creator: sender)).id
            let start = clock.now()
            let end = ContinuousClock.now + .seconds(seconds + 1)
            let posts = Counter()
            let outcome = try await withThrowingTaskGroup(of: Void.self) { load in
                for _ in 0..<posters {
                    load.addTask {
                        while ContinuousClock.now < end {
                            _ = try await runtime.postMessage(in: room, MessagePost(author: sender, text: "a message of ordinary length from the benchmark's load"))
                            posts.value.add(1, ordering: .relaxed)
                        }
                    }
                }
                // Set every timer in the first second, due over the next `seconds`.
                try await withThrowingTaskGroup(of: Void.self) { setting in
                    for index in 0..<timers {
                        if index >= 64 { try await setting.next() }
                        let due = start.adding(milliseconds: 1_000 + Int64(index) * Int64(seconds - 1) * 1_000 / Int64(timers))
                        setting.addTask { _ = try await runtime.command(.schedule(at: due), to: "t\(index)", of: BenchTimer.self) }
                    }
                    try await setting.waitForAll()
                }
                try await Task.sleep(until: end + .seconds(1))
                try await load.waitForAll()
                var lateness: [Int64] = []
                var unfired = 0
                for index in 0..<timers {
                    let timer = try await runtime.state(of: "t\(index)", BenchTimer.self)
                    if timer.firedAt == 0 { unfired += 1 } else { lateness.append(timer.firedAt - timer.deadline) }
                }
                return Outcome(lateness: lateness, unfired: unfired, postsPerSecond: Double(posts.value.load(ordering: .relaxed)) / Double(seconds + 1))
            }
            group.cancelAll()
            log.close()
            while (try? await group.next()) != nil {}
            return outcome
        }
    }
}
