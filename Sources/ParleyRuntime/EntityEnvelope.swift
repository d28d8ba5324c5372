import ParleyDomain

/// What one log entry carries: the events one command produced for one entity.
/// Format (version 1): `version u8, kind u8, key string, count varint, events…`; each kind
/// encodes its own events.
enum EntityEnvelope: Equatable {
    case room(RoomID, [RoomEvent])

    static let version: UInt8 = 1

    var entity: EntityID {
        switch self {
        case let .room(id, _): .room(id)
        }
    }

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 128)
        writer.write(Self.version)
        writer.write(entity.kind.rawValue)
        writer.write(entity.key)
        switch self {
        case let .room(_, events):
            writer.writeVarint(UInt64(events.count))
            for event in events { event.encode(into: &writer) }
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(DecodingError) -> EntityEnvelope {
        var reader = BinaryReader(bytes)
        let version = try reader.readUInt8()
        guard version == Self.version else { throw DecodingError("unsupported envelope version \(version)") }
        let rawKind = try reader.readUInt8()
        let key = try reader.readString()
        let count = try reader.readVarint()
        guard count <= UInt64(bytes.count) else { throw DecodingError("event count \(count) exceeds entry size") }
        switch EntityKind(rawValue: rawKind) {
        case .room:
            guard RoomID.isValid(key) else { throw DecodingError("invalid room id \(key)") }
            var events: [RoomEvent] = []
            for _ in 0..<count { events.append(try RoomEvent.decode(from: &reader)) }
            try reader.expectEnd()
            return .room(RoomID(unchecked: key), events)
        case let other:
            throw DecodingError("no events are defined for entity kind \(other.map(String.init(describing:)) ?? "\(rawKind)")")
        }
    }
}
