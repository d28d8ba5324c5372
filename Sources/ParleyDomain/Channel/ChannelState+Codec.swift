extension ChannelEvent {
    private enum Tag: UInt8 {
        case created = 1
        case updated = 2
        case shortcutSet = 3
        case shortcutRemoved = 4
        case sourceSettingsSet = 5
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
        case let .sourceSettingsSet(settings):
            writer.write(Tag.sourceSettingsSet.rawValue)
            settings.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ChannelEvent {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .created: return .created(try ChannelProfile.decode(from: &reader))
        case .updated: return .updated(try ChannelProfile.decode(from: &reader))
        case .shortcutSet: return .shortcutSet(try Shortcut.decode(from: &reader))
        case .shortcutRemoved: return .shortcutRemoved(code: try reader.readString())
        case .sourceSettingsSet: return .sourceSettingsSet(try SourceSettings.decode(from: &reader))
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

/// Channel commands and channels as nodes forward them. Tags are part of the peer protocol.
extension ChannelCommand {
    private enum Tag: UInt8 {
        case create = 1
        case update = 2
        case setShortcut = 3
        case removeShortcut = 4
        case setSourceSettings = 5
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .create(name, kind, webLink, phoneNumber):
            writer.write(Tag.create.rawValue)
            writer.write(name)
            writer.write(kind.rawValue)
            writer.write(webLink)
            writer.write(phoneNumber)
        case let .update(name, webLink, phoneNumber):
            writer.write(Tag.update.rawValue)
            writer.write(name)
            writer.write(webLink)
            writer.write(phoneNumber)
        case let .setShortcut(shortcut):
            writer.write(Tag.setShortcut.rawValue)
            shortcut.encode(into: &writer)
        case let .removeShortcut(code):
            writer.write(Tag.removeShortcut.rawValue)
            writer.write(code)
        case let .setSourceSettings(settings):
            writer.write(Tag.setSourceSettings.rawValue)
            settings.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ChannelCommand {
        switch try reader.read(Tag.self, "channel command tag") {
        case .create:
            let name = try reader.readString()
            let kind = try reader.read(ChannelKind.self, "channel kind")
            let webLink = try reader.readOptionalString()
            return .create(name: name, kind: kind, webLink: webLink, phoneNumber: try reader.readOptionalString())
        case .update:
            let name = try reader.readOptionalString()
            let webLink = try reader.readOptionalString()
            return .update(name: name, webLink: webLink, phoneNumber: try reader.readOptionalString())
        case .setShortcut:
            return .setShortcut(try Shortcut.decode(from: &reader))
        case .removeShortcut:
            return .removeShortcut(code: try reader.readString())
        case .setSourceSettings:
            return .setSourceSettings(try SourceSettings.decode(from: &reader))
        }
    }
}

extension ChannelState {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(id.rawValue)
        writer.write(profile != nil)
        profile?.encode(into: &writer)
        writer.writeVarint(UInt64(shortcuts.count))
        for (_, shortcut) in shortcuts.sorted(by: { $0.key < $1.key }) { shortcut.encode(into: &writer) }
        // Added with enquiries: read only when present.
        settings.encode(into: &writer)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ChannelState {
        let id = ChannelID(unchecked: try reader.readString())
        let profile = try reader.readBool() ? try ChannelProfile.decode(from: &reader) : nil
        var shortcuts: [String: Shortcut] = [:]
        for _ in 0..<(try reader.readCount(atMost: maxShortcuts, of: "shortcuts")) {
            let shortcut = try Shortcut.decode(from: &reader)
            shortcuts[shortcut.code] = shortcut
        }
        let settings = reader.isAtEnd ? SourceSettings() : try SourceSettings.decode(from: &reader)
        return ChannelState(id: id, profile: profile, shortcuts: shortcuts, settings: settings)
    }
}
