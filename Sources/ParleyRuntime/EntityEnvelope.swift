import ParleyDomain

/// What one log entry carries: the events one command produced for one entity.
/// Format (version 1): `version u8, kind u8, key string, first event seq varint, count
/// varint, events…`; each kind encodes its own events. The first event seq numbers the
/// events in the entity's journal, so applying them needs no read.
enum EntityEnvelope: Equatable {
    case room(RoomID, firstEventSeq: UInt64, [RoomEvent])
    case staff(StaffID, [StaffEvent])

    static let version: UInt8 = 1

    var entity: EntityID {
        switch self {
        case let .room(id, _, _): .room(id)
        case let .staff(id, _): EntityID(kind: .staff, key: id.rawValue)
        }
    }

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 128)
        writer.write(Self.version)
        writer.write(entity.kind.rawValue)
        writer.write(entity.key)
        switch self {
        case let .room(_, firstEventSeq, events):
            writer.writeVarint(firstEventSeq)
            writer.writeVarint(UInt64(events.count))
            for event in events { event.encode(into: &writer) }
        case let .staff(_, events):
            writer.writeVarint(0)
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
        let firstEventSeq = try reader.readVarint()
        let count = try reader.readVarint()
        guard count <= UInt64(bytes.count) else { throw DecodingError("event count \(count) exceeds entry size") }
        switch EntityKind(rawValue: rawKind) {
        case .room:
            guard RoomID.isValid(key) else { throw DecodingError("invalid room id \(key)") }
            var events: [RoomEvent] = []
            for _ in 0..<count { events.append(try RoomEvent.decode(from: &reader)) }
            try reader.expectEnd()
            return .room(RoomID(unchecked: key), firstEventSeq: firstEventSeq, events)
        case .staff:
            guard StaffID.isValid(key) else { throw DecodingError("invalid staff id \(key)") }
            var events: [StaffEvent] = []
            for _ in 0..<count { events.append(try StaffEvent.decode(from: &reader)) }
            try reader.expectEnd()
            return .staff(StaffID(unchecked: key), events)
        case let other:
            throw DecodingError("no events are defined for entity kind \(other.map(String.init(describing:)) ?? "\(rawKind)")")
        }
    }
}
