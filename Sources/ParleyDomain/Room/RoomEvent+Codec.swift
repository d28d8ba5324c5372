/// The binary form of room events, profiles and messages. Tags and field order are part of
/// the log format: add new tags or trailing fields, never renumber.
extension RoomEvent {
    private enum Tag: UInt8 {
        case created = 1
        case messagePosted = 2
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .created(profile, members):
            writer.write(Tag.created.rawValue)
            profile.encode(into: &writer)
            writer.write(members.map(\.rawValue))
        case let .messagePosted(message):
            writer.write(Tag.messagePosted.rawValue)
            message.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomEvent {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .created:
            let profile = try RoomProfile.decode(from: &reader)
            let members = try reader.readStrings().map { StaffID(unchecked: $0) }
            return .created(profile, members: members)
        case .messagePosted:
            return .messagePosted(try Message.decode(from: &reader))
        case nil:
            throw DecodingError("unknown room event tag \(raw)")
        }
    }
}

extension RoomProfile {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(kind.rawValue)
        writer.write(name)
        writer.write(description)
        writer.write(visibility.rawValue)
        writer.write(createdBy.rawValue)
        writer.write(createdAt.milliseconds)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomProfile {
        let rawKind = try reader.readUInt8()
        guard let kind = RoomKind(rawValue: rawKind) else { throw DecodingError("unknown room kind \(rawKind)") }
        let name = try reader.readString()
        let description = try reader.readString()
        let rawVisibility = try reader.readUInt8()
        guard let visibility = RoomVisibility(rawValue: rawVisibility) else {
            throw DecodingError("unknown room visibility \(rawVisibility)")
        }
        let createdBy = StaffID(unchecked: try reader.readString())
        let createdAt = Timestamp(milliseconds: try reader.readInt64())
        return RoomProfile(kind: kind, name: name, description: description, visibility: visibility, createdBy: createdBy, createdAt: createdAt)
    }
}

extension Message {
    public func encode(into writer: inout BinaryWriter) {
        writer.writeVarint(seq)
        writer.write(author.rawValue)
        writer.write(text)
        writer.write(postedAt.milliseconds)
        writer.write(idempotencyKey)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Message {
        Message(
            seq: try reader.readVarint(),
            author: StaffID(unchecked: try reader.readString()),
            text: try reader.readString(),
            postedAt: Timestamp(milliseconds: try reader.readInt64()),
            idempotencyKey: try reader.readOptionalString())
    }
}
