import ParleyDomain

/// What one log entry of the runtime's own carries: file chunks, discarded uploads, outbox
/// deletions, and rooms' events as written before rooms ran on the generic entity actor.
/// Entries of registered kinds (rooms, staff, channels, …) are `EntityEntry`s.
/// Format (version 1): `version u8, kind u8, key string, …`.
enum EntityEnvelope: Equatable {
    /// A room's events as version 1 wrote them: `first event seq varint, count varint,
    /// events…, notice batch count varint, batches…` (the notices they owe staff members, for
    /// the notices outbox). Still read (a log may replay them); written only by tests. Later
    /// room entries are `EntityEntry`s.
    case room(RoomID, firstEventSeq: UInt64, [RoomEvent], notices: [NoticeBatch] = [])
    /// Bytes of a file shared in a room (no state machine decides anything about them).
    case fileChunk(RoomID, file: String, index: UInt32, bytes: [UInt8])
    /// The chunks of an upload no message took up, collected by the upload sweep.
    case uploadDiscarded(RoomID, file: String)
    /// Outbox records the partition's leader delivered: deleted on every replica.
    case outboxDelivered([[UInt8]])

    /// The kind byte of file chunks: stored under their room, but not room events.
    static let fileChunkKind: UInt8 = 0x81
    static let uploadDiscardedKind: UInt8 = 0x82
    static let outboxDeliveredKind: UInt8 = 0x83

    static let version: UInt8 = 1

    /// Whether `payload` is one of these (else an `EntityEntry` of a registered kind).
    static func claims(_ payload: [UInt8]) -> Bool {
        guard payload.count > 1 else { return true }
        return payload[1] >= fileChunkKind || (payload[0] == version && payload[1] == EntityKind.room.rawValue)
    }

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 128)
        writer.write(Self.version)
        switch self {
        case let .room(id, firstEventSeq, events, notices):
            Self.writeEvents(.room, id.rawValue, firstEventSeq: firstEventSeq, events, into: &writer) { $0.encode(into: &$1) }
            writer.writeVarint(UInt64(notices.count))
            for batch in notices { batch.encode(into: &writer) }
        case let .fileChunk(room, file, index, bytes):
            writer.write(Self.fileChunkKind)
            writer.write(room.rawValue)
            writer.write(file)
            writer.writeVarint(UInt64(index))
            writer.write(bytes: bytes)
        case let .uploadDiscarded(room, file):
            writer.write(Self.uploadDiscardedKind)
            writer.write(room.rawValue)
            writer.write(file)
        case let .outboxDelivered(keys):
            writer.write(Self.outboxDeliveredKind)
            writer.write("")
            writer.writeVarint(UInt64(keys.count))
            for key in keys { writer.write(bytes: key) }
        }
        return writer.bytes
    }

    /// `kind u8, key string, first event seq varint, count varint, events…`.
    private static func writeEvents<Event>(
        _ kind: EntityKind, _ key: String, firstEventSeq: UInt64 = 0, _ events: [Event], into writer: inout BinaryWriter,
        _ encode: (Event, inout BinaryWriter) -> Void
    ) {
        writer.write(kind.rawValue)
        writer.write(key)
        writer.writeVarint(firstEventSeq)
        writer.writeVarint(UInt64(events.count))
        for event in events { encode(event, &writer) }
    }

    static func decode(_ bytes: [UInt8]) throws(DecodingError) -> EntityEnvelope {
        try decodeLocatingEvents(bytes).envelope
    }

    /// As `decode`, with where each room event's encoding lies in `bytes` (in event order;
    /// empty for other kinds): applying stores those bytes as they are, not encoded again.
    static func decodeLocatingEvents(_ bytes: [UInt8]) throws(DecodingError) -> (envelope: EntityEnvelope, roomEvents: [Range<Int>]) {
        var reader = BinaryReader(bytes)
        let version = try reader.readUInt8()
        let rawKind = try reader.readUInt8()
        guard version == Self.version else { throw DecodingError("unsupported envelope version \(version)") }
        let key = try reader.readString()
        if rawKind == Self.fileChunkKind {
            guard RoomID.isValid(key) else { throw DecodingError("invalid room id \(key)") }
            let file = try reader.readString()
            let index = try reader.readVarint()
            guard index <= UInt64(UInt32.max) else { throw DecodingError("chunk index \(index) out of range") }
            let bytes = try reader.readBytes()
            try reader.expectEnd()
            return (.fileChunk(RoomID(unchecked: key), file: file, index: UInt32(index), bytes: bytes), [])
        }
        if rawKind == Self.outboxDeliveredKind {
            let count = try reader.readVarint()
            guard count <= UInt64(bytes.count) else { throw DecodingError("key count \(count) exceeds entry size") }
            var keys: [[UInt8]] = []
            for _ in 0..<count { keys.append(try reader.readBytes()) }
            try reader.expectEnd()
            return (.outboxDelivered(keys), [])
        }
        if rawKind == Self.uploadDiscardedKind {
            guard RoomID.isValid(key) else { throw DecodingError("invalid room id \(key)") }
            let file = try reader.readString()
            try reader.expectEnd()
            return (.uploadDiscarded(RoomID(unchecked: key), file: file), [])
        }
        let firstEventSeq = try reader.readVarint()
        let count = try reader.readVarint()
        guard count <= UInt64(bytes.count) else { throw DecodingError("event count \(count) exceeds entry size") }
        guard rawKind == EntityKind.room.rawValue else {
            throw DecodingError("entity kind \(rawKind) is not registered on this node")
        }
        do {
            guard RoomID.isValid(key) else { throw DecodingError("invalid room id \(key)") }
            var events: [RoomEvent] = []
            var ranges: [Range<Int>] = []
            events.reserveCapacity(Int(count))
            ranges.reserveCapacity(Int(count))
            for _ in 0..<count {
                let start = reader.offset
                events.append(try RoomEvent.decode(from: &reader))
                ranges.append(start..<reader.offset)
            }
            let batchCount = try reader.readCount(atMost: bytes.count, of: "notices")
            var notices: [NoticeBatch] = []
            for _ in 0..<batchCount { notices.append(try NoticeBatch.decode(from: &reader)) }
            try reader.expectEnd()
            return (.room(RoomID(unchecked: key), firstEventSeq: firstEventSeq, events, notices: notices), ranges)
        }
    }
}

/// The notices one room event owes one staff member: one outbox record, applied once.
struct NoticeBatch: Equatable, Sendable {
    let room: RoomID
    let staff: StaffID
    let eventSeq: UInt64
    let notices: [StaffNotice]

    func encode(into writer: inout BinaryWriter) {
        writer.write(room.rawValue)
        writer.write(staff.rawValue)
        writer.writeVarint(eventSeq)
        writer.writeVarint(UInt64(notices.count))
        for notice in notices { notice.encode(into: &writer) }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> NoticeBatch {
        let room = try reader.readString()
        let staff = try reader.readString()
        guard RoomID.isValid(room), StaffID.isValid(staff) else { throw DecodingError("invalid notice address \(room) \(staff)") }
        let eventSeq = try reader.readVarint()
        let count = try reader.readVarint()
        guard count <= 64 else { throw DecodingError("too many notices: \(count)") }
        var notices: [StaffNotice] = []
        for _ in 0..<count { notices.append(try StaffNotice.decode(from: &reader)) }
        return NoticeBatch(room: RoomID(unchecked: room), staff: StaffID(unchecked: staff), eventSeq: eventSeq, notices: notices)
    }
}
