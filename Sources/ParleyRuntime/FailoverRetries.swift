import ParleyCluster

/// The retry rules of a call on a replicated partition, without I/O or clock of its own: which
/// refusals mean "not here, not now" and are retried, how long to pause before each retry
/// (doubling from `firstPause` to `longestPause`), when the call's deadline leaves no room for
/// another, and which replica to ask next while no leader is known. `NodeRuntime` is the shell.
struct FailoverRetries: Sendable {
    /// What the shell does next.
    enum Decision: Equatable {
        /// Pause this long, then route the call again.
        case retry(after: Duration)
        /// Give the caller this refusal.
        case fail
    }

    static let firstPause: Duration = .milliseconds(10)
    static let longestPause: Duration = .milliseconds(160)

    /// Refusals that mean "not here, not now": the partition's leader moved or is being
    /// elected. Nothing of the call took effect, or (a stale term, an abandoned attempt) it may
    /// still commit and a retry decides on the state that says so (a post's idempotency key
    /// makes its retry a replay).
    static let retriedCodes: Set<String> = [
        RuntimeError.partitionElsewhere, ClusterError.Code.notLeader.rawValue, ClusterError.Code.stale.rawValue,
        ClusterError.Code.peerUnavailable.rawValue, RuntimeError.entityRetired, ClusterError.Code.shuttingDown.rawValue,
    ]

    let deadline: ContinuousClock.Instant
    private(set) var pause = Self.firstPause
    /// How many retries so far: which replica to ask while no leader is known.
    private(set) var turn = 0

    init(deadline: ContinuousClock.Instant) {
        self.deadline = deadline
    }

    /// Whether no answer can come through a node that does not serve the partition: the leader
    /// it knows of is down (`leaderUp` nil: none known), and the replicas it reaches, itself
    /// included if it is one, are fewer than a majority of `replicas`, so no leader can stand on
    /// its side (cut off from its peers, or on a split's minority side). Then the caller is
    /// refused at once, to try another node.
    static func isCutOff(leaderUp: Bool?, replicas: Int, reachable: Int) -> Bool {
        leaderUp != true && replicas > 0 && !ReplicaReach.isMajority(reachable, of: replicas)
    }

    /// After an attempt refused with `code` at `now`.
    mutating func next(afterRefusal code: String, at now: ContinuousClock.Instant) -> Decision {
        guard Self.retriedCodes.contains(code), now + pause < deadline else { return .fail }
        let decision = Decision.retry(after: pause)
        turn += 1
        pause = min(pause * 2, Self.longestPause)
        return decision
    }
}
