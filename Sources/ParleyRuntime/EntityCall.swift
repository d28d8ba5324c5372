import ParleyCluster
import ParleyDomain

/// One operation on one entity, as the runtime performs it: on this node when it serves the
/// entity's partition, else forwarded to the node that does (the answer is an `EntityReply`).
/// Every public operation of `NodeRuntime` that touches an entity is one of these, so nothing
/// reaches an entity except through its serving node.
public enum EntityCall: Sendable, Equatable {
    /// A command to an entity, in its kind's encoding, by `caller`; `origin` when it is
    /// another entity's effect (applied once). Answered as `answer` asks, as `bytes` (or
    /// `done` when it asks for nothing).
    case command(EntityID, caller: Caller, payload: [UInt8], origin: EffectOrigin?, answer: CallAnswer)
    /// A read of an entity: `name` "" its state, "soft" its soft state, else a read its
    /// kind's host serves or one of its kind's registered operations. Answered as `bytes`.
    case read(EntityID, caller: Caller, name: String, payload: [UInt8])
    /// A run of effects' commands for the entity, from the outbox relay: applied in one
    /// entry, each once. Answered with `done`.
    case applyEffects(EntityID, [EffectCommand])
    /// A timer of the entity fell due (the timer service, on the partition's leader).
    case fireTimer(EntityID, tag: String, deadline: Timestamp)

    /// Whether the call only reads (and so needs the leadership confirmed, not an entry);
    /// registered operations say so themselves (`EntityOperation.linearizable`).
    var isRead: Bool {
        switch self {
        case .read: true
        case .command, .applyEffects, .fireTimer: false
        }
    }

    /// The entity the call is for.
    var entity: EntityID? {
        switch self {
        case let .command(entity, _, _, _, _), let .read(entity, _, _, _), let .fireTimer(entity, _, _), let .applyEffects(entity, _): entity
        }
    }
}

/// A file shared in a room: the bytes and what the message says of them.
public struct FileUpload: Sendable, Equatable {
    public var room: RoomID
    public var staff: StaffID
    public var name: String
    public var contentType: String
    public var bytes: [UInt8]
    /// The content's SHA-256, computed by the caller.
    public var sha256: [UInt8]
    public var caption: String
    public var idempotencyKey: String?
}

/// What a bearer token is checked against.
public struct StaffCredentials: Sendable, Equatable {
    public let tokenHash: [UInt8]
    public let role: StaffRole

    public init(tokenHash: [UInt8], role: StaffRole) {
        self.tokenHash = tokenHash
        self.role = role
    }
}

/// What a staff member's live sessions are: how many on each node.
public struct StaffPresence: Sendable, Equatable {
    public let staff: StaffID
    /// Nodes with live sessions of the staff member, and how many each has.
    public let sessions: [NodeID: Int]

    public init(staff: StaffID, sessions: [NodeID: Int]) {
        self.staff = staff
        self.sessions = sessions
    }

    public var isOnline: Bool { !sessions.isEmpty }
}

/// What an entity call answers.
public enum EntityReply: Sendable, Equatable {
    case bytes([UInt8])
    /// Done; nothing to say.
    case done

    func bytes() throws(RuntimeError) -> [UInt8] {
        guard case let .bytes(bytes) = self else {
            throw .internalFailure(code: "peer_reply_unexpected", message: "wanted bytes, the serving node answered \(self)")
        }
        return bytes
    }
}

extension StaffState {
    /// What a bearer token is checked against; nil when there is no such account.
    var credentials: StaffCredentials? { profile.map { StaffCredentials(tokenHash: tokenHash, role: $0.role) } }
}

extension StaffCredentials: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(bytes: tokenHash)
        writer.write(role.rawValue)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffCredentials {
        let hash = try reader.readBytes()
        return StaffCredentials(tokenHash: hash, role: try reader.read(StaffRole.self, "staff role"))
    }
}

extension StaffPresence: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(staff.rawValue)
        writer.writeVarint(UInt64(sessions.count))
        for (node, count) in sessions.sorted(by: { $0.key < $1.key }) {
            writer.write(node.rawValue)
            writer.writeVarint(UInt64(count))
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffPresence {
        let staff = StaffID(unchecked: try reader.readString())
        var sessions: [NodeID: Int] = [:]
        for _ in 0..<(try reader.readCount(atMost: 100_000, of: "nodes")) {
            let raw = try reader.readString()
            guard let node = NodeID(raw) else { throw DecodingError("invalid node id \(raw)") }
            sessions[node] = try reader.readCount(atMost: Int(Int32.max), of: "sessions")
        }
        return StaffPresence(staff: staff, sessions: sessions)
    }
}
