extension ChannelEvent {
    private enum Tag: UInt8 {
        case created = 1
        case updated = 2
        case shortcutSet = 3
        case shortcutRemoved = 4
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .created(profile):
            writer.write(Tag.created.rawValue)
            profile.encode(into: &writer)
        case let .updated(profile):
            writer.write(Tag.updated.rawValue)
            profile.encode(into: &writer)
        case let .shortcutSet(shortcut):
            writer.write(Tag.shortcutSet.rawValue)
            shortcut.encode(into: &writer)
        case let .shortcutRemoved(code):
            writer.write(Tag.shortcutRemoved.rawValue)
            writer.write(code)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ChannelEvent {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .created: return .created(try ChannelProfile.decode(from: &reader))
        case .updated: return .updated(try ChannelProfile.decode(from: &reader))
        case .shortcutSet: return .shortcutSet(try Shortcut.decode(from: &reader))
        case .shortcutRemoved: return .shortcutRemoved(code: try reader.readString())
        case nil: throw DecodingError("unknown channel event tag \(raw)")
        }
    }
}

extension ChannelProfile {
    /// Format: name, kind u8, web link (empty: none), phone number (empty: none), created at.
    public func encode(into writer: inout BinaryWriter) {
        writer.write(name)
        writer.write(kind.rawValue)
        writer.write(webLink ?? "")
        writer.write(phoneNumber ?? "")
        writer.write(createdAt.milliseconds)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ChannelProfile {
        let name = try reader.readString()
        let rawKind = try reader.readUInt8()
        guard let kind = ChannelKind(rawValue: rawKind) else { throw DecodingError("unknown channel kind \(rawKind)") }
        let webLink = try reader.readString()
        let phoneNumber = try reader.readString()
        return ChannelProfile(
            name: name, kind: kind, webLink: webLink.isEmpty ? nil : webLink, phoneNumber: phoneNumber.isEmpty ? nil : phoneNumber,
            createdAt: Timestamp(milliseconds: try reader.readInt64()))
    }
}
