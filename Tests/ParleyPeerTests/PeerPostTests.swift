import Foundation
import Logging
import ParleyCluster
import ParleyTestKit
import Synchronization
import Testing

@testable import ParleyPeer

@Suite("Posted peer messages")
struct PeerPostTests {
    /// Records what peers posted it, in arrival order; answers calls with their body.
    struct Posted: Equatable {
        let kind: PeerMessageKind
        let body: [UInt8]
        let from: NodeID
    }

    final class PostRecorder: PeerReceiver {
        let posted = Mutex<[Posted]>([])

        func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] { body }

        func receivePosted(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) {
            posted.withLock { $0.append(Posted(kind: kind, body: body, from: node)) }
        }
    }

    @Test func postedMessagesArriveInOrderBesideCallsAndNoneWaitsForAnAnswer() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback(), try FreePort.loopback()]
        let membership = try PeerNetworkTests.membership(ports)
        let logger = Logger(label: "peer-test")
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: PeerNetworkTests.configuration(), logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: PeerNetworkTests.configuration(), logger: logger)
        let recorder = PostRecorder()
        one.inbox.set(PostRecorder())
        two.inbox.set(recorder)
        try await PeerNetworkTests.running([one, two]) { try await Self.postAndCall(from: one, to: recorder) }
    }

    /// Posts 500 messages from `one` to node-2 between calls, then to a node that never started.
    static func postAndCall(from one: PeerNetwork, to recorder: PostRecorder) async throws {
        let node2 = NodeID("node-2")!
        #expect(await PeerNetworkTests.eventually { one.statuses().first { $0.peer.id == node2 }?.health.isUp == true })
        // A call first, so the stream is open; then posts interleaved with calls.
        let first = try await one.exchange(.entityCall, [0], with: node2, timeout: .seconds(5))
        #expect(first == [0])
        let bodies: [[UInt8]] = (0..<500).map { value in [UInt8(value % 256), UInt8(value / 256)] }
        for index in bodies.indices {
            one.post(.raft, bodies[index], to: node2)
            if index % 100 == 0 {
                let answer = try await one.exchange(.entityCall, [1], with: node2, timeout: .seconds(5))
                #expect(answer == [1])
            }
        }
        let arrived = await PeerNetworkTests.eventually { recorder.posted.withLock { $0.count } == bodies.count }
        #expect(arrived)
        let sender = NodeID("node-1")!
        let expected = bodies.map { Posted(kind: .raft, body: $0, from: sender) }
        let posted = recorder.posted.withLock { $0 }
        #expect(posted == expected)
        // Posting to a peer that never started returns at once and delivers nothing.
        let started = ContinuousClock.now
        for _ in 0..<10 { one.post(.raft, [9], to: NodeID("node-3")!) }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func theInProcessTransportPostsToReachableNodesOnly() {
        let network = InProcessPeerTransport()
        let (_, fromOne) = network.join(NodeID("node-1")!)
        let (inbox, _) = network.join(NodeID("node-2")!)
        let recorder = PostRecorder()
        inbox.set(recorder)
        fromOne.post(.raft, [1], to: NodeID("node-2")!)
        network.setReachable(NodeID("node-2")!, false)
        fromOne.post(.raft, [2], to: NodeID("node-2")!)
        network.setReachable(NodeID("node-2")!, true)
        fromOne.post(.raft, [3], to: NodeID("node-2")!)
        let bodies = recorder.posted.withLock { $0.map { $0.body } }
        #expect(bodies == [[1], [3]])
    }
}
