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

/// Points at one message: the room and the message's sequence number there.
public struct MessageReference: Sendable, Hashable {
    public var room: RoomID
    public var seq: UInt64

    public init(room: RoomID, seq: UInt64) {
        self.room = room
        self.seq = seq
    }
}

/// A quoted message: where it is, who wrote it and what it said when quoted.
public struct Quote: Sendable, Equatable {
    public var reference: MessageReference
    public var author: StaffID
    public var excerpt: String

    public init(reference: MessageReference, author: StaffID, excerpt: String) {
        self.reference = reference
        self.author = author
        self.excerpt = excerpt
    }
}

/// A file shared in a room: what it is, and how to check it. Its bytes live in the room's
/// partition state, in chunks written through the partition log.
public struct FileAttachment: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case image = 1
        case video = 2
        case voice = 3
        case document = 4

        public var name: String { ["image", "video", "voice", "document"][Int(rawValue) - 1] }

        /// The kind a content type shows in the chat: images, videos, voice messages, documents.
        public init(contentType: String) {
            let lowered = contentType.lowercased()
            if lowered.hasPrefix("image/") {
                self = .image
            } else if lowered.hasPrefix("video/") {
                self = .video
            } else if lowered.hasPrefix("audio/") {
                self = .voice
            } else {
                self = .document
            }
        }
    }

    public var id: String
    public var name: String
    public var contentType: String
    public var size: UInt64
    /// SHA-256 of the content.
    public var sha256: [UInt8]
    public var chunkCount: UInt32

    public var kind: Kind { Kind(contentType: contentType) }

    /// Checks a file name: 1 to `limits.maxFileNameLength` scalars, not blank, no `/`.
    public static func validate(name: String, limits: RoomLimits = RoomLimits()) throws(DomainError) {
        guard !name.trimmingWhitespace().isEmpty, name.unicodeScalars.count <= limits.maxFileNameLength, !name.contains("/") else {
            throw DomainError(.invalidArgument, "a file name has 1 to \(limits.maxFileNameLength) characters, not all blank, and no /")
        }
    }

    public init(id: String, name: String, contentType: String, size: UInt64, sha256: [UInt8], chunkCount: UInt32) {
        self.id = id
        self.name = name
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.chunkCount = chunkCount
    }
}

/// A message posted in a room; `seq` is its place in the room's one total order, from 1.
public struct Message: Sendable, Equatable {
    public var seq: UInt64
    public var author: StaffID
    /// Empty once recalled.
    public var text: String
    public var postedAt: Timestamp
    /// The client's key that makes a retried send return this message instead of a new one.
    public var idempotencyKey: String?
    /// The message this one replies to.
    public var replyTo: Quote?
    /// The message this one forwards.
    public var forwardedFrom: Quote?
    /// Members mentioned with `@staffID`.
    public var mentions: [StaffID] = []
    /// Whether `@all` mentions every member.
    public var mentionsAll = false
    public var editedAt: Timestamp?
    /// Set when the author recalled the message: its content is gone for everyone.
    public var recalledAt: Timestamp?
    /// A shared file (image, video, document or voice message).
    public var attachment: FileAttachment?
    /// The quick link or text shortcut this message was sent with.
    public var quickLink: Shortcut?
    /// Previews of the web pages the text links to, added by the node after posting.
    public var linkPreviews: [LinkPreview] = []

    public init(
        seq: UInt64, author: StaffID, text: String, postedAt: Timestamp, idempotencyKey: String?,
        replyTo: Quote? = nil, forwardedFrom: Quote? = nil, mentions: [StaffID] = [], mentionsAll: Bool = false,
        editedAt: Timestamp? = nil, recalledAt: Timestamp? = nil, attachment: FileAttachment? = nil
    ) {
        self.attachment = attachment
        self.seq = seq
        self.author = author
        self.text = text
        self.postedAt = postedAt
        self.idempotencyKey = idempotencyKey
        self.replyTo = replyTo
        self.forwardedFrom = forwardedFrom
        self.mentions = mentions
        self.mentionsAll = mentionsAll
        self.editedAt = editedAt
        self.recalledAt = recalledAt
    }

    public var isRecalled: Bool { recalledAt != nil }

    /// Whether this message notifies `staff` as a mention.
    public func mentions(_ staff: StaffID) -> Bool { mentionsAll || mentions.contains(staff) }
}

/// How a member wants to be notified of a room's activity. Unread counts count regardless.
public enum MuteSetting: UInt8, Sendable, CaseIterable {
    /// Every new message notifies.
    case all = 0
    /// Only @mentions notify (spaces).
    case mentionsOnly = 1
    /// Nothing notifies.
    case muted = 2

    public var name: String { ["all", "mentions_only", "muted"][Int(rawValue)] }

    public init?(name: String) {
        guard let setting = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = setting
    }
}

/// One member's standing in a room.
public struct MemberState: Sendable, Equatable {
    /// The last message seq the member has read.
    public var readSeq: UInt64
    public var mute: MuteSetting
    public var joinedAt: Timestamp

    public init(readSeq: UInt64 = 0, mute: MuteSetting = .all, joinedAt: Timestamp) {
        self.readSeq = readSeq
        self.mute = mute
        self.joinedAt = joinedAt
    }
}

extension MuteSetting {
    /// Whether `message` should alert `member` (a sound, a desktop notification): never their
    /// own messages; muted rooms never; spaces on "mentions only" only when it mentions them.
    /// Unread counts count regardless.
    public func notifies(_ member: StaffID, of message: Message) -> Bool {
        guard message.author != member, message.recalledAt == nil else { return false }
        switch self {
        case .all: return true
        case .mentionsOnly: return message.mentions(member)
        case .muted: return false
        }
    }
}

/// Limits the room rules enforce; every field has a default. Lengths count Unicode scalars,
/// as JSON Schema's `maxLength` does.
public struct RoomLimits: Sendable, Equatable {
    public var maxNameLength = 100
    public var maxDescriptionLength = 1_000
    public var maxTextLength = 10_000
    public var maxMembers = 1_000
    public var maxIdempotencyKeyLength = 128
    /// How long after posting the author may edit or recall a message.
    public var editWindowMilliseconds: Int64 = 5 * 60 * 1_000
    /// How much of a quoted message a reply or forward keeps.
    public var maxExcerptLength = 280
    public var maxFileNameLength = 255

    public init() {}
}
