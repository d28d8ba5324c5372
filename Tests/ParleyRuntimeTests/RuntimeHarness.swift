import Foundation
import ParleyCluster
import ParleyDomain
import ParleyStorage
import Synchronization

@testable import ParleyRuntime

/// A wall clock that tests move by hand.
final class ManualClock: WallClock {
    private let current = Mutex(Timestamp(milliseconds: 1_700_000_000_000))

    func now() -> Timestamp { current.withLock { $0 } }

    func advance(milliseconds: Int64) { current.withLock { $0 = $0.adding(milliseconds: milliseconds) } }
}

/// A state machine that refuses entries while `refusing` is set, and otherwise applies as
/// the node does: for testing how the runtime survives a refused commit.
final class SwitchableApplier: PartitionStateMachine {
    let refusing = Atomic<Bool>(false)
    private let real: EntityStateApplier

    init(kinds: EntityKinds = .standard) { real = EntityStateApplier(kinds: kinds) }

    struct Refused: Error {}

    func apply(_ entry: LogEntry, to writes: inout StateWrites) throws {
        if refusing.load(ordering: .relaxed) { throw Refused() }
        try real.apply(entry, to: &writes)
    }
}

/// A real database and log in a temp dir with the log's committer running, and a runtime
/// over them. `directory` lets a test reopen the same data.
func withRuntime<R: Sendable>(
    directory: String? = nil,
    applier: SwitchableApplier = SwitchableApplier(),
    clock: ManualClock = ManualClock(),
    configuration: RuntimeConfiguration = RuntimeConfiguration(),
    _ body: @Sendable (NodeRuntime) async throws -> R
) async throws -> R {
    let dir = directory ?? NSTemporaryDirectory() + "parley-runtime-test-" + UUID().uuidString
    defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let database = try LocalPartitionLog.openDatabase(at: dir + "/db", stateInsertHints: NodeRuntime.stateInsertHints)
    defer { database.close() }
    let log = try LocalPartitionLog(database: database, partitionCount: 16, stateMachine: applier)
    let runtime = NodeRuntime(database: database, stateFamily: log.stateColumnFamily, log: log, clock: clock, configuration: configuration)
    let outbox = OutboxRelay(runtime: runtime, retryDelay: .milliseconds(50))
    runtime.onOutboxWritten { outbox.nudge() }
    let timers = TimerService(runtime: runtime, rescanInterval: .milliseconds(50))
    return try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask {
            try await log.run()
            return nil
        }
        // The outbox relay and the timer service run beside the body, as on a node.
        let result = await withTaskGroup(of: Result<R, any Error>?.self) { services in
            services.addTask {
                try? await outbox.run()
                return nil
            }
            services.addTask {
                try? await timers.run()
                return nil
            }
            let result: Result<R, any Error>
            do {
                result = .success(try await body(runtime))
            } catch {
                result = .failure(error)
            }
            services.cancelAll()
            return result
        }
        log.close()
        for try await _ in group {}
        return try result.get()
    }
}

let admin = StaffID(unchecked: "admin")
let bo = StaffID(unchecked: "bo")
let eve = StaffID(unchecked: "eve")
