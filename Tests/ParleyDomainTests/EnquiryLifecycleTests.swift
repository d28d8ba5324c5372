import Testing

@testable import ParleyDomain

@Suite("Enquiry lifecycle")
struct EnquiryLifecycleTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000)
    let visitor = Caller.visitor("v_1")

    func start(_ rule: RoutingRule?, lastAgent: StaffID? = nil) -> EnquiryStart {
        EnquiryStart(
            source: ChannelID(unchecked: "web"), sourceName: "Website", visitor: VisitorID(unchecked: "v_1"), visitorName: "Ann", firstMessage: "Hello, is anyone there?",
            rule: rule, lastAgent: lastAgent)
    }

    func context(_ caller: Caller, at offset: Int64 = 0) -> DecisionContext {
        DecisionContext(caller: caller, now: now.adding(milliseconds: offset), entity: .enquiry(EnquiryID(unchecked: "enq_1")))
    }

    /// Decides and applies; returns the decision.
    @discardableResult
    func run(_ state: inout EnquiryState, _ command: EnquiryCommand, by caller: Caller, facts: GivenFacts, at offset: Int64 = 0) throws -> Decision<EnquiryEvent> {
        let decision = try state.decide(command, facts: facts, context: context(caller, at: offset))
        for event in decision.events { state.apply(event) }
        return decision
    }

    func agent(_ raw: String) -> Caller { .staff(staff(raw), role: .agent) }

    /// What staff are told softly of offers (one delivery per decision), per staff member.
    func notices(_ decision: Decision<EnquiryEvent>) -> [String: [EnquiryNotice]] {
        var result: [String: [EnquiryNotice]] = [:]
        for case let .deliver(sink, payload) in decision.effects where sink == EnquiryState.noticeSink {
            for addressed in (try? EnquiryNotices.decode(payload))?.notices ?? [] { result[addressed.staff.rawValue, default: []].append(addressed.notice) }
        }
        #expect(decision.effects.filter { if case let .deliver(sink, _) = $0 { sink == EnquiryState.noticeSink } else { false } }.count <= 1, "one delivery a decision")
        return result
    }

    /// What staff members' own entities are told (what they hold: assigned, released).
    func held(_ decision: Decision<EnquiryEvent>) -> [String: [EnquiryNotice]] {
        var result: [String: [EnquiryNotice]] = [:]
        for case let .send(to, command) in decision.effects where to.kind == .staff {
            if case let .noteEnquiry(notice) = try? StaffCommand.decode(command) { result[to.key, default: []].append(notice) }
        }
        return result
    }

    func supportFacts() -> GivenFacts {
        var facts = GivenFacts()
        facts.add("support", members: ["a", "b", "c"])
        facts.add("backup", members: ["z"])
        return facts
    }

    @Test func openOffersEveryOfferableMemberAtOnceAndTheFirstAcceptWins() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        let opened = try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        #expect(enquiry.status == .offered && enquiry.offer?.staff == [staff("a"), staff("b"), staff("c")])
        #expect(Set(notices(opened).keys) == ["a", "b", "c"])
        #expect(opened.effects.contains(.setTimer(tag: EnquiryState.offerTimer, at: now.adding(milliseconds: 60_000))))

        let accepted = try run(&enquiry, .accept(staff("b")), by: agent("b"), facts: facts, at: 1_000)
        #expect(enquiry.status == .accepted && enquiry.owner == staff("b") && enquiry.offer == nil)
        let told = notices(accepted)
        #expect(told["a"] == [.offerEnded(enquiry.id, .taken)] && told["c"] == [.offerEnded(enquiry.id, .taken)] && told["b"] == [.assigned(enquiry.id)])
        #expect(held(accepted) == ["b": [.assigned(enquiry.id)]] && held(opened).isEmpty, "offers are soft; what one holds is durable")
        #expect(accepted.effects.contains(.cancelTimer(tag: EnquiryState.offerTimer)))
        #expect(accepted.effects.contains { if case let .send(to, _) = $0 { to == .room(enquiry.room) } else { false } })
        // Everyone after the first is refused with a stable code, the winner's retry is a no-op.
        #expect(throws: DomainError(.enquiryTaken, "enquiry enq_1 was accepted by another staff member")) {
            try run(&enquiry, .accept(staff("a")), by: agent("a"), facts: facts)
        }
        #expect(try run(&enquiry, .accept(staff("b")), by: agent("b"), facts: facts).isEmpty)
        #expect(enquiry.owner == staff("b"))
    }

    @Test func onlyTheStaffMemberThemselvesAcceptsAndOnlyWhatIsOfferedToThem() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        #expect(throws: DomainError.self) { try run(&enquiry, .accept(staff("a")), by: agent("b"), facts: facts) }
        #expect(throws: DomainError(.enquiryNotOffered, "enquiry enq_1 is not offered to z")) { try run(&enquiry, .accept(staff("z")), by: agent("z"), facts: facts) }
        // A visitor opens only their own enquiry.
        var other = EnquiryState(id: EnquiryID(unchecked: "enq_2"))
        #expect(throws: DomainError.self) { try run(&other, .open(start(nil)), by: .visitor("v_2"), facts: facts) }
        #expect(throws: DomainError.self) { try run(&other, .route, by: agent("a"), facts: facts) }
    }

    @Test func nobodyOfferableQueuesWithOneAwayMessageUntilSomeoneIs() throws {
        var facts = supportFacts()
        facts.statuses = [:]
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        let opened = try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        #expect(enquiry.status == .queued && enquiry.queueDestination == dest("support") && enquiry.awaySent)
        #expect(opened.events.filter { if case .awaySent = $0 { true } else { false } }.count == 1)
        #expect(opened.effects.contains(.setTimer(tag: EnquiryState.routeTimer, at: now.adding(milliseconds: EnquiryState.queueRetryMilliseconds))))
        #expect(opened.effects.contains { if case let .send(to, _) = $0 { to.key == "queue.support" } else { false } })
        // A retry with still nobody: no new events, the timer set again, no second away message.
        let retry = try run(&enquiry, .route, by: .system, facts: facts, at: 5_000)
        #expect(retry.events.isEmpty && retry.effects == [.setTimer(tag: EnquiryState.routeTimer, at: now.adding(milliseconds: 10_000))])
        // Someone becomes offerable: offered, out of the queue.
        facts.statuses[staff("c")] = GivenFacts.ready
        let offered = try run(&enquiry, .route, by: .system, facts: facts, at: 6_000)
        #expect(enquiry.status == .offered && enquiry.offer?.staff == [staff("c")] && enquiry.queuedAt == nil)
        #expect(offered.effects.contains(.send(IndexCommand.remove(member: "enq_1"), to: "queue.support", of: IndexState.self)))
        #expect(offered.effects.contains(.cancelTimer(tag: EnquiryState.routeTimer)))
    }

    @Test func aMemberOfTheQueuesDestinationMayPickItUp() throws {
        var facts = supportFacts()
        facts.statuses = [:]
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        #expect(throws: DomainError.self) { try run(&enquiry, .accept(staff("z")), by: agent("z"), facts: facts) }
        let picked = try run(&enquiry, .accept(staff("a")), by: agent("a"), facts: facts)
        #expect(enquiry.owner == staff("a") && enquiry.status == .accepted)
        #expect(picked.effects.contains(.send(IndexCommand.remove(member: "enq_1"), to: "queue.support", of: IndexState.self)))
    }

    @Test func aLapsedOfferMovesToTheNextAlternativeAndCountsAsMissed() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.alternative([dest("support"), dest("backup")]))), by: visitor, facts: facts)
        let lapsed = try run(&enquiry, .offerTimedOut, by: .system, facts: facts, at: 60_000)
        #expect(enquiry.missed == 1 && enquiry.offer?.destination == dest("backup") && enquiry.offer?.staff == [staff("z")] && enquiry.round == 2)
        #expect(notices(lapsed)["a"] == [.offerEnded(enquiry.id, .lapsed)])
        // The backup lapses too: nobody else, so it is offered again from the start.
        try run(&enquiry, .offerTimedOut, by: .system, facts: facts, at: 120_000)
        #expect(enquiry.missed == 2 && enquiry.offer?.destination == dest("support") && enquiry.round == 3)
        // A stale timer (the offer already taken) changes nothing.
        try run(&enquiry, .accept(staff("a")), by: agent("a"), facts: facts, at: 121_000)
        #expect(try run(&enquiry, .offerTimedOut, by: .system, facts: facts, at: 180_000).isEmpty)
    }

    @Test func declinesPassItOnAndWhenAllDeclineItWaits() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        try run(&enquiry, .decline(staff("a")), by: agent("a"), facts: facts)
        #expect(enquiry.offer?.staff == [staff("b"), staff("c")] && enquiry.status == .offered)
        #expect(throws: DomainError.self) { try run(&enquiry, .decline(staff("a")), by: agent("a"), facts: facts) }
        try run(&enquiry, .decline(staff("b")), by: agent("b"), facts: facts)
        try run(&enquiry, .decline(staff("c")), by: agent("c"), facts: facts)
        #expect(enquiry.status == .queued && enquiry.queueDestination == dest("support"))
    }

    @Test func transferKeepsOneOwnerUntilTheTargetAccepts() throws {
        var facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        try run(&enquiry, .accept(staff("a")), by: agent("a"), facts: facts)
        #expect(throws: DomainError(.notTheOwner, "only the owner or an admin transfers enquiry enq_1")) {
            try run(&enquiry, .transfer(.staff(staff("c")), by: staff("b")), by: agent("b"), facts: facts)
        }
        facts.statuses[staff("c")]?.availability = .away
        #expect(throws: DomainError.self) { try run(&enquiry, .transfer(.staff(staff("c")), by: staff("a")), by: agent("a"), facts: facts) }
        let offered = try run(&enquiry, .transfer(.staff(staff("b")), by: staff("a")), by: agent("a"), facts: facts)
        #expect(enquiry.owner == staff("a") && enquiry.status == .accepted && enquiry.offer?.transferFrom == staff("a"))
        #expect(notices(offered)["b"]?.count == 1)
        #expect(throws: DomainError(.transferPending, "enquiry enq_1 is already on offer to [\"b\"]")) {
            try run(&enquiry, .transfer(.destination(dest("backup")), by: staff("a")), by: agent("a"), facts: facts)
        }
        // The target declines: the owner keeps it.
        try run(&enquiry, .decline(staff("b")), by: agent("b"), facts: facts)
        #expect(enquiry.owner == staff("a") && enquiry.offer == nil && enquiry.missed == 0)
        // To a destination: offered there; its member accepts; the old owner is released.
        try run(&enquiry, .transfer(.destination(dest("backup")), by: staff("a")), by: agent("a"), facts: facts)
        let taken = try run(&enquiry, .accept(staff("z")), by: agent("z"), facts: facts)
        #expect(enquiry.owner == staff("z") && enquiry.servedBy == [staff("a"), staff("z")])
        #expect(held(taken)["a"] == [.released(enquiry.id)] && held(taken)["z"] == [.assigned(enquiry.id)] && notices(taken)["z"] == [.assigned(enquiry.id)])
        // A lapsed transfer offer also leaves it with its owner, and is not a missed enquiry.
        try run(&enquiry, .transfer(.staff(staff("b")), by: staff("z")), by: agent("z"), facts: facts)
        try run(&enquiry, .offerTimedOut, by: .system, facts: facts, at: 60_000)
        #expect(enquiry.owner == staff("z") && enquiry.offer == nil && enquiry.missed == 0)
        // A destination with nobody offerable is refused while someone owns it.
        facts.statuses = [:]
        #expect(throws: DomainError.self) { try run(&enquiry, .transfer(.destination(dest("support")), by: staff("z")), by: agent("z"), facts: facts) }
    }

    @Test func closeByTheOwnerOrAnAdminOrWhenIdle() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        try run(&enquiry, .accept(staff("a")), by: agent("a"), facts: facts)
        #expect(throws: DomainError.self) { try run(&enquiry, .close(by: staff("b")), by: agent("b"), facts: facts) }
        // Activity moves the idle timer; it falling due closes.
        let touched = try run(&enquiry, .touch, by: agent("a"), facts: facts, at: 10_000)
        #expect(touched.effects == [.setTimer(tag: EnquiryState.idleTimer, at: now.adding(milliseconds: 10_000 + 30 * 60_000))])
        let closed = try run(&enquiry, .idleTimedOut, by: .system, facts: facts, at: 40 * 60_000)
        #expect(enquiry.status == .closed && enquiry.closedBy == nil)
        #expect(held(closed)["a"] == [.released(enquiry.id)] && notices(closed).isEmpty)
        #expect(throws: DomainError(.enquiryClosed, "enquiry enq_1 is closed")) { try run(&enquiry, .accept(staff("b")), by: agent("b"), facts: facts) }
        #expect(try run(&enquiry, .close(by: nil), by: .system, facts: facts).isEmpty)

        var second = EnquiryState(id: EnquiryID(unchecked: "enq_2"))
        try run(&second, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        let byAdmin = try run(&second, .close(by: staff("boss")), by: .staff(staff("boss"), role: .admin), facts: facts)
        #expect(second.status == .closed && Set(notices(byAdmin).keys) == ["a", "b", "c"])
    }

    @Test func stickyOffersTheLastAgentAlone() throws {
        var facts = supportFacts()
        facts.statuses[staff("former")] = GivenFacts.ready
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.sticky(fallback: [dest("support")]), lastAgent: staff("former"))), by: visitor, facts: facts)
        #expect(enquiry.offer?.staff == [staff("former")] && enquiry.offer?.destination == nil)
    }

    @Test func openIsValidatedAndRepeatsAreNoOps() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        var bad = start(nil)
        bad.firstMessage = ""
        #expect(throws: DomainError.self) { try run(&enquiry, .open(bad), by: visitor, facts: facts) }
        bad = start(.alternative([]))
        #expect(throws: DomainError.self) { try run(&enquiry, .open(bad), by: visitor, facts: facts) }
        try run(&enquiry, .open(start(nil)), by: visitor, facts: facts)
        #expect(enquiry.status == .queued && enquiry.queueDestination == nil)
        #expect(try run(&enquiry, .open(start(nil)), by: visitor, facts: facts).isEmpty)
        #expect(throws: DomainError.self) { try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts) }
    }

    @Test func readsAreForThoseInvolved() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts)
        #expect(throws: Never.self) { try enquiry.authorizeRead(by: agent("a")) }
        #expect(throws: DomainError.self) { try enquiry.authorizeRead(by: agent("z")) }
        #expect(throws: Never.self) { try enquiry.authorizeRead(by: .staff(staff("boss"), role: .admin)) }
        #expect(throws: Never.self) { try enquiry.authorizeRead(by: visitor) }
        #expect(throws: DomainError.self) { try enquiry.authorizeRead(by: .visitor("v_2")) }
    }

    @Test func commandsEventsAndStateRoundTrip() throws {
        let facts = supportFacts()
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        var events: [EnquiryEvent] = []
        events += try run(&enquiry, .open(start(.alternative([dest("support")]))), by: visitor, facts: facts).events
        events += try run(&enquiry, .decline(staff("c")), by: agent("c"), facts: facts).events
        events += try run(&enquiry, .accept(staff("a")), by: agent("a"), facts: facts).events
        events += try run(&enquiry, .transfer(.destination(dest("backup")), by: staff("a")), by: agent("a"), facts: facts).events
        events += try run(&enquiry, .offerTimedOut, by: .system, facts: facts).events
        events += try run(&enquiry, .close(by: staff("a")), by: agent("a"), facts: facts).events
        for event in events { #expect(try EnquiryEvent.decode(event.encoded) == event) }
        #expect(try EnquiryState.decode(enquiry.encoded) == enquiry)
        let commands: [EnquiryCommand] = [
            .open(start(.percentage([WeightedDestination(dest("a"), weight: 100)]), lastAgent: staff("x"))), .route, .accept(staff("a")), .decline(staff("b")),
            .transfer(.staff(staff("c")), by: staff("a")), .transfer(.destination(dest("d")), by: staff("a")), .close(by: nil), .close(by: staff("a")), .offerTimedOut,
            .idleTimedOut, .touch,
        ]
        for command in commands { #expect(try EnquiryCommand.decode(command.encoded) == command) }
        #expect(throws: DecodingError.self) { try EnquiryCommand.decode([99]) }
    }
}

@Suite("Enquiry overview entries")
struct EnquiryOverviewEntryTests {
    @Test func everyChangeIsListedUnderTheDayItOpened() throws {
        var facts = GivenFacts()
        facts.add("support", members: ["a"])
        let opened = Timestamp(milliseconds: 1_767_225_599_000)  // 2025-12-31T23:59:59Z
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "enq_1"))
        let start = EnquiryStart(
            source: ChannelID(unchecked: "web"), sourceName: "Website", visitor: VisitorID(unchecked: "v_1"), visitorName: "Ann", firstMessage: "Hi",
            rule: .alternative([dest("support")]))
        func listed(_ decision: Decision<EnquiryEvent>) throws -> EnquirySummary? {
            for case let .send(to, bytes) in decision.effects where to.kind == .index && to.key.hasPrefix("enquiries.") {
                #expect(to.key == "enquiries.2025-12-31")
                guard case let .put(_, summary) = try IndexCommand.decode(bytes) else { return nil }
                return try EnquirySummary.decode(summary)
            }
            return nil
        }
        let open = try enquiry.decide(.open(start), facts: facts, context: DecisionContext(caller: .system, now: opened, entity: .enquiry(enquiry.id)))
        for event in open.events { enquiry.apply(event) }
        #expect(try listed(open)?.status == .offered)
        // Accepted the next day: still under the day it opened; the waiting time is measured.
        let accepted = try enquiry.decide(.accept(staff("a")), facts: facts, context: DecisionContext(caller: .staff(staff("a"), role: .agent), now: opened.adding(milliseconds: 5_000), entity: .enquiry(enquiry.id)))
        for event in accepted.events { enquiry.apply(event) }
        let summary = try #require(try listed(accepted))
        #expect(summary.owner == staff("a") && summary.waitingMilliseconds == 5_000)
        #expect(opened.utcDay == "2025-12-31" && Timestamp(milliseconds: 0).utcDay == "1970-01-01" && Timestamp(milliseconds: -1).utcDay == "1969-12-31")
        #expect(Timestamp(milliseconds: 951_782_400_000).utcDay == "2000-02-29")
        #expect(Timestamp(utcDay: "2000-02-29")?.milliseconds == 951_782_400_000 && Timestamp(utcDay: "1970-01-01")?.milliseconds == 0)
        for bad in ["2001-02-29", "1969-12-31", "0000-00-00", "2026-13-01", "2026-1-01", "２０２６-01-01", "2026-01-01x"] { #expect(Timestamp(utcDay: bad) == nil, "\(bad)") }
    }
}

@Suite("Enquiry edges found in review")
struct EnquiryEdgeTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000)

    func start(key: String? = nil, text: String = "Hello") -> EnquiryStart {
        EnquiryStart(
            source: ChannelID(unchecked: "web"), sourceName: "Website", visitor: VisitorID(unchecked: "v_1"), visitorName: "Ann", firstMessage: text,
            rule: .alternative([dest("support")]), firstMessageKey: key)
    }

    func context(_ caller: Caller) -> DecisionContext { DecisionContext(caller: caller, now: now, entity: .enquiry(EnquiryID(unchecked: "e"))) }

    @Test func acceptsAreRefusedAtCapacityAndTheOwnersRetryAlwaysAnswers() throws {
        var facts = GivenFacts()
        facts.add("support", members: ["a", "b"])
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "e"))
        for event in try enquiry.decide(.open(start()), facts: facts, context: context(.system)).events { enquiry.apply(event) }
        facts.statuses[staff("b")] = StaffStatus(availability: .active, capacity: 1, openEnquiries: 1, online: true)
        #expect(throws: DomainError(.capacityReached, "b holds 1 open enquiries, their capacity")) {
            try enquiry.decide(.accept(staff("b")), facts: facts, context: context(.staff(staff("b"), role: .agent)))
        }
        for event in try enquiry.decide(.accept(staff("a")), facts: facts, context: context(.staff(staff("a"), role: .agent))).events { enquiry.apply(event) }
        facts.statuses[staff("b")] = GivenFacts.ready
        for event in try enquiry.decide(.transfer(.staff(staff("b")), by: staff("a")), facts: facts, context: context(.staff(staff("a"), role: .agent))).events {
            enquiry.apply(event)
        }
        // A transfer on offer: the owner's repeated accept still answers, changing nothing.
        #expect(try enquiry.decide(.accept(staff("a")), facts: facts, context: context(.staff(staff("a"), role: .agent))).isEmpty)
    }

    @Test func anOfferedEnquiryNeverLeavesAQueueItWasNotIn() throws {
        var facts = GivenFacts()
        facts.add("support", members: ["a"])
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "e"))
        let opened = try enquiry.decide(.open(start()), facts: facts, context: context(.system))
        #expect(!opened.effects.contains { if case let .send(to, _) = $0 { to.key.hasPrefix("queue.") } else { false } })
        _ = enquiry
    }

    @Test func theFirstMessageKeepsItsKeyAndBlankTextIsRefused() throws {
        var enquiry = EnquiryState(id: EnquiryID(unchecked: "e"))
        #expect(throws: DomainError.self) { try enquiry.decide(.open(start(text: "  \n ")), facts: GivenFacts(), context: context(.system)) }
        #expect(throws: DomainError.self) { try enquiry.decide(.open(start(key: String(repeating: "k", count: 129))), facts: GivenFacts(), context: context(.system)) }
        let opened = try enquiry.decide(.open(start(key: "c:k1")), facts: GivenFacts(), context: context(.system))
        for event in opened.events { enquiry.apply(event) }
        let posts = opened.effects.compactMap { effect -> MessagePost? in
            guard case let .send(to, bytes) = effect, to.kind == .room, case let .post(post)? = try? RoomCommand.decode(bytes) else { return nil }
            return post
        }
        #expect(posts.first?.idempotencyKey == "c:k1")
        #expect(throws: DomainError.self) { try enquiry.decide(.visitorMessage(text: " ", idempotencyKey: nil), facts: GivenFacts(), context: context(.visitor("v_1"))) }
        // Without a rule there is nothing to route again: no retry timer.
        var unrouted = EnquiryState(id: EnquiryID(unchecked: "u"))
        var bare = start()
        bare.rule = nil
        let queued = try unrouted.decide(.open(bare), facts: GivenFacts(), context: context(.system))
        for event in queued.events { unrouted.apply(event) }
        #expect(unrouted.status == .queued && !queued.effects.contains { if case .setTimer = $0 { true } else { false } })
    }

    @Test func staffWritingInAnEnquiryRoomTouchesTheEnquiry() throws {
        var room = RoomState(id: RoomID(unchecked: "e"))
        var soft = NoSoftState()
        let internalCaller = Caller.entity(.enquiry(EnquiryID(unchecked: "e")))
        let ctx = DecisionContext(caller: internalCaller, now: now, entity: .room(room.id))
        for event in try room.decide(.openEnquiry(EnquiryOpening(title: "Ann", staff: [VisitorID(unchecked: "v_1").member], information: RoomInformation())), soft: &soft, context: ctx).events {
            room.apply(event)
        }
        for event in try room.decide(.setEnquiryOwner(staff("a"), replacing: nil), soft: &soft, context: ctx).events { room.apply(event) }
        let staffPost = try room.decide(.post(MessagePost(author: staff("a"), text: "hi")), soft: &soft, context: DecisionContext(caller: .staff(staff("a"), role: .agent), now: now, entity: .room(room.id)))
        #expect(staffPost.effects.contains(.send(EnquiryCommand.touch, to: "e", of: EnquiryState.self)))
        let visitorPost = try room.decide(.post(MessagePost(author: VisitorID(unchecked: "v_1").member, text: "hi")), soft: &soft, context: DecisionContext(caller: .visitor("v_1"), now: now, entity: .room(room.id)))
        #expect(!visitorPost.effects.contains(.send(EnquiryCommand.touch, to: "e", of: EnquiryState.self)))
    }
}
