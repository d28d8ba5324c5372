import ParleyCluster
import ParleyDomain
import ParleyStorage

/// A room's applied state in the partition's state column family: how room events become
/// writes, and how a room, its history and its journal are read back.
///
/// Records under the room's prefix: `p` the profile; per member `m<staff>` (joined at),
/// `r<staff>` (read pointer) and `u<staff>` (mute), each its own record so every event is a
/// blind write; `g<seq>` one per message (big-endian seq, so history scans in
/// order), `i<author>0x00<key>` the seq an author's idempotency key produced (keys belong to
/// their author: another member's same key is another post), `j<event seq>` the journal of every
/// event, which reconnecting clients resume from (the newest `journalRetention` are kept).
struct RoomStore: Sendable {
    let database: Database
    let family: ColumnFamily
    let partitioner: Partitioner

    /// How many of a room's newest journal events are kept.
    static let journalRetention: UInt64 = 10_000
    /// Older journal events are pruned each time the event seq crosses a multiple of this.
    static let journalPruneInterval: UInt64 = 512

    enum Record: UInt8 {
        case profile = 0x70  // p
        case member = 0x6D  // m
        case message = 0x67  // g
        case idempotency = 0x69  // i
        case journal = 0x6A  // j
        case readPointer = 0x72  // r
        case mute = 0x75  // u
        case fileChunk = 0x66  // f<file id>0x00<index>
        case fileIndex = 0x46  // F<file id> -> message seq
        case information = 0x49  // I: the Room Information panel
    }

    /// The idempotency record's name after `i`: the author, then the key. (Before keys were
    /// scoped, the record was `i<key>`; such records are still read for their own author.)
    static func idempotencySuffix(_ author: StaffID, _ key: String) -> [UInt8] {
        Array(author.rawValue.utf8) + [0] + Array(key.utf8)
    }

    /// File chunks are written as 256 KiB log entries.
    static let fileChunkBytes = 256 * 1024

    static func fileChunkKey(_ partition: PartitionID, _ room: RoomID, file: String, index: UInt32) -> [UInt8] {
        key(partition, room, .fileChunk, Array(file.utf8) + [0]) + [UInt8(index >> 24), UInt8(index >> 16 & 0xFF), UInt8(index >> 8 & 0xFF), UInt8(index & 0xFF)]
    }

    /// Marks an upload whose chunks no message has taken up yet: `partition ++ 0xF1 ++ room ++
    /// 0x00 ++ file`, outside the entity records so the upload sweep reads only these.
    static func pendingUploadKey(_ partition: PartitionID, _ room: RoomID, file: String) -> [UInt8] {
        pendingUploadPrefix(partition) + Array(room.rawValue.utf8) + [0] + Array(file.utf8)
    }

    static func pendingUploadPrefix(_ partition: PartitionID) -> [UInt8] { partition.keyPrefix + [0xF1] }

    /// Deletes a file's chunks, its index entry and its pending-upload mark.
    static func addDiscardWrites(of file: String, in room: RoomID, partition: PartitionID, to writes: inout StateWrites) {
        let chunks = key(partition, room, .fileChunk, Array(file.utf8) + [0])
        writes.deleteRange(from: chunks, to: KeyRange.successor(ofPrefix: chunks) ?? chunks + [0xFF])
        writes.delete(key(partition, room, .fileIndex, Array(file.utf8)))
        writes.delete(pendingUploadKey(partition, room, file: file))
    }

    static func key(_ partition: PartitionID, _ room: RoomID, _ record: Record, _ suffix: [UInt8] = []) -> [UInt8] {
        StateKeys.entityPrefix(partition, .room(room)) + [record.rawValue] + suffix
    }

    /// The writes that apply `events` (numbered from `firstEventSeq`). `encoded`: each event's
    /// encoding as the log entry carries it, stored as it is in the journal (and, for a message,
    /// its part after the event's tag byte: the message's own encoding); nil, or a count that
    /// does not match, encodes them here.
    static func addWrites(
        for events: [RoomEvent], encoded: [ArraySlice<UInt8>]? = nil, firstEventSeq: UInt64, of room: RoomID, in partition: PartitionID,
        to writes: inout StateWrites
    ) {
        let prefix = StateKeys.entityPrefix(partition, .room(room))
        func key(_ record: Record, _ suffix: [UInt8] = []) -> [UInt8] {
            var key = prefix
            key.reserveCapacity(prefix.count + 1 + suffix.count)
            key.append(record.rawValue)
            key.append(contentsOf: suffix)
            return key
        }
        func memberKey(_ record: Record, _ staff: StaffID) -> [UInt8] { key(record, Array(staff.rawValue.utf8)) }
        func join(_ staff: StaffID, at: Timestamp, readSeq: UInt64) {
            writes.put(memberKey(.member, staff), StateKeys.bigEndian(UInt64(bitPattern: at.milliseconds)))
            writes.put(memberKey(.readPointer, staff), StateKeys.bigEndian(readSeq))
        }
        let encoded = encoded.flatMap { $0.count == events.count ? $0 : nil }
        /// `encoded`: the message's encoding, when at hand.
        func putMessage(_ message: Message, encoded: ArraySlice<UInt8>?) {
            let messageKey = key(.message, StateKeys.bigEndian(message.seq))
            if let encoded {
                writes.put(messageKey, encoded)
                return
            }
            var writer = BinaryWriter(capacity: message.text.utf8.count + 64)
            message.encode(into: &writer)
            writes.put(messageKey, writer.bytes)
        }
        for (offset, event) in events.enumerated() {
            let eventSeq = firstEventSeq + UInt64(offset)
            // A message event's encoding is its tag byte, then the message's (but a recall's,
            // which carries the removed file after it).
            let messageBytes = encoded?[offset].dropFirst()
            let journalKey = key(.journal, StateKeys.bigEndian(eventSeq))
            if let encoded {
                writes.put(journalKey, encoded[offset])
            } else {
                var journal = BinaryWriter()
                event.encode(into: &journal)
                writes.put(journalKey, journal.bytes)
            }
            if eventSeq % journalPruneInterval == 0, eventSeq > journalRetention {
                writes.deleteRange(from: key(.journal), to: key(.journal, StateKeys.bigEndian(eventSeq - journalRetention)))
            }
            switch event {
            case let .created(profile, initial):
                var writer = BinaryWriter()
                profile.encode(into: &writer)
                writes.put(key(.profile), writer.bytes)
                for staff in initial { join(staff, at: profile.createdAt, readSeq: 0) }
            case let .messagePosted(message):
                putMessage(message, encoded: messageBytes)
                if let file = message.attachment {
                    writes.put(key(.fileIndex, Array(file.id.utf8)), StateKeys.bigEndian(message.seq))
                    writes.delete(pendingUploadKey(partition, room, file: file.id))
                }
                if let idempotencyKey = message.idempotencyKey {
                    writes.put(key(.idempotency, idempotencySuffix(message.author, idempotencyKey)), StateKeys.bigEndian(message.seq))
                }
            case let .messageEdited(message), let .messagePreviewed(message):
                putMessage(message, encoded: messageBytes)
            case let .messageRecalled(message, removedFile):
                putMessage(message, encoded: nil)
                if let file = removedFile { addDiscardWrites(of: file, in: room, partition: partition, to: &writes) }
            case let .readPointerMoved(staff, seq):
                writes.put(memberKey(.readPointer, staff), StateKeys.bigEndian(seq))
            case let .muteChanged(staff, setting):
                writes.put(memberKey(.mute, staff), [setting.rawValue])
            case let .membersAdded(added, _, joinedAt, readSeq):
                for staff in added { join(staff, at: joinedAt, readSeq: readSeq) }
            case let .memberRemoved(staff, _):
                for record in [Record.member, .readPointer, .mute] { writes.delete(memberKey(record, staff)) }
            case .profileUpdated(let profile):
                var writer = BinaryWriter()
                profile.encode(into: &writer)
                writes.put(key(.profile), writer.bytes)
            case let .informationUpdated(information):
                var writer = BinaryWriter()
                information.encode(into: &writer)
                writes.put(key(.information), writer.bytes)
            }
        }
    }

    func partition(of room: RoomID) -> PartitionID { partitioner.partition(of: .room(room)) }
}
