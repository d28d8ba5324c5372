import ParleyCluster
import ParleyDomain
import Testing

@testable import ParleyRuntime

@Suite("Live interest table")
struct LiveInterestTableTests {
    let nodeB = NodeID("node-b")!
    let nodeC = NodeID("node-c")!
    let room = RoomID(unchecked: "r_1")
    let bo = StaffID(unchecked: "bo")
    let start = ContinuousClock.now

    @Test func fullThenDeltasThenExpiry() {
        var table = LiveInterestTable(lifetime: .seconds(5))
        #expect(table.apply(.full(LiveInterest(rooms: [room], staff: [bo: 2])), from: nodeB, boot: 1, now: start) == .accepted)
        #expect(table.nodes(following: room, now: start) == [nodeB])
        #expect(table.sessions(of: bo, now: start) == [nodeB: 2])
        let other = RoomID(unchecked: "r_2")
        #expect(table.apply(.update(addRooms: [other], removeRooms: [room], staff: [bo: 0]), from: nodeB, boot: 1, now: start + .seconds(1)) == .accepted)
        #expect(table.nodes(following: room, now: start + .seconds(1)).isEmpty)
        #expect(table.nodes(following: other, now: start + .seconds(1)) == [nodeB])
        #expect(table.sessions(of: bo, now: start + .seconds(1)).isEmpty)
        // Renewed at 4 s, so still live at 8 s; not renewed after, gone past 9 s.
        #expect(table.apply(.renew, from: nodeB, boot: 1, now: start + .seconds(4)) == .accepted)
        #expect(table.nodes(following: other, now: start + .seconds(8)) == [nodeB])
        #expect(table.nodes(following: other, now: start + .milliseconds(9_001)).isEmpty)
        #expect(table.expire(now: start + .milliseconds(9_001)) == [nodeB])
        // Forgotten: a renewal or a delta is answered with "send everything".
        #expect(table.apply(.renew, from: nodeB, boot: 1, now: start + .seconds(10)) == .needFull)
    }

    @Test func aRestartedSenderStartsAfresh() {
        var table = LiveInterestTable(lifetime: .seconds(5))
        _ = table.apply(.full(LiveInterest(rooms: [room], staff: [bo: 1])), from: nodeB, boot: 1, now: start)
        _ = table.apply(.full(LiveInterest(rooms: [room])), from: nodeC, boot: 7, now: start)
        // node-b restarted (new boot): its old interest is dropped until it sends all again.
        #expect(table.apply(.update(addRooms: [], removeRooms: [], staff: [bo: 1]), from: nodeB, boot: 2, now: start) == .needFull)
        #expect(table.nodes(following: room, now: start) == [nodeC])
        #expect(table.sessions(of: bo, now: start).isEmpty)
        #expect(table.apply(.full(LiveInterest(staff: [bo: 3])), from: nodeB, boot: 2, now: start) == .accepted)
        #expect(table.sessions(of: bo, now: start) == [nodeB: 3])
    }

    @Test func deltasCarryOnlyWhatChanged() {
        let sent = LiveInterest(rooms: [room, RoomID(unchecked: "r_2")], staff: [bo: 1, StaffID(unchecked: "al"): 2])
        #expect(sent.update(from: sent) == .renew)
        let now = LiveInterest(rooms: [room, RoomID(unchecked: "r_3")], staff: [bo: 2])
        #expect(now.update(from: sent) == .update(
            addRooms: [RoomID(unchecked: "r_3")], removeRooms: [RoomID(unchecked: "r_2")], staff: [bo: 2, StaffID(unchecked: "al"): 0]))
    }

    @Test func interestAndDeliveriesRoundTrip() throws {
        for message in [InterestMessage.full(LiveInterest(rooms: [room], staff: [bo: 2])), .update(addRooms: [room], removeRooms: [], staff: [bo: 0]), .renew] {
            let decoded = try LiveRelayCodec.decodeInterest(LiveRelayCodec.encode(message, boot: 42))
            #expect(decoded.message == message && decoded.boot == 42)
        }
        #expect(try LiveRelayCodec.decodeAnswer(LiveRelayCodec.encode(InterestAnswer.needFull)) == .needFull)
        let audience = RoomState(id: room, profile: nil, members: [bo: MemberState(readSeq: 2, mute: .mentionsOnly, joinedAt: Timestamp(milliseconds: 5))], lastSeq: 3, lastEventSeq: 4)
        let entries = [JournalEntry(room: room, eventSeq: 4, event: .readPointerMoved(bo, seq: 3))]
        let update = StaffUpdate(
            staff: bo, unreadRooms: 1, rooms: [(room, StaffRoomEntry(kind: .space, isMember: true, unread: true, lastEventSeq: 4))],
            mentions: [Mention(room: room, seq: 3, by: bo, at: Timestamp(milliseconds: 9), notify: false)])
        let frame = LiveRelayCodec.frame([LiveRelayCodec.encode(.room(entries, audience: audience)), LiveRelayCodec.encode(.staff(update))])
        let deliveries = try LiveRelayCodec.decodeDeliveries(frame)
        guard deliveries.count == 2, case let .room(gotEntries, gotAudience) = deliveries[0], case let .staff(gotUpdate) = deliveries[1] else {
            Issue.record("wrong deliveries: \(deliveries)")
            return
        }
        #expect(gotEntries == entries && gotAudience == audience)
        #expect(gotUpdate.unreadRooms == 1 && gotUpdate.rooms.map(\.0) == [room] && gotUpdate.mentions == update.mentions)
        #expect(throws: DecodingError.self) { try LiveRelayCodec.decodeDeliveries(Array(frame.dropLast())) }
    }
}
