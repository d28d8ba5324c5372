import Foundation
import Logging
import ParleyCluster
import ParleyTestKit
import Synchronization
import Testing

@testable import ParleyPeer

/// A call that waits with nothing answered makes the peer network check every peer at once
/// (`suspectAfter`, `probeTimeout`): a cut network closes no socket, and without this it is
/// noticed only by the next handshake. Handshakes here come every 30 s, so anything found
/// within a test was found by a probe.
@Suite("Peer suspicion")
struct PeerSuspicionTests {
    static func configuration(probeTimeout: Duration) -> PeerNetwork.Configuration {
        var configuration = PeerNetworkTests.configuration()
        configuration.heartbeat = .seconds(30)
        configuration.suspectAfter = .milliseconds(200)
        configuration.probeTimeout = probeTimeout
        return configuration
    }

    static func isUp(_ network: PeerNetwork, _ peer: String) -> Bool {
        network.statuses().first { $0.peer.id.rawValue == peer }?.health.isUp == true
    }

    @Test func aSlowAnswerIsProbedAndThePeerStaysUp() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let membership = try PeerNetworkTests.membership(ports)
        let logger = Logger(label: "peer-test")
        // A generous probe deadline: a machine busy with other tests must not fail the probe.
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: Self.configuration(probeTimeout: .seconds(2)), logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: Self.configuration(probeTimeout: .seconds(2)), logger: logger)
        let recorder = PeerNetworkTests.GoneRecorder()
        one.inbox.set(recorder)
        two.inbox.set(PeerNetworkTests.SlowReceiver(delay: .milliseconds(1_500)))
        try await PeerNetworkTests.running([one, two]) {
            #expect(await PeerNetworkTests.eventually { Self.isUp(one, "node-2") })
            #expect(one.probeCount == 0)
            let asked = ContinuousClock.now
            let answer = try await one.exchange(.entityCall, [5], with: NodeID("node-2")!, timeout: .seconds(10))
            #expect(answer == [5])
            // Waiting 1.5 s with nothing answered: probed, and each answered probe counts as an
            // answer for 200 ms; it was never down and nobody was told it was gone.
            let waited = Int((ContinuousClock.now - asked) / .milliseconds(200))
            #expect(one.probeCount >= 1 && one.probeCount <= waited + 2)
            #expect(Self.isUp(one, "node-2"))
            #expect(recorder.gone.withLock { $0.isEmpty })
        }
    }

    @Test func aPeerCutOffWithItsSocketsOpenIsFoundDownByTheProbeOfAWaitingCall() async throws {
        let proxy = FaultProxy()
        // node-2's address in the cluster file is the proxy's listener; it listens elsewhere.
        let proxied = try FreePort.loopback()
        let ports = [try FreePort.loopback(), proxied]
        let listen = try FreePort.loopback()
        let membership = try PeerNetworkTests.membership(ports)
        try await proxy.listen(on: ("127.0.0.1", proxied), forNode: "node-2", target: ("127.0.0.1", listen), nodes: ["node-1", "node-2"])
        let logger = Logger(label: "peer-test")
        var first = Self.configuration(probeTimeout: .milliseconds(500))
        first.sourceHost = FaultProxy.sourceHost(ofNode: 0)
        var second = Self.configuration(probeTimeout: .milliseconds(500))
        second.listenAddress = HostPort(host: "127.0.0.1", port: listen)
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: first, logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: second, logger: logger)
        let recorder = PeerNetworkTests.GoneRecorder()
        one.inbox.set(recorder)
        two.inbox.set(PeerNetworkTests.EchoReceiver())
        try await PeerNetworkTests.running([one, two]) {
            #expect(await PeerNetworkTests.eventually { Self.isUp(one, "node-2") })
            _ = try await one.exchange(.entityCall, [1], with: NodeID("node-2")!, timeout: .seconds(5))
            proxy.cut([.init(from: "node-1", to: "node-2"), .init(from: "node-2", to: "node-1")])
            // The call waits with nothing answered; the probe gets no answer either: node-2 is
            // down, the receiver told, and the call fails long before its 20 s deadline (and
            // the next handshake, 30 s away).
            let started = ContinuousClock.now
            await #expect(throws: ClusterError.self) {
                _ = try await one.exchange(.entityCall, [2], with: NodeID("node-2")!, timeout: .seconds(20))
            }
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(one.probeCount >= 1)
            #expect(!Self.isUp(one, "node-2"))
            #expect(recorder.gone.withLock { $0 } == [NodeID("node-2")!])
            // Healed: node-2 is greeted again on the backoff schedule (at most 200 ms here).
            proxy.healAll()
            #expect(await PeerNetworkTests.eventually { Self.isUp(one, "node-2") })
            let answer = try await one.exchange(.entityCall, [3], with: NodeID("node-2")!, timeout: .seconds(5))
            #expect(answer == [PeerMessageKind.entityCall.rawValue] + Array("node-1".utf8) + [3])
        }
        await proxy.close()
    }

    /// A peer held down that reaches this node again (a restarted process greets it at once)
    /// is greeted back at once rather than on its backoff schedule: its Raft messages are
    /// dropped while it is held down.
    @Test func aPeerHeldDownThatGreetsThisNodeIsGreetedBackAtOnce() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let membership = try PeerNetworkTests.membership(ports)
        let logger = Logger(label: "peer-test")
        var slow = Self.configuration(probeTimeout: .seconds(2))
        slow.backoff.initial = .seconds(20)
        slow.backoff.maximum = .seconds(20)
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: slow, logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: Self.configuration(probeTimeout: .seconds(2)), logger: logger)
        two.inbox.set(PeerNetworkTests.EchoReceiver())
        try await PeerNetworkTests.running([one]) {
            // node-2 is not running: its first handshake fails, the next is 10 to 20 s away.
            #expect(await PeerNetworkTests.eventually { one.statuses().first { $0.peer.id.rawValue == "node-2" }?.health.isDown == true })
            let started = ContinuousClock.now
            try await PeerNetworkTests.running([two]) {
                #expect(await PeerNetworkTests.eventually(.seconds(8)) { Self.isUp(one, "node-2") })
                #expect(ContinuousClock.now - started < .seconds(8))
            }
        }
    }
}
