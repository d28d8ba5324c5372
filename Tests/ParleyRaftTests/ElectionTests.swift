import ParleyRaft
import Testing

@Suite struct ElectionTests {
    @Test func singleNodeElectsItselfAndCommits() throws {
        var net = TestNetwork(ids: [1])
        net.nodes[1]!.campaign()
        net.drain()
        #expect(net.nodes[1]!.role == .leader)
        #expect(net.nodes[1]!.term == 1)
        try net.nodes[1]!.propose(bytes("x"))
        net.drain()
        #expect(net.applied[1]!.map(\.data) == [[], bytes("x")])
    }

    @Test func threeNodesElectOneLeaderByTicking() {
        var net = TestNetwork(ids: [1, 2, 3])
        let leader = net.electLeader()
        #expect(leader != nil)
        let l = leader!
        #expect(net.ids.filter { net.nodes[$0]!.role == .leader } == [l])
        for id in net.ids {
            #expect(net.nodes[id]!.leader == l)
            #expect(net.nodes[id]!.term == net.nodes[l]!.term)
        }
    }

    @Test func splitVoteResolves() {
        // No pre-vote: two candidates at once with the third node unreachable split the vote.
        var net = TestNetwork(ids: [1, 2, 3], preVote: false, checkQuorum: false)
        net.isolated = [3]
        net.nodes[1]!.campaign()
        net.nodes[2]!.campaign()
        net.drain()
        #expect(net.nodes[1]!.role == .candidate)
        #expect(net.nodes[2]!.role == .candidate)
        #expect(net.leader() == nil)
        net.isolated = []
        let leader = net.electLeader()
        #expect(leader != nil)
        #expect(net.nodes[leader!]!.term >= 2)
        #expect(net.ids.filter { net.nodes[$0]!.role == .leader }.count == 1)
    }

    @Test func preVoteKeepsPartitionedNodeFromDisruptingOnRejoin() {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        #expect(net.leader() == 1)
        let term = net.nodes[1]!.term
        net.isolated = [3]
        net.tick(100)
        #expect(net.nodes[3]!.term == term, "pre-vote fails in isolation: no term inflation")
        net.isolated = []
        net.tick(30)
        #expect(net.leader() == 1)
        #expect(net.nodes[1]!.term == term)
    }

    @Test func withoutPreVoteARejoiningNodeDisruptsTheLeader() {
        // The contrast that shows what the previous test protects against.
        var net = TestNetwork(ids: [1, 2, 3], preVote: false, checkQuorum: false)
        net.nodes[1]!.campaign()
        net.drain()
        let term = net.nodes[1]!.term
        net.isolated = [3]
        net.tick(100)
        #expect(net.nodes[3]!.term > term + 2)
        net.isolated = []
        net.tick(30)
        #expect(net.nodes[net.leader() ?? 1]!.term > term)
    }

    @Test func checkQuorumStepsDownAnIsolatedLeader() {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.isolated = [1]
        net.tick(9, only: [1])
        #expect(net.nodes[1]!.role == .leader)
        net.tick(11, only: [1])
        #expect(net.nodes[1]!.role == .follower)
        #expect(net.nodes[1]!.leader == 0)
    }

    @Test func followersWithARecentLeaderIgnoreVotes() {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        let term = net.nodes[2]!.term
        let vote = Message(kind: .vote, from: 3, to: 2, term: term + 5, logTerm: 9, index: 100)
        net.nodes[2]!.step(vote)
        #expect(net.nodes[2]!.term == term)
        #expect(net.nodes[2]!.leader == 1)
        // Once the lease ran out (no leader contact for an election timeout), it listens.
        net.isolated = [1]
        net.tick(10, only: [2])
        net.nodes[2]!.step(vote)
        #expect(net.nodes[2]!.term == term + 5)
        #expect(net.nodes[2]!.vote == 3)
    }

    @Test func electionTimeoutIsRandomizedWithinBounds() {
        // Each node campaigns somewhere in [electionTick, 2 * electionTick).
        for seed in UInt64(1)...20 {
            var node = try! RaftNode(config: TestNetwork.config(1, [1, 2, 3], seed: seed))
            var ticks = 0
            while node.role == .follower && ticks < 100 {
                node.tick()
                ticks += 1
            }
            #expect(ticks >= 10 && ticks < 20)
        }
    }
}
