/// What routing reads besides the rule: destinations (members, hours), each staff member's
/// status, and the time zone database. The node's routing board answers these; tests give
/// their own.
public protocol RoutingFacts: ZoneOffsets {
    func destination(_ id: DestinationID) -> DestinationProfile?
    /// nil: nothing known of them (never signed in, or their status expired): not offerable.
    func status(of staff: StaffID) -> StaffStatus?
}

/// Where routing sends an enquiry.
public enum RoutingChoice: Sendable, Equatable {
    /// Offered to all of `staff` at once, through `destination` (nil: the visitor's last
    /// agent, by the Sticky rule).
    case offer(destination: DestinationID?, staff: [StaffID])
    /// Nobody can be offered it: it waits in `destination`'s queue (nil: the rule names no
    /// destination that applies now; it waits unassigned).
    case queue(destination: DestinationID?)
}

/// One routing question: the rule and what this enquiry's history excludes.
public struct RoutingRequest: Sendable, Equatable {
    public var rule: RoutingRule
    /// The staff member who last served this visitor on this source (Sticky).
    public var lastAgent: StaffID?
    /// Destinations already tried in this round (their offer timed out or was declined).
    public var skipDestinations: Set<DestinationID>
    /// Staff who declined this enquiry or let its offer lapse in this round.
    public var skipStaff: Set<StaffID>
    /// A uniform random draw (Percentage), recorded by the decision that used it.
    public var draw: UInt64
    public var now: Timestamp

    public init(
        rule: RoutingRule, lastAgent: StaffID? = nil, skipDestinations: Set<DestinationID> = [], skipStaff: Set<StaffID> = [], draw: UInt64 = 0,
        now: Timestamp
    ) {
        self.rule = rule
        self.lastAgent = lastAgent
        self.skipDestinations = skipDestinations
        self.skipStaff = skipStaff
        self.draw = draw
        self.now = now
    }
}

/// The routing rules as pure functions of the request and the facts.
public enum EnquiryRouter {
    /// Where `request`'s enquiry goes now.
    public static func route(_ request: RoutingRequest, facts: any RoutingFacts) -> RoutingChoice {
        switch request.rule {
        case let .alternative(list):
            return firstOfferable(list, request, facts)
        case let .sticky(fallback):
            if let agent = request.lastAgent, !request.skipStaff.contains(agent), facts.status(of: agent)?.offerable == true {
                return .offer(destination: nil, staff: [agent])
            }
            return firstOfferable(fallback, request, facts)
        case let .time(zone, conditions, otherwise):
            let list = timeDestinations(zone: zone, conditions: conditions, otherwise: otherwise, at: request.now, zones: facts)
            return firstOfferable(list, request, facts)
        case let .percentage(weighted):
            return percentage(weighted, request, facts)
        }
    }

    /// The members of `destination` who can be offered an enquiry now, in member order:
    /// none while the destination is closed or unknown.
    public static func offerable(_ destination: DestinationID, skipping: Set<StaffID>, now: Timestamp, facts: any RoutingFacts) -> [StaffID] {
        guard let profile = facts.destination(destination) else { return [] }
        if let hours = profile.hours, !hours.isOpen(at: now, zones: facts) { return [] }
        return profile.members.filter { !skipping.contains($0) && facts.status(of: $0)?.offerable == true }
    }

    /// The destinations a Time rule gives at `instant`: the first condition that holds, else
    /// `otherwise` (also when the zone is unknown).
    static func timeDestinations(zone: String, conditions: [TimeCondition], otherwise: [DestinationID], at instant: Timestamp, zones: any ZoneOffsets)
        -> [DestinationID]
    {
        guard let offset = zones.utcOffsetSeconds(zone: zone, at: instant) else { return otherwise }
        let time = LocalTime(instant, offsetSeconds: offset)
        return conditions.first { $0.windows.contains { $0.contains(time) } }?.destinations ?? otherwise
    }

    private static func firstOfferable(_ list: [DestinationID], _ request: RoutingRequest, _ facts: any RoutingFacts) -> RoutingChoice {
        let candidates = list.filter { !request.skipDestinations.contains($0) }
        for destination in candidates {
            let staff = offerable(destination, skipping: request.skipStaff, now: request.now, facts: facts)
            if !staff.isEmpty { return .offer(destination: destination, staff: staff) }
        }
        return .queue(destination: candidates.first ?? list.first)
    }

    /// Draws among the destinations with someone offerable, by their weights renormalised;
    /// with nobody anywhere, queues at the destination the full weights draw.
    private static func percentage(_ weighted: [WeightedDestination], _ request: RoutingRequest, _ facts: any RoutingFacts) -> RoutingChoice {
        let open = weighted.filter { !request.skipDestinations.contains($0.destination) }
        var staffed: [(WeightedDestination, [StaffID])] = []
        for entry in open {
            let staff = offerable(entry.destination, skipping: request.skipStaff, now: request.now, facts: facts)
            if !staff.isEmpty { staffed.append((entry, staff)) }
        }
        if let (chosen, staff) = draw(staffed, by: { $0.0.weight }, request.draw) {
            return .offer(destination: chosen.destination, staff: staff)
        }
        return .queue(destination: draw(open.isEmpty ? weighted : open, by: \.weight, request.draw)?.destination)
    }

    /// The element `random` falls on when each takes its weight's share of the whole.
    static func draw<Element>(_ elements: [Element], by weight: (Element) -> Int, _ random: UInt64) -> Element? {
        let total = elements.reduce(0) { $0 + max(0, weight($1)) }
        guard total > 0 else { return nil }
        var point = Int(random % UInt64(total))
        for element in elements {
            point -= max(0, weight(element))
            if point < 0 { return element }
        }
        return elements.last
    }
}
