import Hummingbird
import ParleyDomain
import ParleyRuntime

/// `PUT /v1/me/shortcuts/{code}`.
struct ShortcutRequest: RequestBody {
    var kind: String
    var title: String?
    var value: String

    init(_ fields: JSONFields) throws(GatewayError) {
        kind = try fields.string("kind")
        title = try fields.optionalString("title")
        value = try fields.string("value")
    }
}

/// `POST /v1/rooms/{roomID}/quick-links`.
/// `channel_id` picks a channel's quick link; without it the code is one of the sender's own.
struct QuickLinkRequest: RequestBody {
    var code: String
    var channelID: String?
    var idempotencyKey: String?

    init(_ fields: JSONFields) throws(GatewayError) {
        code = try fields.string("code")
        channelID = try fields.optionalString("channel_id")
        idempotencyKey = try fields.optionalString("idempotency_key")
    }
}

struct ShortcutResponse: Encodable {
    let code: String
    let kind: String
    let title: String
    let value: String

    init(_ shortcut: Shortcut) {
        code = shortcut.code
        kind = shortcut.kind.name
        title = shortcut.title
        value = shortcut.value
    }
}

struct ShortcutsResponse: Encodable {
    let shortcuts: [ShortcutResponse]
}

extension Gateway {
    func addShortcutRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/me/shortcuts") { request, _ -> Response in
            let caller = try await caller(of: request)
            let account = try await runtime.staffAccount(caller.staff)
            return JSONBody.response(ShortcutsResponse(shortcuts: account.shortcuts.values.sorted { $0.code < $1.code }.map(ShortcutResponse.init)))
        }

        router.put("/v1/me/shortcuts/:code") { request, context -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(ShortcutRequest.self, from: request, limit: configuration.maxBodyBytes)
            let shortcut = try Self.shortcut(code: context.parameters.get("code") ?? "", body)
            let account = try await runtime.staffCommand(.setShortcut(shortcut), for: caller.staff, by: caller.principal)
            return JSONBody.response(ShortcutResponse(account.shortcuts[shortcut.code] ?? shortcut))
        }

        router.delete("/v1/me/shortcuts/:code") { request, context -> Response in
            let caller = try await caller(of: request)
            _ = try await runtime.staffCommand(.removeShortcut(code: context.parameters.get("code") ?? ""), for: caller.staff, by: caller.principal)
            return Response(status: .noContent)
        }

        router.post("/v1/rooms/:roomID/quick-links") { request, context -> Response in
            let caller = try await caller(of: request)
            let room = try Self.roomID(context)
            let body = try await JSONBody.decode(QuickLinkRequest.self, from: request, limit: configuration.maxBodyBytes)
            let key = try Self.idempotencyKey(request, body: body.idempotencyKey)
            let source: QuickLinkSource
            if let raw = body.channelID {
                guard let channel = ChannelID(rawValue: raw) else { throw GatewayError.invalidArgument("\(raw) is not a valid channel id") }
                source = .channel(channel)
            } else {
                source = .personal
            }
            let (message, replayed) = try await runtime.sendShortcut(body.code, from: source, in: room, by: caller.staff, idempotencyKey: key)
            return Self.posted(message, in: room, replayed: replayed)
        }
    }

    /// The shortcut a `ShortcutRequest` describes.
    static func shortcut(code: String, _ body: ShortcutRequest) throws(GatewayError) -> Shortcut {
        guard let kind = Shortcut.Kind(name: body.kind) else { throw GatewayError.invalidArgument("kind must be link, phone or text") }
        return Shortcut(code: code, kind: kind, title: body.title ?? "", value: body.value)
    }
}
