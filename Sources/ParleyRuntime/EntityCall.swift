import ParleyCluster
import ParleyDomain

/// One operation on one entity, as the runtime performs it: on this node when it serves the
/// entity's partition, else forwarded to the node that does (the answer is an `EntityReply`).
/// Every public operation of `NodeRuntime` that touches an entity is one of these, so nothing
/// reaches an entity except through its serving node.
public enum EntityCall: Sendable, Equatable {
    case roomCommand(RoomID, RoomCommand)
    /// A message post: answered with the message alone (`posted`), not the room's state.
    case postMessage(RoomID, MessagePost)
    case roomState(RoomID, reader: StaffID)
    case message(RoomID, seq: UInt64, reader: StaffID)
    case messages(RoomID, reader: StaffID, HistoryPage)
    case journal(RoomID, reader: StaffID, after: UInt64, limit: Int)
    case uploadFile(FileUpload)
    case file(RoomID, file: String, reader: StaffID)
    case fileBytes(RoomID, FileAttachment, range: Range<UInt64>)
    case staffCommand(StaffID, StaffCommand)
    /// The outbox's deliveries to a staff member (a `deliver`/`deliverAll` command), answered
    /// with `done` alone: the sender needs no copy of the account.
    case deliverNotices(StaffID, [StaffDelivery])
    case staffAccount(StaffID)
    /// What a bearer token is checked against: the account's token hash and role.
    case staffCredentials(StaffID)
    case mentions(StaffID, limit: Int)
    case presence(StaffID)
    case channelCommand(ChannelID, ChannelCommand)
    case channel(ChannelID)
    /// The channels of the partitions the callee serves (no one entity: asked of every node).
    case servedChannels

    /// Whether the call only reads (and so needs the leadership confirmed, not an entry).
    /// Credentials are not: every request checks them and caches them anyway.
    var isRead: Bool {
        switch self {
        case .roomState, .message, .messages, .journal, .file, .fileBytes, .staffAccount, .mentions, .presence, .channel: true
        case .roomCommand, .postMessage, .uploadFile, .staffCommand, .deliverNotices, .staffCredentials, .channelCommand, .servedChannels: false
        }
    }

    /// The entity the call is for; nil for `servedChannels`.
    var entity: EntityID? {
        switch self {
        case let .roomCommand(room, _), let .postMessage(room, _), let .roomState(room, _), let .message(room, _, _), let .messages(room, _, _),
            let .journal(room, _, _, _), let .file(room, _, _), let .fileBytes(room, _, _):
            .room(room)
        case let .uploadFile(upload): .room(upload.room)
        case let .staffCommand(staff, _), let .deliverNotices(staff, _), let .staffAccount(staff), let .staffCredentials(staff), let .mentions(staff, _), let .presence(staff):
            EntityID.staff(staff)
        case let .channelCommand(channel, _), let .channel(channel):
            EntityID.channel(channel)
        case .servedChannels: nil
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
    case room(RoomOutcome)
    case roomState(RoomState)
    case message(Message)
    case messages([Message])
    case journal([JournalEntry], oldestKept: UInt64?)
    case posted(Message, replayed: Bool)
    case file(FileAttachment)
    case bytes([UInt8])
    case staff(StaffState)
    case mentions([Mention])
    case presence(StaffPresence)
    case channel(ChannelState)
    case channels([ChannelState])
    /// Done; nothing to say.
    case done
    /// A staff account's credentials; nil when there is no such account.
    case credentials(StaffCredentials?)

    private static func unexpected(_ reply: EntityReply, _ wanted: String) -> RuntimeError {
        .internalFailure(code: "peer_reply_unexpected", message: "wanted \(wanted), the serving node answered \(reply)")
    }

    func room() throws(RuntimeError) -> RoomOutcome {
        guard case let .room(outcome) = self else { throw Self.unexpected(self, "a room outcome") }
        return outcome
    }

    func roomState() throws(RuntimeError) -> RoomState {
        guard case let .roomState(state) = self else { throw Self.unexpected(self, "a room") }
        return state
    }

    func message() throws(RuntimeError) -> Message {
        guard case let .message(message) = self else { throw Self.unexpected(self, "a message") }
        return message
    }

    func messages() throws(RuntimeError) -> [Message] {
        guard case let .messages(messages) = self else { throw Self.unexpected(self, "messages") }
        return messages
    }

    func journal() throws(RuntimeError) -> ([JournalEntry], UInt64?) {
        guard case let .journal(entries, oldest) = self else { throw Self.unexpected(self, "journal entries") }
        return (entries, oldest)
    }

    func credentials() throws(RuntimeError) -> StaffCredentials? {
        guard case let .credentials(credentials) = self else { throw Self.unexpected(self, "credentials") }
        return credentials
    }

    func posted() throws(RuntimeError) -> (message: Message, replayed: Bool) {
        guard case let .posted(message, replayed) = self else { throw Self.unexpected(self, "a posted message") }
        return (message, replayed)
    }

    func file() throws(RuntimeError) -> FileAttachment {
        guard case let .file(attachment) = self else { throw Self.unexpected(self, "a file") }
        return attachment
    }

    func bytes() throws(RuntimeError) -> [UInt8] {
        guard case let .bytes(bytes) = self else { throw Self.unexpected(self, "bytes") }
        return bytes
    }

    func staff() throws(RuntimeError) -> StaffState {
        guard case let .staff(state) = self else { throw Self.unexpected(self, "a staff account") }
        return state
    }

    func mentions() throws(RuntimeError) -> [Mention] {
        guard case let .mentions(mentions) = self else { throw Self.unexpected(self, "mentions") }
        return mentions
    }

    func presence() throws(RuntimeError) -> StaffPresence {
        guard case let .presence(presence) = self else { throw Self.unexpected(self, "presence") }
        return presence
    }

    func channel() throws(RuntimeError) -> ChannelState {
        guard case let .channel(state) = self else { throw Self.unexpected(self, "a channel") }
        return state
    }

    func channels() throws(RuntimeError) -> [ChannelState] {
        guard case let .channels(states) = self else { throw Self.unexpected(self, "channels") }
        return states
    }
}
