/// What a staff member asks of a room.
public enum RoomCommand: Sendable, Equatable {
    case create(RoomCreation)
    case post(MessagePost)
}

/// Create a room. The creator is always a member.
public struct RoomCreation: Sendable, Equatable {
    public var kind: RoomKind
    public var name: String
    public var description: String
    public var visibility: RoomVisibility
    public var members: [StaffID]
    public var creator: StaffID

    public init(kind: RoomKind, name: String, description: String = "", visibility: RoomVisibility = .private, members: [StaffID] = [], creator: StaffID) {
        self.kind = kind
        self.name = name
        self.description = description
        self.visibility = visibility
        self.members = members
        self.creator = creator
    }
}

/// Post a text message.
public struct MessagePost: Sendable, Equatable {
    public var author: StaffID
    public var text: String
    public var idempotencyKey: String?

    public init(author: StaffID, text: String, idempotencyKey: String? = nil) {
        self.author = author
        self.text = text
        self.idempotencyKey = idempotencyKey
    }
}

extension MessagePost {
    /// The answer to this post when its idempotency key already produced `existing`: the
    /// same message if the post is a retry of it, or `idempotency_key_reused` if the key is
    /// being used for something else.
    public func replay(of existing: Message) throws(DomainError) -> Message {
        guard existing.author == author, existing.text == text else {
            throw DomainError(.idempotencyKeyReused, "idempotency key \(idempotencyKey ?? "") was already used for a different message")
        }
        return existing
    }
}

/// What happened to a room: the only thing the partition log records about it.
public enum RoomEvent: Sendable, Equatable {
    case created(RoomProfile, members: [StaffID])
    case messagePosted(Message)
}
