import Synchronization
import Testing

@testable import ParleyCluster

/// The waits a forwarded call makes beside its answer: woken by a change to another route,
/// never by news of the same one, at once when the change came first, and by cancellation.
@Suite("Route change waiters")
struct RouteChangeWaitersTests {

    @Test("a change to another route wakes the waiter; news of the same route does not")
    func wokenByChange() async {
        let partition = PartitionID(3)
        let node2 = NodeID("node-2")!
        let node3 = NodeID("node-3")!
        let waiters = RouteChangeWaiters()
        let current = Shared(PartitionRoute.elsewhere(node2))
        let woke = Shared(false)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await waiters.wait(for: partition, from: .elsewhere(node2)) { current.withLock { $0 } }
                woke.withLock { $0 = true }
            }
            #expect(await Self.registered(1, in: waiters))
            waiters.routeChanged(partition, to: .elsewhere(node2))
            waiters.routeChanged(PartitionID(4), to: .here)
            #expect(waiters.count == 1)
            #expect(!woke.withLock { $0 })
            current.withLock { $0 = .elsewhere(node3) }
            waiters.routeChanged(partition, to: .elsewhere(node3))
            await group.waitForAll()
        }
        #expect(woke.withLock { $0 })
        #expect(waiters.count == 0)
    }

    @Test("a route that already changed returns at once and leaves nothing registered")
    func alreadyChanged() async {
        let partition = PartitionID(3)
        let node2 = NodeID("node-2")!
        let waiters = RouteChangeWaiters()
        await waiters.wait(for: partition, from: .elsewhere(node2)) { .elsewhere(nil) }
        #expect(waiters.count == 0)
    }

    @Test("cancelling the waiting task returns and unregisters it")
    func cancelled() async {
        let partition = PartitionID(3)
        let waiters = RouteChangeWaiters()
        let task = Task { await waiters.wait(for: partition, from: .here) { .here } }
        #expect(await Self.registered(1, in: waiters))
        task.cancel()
        await task.value
        #expect(waiters.count == 0)
    }

    /// Waits (bounded: 2 s) until `count` callers are registered.
    private static func registered(_ count: Int, in waiters: RouteChangeWaiters) async -> Bool {
        for _ in 0..<200 {
            if waiters.count == count { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

/// A value tasks share (a Mutex cannot be captured by the tasks' closures itself).
private final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
