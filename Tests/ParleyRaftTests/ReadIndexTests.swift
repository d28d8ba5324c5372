import ParleyRaft
import Testing

@Suite struct ReadIndexTests {
    @Test func leaderAnswersOnlyAfterAQuorumAcksTheHeartbeat() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        try net.nodes[1]!.propose(bytes("w"))
        net.drain()
        let commit = net.nodes[1]!.commitIndex
        try net.nodes[1]!.readIndex(context: bytes("r1"))
        // The request went out as heartbeats carrying its context; no answer yet.
        let rd = net.nodes[1]!.ready()
        #expect(rd.readStates.isEmpty)
        #expect(rd.messages.filter { $0.kind == .heartbeat && $0.context == bytes("r1") }.count == 2)
        net.drain()
        #expect(net.readStates[1] == [ReadState(index: commit, context: bytes("r1"))])
    }

    @Test func noAnswerWithoutAQuorum() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.isolated = [2, 3]
        try net.nodes[1]!.readIndex(context: bytes("r"))
        net.tick(5, only: [1])
        #expect(net.readStates[1, default: []].isEmpty)
    }

    @Test func newLeaderAnswersOnlyAfterCommittingInItsTerm() throws {
        var net = TestNetwork(ids: [1, 2, 3], preVote: false, checkQuorum: false)
        net.nodes[1]!.campaign()
        net.drain()
        // Node 2 takes over but its no-op entry cannot be replicated yet.
        net.drop = { $0.kind == .append || $0.kind == .appendResponse }
        net.nodes[2]!.campaign()
        net.drain()
        #expect(net.nodes[2]!.role == .leader)
        #expect(net.nodes[2]!.term(at: net.nodes[2]!.commitIndex) != net.nodes[2]!.term)
        try net.nodes[2]!.readIndex(context: bytes("r"))
        net.tick(3, only: [2])
        #expect(net.readStates[2, default: []].isEmpty, "heartbeats were acked but no entry of term 2 committed")
        net.drop = { _ in false }
        net.tick(2, only: [2])
        let states = net.readStates[2, default: []]
        #expect(states.count == 1)
        #expect(states.first?.index == net.nodes[2]!.commitIndex)
        #expect(net.nodes[2]!.term(at: states.first!.index) == net.nodes[2]!.term)
    }

    @Test func followerForwardsToTheLeader() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        try net.nodes[1]!.propose(bytes("w"))
        net.drain()
        try net.nodes[3]!.readIndex(context: bytes("f"))
        net.drain()
        #expect(net.readStates[3] == [ReadState(index: net.nodes[1]!.commitIndex, context: bytes("f"))])
        #expect(net.count(.readIndex, from: 3, to: 1) == 1)
        var lonely = try RaftNode(config: TestNetwork.config(1, [1, 2, 3]))
        #expect(throws: RaftError.notLeader(leaderHint: 0)) { try lonely.readIndex(context: [1]) }
    }

    @Test func singleNodeAnswersAtOnce() throws {
        var net = TestNetwork(ids: [1])
        net.nodes[1]!.campaign()
        net.drain()
        try net.nodes[1]!.readIndex(context: bytes("s"))
        net.drain()
        #expect(net.readStates[1] == [ReadState(index: 1, context: bytes("s"))])
    }
}
