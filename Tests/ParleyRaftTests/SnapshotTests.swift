import ParleyRaft
import Testing

@Suite struct SnapshotTests {
    @Test func leaderSendsSnapshotToAFollowerThatNeedsCompactedEntries() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.isolated = [3]
        for i in 0..<10 { try net.nodes[1]!.propose(bytes("e\(i)")) }
        net.drain()
        let applied = net.nodes[1]!.appliedIndex
        #expect(applied == 11)
        let snap = try net.nodes[1]!.createSnapshot(at: applied, data: bytes("state@11"))
        #expect(snap.metadata == SnapshotMetadata(index: 11, term: 1, voters: [1, 2, 3]))
        #expect(net.nodes[1]!.firstIndex == 12)
        #expect(net.nodes[1]!.entries(from: 5) == nil)
        #expect(throws: RaftError.snapshotOutOfDate) { _ = try net.nodes[1]!.createSnapshot(at: 11, data: []) }

        net.isolated = []
        net.tick(3)
        #expect(net.count(.snapshot, to: 3) == 1)
        #expect(net.snapshotsApplied[3]?.map(\.data) == [bytes("state@11")])
        #expect(net.disks[3]!.snapshot?.metadata.index == 11)
        #expect(net.nodes[3]!.commitIndex == 11)
        #expect(net.nodes[1]!.replication(of: 3)?.state == .replicate)

        try net.nodes[1]!.propose(bytes("after"))
        net.drain()
        net.tick(2)
        #expect(net.applied[3]!.map(\.data) == [[], bytes("after")])
        #expect(net.nodes[3]!.commitIndex == 12)
    }

    @Test func lostSnapshotIsResent() throws {
        var net = TestNetwork(ids: [1, 2, 3])
        net.nodes[1]!.campaign()
        net.drain()
        net.isolated = [3]
        for i in 0..<5 { try net.nodes[1]!.propose(bytes("e\(i)")) }
        net.drain()
        _ = try net.nodes[1]!.createSnapshot(at: net.nodes[1]!.appliedIndex, data: bytes("s"))
        net.isolated = []
        net.drop = { $0.kind == .snapshot }
        net.tick(3)
        #expect(net.nodes[1]!.replication(of: 3)?.state == .snapshot)
        net.drop = { _ in false }
        net.tick(15)
        #expect(net.nodes[3]!.commitIndex == net.nodes[1]!.commitIndex)
        #expect(net.nodes[1]!.replication(of: 3)?.state == .replicate)
    }

    @Test func restartFromPersistedSnapshotAndEntries() throws {
        var net = TestNetwork(ids: [1])
        net.nodes[1]!.campaign()
        net.drain()
        for i in 0..<4 { try net.nodes[1]!.propose(bytes("e\(i)")) }
        net.drain()
        let snap = try net.nodes[1]!.createSnapshot(at: 3, data: bytes("s3"))
        net.disks[1]!.snapshot = snap
        net.disks[1]!.entries.removeAll { $0.index <= 3 }
        try net.nodes[1]!.propose(bytes("late"))
        net.drain()
        let restarted = try RaftNode(config: TestNetwork.config(1, [1]), restoring: net.disks[1]!)
        #expect(restarted.firstIndex == 4)
        #expect(restarted.lastIndex == 6)
        #expect(restarted.commitIndex == 6)
        #expect(restarted.appliedIndex == 3)
        #expect(restarted.ready().committedEntries.map(\.data) == [bytes("e2"), bytes("e3"), bytes("late")])
    }
}
