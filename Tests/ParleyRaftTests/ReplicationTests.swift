import ParleyRaft
import Testing

@Suite struct ReplicationTests {
    @Test func proposalsReplicateAndCommitEverywhere() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        for i in 0..<5 { try net.nodes[1]!.propose(bytes("v\(i)")) }
        net.drain()
        net.tick(2)  // heartbeats carry the final commit index to followers
        let expected = [[UInt8]()] + (0..<5).map { bytes("v\($0)") }
        for id in net.ids {
            #expect(net.applied[id]!.map(\.data) == expected)
            #expect(net.nodes[id]!.commitIndex == 6)
        }
    }

    @Test func proposalOnFollowerIsRefusedWithLeaderHint() {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        #expect(throws: RaftError.notLeader(leaderHint: 1)) { try net.nodes[2]!.propose(bytes("x")) }
        #expect(RaftError.notLeader(leaderHint: 1).code == "raft.not_leader")
    }

    @Test func minorityFollowerDoesNotBlockCommit() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.isolated = [3]
        try net.nodes[1]!.propose(bytes("a"))
        net.drain()
        #expect(net.nodes[1]!.commitIndex == 2)
        net.isolated = []
        net.tick(3)
        #expect(net.nodes[3]!.commitIndex == 2)
        #expect(net.applied[3]!.last?.data == bytes("a"))
    }

    /// Raft paper figure 8: an entry of an earlier term stored on a majority is not committed
    /// by counting; it commits only with an entry of the leader's own term.
    @Test func onlyCurrentTermEntriesCommitByCounting() {
        // Situation (c): S1 and S2 hold index 2 from term 2, S5 holds index 2 from term 3.
        var net = TestNetwork(states: [
            1: persisted(terms: [1, 2], term: 3, commit: 1),
            2: persisted(terms: [1, 2], term: 3, commit: 1),
            3: persisted(terms: [1], term: 3, commit: 1),
            4: persisted(terms: [1], term: 3, commit: 1),
            5: persisted(terms: [1, 3], term: 3, commit: 1),
        ], preVote: false, checkQuorum: false, maxEntries: 1)
        net.isolated = [5]
        // S4 votes but never gets entries; S3 gets nothing from the network for now.
        net.drop = { m in m.kind == .append && (m.to == 4 || m.to == 3) }
        net.nodes[1]!.campaign()
        net.drain()
        #expect(net.nodes[1]!.role == .leader)
        #expect(net.nodes[1]!.term == 4)
        // S3 accepts index 2 (term 2) only, as if the leader's later append was lost.
        let entry2 = net.nodes[1]!.entries(from: 2, maxCount: 1)!
        net.nodes[3]!.step(Message(kind: .append, from: 1, to: 3, term: 4, logTerm: 1, index: 1, entries: entry2, commit: 1))
        net.drain()
        #expect(net.nodes[3]!.term(at: 2) == 2, "index 2 of term 2 is now on S1, S2, S3: a majority")
        #expect(net.nodes[1]!.replication(of: 3)?.match == 2)
        #expect(net.nodes[1]!.commitIndex == 1, "but it is not committed by counting")
        // Once the term-4 entry reaches a majority, both commit.
        net.drop = { m in m.to == 4 && m.kind == .append }
        net.tick(3)
        #expect(net.nodes[1]!.commitIndex == 3)
        #expect(net.applied[1]!.map(\.term) == [1, 2, 4])
    }

    /// A follower with a long divergent suffix is repaired in a couple of round trips, not one
    /// per entry: its rejection hints at the term, and the leader skips the whole term.
    @Test func fastBackOffRepairsALongDivergentLogQuickly() throws {
        let leaderTerms: [UInt64] = [1] + Array(repeating: 3, count: 50)
        let divergent: [UInt64] = [1] + Array(repeating: 2, count: 100)
        var net = TestNetwork(states: [
            1: persisted(terms: leaderTerms, term: 3, commit: 1),
            2: persisted(terms: leaderTerms, term: 3, commit: 1),
            3: persisted(terms: divergent, term: 3, commit: 1),
        ])
        net.nodes[1]!.campaign()
        net.drain()
        #expect(net.leader() == 1)
        try net.nodes[1]!.propose(bytes("after"))
        net.drain()
        net.tick(2)
        let rejections = net.count(.appendResponse, from: 3, reject: true)
        #expect(rejections <= 2, "rejections: \(rejections)")
        #expect(net.count(.append, from: 1, to: 3) <= 6)
        #expect(net.nodes[3]!.lastIndex == net.nodes[1]!.lastIndex)
        #expect(net.nodes[3]!.entries(from: 1) == net.nodes[1]!.entries(from: 1))
        #expect(net.nodes[3]!.commitIndex == net.nodes[1]!.commitIndex)
    }

    @Test func lostAppendsInAFullWindowAreRecovered() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.drop = { m in m.to == 3 && m.kind == .append }
        for i in 0..<20 {
            try net.nodes[1]!.propose(bytes("\(i)"))
            net.drain()
        }
        net.drop = { _ in false }
        net.tick(5)
        #expect(net.nodes[3]!.lastIndex == net.nodes[1]!.lastIndex)
        #expect(net.nodes[3]!.commitIndex == 21)
    }
}
