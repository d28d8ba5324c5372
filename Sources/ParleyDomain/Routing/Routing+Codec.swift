extension TimeWindow: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(days.reduce(UInt8(0)) { $0 | (1 << $1.rawValue) })
        writer.write(UInt16(start))
        writer.write(UInt16(end))
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> TimeWindow {
        let mask = try reader.readUInt8()
        let days = Set(Weekday.allCases.filter { mask & (1 << $0.rawValue) != 0 })
        return TimeWindow(days: days, start: Int(try reader.readUInt16()), end: Int(try reader.readUInt16()))
    }
}

extension BusinessHours: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(timeZone)
        writer.writeVarint(UInt64(windows.count))
        for window in windows { window.encode(into: &writer) }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> BusinessHours {
        let zone = try reader.readString()
        let count = try reader.readCount(atMost: 50, of: "time windows")
        var windows: [TimeWindow] = []
        for _ in 0..<count { windows.append(try TimeWindow.decode(from: &reader)) }
        return BusinessHours(timeZone: zone, windows: windows)
    }
}

extension RoutingRule: BinaryCodable {
    private enum Tag: UInt8 {
        case alternative = 1, percentage, time, sticky
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .alternative(list):
            writer.write(Tag.alternative.rawValue)
            writer.write(list.map(\.rawValue))
        case let .percentage(weighted):
            writer.write(Tag.percentage.rawValue)
            writer.writeVarint(UInt64(weighted.count))
            for entry in weighted {
                writer.write(entry.destination.rawValue)
                writer.writeVarint(UInt64(entry.weight))
            }
        case let .time(zone, conditions, otherwise):
            writer.write(Tag.time.rawValue)
            writer.write(zone)
            writer.writeVarint(UInt64(conditions.count))
            for condition in conditions {
                writer.writeVarint(UInt64(condition.windows.count))
                for window in condition.windows { window.encode(into: &writer) }
                writer.write(condition.destinations.map(\.rawValue))
            }
            writer.write(otherwise.map(\.rawValue))
        case let .sticky(fallback):
            writer.write(Tag.sticky.rawValue)
            writer.write(fallback.map(\.rawValue))
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoutingRule {
        switch try reader.read(Tag.self, "routing rule") {
        case .alternative: return .alternative(try readDestinations(&reader))
        case .percentage:
            let count = try reader.readCount(atMost: maxDestinations, of: "destinations")
            var weighted: [WeightedDestination] = []
            for _ in 0..<count {
                let destination = DestinationID(unchecked: try reader.readString())
                weighted.append(WeightedDestination(destination, weight: try reader.readCount(atMost: 100, of: "weight")))
            }
            return .percentage(weighted)
        case .time:
            let zone = try reader.readString()
            let count = try reader.readCount(atMost: maxConditions, of: "conditions")
            var conditions: [TimeCondition] = []
            for _ in 0..<count {
                let windowCount = try reader.readCount(atMost: 10, of: "time windows")
                var windows: [TimeWindow] = []
                for _ in 0..<windowCount { windows.append(try TimeWindow.decode(from: &reader)) }
                conditions.append(TimeCondition(windows: windows, destinations: try readDestinations(&reader)))
            }
            return .time(timeZone: zone, conditions: conditions, otherwise: try readDestinations(&reader))
        case .sticky: return .sticky(fallback: try readDestinations(&reader))
        }
    }

    private static func readDestinations(_ reader: inout BinaryReader) throws(DecodingError) -> [DestinationID] {
        let list = try reader.readStrings()
        guard list.count <= maxDestinations else { throw DecodingError("\(list.count) destinations (at most \(maxDestinations))") }
        return list.map(DestinationID.init(unchecked:))
    }
}
