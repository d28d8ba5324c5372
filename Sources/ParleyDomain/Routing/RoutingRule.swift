/// A destination and its share under the Percentage rule.
public struct WeightedDestination: Sendable, Equatable {
    public var destination: DestinationID
    /// 1 to 100; a rule's weights sum to 100.
    public var weight: Int

    public init(_ destination: DestinationID, weight: Int) {
        self.destination = destination
        self.weight = weight
    }
}

/// A Time rule's condition: when it holds, its destinations in order.
public struct TimeCondition: Sendable, Equatable {
    public var windows: [TimeWindow]
    public var destinations: [DestinationID]

    public init(windows: [TimeWindow], destinations: [DestinationID]) {
        self.windows = windows
        self.destinations = destinations
    }
}

/// How a source (a widget tag, a weblink, a channel…) picks the destination of its
/// enquiries.
public enum RoutingRule: Sendable, Equatable {
    /// The first destination, in order, with a member who can be offered it.
    case alternative([DestinationID])
    /// Destinations drawn by weight among those with someone offerable (a destination with
    /// nobody passes its share on to the others).
    case percentage([WeightedDestination])
    /// The first condition whose windows hold the time in `timeZone`, with its destinations
    /// in order; `otherwise` outside every condition (CINNOX's "other schedule").
    case time(timeZone: String, conditions: [TimeCondition], otherwise: [DestinationID])
    /// The staff member who last served the visitor on this source, when offerable; else
    /// `fallback` in order.
    case sticky(fallback: [DestinationID])

    /// Destinations per condition at most.
    public static let maxDestinations = 5
    public static let maxConditions = 20

    public var name: String {
        switch self {
        case .alternative: "alternative"
        case .percentage: "percentage"
        case .time: "time"
        case .sticky: "sticky"
        }
    }

    /// Every destination the rule names, once each, in order of appearance.
    public var destinations: [DestinationID] {
        var seen: Set<DestinationID> = []
        let all: [DestinationID] =
            switch self {
            case let .alternative(list), let .sticky(list): list
            case let .percentage(weighted): weighted.map(\.destination)
            case let .time(_, conditions, otherwise): conditions.flatMap(\.destinations) + otherwise
            }
        return all.filter { seen.insert($0).inserted }
    }

    /// Checks the rule's shape: 1 to 5 distinct destinations per condition, weights of 1 to
    /// 100 summing to 100, valid windows and zone.
    public func validate() throws(DomainError) {
        switch self {
        case let .alternative(list), let .sticky(list):
            try Self.validate(list, optional: false)
        case let .percentage(weighted):
            try Self.validate(weighted.map(\.destination), optional: false)
            guard weighted.allSatisfy({ (1...100).contains($0.weight) }), weighted.reduce(0, { $0 + $1.weight }) == 100 else {
                throw DomainError(.invalidRouting, "percentage weights are 1 to 100 each and sum to 100")
            }
        case let .time(zone, conditions, otherwise):
            try BusinessHours.validate(zone: zone)
            guard (1...Self.maxConditions).contains(conditions.count) else {
                throw DomainError(.invalidRouting, "a time rule has 1 to \(Self.maxConditions) conditions")
            }
            for condition in conditions {
                guard (1...10).contains(condition.windows.count) else { throw DomainError(.invalidRouting, "a condition has 1 to 10 time windows") }
                for window in condition.windows { try window.validate() }
                try Self.validate(condition.destinations, optional: false)
            }
            try Self.validate(otherwise, optional: true)
        }
    }

    private static func validate(_ list: [DestinationID], optional: Bool) throws(DomainError) {
        guard list.count <= maxDestinations, optional || !list.isEmpty else {
            throw DomainError(.invalidRouting, "a routing condition has 1 to \(maxDestinations) destinations")
        }
        guard Set(list).count == list.count else { throw DomainError(.invalidRouting, "a destination is named twice in one condition") }
    }
}
