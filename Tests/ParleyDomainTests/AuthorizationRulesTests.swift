import ParleyDomain
import Testing

/// Who may do what, decided by the rules (the gateway only says who is calling).
@Suite("Authorization rules")
struct AuthorizationRulesTests {
    static let now = Timestamp(milliseconds: 1_700_000_000_000)
    static let bo = StaffID(unchecked: "bo")
    static let cy = StaffID(unchecked: "cy")
    static let hash = [UInt8](repeating: 7, count: 32)

    static func context(_ caller: Caller, _ entity: EntityID) -> DecisionContext { DecisionContext(caller: caller, now: now, entity: entity) }

    static func staff(_ id: StaffID) -> StaffState {
        var state = StaffState(id: id)
        for event in try! state.decide(.create(displayName: "Bo", role: .agent, tokenHash: hash), now: now) { state.apply(event) }
        return state
    }

    static func refusal(_ body: () throws(DomainError) -> Void) -> DomainError.Code? {
        do {
            try body()
            return nil
        } catch {
            return error.code
        }
    }

    @Test func onlyAdminsCreateAccountsAndTheAccountIsListed() throws {
        var soft = NoSoftState()
        let fresh = StaffState(id: Self.bo)
        let create = StaffCommand.create(displayName: "Bo", role: .agent, tokenHash: Self.hash)
        for caller in [Caller.staff(Self.cy, role: .agent), .visitor("v_1"), .channel(ChannelID(unchecked: "ch_1")), .entity(.staff(Self.cy))] {
            #expect(Self.refusal { () throws(DomainError) in _ = try fresh.decide(create, soft: &soft, context: Self.context(caller, .staff(Self.bo))) } == .forbidden)
        }
        let decision = try fresh.decide(create, soft: &soft, context: Self.context(.staff(Self.cy, role: .admin), .staff(Self.bo)))
        #expect(decision.events.count == 1)
        guard case let .send(target, command)? = decision.effects.first else { Issue.record("no listing effect"); return }
        #expect(target == EntityID(kind: .index, key: IndexState.staff))
        guard case let .put(member, _) = try IndexCommand.decode(command) else { Issue.record("not a put"); return }
        #expect(member == "bo")
    }

    @Test func tokensShortcutsAndNotices() {
        var soft = NoSoftState()
        let bo = Self.staff(Self.bo)
        let rotate = StaffCommand.rotateToken(tokenHash: Self.hash)
        #expect(Self.refusal { () throws(DomainError) in _ = try bo.decide(rotate, soft: &soft, context: Self.context(.staff(Self.bo, role: .agent), .staff(Self.bo))) } == nil)
        #expect(Self.refusal { () throws(DomainError) in _ = try bo.decide(rotate, soft: &soft, context: Self.context(.staff(Self.cy, role: .agent), .staff(Self.bo))) } == .forbidden)
        #expect(Self.refusal { () throws(DomainError) in _ = try bo.decide(rotate, soft: &soft, context: Self.context(.staff(Self.cy, role: .admin), .staff(Self.bo))) } == nil)
        let shortcut = StaffCommand.setShortcut(Shortcut(code: "hi", kind: .text, title: "", value: "Hello"))
        #expect(Self.refusal { () throws(DomainError) in _ = try bo.decide(shortcut, soft: &soft, context: Self.context(.staff(Self.cy, role: .admin), .staff(Self.bo))) } == .forbidden)
        #expect(Self.refusal { () throws(DomainError) in _ = try bo.decide(shortcut, soft: &soft, context: Self.context(.staff(Self.bo, role: .agent), .staff(Self.bo))) } == nil)
        let notices = StaffCommand.deliver(room: RoomID(unchecked: "r_1"), eventSeq: 1, notices: [.unread(true)])
        #expect(Self.refusal { () throws(DomainError) in _ = try bo.decide(notices, soft: &soft, context: Self.context(.staff(Self.bo, role: .admin), .staff(Self.bo))) } == .forbidden)
        #expect(Self.refusal { () throws(DomainError) in _ = try bo.decide(notices, soft: &soft, context: Self.context(.entity(.room(RoomID(unchecked: "r_1"))), .staff(Self.bo))) } == nil)
    }

    @Test func aStaffCallerActsInARoomOnlyAsItselfAndMembersReadIt() throws {
        var soft = NoSoftState()
        let room = RoomID(unchecked: "r_1")
        var state = RoomState(id: room)
        let create = RoomCommand.create(RoomCreation(kind: .space, name: "Team", members: [Self.cy], creator: Self.bo))
        let created = try state.decide(create, soft: &soft, context: Self.context(.staff(Self.bo, role: .agent), .room(room)))
        for event in created.events { state.apply(event) }
        // The events owe both members a notice: effects to their staff entities.
        #expect(Set(created.effects.compactMap { effect -> String? in
            guard case let .send(target, _) = effect else { return nil }
            return target.kind == .staff ? target.key : nil
        }) == ["bo", "cy"])
        let post = RoomCommand.post(MessagePost(author: Self.bo, text: "hi"))
        let asBo = Self.context(.staff(Self.bo, role: .agent), .room(room))
        #expect(Self.refusal { () throws(DomainError) in _ = try state.decide(post, soft: &soft, context: asBo) } == nil)
        for caller in [Caller.staff(Self.cy, role: .admin), .visitor("v_1"), .channel(ChannelID(unchecked: "ch_1"))] {
            #expect(Self.refusal { () throws(DomainError) in _ = try state.decide(post, soft: &soft, context: Self.context(caller, .room(room))) } == .forbidden)
        }
        // The node may act for anyone (link previews, enquiry routing); the rules still apply.
        #expect(Self.refusal { () throws(DomainError) in _ = try state.decide(post, soft: &soft, context: Self.context(.system, .room(room))) } == nil)
        let stranger = RoomCommand.post(MessagePost(author: StaffID(unchecked: "eve"), text: "hi"))
        #expect(Self.refusal { () throws(DomainError) in _ = try state.decide(stranger, soft: &soft, context: Self.context(.system, .room(room))) } == .notAMember)
        #expect(Self.refusal { () throws(DomainError) in try state.authorizeRead(by: .staff(Self.cy, role: .agent)) } == nil)
        #expect(Self.refusal { () throws(DomainError) in try state.authorizeRead(by: .staff(StaffID(unchecked: "eve"), role: .admin)) } == .notAMember)
        #expect(Self.refusal { () throws(DomainError) in try RoomState(id: RoomID(unchecked: "r_2")).authorizeRead(by: .staff(Self.bo, role: .agent)) } == .roomNotFound)
    }

    @Test func adminsManageChannelsAndEveryChangeIsListed() throws {
        var soft = NoSoftState()
        let id = ChannelID(unchecked: "ch_1")
        let channel = ChannelState(id: id)
        let create = ChannelCommand.create(name: "Site", kind: .weblink, webLink: nil, phoneNumber: nil)
        #expect(Self.refusal { () throws(DomainError) in _ = try channel.decide(create, soft: &soft, context: Self.context(.staff(Self.bo, role: .agent), .channel(id))) } == .forbidden)
        let decision = try channel.decide(create, soft: &soft, context: Self.context(.staff(Self.bo, role: .admin), .channel(id)))
        var after = channel
        for event in decision.events { after.apply(event) }
        #expect(decision.effects == [.send(IndexCommand.put(member: "ch_1", summary: after.encoded), to: IndexState.channels, of: IndexState.self)])
        // Nothing changed, nothing listed.
        let same = try after.decide(.update(name: "Site", webLink: nil, phoneNumber: nil), soft: &soft, context: Self.context(.system, .channel(id)))
        #expect(same.isEmpty)
    }

    @Test func onlyEntitiesAndTheNodeChangeAnIndex() throws {
        var soft = NoSoftState()
        let index = IndexState(name: IndexState.channels)
        let put = IndexCommand.put(member: "ch_1", summary: [1, 2])
        #expect(Self.refusal { () throws(DomainError) in _ = try index.decide(put, soft: &soft, context: Self.context(.staff(Self.bo, role: .admin), .channel(ChannelID(unchecked: "x")))) } == .forbidden)
        var state = index
        for event in try index.decide(put, soft: &soft, context: Self.context(.entity(.channel(ChannelID(unchecked: "ch_1"))), .channel(ChannelID(unchecked: "x")))).events {
            state.apply(event)
        }
        #expect(state.entries == ["ch_1": [1, 2]])
        #expect(try state.decide(put, soft: &soft, context: Self.context(.system, .channel(ChannelID(unchecked: "x")))).isEmpty)
        #expect(try IndexState.decode(state.encoded) == state)
        #expect(Self.refusal { () throws(DomainError) in _ = try state.decide(.put(member: "", summary: []), soft: &soft, context: Self.context(.system, .channel(ChannelID(unchecked: "x")))) } == .invalidArgument)
    }

    @Test func callersAndAddressesRoundTrip() throws {
        let callers: [Caller] = [
            .staff(Self.bo, role: .admin), .visitor("v_9"), .channel(ChannelID(unchecked: "ch_2")), .entity(EntityID(kind: .index, key: "channels")), .system,
        ]
        for caller in callers { #expect(try Caller.decode(caller.encoded) == caller) }
        #expect(throws: DecodingError.self) { try Caller.decode([9]) }
        #expect(throws: DecodingError.self) { try EntityID.decode([0, 1, 0x61, 1, 0x62]) }
    }
}
