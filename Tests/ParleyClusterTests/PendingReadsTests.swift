import ParleyRaft
import Testing

@testable import ParleyCluster

/// The leader's reads between a ReadIndex request and being served: one request per batch,
/// served only once Raft confirmed it and the named index is applied, and failed (never
/// served) when unanswered for an election timeout or when leadership ends.
@Suite("Pending reads")
struct PendingReadsTests {
    @Test func aConfirmedBatchIsServedOnceItsIndexIsApplied() async throws {
        var reads = PendingReads()
        let tickets = [AppendTicket(), AppendTicket()]
        let context = reads.request(tickets)
        #expect(reads.takeServable(applied: 100).isEmpty)  // not confirmed yet
        reads.confirm([ReadState(index: 12, context: context)], term: 3)
        #expect(reads.takeServable(applied: 11).isEmpty)  // not applied yet
        let servable = reads.takeServable(applied: 12)
        #expect(servable.count == 1 && servable[0].index == 12 && servable[0].term == 3 && servable[0].tickets.count == 2)
        #expect(reads.isEmpty)
    }

    @Test func unknownConfirmationsAreIgnoredAndEachBatchHasItsOwnContext() {
        var reads = PendingReads()
        let first = reads.request([AppendTicket()])
        let second = reads.request([AppendTicket()])
        #expect(first != second)
        reads.confirm([ReadState(index: 5, context: [1, 2, 3]), ReadState(index: 5, context: second)], term: 1)
        #expect(reads.takeServable(applied: 5).count == 1)
        #expect(!reads.isEmpty)  // the first is still waiting
        #expect(reads.withdraw(first).count == 1)
        #expect(reads.isEmpty)
    }

    @Test func requestsUnansweredForTheLimitExpireAndLeadershipLossTakesEverything() {
        var reads = PendingReads()
        _ = reads.request([AppendTicket()])
        #expect(reads.tick(limit: 3).isEmpty)
        #expect(reads.tick(limit: 3).isEmpty)
        let late = reads.request([AppendTicket(), AppendTicket()])
        #expect(reads.tick(limit: 3).count == 1)  // the first waited 3 ticks
        reads.confirm([ReadState(index: 9, context: late)], term: 2)
        _ = reads.request([AppendTicket()])
        #expect(reads.takeAll().count == 3)
        #expect(reads.isEmpty)
    }
}
