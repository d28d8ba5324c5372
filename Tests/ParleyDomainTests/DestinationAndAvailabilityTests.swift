import Testing

@testable import ParleyDomain

@Suite("Destinations and availability")
struct DestinationAndAvailabilityTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000)
    let admin = Caller.staff(StaffID(unchecked: "boss"), role: .admin)

    func context(_ caller: Caller, _ entity: EntityID) -> DecisionContext { DecisionContext(caller: caller, now: now, entity: entity) }

    @Test func adminsManageDestinationsAndEveryChangeIsListed() throws {
        var destination = DestinationState(key: "support")
        var soft = NoSoftState()
        let entity = EntityID.destination(dest("support"))
        let profile = DestinationProfile(name: " Support ", members: [staff("a"), staff("b")])
        #expect(throws: DomainError.self) { try destination.decide(.create(profile), soft: &soft, context: context(.staff(staff("a"), role: .agent), entity)) }
        let created = try destination.decide(.create(profile), soft: &soft, context: context(admin, entity))
        for event in created.events { destination.apply(event) }
        #expect(destination.profile?.name == "Support")
        guard case let .send(to, _) = created.effects.first else { Issue.record("not listed"); return }
        #expect(to == EntityID(kind: .index, key: IndexState.destinations))
        #expect(throws: DomainError.self) { try destination.decide(.create(profile), soft: &soft, context: context(admin, entity)) }
        // Updates keep what is not named; nothing changed, nothing appended.
        #expect(try destination.decide(.update(name: nil, members: nil, hours: .keep), soft: &soft, context: context(admin, entity)).isEmpty)
        let hours = BusinessHours(timeZone: "Asia/Hong_Kong", windows: [TimeWindow(days: [.monday], start: 540, end: 1080)])
        for event in try destination.decide(.update(name: nil, members: [staff("c")], hours: .set(hours)), soft: &soft, context: context(admin, entity)).events {
            destination.apply(event)
        }
        #expect(destination.profile == DestinationProfile(name: "Support", members: [staff("c")], hours: hours))
        #expect(throws: DomainError.self) {
            try destination.decide(.update(name: nil, members: [staff("c"), staff("c")], hours: .keep), soft: &soft, context: context(admin, entity))
        }
        let deleted = try destination.decide(.delete, soft: &soft, context: context(admin, entity))
        for event in deleted.events { destination.apply(event) }
        #expect(!destination.exists)
        #expect(deleted.effects == [.send(IndexCommand.remove(member: "support"), to: IndexState.destinations, of: IndexState.self)])
        #expect(throws: DomainError(.destinationNotFound, "no destination support")) { try destination.decide(.delete, soft: &soft, context: context(admin, entity)) }
        #expect(try DestinationState.decode(destination.encoded) == destination)
        for command in [DestinationCommand.create(profile), .update(name: "x", members: [staff("a")], hours: .clear), .update(name: nil, members: nil, hours: .set(hours)), .delete] {
            #expect(try DestinationCommand.decode(command.encoded) == command)
        }
    }

    @Test func staffSetTheirAvailabilityAndAdminsTheirCapacity() throws {
        var account = StaffState(id: staff("a"))
        var soft = NoSoftState()
        let entity = EntityID.staff(staff("a"))
        for event in try account.decide(.create(displayName: "A", role: .agent, tokenHash: Array(repeating: 1, count: 32)), soft: &soft, context: context(admin, entity)).events {
            account.apply(event)
        }
        #expect(account.availability == .active && account.capacity == StaffStatus.defaultCapacity)
        let me = Caller.staff(staff("a"), role: .agent)
        for event in try account.decide(.setAvailability(.busy), soft: &soft, context: context(me, entity)).events { account.apply(event) }
        #expect(account.availability == .busy)
        #expect(try account.decide(.setAvailability(.busy), soft: &soft, context: context(me, entity)).isEmpty)
        #expect(throws: DomainError.self) { try account.decide(.setAvailability(.active), soft: &soft, context: context(.staff(staff("b"), role: .agent), entity)) }
        #expect(throws: DomainError.self) { try account.decide(.setCapacity(3), soft: &soft, context: context(me, entity)) }
        #expect(throws: DomainError.self) { try account.decide(.setCapacity(101), soft: &soft, context: context(admin, entity)) }
        for event in try account.decide(.setCapacity(1), soft: &soft, context: context(admin, entity)).events { account.apply(event) }
        #expect(account.status(online: true) == StaffStatus(availability: .busy, capacity: 1, openEnquiries: 0, online: true))
    }

    @Test func enquiryNoticesAreAppliedOnceAndOnlyFromEntities() throws {
        var account = StaffState(id: staff("a"), profile: StaffProfile(displayName: "A", role: .agent, createdAt: now))
        var soft = NoSoftState()
        let entity = EntityID.staff(staff("a"))
        let enquiry = EnquiryID(unchecked: "enq_1")
        let from = Caller.entity(.enquiry(enquiry))
        let note = EnquiryOfferNote(enquiry: enquiry, sourceName: "Web", visitorName: "Ann", firstMessage: "Hi", destination: dest("support"), offeredAt: now, openedAt: now)
        #expect(throws: DomainError.self) { try account.decide(.noteEnquiry(.offered(note)), soft: &soft, context: context(.staff(staff("a"), role: .agent), entity)) }
        for notice in [EnquiryNotice.offered(note), .offered(note), .assigned(enquiry), .assigned(enquiry)] {
            for event in try account.decide(.noteEnquiry(notice), soft: &soft, context: context(from, entity)).events { account.apply(event) }
        }
        #expect(account.offers.isEmpty && account.enquiries == [enquiry] && account.status(online: true).openEnquiries == 1)
        #expect(try account.decide(.noteEnquiry(.offerEnded(enquiry, .taken)), soft: &soft, context: context(from, entity)).isEmpty)
        for event in try account.decide(.noteEnquiry(.released(enquiry)), soft: &soft, context: context(from, entity)).events { account.apply(event) }
        #expect(account.enquiries.isEmpty)
        #expect(try StaffState.decode(account.encoded) == account)
        for notice in [EnquiryNotice.offered(note), .offerEnded(enquiry, .lapsed), .assigned(enquiry), .released(enquiry)] {
            #expect(try StaffCommand.decode(StaffCommand.noteEnquiry(notice).encoded) == .noteEnquiry(notice))
            #expect(try StaffEvent.decode(StaffEvent.enquiryNoted(notice).encoded) == .enquiryNoted(notice))
        }
    }
}
