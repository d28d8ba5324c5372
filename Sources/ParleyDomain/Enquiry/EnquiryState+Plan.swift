extension EnquiryState {
    /// A decision being built: events applied to a copy of the state as they are added, so
    /// later steps (routing after a decline or a lapse) see what earlier ones did.
    struct Plan {
        var state: EnquiryState
        var events: [EnquiryEvent] = []
        var effects: [Effect] = []

        init(_ state: EnquiryState) { self.state = state }

        /// Offer notices, sent as one delivery with the decision.
        var notices: [EnquiryNotices.Addressed] = []

        /// The decision, with its offer notices in one delivery (in the order made) and the
        /// enquiry's overview entry put again when it changed.
        func decision(listedFrom before: EnquiryState) -> Decision<EnquiryEvent> {
            var effects = effects
            if !notices.isEmpty { effects.append(.deliver(sink: EnquiryState.noticeSink, payload: EnquiryNotices(notices).encoded)) }
            guard !events.isEmpty, let openedAt = state.openedAt else { return Decision(events, effects: effects) }
            let summary = EnquirySummary(state)
            guard before.start == nil || summary != EnquirySummary(before) else { return Decision(events, effects: effects) }
            let listing = Effect.send(
                IndexCommand.put(member: state.id.rawValue, summary: summary.encoded), to: EnquirySummary.index(day: openedAt), of: IndexState.self)
            return Decision(events, effects: effects + [listing])
        }

        mutating func add(_ event: EnquiryEvent, effects: [Effect] = [], notices: [EnquiryNotices.Addressed] = []) {
            state.apply(event)
            events.append(event)
            self.effects += effects
            self.notices += notices
        }

        /// Routes the enquiry by its rule: offers it, or queues it. With `reoffer`, those this
        /// round skipped are offered it again when nobody else can take it (after a lapse, or
        /// a queued enquiry's retry); after declines, it waits in the queue instead.
        mutating func route(_ start: EnquiryStart, facts: any RoutingFacts, now: Timestamp, reoffer: Bool = true) {
            guard let rule = start.rule else { return queue(at: nil, start: start, now: now) }
            let round = state.round + 1
            var request = RoutingRequest(
                rule: rule, lastAgent: start.lastAgent, skipDestinations: state.skipDestinations, skipStaff: state.skipStaff,
                draw: EnquiryState.draw(state.id, round: round), now: now)
            var choice = EnquiryRouter.route(request, facts: facts)
            if case .queue = choice, reoffer, !request.skipStaff.isEmpty || !request.skipDestinations.isEmpty {
                request.skipStaff = []
                request.skipDestinations = []
                choice = EnquiryRouter.route(request, facts: facts)
            }
            switch choice {
            case let .offer(destination, staff):
                offer(EnquiryOffer(destination: destination, staff: staff, round: round, at: now), start: start)
            case let .queue(destination):
                queue(at: destination, start: start, now: now)
            }
        }

        /// Offers the enquiry (its timer set, the offerees told).
        mutating func offer(_ offer: EnquiryOffer, start: EnquiryStart) {
            let wasQueued = state.status == .queued && state.queuedAt != nil && offer.transferFrom == nil
            let queue = state.queueDestination
            let note = EnquiryOfferNote(
                enquiry: state.id, sourceName: start.sourceName, visitorName: start.visitorName, firstMessage: String(start.firstMessage.unicodeScalars.prefix(200)),
                destination: offer.destination, offeredAt: offer.at, openedAt: state.openedAt ?? offer.at, transferFrom: offer.transferFrom)
            let notices = offer.staff.map { EnquiryNotices.Addressed(staff: $0, notice: .offered(note)) }
            var effects: [Effect] = []
            effects.append(.setTimer(tag: EnquiryState.offerTimer, at: offer.at.adding(milliseconds: Int64(start.offerTimeoutSeconds) * 1_000)))
            if wasQueued {
                effects += [.cancelTimer(tag: EnquiryState.routeTimer), EnquiryState.leaveQueue(state.id, queue)]
            }
            add(.offered(offer), effects: effects, notices: notices)
        }

        /// Queues the enquiry at `destination`: listed in its queue, the away message sent
        /// once, and a retry timer set.
        mutating func queue(at destination: DestinationID?, start: EnquiryStart, now: Timestamp) {
            // Without a rule, routing again changes nothing: it waits for an admin's transfer.
            var effects: [Effect] =
                start.rule == nil ? [] : [.setTimer(tag: EnquiryState.routeTimer, at: now.adding(milliseconds: EnquiryState.queueRetryMilliseconds))]
            let moved = state.status != .queued || state.queueDestination != destination || state.queuedAt == nil
            if moved {
                if state.status == .queued, state.queuedAt != nil { effects.append(EnquiryState.leaveQueue(state.id, state.queueDestination)) }
                let since = state.queuedAt ?? now
                effects.append(
                    .send(
                        IndexCommand.put(member: state.id.rawValue, summary: Timestamp(milliseconds: since.milliseconds).encodedForQueue),
                        to: EnquiryState.queueIndex(destination), of: IndexState.self))
                add(.queued(destination: destination, at: now), effects: effects)
            } else {
                self.effects += effects
            }
            if !state.awaySent {
                let away = start.awayMessage.map { EnquiryState.post($0, by: .notices, key: "away", in: state.room) }
                add(.awaySent(at: now), effects: away.map { [$0] } ?? [])
            }
        }

        /// Closes it: offers withdrawn, the owner released, timers and queue entry dropped.
        mutating func close(by: StaffID?, now: Timestamp) {
            let notices = EnquiryState.offerEnded(state.id, for: state.offer?.staff ?? [], .closed)
            var effects: [Effect] = []
            if let owner = state.owner { effects.append(.send(StaffCommand.noteEnquiry(.released(state.id)), to: owner.rawValue, of: StaffState.self)) }
            if state.status == .queued { effects.append(EnquiryState.leaveQueue(state.id, state.queueDestination)) }
            effects += [EnquiryState.offerTimer, EnquiryState.routeTimer, EnquiryState.idleTimer].map { Effect.cancelTimer(tag: $0) }
            if let start = state.start {
                effects.append(.send(VisitorCommand.enquiryClosed(state.id), to: start.visitor.rawValue, of: VisitorState.self))
            }
            add(.closed(by: by, at: now), effects: effects, notices: notices)
        }
    }

    /// Its place in `queue` (its destination's queue listing), 1 first; nil unless queued.
    public func queuePosition(in queue: IndexState) -> Int? {
        guard status == .queued, let since = queuedAt else { return nil }
        let mine = (since.milliseconds, id.rawValue)
        return 1 + queue.entries.filter { ((Timestamp(queueSummary: $0.value)?.milliseconds ?? Int64.max), $0.key) < mine }.count
    }

    /// Percentage routing's draw for `round`: a hash of the enquiry and the round, so the
    /// decision is a function of its inputs and the split over many enquiries follows the
    /// weights.
    static func draw(_ id: EnquiryID, round: UInt32) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.rawValue.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        var mixed = hash ^ (UInt64(round) &* 0x9e37_79b9_7f4a_7c15)
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}

extension Timestamp {
    /// A queue entry's summary: when it started waiting, big-endian (sorts by time).
    var encodedForQueue: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: milliseconds) >> (56 - 8 * $0)) } }

    /// When a queue entry started waiting, from its summary (nil: not one).
    public init?(queueSummary bytes: [UInt8]) {
        guard bytes.count == 8 else { return nil }
        self.init(milliseconds: Int64(bitPattern: bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
    }
}
