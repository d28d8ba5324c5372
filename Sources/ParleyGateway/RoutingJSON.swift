import ParleyDomain
import ParleyRuntime

/// Routing rules, time windows and business hours in the API's JSON, both ways:
///
/// - `{"rule":"alternative","destinations":["d1","d2"]}` (also `sticky`),
/// - `{"rule":"percentage","destinations":[{"destination_id":"d1","weight":60},…]}`,
/// - `{"rule":"time","time_zone":"Asia/Hong_Kong","conditions":[{"windows":[{"days":["mon"],"from":"09:00","to":"18:00"}],"destinations":["d1"]}],"otherwise":["d2"]}`.
enum RoutingJSON {
    static func rule(_ fields: JSONFields, zones: RoutingBoard) throws(GatewayError) -> RoutingRule {
        let rule = try parseRule(fields, zones: zones)
        try checked { () throws(DomainError) in try rule.validate() }
        return rule
    }

    /// Runs a domain check here, so a refusal is the client's 400 rather than a command
    /// too large for its own encoding's bounds on the serving node.
    static func checked(_ check: () throws(DomainError) -> Void) throws(GatewayError) {
        do {
            try check()
        } catch {
            throw GatewayError(RuntimeError.rejected(error))
        }
    }

    private static func parseRule(_ fields: JSONFields, zones: RoutingBoard) throws(GatewayError) -> RoutingRule {
        let name = try fields.string("rule")
        switch name {
        case "alternative": return .alternative(try destinations(fields.strings("destinations")))
        case "sticky": return .sticky(fallback: try destinations(fields.strings("destinations")))
        case "percentage":
            var weighted: [WeightedDestination] = []
            for entry in try fields.objects("destinations") {
                let weight = try entry.unsignedInteger("weight")
                guard weight <= 100 else { throw GatewayError.invalidArgument("a weight is 1 to 100") }
                weighted.append(WeightedDestination(try destination(entry.string("destination_id")), weight: Int(weight)))
            }
            return .percentage(weighted)
        case "time":
            let zone = try timeZone(fields.string("time_zone"), zones: zones)
            var conditions: [TimeCondition] = []
            for condition in try fields.objects("conditions") {
                conditions.append(TimeCondition(windows: try condition.objects("windows").map(window), destinations: try destinations(condition.strings("destinations"))))
            }
            return .time(timeZone: zone, conditions: conditions, otherwise: try destinations(fields.optionalStrings("otherwise") ?? []))
        default:
            throw GatewayError(.badRequest, code: DomainError.Code.invalidRouting.rawValue, "rule must be alternative, percentage, time or sticky")
        }
    }

    static func window(_ fields: JSONFields) throws(GatewayError) -> TimeWindow {
        var days: Set<Weekday> = []
        for name in try fields.strings("days") {
            guard let day = Weekday(name: name) else { throw GatewayError.invalidArgument("\(name) is not a day (mon … sun)") }
            guard days.insert(day).inserted else { throw GatewayError.invalidArgument("\(name) is named twice") }
        }
        guard let from = TimeWindow.minutes(try fields.string("from")), let to = TimeWindow.minutes(try fields.string("to")) else {
            throw GatewayError.invalidArgument("from and to are HH:MM, 00:00 to 24:00")
        }
        return TimeWindow(days: days, start: from, end: to)
    }

    static func hours(_ fields: JSONFields, zones: RoutingBoard) throws(GatewayError) -> BusinessHours {
        let hours = BusinessHours(timeZone: try timeZone(fields.string("time_zone"), zones: zones), windows: try fields.objects("windows").map(window))
        try checked { () throws(DomainError) in try hours.validate() }
        return hours
    }

    /// A zone the node's time zone database knows.
    static func timeZone(_ name: String, zones: RoutingBoard) throws(GatewayError) -> String {
        guard zones.knowsZone(name) else {
            throw GatewayError(.badRequest, code: DomainError.Code.invalidTimeZone.rawValue, "\(name) is not an IANA time zone this node knows")
        }
        return name
    }

    static func destination(_ raw: String) throws(GatewayError) -> DestinationID {
        guard let id = DestinationID(rawValue: raw) else { throw GatewayError.invalidArgument("a destination id has 1 to 64 of A-Z a-z 0-9 . _ -") }
        return id
    }

    static func destinations(_ raws: [String]) throws(GatewayError) -> [DestinationID] {
        var ids: [DestinationID] = []
        for raw in raws { ids.append(try destination(raw)) }
        return ids
    }
}

/// A rule as the API shows it.
struct RoutingRuleResponse: Encodable {
    let rule: String
    let destinations: [DestinationEntry]?
    let timeZone: String?
    let conditions: [ConditionResponse]?
    let otherwise: [String]?

    enum CodingKeys: String, CodingKey {
        case rule, destinations, conditions, otherwise
        case timeZone = "time_zone"
    }

    /// A destination id, or an id with its weight (Percentage).
    enum DestinationEntry: Encodable {
        case id(String)
        case weighted(String, Int)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case let .id(id):
                var container = encoder.singleValueContainer()
                try container.encode(id)
            case let .weighted(id, weight):
                var container = encoder.container(keyedBy: WeightKeys.self)
                try container.encode(id, forKey: .destinationID)
                try container.encode(weight, forKey: .weight)
            }
        }

        enum WeightKeys: String, CodingKey {
            case weight
            case destinationID = "destination_id"
        }
    }

    struct ConditionResponse: Encodable {
        let windows: [WindowResponse]
        let destinations: [String]
    }

    init(_ rule: RoutingRule) {
        self.rule = rule.name
        switch rule {
        case let .alternative(list), let .sticky(list):
            (destinations, timeZone, conditions, otherwise) = (list.map { .id($0.rawValue) }, nil, nil, nil)
        case let .percentage(weighted):
            (destinations, timeZone, conditions, otherwise) = (weighted.map { .weighted($0.destination.rawValue, $0.weight) }, nil, nil, nil)
        case let .time(zone, list, other):
            destinations = nil
            timeZone = zone
            conditions = list.map { ConditionResponse(windows: $0.windows.map(WindowResponse.init), destinations: $0.destinations.map(\.rawValue)) }
            otherwise = other.map(\.rawValue)
        }
    }
}

struct WindowResponse: Encodable {
    let days: [String]
    let from: String
    let to: String

    init(_ window: TimeWindow) {
        days = window.days.sorted { $0.rawValue < $1.rawValue }.map(\.name)
        from = TimeWindow.clock(window.start)
        to = TimeWindow.clock(window.end)
    }
}

struct HoursResponse: Encodable {
    let timeZone: String
    let windows: [WindowResponse]

    enum CodingKeys: String, CodingKey {
        case windows
        case timeZone = "time_zone"
    }

    init(_ hours: BusinessHours) {
        timeZone = hours.timeZone
        windows = hours.windows.map(WindowResponse.init)
    }
}
