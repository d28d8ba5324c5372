/// Quiet groups (as CockroachDB quiesces ranges): a leader whose followers all hold its whole
/// log, committed, and that had nothing to do (no proposal, read or transfer) for
/// `RaftConfig.quiesceTicks` ticks, tells its followers (`quiesce`, with its last index and
/// commit) and goes quiet; a follower whose log ends where the leader's does goes quiet too. A
/// quiet node sends no heartbeats and runs no election timer, so the shell need not tick it.
/// Anything that happens to it wakes it: a message (but the replies to the heartbeats it sent
/// before going quiet), a proposal, a read, a campaign, a transfer, or the shell's liveness
/// hint (`leaderUnreachable`, `wake`). A quiet leader's failure is found by the shell's
/// failure detector (its peer network), which then wakes the followers; a quiet group's
/// safety is Raft's, untouched.
extension RaftNode {
    /// Whether the node is quiet: the shell need not tick it until something happens to it.
    public var isQuiescent: Bool { quiescent }

    /// Wakes a quiet node (the shell's hint that a peer it depends on went down): it ticks
    /// again from a fresh election timeout, so a leader that lost its quorum steps down and
    /// a follower whose leader is gone elects one.
    public mutating func wake() {
        guard quiescent else { return }
        quiescent = false
        quietTicks = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        // A leader proves its quorum again before it may go quiet again (its followers'
        // activity from before is stale): cut off, its check-quorum steps it down.
        quorumCheckedSinceWake = false
        for voter in voters where voter != id { progress[voter]?.recentActive = false }
    }

    /// Counts a leader's quiet ticks; at `quiesceTicks` in a row it goes quiet, once a
    /// check-quorum has passed since it last woke. `allowed`: the shell has nothing to do with
    /// the leader either (no leadership hand-over due).
    mutating func tickQuiescence(allowed: Bool) {
        guard config.quiesceTicks > 0, allowed, role == .leader, quorumCheckedSinceWake, isQuiet else {
            quietTicks = 0
            return
        }
        quietTicks += 1
        guard quietTicks >= config.quiesceTicks else { return }
        for voter in voters where voter != id {
            send(Message(kind: .quiesce, to: voter, logTerm: log.lastTerm, index: log.lastIndex, commit: log.committed))
        }
        quiescent = true
    }

    /// Nothing to do: every entry committed and held by every follower in steady
    /// replication, no read, transfer or forwarded read waiting.
    private var isQuiet: Bool {
        leadTransferee == 0 && pendingReadIndexMessages.isEmpty && readOnly.pending.isEmpty && log.committed == log.lastIndex
            && voters.allSatisfy { voter in
                voter == id || (progress[voter].map { $0.match == log.lastIndex && $0.state == .replicate } ?? false)
            }
    }

    /// A follower told by its leader that the group is quiet goes quiet if its log ends
    /// where the leader's does (else it stays awake; its election timer wakes the leader).
    mutating func handleQuiesce(_ m: Message) {
        guard role == .follower, m.from == leader, log.lastIndex == m.index, log.term(at: m.index) == m.logTerm else { return }
        log.commit(to: min(m.commit, log.lastIndex))
        electionElapsed = 0
        quiescent = true
    }

    /// Wakes the node for `m`, unless `m` leaves a quiet node quiet: the quiesce itself, or a
    /// reply to a heartbeat sent before the leader went quiet.
    mutating func wake(for m: Message) {
        guard quiescent, m.kind != .quiesce, !(role == .leader && m.kind == .heartbeatResponse && m.term == term) else { return }
        wake()
    }
}
