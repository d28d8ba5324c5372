/// Snapshots and log compaction.
extension RaftNode {
    /// Records a snapshot of the application state as of `index` (already applied) and
    /// compacts the log up to it. The shell persists the returned snapshot, then may delete
    /// its persisted entries up to `index`. Followers that need compacted entries get it.
    public mutating func createSnapshot(at index: UInt64, data: [UInt8]) throws(RaftError) -> Snapshot {
        guard index <= log.applied else { throw .unavailable }
        guard index > log.snapshotIndex else { throw .snapshotOutOfDate }
        guard let entryTerm = log.term(at: index) else { throw .compacted }
        let snap = Snapshot(metadata: SnapshotMetadata(index: index, term: entryTerm, voters: voters), data: data)
        log.compact(snap)
        return snap
    }

    /// Leader: the shell reports how sending a snapshot to `node` ended. On failure the
    /// leader probes again (and resends the snapshot when still needed).
    public mutating func reportSnapshot(to node: NodeID, succeeded: Bool) {
        guard role == .leader, var pr = progress[node], pr.state == .snapshot else { return }
        if !succeeded { pr.pendingSnapshot = 0 }
        pr.becomeProbe()
        pr.probeSent = succeeded  // after success, wait for the follower's response
        progress[node] = pr
    }

    /// Follower: installs a snapshot from the leader unless the log already covers it.
    mutating func handleSnapshot(_ m: Message) {
        guard let snap = m.snapshot else { return }
        if restore(snap) {
            send(Message(kind: .appendResponse, to: m.from, index: log.lastIndex))
        } else {
            send(Message(kind: .appendResponse, to: m.from, index: log.committed))
        }
    }

    private mutating func restore(_ snap: Snapshot) -> Bool {
        let meta = snap.metadata
        if meta.index <= log.committed { return false }
        if log.matchTerm(meta.index, meta.term) {
            // We already hold the entries: just fast-forward the commit index.
            log.commit(to: meta.index)
            return false
        }
        log.restore(snap)
        voters = Array(Set(meta.voters)).sorted()
        progress = [:]
        for voter in voters {
            progress[voter] = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflight)
        }
        return true
    }
}
