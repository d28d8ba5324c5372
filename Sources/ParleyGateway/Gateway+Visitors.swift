import HTTPTypes
import Hummingbird
import ParleyDomain
import ParleyRuntime

/// The visitor API: no staff token. A widget's page reads its directory, opens a visitor
/// session (an anonymous visitor id and a visitor token), writes and reads its conversation.
extension Gateway {
    func addVisitorRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/widget/:channelID") { _, context -> Response in
            let channel = try await visitorChannel(try Self.channelID(context))
            return JSONBody.response(try await widgetDirectory(channel))
        }

        router.post("/v1/visitor/sessions") { request, _ -> Response in
            let body = try VisitorSessionRequest(try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes))
            let channel = try await visitorChannel(body.channel)
            let visitor = VisitorID.random(prefix: "v_")
            let (token, hash) = StaffAuthenticator.issueToken(forKey: visitor.rawValue)
            let name = body.name?.trimmingCharacters(in: .whitespaces).nilIfEmpty ?? "Visitor " + visitor.rawValue.suffix(4).uppercased()
            _ = try await runtime.command(
                VisitorCommand.create(name: name, email: body.email, source: channel.id, information: body.information, tokenHash: hash), to: visitor.rawValue,
                of: VisitorState.self)
            return JSONBody.response(
                VisitorSessionResponse(visitorID: visitor.rawValue, token: token, channelID: channel.id.rawValue, name: name), status: .created)
        }

        router.get("/v1/visitor") { request, _ -> Response in
            let visitor = try await visitorCaller(request)
            return JSONBody.response(try await visitorResponse(visitor))
        }

        router.post("/v1/visitor/messages") { request, _ -> Response in
            let visitor = try await visitorCaller(request)
            let fields = try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes)
            let text = try fields.string("text")
            // The client's keys are kept apart from the node's own ("first", "welcome", "away").
            let key = try Self.idempotencyKey(request, body: fields.optionalString("idempotency_key")).map { "c:" + $0 }
            let after = try await writeAsVisitor(visitor, text: text, key: key)
            return JSONBody.response(try await visitorResponse(after, enquiry: after.latestEnquiry), status: .created)
        }

        router.get("/v1/visitor/messages") { request, _ -> Response in
            let visitor = try await visitorCaller(request)
            let query = request.uri.queryParameters
            let limit = try Self.number("limit", in: query, Int.self) ?? 50
            guard (1...HistoryPage.maxLimit).contains(limit) else { throw GatewayError.invalidArgument("limit must be between 1 and \(HistoryPage.maxLimit)") }
            let state = try await runtime.state(of: visitor.id.rawValue, VisitorState.self, by: .visitor(visitor.id.rawValue))
            let enquiry = try query.get("enquiry_id").map { raw throws(GatewayError) -> EnquiryID in
                guard let id = EnquiryID(rawValue: raw) else { throw GatewayError.invalidArgument("an enquiry id has 1 to 64 of A-Z a-z 0-9 . _ -") }
                return id
            } ?? state.latestEnquiry
            guard let enquiry else { return JSONBody.response(VisitorMessagesResponse(enquiryID: nil, roomID: nil, messages: [])) }
            let room = RoomID(unchecked: enquiry.rawValue)
            let page = HistoryPage(after: try Self.number("after", in: query, UInt64.self), before: try Self.number("before", in: query, UInt64.self), limit: limit)
            let messages: [Message]
            do {
                messages = try await runtime.messages(in: room, caller: .visitor(visitor.id.rawValue), page: page)
            } catch RuntimeError.rejected(let error) where error.code == .roomNotFound {
                // Their enquiry is still opening (its room comes with it): nothing in it yet.
                messages = []
            }
            let names = try await authorNames(messages.map(\.author), visitor: state, source: state.profile?.source)
            return JSONBody.response(VisitorMessagesResponse(
                enquiryID: enquiry.rawValue, roomID: room.rawValue, messages: messages.map { VisitorMessageResponse($0, room: room, authorName: names[$0.author] ?? nil) }))
        }
    }

    /// The visitor a visitor token names: `<visitor id>.<secret>`, the secret checked against
    /// the hash the visitor entity keeps.
    func visitorCaller(_ request: Request) async throws -> VisitorState {
        try await visitorState(authorization: request.headers.value(of: .authorization), accessToken: request.uri.queryParameters.get("access_token"))
    }

    /// The visitor an `Authorization: Bearer` value (first) or an `access_token` query item names.
    func visitorState(authorization: String?, accessToken: String?) async throws -> VisitorState {
        let token: String
        if let authorization {
            guard let bearer = StaffAuthenticator.bearerToken(in: authorization) else { throw GatewayError.unauthenticated }
            token = bearer
        } else if let accessToken {
            token = accessToken
        } else {
            throw GatewayError.unauthenticated
        }
        guard let dot = token.utf8.lastIndex(of: UInt8(ascii: ".")), let id = VisitorID(rawValue: String(token[..<dot])) else {
            throw GatewayError.invalidToken
        }
        let state = try await runtime.state(of: id.rawValue, VisitorState.self, by: .system)
        guard state.exists, StaffAuthenticator.constantTimeEqual(StaffAuthenticator.hash(token[token.utf8.index(after: dot)...]), state.tokenHash) else {
            throw GatewayError.invalidToken
        }
        return state
    }

    /// Writes `text` as the visitor: into their open enquiry, or opening the next one (a
    /// message arriving just as the open one closes opens the next one too).
    /// Writes `text` as the visitor. Every message goes through the visitor entity, which sends
    /// it to the open enquiry or opens the next one with it: one source, so the messages reach
    /// the room in the order written, and none is posted to an enquiry still opening. The
    /// channel's settings are read only when no enquiry is open (the entity keeps the last).
    private func writeAsVisitor(_ visitor: VisitorState, text: String, key: String?) async throws -> VisitorState {
        var source: EnquirySource?
        if visitor.openEnquiry == nil, let channelID = visitor.profile?.source {
            let channel = try await runtime.channel(channelID)
            source = EnquirySource(name: channel.profile?.name ?? channelID.rawValue, settings: channel.settings)
        }
        return try await runtime.command(
            VisitorCommand.write(text: text, source: source, idempotencyKey: key), to: visitor.id.rawValue, of: VisitorState.self,
            by: .visitor(visitor.id.rawValue))
    }

    /// `visitor` as just read or written (no second read), and their enquiry.
    private func visitorResponse(_ visitor: VisitorState, enquiry: EnquiryID? = nil) async throws -> VisitorResponse {
        var response: VisitorEnquiryResponse?
        if let id = enquiry ?? visitor.openEnquiry ?? (visitor.held.isEmpty ? nil : visitor.latestEnquiry) {
            // Theirs by construction (from their own state); it may not exist yet (its opening is on its way).
            let state = try await runtime.state(of: id.rawValue, EnquiryState.self, by: .system)
            var staffName: String?
            if let owner = state.owner, let source = visitor.profile?.source {
                staffName = try await authorNames([owner], visitor: visitor, source: source)[owner] ?? nil
            }
            var position: Int?
            if state.status == .queued {
                position = state.queuePosition(in: try await runtime.state(of: EnquiryState.queueIndex(state.queueDestination), IndexState.self))
            }
            response = VisitorEnquiryResponse(
                enquiryID: id.rawValue, roomID: state.room.rawValue, status: state.exists ? state.status.name : "opening", staffName: staffName, queuePosition: position)
        }
        return VisitorResponse(visitorID: visitor.id.rawValue, name: visitor.profile?.name ?? "", channelID: visitor.profile?.source.rawValue ?? "", enquiry: response)
    }

    /// Authors as the visitor sees them: staff by the source's display-name format (nil: not
    /// shown), the visitor by their name, the node's notices by the source's name.
    private func authorNames(_ authors: [StaffID], visitor: VisitorState, source: ChannelID?) async throws -> [StaffID: String?] {
        var channel: ChannelState?
        if let source { channel = try await runtime.channel(source) }
        var names: [StaffID: String?] = [:]
        for author in Set(authors) {
            if author.visitor != nil {
                names[author] = visitor.profile?.name
            } else if !author.isStaff {
                names[author] = channel?.profile?.name
            } else {
                let account = try? await runtime.staffAccount(author)
                names[author] = (channel?.settings.displayName ?? .fullName).shown(account?.profile?.displayName ?? author.rawValue)
            }
        }
        return names
    }

    /// A channel visitors may sign in through (it exists; any kind may host a widget).
    private func visitorChannel(_ id: ChannelID) async throws -> ChannelState {
        let channel = try await runtime.channel(id)
        guard channel.exists else { throw GatewayError(.notFound, code: DomainError.Code.channelNotFound.rawValue, "no channel \(id)") }
        return channel
    }

    private func widgetDirectory(_ channel: ChannelState) async throws -> WidgetDirectoryResponse {
        let listing = try await runtime.state(of: IndexState.staff, IndexState.self)
        let directory = WidgetDirectory(channel, facts: runtime.routingBoard, now: runtime.now) { member in
            listing.entries[member.rawValue].flatMap { bytes in
                var reader = BinaryReader(bytes)
                return try? StaffProfile.decode(from: &reader).displayName
            }
        }
        return WidgetDirectoryResponse(channel, directory)
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
