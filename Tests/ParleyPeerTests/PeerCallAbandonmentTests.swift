import Foundation
import Logging
import ParleyCluster
import ParleyTestKit
import Testing

@testable import ParleyPeer

/// A forwarded call abandoned because its partition's leader moved: over real HTTP/2 it fails
/// at once with the reason given, and the pair's stream goes on serving calls.
@Suite("Abandoned peer calls")
struct PeerCallAbandonmentTests {
    @Test func anAbandonedCallFailsAtOnceWithItsReasonAndTheStreamStaysUsable() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let membership = try PeerNetworkTests.membership(ports)
        let logger = Logger(label: "peer-test")
        // Calls wait seconds here: handshakes get 3 s (see `PeerNetworkTests.configuration`).
        let configuration = PeerNetworkTests.configuration(callTimeout: .seconds(3))
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: configuration, logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: configuration, logger: logger)
        one.inbox.set(PeerNetworkTests.EchoReceiver())
        // The answer takes 4 s; the abandoned call must fail well before (2 s leaves room for a
        // machine busy with other tests).
        two.inbox.set(PeerNetworkTests.SlowReceiver(delay: .seconds(4)))
        try await PeerNetworkTests.running([one, two]) { try await Self.abandonOneCall(from: one) }
    }

    static func abandonOneCall(from one: PeerNetwork) async throws {
        let node2 = NodeID("node-2")!
        #expect(await PeerNetworkTests.eventually { one.statuses().first { $0.peer.id == node2 }?.health.isUp == true })
        let abandonment = PeerCallAbandonment()
        let started = ContinuousClock.now
        let outcome = await withTaskGroup(of: Result<[UInt8], ClusterError>?.self) { group in
            group.addTask {
                do throws(ClusterError) {
                    return .success(try await one.exchange(.entityCall, [7], with: node2, timeout: .seconds(10), abandonment: abandonment))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(100))
                abandonment.abandon("node-2 stopped leading partition 5")
                return nil
            }
            var first: Result<[UInt8], ClusterError>?
            for await result in group where result != nil { first = result }
            return first
        }
        let elapsed = ContinuousClock.now - started
        guard case let .failure(error)? = outcome else {
            Issue.record("the abandoned call did not fail: \(String(describing: outcome))")
            return
        }
        #expect(error.code == .peerUnavailable)
        #expect(error.message.contains("stopped leading partition 5"))
        #expect(elapsed < .seconds(2))
        // The stream is unharmed: the next call is answered (once the slow receiver is done).
        let answer = try await one.exchange(.entityCall, [8], with: node2, timeout: .seconds(10))
        #expect(answer == [8])
    }
}
