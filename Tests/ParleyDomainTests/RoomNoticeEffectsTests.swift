import ParleyDomain
import Testing

/// A room's notices leave as effects: one `deliver` per (member, event) to the member's
/// staff entity, the event's notices together, in the order computed.
@Suite("Room notices as effects")
struct RoomNoticeEffectsTests {
    @Test func eachMemberOfANewRoomIsToldOnce() throws {
        let al = StaffID(unchecked: "al")
        let bo = StaffID(unchecked: "bo")
        let room = RoomState(id: RoomID(unchecked: "r_1"))
        let profile = RoomProfile(kind: .space, name: "Deals", description: "", visibility: .private, createdBy: al, createdAt: Timestamp(milliseconds: 1))
        let effects = RoomNotices.effects(before: room, events: [.created(profile, members: [al, bo])])
        #expect(effects == [
            .send(StaffCommand.deliver(room: room.id, eventSeq: 1, notices: [.joined(.space)]), to: "al", of: StaffState.self),
            .send(StaffCommand.deliver(room: room.id, eventSeq: 1, notices: [.joined(.space)]), to: "bo", of: StaffState.self),
        ])
        let grouped = RoomNotices.compute(before: room, events: [.created(profile, members: [al, bo])])
        #expect(grouped.count == effects.count)
    }
}
