/// Elections: timeouts, (pre-)campaigns, votes.
extension RaftNode {
    enum VoteResult { case pending, won, lost }

    mutating func tickElection() {
        electionElapsed += 1
        if hintedTicksLeft > 0 {
            // A told successor's pre-vote goes unanswered by voters not told yet (they still
            // hold the gone leader's lease): it asks again every other tick, a pre-vote
            // leaving no trace, rather than after an election timeout.
            hintedTicksLeft -= 1
            if hintedTicksLeft % Self.hintedRetryTicks == 0, leader == 0, role != .candidate, isPromotable,
                electionElapsed < randomizedElectionTimeout
            {
                if role == .preCandidate { askPreVotesAgain() } else { startElection(transfer: false) }
            }
        }
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            electionElapsed = 0
            startElection(transfer: false)
        }
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= config.electionTick {
            electionElapsed = 0
            if config.checkQuorum && !isQuorumActive {
                becomeFollower(term: term, leader: 0)
                return
            }
            quorumCheckedSinceWake = true
            for voter in voters where voter != id { progress[voter]?.recentActive = false }
            if leadTransferee != 0 { leadTransferee = 0 }
        }
        // A snapshot that was lost (or whose receiver crashed) is retried after a while.
        for voter in voters where progress[voter]?.state == .snapshot {
            progress[voter]!.snapshotTicks += 1
            if progress[voter]!.snapshotTicks >= config.electionTick { progress[voter]!.becomeProbe() }
        }
        if heartbeatElapsed >= config.heartbeatTick {
            heartbeatElapsed = 0
            broadcastHeartbeat(context: readOnly.lastContext ?? [])
        }
    }

    /// Whether a quorum of voters (this leader included) was heard from in this round.
    var isQuorumActive: Bool {
        voters.filter { $0 == id || progress[$0]?.recentActive == true }.count >= quorum
    }

    /// Starts a (pre-)election. `transfer` skips pre-vote and overrides voters' stickiness.
    mutating func startElection(transfer: Bool) {
        guard isPromotable else { return }
        if config.preVote && !transfer {
            runCampaign(pre: true, transfer: false)
        } else {
            runCampaign(pre: false, transfer: transfer)
        }
    }

    private mutating func runCampaign(pre: Bool, transfer: Bool) {
        let kind: MessageKind
        let voteTerm: UInt64
        if pre {
            becomePreCandidate()
            kind = .preVote
            voteTerm = term + 1
        } else {
            becomeCandidate()
            kind = .vote
            voteTerm = term
        }
        if poll(id, granted: true) == .won {
            if pre { runCampaign(pre: false, transfer: false) } else { becomeLeader() }
            return
        }
        for voter in voters where voter != id { askVote(kind, of: voter, term: voteTerm, transfer: transfer) }
    }

    /// Asks `voter` for a (pre-)vote at `term`, with this node's last log position.
    private mutating func askVote(_ kind: MessageKind, of voter: NodeID, term: UInt64, transfer: Bool = false) {
        send(Message(kind: kind, to: voter, term: term, logTerm: log.lastTerm, index: log.lastIndex, campaignTransfer: transfer))
    }

    /// A pre-candidate asks again the voters that have not granted its pre-vote (refusals are
    /// forgotten: a voter told late that the leader is gone may grant now); grants already
    /// counted stay, so answers to earlier asks still add up.
    mutating func askPreVotesAgain() {
        for (voter, granted) in votes where !granted { votes[voter] = nil }
        for voter in voters where voter != id && votes[voter] != true { askVote(.preVote, of: voter, term: term + 1) }
    }

    /// Records a vote (only the first from each voter counts) and tallies.
    mutating func poll(_ voter: NodeID, granted: Bool) -> VoteResult {
        if votes[voter] == nil && voters.contains(voter) { votes[voter] = granted }
        let yes = votes.values.filter { $0 }.count
        let no = votes.count - yes
        if yes >= quorum { return .won }
        if voters.count - no < quorum { return .lost }
        return .pending
    }

    mutating func handleVoteRequest(_ m: Message) {
        let responseKind: MessageKind = m.kind == .vote ? .voteResponse : .preVoteResponse
        let canVote = vote == m.from || (vote == 0 && leader == 0) || (m.kind == .preVote && m.term > term)
        if canVote && log.isUpToDate(index: m.index, term: m.logTerm) {
            send(Message(kind: responseKind, to: m.from, term: m.term))
            if m.kind == .vote {
                electionElapsed = 0
                vote = m.from
            }
        } else {
            send(Message(kind: responseKind, to: m.from, term: term, reject: true))
        }
    }

    mutating func stepCandidate(_ m: Message) {
        switch m.kind {
        case .append:
            becomeFollower(term: m.term, leader: m.from)
            handleAppend(m)
        case .heartbeat:
            becomeFollower(term: m.term, leader: m.from)
            handleHeartbeat(m)
        case .snapshot:
            becomeFollower(term: m.term, leader: m.from)
            handleSnapshot(m)
        case .preVoteResponse where role == .preCandidate, .voteResponse where role == .candidate:
            switch poll(m.from, granted: !m.reject) {
            case .won:
                if role == .preCandidate {
                    runCampaign(pre: false, transfer: false)
                } else {
                    becomeLeader()
                    broadcastAppend()
                }
            case .lost:
                becomeFollower(term: term, leader: 0)
            case .pending:
                break
            }
        default:
            break
        }
    }

    mutating func stepFollower(_ m: Message) {
        switch m.kind {
        case .append:
            electionElapsed = 0
            leader = m.from
            handleAppend(m)
        case .heartbeat:
            electionElapsed = 0
            leader = m.from
            handleHeartbeat(m)
        case .snapshot:
            electionElapsed = 0
            leader = m.from
            handleSnapshot(m)
        case .timeoutNow:
            startElection(transfer: true)
        case .readIndexResponse:
            readStates.append(ReadState(index: m.index, context: m.context))
        case .quiesce:
            handleQuiesce(m)
        default:
            break
        }
    }
}

/// Hints from the shell that a leader is gone.
extension RaftNode {
    /// The shell learned that `node`'s process is gone (its connection closed and a new dial
    /// was refused). A follower that knew it as leader forgets it, which ends that leader's
    /// lease here: this node grants (pre-)votes at once rather than after an election timeout.
    /// The shell picks one successor per group (`campaign`), so that the survivors do not
    /// split the vote: it campaigns within two ticks, leaving the others a tick to take the
    /// same hint, and asks again every other tick for an election timeout (voters told late
    /// refuse it until they are); the others campaign a full election timeout later, should no leader have
    /// stood by then (the successor missed the hint). Not sooner: survivors learn of a death
    /// at moments apart (a busy node reads the closed socket late), and one that stood before
    /// a successor told late would split the vote, costing another timeout. A wrong hint costs an
    /// election at most, never safety: Raft's safety does not rest on whom a follower believes
    /// to lead, and a live leader's next heartbeat restores it here.
    public mutating func leaderUnreachable(_ node: NodeID, campaign: Bool) {
        guard role == .follower, node != 0, node != id, leader == node else { return }
        wake()
        leader = 0
        guard isPromotable else { return }
        let wait = campaign ? 2 : 2 + config.electionTick
        electionElapsed = max(electionElapsed, randomizedElectionTimeout - wait)
        if campaign { hintedTicksLeft = config.electionTick + wait }
    }

    /// How often a told successor asks for pre-votes again while no leader stands.
    static let hintedRetryTicks = 2
}
