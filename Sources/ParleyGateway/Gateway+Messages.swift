import HTTPTypes
import Hummingbird
import ParleyDomain
import ParleyRuntime

extension Gateway {
    func addMessageRoutes(to rooms: RouterGroup<BasicRequestContext>) {
        addFileRoutes(to: rooms)
        rooms.post(":roomID/messages") { request, context -> Response in
            let caller = try await caller(of: request)
            let room = try Self.roomID(context)
            let body = try await JSONBody.decode(PostMessageRequest.self, from: request, limit: configuration.maxBodyBytes)
            let key = try Self.idempotencyKey(request, body: body.idempotencyKey)
            let (message, replayed) = try await runtime.postMessage(
                in: room, MessagePost(author: caller.staff, text: body.text, idempotencyKey: key, replyTo: body.replyTo))
            return Self.posted(message, in: room, replayed: replayed)
        }

        rooms.get(":roomID/messages") { request, context -> Response in
            let caller = try await caller(of: request)
            let room = try Self.roomID(context)
            let query = request.uri.queryParameters
            let limit = try Self.number("limit", in: query, Int.self) ?? 50
            guard (1...HistoryPage.maxLimit).contains(limit) else {
                throw GatewayError.invalidArgument("limit must be between 1 and \(HistoryPage.maxLimit)")
            }
            let page = HistoryPage(after: try Self.number("after", in: query, UInt64.self), before: try Self.number("before", in: query, UInt64.self), limit: limit)
            let messages = try await runtime.messages(in: room, reader: caller.staff, page: page)
            return JSONBody.response(HistoryResponse(roomID: room.rawValue, messages: messages.map { MessageResponse($0, room: room) }))
        }

        rooms.patch(":roomID/messages/:seq") { request, context -> Response in
            let caller = try await caller(of: request)
            let room = try Self.roomID(context)
            let body = try await JSONBody.decode(EditMessageRequest.self, from: request, limit: configuration.maxBodyBytes)
            let message = try await runtime.edit(try Self.seq(context), in: room, text: body.text, by: caller.staff)
            return JSONBody.response(MessageResponse(message, room: room))
        }

        rooms.delete(":roomID/messages/:seq") { request, context -> Response in
            let caller = try await caller(of: request)
            let room = try Self.roomID(context)
            let message = try await runtime.recall(try Self.seq(context), in: room, by: caller.staff)
            return JSONBody.response(MessageResponse(message, room: room))
        }

        rooms.post(":roomID/messages/:seq/forward") { request, context -> Response in
            let caller = try await caller(of: request)
            let origin = try Self.roomID(context)
            let body = try await JSONBody.decode(ForwardMessageRequest.self, from: request, limit: configuration.maxBodyBytes)
            guard let target = RoomID(rawValue: body.toRoom) else { throw GatewayError.invalidArgument("to_room is not a valid room id") }
            let key = try Self.idempotencyKey(request, body: body.idempotencyKey)
            let (message, replayed) = try await runtime.forward(
                try Self.seq(context), from: origin, to: target, by: caller.staff, text: body.text ?? "", idempotencyKey: key)
            return Self.posted(message, in: target, replayed: replayed)
        }
    }

    static func posted(_ message: Message, in room: RoomID, replayed: Bool) -> Response {
        JSONBody.response(
            MessageResponse(message, room: room),
            status: replayed ? .ok : .created,
            headers: replayed ? [.idempotentReplayed: "true"] : [.location: "/v1/rooms/\(room)/messages/\(message.seq)"])
    }

    static func seq(_ context: BasicRequestContext) throws(GatewayError) -> UInt64 {
        guard let raw = context.parameters.get("seq"), let seq = UInt64(raw), seq > 0 else {
            throw GatewayError.invalidArgument("a message seq is a positive integer")
        }
        return seq
    }

    /// The idempotency key from the `Idempotency-Key` header or the body; both must agree.
    static func idempotencyKey(_ request: Request, body: String?) throws(GatewayError) -> String? {
        let header = request.headers.value(of: .idempotencyKey)
        if let header, let body, header != body {
            throw GatewayError(.conflict, code: "idempotency_key_conflict", "the Idempotency-Key header and the idempotency_key field differ")
        }
        return header ?? body
    }
}
