/// One member of a Raft group as a pure state machine, in the style of etcd's raft.
///
/// Drive it with `tick()` at a fixed interval, `step(_:)` for every message received, and
/// `propose(_:)` / `readIndex(context:)` / `transferLeadership(to:)` for requests. After any
/// of these, while `hasReady`, take `ready()`, act on it as `Ready` documents, then
/// `advance(_:)`. It performs no I/O, reads no clock and draws randomness only from the
/// generator seeded by its configuration.
public struct RaftNode: Sendable {
    public let id: NodeID
    let config: RaftConfig
    public internal(set) var term: UInt64 = 0
    /// The vote cast in `term` (`0` = none).
    public internal(set) var vote: NodeID = 0
    public internal(set) var role: Role = .follower
    /// The known leader (`0` = none).
    public internal(set) var leader: NodeID = 0
    /// The voters of the group, sorted.
    public internal(set) var voters: [NodeID]
    /// The follower a leadership transfer targets (`0` = none).
    public internal(set) var leadTransferee: NodeID = 0

    var log: RaftLog
    var progress: [NodeID: Progress] = [:]
    var votes: [NodeID: Bool] = [:]
    var readOnly = ReadOnly()
    /// Read-index requests that arrived before this leader committed an entry of its term.
    var pendingReadIndexMessages: [Message] = []
    var readStates: [ReadState] = []
    var outbox: [Message] = []
    var electionElapsed = 0
    var heartbeatElapsed = 0
    /// Ticks left in which a successor told its leader is gone stands again (`leaderUnreachable`).
    var hintedTicksLeft = 0
    var randomizedElectionTimeout = 0
    /// Quiet: not ticked until something happens to it (`RaftNode+Quiescence`).
    var quiescent = false
    var quietTicks = 0
    /// A leader's check-quorum passed since it became leader or last woke.
    var quorumCheckedSinceWake = false
    var random: SplitMix64
    var lastHardState: HardState
    var lastSoftState: SoftState

    /// A new node with an empty log.
    public init(config: RaftConfig) throws(RaftError) {
        try self.init(config: config, restoring: PersistentState(hardState: HardState()))
    }

    /// A node rebuilt from what the shell persisted before it stopped.
    public init(config: RaftConfig, restoring state: PersistentState) throws(RaftError) {
        try config.validate()
        id = config.id
        self.config = config
        random = SplitMix64(seed: config.seed ^ (config.id &* 0x9E37_79B9_7F4A_7C15))
        voters = Array(Set(state.snapshot?.metadata.voters ?? config.voters)).sorted()
        if voters.isEmpty { throw .invalidConfiguration("no voters") }
        log = try RaftLog(snapshot: state.snapshot, entries: state.entries, commit: state.hardState.commit, applied: state.applied)
        term = state.hardState.term
        vote = state.hardState.vote
        lastHardState = HardState(term: term, vote: vote, commit: log.committed)
        lastSoftState = SoftState(role: .follower, leader: 0)
        becomeFollower(term: term, leader: 0)
    }

    // MARK: - Read-only views

    public var commitIndex: UInt64 { log.committed }
    public var appliedIndex: UInt64 { log.applied }
    public var firstIndex: UInt64 { log.firstIndex }
    public var lastIndex: UInt64 { log.lastIndex }
    public var lastTerm: UInt64 { log.lastTerm }
    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    public var softState: SoftState { SoftState(role: role, leader: leader) }
    /// The latest snapshot this node holds (made locally or received), if any.
    public var latestSnapshot: Snapshot? { log.snapshot }

    /// The term of the entry at `index`, nil when compacted or beyond the log.
    public func term(at index: UInt64) -> UInt64? { log.term(at: index) }

    /// The entries in `from...`, nil when `from` is compacted.
    public func entries(from index: UInt64, maxCount: Int = Int.max) -> [Entry]? {
        log.entries(from: index, maxCount: maxCount)
    }

    /// The leader's view of a follower's replication: (match, next, state); nil elsewhere.
    public func replication(of node: NodeID) -> (match: UInt64, next: UInt64, state: ProgressState)? {
        guard role == .leader, let pr = progress[node] else { return nil }
        return (pr.match, pr.next, pr.state)
    }

    var quorum: Int { voters.count / 2 + 1 }
    var isPromotable: Bool { voters.contains(id) }

    // MARK: - Driving

    /// Advances logical time by one tick: elections on followers, heartbeats and
    /// check-quorum on the leader.
    /// `mayQuiesce`: the shell has nothing else to do with the group (a leader goes quiet only
    /// then). A quiet node's tick does nothing.
    public mutating func tick(mayQuiesce: Bool = true) {
        guard !quiescent else { return }
        if role == .leader {
            tickLeader()
            if role == .leader { tickQuiescence(allowed: mayQuiesce) }
        } else {
            tickElection()
        }
    }

    /// Handles a message received from another node of the group.
    public mutating func step(_ m: Message) {
        guard m.to == id, m.from != id, m.from != 0 else { return }
        wake(for: m)
        if m.term > term {
            if m.kind == .vote || m.kind == .preVote {
                let inLease = config.checkQuorum && leader != 0 && electionElapsed < config.electionTick
                if !m.campaignTransfer && inLease { return }
            }
            switch m.kind {
            case .preVote:
                break  // never adopt a pre-vote's term
            case .preVoteResponse where !m.reject:
                break  // the pre-candidate adopts the term only when it wins
            case .append, .heartbeat, .snapshot:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: 0)
            }
        } else if m.term < term {
            if (config.checkQuorum || config.preVote) && (m.kind == .heartbeat || m.kind == .append) {
                // A stale leader (e.g. back from a partition) learns our term and steps down.
                send(Message(kind: .appendResponse, to: m.from))
            } else if m.kind == .preVote {
                send(Message(kind: .preVoteResponse, to: m.from, term: term, reject: true))
            }
            return
        }

        switch m.kind {
        case .vote, .preVote:
            handleVoteRequest(m)
        default:
            switch role {
            case .leader: stepLeader(m)
            case .candidate, .preCandidate: stepCandidate(m)
            case .follower: stepFollower(m)
            }
        }
    }

    /// Starts an election now (a pre-vote round first when enabled). Ignored on a leader.
    public mutating func campaign() {
        guard role != .leader else { return }
        wake()
        startElection(transfer: false)
    }

    /// Proposes `data` for the log. Returns the index and term the entry got; the proposal
    /// succeeded once an entry with that index and term is committed.
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(RaftError) -> (index: UInt64, term: UInt64) {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard leadTransferee == 0 else { throw .transferInProgress }
        wake()
        let entry = appendEntry(data)
        broadcastAppend()
        return (entry.index, entry.term)
    }

    // MARK: - Role changes

    mutating func reset(term newTerm: UInt64) {
        if newTerm != term {
            term = newTerm
            vote = 0
        }
        leader = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        hintedTicksLeft = 0
        randomizedElectionTimeout = config.electionTick + Int(random.next(below: UInt64(config.electionTick)))
        quiescent = false
        quietTicks = 0
        quorumCheckedSinceWake = false
        leadTransferee = 0
        votes = [:]
        readOnly.reset()
        pendingReadIndexMessages = []
        progress = [:]
        for voter in voters {
            var pr = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflight)
            if voter == id { pr.match = log.lastIndex }
            progress[voter] = pr
        }
    }

    mutating func becomeFollower(term newTerm: UInt64, leader newLeader: NodeID) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader)
        // Neither term nor vote change: a lost pre-vote leaves no trace.
        votes = [:]
        role = .preCandidate
        leader = 0
    }

    mutating func becomeCandidate() {
        precondition(role != .leader)
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        precondition(role == .candidate)
        reset(term: term)
        role = .leader
        leader = id
        progress[id]?.recentActive = true
        progress[id]?.becomeReplicate()
        // The no-op entry lets this leader commit (and thereby commit earlier terms' entries).
        appendEntry([])
    }

    // MARK: - Sending

    /// Queues a message; `term` is stamped unless the caller set it (votes, pre-votes).
    mutating func send(_ message: Message) {
        var m = message
        m.from = id
        switch m.kind {
        case .vote, .preVote, .voteResponse, .preVoteResponse:
            break
        default:
            m.term = term
        }
        outbox.append(m)
    }
}
