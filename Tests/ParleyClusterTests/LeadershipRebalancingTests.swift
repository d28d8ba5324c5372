import Testing

@testable import ParleyCluster

/// The pace at which a leader that is not its partition's preferred leader hands leadership
/// back: after two election timeouts once the preferred replica is caught up, then, while the
/// hand-offs do not land, twice as long each time (up to 32 election timeouts), and from the
/// start again once this node stops leading.
@Suite("Leadership rebalancing")
struct LeadershipRebalancingTests {
    static let electionTicks = 10

    /// Ticks until the first `true`, with the given inputs, within `limit` ticks.
    static func ticksUntilAttempt(
        _ rebalancing: inout LeadershipRebalancing, leadsElsewhere: Bool = true, caughtUp: Bool = true, limit: Int = 1_000
    ) -> Int? {
        for tick in 1...limit where rebalancing.tick(leadsElsewhere: leadsElsewhere, preferredCaughtUp: caughtUp, electionTicks: electionTicks) {
            return tick
        }
        return nil
    }

    @Test func theFirstHandOffWaitsTwoElectionTimeoutsAndACaughtUpReplica() {
        var rebalancing = LeadershipRebalancing()
        #expect(Self.ticksUntilAttempt(&rebalancing, caughtUp: false, limit: 100) == nil)
        // Caught up now, and two election timeouts have passed since it started counting.
        #expect(Self.ticksUntilAttempt(&rebalancing) == 1)
        var fresh = LeadershipRebalancing()
        #expect(Self.ticksUntilAttempt(&fresh) == 2 * Self.electionTicks)
    }

    @Test func handOffsThatDoNotLandBackOffUpToALimit() {
        var rebalancing = LeadershipRebalancing()
        var gaps: [Int] = []
        for _ in 0..<7 {
            guard let ticks = Self.ticksUntilAttempt(&rebalancing) else { break }
            gaps.append(ticks / Self.electionTicks)
        }
        #expect(gaps == [2, 4, 8, 16, 32, 32, 32])
    }

    @Test func aNodeThatStopsLeadingStartsOver() {
        var rebalancing = LeadershipRebalancing()
        for _ in 0..<3 { _ = Self.ticksUntilAttempt(&rebalancing) }
        #expect(rebalancing.wait == 16)
        // The hand-off landed: this node follows for a tick, then leads elsewhere again.
        let attempted = rebalancing.tick(leadsElsewhere: false, preferredCaughtUp: false, electionTicks: Self.electionTicks)
        #expect(!attempted)
        #expect(rebalancing.wait == LeadershipRebalancing.firstWait)
        #expect(Self.ticksUntilAttempt(&rebalancing) == 2 * Self.electionTicks - 1)
    }

    @Test func thePreferredLeaderItselfNeverHandsOff() {
        var rebalancing = LeadershipRebalancing()
        #expect(Self.ticksUntilAttempt(&rebalancing, leadsElsewhere: false) == nil)
    }
}
