import ParleyCluster
import ParleyDomain
import ParleyStorage

/// A channel's applied state: `p` the profile, `s<code>` its own shortcuts.
enum ChannelStore {
    static let profile: UInt8 = 0x70  // p
    private static let shortcut: UInt8 = 0x73  // s<code>
    private static let settings: UInt8 = 0x72  // r: routing and the other source settings

    private static func key(_ partition: PartitionID, _ channel: String, _ record: UInt8) -> [UInt8] {
        StateKeys.entityPrefix(partition, EntityID(kind: .channel, key: channel)) + [record]
    }

    static func addWrites(for events: [ChannelEvent], of channel: ChannelID, in partition: PartitionID, to writes: inout StateWrites) {
        for event in events {
            switch event {
            case let .created(profile), let .updated(profile):
                var writer = BinaryWriter()
                profile.encode(into: &writer)
                writes.put(key(partition, channel.rawValue, Self.profile), writer.bytes)
            case let .shortcutSet(shortcut):
                var writer = BinaryWriter()
                shortcut.encode(into: &writer)
                writes.put(key(partition, channel.rawValue, Self.shortcut) + Array(shortcut.code.utf8), writer.bytes)
            case let .shortcutRemoved(code):
                writes.delete(key(partition, channel.rawValue, Self.shortcut) + Array(code.utf8))
            case let .sourceSettingsSet(settings):
                writes.put(key(partition, channel.rawValue, Self.settings), settings.encoded)
            }
        }
    }

    /// The channel as applied: its profile and its own shortcuts.
    static func load(_ reader: EntityRecordReader) throws -> ChannelState {
        var profile: ChannelProfile?
        if let raw = try reader.get(Self.profile) {
            var bytes = BinaryReader(raw)
            profile = try ChannelProfile.decode(from: &bytes)
        }
        var shortcuts: [String: Shortcut] = [:]
        for entry in try reader.entries(Self.shortcut) {
            var bytes = BinaryReader(entry.value)
            let shortcut = try Shortcut.decode(from: &bytes)
            shortcuts[shortcut.code] = shortcut
        }
        let settings = try reader.get(Self.settings).map { try SourceSettings.decode($0) } ?? SourceSettings()
        return ChannelState(id: ChannelID(unchecked: reader.records.entity.key), profile: profile, shortcuts: shortcuts, settings: settings)
    }

    /// Channels as a registered kind.
    static let registration = EntityKindRegistration<ChannelState>(
        storage: EntityStorage(
            addWrites: { events, records, writes in addWrites(for: events, of: ChannelID(unchecked: records.entity.key), in: records.partition, to: &writes) },
            load: { reader in try load(reader) }))
}
