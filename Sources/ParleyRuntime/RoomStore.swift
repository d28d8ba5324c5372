import ParleyCluster
import ParleyDomain
import ParleyStorage

/// A room's applied state in the partition's state column family: how room events become
/// writes, and how a room and its history are read back.
///
/// Records under the room's prefix: `p` the profile, `m<staff>` one per member, `g<seq>` one
/// per message (big-endian seq, so history scans in order), `i<key>` the seq an idempotency
/// key produced.
struct RoomStore: Sendable {
    let database: Database
    let family: ColumnFamily
    let partitioner: Partitioner

    private enum Record: UInt8 {
        case profile = 0x70  // p
        case member = 0x6D  // m
        case message = 0x67  // g
        case idempotency = 0x69  // i
    }

    private static func key(_ partition: PartitionID, _ room: RoomID, _ record: Record, _ suffix: [UInt8] = []) -> [UInt8] {
        StateKeys.entityPrefix(partition, .room(room)) + [record.rawValue] + suffix
    }

    static func addWrites(for events: [RoomEvent], of room: RoomID, in partition: PartitionID, to writes: inout StateWrites) {
        for event in events {
            switch event {
            case let .created(profile, members):
                var writer = BinaryWriter()
                profile.encode(into: &writer)
                writes.put(key(partition, room, .profile), writer.bytes)
                for member in members {
                    writes.put(key(partition, room, .member, Array(member.rawValue.utf8)), [])
                }
            case let .messagePosted(message):
                var writer = BinaryWriter(capacity: message.text.utf8.count + 48)
                message.encode(into: &writer)
                writes.put(key(partition, room, .message, StateKeys.bigEndian(message.seq)), writer.bytes)
                if let idempotencyKey = message.idempotencyKey {
                    writes.put(key(partition, room, .idempotency, Array(idempotencyKey.utf8)), StateKeys.bigEndian(message.seq))
                }
            }
        }
    }

    func partition(of room: RoomID) -> PartitionID { partitioner.partition(for: EntityID.room(room).description) }

    /// The room as applied so far: profile, members and last sequence number.
    func load(_ room: RoomID) throws(RuntimeError) -> RoomState {
        let partition = partition(of: room)
        do {
            guard let rawProfile = try database.get(Self.key(partition, room, .profile), in: family) else {
                return RoomState(id: room)
            }
            var reader = BinaryReader(rawProfile)
            let profile = try RoomProfile.decode(from: &reader)
            let memberPrefix = Self.key(partition, room, .member)
            var members = Set<StaffID>()
            try database.scan(.prefix(memberPrefix), in: family) { (key, _) throws(StorageError) -> Bool in
                members.insert(StaffID(unchecked: String(decoding: key[memberPrefix.count...], as: UTF8.self)))
                return true
            }
            let messagePrefix = Self.key(partition, room, .message)
            let last = try database.last(in: .prefix(messagePrefix), of: family)
            let lastSeq = last.flatMap { StateKeys.readBigEndian($0.key[messagePrefix.count...]) } ?? 0
            return RoomState(id: room, profile: profile, members: members, lastSeq: lastSeq)
        } catch let error as StorageError {
            throw .storage(error)
        } catch let error as DecodingError {
            throw .decoding(error)
        } catch {
            throw .internalFailure(code: "room_load_failed", message: "\(error)")
        }
    }

    /// The committed message that `idempotencyKey` produced, if any.
    func message(in room: RoomID, idempotencyKey: String) throws(RuntimeError) -> Message? {
        let partition = partition(of: room)
        do {
            guard let raw = try database.get(Self.key(partition, room, .idempotency, Array(idempotencyKey.utf8)), in: family),
                let seq = StateKeys.readBigEndian(raw[...])
            else { return nil }
            return try messages(in: room, page: HistoryPage(after: seq - 1, limit: 1)).first
        } catch let error as StorageError {
            throw .storage(error)
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw .internalFailure(code: "room_read_failed", message: "\(error)")
        }
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
        do {
            var result: [Message] = []
            try database.scan(range, in: family, reverse: reverse, limit: page.limit) { (_, value) throws(StorageError) -> Bool in
                var reader = BinaryReader(value)
                do throws(DecodingError) {
                    result.append(try Message.decode(from: &reader))
                } catch {
                    throw StorageError(code: .corruption, message: error.description)
                }
                return true
            }
            return reverse ? result.reversed() : result
        } catch {
            throw .storage(error)
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
