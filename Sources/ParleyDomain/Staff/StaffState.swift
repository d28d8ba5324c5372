/// What a staff member may do beyond their own rooms.
public enum StaffRole: UInt8, Sendable, CaseIterable {
    /// Manages staff accounts.
    case admin = 1
    /// Serves enquiries and chats.
    case agent = 2

    public var name: String { self == .admin ? "admin" : "agent" }

    public init?(name: String) {
        guard let role = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }
}

/// Who a staff member is.
public struct StaffProfile: Sendable, Equatable {
    public var displayName: String
    public var role: StaffRole
    public var createdAt: Timestamp

    public init(displayName: String, role: StaffRole, createdAt: Timestamp) {
        self.displayName = displayName
        self.role = role
        self.createdAt = createdAt
    }
}

/// What an admin or the staff member asks of a staff account. Token hashes are computed by
/// the caller: the rules never see a secret.
public enum StaffCommand: Sendable, Equatable {
    case create(displayName: String, role: StaffRole, tokenHash: [UInt8])
    case rotateToken(tokenHash: [UInt8])
    /// Notices one room event owes this staff member (from the outbox; may repeat).
    case deliver(room: RoomID, eventSeq: UInt64, notices: [StaffNotice])
    /// Several rooms' notices at once, applied in the order given (the outbox's backlog for
    /// this staff member: one actor turn and one log entry instead of one per event).
    case deliverAll([StaffDelivery])
    /// Adds or replaces a personal shortcut.
    case setShortcut(Shortcut)
    case removeShortcut(code: String)
    /// ACTIVE, AWAY, BUSY or OFFLINE (the member or an admin).
    case setAvailability(Availability)
    /// How many open enquiries the member may hold at once (admins).
    case setCapacity(Int)
    /// An enquiry offered, withdrawn, assigned or released (from the enquiry; may repeat).
    case noteEnquiry(EnquiryNotice)
}

/// The notices one room event owes a staff member.
public struct StaffDelivery: Sendable, Equatable {
    public var room: RoomID
    public var eventSeq: UInt64
    public var notices: [StaffNotice]

    public init(room: RoomID, eventSeq: UInt64, notices: [StaffNotice]) {
        self.room = room
        self.eventSeq = eventSeq
        self.notices = notices
    }
}

/// One room in a staff member's index.
public struct StaffRoomEntry: Sendable, Equatable {
    public var kind: RoomKind
    public var isMember: Bool
    public var unread: Bool
    /// The room event seq of the last notice applied: older or repeated ones are ignored.
    public var lastEventSeq: UInt64

    public init(kind: RoomKind, isMember: Bool, unread: Bool, lastEventSeq: UInt64) {
        self.kind = kind
        self.isMember = isMember
        self.unread = unread
        self.lastEventSeq = lastEventSeq
    }
}

/// A message that mentioned the staff member.
public struct Mention: Sendable, Equatable {
    public var room: RoomID
    public var seq: UInt64
    public var by: StaffID
    public var at: Timestamp
    public var notify: Bool

    public init(room: RoomID, seq: UInt64, by: StaffID, at: Timestamp, notify: Bool) {
        self.room = room
        self.seq = seq
        self.by = by
        self.at = at
        self.notify = notify
    }
}

/// What happened to a staff account.
public enum StaffEvent: Sendable, Equatable {
    case created(StaffProfile, tokenHash: [UInt8])
    case tokenRotated(tokenHash: [UInt8], at: Timestamp)
    /// The room entry as it now is, and the mentions the notices added (numbered from
    /// `firstMention`).
    case roomNoted(RoomID, StaffRoomEntry, mentions: [Mention], firstMention: UInt64)
    case shortcutSet(Shortcut)
    case shortcutRemoved(code: String)
    case availabilitySet(Availability, at: Timestamp)
    case capacitySet(Int, at: Timestamp)
    case enquiryNoted(EnquiryNotice)
}

/// A staff account as its actor holds it.
public struct StaffState: Sendable, Equatable {
    public let id: StaffID
    public private(set) var profile: StaffProfile?
    /// SHA-256 of the current token's secret.
    public private(set) var tokenHash: [UInt8]
    /// The rooms the staff member takes or took part in.
    public private(set) var rooms: [RoomID: StaffRoomEntry]
    /// How many mentions have ever been recorded (numbers the mention records).
    public private(set) var mentionCount: UInt64
    /// Personal quick links and text shortcuts, by code.
    public private(set) var shortcuts: [String: Shortcut]
    /// Whether they take enquiries, and how many at once.
    public internal(set) var availability: Availability
    public internal(set) var capacity: Int
    /// The open enquiries they own.
    public internal(set) var enquiries: Set<EnquiryID>
    /// The Open Enquiry panel: enquiries offered to them now.
    public internal(set) var offers: [EnquiryID: EnquiryOfferNote]

    public static let maxShortcuts = 200

    public init(
        id: StaffID, profile: StaffProfile? = nil, tokenHash: [UInt8] = [], rooms: [RoomID: StaffRoomEntry] = [:], mentionCount: UInt64 = 0,
        shortcuts: [String: Shortcut] = [:], availability: Availability = .active, capacity: Int = StaffStatus.defaultCapacity,
        enquiries: Set<EnquiryID> = [], offers: [EnquiryID: EnquiryOfferNote] = [:]
    ) {
        self.shortcuts = shortcuts
        self.availability = availability
        self.capacity = capacity
        self.enquiries = enquiries
        self.offers = offers
        self.id = id
        self.profile = profile
        self.tokenHash = tokenHash
        self.rooms = rooms
        self.mentionCount = mentionCount
    }

    public var exists: Bool { profile != nil }

    /// The Workspace badge: rooms with unread messages.
    public var unreadRooms: Int { rooms.values.filter { $0.isMember && $0.unread }.count }

    public func decide(_ command: StaffCommand, now: Timestamp) throws(DomainError) -> [StaffEvent] {
        switch command {
        case let .create(displayName, role, tokenHash):
            guard !exists else { throw DomainError(.staffAlreadyExists, "staff member \(id) already exists") }
            let name = displayName.trimmingWhitespace()
            guard (1...100).contains(name.unicodeScalars.count) else { throw DomainError(.invalidArgument, "a display name has 1 to 100 characters") }
            guard tokenHash.count == 32 else { throw DomainError(.invalidArgument, "a token hash is 32 bytes") }
            return [.created(StaffProfile(displayName: name, role: role, createdAt: now), tokenHash: tokenHash)]
        case let .rotateToken(tokenHash):
            guard exists else { throw DomainError(.staffNotFound, "no staff member \(id)") }
            guard tokenHash.count == 32 else { throw DomainError(.invalidArgument, "a token hash is 32 bytes") }
            return [.tokenRotated(tokenHash: tokenHash, at: now)]
        case let .deliver(room, eventSeq, notices):
            // Notices arrive at least once; a room's are applied once each, in order.
            if let entry = rooms[room], eventSeq <= entry.lastEventSeq { return [] }
            var entry = rooms[room] ?? StaffRoomEntry(kind: .space, isMember: false, unread: false, lastEventSeq: 0)
            var mentions: [Mention] = []
            for notice in notices {
                switch notice {
                case let .joined(kind):
                    entry.kind = kind
                    entry.isMember = true
                case .left:
                    entry.isMember = false
                    entry.unread = false
                case let .unread(unread):
                    entry.unread = unread
                case let .mentioned(seq, by, at, notify):
                    mentions.append(Mention(room: room, seq: seq, by: by, at: at, notify: notify))
                }
            }
            entry.lastEventSeq = eventSeq
            return [.roomNoted(room, entry, mentions: mentions, firstMention: mentionCount)]
        case let .deliverAll(deliveries):
            // Each delivery is decided against the state the earlier ones leave; a room's
            // successive notes merge into one event (its last entry, all its mentions).
            var state = self
            var events: [StaffEvent] = []
            for delivery in deliveries {
                for event in try state.decide(.deliver(room: delivery.room, eventSeq: delivery.eventSeq, notices: delivery.notices), now: now) {
                    state.apply(event)
                    if case let .roomNoted(room, entry, mentions, _) = event, case let .roomNoted(lastRoom, _, earlier, first)? = events.last, lastRoom == room {
                        events[events.count - 1] = .roomNoted(room, entry, mentions: earlier + mentions, firstMention: first)
                    } else {
                        events.append(event)
                    }
                }
            }
            return events
        case let .setShortcut(shortcut):
            guard exists else { throw DomainError(.staffNotFound, "no staff member \(id)") }
            try shortcut.validate()
            guard shortcuts[shortcut.code] != nil || shortcuts.count < Self.maxShortcuts else {
                throw DomainError(.invalidArgument, "a staff member has at most \(Self.maxShortcuts) shortcuts")
            }
            return shortcuts[shortcut.code] == shortcut ? [] : [.shortcutSet(shortcut)]
        case let .removeShortcut(code):
            guard shortcuts[code] != nil else { throw DomainError(.shortcutNotFound, "no shortcut \(code)") }
            return [.shortcutRemoved(code: code)]
        case .setAvailability, .setCapacity, .noteEnquiry:
            return try decideEnquiryCommand(command, now: now)
        }
    }

    public mutating func apply(_ event: StaffEvent) {
        switch event {
        case let .created(profile, tokenHash):
            self.profile = profile
            self.tokenHash = tokenHash
        case let .tokenRotated(tokenHash, _):
            self.tokenHash = tokenHash
        case let .roomNoted(room, entry, mentions, firstMention):
            rooms[room] = entry
            mentionCount = max(mentionCount, firstMention + UInt64(mentions.count))
        case let .shortcutSet(shortcut):
            shortcuts[shortcut.code] = shortcut
        case let .shortcutRemoved(code):
            shortcuts[code] = nil
        case .availabilitySet, .capacitySet, .enquiryNoted:
            applyEnquiryEvent(event)
        }
    }
}

extension StaffEvent {
    private enum Tag: UInt8 {
        case created = 1
        case tokenRotated = 2
        case roomNoted = 3
        case shortcutSet = 4
        case shortcutRemoved = 5
        case availabilitySet = 6
        case capacitySet = 7
        case enquiryNoted = 8
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .created(profile, tokenHash):
            writer.write(Tag.created.rawValue)
            profile.encode(into: &writer)
            writer.write(bytes: tokenHash)
        case let .tokenRotated(tokenHash, at):
            writer.write(Tag.tokenRotated.rawValue)
            writer.write(bytes: tokenHash)
            writer.write(at.milliseconds)
        case let .roomNoted(room, entry, mentions, firstMention):
            writer.write(Tag.roomNoted.rawValue)
            writer.write(room.rawValue)
            entry.encode(into: &writer)
            writer.writeVarint(UInt64(mentions.count))
            for mention in mentions { mention.encode(into: &writer) }
            writer.writeVarint(firstMention)
        case let .shortcutSet(shortcut):
            writer.write(Tag.shortcutSet.rawValue)
            shortcut.encode(into: &writer)
        case let .shortcutRemoved(code):
            writer.write(Tag.shortcutRemoved.rawValue)
            writer.write(code)
        case let .availabilitySet(availability, at):
            writer.write(Tag.availabilitySet.rawValue)
            writer.write(availability.rawValue)
            writer.write(at.milliseconds)
        case let .capacitySet(capacity, at):
            writer.write(Tag.capacitySet.rawValue)
            writer.writeVarint(UInt64(capacity))
            writer.write(at.milliseconds)
        case let .enquiryNoted(notice):
            writer.write(Tag.enquiryNoted.rawValue)
            notice.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffEvent {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .created:
            let profile = try StaffProfile.decode(from: &reader)
            return .created(profile, tokenHash: try reader.readBytes())
        case .tokenRotated:
            let hash = try reader.readBytes()
            return .tokenRotated(tokenHash: hash, at: Timestamp(milliseconds: try reader.readInt64()))
        case .roomNoted:
            let room = RoomID(unchecked: try reader.readString())
            let entry = try StaffRoomEntry.decode(from: &reader)
            let count = try reader.readVarint()
            guard count <= 10_000 else { throw DecodingError("too many mentions: \(count)") }
            var mentions: [Mention] = []
            for _ in 0..<count { mentions.append(try Mention.decode(from: &reader)) }
            return .roomNoted(room, entry, mentions: mentions, firstMention: try reader.readVarint())
        case .shortcutSet: return .shortcutSet(try Shortcut.decode(from: &reader))
        case .shortcutRemoved: return .shortcutRemoved(code: try reader.readString())
        case .availabilitySet:
            let availability = try reader.read(Availability.self, "availability")
            return .availabilitySet(availability, at: Timestamp(milliseconds: try reader.readInt64()))
        case .capacitySet:
            let capacity = try reader.readCount(atMost: StaffStatus.maxCapacity, of: "capacity")
            return .capacitySet(capacity, at: Timestamp(milliseconds: try reader.readInt64()))
        case .enquiryNoted: return .enquiryNoted(try EnquiryNotice.decode(from: &reader))
        case nil:
            throw DecodingError("unknown staff event tag \(raw)")
        }
    }
}

extension StaffProfile {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(displayName)
        writer.write(role.rawValue)
        writer.write(createdAt.milliseconds)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffProfile {
        let name = try reader.readString()
        let rawRole = try reader.readUInt8()
        guard let role = StaffRole(rawValue: rawRole) else { throw DecodingError("unknown staff role \(rawRole)") }
        return StaffProfile(displayName: name, role: role, createdAt: Timestamp(milliseconds: try reader.readInt64()))
    }
}

extension StaffRoomEntry {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(kind.rawValue)
        writer.write(isMember)
        writer.write(unread)
        writer.writeVarint(lastEventSeq)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffRoomEntry {
        let rawKind = try reader.readUInt8()
        guard let kind = RoomKind(rawValue: rawKind) else { throw DecodingError("unknown room kind \(rawKind)") }
        return StaffRoomEntry(kind: kind, isMember: try reader.readBool(), unread: try reader.readBool(), lastEventSeq: try reader.readVarint())
    }
}

extension Mention {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(room.rawValue)
        writer.writeVarint(seq)
        writer.write(by.rawValue)
        writer.write(at.milliseconds)
        writer.write(notify)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Mention {
        Mention(
            room: RoomID(unchecked: try reader.readString()), seq: try reader.readVarint(),
            by: StaffID(unchecked: try reader.readString()), at: Timestamp(milliseconds: try reader.readInt64()),
            notify: try reader.readBool())
    }
}
