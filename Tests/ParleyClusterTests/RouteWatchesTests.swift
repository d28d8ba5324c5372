import Synchronization
import Testing

@testable import ParleyCluster

/// The watches a forwarded call keeps beside its answer: woken once by a change to another
/// route, never by news of the same one, at once when the change came first, and never after
/// the watch ended. And the abandonment such a wake triggers.
@Suite("Route change watches")
struct RouteWatchesTests {

    @Test("a change to another route wakes the watch once; news of the same route does not")
    func wokenByChange() {
        let partition = PartitionID(3)
        let node2 = NodeID("node-2")!
        let node3 = NodeID("node-3")!
        let watches = RouteWatches()
        let current = Shared(PartitionRoute.elsewhere(node2))
        let wakes = Shared(0)
        _ = watches.watch(partition, from: .elsewhere(node2), current: { current.withLock { $0 } }) { wakes.withLock { $0 += 1 } }
        #expect(watches.count == 1)
        watches.routeChanged(partition, to: .elsewhere(node2))
        watches.routeChanged(PartitionID(4), to: .here)
        #expect(watches.count == 1)
        #expect(wakes.withLock { $0 } == 0)
        current.withLock { $0 = .elsewhere(node3) }
        watches.routeChanged(partition, to: .elsewhere(node3))
        watches.routeChanged(partition, to: .here)
        #expect(wakes.withLock { $0 } == 1)
        #expect(watches.count == 0)
    }

    @Test("a route that already changed wakes at once and leaves nothing registered")
    func alreadyChanged() {
        let watches = RouteWatches()
        let wakes = Shared(0)
        _ = watches.watch(PartitionID(3), from: .elsewhere(NodeID("node-2")!), current: { .elsewhere(nil) }) { wakes.withLock { $0 += 1 } }
        #expect(wakes.withLock { $0 } == 1)
        #expect(watches.count == 0)
    }

    @Test("an ended watch is unregistered and never wakes")
    func ended() {
        let partition = PartitionID(3)
        let watches = RouteWatches()
        let wakes = Shared(0)
        let watch = watches.watch(partition, from: .here, current: { .here }) { wakes.withLock { $0 += 1 } }
        #expect(watches.count == 1)
        watches.end(watch)
        watches.end(watch)
        #expect(watches.count == 0)
        watches.routeChanged(partition, to: .elsewhere(nil))
        #expect(wakes.withLock { $0 } == 0)
    }

    @Test("an abandonment ends its call whichever comes first, once, with the first reason")
    func abandonment() async {
        let before = PeerCallAbandonment()
        before.abandon("leader moved")
        before.abandon("again")
        let endedWith = Shared<[String]>([])
        before.whenAbandoned { reason in endedWith.withLock { $0.append(reason) } }
        #expect(endedWith.withLock { $0 } == ["leader moved"])
        #expect(before.reason == "leader moved")

        let after = PeerCallAbandonment()
        let later = Shared<[String]>([])
        after.whenAbandoned { reason in later.withLock { $0.append(reason) } }
        #expect(after.reason == nil)
        #expect(later.withLock { $0 }.isEmpty)
        after.abandon("deposed")
        after.abandon("twice")
        #expect(later.withLock { $0 } == ["deposed"])
        await after.waitUntilAbandoned()  // already abandoned: returns at once
    }

    @Test("an in-process call is abandoned while its receiver still works on it")
    func inProcessAbandonment() async throws {
        let network = InProcessPeerTransport()
        let (_, one) = network.join(NodeID("node-1")!)
        let (inbox, _) = network.join(NodeID("node-2")!)
        inbox.set(SlowReceiver())
        let abandonment = PeerCallAbandonment()
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(100))
                abandonment.abandon("node-2 stopped leading partition 3")
            }
            await #expect(throws: ClusterError.self) {
                try await one.exchange(.entityCall, [1], with: NodeID("node-2")!, timeout: .seconds(30), abandonment: abandonment)
            }
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}

/// Answers after 20 s unless cancelled first.
private struct SlowReceiver: PeerReceiver {
    func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] {
        try? await Task.sleep(for: .seconds(20))
        return body
    }
}

/// A value tasks share (a Mutex cannot be captured by the tasks' closures itself).
private final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
