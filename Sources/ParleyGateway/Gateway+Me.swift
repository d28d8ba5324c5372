import Hummingbird
import ParleyDomain
import ParleyRuntime

/// One room of a staff member's index, as sent live.
struct RoomEntryResponse: Encodable {
    let roomID: String
    let kind: String
    let member: Bool
    let unread: Bool

    enum CodingKeys: String, CodingKey {
        case kind, member, unread
        case roomID = "room_id"
    }

    init(room: RoomID, entry: StaffRoomEntry) {
        roomID = room.rawValue
        kind = entry.kind.name
        member = entry.isMember
        unread = entry.unread
    }
}

struct MentionResponse: Encodable {
    let roomID: String
    let seq: UInt64
    let by: String
    let at: String
    let notify: Bool

    enum CodingKeys: String, CodingKey {
        case seq, by, at, notify
        case roomID = "room_id"
    }

    init(_ mention: Mention) {
        roomID = mention.room.rawValue
        seq = mention.seq
        by = mention.by.rawValue
        at = RoomResponse.format(mention.at)
        notify = mention.notify
    }
}

struct MeResponse: Encodable {
    let id: String
    let displayName: String
    let role: String
    let unreadRooms: Int

    enum CodingKeys: String, CodingKey {
        case id, role
        case displayName = "display_name"
        case unreadRooms = "unread_rooms"
    }
}

struct RecentConnectionResponse: Encodable {
    let room: RoomResponse
    let lastMessage: MessageResponse?
    let lastActivity: String

    enum CodingKeys: String, CodingKey {
        case room
        case lastMessage = "last_message"
        case lastActivity = "last_activity"
    }
}

struct RecentConnectionsResponse: Encodable {
    let unreadRooms: Int
    let rooms: [RecentConnectionResponse]

    enum CodingKeys: String, CodingKey {
        case rooms
        case unreadRooms = "unread_rooms"
    }
}

struct MentionsResponse: Encodable {
    let mentions: [MentionResponse]
}

extension Gateway {
    func addMeRoutes(to router: Router<BasicRequestContext>) {
        let me = router.group("/v1/me")

        me.get { request, _ -> Response in
            let caller = try await caller(of: request)
            let account = try await runtime.staffAccount(caller.staff)
            return JSONBody.response(MeResponse(
                id: caller.staff.rawValue, displayName: account.profile?.displayName ?? caller.staff.rawValue,
                role: caller.role.name, unreadRooms: account.unreadRooms))
        }

        me.get("rooms") { request, _ -> Response in
            let caller = try await caller(of: request)
            let connections = try await runtime.recentConnections(of: caller.staff)
            let unread = connections.filter { $0.room.unreadCount(for: caller.staff) > 0 }.count
            return JSONBody.response(RecentConnectionsResponse(
                unreadRooms: unread,
                rooms: connections.map {
                    RecentConnectionResponse(
                        room: RoomResponse($0.room, for: caller.staff),
                        lastMessage: $0.lastMessage.map { [room = $0.room.id] in MessageResponse($0, room: room) },
                        lastActivity: RoomResponse.format($0.lastActivity))
                }))
        }

        me.get("mentions") { request, _ -> Response in
            let caller = try await caller(of: request)
            let limit = try Self.number("limit", in: request.uri.queryParameters, Int.self) ?? 50
            guard (1...100).contains(limit) else { throw GatewayError.invalidArgument("limit must be between 1 and 100") }
            return JSONBody.response(MentionsResponse(mentions: try await runtime.mentions(of: caller.staff, limit: limit).map(MentionResponse.init)))
        }
    }
}
