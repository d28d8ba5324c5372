/// The node's view of the log: a compacted prefix (described by the last snapshot), the
/// entries after it, which of them the shell has already been given to persist, and the
/// commit and applied positions.
///
/// All entries after the snapshot are kept in memory; the shell keeps its own durable copy
/// (written from `Ready.entries`) and hands it back when restarting a node.
struct RaftLog: Sendable, Equatable {
    /// Index and term of the last compacted entry (0, 0 for an uncompacted log).
    private(set) var snapshotIndex: UInt64 = 0
    private(set) var snapshotTerm: UInt64 = 0
    /// `entries[k].index == snapshotIndex + 1 + k`.
    private(set) var entries: [Entry] = []
    /// Entries up to this index have been handed to the shell and acknowledged by `advance`.
    private(set) var stableIndex: UInt64 = 0
    private(set) var committed: UInt64 = 0
    private(set) var applied: UInt64 = 0
    /// The latest snapshot this node knows (sent to followers that need compacted entries).
    private(set) var snapshot: Snapshot?
    /// A snapshot received from the leader that the shell has not persisted/applied yet.
    private(set) var pendingSnapshot: Snapshot?

    init() {}

    /// Rebuilds the log from what the shell persisted.
    init(snapshot: Snapshot?, entries: [Entry], commit: UInt64, applied: UInt64?) throws(RaftError) {
        if let snapshot {
            self.snapshot = snapshot
            snapshotIndex = snapshot.metadata.index
            snapshotTerm = snapshot.metadata.term
        }
        let kept = entries.filter { $0.index > snapshotIndex }
        for (offset, entry) in kept.enumerated() where entry.index != snapshotIndex + 1 + UInt64(offset) {
            throw .corruptedState("persisted entry \(entry.index) found where \(snapshotIndex + 1 + UInt64(offset)) belongs")
        }
        self.entries = kept
        stableIndex = snapshotIndex + UInt64(kept.count)
        if commit > stableIndex { throw .corruptedState("commit \(commit) beyond the last persisted entry \(stableIndex)") }
        committed = max(commit, snapshotIndex)
        self.applied = max(snapshotIndex, min(applied ?? snapshotIndex, committed))
    }

    var firstIndex: UInt64 { snapshotIndex + 1 }
    var lastIndex: UInt64 { snapshotIndex + UInt64(entries.count) }
    var lastTerm: UInt64 { term(at: lastIndex) ?? 0 }

    /// The term of the entry at `index`, or nil when compacted away or beyond the end.
    func term(at index: UInt64) -> UInt64? {
        if index == snapshotIndex { return snapshotTerm }
        if index < snapshotIndex || index > lastIndex { return nil }
        return entries[Int(index - firstIndex)].term
    }

    func matchTerm(_ index: UInt64, _ term: UInt64) -> Bool {
        self.term(at: index) == term
    }

    /// Whether a log ending at (`index`, `term`) is at least as up to date as this one.
    func isUpToDate(index: UInt64, term: UInt64) -> Bool {
        term > lastTerm || (term == lastTerm && index >= lastIndex)
    }

    /// Entries in `from...`, at most `maxCount`; nil when `from` was compacted.
    func entries(from: UInt64, maxCount: Int = Int.max) -> [Entry]? {
        if from < firstIndex { return nil }
        if from > lastIndex { return [] }
        let start = Int(from - firstIndex)
        let end = start + min(entries.count - start, maxCount)
        return Array(entries[start..<end])
    }

    /// The first index among `newEntries` whose term differs from ours (or that we lack), or 0.
    func findConflict(_ newEntries: [Entry]) -> UInt64 {
        for entry in newEntries where !matchTerm(entry.index, entry.term) {
            return entry.index
        }
        return 0
    }

    /// Walks back from `index` to the last entry whose term is ≤ `term`: the leader can skip
    /// every entry of a term the follower does not share. Returns (index, term); the term is
    /// 0 when the walk reached the compacted prefix.
    func findConflictByTerm(index: UInt64, term: UInt64) -> (index: UInt64, term: UInt64) {
        var i = min(index, lastIndex)
        while true {
            guard let t = self.term(at: i) else { return (i, 0) }
            if t <= term || i == 0 { return (i, t) }
            i -= 1
        }
    }

    /// Follower append: if our log holds (`index`, `logTerm`), merge `newEntries` after it,
    /// truncating a conflicting suffix, advance commit, and return the last new index.
    mutating func maybeAppend(index: UInt64, logTerm: UInt64, commit leaderCommit: UInt64, entries newEntries: [Entry]) -> UInt64? {
        guard matchTerm(index, logTerm) else { return nil }
        let lastNew = index + UInt64(newEntries.count)
        let conflict = findConflict(newEntries)
        if conflict != 0 {
            precondition(conflict > committed, "entry \(conflict) conflicts with committed entry (commit \(committed))")
            append(Array(newEntries[Int(conflict - (index + 1))...]))
        }
        commit(to: min(leaderCommit, lastNew))
        return lastNew
    }

    /// Appends entries, first truncating everything at or after the first one's index.
    mutating func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        let after = first.index - 1
        precondition(after >= committed, "cannot truncate committed entries")
        precondition(after >= snapshotIndex && after <= lastIndex, "append leaves a gap")
        entries.removeLast(Int(lastIndex - after))
        stableIndex = min(stableIndex, after)
        entries.append(contentsOf: newEntries)
    }

    mutating func commit(to index: UInt64) {
        if index > committed {
            precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
            committed = index
        }
    }

    /// Entries committed but not yet handed out for applying (none while a snapshot is pending).
    /// The committed entries not applied yet, at most `limit` of them (0: all).
    func nextCommittedEntries(limit: Int = 0) -> [Entry] {
        if pendingSnapshot != nil || committed <= applied { return [] }
        let count = limit > 0 ? min(Int(committed - applied), limit) : Int(committed - applied)
        return entries(from: applied + 1)?.prefix(count).map { $0 } ?? []
    }

    var hasNextCommittedEntries: Bool { pendingSnapshot == nil && committed > applied }

    /// Entries the shell has not persisted yet.
    var unstableEntries: [Entry] {
        stableIndex >= lastIndex ? [] : Array(entries[Int(stableIndex + 1 - firstIndex)...])
    }

    /// The shell persisted entries up to (`index`, `term`).
    mutating func stable(to index: UInt64, term: UInt64) {
        if index > stableIndex && matchTerm(index, term) { stableIndex = index }
    }

    mutating func markApplied(_ index: UInt64) {
        if index > applied && index <= committed { applied = index }
    }

    /// The shell persisted and applied the pending snapshot.
    mutating func snapshotApplied(_ metadata: SnapshotMetadata) {
        if pendingSnapshot?.metadata == metadata {
            pendingSnapshot = nil
            applied = max(applied, metadata.index)
        }
    }

    /// Replaces the whole log by a snapshot received from the leader.
    mutating func restore(_ snap: Snapshot) {
        snapshotIndex = snap.metadata.index
        snapshotTerm = snap.metadata.term
        entries = []
        stableIndex = snapshotIndex
        committed = snapshotIndex
        snapshot = snap
        pendingSnapshot = snap
    }

    /// Drops the entries covered by `snap` (made by the application at an applied index).
    mutating func compact(_ snap: Snapshot) {
        let index = snap.metadata.index
        precondition(index <= applied && index >= snapshotIndex)
        entries.removeFirst(Int(index - snapshotIndex))
        snapshotIndex = index
        snapshotTerm = snap.metadata.term
        snapshot = snap
    }
}
