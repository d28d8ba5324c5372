import Testing

@testable import ParleyDomain

@Suite("Staff rules")
struct StaffRulesTests {
    static let al = StaffID(unchecked: "al")
    static let at = Timestamp(milliseconds: 1_700_000_000_000)
    static let one = RoomID(unchecked: "r_1")
    static let two = RoomID(unchecked: "r_2")

    /// The state after applying what `command` decides.
    static func applying(_ command: StaffCommand, to state: StaffState) throws -> (StaffState, [StaffEvent]) {
        var state = state
        let events = try state.decide(command, now: at)
        for event in events { state.apply(event) }
        return (state, events)
    }

    @Test func aBacklogDeliveredAtOnceEndsWhereOneByOneDeliveryEnds() throws {
        let deliveries = [
            StaffDelivery(room: Self.one, eventSeq: 1, notices: [.joined(.space)]),
            StaffDelivery(room: Self.one, eventSeq: 2, notices: [.unread(true), .mentioned(seq: 1, by: Self.al, at: Self.at, notify: true)]),
            StaffDelivery(room: Self.two, eventSeq: 1, notices: [.joined(.direct), .unread(true)]),
            StaffDelivery(room: Self.one, eventSeq: 2, notices: [.unread(false)]),  // a repeat: ignored
            StaffDelivery(room: Self.one, eventSeq: 3, notices: [.mentioned(seq: 2, by: Self.al, at: Self.at, notify: false)]),
        ]
        var oneByOne = StaffState(id: StaffID(unchecked: "bo"))
        var mentions: [Mention] = []
        for delivery in deliveries {
            let (next, events) = try Self.applying(.deliver(room: delivery.room, eventSeq: delivery.eventSeq, notices: delivery.notices), to: oneByOne)
            oneByOne = next
            for case let .roomNoted(_, _, noted, _) in events { mentions += noted }
        }
        let (atOnce, events) = try Self.applying(.deliverAll(deliveries), to: StaffState(id: StaffID(unchecked: "bo")))
        #expect(atOnce == oneByOne)
        #expect(atOnce.rooms[Self.one]?.lastEventSeq == 3 && atOnce.rooms[Self.one]?.unread == true)
        #expect(atOnce.mentionCount == 2)
        // Successive notes of one room merge: r_1 (1, 2), r_2, r_1 (3); every mention kept, in order.
        #expect(events.count == 3)
        var merged: [Mention] = []
        for case let .roomNoted(_, _, noted, _) in events { merged += noted }
        #expect(merged == mentions && merged.map(\.seq) == [1, 2])
        // Delivered again, the whole backlog changes nothing.
        #expect(try atOnce.decide(.deliverAll(deliveries), now: Self.at).isEmpty)
    }
}
