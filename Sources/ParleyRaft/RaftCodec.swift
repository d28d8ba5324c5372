/// The explicit, versioned binary form of Raft messages between nodes: many groups' messages
/// travel together, each tagged with its group. Integers are LEB128 varints, byte strings a
/// varint length and the bytes. A reader refuses any other format version, so nodes of
/// incompatible versions fail loudly instead of misreading each other.
///
/// Layout (version 1): `version u8, count varint, count × (group varint, message)`, where a
/// message is `kind u8` (1 append … 12 readIndexResponse, see `code(_:)`), `from, to, term, logTerm, index, commit, rejectHint (varints),
/// flags u8 (1: reject, 2: campaignTransfer, 4: snapshot follows), context bytes,
/// entries (count, then term, index, data bytes each), [snapshot: index, term, voters
/// (count, ids), data bytes]`.
public enum RaftCodec {
    public static let formatVersion: UInt8 = 1

    /// Encodes `messages`, each with the group (partition) it belongs to.
    public static func encode(_ messages: [(group: UInt32, message: Message)]) -> [UInt8] {
        var writer = RaftWireWriter()
        writer.bytes.reserveCapacity(16 + messages.count * 48)
        writer.bytes.append(formatVersion)
        writer.varint(UInt64(messages.count))
        for (group, message) in messages {
            writer.varint(UInt64(group))
            write(message, to: &writer)
        }
        return writer.bytes
    }

    /// Decodes what `encode` wrote; throws `RaftCodecError` for anything else.
    public static func decode(_ bytes: [UInt8]) throws(RaftCodecError) -> [(group: UInt32, message: Message)] {
        var reader = RaftWireReader(bytes)
        let version = try reader.byte()
        guard version == formatVersion else { throw RaftCodecError("unknown raft message format version \(version)") }
        let count = try reader.count(limit: 1 << 20)
        var messages: [(group: UInt32, message: Message)] = []
        messages.reserveCapacity(count)
        for _ in 0..<count {
            let group = try reader.varint()
            guard group <= UInt64(UInt32.max) else { throw RaftCodecError("group id out of range") }
            messages.append((UInt32(group), try readMessage(&reader)))
        }
        guard reader.isAtEnd else { throw RaftCodecError("trailing bytes after the last message") }
        return messages
    }

    /// Each kind's byte on the wire: fixed here, so reordering or adding cases never changes
    /// the format of version 1.
    private static func code(_ kind: MessageKind) -> UInt8 {
        switch kind {
        case .append: 1
        case .appendResponse: 2
        case .vote: 3
        case .voteResponse: 4
        case .preVote: 5
        case .preVoteResponse: 6
        case .heartbeat: 7
        case .heartbeatResponse: 8
        case .snapshot: 9
        case .timeoutNow: 10
        case .readIndex: 11
        case .readIndexResponse: 12
        case .quiesce: 13
        }
    }

    private static func kind(_ code: UInt8) -> MessageKind? {
        switch code {
        case 1: .append
        case 2: .appendResponse
        case 3: .vote
        case 4: .voteResponse
        case 5: .preVote
        case 6: .preVoteResponse
        case 7: .heartbeat
        case 8: .heartbeatResponse
        case 9: .snapshot
        case 10: .timeoutNow
        case 11: .readIndex
        case 12: .readIndexResponse
        case 13: .quiesce
        default: nil
        }
    }

    private static func write(_ m: Message, to w: inout RaftWireWriter) {
        w.bytes.append(code(m.kind))
        w.varint(m.from)
        w.varint(m.to)
        w.varint(m.term)
        w.varint(m.logTerm)
        w.varint(m.index)
        w.varint(m.commit)
        w.varint(m.rejectHint)
        var flags: UInt8 = 0
        if m.reject { flags |= 1 }
        if m.campaignTransfer { flags |= 2 }
        if m.snapshot != nil { flags |= 4 }
        w.bytes.append(flags)
        w.data(m.context)
        w.varint(UInt64(m.entries.count))
        for entry in m.entries {
            w.varint(entry.term)
            w.varint(entry.index)
            w.data(entry.data)
        }
        if let snapshot = m.snapshot {
            w.varint(snapshot.metadata.index)
            w.varint(snapshot.metadata.term)
            w.varint(UInt64(snapshot.metadata.voters.count))
            for voter in snapshot.metadata.voters { w.varint(voter) }
            w.data(snapshot.data)
        }
    }

    private static func readMessage(_ r: inout RaftWireReader) throws(RaftCodecError) -> Message {
        let code = try r.byte()
        guard let kind = kind(code) else { throw RaftCodecError("unknown raft message kind \(code)") }
        var m = Message(kind: kind)
        m.from = try r.varint()
        m.to = try r.varint()
        m.term = try r.varint()
        m.logTerm = try r.varint()
        m.index = try r.varint()
        m.commit = try r.varint()
        m.rejectHint = try r.varint()
        let flags = try r.byte()
        guard flags & ~7 == 0 else { throw RaftCodecError("unknown message flags \(flags)") }
        m.reject = flags & 1 != 0
        m.campaignTransfer = flags & 2 != 0
        m.context = try r.data()
        let entryCount = try r.count(limit: 1 << 20)
        m.entries.reserveCapacity(entryCount)
        for _ in 0..<entryCount {
            let term = try r.varint()
            let index = try r.varint()
            m.entries.append(Entry(term: term, index: index, data: try r.data()))
        }
        if flags & 4 != 0 {
            let index = try r.varint()
            let term = try r.varint()
            let voterCount = try r.count(limit: 1 << 10)
            var voters: [NodeID] = []
            for _ in 0..<voterCount { voters.append(try r.varint()) }
            m.snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: term, voters: voters), data: try r.data())
        }
        return m
    }
}

/// Bytes that are not a Raft message batch this version can read.
public struct RaftCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "raft.codec: \(message)" }
}

/// The codec's own LEB128 writer and reader (ParleyDomain's `BinaryWriter` speaks the same
/// varints): ParleyRaft depends on no other module, as etcd's raft depends on nothing but its
/// message types, so the state machine can be tested and reused on its own. Forty lines
/// repeated are cheaper than a dependency from Raft onto the domain's codec.
struct RaftWireWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func data(_ value: [UInt8]) {
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}

struct RaftWireReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws(RaftCodecError) -> UInt8 {
        guard offset < bytes.count else { throw RaftCodecError("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws(RaftCodecError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64, shift < 63 || b <= 1 else { throw RaftCodecError("varint overflows 64 bits") }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A count, refused above `limit` or above what the remaining bytes could hold.
    mutating func count(limit: Int) throws(RaftCodecError) -> Int {
        let value = try varint()
        guard value <= UInt64(limit), value <= UInt64(bytes.count - offset) else { throw RaftCodecError("count \(value) out of range") }
        return Int(value)
    }

    mutating func data() throws(RaftCodecError) -> [UInt8] {
        let length = try varint()
        guard length <= UInt64(bytes.count - offset) else { throw RaftCodecError("length \(length) past the end") }
        defer { offset += Int(length) }
        return Array(bytes[offset..<offset + Int(length)])
    }
}
