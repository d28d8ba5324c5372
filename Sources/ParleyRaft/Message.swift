/// The kinds of messages Raft nodes exchange.
public enum MessageKind: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Leader → follower: entries after (`index`, `logTerm`), with the leader's `commit`.
    case append
    /// Follower → leader: accepted up to `index`, or `reject` with `rejectHint`/`logTerm`.
    case appendResponse
    /// Candidate → voter: request a vote at `term` for a log ending at (`index`, `logTerm`).
    case vote
    case voteResponse
    /// Pre-candidate → voter: would you vote for me at `term` (not yet adopted)?
    case preVote
    case preVoteResponse
    /// Leader → follower: liveness and commit (`commit` ≤ the follower's match); carries a
    /// read-index `context` when confirming leadership for reads.
    case heartbeat
    case heartbeatResponse
    /// Leader → follower: install `snapshot` (the follower needs compacted entries).
    case snapshot
    /// Leader → transfer target: campaign now, ignoring leader stickiness.
    case timeoutNow
    /// Follower → leader: a forwarded read-index request with its `context`.
    case readIndex
    /// Leader → follower: the read index (`index`) for the request `context`.
    case readIndexResponse
    /// Leader → follower: the group is quiet; the leader's log ends at (`index`, `logTerm`)
    /// with `commit` committed. A follower whose log ends there goes quiet too.
    case quiesce
}

/// A message between two nodes of one Raft group. Fields unused by a kind keep their defaults.
public struct Message: Sendable, Equatable, Hashable {
    public var kind: MessageKind
    public var from: NodeID
    public var to: NodeID
    public var term: UInt64
    /// Term of the entry at `index` (append: previous entry; vote: candidate's last entry;
    /// rejected append response: the term hint).
    public var logTerm: UInt64
    public var index: UInt64
    public var entries: [Entry]
    public var commit: UInt64
    public var reject: Bool
    /// On a rejected append: the index the follower suggests probing next.
    public var rejectHint: UInt64
    public var snapshot: Snapshot?
    /// Read-index request context (opaque; must be unique per outstanding request).
    public var context: [UInt8]
    /// Set on (pre)vote requests of a leadership transfer: voters ignore leader stickiness.
    public var campaignTransfer: Bool

    public init(
        kind: MessageKind, from: NodeID = 0, to: NodeID = 0, term: UInt64 = 0, logTerm: UInt64 = 0,
        index: UInt64 = 0, entries: [Entry] = [], commit: UInt64 = 0, reject: Bool = false,
        rejectHint: UInt64 = 0, snapshot: Snapshot? = nil, context: [UInt8] = [],
        campaignTransfer: Bool = false
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.snapshot = snapshot
        self.context = context
        self.campaignTransfer = campaignTransfer
    }
}
