/// A room as its actor holds it: everything the rules need to decide a command. Messages
/// themselves are not kept here; only the last sequence number is.
public struct RoomState: Sendable, Equatable {
    public let id: RoomID
    public private(set) var profile: RoomProfile?
    public private(set) var members: Set<StaffID>
    public private(set) var lastSeq: UInt64

    /// A room that does not exist yet.
    public init(id: RoomID) {
        self.init(id: id, profile: nil, members: [], lastSeq: 0)
    }

    /// A room as loaded from the partition's applied state.
    public init(id: RoomID, profile: RoomProfile?, members: Set<StaffID>, lastSeq: UInt64) {
        self.id = id
        self.profile = profile
        self.members = members
        self.lastSeq = lastSeq
    }

    public var exists: Bool { profile != nil }

    /// Whether `staff` may read this room.
    public func canRead(_ staff: StaffID) -> Bool { members.contains(staff) }

    /// Decides `command` at `now`: the events to record, or the rule it breaks. Pure.
    public func decide(_ command: RoomCommand, now: Timestamp, limits: RoomLimits = RoomLimits()) throws(DomainError) -> [RoomEvent] {
        switch command {
        case let .create(creation):
            return try decideCreate(creation, now: now, limits: limits)
        case let .post(post):
            return try decidePost(post, now: now, limits: limits)
        }
    }

    /// Moves the state past `event`. Deterministic: every replica applies the same events in
    /// the same order and reaches the same state.
    public mutating func apply(_ event: RoomEvent) {
        switch event {
        case let .created(profile, members):
            self.profile = profile
            self.members = Set(members)
        case let .messagePosted(message):
            lastSeq = max(lastSeq, message.seq)
        }
    }

    private func decideCreate(_ creation: RoomCreation, now: Timestamp, limits: RoomLimits) throws(DomainError) -> [RoomEvent] {
        guard !exists else { throw DomainError(.roomAlreadyExists, "room \(id) already exists") }
        guard creation.kind == .space else {
            throw DomainError(.unsupportedRoomKind, "rooms of kind \(creation.kind.name) are opened by their own flow, not created directly")
        }
        let name = creation.name.trimmingWhitespace()
        guard !name.isEmpty else { throw DomainError(.invalidArgument, "name must not be blank") }
        guard name.count <= limits.maxNameLength else {
            throw DomainError(.invalidArgument, "name is longer than \(limits.maxNameLength) characters")
        }
        guard creation.description.count <= limits.maxDescriptionLength else {
            throw DomainError(.invalidArgument, "description is longer than \(limits.maxDescriptionLength) characters")
        }
        var members = [creation.creator]
        for member in creation.members where !members.contains(member) {
            members.append(member)
        }
        guard members.count <= limits.maxMembers else {
            throw DomainError(.tooManyMembers, "a room has at most \(limits.maxMembers) members")
        }
        let profile = RoomProfile(
            kind: creation.kind, name: name, description: creation.description,
            visibility: creation.visibility, createdBy: creation.creator, createdAt: now)
        return [.created(profile, members: members)]
    }

    private func decidePost(_ post: MessagePost, now: Timestamp, limits: RoomLimits) throws(DomainError) -> [RoomEvent] {
        guard exists else { throw DomainError(.roomNotFound, "room \(id) does not exist") }
        guard members.contains(post.author) else {
            throw DomainError(.notAMember, "\(post.author) is not a member of room \(id)")
        }
        guard !post.text.trimmingWhitespace().isEmpty else {
            throw DomainError(.emptyMessage, "a message needs text")
        }
        guard post.text.count <= limits.maxTextLength else {
            throw DomainError(.messageTooLong, "text is longer than \(limits.maxTextLength) characters")
        }
        if let key = post.idempotencyKey, key.isEmpty || key.utf8.count > limits.maxIdempotencyKeyLength {
            throw DomainError(.invalidArgument, "an idempotency key has 1 to \(limits.maxIdempotencyKeyLength) bytes")
        }
        let message = Message(seq: lastSeq + 1, author: post.author, text: post.text, postedAt: now, idempotencyKey: post.idempotencyKey)
        return [.messagePosted(message)]
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
