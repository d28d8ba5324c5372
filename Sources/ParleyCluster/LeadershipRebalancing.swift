/// When a leader that is not its partition's preferred leader hands leadership back to it (a
/// pure state machine: the driver feeds it ticks and acts on its answer).
///
/// A hand-off waits two election timeouts from when this node began leading (or from its last
/// attempt), and for the preferred replica to have every entry. A transfer refuses proposals
/// until it lands or is abandoned (an election timeout), and one whose target then loses its
/// election costs the partition an election, so hand-offs that do not land (the preferred
/// replica cannot win: it is cut off from the others, or loses its votes) must not be retried
/// at a steady pace: each attempt doubles the wait, up to `longestWait` election timeouts. The
/// wait starts over only once the preferred replica is seen leading (a hand-off landed).
struct LeadershipRebalancing {
    /// Election timeouts before the first attempt, and at most between two attempts.
    static let firstWait = 2
    static let longestWait = 32

    /// Election timeouts to wait before the next attempt.
    private(set) var wait = Self.firstWait
    private var ticksSinceAttempt = 0
    private var leading = false

    /// One tick; true when leadership is to be handed to the preferred replica now.
    /// `leadsElsewhere`: this node leads and is not the preferred leader; `preferredCaughtUp`:
    /// the preferred replica has every entry of this node's log; `preferredLeads`: this node
    /// knows the preferred replica as the leader.
    mutating func tick(leadsElsewhere: Bool, preferredCaughtUp: Bool, preferredLeads: Bool = false, electionTicks: Int) -> Bool {
        if preferredLeads { wait = Self.firstWait }
        guard leadsElsewhere else {
            leading = false
            return false
        }
        if !leading {
            // Counted from when this node began leading.
            leading = true
            ticksSinceAttempt = 0
        }
        ticksSinceAttempt += 1
        guard preferredCaughtUp, ticksSinceAttempt >= wait * electionTicks else { return false }
        ticksSinceAttempt = 0
        wait = min(wait * 2, Self.longestWait)
        return true
    }
}
