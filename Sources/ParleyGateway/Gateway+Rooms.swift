import HTTPTypes
import Hummingbird
import ParleyDomain
import ParleyRuntime

extension Gateway {
    func addRoomRoutes(to router: Router<BasicRequestContext>) {
        let rooms = router.group("/v1/rooms")

        rooms.post { request, _ -> Response in
            let staff = try authenticator.authenticate(request)
            let body = try await JSONBody.decode(CreateRoomRequest.self, from: request, limit: configuration.maxBodyBytes)
            let creation = try Self.creation(from: body, creator: staff)
            let state = try await runtime.createRoom(creation)
            return JSONBody.response(RoomResponse(state), status: .created, headers: [.location: "/v1/rooms/\(state.id)"])
        }

        rooms.get(":roomID") { request, context -> Response in
            let staff = try authenticator.authenticate(request)
            let room = try Self.roomID(context)
            return JSONBody.response(RoomResponse(try await runtime.room(room, reader: staff)))
        }

        rooms.post(":roomID/messages") { request, context -> Response in
            let staff = try authenticator.authenticate(request)
            let room = try Self.roomID(context)
            let body = try await JSONBody.decode(PostMessageRequest.self, from: request, limit: configuration.maxBodyBytes)
            let headerKey = request.headers[.idempotencyKey]
            if let headerKey, let bodyKey = body.idempotencyKey, headerKey != bodyKey {
                throw GatewayError.invalidArgument("the Idempotency-Key header and the idempotency_key field differ")
            }
            let post = MessagePost(author: staff, text: body.text, idempotencyKey: headerKey ?? body.idempotencyKey)
            let (message, replayed) = try await runtime.postMessage(in: room, post)
            return JSONBody.response(
                MessageResponse(message, room: room),
                status: replayed ? .ok : .created,
                headers: replayed ? [.idempotentReplayed: "true"] : [:])
        }

        rooms.get(":roomID/messages") { request, context -> Response in
            let staff = try authenticator.authenticate(request)
            let room = try Self.roomID(context)
            let page = try Self.historyPage(request.uri.queryParameters)
            let messages = try await runtime.messages(in: room, reader: staff, page: page)
            return JSONBody.response(HistoryResponse(roomID: room.rawValue, messages: messages.map { MessageResponse($0, room: room) }))
        }
    }

    static func roomID(_ context: BasicRequestContext) throws(GatewayError) -> RoomID {
        guard let raw = context.parameters.get("roomID"), let id = RoomID(rawValue: raw) else {
            throw GatewayError.invalidArgument("a room id has 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        return id
    }

    static func creation(from body: CreateRoomRequest, creator: StaffID) throws(GatewayError) -> RoomCreation {
        let kindName = body.kind ?? "space"
        guard let kind = RoomKind(name: kindName) else {
            throw GatewayError.invalidArgument("kind must be one of enquiry, direct, space, conference")
        }
        let visibilityName = body.visibility ?? "private"
        guard let visibility = RoomVisibility(name: visibilityName) else {
            throw GatewayError.invalidArgument("visibility must be public or private")
        }
        var members: [StaffID] = []
        for raw in body.members ?? [] {
            guard let member = StaffID(rawValue: raw) else { throw GatewayError.invalidArgument("member \(raw) is not a valid staff id") }
            members.append(member)
        }
        return RoomCreation(kind: kind, name: body.name, description: body.description ?? "", visibility: visibility, members: members, creator: creator)
    }

    static func historyPage(_ query: Parameters) throws(GatewayError) -> HistoryPage {
        func number<T: FixedWidthInteger>(_ name: String, _ type: T.Type) throws(GatewayError) -> T? {
            guard let raw = query.get(name) else { return nil }
            guard let value = T(raw), value >= 0 else { throw GatewayError.invalidArgument("\(name) must be a non-negative integer") }
            return value
        }
        let limit = try number("limit", Int.self) ?? 50
        guard (1...HistoryPage.maxLimit).contains(limit) else {
            throw GatewayError.invalidArgument("limit must be between 1 and \(HistoryPage.maxLimit)")
        }
        return HistoryPage(after: try number("after", UInt64.self), before: try number("before", UInt64.self), limit: limit)
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
