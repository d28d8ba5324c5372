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

    static let profile: UInt8 = 0x70  // p
    static let token: UInt8 = 0x74  // t
    static let room: UInt8 = 0x72  // r<room id>
    static let mention: UInt8 = 0x6E  // n<index> (insert-hinted: `StateKeys.insertHints`)
    static let shortcut: UInt8 = 0x73  // s<code>
    static let availability: UInt8 = 0x61  // a
    static let capacity: UInt8 = 0x63  // c
    static let enquiry: UInt8 = 0x65  // e<enquiry id>: an open enquiry they own
    static let offer: UInt8 = 0x6F  // o<enquiry id>: an enquiry offered to them
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
            case let .availabilitySet(availability, _):
                writes.put(key(partition, staff, Self.availability), [availability.rawValue])
            case let .capacitySet(capacity, _):
                var writer = BinaryWriter()
                writer.writeVarint(UInt64(capacity))
                writes.put(key(partition, staff, Self.capacity), writer.bytes)
            case let .enquiryNoted(notice):
                addWrites(for: notice, of: staff, in: partition, to: &writes)
            }
        }
    }

    private static func addWrites(for notice: EnquiryNotice, of staff: StaffID, in partition: PartitionID, to writes: inout StateWrites) {
        switch notice {
        case let .offered(note):
            writes.put(key(partition, staff, Self.offer) + Array(note.enquiry.rawValue.utf8), note.encoded)
        case let .offerEnded(enquiry, _):
            writes.delete(key(partition, staff, Self.offer) + Array(enquiry.rawValue.utf8))
        case let .assigned(enquiry):
            writes.delete(key(partition, staff, Self.offer) + Array(enquiry.rawValue.utf8))
            writes.put(key(partition, staff, Self.enquiry) + Array(enquiry.rawValue.utf8), [])
        case let .released(enquiry):
            writes.delete(key(partition, staff, Self.enquiry) + Array(enquiry.rawValue.utf8))
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
        partitioner.partition(of: EntityID(kind: .staff, key: staff.rawValue))
    }

    /// The account as applied: profile, token hash, room entries, mention count, shortcuts.
    static func load(_ reader: EntityRecordReader) throws -> StaffState {
        let staff = StaffID(unchecked: reader.records.entity.key)
        var profile: StaffProfile?
        if let rawProfile = try reader.get(Self.profile) {
            var bytes = BinaryReader(rawProfile)
            profile = try StaffProfile.decode(from: &bytes)
        }
        let hash = try reader.get(Self.token) ?? []
        var rooms: [RoomID: StaffRoomEntry] = [:]
        for entry in try reader.entries(Self.room) {
            var bytes = BinaryReader(entry.value)
            rooms[RoomID(unchecked: String(decoding: entry.rest, as: UTF8.self))] = try StaffRoomEntry.decode(from: &bytes)
        }
        let lastMention = try reader.last(Self.mention).flatMap { StateKeys.readBigEndian($0.rest[...]) }
        var shortcuts: [String: Shortcut] = [:]
        for entry in try reader.entries(Self.shortcut) {
            var bytes = BinaryReader(entry.value)
            let shortcut = try Shortcut.decode(from: &bytes)
            shortcuts[shortcut.code] = shortcut
        }
        let availability = try reader.get(Self.availability).flatMap { $0.first.flatMap(Availability.init(rawValue:)) } ?? .active
        var capacity = StaffStatus.defaultCapacity
        if let raw = try reader.get(Self.capacity) {
            var bytes = BinaryReader(raw)
            capacity = try bytes.readCount(atMost: StaffStatus.maxCapacity, of: "capacity")
        }
        let enquiries = Set(try reader.entries(Self.enquiry).map { EnquiryID(unchecked: String(decoding: $0.rest, as: UTF8.self)) })
        var offers: [EnquiryID: EnquiryOfferNote] = [:]
        for entry in try reader.entries(Self.offer) {
            let note = try EnquiryOfferNote.decode(entry.value)
            offers[note.enquiry] = note
        }
        return StaffState(
            id: staff, profile: profile, tokenHash: hash, rooms: rooms, mentionCount: lastMention.map { $0 + 1 } ?? 0, shortcuts: shortcuts,
            availability: availability, capacity: capacity, enquiries: enquiries, offers: offers)
    }

    /// Staff accounts as a registered kind: their records, live publication to the member's
    /// own sessions, and the reads beside the account (credentials, mentions, presence).
    static let registration = EntityKindRegistration<StaffState>(
        storage: EntityStorage(
            addWrites: { events, records, writes in addWrites(for: events, of: StaffID(unchecked: records.entity.key), in: records.partition, to: &writes) },
            load: { reader in try load(reader) }),
        publish: { sinks, _, events, state in
            sinks.staff.publish(events, staff: state)
            if events.contains(where: \.changesStatus) { sinks.routing.accountChanged(state) }
        },
        operations: [
            "credentials": EntityOperation(linearizable: false) { runtime, entity, _, _ throws(RuntimeError) in
                let account = try await runtime.localState(of: entity.key, StaffState.self)
                var writer = BinaryWriter()
                let credentials = account.credentials
                writer.write(credentials != nil)
                credentials?.encode(into: &writer)
                return writer.bytes
            },
            "mentions": EntityOperation { runtime, entity, _, payload throws(RuntimeError) in
                var reader = BinaryReader(payload)
                let limit = (try? reader.readCount(atMost: 10_000, of: "mentions")) ?? 50
                let store = runtime.staffStore
                let mentions = try await store.database.executor.run { () throws(RuntimeError) -> [Mention] in
                    try store.mentions(of: StaffID(unchecked: entity.key), limit: limit)
                }
                var writer = BinaryWriter()
                writer.writeVarint(UInt64(mentions.count))
                for mention in mentions { mention.encode(into: &writer) }
                return writer.bytes
            },
            "presence": EntityOperation { runtime, entity, _, _ throws(RuntimeError) in
                let staff = StaffID(unchecked: entity.key)
                guard try await runtime.localState(of: entity.key, StaffState.self).exists else {
                    throw .rejected(DomainError(.staffNotFound, "no staff member \(staff)"))
                }
                return runtime.presenceHere(of: staff).encoded
            },
        ])
}

extension StaffEvent {
    /// Whether the event changes what routing knows of the account.
    var changesStatus: Bool {
        switch self {
        case .created, .availabilitySet, .capacitySet: true
        case let .enquiryNoted(notice):
            switch notice {
            case .assigned, .released: true
            case .offered, .offerEnded: false
            }
        case .tokenRotated, .roomNoted, .shortcutSet, .shortcutRemoved: false
        }
    }
}

/// Where a staff member's committed events go to be seen live: their own sessions.
public protocol StaffEventSink: Sendable {
    func publish(_ events: [StaffEvent], staff: StaffState)
}
