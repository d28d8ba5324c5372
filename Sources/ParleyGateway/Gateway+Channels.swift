import Hummingbird
import ParleyDomain
import ParleyRuntime

/// `POST /v1/channels`.
struct CreateChannelRequest: RequestBody {
    var name: String
    var kind: String
    var webLink: String?
    var phoneNumber: String?

    init(_ fields: JSONFields) throws(GatewayError) {
        name = try fields.string("name")
        kind = try fields.string("kind")
        webLink = try fields.optionalString("web_link")
        phoneNumber = try fields.optionalString("phone_number")
    }
}

/// `PATCH /v1/channels/{channelID}`: absent fields stay; an empty web link or phone number
/// removes it.
struct UpdateChannelRequest: RequestBody {
    var name: String?
    var webLink: String?
    var phoneNumber: String?

    init(_ fields: JSONFields) throws(GatewayError) {
        name = try fields.optionalString("name")
        webLink = try fields.optionalString("web_link")
        phoneNumber = try fields.optionalString("phone_number")
    }
}

struct ChannelResponse: Encodable {
    let id: String
    let name: String
    let kind: String
    let webLink: String?
    let phoneNumber: String?
    let createdAt: String
    /// Everything staff can send from this channel: web link, phone number, own shortcuts.
    let quickLinks: [ShortcutResponse]

    enum CodingKeys: String, CodingKey {
        case id, name, kind
        case webLink = "web_link"
        case phoneNumber = "phone_number"
        case createdAt = "created_at"
        case quickLinks = "quick_links"
    }

    init(_ state: ChannelState) {
        id = state.id.rawValue
        name = state.profile?.name ?? ""
        kind = state.profile?.kind.name ?? ""
        webLink = state.profile?.webLink
        phoneNumber = state.profile?.phoneNumber
        createdAt = state.profile.map { RoomResponse.format($0.createdAt) } ?? ""
        quickLinks = state.quickLinks.map(ShortcutResponse.init)
    }
}

struct ChannelsResponse: Encodable {
    let channels: [ChannelResponse]
}

extension Gateway {
    func addChannelRoutes(to router: Router<BasicRequestContext>) {
        let channels = router.group("/v1/channels")

        channels.get { request, _ -> Response in
            _ = try await caller(of: request)
            return JSONBody.response(ChannelsResponse(channels: try await runtime.allChannels().map(ChannelResponse.init)))
        }

        channels.post { request, _ -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(CreateChannelRequest.self, from: request, limit: configuration.maxBodyBytes)
            guard let kind = ChannelKind(name: body.kind) else {
                throw GatewayError.invalidArgument("kind must be one of \(ChannelKind.allCases.map(\.name).joined(separator: ", "))")
            }
            let id = ChannelID.random(prefix: "ch_")
            let state = try await runtime.channelCommand(
                .create(name: body.name, kind: kind, webLink: body.webLink, phoneNumber: body.phoneNumber), for: id, by: caller.principal)
            return JSONBody.response(ChannelResponse(state), status: .created, headers: [.location: "/v1/channels/\(id)"])
        }

        channels.get(":channelID") { request, context -> Response in
            _ = try await caller(of: request)
            return JSONBody.response(ChannelResponse(try await existingChannel(try Self.channelID(context))))
        }

        channels.patch(":channelID") { request, context -> Response in
            let caller = try await caller(of: request)
            let id = try Self.channelID(context)
            let body = try await JSONBody.decode(UpdateChannelRequest.self, from: request, limit: configuration.maxBodyBytes)
            let state = try await runtime.channelCommand(.update(name: body.name, webLink: body.webLink, phoneNumber: body.phoneNumber), for: id, by: caller.principal)
            return JSONBody.response(ChannelResponse(state))
        }

        channels.put(":channelID/shortcuts/:code") { request, context -> Response in
            let caller = try await caller(of: request)
            let id = try Self.channelID(context)
            let body = try await JSONBody.decode(ShortcutRequest.self, from: request, limit: configuration.maxBodyBytes)
            let shortcut = try Self.shortcut(code: context.parameters.get("code") ?? "", body)
            let state = try await runtime.channelCommand(.setShortcut(shortcut), for: id, by: caller.principal)
            return JSONBody.response(ShortcutResponse(state.shortcuts[shortcut.code] ?? shortcut))
        }

        channels.delete(":channelID/shortcuts/:code") { request, context -> Response in
            let caller = try await caller(of: request)
            let id = try Self.channelID(context)
            _ = try await runtime.channelCommand(.removeShortcut(code: context.parameters.get("code") ?? ""), for: id, by: caller.principal)
            return Response(status: .noContent)
        }
    }

    private func existingChannel(_ id: ChannelID) async throws -> ChannelState {
        let state = try await runtime.channel(id)
        guard state.exists else { throw GatewayError(.notFound, code: DomainError.Code.channelNotFound.rawValue, "no channel \(id)") }
        return state
    }

    static func channelID(_ context: BasicRequestContext) throws(GatewayError) -> ChannelID {
        guard let raw = context.parameters.get("channelID"), let id = ChannelID(rawValue: raw) else {
            throw GatewayError.invalidArgument("a channel id has 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        return id
    }
}
