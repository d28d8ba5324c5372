import HTTPTypes
import Hummingbird
import ParleyDomain
import ParleyRuntime

extension Gateway {
    func addRoomRoutes(to router: Router<BasicRequestContext>) {
        let rooms = router.group("/v1/rooms")

        rooms.post { request, _ -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(CreateRoomRequest.self, from: request, limit: configuration.maxBodyBytes)
            let creation = try Self.creation(from: body, creator: caller.staff)
            // Opening a staff pair's direct room again answers with the existing room (200).
            let (state, created) = try await runtime.openRoom(creation)
            return JSONBody.response(
                RoomResponse(state, for: caller.staff), status: created ? .created : .ok, headers: [.location: "/v1/rooms/\(state.id)"])
        }

        rooms.get(":roomID") { request, context -> Response in
            let caller = try await caller(of: request)
            return JSONBody.response(RoomResponse(try await runtime.room(try Self.roomID(context), reader: caller.staff), for: caller.staff))
        }

        rooms.patch(":roomID") { request, context -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(UpdateRoomRequest.self, from: request, limit: configuration.maxBodyBytes)
            var visibility: RoomVisibility?
            if let name = body.visibility {
                guard let parsed = RoomVisibility(name: name) else { throw GatewayError.invalidArgument("visibility must be public or private") }
                visibility = parsed
            }
            let state = try await runtime.update(
                try Self.roomID(context), .updateProfile(name: body.name, description: body.description, visibility: visibility, by: caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }

        rooms.get(":roomID/events") { request, context -> Response in
            let caller = try await caller(of: request)
            let room = try Self.roomID(context)
            let query = request.uri.queryParameters
            let after = try Self.number("after", in: query, UInt64.self) ?? 0
            let limit = try Self.number("limit", in: query, Int.self) ?? 100
            guard (1...500).contains(limit) else { throw GatewayError.invalidArgument("limit must be between 1 and 500") }
            let (entries, oldest) = try await runtime.journal(of: room, reader: caller.staff, after: after, limit: limit)
            return JSONBody.response(JournalResponse(roomID: room.rawValue, events: entries.map(EventResponse.init), oldestKept: oldest))
        }

        addMessageRoutes(to: rooms)
        addMembershipRoutes(to: rooms)
        addInformationRoutes(to: rooms)
    }

    /// The authenticated caller, or a 401.
    func caller(of request: Request) async throws -> Caller {
        try await authenticator.authenticate(request, runtime: runtime)
    }

    static func roomID(_ context: BasicRequestContext, _ name: String = "roomID") throws(GatewayError) -> RoomID {
        guard let raw = context.parameters.get(name), let id = RoomID(rawValue: raw) else {
            throw GatewayError.invalidArgument("a room id has 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        return id
    }

    /// The longest member list a request may carry (a room has at most 1000 members,
    /// its creator included).
    static let maxListedMembers = 999

    static func staffID(_ raw: String) throws(GatewayError) -> StaffID {
        guard let id = StaffID(rawValue: raw) else { throw GatewayError.invalidArgument("\(raw) is not a valid staff id") }
        return id
    }

    static func number<T: FixedWidthInteger>(_ name: String, in query: Parameters, _ type: T.Type) throws(GatewayError) -> T? {
        guard let raw = query.get(name) else { return nil }
        guard let value = T(raw), value >= 0 else { throw GatewayError.invalidArgument("\(name) must be a non-negative integer") }
        return value
    }

    static func creation(from body: CreateRoomRequest, creator: StaffID) throws(GatewayError) -> RoomCreation {
        guard let kind = RoomKind(name: body.kind ?? "space") else {
            throw GatewayError.invalidArgument("kind must be one of enquiry, direct, space, conference")
        }
        guard let visibility = RoomVisibility(name: body.visibility ?? "private") else {
            throw GatewayError.invalidArgument("visibility must be public or private")
        }
        var members: [StaffID] = []
        guard (body.members ?? []).count <= maxListedMembers else {
            throw GatewayError.invalidArgument("at most \(maxListedMembers) members may be listed")
        }
        for raw in body.members ?? [] { members.append(try staffID(raw)) }
        return RoomCreation(kind: kind, name: body.name ?? "", description: body.description ?? "", visibility: visibility, members: members, creator: creator)
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
