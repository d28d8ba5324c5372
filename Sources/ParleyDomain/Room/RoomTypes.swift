/// The four kinds of chat room a Workspace shows.
public enum RoomKind: UInt8, Sendable, CaseIterable {
    /// A visitor's or customer's conversation with staff, opened by enquiry routing.
    case enquiry = 1
    /// Staff-to-staff, or staff with an external contact.
    case direct = 2
    /// Internal group chat, public or private.
    case space = 3
    /// A conference's participants and chat history.
    case conference = 4

    public var name: String {
        switch self {
        case .enquiry: "enquiry"
        case .direct: "direct"
        case .space: "space"
        case .conference: "conference"
        }
    }

    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// Whether staff outside a space can find and join it.
public enum RoomVisibility: UInt8, Sendable, CaseIterable {
    case `public` = 1
    case `private` = 2

    public var name: String { self == .public ? "public" : "private" }

    public init?(name: String) {
        switch name {
        case "public": self = .public
        case "private": self = .private
        default: return nil
        }
    }
}

/// What a room is, fixed at creation or changed by room updates.
public struct RoomProfile: Sendable, Equatable {
    public var kind: RoomKind
    public var name: String
    public var description: String
    public var visibility: RoomVisibility
    public var createdBy: StaffID
    public var createdAt: Timestamp

    public init(kind: RoomKind, name: String, description: String, visibility: RoomVisibility, createdBy: StaffID, createdAt: Timestamp) {
        self.kind = kind
        self.name = name
        self.description = description
        self.visibility = visibility
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A message posted in a room; `seq` is its place in the room's one total order, from 1.
public struct Message: Sendable, Equatable {
    public var seq: UInt64
    public var author: StaffID
    public var text: String
    public var postedAt: Timestamp
    /// The client's key that makes a retried send return this message instead of a new one.
    public var idempotencyKey: String?

    public init(seq: UInt64, author: StaffID, text: String, postedAt: Timestamp, idempotencyKey: String?) {
        self.seq = seq
        self.author = author
        self.text = text
        self.postedAt = postedAt
        self.idempotencyKey = idempotencyKey
    }
}

/// Limits the room rules enforce; every field has a default.
public struct RoomLimits: Sendable, Equatable {
    public var maxNameLength = 100
    public var maxDescriptionLength = 1_000
    public var maxTextLength = 10_000
    public var maxMembers = 1_000
    public var maxIdempotencyKeyLength = 128

    public init() {}
}
