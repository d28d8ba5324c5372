import ParleyRaft

/// The Raft safety properties, checked as the simulation runs.
struct SimInvariants {
    struct Key: Hashable {
        var index: UInt64
        var term: UInt64
    }

    var violations: [String] = []
    /// Election safety: the one leader seen for each term.
    var leadersByTerm: [UInt64: NodeID] = [:]
    /// Log matching: every (index, term) ever persisted names one entry and one predecessor term.
    var entries: [Key: (data: [UInt8], previousTerm: UInt64?)] = [:]
    /// State machine safety: the entry applied at each index.
    var applied: [UInt64: Entry] = [:]
    /// Leader completeness: committed entries, with the term in which their commitment was
    /// first observed (commitment happened in that term or earlier).
    var committed: [UInt64: (term: UInt64, observedTerm: UInt64)] = [:]
    var newlyCommitted: [UInt64] = []
    var leadersChecked: Set<Key> = []
    /// Snapshot data by index: every snapshot at one index holds the same state.
    var snapshots: [UInt64: [UInt8]] = [:]

    mutating func fail(_ message: String) {
        if violations.count < 20 { violations.append(message) }
    }

    mutating func recordCommitted(index: UInt64, term: UInt64, observedTerm: UInt64) {
        if let known = committed[index] {
            if known.term != term { fail("committed entry \(index) has term \(known.term) and \(term)") }
            return
        }
        committed[index] = (term, observedTerm)
        newlyCommitted.append(index)
    }

    mutating func checkPersisted(node: NodeID, _ newEntries: [Entry], previousTerm: UInt64?) {
        var previous = previousTerm
        for entry in newEntries {
            let key = Key(index: entry.index, term: entry.term)
            if let known = entries[key] {
                if known.data != entry.data { fail("log matching: node \(node) entry \(entry.index)/\(entry.term) differs in data") }
                if let a = known.previousTerm, let b = previous, a != b {
                    fail("log matching: node \(node) entry \(entry.index)/\(entry.term) follows term \(b), elsewhere \(a)")
                }
            } else {
                entries[key] = (entry.data, previous)
            }
            previous = entry.term
        }
    }

    mutating func checkApply(node: NodeID, lastApplied: UInt64, _ entry: Entry, observedTerm: UInt64) {
        if entry.index != lastApplied + 1 { fail("node \(node) applied \(entry.index) after \(lastApplied)") }
        if let known = applied[entry.index] {
            if known != entry { fail("state machine safety: index \(entry.index) applied as \(known.term) and \(entry.term) (node \(node))") }
        } else {
            applied[entry.index] = entry
        }
        recordCommitted(index: entry.index, term: entry.term, observedTerm: observedTerm)
    }

    mutating func checkSnapshot(node: NodeID, _ snap: Snapshot) {
        let index = snap.metadata.index
        if let known = snapshots[index], known != snap.data { fail("snapshots at \(index) differ (node \(node))") }
        snapshots[index] = snap.data
        if let entry = applied[index], entry.term != snap.metadata.term {
            fail("snapshot at \(index) has term \(snap.metadata.term), applied entry has \(entry.term)")
        }
    }

    /// Leader completeness for one leader over the given committed indexes.
    mutating func checkLeader(_ raft: RaftNode, indexes: some Sequence<UInt64>) {
        for index in indexes {
            guard let c = committed[index], c.observedTerm < raft.term, index >= raft.firstIndex else { continue }
            if raft.term(at: index) != c.term {
                fail("leader completeness: leader \(raft.id) of term \(raft.term) lacks committed \(index)/\(c.term)")
            }
        }
    }
}

extension RaftSimulation {
    /// Checks made on each Ready before the shell persists it.
    mutating func checkReady(_ i: Int, _ rd: Ready) {
        guard let raft = nodes[i].raft else { return }
        if let first = rd.entries.first {
            invariants.checkPersisted(node: raft.id, rd.entries, previousTerm: raft.term(at: first.index - 1))
        }
        if let hs = rd.hardState {
            let from = max(raft.firstIndex, (nodes[i].written.hardState.commit) + 1)
            if from <= hs.commit {
                for index in from...hs.commit {
                    if let term = raft.term(at: index) { invariants.recordCommitted(index: index, term: term, observedTerm: raft.term) }
                }
            }
        }
    }

    /// Once a node handled all its Readies, what it wrote (fsync'd or not) must hold exactly its
    /// in-memory log and hard state: what `Ready` reported is the whole truth.
    mutating func checkDisksMatchMemory() {
        for node in nodes {
            guard let raft = node.raft, !raft.hasReady else { continue }
            let disk = node.written
            let snapshotIndex = disk.snapshot?.metadata.index ?? 0
            // A snapshot commits its index: a commit index written without an fsync and lost in
            // a machine crash before the snapshot was taken reads back as the snapshot's.
            var hardState = disk.hardState
            hardState.commit = max(hardState.commit, snapshotIndex)
            if snapshotIndex != raft.firstIndex - 1 || raft.entries(from: raft.firstIndex) != disk.entries || raft.hardState != hardState {
                invariants.fail("node \(node.id): disk (snapshot \(snapshotIndex), \(disk.entries.count) entries, \(disk.hardState)) differs from memory (first \(raft.firstIndex), last \(raft.lastIndex), \(raft.hardState))")
            }
        }
    }

    /// Checks made at the end of every step.
    mutating func checkEveryStep() {
        let leaders = nodes.compactMap(\.raft).filter { $0.role == .leader }
        for leader in leaders {
            if let known = invariants.leadersByTerm[leader.term], known != leader.id {
                invariants.fail("election safety: term \(leader.term) has leaders \(known) and \(leader.id)")
            }
            invariants.leadersByTerm[leader.term] = leader.id
            let key = SimInvariants.Key(index: UInt64(leader.id), term: leader.term)
            if !invariants.leadersChecked.contains(key) {
                invariants.leadersChecked.insert(key)
                invariants.checkLeader(leader, indexes: Array(invariants.committed.keys))
            }
        }
        if now % 10 == 0 { checkDisksMatchMemory() }
        if !invariants.newlyCommitted.isEmpty {
            let fresh = invariants.newlyCommitted
            invariants.newlyCommitted = []
            for leader in leaders { invariants.checkLeader(leader, indexes: fresh) }
        }
        if !invariants.violations.isEmpty, let log = traceLog, !(log.lines.last?.hasPrefix("VIOLATION") ?? false) {
            log.append("VIOLATION at step \(now): \(invariants.violations)")
        }
    }
}
