import ParleyCluster
import Testing

@Suite("Peer health")
struct PeerHealthTests {
    let start = ContinuousClock.now

    @Test func failuresBackOffToTheCapAndAnAnswerIsUpAtOnce() {
        var health = PeerHealth(heartbeat: .seconds(1))
        #expect(health.status == .unknown && health.nextAttempt(jitter: 1) == .seconds(1))
        health.failed(at: start, reason: "connection refused")
        // Full jitter doubles the fixed half: 100 ms, 200 ms, 400 ms … up to 5 s.
        #expect(health.nextAttempt(jitter: 1) == .milliseconds(100))
        #expect(health.nextAttempt(jitter: 0) == .milliseconds(50))
        health.failed(at: start + .milliseconds(100), reason: "connection refused")
        #expect(health.nextAttempt(jitter: 1) == .milliseconds(200))
        for step in 0..<20 { health.failed(at: start + .seconds(step), reason: "timeout") }
        #expect(health.nextAttempt(jitter: 1) == .seconds(5))
        guard case let .down(since, failures, reason) = health.status else {
            Issue.record("expected down")
            return
        }
        #expect(since == start && failures == 22 && reason == "timeout")
        health.answered(at: start + .seconds(30), roundTrip: .milliseconds(2))
        #expect(health.isUp && health.lastSeen == start + .seconds(30))
        #expect(health.nextAttempt(jitter: 0.3) == .seconds(1))
        // Staying up keeps the first instant.
        health.answered(at: start + .seconds(31), roundTrip: .milliseconds(3))
        #expect(health.status == .up(since: start + .seconds(30), roundTrip: .milliseconds(3)))
    }

    @Test func aPeerOfAnotherClusterStaysRefused() throws {
        var health = PeerHealth()
        health.refused(reason: "partitions differ")
        health.failed(at: start, reason: "timeout")
        #expect(health.status == .mismatched(reason: "partitions differ"))

        let member = ClusterMember(
            id: NodeID("node-1")!, peerAddress: HostPort(host: "127.0.0.1", port: 7_001), clientAddress: HostPort(host: "127.0.0.1", port: 8_001))
        let ours = try ClusterMembership(members: [member], partitionCount: 64, replicationFactor: 3)
        let theirs = try ClusterMembership(members: [member], partitionCount: 32, replicationFactor: 3)
        #expect(ours.agreement(withFingerprint: ours.fingerprint, description: ours.canonicalDescription) == nil)
        let refusal = try #require(ours.agreement(withFingerprint: theirs.fingerprint, description: theirs.canonicalDescription))
        #expect(refusal.code == .membershipMismatch)
        #expect(refusal.message.contains("partitions=32") && refusal.message.contains("partitions=64"))
    }
}
