import Testing

@testable import ParleyDomain

@Suite("Visitors and enquiry rooms")
struct VisitorAndEnquiryRoomTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000)
    let visitorID = VisitorID(unchecked: "v_1")

    func context(_ caller: Caller, _ entity: EntityID) -> DecisionContext { DecisionContext(caller: caller, now: now, entity: entity) }

    func roomCommands(_ effects: [Effect]) -> [RoomCommand] {
        effects.compactMap { effect in
            guard case let .send(to, bytes) = effect, to.kind == .room else { return nil }
            return try? RoomCommand.decode(bytes)
        }
    }

    @Test func aVisitorOpensOneEnquiryAtATimeNumberedInOrder() throws {
        var visitor = VisitorState(id: visitorID)
        var soft = NoSoftState()
        let entity = EntityID(kind: .visitor, key: "v_1")
        let source = EnquirySource(name: "Website", settings: SourceSettings(rule: .alternative([dest("support")]), welcomeMessage: "Hi!"))
        #expect(throws: DomainError.self) { try visitor.decide(.write(text: "hello", source: source, idempotencyKey: nil), soft: &soft, context: context(.visitor("v_1"), entity)) }
        #expect(throws: DomainError.self) {
            try visitor.decide(.create(name: "Ann", email: nil, source: ChannelID(unchecked: "web"), information: RoomInformation(), tokenHash: Array(repeating: 1, count: 32)), soft: &soft, context: context(.visitor("v_1"), entity))
        }
        for event in try visitor.decide(.create(name: " Ann ", email: "ann@example.com", source: ChannelID(unchecked: "web"), information: RoomInformation(), tokenHash: Array(repeating: 1, count: 32)), soft: &soft, context: context(.system, entity)).events {
            visitor.apply(event)
        }
        #expect(visitor.profile?.name == "Ann")
        #expect(throws: DomainError.self) { try visitor.decide(.write(text: "hello", source: source, idempotencyKey: nil), soft: &soft, context: context(.visitor("v_2"), entity)) }
        let opened = try visitor.decide(.write(text: "hello", source: source, idempotencyKey: nil), soft: &soft, context: context(.visitor("v_1"), entity))
        for event in opened.events { visitor.apply(event) }
        #expect(visitor.openEnquiry == EnquiryID(unchecked: "v_1-1"))
        guard case let .send(to, bytes) = opened.effects.first, case let .open(start) = try EnquiryCommand.decode(bytes) else {
            Issue.record("no enquiry opened")
            return
        }
        #expect(to == .enquiry(EnquiryID(unchecked: "v_1-1")) && start.firstMessage == "hello" && start.welcomeMessage == "Hi!" && start.visitorName == "Ann")
        // While it is open, writing again opens nothing: the message goes to it, after its opening.
        let again = try visitor.decide(.write(text: "again", source: source, idempotencyKey: "c:2"), soft: &soft, context: context(.visitor("v_1"), entity))
        #expect(again.events == [.wrote(key: "c:2")])
        #expect(again.effects == [.send(EnquiryCommand.visitorMessage(text: "again", idempotencyKey: "c:2"), to: "v_1-1", of: EnquiryState.self)])
        // Only the enquiry says who served and that it closed; then the next one opens.
        let fromEnquiry = Caller.entity(.enquiry(EnquiryID(unchecked: "v_1-1")))
        #expect(throws: DomainError.self) { try visitor.decide(.enquiryClosed(EnquiryID(unchecked: "v_1-1")), soft: &soft, context: context(.visitor("v_1"), entity)) }
        for command in [VisitorCommand.served(EnquiryID(unchecked: "v_1-1"), by: staff("a")), .enquiryClosed(EnquiryID(unchecked: "v_1-1"))] {
            for event in try visitor.decide(command, soft: &soft, context: context(fromEnquiry, entity)).events { visitor.apply(event) }
        }
        #expect(visitor.openEnquiry == nil && visitor.lastAgent == staff("a") && visitor.draining == [EnquiryID(unchecked: "v_1-1")])
        // Until the closed one answers the drain, a new message is held (older ones may still bounce).
        let held = try visitor.decide(.write(text: "back", source: source, idempotencyKey: nil), soft: &soft, context: context(.visitor("v_1"), entity))
        #expect(held.events == [.held(text: "back", key: nil)])
        #expect(held.effects == [.send(EnquiryCommand.drain, to: "v_1-1", of: EnquiryState.self)], "the drain is asked again")
        for event in held.events { visitor.apply(event) }
        #expect(throws: DomainError.self) { try visitor.decide(.drained(EnquiryID(unchecked: "v_1-1")), soft: &soft, context: context(.visitor("v_1"), entity)) }
        let next = try visitor.decide(.drained(EnquiryID(unchecked: "v_1-1")), soft: &soft, context: context(fromEnquiry, entity))
        guard case let .send(_, nextBytes) = next.effects.first, case let .open(nextStart) = try EnquiryCommand.decode(nextBytes) else {
            Issue.record("no second enquiry")
            return
        }
        #expect(next.events == [.drained(EnquiryID(unchecked: "v_1-1")), .enquiryOpened(EnquiryID(unchecked: "v_1-2"), at: now, source: source)])
        #expect(nextStart.lastAgent == staff("a") && nextStart.firstMessage == "back")
        // A message that reached v_1-1 after it closed bounces back: to the open one, or a new one.
        for event in next.events { visitor.apply(event) }
        let bounced = try visitor.decide(.bounced(text: "late", idempotencyKey: nil, from: EnquiryID(unchecked: "v_1-1")), soft: &soft, context: context(fromEnquiry, entity))
        #expect(bounced.events.isEmpty && bounced.effects == [.send(EnquiryCommand.visitorMessage(text: "late", idempotencyKey: nil), to: "v_1-2", of: EnquiryState.self)])
        #expect(throws: DomainError.self) {
            try visitor.decide(.bounced(text: "x", idempotencyKey: nil, from: EnquiryID(unchecked: "v_1-1")), soft: &soft, context: context(.visitor("v_1"), entity))
        }
        #expect(try VisitorState.decode(visitor.encoded) == visitor)
        for event in next.events + opened.events { #expect(try VisitorEvent.decode(event.encoded) == event) }
        for command in [VisitorCommand.write(text: "x", source: source, idempotencyKey: "k"), .bounced(text: "y", idempotencyKey: nil, from: EnquiryID(unchecked: "e"))] {
            #expect(try VisitorCommand.decode(command.encoded) == command)
        }
    }

    /// A retry of a message that went out is answered, not sent again, even when the enquiry
    /// it went to closed meanwhile (it would open a second one); a bounced message keeps going.
    @Test func aRetriedMessageGoesOutOnceAcrossAClose() throws {
        var visitor = VisitorState(id: visitorID)
        var soft = NoSoftState()
        let entity = EntityID(kind: .visitor, key: "v_1")
        let source = EnquirySource(name: "Website", settings: SourceSettings(rule: .alternative([dest("support")])))
        func run(_ command: VisitorCommand, as caller: Caller = .visitor("v_1")) throws -> Decision<VisitorEvent> {
            let decision = try visitor.decide(command, soft: &soft, context: context(caller, entity))
            for event in decision.events { visitor.apply(event) }
            return decision
        }
        _ = try run(.create(name: "Ann", email: nil, source: ChannelID(unchecked: "web"), information: RoomInformation(), tokenHash: Array(repeating: 1, count: 32)), as: .system)
        let first = try run(.write(text: "hello", source: source, idempotencyKey: "c:1"))
        #expect(first.effects.count == 1 && visitor.recentKeys == ["c:1"])
        let close = try run(.enquiryClosed(EnquiryID(unchecked: "v_1-1")), as: .entity(.enquiry(EnquiryID(unchecked: "v_1-1"))))
        #expect(close.effects == [.send(EnquiryCommand.drain, to: "v_1-1", of: EnquiryState.self)])
        let retry = try run(.write(text: "hello", source: source, idempotencyKey: "c:1"))
        #expect(retry.events.isEmpty && retry.effects.isEmpty && visitor.openEnquiry == nil)
        let closed = Caller.entity(.enquiry(EnquiryID(unchecked: "v_1-1")))
        // Written after the close, before the drain: held; the bounce is older and goes first.
        let newer = try run(.write(text: "newer", source: source, idempotencyKey: "c:n"))
        #expect(newer.effects.count == 1 && visitor.held == [HeldMessage(text: "newer", key: "c:n")])
        #expect(try VisitorState.decode(visitor.encoded) == visitor)
        let bounced = try run(.bounced(text: "late", idempotencyKey: "c:1", from: EnquiryID(unchecked: "v_1-1")), as: closed)
        #expect(bounced.effects.count == 1 && visitor.openEnquiry == EnquiryID(unchecked: "v_1-2"))
        let drained = try run(.drained(EnquiryID(unchecked: "v_1-1")), as: closed)
        #expect(drained.effects == [.send(EnquiryCommand.visitorMessage(text: "newer", idempotencyKey: "c:n"), to: "v_1-2", of: EnquiryState.self)])
        #expect(visitor.draining.isEmpty && visitor.held.isEmpty)
        for number in 2...(VisitorState.rememberedKeys + 5) { _ = try run(.write(text: "m", source: source, idempotencyKey: "c:\(number)")) }
        #expect(visitor.recentKeys.count == VisitorState.rememberedKeys && visitor.recentKeys.first == "c:6")
        #expect(try VisitorState.decode(visitor.encoded) == visitor)
        for event in [VisitorEvent.wrote(key: "c:9"), .held(text: "t", key: nil), .drained(EnquiryID(unchecked: "v_1-1"))] { #expect(try VisitorEvent.decode(event.encoded) == event) }
        #expect(try VisitorCommand.decode(VisitorCommand.drained(EnquiryID(unchecked: "e")).encoded) == .drained(EnquiryID(unchecked: "e")))
        #expect(try EnquiryCommand.decode(EnquiryCommand.drain.encoded) == .drain)
    }

    /// A close replayed from before drains existed starts none (nothing would answer it), and
    /// when the enquiry a bounce opened closes too, what is held waits for both drains.
    @Test func heldMessagesWaitForEveryDrainAndOldClosesHoldNothing() throws {
        var visitor = VisitorState(id: visitorID)
        var soft = NoSoftState()
        let entity = EntityID(kind: .visitor, key: "v_1")
        let source = EnquirySource(name: "Website", settings: SourceSettings(rule: .alternative([dest("support")])))
        let (first, second) = (EnquiryID(unchecked: "v_1-1"), EnquiryID(unchecked: "v_1-2"))
        for event in [
            VisitorEvent.created(VisitorProfile(source: ChannelID(unchecked: "web"), name: "Ann", createdAt: now), tokenHash: Array(repeating: 1, count: 32)),
            .enquiryOpened(first, at: now, source: source), .enquiryClosed(first, at: now),
        ] { visitor.apply(event) }
        #expect(visitor.draining.isEmpty && visitor.openEnquiry == nil)
        func run(_ command: VisitorCommand, as caller: Caller = .visitor("v_1")) throws -> Decision<VisitorEvent> {
            let decision = try visitor.decide(command, soft: &soft, context: context(caller, entity))
            for event in decision.events { visitor.apply(event) }
            return decision
        }
        let opened = try run(.write(text: "again", source: source, idempotencyKey: nil))
        #expect(opened.events.first == .enquiryOpened(second, at: now, source: source), "nothing held after an old close")
        // The second closes; a bounce from it opens the third, which closes before the second's drain answers.
        _ = try run(.enquiryClosed(second), as: .entity(.enquiry(second)))
        let third = EnquiryID(unchecked: "v_1-3")
        _ = try run(.bounced(text: "b", idempotencyKey: nil, from: second), as: .entity(.enquiry(second)))
        #expect(visitor.openEnquiry == third)
        _ = try run(.write(text: "held", source: source, idempotencyKey: nil))
        _ = try run(.enquiryClosed(third), as: .entity(.enquiry(third)))
        #expect(visitor.draining == [second, third] && visitor.held.count == 1)
        let one = try run(.drained(third), as: .entity(.enquiry(third)))
        #expect(one.effects.isEmpty && visitor.held.count == 1, "the second may still bounce older messages")
        let both = try run(.drained(second), as: .entity(.enquiry(second)))
        guard case let .send(to, bytes) = both.effects.first, case let .open(start) = try EnquiryCommand.decode(bytes) else {
            Issue.record("the held message opened nothing")
            return
        }
        #expect(to == .enquiry(EnquiryID(unchecked: "v_1-4")) && start.firstMessage == "held" && visitor.held.isEmpty)
        #expect(try VisitorEvent.decode(VisitorEvent.drainStarted(second).encoded) == .drainStarted(second))
    }

    @Test func theEnquiryRoomOpensWithTheVisitorAndTheOwnerJoinsOnAccept() throws {
        var facts = GivenFacts()
        facts.add("support", members: ["a", "b"])
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "v_1-1"))
        let start = EnquiryStart(
            source: ChannelID(unchecked: "web"), sourceName: "Website", visitor: visitorID, visitorName: "Ann", firstMessage: "hello", rule: .alternative([dest("support")]),
            welcomeMessage: "Welcome!", awayMessage: "Back soon")
        let entity = EntityID.enquiry(enquiry.id)
        let opened = try enquiry.decide(.open(start), facts: facts, context: context(.visitor("v_1"), entity))
        for event in opened.events { enquiry.apply(event) }
        let commands = roomCommands(opened.effects)
        #expect(commands.count == 3)
        if case let .openEnquiry(opening) = commands.first { #expect(opening.staff == [visitorID.member]) } else { Issue.record("no room") }
        #expect(commands.dropFirst().map { command -> String in if case let .post(post) = command { "\(post.author):\(post.text)" } else { "" } } == ["visitor:v_1:hello", "parley:notice:Welcome!"])
        // Accepting joins the owner to the room and tells the visitor entity.
        let accepted = try enquiry.decide(.accept(staff("a")), facts: facts, context: context(.staff(staff("a"), role: .agent), entity))
        for event in accepted.events { enquiry.apply(event) }
        #expect(roomCommands(accepted.effects) == [.setEnquiryOwner(staff("a"), replacing: nil)])
        #expect(accepted.effects.contains(.send(VisitorCommand.served(enquiry.id, by: staff("a")), to: "v_1", of: VisitorState.self)))
        // The visitor writes: into the room, as themselves; not as another visitor.
        let wrote = try enquiry.decide(.visitorMessage(text: "more", idempotencyKey: "c:1"), facts: facts, context: context(.visitor("v_1"), entity))
        #expect(roomCommands(wrote.effects) == [.post(MessagePost(author: visitorID.member, text: "more", idempotencyKey: "c:1"))])
        #expect(throws: DomainError.self) { try enquiry.decide(.visitorMessage(text: "x", idempotencyKey: nil), facts: facts, context: context(.visitor("v_2"), entity)) }
        let closed = try enquiry.decide(.close(by: staff("a")), facts: facts, context: context(.staff(staff("a"), role: .agent), entity))
        for event in closed.events { enquiry.apply(event) }
        #expect(closed.effects.contains(.send(VisitorCommand.enquiryClosed(enquiry.id), to: "v_1", of: VisitorState.self)))
        #expect(throws: DomainError(.enquiryClosed, "enquiry v_1-1 is closed")) {
            try enquiry.decide(.visitorMessage(text: "x", idempotencyKey: nil), facts: facts, context: context(.visitor("v_1"), entity))
        }
        // From the visitor entity (which had not learnt of the close), it bounces back.
        let late = try enquiry.decide(.visitorMessage(text: "late", idempotencyKey: nil), facts: facts, context: context(.entity(EntityID(kind: .visitor, key: "v_1")), entity))
        #expect(late.effects == [.send(VisitorCommand.bounced(text: "late", idempotencyKey: nil, from: enquiry.id), to: "v_1", of: VisitorState.self)])
        // The visitor entity's drain is answered after the bounces (only it may ask).
        let drain = try enquiry.decide(.drain, facts: facts, context: context(.entity(EntityID(kind: .visitor, key: "v_1")), entity))
        #expect(drain.events.isEmpty && drain.effects == [.send(VisitorCommand.drained(enquiry.id), to: "v_1", of: VisitorState.self)])
        #expect(throws: DomainError.self) { try enquiry.decide(.drain, facts: facts, context: context(.visitor("v_1"), entity)) }
    }

    @Test func theAwayMessageGoesOnceWhenNobodyCanTakeIt() throws {
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "v_1-1"))
        let start = EnquiryStart(
            source: ChannelID(unchecked: "web"), sourceName: "Website", visitor: visitorID, visitorName: "Ann", firstMessage: "hello", rule: .alternative([dest("support")]),
            awayMessage: "Back soon")
        let entity = EntityID.enquiry(enquiry.id)
        let opened = try enquiry.decide(.open(start), facts: GivenFacts(), context: context(.visitor("v_1"), entity))
        for event in opened.events { enquiry.apply(event) }
        #expect(roomCommands(opened.effects).filter { if case let .post(post) = $0 { post.author == .notices } else { false } }.count == 1)
        let retry = try enquiry.decide(.route, facts: GivenFacts(), context: context(.system, entity))
        #expect(roomCommands(retry.effects).isEmpty)
    }

    @Test func visitorsPostAndReadOnlyInTheirOwnEnquiryRoom() throws {
        var room = RoomState(id: RoomID(unchecked: "v_1-1"))
        var noSoft = NoSoftState()
        let entity = EntityID.room(room.id)
        let internalCaller = Caller.entity(.enquiry(EnquiryID(unchecked: "v_1-1")))
        let open = RoomCommand.openEnquiry(EnquiryOpening(title: "Ann", staff: [visitorID.member], information: RoomInformation()))
        for event in try room.decide(open, soft: &noSoft, context: context(internalCaller, entity)).events { room.apply(event) }
        let post = RoomCommand.post(MessagePost(author: visitorID.member, text: "hi"))
        #expect(throws: Never.self) { try room.decide(post, soft: &noSoft, context: context(.visitor("v_1"), entity)) }
        #expect(throws: DomainError.self) { try room.decide(post, soft: &noSoft, context: context(.visitor("v_2"), entity)) }
        #expect(throws: DomainError.self) {
            try room.decide(.post(MessagePost(author: staff("a"), text: "hi")), soft: &noSoft, context: context(.visitor("v_1"), entity))
        }
        #expect(throws: DomainError.self) { try room.decide(.setEnquiryOwner(staff("x"), replacing: nil), soft: &noSoft, context: context(.visitor("v_1"), entity)) }
        #expect(throws: Never.self) { try room.authorizeRead(by: .visitor("v_1")) }
        #expect(throws: DomainError.self) { try room.authorizeRead(by: .visitor("v_2")) }
        // The node's notices need no membership; a staff member cannot write them.
        #expect(throws: Never.self) { try room.decide(.post(MessagePost(author: .notices, text: "Welcome")), soft: &noSoft, context: context(internalCaller, entity)) }
        #expect(throws: DomainError.self) {
            try room.decide(.post(MessagePost(author: .notices, text: "x")), soft: &noSoft, context: context(.staff(staff("a"), role: .admin), entity))
        }
        // The owner joins (seeing the visitor's messages unread) and a transfer replaces them.
        let joined = try room.decide(.setEnquiryOwner(staff("a"), replacing: nil), soft: &noSoft, context: context(internalCaller, entity))
        for event in joined.events { room.apply(event) }
        #expect(room.members[staff("a")] != nil)
        // Notices go to staff only, never to the visitor's pseudo-member.
        let visitorPost = try room.decide(post, soft: &noSoft, context: context(.visitor("v_1"), entity))
        #expect(visitorPost.effects.allSatisfy { if case let .send(to, _) = $0 { to.key == "a" } else { true } })
        for event in try room.decide(.setEnquiryOwner(staff("b"), replacing: staff("a")), soft: &noSoft, context: context(internalCaller, entity)).events { room.apply(event) }
        #expect(room.members[staff("a")] == nil && room.members[staff("b")] != nil)
        #expect(try RoomCommand.decode(RoomCommand.setEnquiryOwner(staff("b"), replacing: staff("a")).encoded) == .setEnquiryOwner(staff("b"), replacing: staff("a")))
        #expect(visitorID.member.visitor == visitorID && !visitorID.member.isStaff && StaffID.notices.senderKind == "system" && staff("a").senderKind == "staff")
    }
}

@Suite("UTM names")
struct UTMNameTests {
    /// Names are read as scalars, as the API's schema reads them: "utm_" and an emoji
    /// modifier is one Character but five scalars, and a valid name.
    @Test func aModifierAfterTheUnderscoreStillNamesAParameter() {
        #expect(throws: Never.self) { try RoomInformation(utm: [RoomInformation.Field(name: "utm_\u{1F3FB}", value: "")]).validate() }
        #expect(throws: DomainError.self) { try RoomInformation(utm: [RoomInformation.Field(name: "utm_", value: "")]).validate() }
    }
}
