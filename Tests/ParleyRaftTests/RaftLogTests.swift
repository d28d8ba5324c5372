@testable import ParleyRaft
import Testing

@Suite struct RaftLogTests {
    func log(terms: [UInt64], commit: UInt64 = 0) throws -> RaftLog {
        let entries = terms.enumerated().map { Entry(term: $0.element, index: UInt64($0.offset + 1)) }
        return try RaftLog(snapshot: nil, entries: entries, commit: commit, applied: nil)
    }

    @Test func findConflictByTermSkipsWholeTerms() throws {
        let l = try log(terms: [1, 1, 2, 2, 2, 4, 4])
        #expect(l.findConflictByTerm(index: 7, term: 3) == (5, 2))
        #expect(l.findConflictByTerm(index: 7, term: 4) == (7, 4))
        #expect(l.findConflictByTerm(index: 4, term: 1) == (2, 1))
        #expect(l.findConflictByTerm(index: 7, term: 0) == (0, 0))
    }

    @Test func maybeAppendTruncatesAConflictingSuffixOnly() throws {
        var l = try log(terms: [1, 1, 2, 2])
        l.stable(to: 4, term: 2)
        // Matching prefix, then a conflict at 3: entries 3... are replaced.
        let last = l.maybeAppend(index: 2, logTerm: 1, commit: 2, entries: [Entry(term: 3, index: 3)])
        #expect(last == 3)
        #expect(l.lastIndex == 3)
        #expect(l.term(at: 3) == 3)
        #expect(l.unstableEntries.map(\.index) == [3])
        #expect(l.committed == 2)
        // A stale, already-held append changes nothing (no truncation of later entries).
        var m = try log(terms: [1, 1, 2, 2])
        #expect(m.maybeAppend(index: 1, logTerm: 1, commit: 0, entries: [Entry(term: 1, index: 2)]) == 2)
        #expect(m.lastIndex == 4)
        // Mismatch at the previous entry: refused.
        #expect(m.maybeAppend(index: 4, logTerm: 3, commit: 0, entries: []) == nil)
    }

    @Test func compactionKeepsTheLaterEntries() throws {
        var l = try log(terms: [1, 1, 2, 2, 2], commit: 5)
        l.markApplied(4)
        let snap = Snapshot(metadata: SnapshotMetadata(index: 4, term: 2, voters: [1]), data: [])
        l.compact(snap)
        #expect(l.firstIndex == 5)
        #expect(l.term(at: 4) == 2)
        #expect(l.term(at: 3) == nil)
        #expect(l.entries(from: 3) == nil)
        #expect(l.entries(from: 5)?.map(\.index) == [5])
    }

    @Test func corruptedPersistedStateIsRefused() {
        let gap = [Entry(term: 1, index: 1), Entry(term: 1, index: 3)]
        #expect(throws: RaftError.self) { _ = try RaftLog(snapshot: nil, entries: gap, commit: 0, applied: nil) }
        #expect(throws: RaftError.self) { _ = try RaftLog(snapshot: nil, entries: [Entry(term: 1, index: 1)], commit: 2, applied: nil) }
        #expect(RaftError.corruptedState("x").code == "raft.corrupted_state")
    }

    @Test func inflightsAreBoundedAndFreedInOrder() {
        var window = Inflights(capacity: 3)
        window.add(5)
        window.add(9)
        window.add(12)
        #expect(window.isFull)
        window.free(upTo: 9)
        #expect(window.count == 1)
        #expect(!window.isFull)
    }

    @Test func leaderProbesWithOneMessageThenStreamsWithinTheWindow() throws {
        var net = TestNetwork(ids: [1, 2])
        net.nodes[1]!.campaign()
        net.drain()
        #expect(net.nodes[1]!.replication(of: 2)?.state == .replicate)
        net.isolated = [2]
        for i in 0..<20 { try net.nodes[1]!.propose([UInt8(i)]) }
        net.drain()
        // Replicating with a window of 8 messages: the 9th proposal onwards waits.
        #expect(net.nodes[1]!.progress[2]!.inflights.count == 8)
        #expect(net.nodes[1]!.replication(of: 2)?.next == 10)
        net.nodes[1]!.reportUnreachable(2)
        #expect(net.nodes[1]!.replication(of: 2)?.state == .probe)
    }
}
