import ParleyDomain
import Testing

@testable import ParleyRuntime

@Suite("Live session ordering")
struct LiveSessionStateTests {
    let room = RoomID(unchecked: "r1")

    func entries(_ seqs: ClosedRange<UInt64>) -> [JournalEntry] {
        seqs.map { JournalEntry(room: room, eventSeq: $0, event: .readPointerMoved(StaffID(unchecked: "bo"), seq: $0)) }
    }

    func live(_ seqs: ClosedRange<UInt64>) -> LiveItem { .events(EventBatch(entries(seqs)), notify: []) }

    func post(_ seq: UInt64) -> JournalEntry {
        let message = Message(seq: seq, author: StaffID(unchecked: "al"), text: "m\(seq)", postedAt: Timestamp(milliseconds: 0), idempotencyKey: nil)
        return JournalEntry(room: room, eventSeq: seq, event: .messagePosted(message))
    }

    func seqs(_ outputs: [LiveSessionState.Output]) -> [UInt64] {
        outputs.flatMap { output -> [UInt64] in
            if case let .events(_, entries, _, _) = output { return entries.map(\.eventSeq) }
            return []
        }
    }

    @Test func liveEventsDuringReplayWaitAndOverlapIsDroppedOnce() {
        var state = LiveSessionState()
        #expect(state.handle(.subscribing(room, after: 3)).isEmpty)
        // Published while the journal was being read; overlapping what the replay returns.
        #expect(state.handle(live(7...8)).isEmpty)
        #expect(state.handle(live(9...9)).isEmpty)
        let first = state.handle(.replayed(room, entries(4...5), complete: false, resyncRequired: false))
        #expect(seqs(first) == [4, 5])
        let rest = state.handle(.replayed(room, entries(6...8), complete: true, resyncRequired: false))
        #expect(seqs(rest) == [6, 7, 8, 9])
        #expect(seqs(state.handle(live(9...10))) == [10])
        #expect(seqs(state.handle(live(11...11))) == [11])
    }

    @Test func aGapInLiveEventsAsksForResync() {
        var state = LiveSessionState()
        _ = state.handle(.subscribing(room, after: 0))
        _ = state.handle(.replayed(room, entries(1...2), complete: true, resyncRequired: false))
        #expect(state.handle(live(5...5)) == [.resyncRequired(room, resumeFrom: 2)])
        #expect(state.followedRooms.isEmpty)
        #expect(state.handle(live(6...6)).isEmpty)
    }

    @Test func prunedJournalAndRefusalsAreReported() {
        var state = LiveSessionState()
        _ = state.handle(.subscribing(room, after: 1))
        let outputs = state.handle(.replayed(room, entries(50...51), complete: true, resyncRequired: true))
        #expect(outputs.first == .resyncRequired(room, resumeFrom: 1))
        #expect(seqs(outputs) == [50, 51])
        #expect(state.handle(.refused(room, code: "not_a_member", message: "no")) == [.refused(room, code: "not_a_member", message: "no")])
        #expect(state.handle(live(52...52)).isEmpty)
    }

    @Test func theSessionStopsFollowingARoomItsStaffLeftOrWasRefused() {
        let bo = StaffID(unchecked: "bo")
        var state = LiveSessionState(staff: bo)
        var outputs: [LiveSessionState.Output] = []
        _ = state.handle(.subscribing(room, after: 0), into: &outputs)
        #expect(state.handle(.replayed(room, entries(1...1), complete: true, resyncRequired: false), into: &outputs).isEmpty)
        // Someone else's removal changes nothing; bo's own is written, then the room is dropped.
        let other = JournalEntry(room: room, eventSeq: 2, event: .memberRemoved(StaffID(unchecked: "cy"), by: StaffID(unchecked: "al")))
        #expect(state.handle(.events(EventBatch([other]), notify: []), into: &outputs).isEmpty)
        let removal = JournalEntry(room: room, eventSeq: 3, event: .memberRemoved(bo, by: StaffID(unchecked: "al")))
        #expect(state.handle(.events(EventBatch([removal]), notify: []), into: &outputs) == [room])
        #expect(seqs(outputs) == [1, 2, 3])
        #expect(state.followedRooms.isEmpty)
        #expect(state.handle(live(4...4), into: &outputs).isEmpty && seqs(outputs) == [1, 2, 3])
        // A refused subscription is to be unfollowed too.
        #expect(state.handle(.refused(room, code: "not_a_member", message: "no"), into: &outputs) == [room])
    }

    @Test func wholeBatchesShareTheirEncodingAndNotifyOnlyWhatIsWritten() {
        var state = LiveSessionState()
        _ = state.handle(.subscribing(room, after: 0))
        // Held during the replay, with its alerts.
        _ = state.handle(.events(EventBatch([post(2)]), notify: [2]))
        let replayed = state.handle(.replayed(room, [post(1)], complete: true, resyncRequired: false))
        #expect(replayed == [.events(room, [post(1)]), .events(room, [post(2)], notify: [2])])
        // Live: a whole batch is shared; a partly seen one is not, and only what is written notifies.
        let batch = EventBatch([post(3), post(4)])
        guard case let .events(_, _, shared, notify) = state.handle(.events(batch, notify: [4])).first else {
            Issue.record("expected events")
            return
        }
        #expect(shared === batch)
        #expect(notify == [4])
        let overlapping = state.handle(.events(EventBatch([post(4), post(5)]), notify: [4, 5]))
        #expect(overlapping == [.events(room, [post(5)], notify: [5])])
        if case let .events(_, _, shared, _) = overlapping.first { #expect(shared == nil) }
        // Encoded once, however many sessions ask.
        var encodings = 0
        for _ in 0..<3 { _ = batch.encoded { _ in encodings += 1; return "[]" } }
        #expect(encodings == 1)
    }

    /// A message posted while the session subscribes can reach it first in the replay (a
    /// journal read, which knows no alerts) and then live with its alert: the alert is still
    /// written, once, whether the live batch came during the replay or after it.
    @Test func aMessageTheReplayWroteFirstStillAlerts() {
        var state = LiveSessionState()
        _ = state.handle(.subscribing(room, after: 1))
        // Live during the replay, and already in what the replay read.
        _ = state.handle(.events(EventBatch([post(3)]), notify: [3]))
        let replayed = state.handle(.replayed(room, [post(2), post(3), post(4)], complete: true, resyncRequired: false))
        #expect(replayed == [.events(room, [post(2), post(3), post(4)]), .events(room, [], notify: [3])])
        // Live after the replay: 4 was written by it, 5 is new.
        #expect(state.handle(.events(EventBatch([post(4), post(5)]), notify: [4, 5])) == [.events(room, [post(5)], notify: [4, 5])])
        // Written live already (with its alert), or alerted late already: not again. Before the
        // subscription: never.
        #expect(state.handle(.events(EventBatch([post(5)]), notify: [5])).isEmpty)
        #expect(state.handle(.events(EventBatch([post(3), post(4)]), notify: [3, 4])).isEmpty)
        #expect(state.handle(.events(EventBatch([post(1)]), notify: [1])).isEmpty)
    }
}
