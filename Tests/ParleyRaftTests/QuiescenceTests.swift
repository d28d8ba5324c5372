import ParleyRaft
import Testing

/// Quiet groups: an idle leader quiets its followers and nothing is sent while quiet;
/// anything that happens wakes the group, and safety is Raft's as before. (A leader goes quiet
/// only after a check-quorum passed since it last woke: 10 ticks, then 5 quiet ones.)
@Suite struct QuiescenceTests {
    static func quietGroup() throws -> TestNetwork {
        var net = TestNetwork(ids: [1, 2, 3], quiesceTicks: 5)
        net.nodes[1]!.campaign()
        net.drain()
        for index in 0..<3 { try net.nodes[1]!.propose(bytes("e\(index)")) }
        net.drain()
        net.tick(16)
        return net
    }

    @Test func anIdleLeaderQuietsItsFollowersAndNothingIsSentWhileQuiet() throws {
        var net = try Self.quietGroup()
        #expect(net.ids.allSatisfy { net.nodes[$0]!.isQuiescent })
        #expect(net.count(.quiesce, from: 1) == 2)
        // Every follower holds the leader's whole log, committed.
        #expect(net.ids.allSatisfy { net.nodes[$0]!.commitIndex == net.nodes[1]!.lastIndex })
        let sent = net.delivered.count
        net.tick(100)
        #expect(net.delivered.count == sent)
        #expect(net.nodes[1]!.role == .leader && net.nodes[2]!.role == .follower && net.nodes[3]!.role == .follower)
    }

    @Test func aProposalWakesTheGroupAndCommitsThenItQuietsAgain() throws {
        var net = try Self.quietGroup()
        let last = net.nodes[1]!.lastIndex
        try net.nodes[1]!.propose(bytes("after"))
        net.drain()
        #expect(!net.nodes[1]!.isQuiescent && !net.nodes[2]!.isQuiescent)
        #expect(net.ids.allSatisfy { net.nodes[$0]!.commitIndex == last + 1 })
        net.tick(16)
        #expect(net.ids.allSatisfy { net.nodes[$0]!.isQuiescent })
    }

    @Test func readsAndTransfersWakeTheLeader() throws {
        var net = try Self.quietGroup()
        try net.nodes[1]!.readIndex(context: [7])
        net.drain()
        #expect(!net.nodes[1]!.isQuiescent)
        #expect(net.readStates[1]?.last?.context == [7])
        net.tick(16)
        #expect(net.nodes[1]!.isQuiescent)
        try net.nodes[1]!.transferLeadership(to: 2)
        net.drain()
        #expect(net.nodes[2]!.role == .leader)
    }

    /// The shell's failure detector says the quiet leader is gone: the follower it picks
    /// campaigns at once and wins; the old leader, back, learns the new term.
    @Test func aGoneLeaderHintWakesFollowersWhoElectANewOne() throws {
        var net = try Self.quietGroup()
        net.isolated = [1]
        net.nodes[2]!.leaderUnreachable(1, campaign: true)
        net.nodes[3]!.leaderUnreachable(1, campaign: false)
        #expect(!net.nodes[2]!.isQuiescent && !net.nodes[3]!.isQuiescent)
        net.tick(30, only: [2, 3])
        #expect(net.nodes[2]!.role == .leader || net.nodes[3]!.role == .leader)
        let leader = net.nodes[2]!.role == .leader ? NodeID(2) : NodeID(3)
        try net.nodes[leader]!.propose(bytes("new"))
        net.drain()
        net.isolated = []
        net.nodes[1]!.wake()
        net.tick(12)
        #expect(net.nodes[1]!.role == .follower && net.nodes[1]!.leader == leader)
        #expect(net.nodes[1]!.lastIndex == net.nodes[leader]!.lastIndex)
    }

    /// A follower that missed the quiesce keeps its timer and campaigns; the quiet voters
    /// still hold the leader's lease and refuse it, the leader wakes on its message, and the
    /// group stays as it was.
    @Test func aFollowerThatMissedTheQuiesceDoesNotDisruptTheGroup() throws {
        var net = TestNetwork(ids: [1, 2, 3], quiesceTicks: 5)
        net.nodes[1]!.campaign()
        net.drain()
        try net.nodes[1]!.propose(bytes("x"))
        net.drain()
        net.drop = { $0.kind == .quiesce && $0.to == 3 }
        net.tick(16)
        net.drop = { _ in false }
        #expect(net.nodes[1]!.isQuiescent && net.nodes[2]!.isQuiescent && !net.nodes[3]!.isQuiescent)
        let term = net.nodes[1]!.term
        net.tick(40)
        #expect(net.nodes[1]!.role == .leader && net.nodes[1]!.term == term)
        #expect(net.nodes[3]!.leader == 1)
    }

    /// A woken leader cut off from its followers never goes quiet again: its check-quorum
    /// steps it down.
    @Test func aWokenLeaderCutOffStepsDownRatherThanGoingQuietAgain() throws {
        var net = try Self.quietGroup()
        net.isolated = [1]
        #expect(net.nodes[1]!.isQuiescent)
        net.nodes[1]!.wake()
        #expect(!net.nodes[1]!.isQuiescent)
        net.tick(12, only: [1])
        // Stepped down (and, cut off, campaigns in vain from then on).
        #expect(net.nodes[1]!.role != .leader && !net.nodes[1]!.isQuiescent)
    }

    @Test func quiesceTravelsThroughTheCodec() throws {
        let message = Message(kind: .quiesce, from: 1, to: 2, term: 4, logTerm: 4, index: 9, commit: 9)
        let decoded = try RaftCodec.decode(RaftCodec.encode([(group: 3, message: message)]))
        #expect(decoded.count == 1 && decoded[0].group == 3 && decoded[0].message == message)
    }
}
