import ParleyRaft
import Testing

@Suite struct TransferTests {
    @Test func transferToALaggingFollowerCatchesItUpThenHandsOver() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.isolated = [2]
        for i in 0..<5 { try net.nodes[1]!.propose(bytes("e\(i)")) }
        net.drain()
        net.isolated = []
        let term = net.nodes[1]!.term
        try net.nodes[1]!.transferLeadership(to: 2)
        net.drain()
        #expect(net.count(.timeoutNow, from: 1, to: 2) == 1)
        #expect(net.nodes[2]!.role == .leader)
        #expect(net.nodes[2]!.term == term + 1)
        #expect(net.nodes[1]!.role == .follower)
        #expect(net.nodes[1]!.leader == 2)
        #expect(net.nodes[2]!.entries(from: 2)?.prefix(5).map(\.data) == (0..<5).map { bytes("e\($0)") })
    }

    @Test func transferRefusesProposalsAndAbortsAfterAnElectionTimeout() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.isolated = [3]
        try net.nodes[1]!.transferLeadership(to: 3)
        #expect(net.nodes[1]!.leadTransferee == 3)
        #expect(throws: RaftError.transferInProgress) { try net.nodes[1]!.propose(bytes("x")) }
        net.tick(9, only: [1])
        #expect(net.nodes[1]!.leadTransferee == 3)
        net.tick(1, only: [1])
        #expect(net.nodes[1]!.leadTransferee == 0)
        #expect(net.nodes[1]!.role == .leader)
        try net.nodes[1]!.propose(bytes("x"))
        #expect(throws: RaftError.notLeader(leaderHint: 1)) { try net.nodes[2]!.transferLeadership(to: 3) }
        #expect(throws: RaftError.unknownNode(9)) { try net.nodes[1]!.transferLeadership(to: 9) }
    }
}
