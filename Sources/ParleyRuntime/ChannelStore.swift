import ParleyCluster
import ParleyDomain
import ParleyStorage

/// A channel's applied state: `p` the profile, `s<code>` its own shortcuts.
struct ChannelStore: Sendable {
    let database: Database
    let family: ColumnFamily
    let partitioner: Partitioner

    private static let profile: UInt8 = 0x70  // p
    private static let shortcut: UInt8 = 0x73  // s<code>

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
            }
        }
    }

    func partition(of channel: ChannelID) -> PartitionID {
        partitioner.partition(for: EntityID(kind: .channel, key: channel.rawValue).description)
    }

    func load(_ channel: ChannelID) throws(RuntimeError) -> ChannelState {
        let partition = partition(of: channel)
        return try readingState { () throws -> ChannelState in
            var profile: ChannelProfile?
            if let raw = try database.get(Self.key(partition, channel.rawValue, Self.profile), in: family) {
                var reader = BinaryReader(raw)
                profile = try ChannelProfile.decode(from: &reader)
            }
            var shortcuts: [String: Shortcut] = [:]
            for entry in try database.entries(.prefix(Self.key(partition, channel.rawValue, Self.shortcut)), in: family) {
                var reader = BinaryReader(entry.value)
                let shortcut = try Shortcut.decode(from: &reader)
                shortcuts[shortcut.code] = shortcut
            }
            return ChannelState(id: channel, profile: profile, shortcuts: shortcuts)
        }
    }

    /// Every channel that exists, by id, as applied: its profile records found partition by
    /// partition, each loaded here (listing activates no actors).
    func allChannels() throws(RuntimeError) -> [ChannelState] {
        let ids = try readingState { () throws -> [ChannelID] in
            var ids: [ChannelID] = []
            for partition in partitioner.allPartitions {
                let prefix = partition.keyPrefix + [EntityKind.channel.rawValue]
                for entry in try database.entries(.prefix(prefix), in: family) {
                    // key: prefix ++ id ++ 0x00 ++ record; ids never hold 0x00.
                    let rest = entry.key[prefix.count...]
                    guard let end = rest.firstIndex(of: 0), Array(entry.key[(end + 1)...]) == [Self.profile] else { continue }
                    ids.append(ChannelID(unchecked: String(decoding: rest[..<end], as: UTF8.self)))
                }
            }
            return ids
        }
        var channels: [ChannelState] = []
        for id in ids.sorted() { channels.append(try load(id)) }
        return channels
    }
}
