/// How a node behaves. Ticks are abstract: the shell calls `tick()` at a fixed interval.
public struct RaftConfig: Sendable, Equatable {
    /// This node's id (non-zero).
    public var id: NodeID
    /// The voters of the group when starting from an empty log (a snapshot's voters win).
    public var voters: [NodeID]
    /// Base election timeout in ticks; the actual timeout is drawn from
    /// `[electionTick, 2 * electionTick)` after every reset.
    public var electionTick: Int
    /// Ticks between leader heartbeats (must be < `electionTick`).
    public var heartbeatTick: Int
    /// Run a pre-vote round before a real election so a partitioned node cannot disrupt.
    public var preVote: Bool
    /// A leader that did not hear from a quorum within an election timeout steps down, and
    /// followers that heard from a leader recently ignore (pre)votes.
    public var checkQuorum: Bool
    /// At most this many append messages in flight to one follower while replicating.
    public var maxInflight: Int
    /// At most this many entries in one append message.
    public var maxEntriesPerMessage: Int
    /// Seed of the random source used for election timeouts.
    public var seed: UInt64
    /// A leader with nothing to do for this many ticks quiets its group (0: never). Only for
    /// shells whose failure detector wakes quiet groups when a peer goes down.
    public var quiesceTicks: Int = 0
    /// At most this many committed entries in one Ready (0: all of them). A node that comes
    /// back with a long backlog then applies it over several Readies, and its shell handles
    /// messages (votes, heartbeats) between them rather than after the whole backlog.
    public var maxCommittedEntriesPerReady: Int = 0

    public init(
        id: NodeID, voters: [NodeID], electionTick: Int = 10, heartbeatTick: Int = 1,
        preVote: Bool = true, checkQuorum: Bool = true, maxInflight: Int = 64,
        maxEntriesPerMessage: Int = 256, seed: UInt64 = 0
    ) {
        self.id = id
        self.voters = voters
        self.electionTick = electionTick
        self.heartbeatTick = heartbeatTick
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.maxInflight = maxInflight
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.seed = seed
    }

    func validate() throws(RaftError) {
        if id == 0 { throw .invalidConfiguration("id must be non-zero") }
        if voters.contains(0) { throw .invalidConfiguration("voter id 0 is reserved") }
        if heartbeatTick <= 0 { throw .invalidConfiguration("heartbeatTick must be positive") }
        if electionTick <= heartbeatTick { throw .invalidConfiguration("electionTick must exceed heartbeatTick") }
        if maxInflight <= 0 { throw .invalidConfiguration("maxInflight must be positive") }
        if maxEntriesPerMessage <= 0 { throw .invalidConfiguration("maxEntriesPerMessage must be positive") }
        if maxCommittedEntriesPerReady < 0 { throw .invalidConfiguration("maxCommittedEntriesPerReady must not be negative") }
    }
}
