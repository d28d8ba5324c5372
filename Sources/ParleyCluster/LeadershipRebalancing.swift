/// When a leader that is not its partition's preferred leader hands leadership back to it (a
/// pure state machine: the driver feeds it ticks and acts on its answer).
///
/// The first hand-off waits two election timeouts and for the preferred replica to have every
/// entry. A transfer refuses proposals until it lands or is abandoned (an election timeout), so
/// one that does not land (the preferred replica cannot win: it is cut off from the others, or
/// loses its votes) must not be retried at a steady pace: each failed attempt doubles the wait,
/// up to `longestWait` election timeouts. Once this node stops leading (the transfer landed, or
/// anything else) the wait starts over.
struct LeadershipRebalancing {
    /// Election timeouts before the first attempt, and at most between two attempts.
    static let firstWait = 2
    static let longestWait = 32

    /// Election timeouts to wait before the next attempt.
    private(set) var wait = Self.firstWait
    private var ticksSinceAttempt = 0

    /// One tick; true when leadership is to be handed to the preferred replica now.
    /// `leadsElsewhere`: this node leads and is not the preferred leader; `preferredCaughtUp`:
    /// the preferred replica has every entry of this node's log.
    mutating func tick(leadsElsewhere: Bool, preferredCaughtUp: Bool, electionTicks: Int) -> Bool {
        ticksSinceAttempt += 1
        guard leadsElsewhere else {
            wait = Self.firstWait
            return false
        }
        guard preferredCaughtUp, ticksSinceAttempt >= wait * electionTicks else { return false }
        ticksSinceAttempt = 0
        wait = min(wait * 2, Self.longestWait)
        return true
    }
}
