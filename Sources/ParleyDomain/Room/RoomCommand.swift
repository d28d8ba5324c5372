/// What a staff member asks of a room. `actor` is who asks.
public enum RoomCommand: Sendable, Equatable {
    case create(RoomCreation)
    case post(MessagePost)
    case edit(seq: UInt64, text: String, by: StaffID)
    case recall(seq: UInt64, by: StaffID)
    case markRead(upTo: UInt64, by: StaffID)
    case setMute(MuteSetting, by: StaffID)
    /// Join a public space.
    case join(StaffID)
    case addMembers([StaffID], by: StaffID)
    case removeMember(StaffID, by: StaffID)
    case leave(StaffID)
    case updateProfile(name: String?, description: String?, visibility: RoomVisibility?, by: StaffID)
    /// Open an enquiry room for the staff members serving it (enquiry routing does this).
    case openEnquiry(EnquiryOpening)
    /// A staff member records what they learned about the visitor.
    case setVisitorField(name: String, value: String, by: StaffID)
    /// Set the external contact of a direct room.
    case setContact(ContactInfo, by: StaffID)
    /// The node fetched previews of message `seq`'s links (no staff member acts).
    case attachLinkPreviews(seq: UInt64, [LinkPreview])
    /// The enquiry's owner joins its room; on a transfer the one it replaces leaves (only
    /// the enquiry, through an effect).
    case setEnquiryOwner(StaffID, replacing: StaffID?)
}

/// What enquiry routing knows when it opens a room.
public struct EnquiryOpening: Sendable, Equatable {
    public var title: String
    public var staff: [StaffID]
    public var information: RoomInformation

    public init(title: String, staff: [StaffID], information: RoomInformation) {
        self.title = title
        self.staff = staff
        self.information = information
    }
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

/// Post a text message, possibly replying to one message of this room or forwarding one.
public struct MessagePost: Sendable, Equatable {
    public var author: StaffID
    public var text: String
    public var idempotencyKey: String?
    /// The seq, in this room, of the message replied to.
    public var replyTo: UInt64?
    /// The message forwarded, as the runtime read it from its room (the author must be a
    /// member there).
    public var forwarding: (Message, RoomID)?
    /// A file whose chunks are already in the room's partition state.
    public var attachment: FileAttachment?
    /// The shortcut the text was expanded from (resolved by the runtime).
    public var quickLink: Shortcut?

    public init(
        author: StaffID, text: String, idempotencyKey: String? = nil, replyTo: UInt64? = nil, forwarding: (Message, RoomID)? = nil,
        attachment: FileAttachment? = nil, quickLink: Shortcut? = nil
    ) {
        self.attachment = attachment
        self.quickLink = quickLink
        self.author = author
        // A file or a forwarded message needs no words of its own: a blank caption is none.
        self.text = (attachment != nil || forwarding != nil) && text.trimmingWhitespace().isEmpty ? "" : text
        self.idempotencyKey = idempotencyKey
        self.replyTo = replyTo
        self.forwarding = forwarding
    }

    public static func == (lhs: MessagePost, rhs: MessagePost) -> Bool {
        lhs.author == rhs.author && lhs.text == rhs.text && lhs.idempotencyKey == rhs.idempotencyKey
            && lhs.replyTo == rhs.replyTo && lhs.forwarding?.0 == rhs.forwarding?.0 && lhs.forwarding?.1 == rhs.forwarding?.1
            && lhs.attachment == rhs.attachment && lhs.quickLink == rhs.quickLink
    }
}

extension MessagePost {
    /// The answer to this post when its idempotency key already produced `existing`: the
    /// same message if the post is a retry of it, or `idempotency_key_reused` if the key is
    /// being used for something else.
    public func replay(of existing: Message) throws(DomainError) -> Message {
        guard existing.author == author, existing.text == text || existing.isRecalled else {
            throw DomainError(.idempotencyKeyReused, "idempotency key \(idempotencyKey ?? "") was already used for a different message")
        }
        return existing
    }
}

/// What happened to a room: the only thing the partition log records about it. Events that
/// change a message carry the whole message as it now is, so applying them is a blind write.
public enum RoomEvent: Sendable, Equatable {
    case created(RoomProfile, members: [StaffID])
    case messagePosted(Message)
    case messageEdited(Message)
    /// The tombstone; `removedFile` is the id of the file whose bytes go with it.
    case messageRecalled(Message, removedFile: String? = nil)
    /// A message's link previews changed (the message after the change).
    case messagePreviewed(Message)
    case readPointerMoved(StaffID, seq: UInt64)
    case muteChanged(StaffID, MuteSetting)
    /// New members start with the history up to `readSeq` read.
    case membersAdded([StaffID], by: StaffID, joinedAt: Timestamp, readSeq: UInt64)
    case memberRemoved(StaffID, by: StaffID)
    case profileUpdated(RoomProfile)
    /// The Room Information panel's content, as it now is.
    case informationUpdated(RoomInformation)
}
