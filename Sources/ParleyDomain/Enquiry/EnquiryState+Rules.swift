extension EnquiryState: EntityRules {
    public static var kind: EntityKind { .enquiry }

    public init(key: String) { self.init(id: EnquiryID(unchecked: key)) }

    /// Timer tags: the pending offer's deadline, a queued enquiry's next routing, the idle close.
    public static let offerTimer = "offer"
    public static let routeTimer = "route"
    public static let idleTimer = "idle"
    /// How often a queued enquiry routes again on its own (besides being nudged when someone
    /// becomes offerable).
    public static let queueRetryMilliseconds: Int64 = 5_000

    public static func command(forTimer tag: String) -> EnquiryCommand? {
        switch tag {
        case offerTimer: .offerTimedOut
        case routeTimer: .route
        case idleTimer: .idleTimedOut
        default: nil
        }
    }

    /// Without the node's routing board nobody is offerable: a plain decision queues.
    public func decide(_ command: EnquiryCommand, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<EnquiryEvent> {
        try decide(command, facts: NoRoutingFacts(), context: context)
    }

    /// Admins, the owner, the staff it is offered to, former owners, the visitor and the
    /// node read an enquiry.
    public func authorizeRead(by caller: Caller) throws(DomainError) {
        switch caller {
        case .entity, .system: return
        case let .staff(staff, role):
            guard exists else { throw DomainError(.enquiryNotFound, "no enquiry \(id)") }
            let involved = role == .admin || owner == staff || offer?.staff.contains(staff) == true || servedBy.contains(staff)
            try caller.require(involved, "read enquiry \(id)")
        case let .visitor(visitor):
            guard exists else { throw DomainError(.enquiryNotFound, "no enquiry \(id)") }
            try caller.require(start?.visitor.rawValue == visitor, "read enquiry \(id)")
        case let .channel(channel):
            guard exists else { throw DomainError(.enquiryNotFound, "no enquiry \(id)") }
            try caller.require(start?.source == channel, "read enquiry \(id)")
        }
    }

    /// Decides `command` with `facts` (destinations, staff status, time zones) for routing.
    public func decide(_ command: EnquiryCommand, facts: any RoutingFacts, context: DecisionContext) throws(DomainError) -> Decision<EnquiryEvent> {
        let caller = context.caller
        let now = context.now
        if case let .open(start) = command { return try open(start, caller: caller, facts: facts, now: now) }
        guard let start else { throw DomainError(.enquiryNotFound, "no enquiry \(id)") }
        var plan = Plan(self)
        switch command {
        case .open:
            preconditionFailure("handled above")
        case .route:
            try caller.require(caller.isInternal, "route enquiries")
            guard status == .queued else { return Decision() }
            plan.route(start, facts: facts, now: now)
        case let .accept(staff):
            try caller.require(caller.staff == staff, "accept enquiries for \(staff)")
            try accept(staff, plan: &plan, start: start, facts: facts, now: now)
        case let .decline(staff):
            try caller.require(caller.staff == staff, "decline enquiries for \(staff)")
            guard status != .closed else { throw DomainError(.enquiryClosed, "enquiry \(id) is closed") }
            guard let offer, offer.staff.contains(staff) else { throw DomainError(.enquiryNotOffered, "enquiry \(id) is not offered to \(staff)") }
            plan.add(.declined(staff, at: now), notices: Self.offerEnded(id, for: [staff], .declined))
            if plan.state.offer == nil, offer.transferFrom == nil {
                plan.route(start, facts: facts, now: now, reoffer: false)
            } else if plan.state.offer == nil {
                plan.effects.append(.cancelTimer(tag: Self.offerTimer))
            }
        case let .transfer(target, by):
            try caller.require(caller.staff == by, "transfer enquiries as \(by)")
            try transfer(to: target, by: by, isAdmin: caller.isAdmin, plan: &plan, start: start, facts: facts, now: now)
        case let .close(by):
            if let by {
                try caller.require(caller.staff == by && (owner == by || caller.isAdmin), "close enquiry \(id)")
            } else {
                try caller.require(caller.isInternal, "close enquiries as the node")
            }
            guard status != .closed else { return Decision() }
            plan.close(by: by, now: now)
        case .offerTimedOut:
            try caller.require(caller.isInternal, "time offers out")
            guard let offer else { return Decision() }
            plan.add(.offerLapsed(round: offer.round, at: now), notices: Self.offerEnded(id, for: offer.staff, .lapsed))
            if offer.transferFrom == nil { plan.route(start, facts: facts, now: now) }
        case .idleTimedOut:
            try caller.require(caller.isInternal, "close idle enquiries")
            guard status == .accepted else { return Decision() }
            plan.close(by: nil, now: now)
        case .touch:
            let allowed = caller.isInternal || caller.staff == owner || caller == .visitor(start.visitor.rawValue)
            try caller.require(allowed, "touch enquiry \(id)")
            guard status == .accepted, let idle = Self.idleTimer(start, now: now) else { return Decision() }
            plan.effects.append(idle)
        case let .visitorMessage(text, key):
            try Self.validateVisitorMessage(text, key: key)
            let fromVisitorEntity = caller == .entity(EntityID(kind: .visitor, key: start.visitor.rawValue))
            try caller.require(caller.isInternal || caller == .visitor(start.visitor.rawValue), "write as visitor \(start.visitor)")
            if status == .closed {
                // Sent by the visitor entity before it learnt of the close: back to it, for the next enquiry.
                guard fromVisitorEntity else { throw DomainError(.enquiryClosed, "enquiry \(id) is closed") }
                return Decision(effects: [.send(VisitorCommand.bounced(text: text, idempotencyKey: key, from: id), to: start.visitor.rawValue, of: VisitorState.self)])
            }
            plan.effects.append(Self.post(text, by: start.visitor.member, key: key, in: room))
            if status == .accepted, let idle = Self.idleTimer(start, now: now) { plan.effects.append(idle) }
        case .drain:
            // After every message the visitor entity sent before it: their bounces went first.
            try caller.require(caller == .entity(EntityID(kind: .visitor, key: start.visitor.rawValue)), "drain enquiry \(id)")
            return Decision(effects: [.send(VisitorCommand.drained(id), to: start.visitor.rawValue, of: VisitorState.self)])
        }
        return plan.decision(listedFrom: self)
    }

    private func open(_ start: EnquiryStart, caller: Caller, facts: any RoutingFacts, now: Timestamp) throws(DomainError) -> Decision<EnquiryEvent> {
        let allowed =
            caller.isInternal || caller.isAdmin || caller == .visitor(start.visitor.rawValue) || caller == .channel(start.source)
        try caller.require(allowed, "open enquiries for visitor \(start.visitor)")
        if let existing = self.start {
            guard existing == start else { throw DomainError(.enquiryAlreadyExists, "enquiry \(id) already exists") }
            return Decision()
        }
        try start.validate()
        var plan = Plan(self)
        // The room opens with the visitor in it and their first message; staff join on accept.
        var effects: [Effect] = [
            .send(RoomCommand.openEnquiry(EnquiryOpening(title: start.visitorName, staff: [start.visitor.member], information: start.information)), to: room.rawValue, of: RoomState.self),
            Self.post(start.firstMessage, by: start.visitor.member, key: start.firstMessageKey ?? "first", in: room),
        ]
        if let welcome = start.welcomeMessage { effects.append(Self.post(welcome, by: .notices, key: "welcome", in: room)) }
        plan.add(.opened(start, at: now), effects: effects)
        plan.route(start, facts: facts, now: now)
        return plan.decision(listedFrom: self)
    }

    private func accept(_ staff: StaffID, plan: inout Plan, start: EnquiryStart, facts: any RoutingFacts, now: Timestamp) throws(DomainError) {
        guard status != .closed else { throw DomainError(.enquiryClosed, "enquiry \(id) is closed") }
        if owner == staff { return }  // accepted already: a retry
        let offered = offer?.staff.contains(staff) == true
        let fromQueue =
            status == .queued && queueDestination.flatMap { facts.destination($0)?.members.contains(staff) } == true
        guard offered || fromQueue else {
            if let owner, owner != staff {
                throw DomainError(.enquiryTaken, "enquiry \(id) was accepted by another staff member")
            }
            throw DomainError(.enquiryNotOffered, "enquiry \(id) is not offered to \(staff)")
        }
        if let load = facts.status(of: staff), load.openEnquiries >= load.capacity {
            throw DomainError(.capacityReached, "\(staff) holds \(load.openEnquiries) open enquiries, their capacity")
        }
        let from = offer?.transferFrom
        // The others are told it is taken; the winner's offer leaves the boards (their own
        // entity, which counts what they hold, tells their sessions it is theirs).
        var notices = Self.offerEnded(id, for: (offer?.staff ?? []).filter { $0 != staff }, .taken)
        if offered { notices.append(EnquiryNotices.Addressed(staff: staff, notice: .assigned(id))) }
        var effects: [Effect] = [.send(StaffCommand.noteEnquiry(.assigned(id)), to: staff.rawValue, of: StaffState.self)]
        effects += [.cancelTimer(tag: Self.offerTimer), .cancelTimer(tag: Self.routeTimer)]
        if let idle = Self.idleTimer(start, now: now) { effects.append(idle) }
        if status == .queued { effects.append(Self.leaveQueue(id, queueDestination)) }
        if let from { effects.append(.send(StaffCommand.noteEnquiry(.released(id)), to: from.rawValue, of: StaffState.self)) }
        effects.append(.send(RoomCommand.setEnquiryOwner(staff, replacing: from), to: room.rawValue, of: RoomState.self))
        effects.append(.send(VisitorCommand.served(id, by: staff), to: start.visitor.rawValue, of: VisitorState.self))
        plan.add(.accepted(staff, at: now, from: from), effects: effects, notices: notices)
    }

    private func transfer(
        to target: TransferTarget, by: StaffID, isAdmin: Bool, plan: inout Plan, start: EnquiryStart, facts: any RoutingFacts, now: Timestamp
    ) throws(DomainError) {
        guard status != .closed else { throw DomainError(.enquiryClosed, "enquiry \(id) is closed") }
        guard owner == by || isAdmin else { throw DomainError(.notTheOwner, "only the owner or an admin transfers enquiry \(id)") }
        if let offer, offer.transferFrom != nil { throw DomainError(.transferPending, "enquiry \(id) is already on offer to \(offer.staff.map(\.rawValue))") }
        let destination: DestinationID?
        let staff: [StaffID]
        switch target {
        case let .staff(target):
            guard target != owner else { throw DomainError(.invalidArgument, "\(target) already owns enquiry \(id)") }
            guard facts.status(of: target)?.offerable == true else {
                throw DomainError(.staffNotOfferable, "\(target) cannot take enquiries now (not ACTIVE, offline or full)")
            }
            (destination, staff) = (nil, [target])
        case let .destination(target):
            guard facts.destination(target) != nil else { throw DomainError(.destinationNotFound, "no destination \(target)") }
            let members = EnquiryRouter.offerable(target, skipping: owner.map { [$0] } ?? [], now: now, facts: facts)
            if members.isEmpty, owner != nil {
                throw DomainError(.staffNotOfferable, "nobody in destination \(target) can take enquiries now")
            }
            (destination, staff) = (target, members)
        }
        // Without an owner (an admin moving a waiting enquiry), the current offer ends first.
        if owner == nil, let offer {
            plan.add(.offerWithdrawn(round: offer.round, at: now), notices: Self.offerEnded(id, for: offer.staff, .moved))
        }
        if staff.isEmpty {
            plan.queue(at: destination, start: start, now: now)
        } else {
            plan.offer(EnquiryOffer(destination: destination, staff: staff, round: round + 1, at: now, transferFrom: owner), start: start)
        }
    }

    /// The idle close timer from `now`, when the source closes idle enquiries.
    static func idleTimer(_ start: EnquiryStart, now: Timestamp) -> Effect? {
        start.idleCloseMinutes > 0 ? .setTimer(tag: idleTimer, at: now.adding(milliseconds: Int64(start.idleCloseMinutes) * 60_000)) : nil
    }

    /// A visitor's message as the enquiry room will take it: text and key within the room's limits.
    public static func validateVisitorMessage(_ text: String, key: String?) throws(DomainError) {
        let limits = RoomLimits()
        guard !text.trimmingWhitespace().isEmpty else { throw DomainError(.emptyMessage, "a message needs text") }
        guard text.unicodeScalars.count <= limits.maxTextLength else {
            throw DomainError(.messageTooLong, "text is longer than \(limits.maxTextLength) characters")
        }
        if let key, !(1...limits.maxIdempotencyKeyLength).contains(key.utf8.count) {
            throw DomainError(.invalidArgument, "an idempotency key has 1 to \(limits.maxIdempotencyKeyLength - 2) bytes")
        }
    }

    /// A message into the enquiry room (keyed, so a repeated effect posts it once).
    static func post(_ text: String, by author: StaffID, key: String?, in room: RoomID) -> Effect {
        .send(RoomCommand.post(MessagePost(author: author, text: text, idempotencyKey: key)), to: room.rawValue, of: RoomState.self)
    }

    /// The index listing the queue of `destination` (`queue._` for enquiries waiting unassigned).
    public static func queueIndex(_ destination: DestinationID?) -> String { "queue." + (destination?.rawValue ?? "_") }

    static func leaveQueue(_ id: EnquiryID, _ destination: DestinationID?) -> Effect {
        .send(IndexCommand.remove(member: id.rawValue), to: queueIndex(destination), of: IndexState.self)
    }
}

/// Routing facts that know nothing: no destination, nobody offerable, no time zone.
public struct NoRoutingFacts: RoutingFacts {
    public init() {}
    public func destination(_ id: DestinationID) -> DestinationProfile? { nil }
    public func status(of staff: StaffID) -> StaffStatus? { nil }
    public func utcOffsetSeconds(zone: String, at instant: Timestamp) -> Int? { nil }
}

extension EnquiryStart {
    public func validate() throws(DomainError) {
        for (text, what, limit) in [(sourceName, "source name", 100), (visitorName, "visitor name", 100)] {
            guard (1...limit).contains(text.unicodeScalars.count) else { throw DomainError(.invalidArgument, "a \(what) has 1 to \(limit) characters") }
        }
        try EnquiryState.validateVisitorMessage(firstMessage, key: firstMessageKey)
        guard (10...3_600).contains(offerTimeoutSeconds) else { throw DomainError(.invalidArgument, "an offer timeout is 10 to 3600 seconds") }
        guard (0...10_080).contains(idleCloseMinutes) else { throw DomainError(.invalidArgument, "an idle close is 0 to 10080 minutes") }
        for message in [welcomeMessage, awayMessage].compactMap({ $0 }) where !(1...2_000).contains(message.unicodeScalars.count) {
            throw DomainError(.invalidArgument, "a welcome or away message has 1 to 2000 characters")
        }
        try information.validate()
        try rule?.validate()
    }
}
