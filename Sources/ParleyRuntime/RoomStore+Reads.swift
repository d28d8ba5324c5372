import ParleyCluster
import ParleyDomain
import ParleyStorage

/// One event of a room's journal: its place there, and the event.
public struct JournalEntry: Sendable, Equatable {
    public let room: RoomID
    public let eventSeq: UInt64
    public let event: RoomEvent
}

extension RoomStore {
    /// The room as applied so far: profile, members, last message and event seqs.
    func load(_ room: RoomID) throws(RuntimeError) -> RoomState {
        let partition = partition(of: room)
        return try readingState { () throws -> RoomState in
            guard let rawProfile = try database.get(Self.key(partition, room, .profile), in: family) else {
                return RoomState(id: room)
            }
            var reader = BinaryReader(rawProfile)
            let profile = try RoomProfile.decode(from: &reader)
            var members: [StaffID: MemberState] = [:]
            for (staff, value) in try memberRecords(.member, partition, room) {
                members[staff] = MemberState(joinedAt: Timestamp(milliseconds: Int64(bitPattern: StateKeys.readBigEndian(value[...]) ?? 0)))
            }
            for (staff, value) in try memberRecords(.readPointer, partition, room) where members[staff] != nil {
                members[staff]?.readSeq = StateKeys.readBigEndian(value[...]) ?? 0
            }
            for (staff, value) in try memberRecords(.mute, partition, room) where members[staff] != nil {
                members[staff]?.mute = value.first.flatMap(MuteSetting.init(rawValue:)) ?? .all
            }
            var information = RoomInformation()
            if let raw = try database.get(Self.key(partition, room, .information), in: family) {
                var reader = BinaryReader(raw)
                information = try RoomInformation.decode(from: &reader)
            }
            return RoomState(
                id: room, profile: profile, members: members,
                lastSeq: try lastSeq(of: .message, partition, room),
                lastEventSeq: try lastSeq(of: .journal, partition, room), information: information)
        }
    }

    /// The message `seq` as applied, if any.
    func message(in room: RoomID, seq: UInt64) throws(RuntimeError) -> Message? {
        let partition = partition(of: room)
        return try readingState { () throws -> Message? in
            guard let raw = try database.get(Self.key(partition, room, .message, StateKeys.bigEndian(seq)), in: family) else { return nil }
            var reader = BinaryReader(raw)
            return try Message.decode(from: &reader)
        }
    }

    /// The committed message that `idempotencyKey` produced, if any.
    func message(in room: RoomID, idempotencyKey: String) throws(RuntimeError) -> Message? {
        let partition = partition(of: room)
        let seq = try readingState { () throws -> UInt64? in
            try database.get(Self.key(partition, room, .idempotency, Array(idempotencyKey.utf8)), in: family)
                .flatMap { StateKeys.readBigEndian($0[...]) }
        }
        guard let seq else { return nil }
        return try message(in: room, seq: seq)
    }

    /// One page of history, oldest first.
    func messages(in room: RoomID, page: HistoryPage) throws(RuntimeError) -> [Message] {
        let prefix = Self.key(partition(of: room), room, .message)
        var range = KeyRange.prefix(prefix)
        var reverse = true
        if let after = page.after {
            range.lower = prefix + StateKeys.bigEndian(after &+ 1)
            reverse = false
        }
        if let before = page.before {
            range.upper = prefix + StateKeys.bigEndian(before)
        }
        let found = try readingState { () throws -> [Message] in
            try database.entries(range, in: family, reverse: reverse, limit: page.limit).map { entry in
                var reader = BinaryReader(entry.value)
                return try Message.decode(from: &reader)
            }
        }
        return reverse ? found.reversed() : found
    }

    /// Journal events after `eventSeq`, oldest first, at most `limit`; and the seq of the
    /// oldest event still kept, so a client that fell further behind knows to reload.
    func journal(of room: RoomID, after eventSeq: UInt64, limit: Int) throws(RuntimeError) -> (entries: [JournalEntry], oldestKept: UInt64?) {
        let prefix = Self.key(partition(of: room), room, .journal)
        return try readingState { () throws -> ([JournalEntry], UInt64?) in
            let oldest = try database.entries(.prefix(prefix), in: family, limit: 1).first.flatMap { StateKeys.readBigEndian($0.key[prefix.count...]) }
            let range = KeyRange(lower: prefix + StateKeys.bigEndian(eventSeq &+ 1), upper: KeyRange.successor(ofPrefix: prefix))
            let entries = try database.entries(range, in: family, limit: limit).map { entry in
                var reader = BinaryReader(entry.value)
                return JournalEntry(room: room, eventSeq: StateKeys.readBigEndian(entry.key[prefix.count...]) ?? 0, event: try RoomEvent.decode(from: &reader))
            }
            return (entries, oldest)
        }
    }

    private func memberRecords(_ record: Record, _ partition: PartitionID, _ room: RoomID) throws(StorageError) -> [(StaffID, [UInt8])] {
        let prefix = Self.key(partition, room, record)
        return try database.entries(.prefix(prefix), in: family).map { entry in
            (StaffID(unchecked: String(decoding: entry.key[prefix.count...], as: UTF8.self)), entry.value)
        }
    }

    private func lastSeq(of record: Record, _ partition: PartitionID, _ room: RoomID) throws(StorageError) -> UInt64 {
        let prefix = Self.key(partition, room, record)
        return try database.last(in: .prefix(prefix), of: family).flatMap { StateKeys.readBigEndian($0.key[prefix.count...]) } ?? 0
    }
}

/// Which part of a room's history to read. With `after`, the page starts just after that
/// sequence number and goes forward; otherwise it ends just before `before` (or at the
/// newest message) and reaches back `limit` messages.
public struct HistoryPage: Sendable, Equatable {
    public var after: UInt64?
    public var before: UInt64?
    public var limit: Int

    public static let maxLimit = 200

    public init(after: UInt64? = nil, before: UInt64? = nil, limit: Int = 50) {
        self.after = after
        self.before = before
        self.limit = min(max(limit, 1), Self.maxLimit)
    }
}

/// Maps storage and decoding failures of a state read to runtime errors.
func readingState<R>(_ body: () throws -> R) throws(RuntimeError) -> R {
    do {
        return try body()
    } catch let error as StorageError {
        throw .storage(error)
    } catch let error as DecodingError {
        throw .decoding(error)
    } catch let error as RuntimeError {
        throw error
    } catch {
        throw .internalFailure(code: "state_read_failed", message: "\(error)")
    }
}
