import ParleyCluster
import ParleyDomain
import ParleyStorage

/// One event of a room's journal: its place there, and the event.
public struct JournalEntry: Sendable, Equatable {
    public let room: RoomID
    public let eventSeq: UInt64
    public let event: RoomEvent

    /// `entries` as a count, then each entry's room, event seq and event.
    static func encode(_ entries: [JournalEntry], into writer: inout BinaryWriter) {
        writer.writeVarint(UInt64(entries.count))
        for entry in entries {
            writer.write(entry.room.rawValue)
            writer.writeVarint(entry.eventSeq)
            entry.event.encode(into: &writer)
        }
    }

    static func decodeAll(from reader: inout BinaryReader) throws(DecodingError) -> [JournalEntry] {
        let count = try reader.readCount(atMost: 10_000_000, of: "journal entries")
        var entries: [JournalEntry] = []
        entries.reserveCapacity(min(count, 1_024))
        for _ in 0..<count {
            let room = RoomID(unchecked: try reader.readString())
            let eventSeq = try reader.readVarint()
            entries.append(JournalEntry(room: room, eventSeq: eventSeq, event: try RoomEvent.decode(from: &reader)))
        }
        return entries
    }
}

extension RoomStore {
    /// The room as applied so far: profile, members, last message and event seqs.
    static func load(_ reader: EntityRecordReader) throws -> RoomState {
        let room = RoomID(unchecked: reader.records.entity.key)
        guard let rawProfile = try reader.get(Record.profile.rawValue) else { return RoomState(id: room) }
        var bytes = BinaryReader(rawProfile)
        let profile = try RoomProfile.decode(from: &bytes)
        func staff(_ rest: [UInt8]) -> StaffID { StaffID(unchecked: String(decoding: rest, as: UTF8.self)) }
        var members: [StaffID: MemberState] = [:]
        for entry in try reader.entries(Record.member.rawValue) {
            members[staff(entry.rest)] = MemberState(joinedAt: Timestamp(milliseconds: Int64(bitPattern: StateKeys.readBigEndian(entry.value[...]) ?? 0)))
        }
        for entry in try reader.entries(Record.readPointer.rawValue) where members[staff(entry.rest)] != nil {
            members[staff(entry.rest)]?.readSeq = StateKeys.readBigEndian(entry.value[...]) ?? 0
        }
        for entry in try reader.entries(Record.mute.rawValue) where members[staff(entry.rest)] != nil {
            members[staff(entry.rest)]?.mute = entry.value.first.flatMap(MuteSetting.init(rawValue:)) ?? .all
        }
        var information = RoomInformation()
        if let raw = try reader.get(Record.information.rawValue) {
            var bytes = BinaryReader(raw)
            information = try RoomInformation.decode(from: &bytes)
        }
        func lastSeq(_ record: Record) throws -> UInt64 { try reader.last(record.rawValue).flatMap { StateKeys.readBigEndian($0.rest[...]) } ?? 0 }
        return RoomState(
            id: room, profile: profile, members: members, lastSeq: try lastSeq(.message), lastEventSeq: try lastSeq(.journal), information: information)
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

    /// The committed message `author`'s `idempotencyKey` produced, if any.
    func message(in room: RoomID, idempotencyKey: String, author: StaffID) throws(RuntimeError) -> Message? {
        let partition = partition(of: room)
        let scoped = Self.key(partition, room, .idempotency, Self.idempotencySuffix(author, idempotencyKey))
        let legacy = Self.key(partition, room, .idempotency, Array(idempotencyKey.utf8))
        // A record counts only for its own author (one from before keys were scoped, `i<key>`,
        // could even read as another author's scoped name); the old form is read only when the
        // scoped one answers nothing.
        for key in [scoped, legacy] {
            let seq = try readingState { try database.get(key, in: family).flatMap { StateKeys.readBigEndian($0[...]) } }
            if let seq, let found = try message(in: room, seq: seq), found.author == author { return found }
        }
        return nil
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
