/// A room as its actor holds it: everything the rules need to decide a command. Messages
/// themselves are not kept here (the rules look them up); only the last sequence numbers are.
public struct RoomState: Sendable, Equatable {
    public let id: RoomID
    public private(set) var profile: RoomProfile?
    public private(set) var members: [StaffID: MemberState]
    /// The seq of the newest message.
    public private(set) var lastSeq: UInt64
    /// The seq of the newest event in the room's journal (every event, not only posts).
    public private(set) var lastEventSeq: UInt64
    /// What the Room Information panel shows.
    public private(set) var information: RoomInformation

    /// A room that does not exist yet.
    public init(id: RoomID) {
        self.init(id: id, profile: nil, members: [:], lastSeq: 0, lastEventSeq: 0)
    }

    /// A room as loaded from the partition's applied state.
    public init(
        id: RoomID, profile: RoomProfile?, members: [StaffID: MemberState], lastSeq: UInt64, lastEventSeq: UInt64,
        information: RoomInformation = RoomInformation()
    ) {
        self.information = information
        self.id = id
        self.profile = profile
        self.members = members
        self.lastSeq = lastSeq
        self.lastEventSeq = lastEventSeq
    }

    public var exists: Bool { profile != nil }

    /// Whether `staff` may read this room.
    public func canRead(_ staff: StaffID) -> Bool { members[staff] != nil }

    /// How many messages `staff` has not read.
    public func unreadCount(for staff: StaffID) -> UInt64 {
        guard let member = members[staff] else { return 0 }
        return lastSeq > member.readSeq ? lastSeq - member.readSeq : 0
    }

    /// Moves the state past `event`. Deterministic: every replica applies the same events in
    /// the same order and reaches the same state.
    public mutating func apply(_ event: RoomEvent) {
        lastEventSeq += 1
        switch event {
        case let .created(profile, members):
            self.profile = profile
            self.members = Dictionary(members.map { ($0, MemberState(joinedAt: profile.createdAt)) }, uniquingKeysWith: { a, _ in a })
        case let .messagePosted(message):
            lastSeq = max(lastSeq, message.seq)
        case .messageEdited, .messageRecalled, .messagePreviewed:
            break
        case let .readPointerMoved(staff, seq):
            if let current = members[staff]?.readSeq, seq > current { members[staff]?.readSeq = seq }
        case let .muteChanged(staff, setting):
            members[staff]?.mute = setting
        case let .membersAdded(added, _, joinedAt, readSeq):
            for staff in added where members[staff] == nil {
                members[staff] = MemberState(readSeq: readSeq, joinedAt: joinedAt)
            }
        case let .memberRemoved(staff, _):
            members[staff] = nil
        case let .profileUpdated(updated):
            profile = updated
        case let .informationUpdated(updated):
            information = updated
        }
    }
}
