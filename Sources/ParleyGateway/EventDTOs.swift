import ParleyDomain
import ParleyRuntime

/// One journal event as clients see it, over REST (`/events`) and live.
struct EventResponse: Encodable {
    let roomID: String
    let eventSeq: UInt64
    let type: String
    let message: MessageResponse?
    let staff: String?
    let members: [String]?
    let readSeq: UInt64?
    let mute: String?
    let by: String?
    let room: RoomSummary?

    struct RoomSummary: Encodable {
        let name: String
        let description: String
        let visibility: String
    }

    enum CodingKeys: String, CodingKey {
        case type, message, staff, members, mute, by, room
        case roomID = "room_id"
        case eventSeq = "event_seq"
        case readSeq = "read_seq"
    }

    init(_ entry: JournalEntry) {
        roomID = entry.room.rawValue
        eventSeq = entry.eventSeq
        var type = ""
        var message: Message?
        var staff: StaffID?
        var members: [StaffID]?
        var readSeq: UInt64?
        var mute: MuteSetting?
        var by: StaffID?
        var profile: RoomProfile?
        switch entry.event {
        case let .created(created, initial):
            type = "room.created"
            profile = created
            members = initial
            by = created.createdBy
        case let .messagePosted(posted): type = "message.posted"; message = posted
        case let .messageEdited(edited): type = "message.edited"; message = edited
        case let .messageRecalled(recalled, _): type = "message.recalled"; message = recalled
        case let .messagePreviewed(previewed): type = "message.previewed"; message = previewed
        case let .readPointerMoved(reader, seq): type = "read_pointer.moved"; staff = reader; readSeq = seq
        case let .muteChanged(member, setting): type = "mute.changed"; staff = member; mute = setting
        case let .membersAdded(added, adder, _, _): type = "members.added"; members = added; by = adder
        case let .memberRemoved(removed, remover): type = "member.removed"; staff = removed; by = remover
        case let .profileUpdated(updated): type = "room.updated"; profile = updated
        case .informationUpdated: type = "room.information_updated"
        }
        self.type = type
        self.message = message.map { MessageResponse($0, room: entry.room) }
        self.staff = staff?.rawValue
        self.members = members?.map(\.rawValue)
        self.readSeq = readSeq
        self.mute = mute?.name
        self.by = by?.rawValue
        self.room = profile.map { RoomSummary(name: $0.name, description: $0.description, visibility: $0.visibility.name) }
    }
}

struct JournalResponse: Encodable {
    let roomID: String
    let events: [EventResponse]
    let oldestKept: UInt64?

    enum CodingKeys: String, CodingKey {
        case events
        case roomID = "room_id"
        case oldestKept = "oldest_kept"
    }
}

/// `POST /v1/staff`.
struct CreateStaffRequest: RequestBody {
    var id: String?
    var displayName: String
    var role: String?

    init(_ fields: JSONFields) throws(GatewayError) {
        id = try fields.optionalString("id")
        displayName = try fields.string("display_name")
        role = try fields.optionalString("role")
    }
}

struct StaffResponse: Encodable {
    let id: String
    let displayName: String
    let role: String
    let createdAt: String
    /// Only when the token was just issued: it is never shown again.
    let token: String?

    enum CodingKeys: String, CodingKey {
        case id, role, token
        case displayName = "display_name"
        case createdAt = "created_at"
    }

    init(_ state: StaffState, token: String? = nil) {
        id = state.id.rawValue
        displayName = state.profile?.displayName ?? ""
        role = state.profile?.role.name ?? ""
        createdAt = state.profile.map { RoomResponse.format($0.createdAt) } ?? ""
        self.token = token
    }
}
