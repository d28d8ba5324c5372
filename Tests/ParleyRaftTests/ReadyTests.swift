import ParleyRaft
import Testing

@Suite struct ReadyTests {
    @Test func voteIsPersistedInTheSameReadyAsItsResponse() {
        var node = try! RaftNode(config: TestNetwork.config(2, [1, 2, 3], preVote: false))
        node.step(Message(kind: .vote, from: 1, to: 2, term: 1, logTerm: 0, index: 0))
        #expect(node.hasReady)
        let rd = node.ready()
        #expect(rd.hardState == HardState(term: 1, vote: 1, commit: 0))
        #expect(rd.messages.map(\.kind) == [.voteResponse])
        #expect(rd.messages.first?.reject == false)
        node.advance(rd)
        #expect(!node.hasReady)
    }

    @Test func appendedEntriesAreListedWithTheirAcknowledgement() {
        var node = try! RaftNode(config: TestNetwork.config(2, [1, 2, 3]))
        node.step(Message(kind: .append, from: 1, to: 2, term: 1, logTerm: 0, index: 0,
                          entries: [Entry(term: 1, index: 1), Entry(term: 1, index: 2, data: [7])], commit: 1))
        let rd = node.ready()
        #expect(rd.entries.map(\.index) == [1, 2])
        #expect(rd.hardState == HardState(term: 1, vote: 0, commit: 1))
        #expect(rd.softState == SoftState(role: .follower, leader: 1))
        #expect(rd.messages.map(\.kind) == [.appendResponse])
        #expect(rd.messages.first?.index == 2)
        #expect(rd.committedEntries.map(\.index) == [1])
        node.advance(rd)
        #expect(!node.hasReady)
        #expect(node.ready().entries.isEmpty)
    }

    @Test func restartedNodeKeepsItsVote() throws {
        var node = try RaftNode(config: TestNetwork.config(2, [1, 2, 3], preVote: false, checkQuorum: false))
        node.step(Message(kind: .vote, from: 1, to: 2, term: 1))
        let hs = node.ready().hardState!
        var restarted = try RaftNode(config: TestNetwork.config(2, [1, 2, 3], preVote: false, checkQuorum: false),
                                     restoring: PersistentState(hardState: hs))
        restarted.step(Message(kind: .vote, from: 3, to: 2, term: 1))
        let rd = restarted.ready()
        #expect(rd.messages.first?.kind == .voteResponse)
        #expect(rd.messages.first?.reject == true)
    }

    /// A node restarted with a backlog of committed entries hands them out in parts, so its
    /// shell takes messages between them; in order, none twice, none skipped.
    @Test func aCommittedBacklogIsHandedOutInParts() throws {
        var config = TestNetwork.config(2, [1, 2, 3])
        config.maxCommittedEntriesPerReady = 4
        let entries = (1...10).map { Entry(term: 1, index: UInt64($0), data: [UInt8($0)]) }
        var node = try RaftNode(config: config, restoring: PersistentState(hardState: HardState(term: 1, vote: 0, commit: 10), entries: entries, applied: 0))
        var applied: [UInt64] = []
        for _ in 0..<5 where node.hasReady {
            let ready = node.ready()
            #expect(ready.committedEntries.count <= 4)
            applied += ready.committedEntries.map(\.index)
            node.advance(ready)
        }
        #expect(applied == Array(1...10))
        #expect(!node.hasReady)
    }

    @Test func invalidConfigurationIsRefused() {
        #expect(throws: RaftError.self) { _ = try RaftNode(config: RaftConfig(id: 0, voters: [1])) }
        #expect(throws: RaftError.self) { _ = try RaftNode(config: RaftConfig(id: 1, voters: [1], electionTick: 1, heartbeatTick: 1)) }
    }
}
