import ParleyCluster
import ParleyDomain
import ParleyStorage

/// A staff account's applied state: `p` the profile, `t` the token hash.
struct StaffStore: Sendable {
    let database: Database
    let family: ColumnFamily
    let partitioner: Partitioner

    private static func key(_ partition: PartitionID, _ staff: StaffID, _ record: UInt8) -> [UInt8] {
        StateKeys.entityPrefix(partition, EntityID(kind: .staff, key: staff.rawValue)) + [record]
    }

    private static let profile: UInt8 = 0x70  // p
    private static let token: UInt8 = 0x74  // t
    private static let room: UInt8 = 0x72  // r<room id>
    static let mention: UInt8 = 0x6E  // n<index> (insert-hinted: `StateKeys.insertHints`)
    private static let shortcut: UInt8 = 0x73  // s<code>
    /// How many of a staff member's newest mentions are kept.
    static let mentionRetention: UInt64 = 100

    static func addWrites(for events: [StaffEvent], of staff: StaffID, in partition: PartitionID, to writes: inout StateWrites) {
        for event in events {
            switch event {
            case let .created(profile, tokenHash):
                var writer = BinaryWriter()
                profile.encode(into: &writer)
                writes.put(key(partition, staff, Self.profile), writer.bytes)
                writes.put(key(partition, staff, Self.token), tokenHash)
            case let .tokenRotated(tokenHash, _):
                writes.put(key(partition, staff, Self.token), tokenHash)
            case let .roomNoted(room, entry, mentions, firstMention):
                var writer = BinaryWriter()
                entry.encode(into: &writer)
                writes.put(key(partition, staff, Self.room) + Array(room.rawValue.utf8), writer.bytes)
                for (offset, mention) in mentions.enumerated() {
                    var mentionWriter = BinaryWriter()
                    mention.encode(into: &mentionWriter)
                    writes.put(key(partition, staff, Self.mention) + StateKeys.bigEndian(firstMention + UInt64(offset)), mentionWriter.bytes)
                }
                let total = firstMention + UInt64(mentions.count)
                if !mentions.isEmpty, total > mentionRetention {
                    writes.deleteRange(
                        from: key(partition, staff, Self.mention),
                        to: key(partition, staff, Self.mention) + StateKeys.bigEndian(total - mentionRetention))
                }
            case let .shortcutSet(shortcut):
                var writer = BinaryWriter()
                shortcut.encode(into: &writer)
                writes.put(key(partition, staff, Self.shortcut) + Array(shortcut.code.utf8), writer.bytes)
            case let .shortcutRemoved(code):
                writes.delete(key(partition, staff, Self.shortcut) + Array(code.utf8))
            }
        }
    }

    /// The newest mentions, newest first.
    func mentions(of staff: StaffID, limit: Int) throws(RuntimeError) -> [Mention] {
        let prefix = Self.key(partition(of: staff), staff, Self.mention)
        return try readingState {
            try database.entries(.prefix(prefix), in: family, reverse: true, limit: limit).map { entry in
                var reader = BinaryReader(entry.value)
                return try Mention.decode(from: &reader)
            }
        }
    }

    func partition(of staff: StaffID) -> PartitionID {
        partitioner.partition(for: EntityID(kind: .staff, key: staff.rawValue).description)
    }

    func load(_ staff: StaffID) throws(RuntimeError) -> StaffState {
        let partition = partition(of: staff)
        return try readingState { () throws -> StaffState in
            var profile: StaffProfile?
            if let rawProfile = try database.get(Self.key(partition, staff, Self.profile), in: family) {
                var reader = BinaryReader(rawProfile)
                profile = try StaffProfile.decode(from: &reader)
            }
            let hash = try database.get(Self.key(partition, staff, Self.token), in: family) ?? []
            let roomPrefix = Self.key(partition, staff, Self.room)
            var rooms: [RoomID: StaffRoomEntry] = [:]
            for entry in try database.entries(.prefix(roomPrefix), in: family) {
                var reader = BinaryReader(entry.value)
                rooms[RoomID(unchecked: String(decoding: entry.key[roomPrefix.count...], as: UTF8.self))] = try StaffRoomEntry.decode(from: &reader)
            }
            let mentionPrefix = Self.key(partition, staff, Self.mention)
            let lastMention = try database.last(in: .prefix(mentionPrefix), of: family).flatMap { StateKeys.readBigEndian($0.key[mentionPrefix.count...]) }
            var shortcuts: [String: Shortcut] = [:]
            for entry in try database.entries(.prefix(Self.key(partition, staff, Self.shortcut)), in: family) {
                var reader = BinaryReader(entry.value)
                let shortcut = try Shortcut.decode(from: &reader)
                shortcuts[shortcut.code] = shortcut
            }
            return StaffState(
                id: staff, profile: profile, tokenHash: hash, rooms: rooms, mentionCount: lastMention.map { $0 + 1 } ?? 0, shortcuts: shortcuts)
        }
    }
}

/// Where a staff member's committed events go to be seen live: their own sessions.
public protocol StaffEventSink: Sendable {
    func publish(_ events: [StaffEvent], staff: StaffState)
}
