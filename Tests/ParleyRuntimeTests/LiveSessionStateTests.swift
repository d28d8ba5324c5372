import ParleyDomain
import Testing

@testable import ParleyRuntime

@Suite("Live session ordering")
struct LiveSessionStateTests {
    let room = RoomID(unchecked: "r1")

    func entries(_ seqs: ClosedRange<UInt64>) -> [JournalEntry] {
        seqs.map { JournalEntry(room: room, eventSeq: $0, event: .readPointerMoved(StaffID(unchecked: "bo"), seq: $0)) }
    }

    func seqs(_ outputs: [LiveSessionState.Output]) -> [UInt64] {
        outputs.flatMap { output -> [UInt64] in
            if case let .events(_, entries) = output { return entries.map(\.eventSeq) }
            return []
        }
    }

    @Test func liveEventsDuringReplayWaitAndOverlapIsDroppedOnce() {
        var state = LiveSessionState()
        #expect(state.handle(.subscribing(room, after: 3)).isEmpty)
        // Published while the journal was being read; overlapping what the replay returns.
        #expect(state.handle(.events(entries(7...8))).isEmpty)
        #expect(state.handle(.events(entries(9...9))).isEmpty)
        let first = state.handle(.replayed(room, entries(4...5), complete: false, resyncRequired: false))
        #expect(seqs(first) == [4, 5])
        let rest = state.handle(.replayed(room, entries(6...8), complete: true, resyncRequired: false))
        #expect(seqs(rest) == [6, 7, 8, 9])
        #expect(seqs(state.handle(.events(entries(9...10)))) == [10])
        #expect(seqs(state.handle(.events(entries(11...11)))) == [11])
    }

    @Test func aGapInLiveEventsAsksForResync() {
        var state = LiveSessionState()
        _ = state.handle(.subscribing(room, after: 0))
        _ = state.handle(.replayed(room, entries(1...2), complete: true, resyncRequired: false))
        #expect(state.handle(.events(entries(5...5))) == [.resyncRequired(room, resumeFrom: 2)])
        #expect(state.followedRooms.isEmpty)
        #expect(state.handle(.events(entries(6...6))).isEmpty)
    }

    @Test func prunedJournalAndRefusalsAreReported() {
        var state = LiveSessionState()
        _ = state.handle(.subscribing(room, after: 1))
        let outputs = state.handle(.replayed(room, entries(50...51), complete: true, resyncRequired: true))
        #expect(outputs.first == .resyncRequired(room, resumeFrom: 1))
        #expect(seqs(outputs) == [50, 51])
        #expect(state.handle(.refused(room, code: "not_a_member", message: "no")) == [.refused(room, code: "not_a_member", message: "no")])
        #expect(state.handle(.events(entries(52...52))).isEmpty)
    }
}
