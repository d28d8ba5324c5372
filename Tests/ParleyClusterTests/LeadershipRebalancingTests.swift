import Testing

@testable import ParleyCluster

/// The pace at which a leader that is not its partition's preferred leader hands leadership
/// back: two election timeouts after it began leading, once the preferred replica is caught
/// up; then, while hand-offs do not land (this node leads again without the preferred replica
/// having led), twice as long each time, up to 32 election timeouts; from the start again once
/// the preferred replica is seen leading.
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

    /// One tick as a follower, knowing `preferredLeads`.
    static func follow(_ rebalancing: inout LeadershipRebalancing, preferredLeads: Bool) {
        let attempted = rebalancing.tick(leadsElsewhere: false, preferredCaughtUp: false, preferredLeads: preferredLeads, electionTicks: electionTicks)
        #expect(!attempted)
    }

    @Test func theFirstHandOffWaitsTwoElectionTimeoutsAndACaughtUpReplica() {
        var rebalancing = LeadershipRebalancing()
        #expect(Self.ticksUntilAttempt(&rebalancing, caughtUp: false, limit: 100) == nil)
        // Caught up now, and two election timeouts have passed since it began leading.
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

    @Test func aHandOffWhoseTargetLosesItsElectionStillBacksOff() {
        var rebalancing = LeadershipRebalancing()
        #expect(Self.ticksUntilAttempt(&rebalancing) == 2 * Self.electionTicks)
        // This node stepped down for the target, which did not win; this node leads again.
        for _ in 0..<5 { Self.follow(&rebalancing, preferredLeads: false) }
        #expect(rebalancing.wait == 4)
        #expect(Self.ticksUntilAttempt(&rebalancing) == 4 * Self.electionTicks)
    }

    @Test func theWaitStartsOverOnceThePreferredReplicaLeads() {
        var rebalancing = LeadershipRebalancing()
        for _ in 0..<3 { _ = Self.ticksUntilAttempt(&rebalancing) }
        #expect(rebalancing.wait == 16)
        Self.follow(&rebalancing, preferredLeads: true)  // the hand-off landed
        #expect(rebalancing.wait == LeadershipRebalancing.firstWait)
        // Leading again later (the preferred replica went away): two election timeouts from then.
        #expect(Self.ticksUntilAttempt(&rebalancing) == 2 * Self.electionTicks)
    }

    @Test func thePreferredLeaderItselfNeverHandsOff() {
        var rebalancing = LeadershipRebalancing()
        #expect(Self.ticksUntilAttempt(&rebalancing, leadsElsewhere: false) == nil)
    }
}
