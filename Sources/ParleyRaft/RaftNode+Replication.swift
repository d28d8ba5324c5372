/// Log replication: the leader's appends and heartbeats, the follower's handling of them,
/// and commitment.
extension RaftNode {
    /// Leader: appends one entry of the current term to its own log.
    @discardableResult
    mutating func appendEntry(_ data: [UInt8]) -> Entry {
        let entry = Entry(term: term, index: log.lastIndex + 1, data: data)
        log.append([entry])
        _ = progress[id]?.maybeUpdate(entry.index)
        if maybeCommit() { onCommitAdvanced() }
        return entry
    }

    /// Leader: commits the highest index a quorum matched, if it is of the current term
    /// (entries of earlier terms are committed only indirectly, Raft §5.4.2).
    mutating func maybeCommit() -> Bool {
        let matches = voters.map { progress[$0]?.match ?? 0 }.sorted(by: >)
        let candidate = matches[quorum - 1]
        guard candidate > log.committed, log.term(at: candidate) == term else { return false }
        log.commit(to: candidate)
        return true
    }

    mutating func onCommitAdvanced() {
        if log.term(at: log.committed) == term && !pendingReadIndexMessages.isEmpty {
            let waiting = pendingReadIndexMessages
            pendingReadIndexMessages = []
            for m in waiting { handleReadIndexRequest(m) }
        }
    }

    mutating func broadcastAppend() {
        for voter in voters where voter != id { sendAppend(to: voter) }
    }

    /// Sends the follower the entries it lacks (or a snapshot when they were compacted).
    /// Returns whether a message was sent.
    @discardableResult
    mutating func sendAppend(to target: NodeID, sendIfEmpty: Bool = true) -> Bool {
        guard var pr = progress[target], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        guard let prevTerm = log.term(at: prevIndex),
              let entries = log.entries(from: pr.next, maxCount: config.maxEntriesPerMessage)
        else { return sendSnapshot(to: target) }
        if entries.isEmpty && !sendIfEmpty { return false }
        send(Message(kind: .append, to: target, logTerm: prevTerm, index: prevIndex, entries: entries, commit: log.committed))
        pr.sentEntries(count: entries.count, lastIndex: entries.last?.index ?? prevIndex)
        progress[target] = pr
        return true
    }

    private mutating func sendSnapshot(to target: NodeID) -> Bool {
        guard var pr = progress[target], pr.recentActive, let snap = log.snapshot else { return false }
        pr.becomeSnapshot(snap.metadata.index)
        progress[target] = pr
        send(Message(kind: .snapshot, to: target, snapshot: snap))
        return true
    }

    mutating func broadcastHeartbeat(context: [UInt8]) {
        for voter in voters where voter != id {
            guard let pr = progress[voter] else { continue }
            send(Message(kind: .heartbeat, to: voter, commit: min(pr.match, log.committed), context: context))
        }
    }

    mutating func stepLeader(_ m: Message) {
        switch m.kind {
        case .appendResponse: handleAppendResponse(m)
        case .heartbeatResponse: handleHeartbeatResponse(m)
        case .readIndex: handleReadIndexRequest(m)
        default: break
        }
    }

    private mutating func handleAppendResponse(_ m: Message) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        if m.reject {
            // Fast back-off: skip every entry of the terms the follower does not share.
            var probe = m.rejectHint
            if m.logTerm > 0 { probe = log.findConflictByTerm(index: m.rejectHint, term: m.logTerm).index }
            let decreased = pr.maybeDecrease(rejected: m.index, matchHint: probe)
            if decreased && pr.state == .replicate { pr.becomeProbe() }
            progress[m.from] = pr
            if decreased { sendAppend(to: m.from) }
            return
        }
        let wasPaused = pr.isPaused
        guard pr.maybeUpdate(m.index) else {
            progress[m.from] = pr
            return
        }
        switch pr.state {
        case .probe:
            pr.becomeReplicate()
        case .snapshot:
            if pr.match + 1 >= log.firstIndex {
                pr.becomeProbe()
                pr.becomeReplicate()
            }
        case .replicate:
            pr.inflights.free(upTo: m.index)
        }
        progress[m.from] = pr
        if maybeCommit() {
            onCommitAdvanced()
            broadcastAppend()
        } else if wasPaused {
            sendAppend(to: m.from)
        }
        var budget = config.maxInflight
        while budget > 0 && sendAppend(to: m.from, sendIfEmpty: false) { budget -= 1 }
        if m.from == leadTransferee && progress[m.from]?.match == log.lastIndex {
            send(Message(kind: .timeoutNow, to: m.from))
        }
    }

    private mutating func handleHeartbeatResponse(_ m: Message) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        pr.probeSent = false
        // A full window that did not drain since the last heartbeat means appends were
        // lost (the shell may not report it): probe again.
        if pr.state == .replicate && pr.inflights.isFull && !pr.progressedSinceHeartbeat { pr.becomeProbe() }
        pr.progressedSinceHeartbeat = false
        progress[m.from] = pr
        if pr.match < log.lastIndex { sendAppend(to: m.from) }
        if !m.context.isEmpty { acknowledgeRead(from: m.from, context: m.context) }
    }

    /// Follower: handles an append from the leader of the current term.
    mutating func handleAppend(_ m: Message) {
        if m.index < log.committed {
            send(Message(kind: .appendResponse, to: m.from, index: log.committed))
            return
        }
        if let lastNew = log.maybeAppend(index: m.index, logTerm: m.logTerm, commit: m.commit, entries: m.entries) {
            send(Message(kind: .appendResponse, to: m.from, index: lastNew))
            return
        }
        let hint = log.findConflictByTerm(index: min(m.index, log.lastIndex), term: m.logTerm)
        send(Message(kind: .appendResponse, to: m.from, logTerm: hint.term, index: m.index, reject: true, rejectHint: hint.index))
    }

    mutating func handleHeartbeat(_ m: Message) {
        log.commit(to: min(m.commit, log.lastIndex))
        send(Message(kind: .heartbeatResponse, to: m.from, context: m.context))
    }

    /// Tells the leader that messages to `node` could not be delivered: it goes back to
    /// probing instead of streaming into the void.
    public mutating func reportUnreachable(_ node: NodeID) {
        guard role == .leader, var pr = progress[node], pr.state == .replicate else { return }
        pr.becomeProbe()
        progress[node] = pr
    }
}
