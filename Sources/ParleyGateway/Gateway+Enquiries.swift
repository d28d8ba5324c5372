import Hummingbird
import ParleyDomain
import ParleyRuntime

/// A source's settings as the API shows them (`GET`/`PUT /v1/channels/{id}/settings`).
struct SourceSettingsResponse: Encodable {
    let routing: RoutingRuleResponse?
    let welcomeMessage: String?
    let awayMessage: String?
    let displayName: String
    let offerTimeoutSeconds: Int
    let idleCloseMinutes: Int

    enum CodingKeys: String, CodingKey {
        case routing
        case welcomeMessage = "welcome_message"
        case awayMessage = "away_message"
        case displayName = "display_name"
        case offerTimeoutSeconds = "offer_timeout_seconds"
        case idleCloseMinutes = "idle_close_minutes"
    }

    init(_ settings: SourceSettings) {
        routing = settings.rule.map(RoutingRuleResponse.init)
        welcomeMessage = settings.welcomeMessage
        awayMessage = settings.awayMessage
        displayName = settings.displayName.name
        offerTimeoutSeconds = settings.offerTimeoutSeconds
        idleCloseMinutes = settings.idleCloseMinutes
    }
}

extension Gateway {
    func addEnquiryRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/me/availability") { request, _ -> Response in
            let caller = try await caller(of: request)
            return JSONBody.response(AvailabilityResponse(try await runtime.staffAccount(caller.staff)))
        }

        router.put("/v1/me/availability") { request, _ -> Response in
            let caller = try await caller(of: request)
            let fields = try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes)
            let name = try fields.string("availability")
            guard let availability = Availability(name: name) else {
                throw GatewayError.invalidArgument("availability must be one of \(Availability.allCases.map(\.name).joined(separator: ", "))")
            }
            let account = try await runtime.command(StaffCommand.setAvailability(availability), to: caller.staff.rawValue, of: StaffState.self, by: caller.principal)
            return JSONBody.response(AvailabilityResponse(account))
        }

        router.put("/v1/staff/:staffID/capacity") { request, context -> Response in
            let caller = try await caller(of: request)
            let staff = try Self.staffID(context.parameters.get("staffID") ?? "")
            let fields = try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes)
            // The rules say what a capacity may be; this only keeps the number an Int.
            let capacity = Int(min(try fields.unsignedInteger("capacity"), UInt64(Int32.max)))
            let account = try await runtime.command(StaffCommand.setCapacity(capacity), to: staff.rawValue, of: StaffState.self, by: caller.principal)
            return JSONBody.response(AvailabilityResponse(account))
        }

        router.get("/v1/me/enquiries") { request, _ -> Response in
            let caller = try await caller(of: request)
            let account = try await runtime.staffAccount(caller.staff)
            let now = runtime.now
            let offered = await runtime.standingOffers(of: caller.staff).map { EnquiryOfferResponse($0, now: now) }
            return JSONBody.response(MyEnquiriesResponse(offered: offered, open: account.enquiries.map(\.rawValue).sorted()))
        }

        let enquiries = router.group("/v1/enquiries")
        enquiries.get(":enquiryID") { request, context -> Response in
            let caller = try await caller(of: request)
            let state = try await runtime.state(of: try Self.enquiryID(context).rawValue, EnquiryState.self, by: caller.principal)
            guard state.exists else { throw GatewayError(.notFound, code: DomainError.Code.enquiryNotFound.rawValue, "no enquiry \(state.id)") }
            return JSONBody.response(EnquiryResponse(state))
        }
        for action in ["accept", "decline", "close"] {
            enquiries.post(":enquiryID/\(action)") { request, context -> Response in
                let caller = try await caller(of: request)
                let command: EnquiryCommand =
                    switch action {
                    case "accept": .accept(caller.staff)
                    case "decline": .decline(caller.staff)
                    default: .close(by: caller.staff)
                    }
                let state = try await enquiryCommand(command, context: context, caller: caller)
                // The winner answers once they can write in the enquiry room (their membership
                // follows the accept through the outbox).
                if action == "accept", state.owner == caller.staff { await runtime.awaitMembership(of: caller.staff, in: state.room) }
                return JSONBody.response(EnquiryResponse(state))
            }
        }
        enquiries.post(":enquiryID/transfer") { request, context -> Response in
            let caller = try await caller(of: request)
            let fields = try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes)
            let target: TransferTarget
            switch (try fields.optionalString("staff_id"), try fields.optionalString("destination_id")) {
            case let (staff?, nil): target = .staff(try Self.staffID(staff))
            case let (nil, destination?): target = .destination(try RoutingJSON.destination(destination))
            default: throw GatewayError.invalidArgument("give staff_id or destination_id")
            }
            return JSONBody.response(EnquiryResponse(try await enquiryCommand(.transfer(target, by: caller.staff), context: context, caller: caller)))
        }

        router.get("/v1/channels/:channelID/settings") { request, context -> Response in
            _ = try await caller(of: request)
            return JSONBody.response(SourceSettingsResponse(try await runtime.channel(try Self.channelID(context)).settings))
        }

        router.put("/v1/channels/:channelID/settings") { request, context -> Response in
            let caller = try await caller(of: request)
            let id = try Self.channelID(context)
            let fields = try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes)
            var settings = SourceSettings()
            settings.rule = try fields.optionalObject("routing").map { fields throws(GatewayError) in try RoutingJSON.rule(fields, zones: runtime.routingBoard) }
            settings.welcomeMessage = try fields.optionalString("welcome_message")
            settings.awayMessage = try fields.optionalString("away_message")
            if let raw = try fields.optionalString("display_name") {
                guard let format = DisplayNameFormat(name: raw) else { throw GatewayError.invalidArgument("display_name is none, first_name or full_name") }
                settings.displayName = format
            }
            if let seconds = try fields.optionalUnsignedInteger("offer_timeout_seconds") { settings.offerTimeoutSeconds = Int(min(seconds, 1_000_000)) }
            if let minutes = try fields.optionalUnsignedInteger("idle_close_minutes") { settings.idleCloseMinutes = Int(min(minutes, 1_000_000)) }
            try RoutingJSON.checked { () throws(DomainError) in try settings.validate() }
            let channel = try await runtime.channelCommand(.setSourceSettings(settings), for: id, by: caller.principal)
            return JSONBody.response(SourceSettingsResponse(channel.settings))
        }
    }

    private func enquiryCommand(_ command: EnquiryCommand, context: BasicRequestContext, caller: Caller) async throws -> EnquiryState {
        try await runtime.command(command, to: try Self.enquiryID(context).rawValue, of: EnquiryState.self, by: caller.principal)
    }

    static func enquiryID(_ context: BasicRequestContext) throws(GatewayError) -> EnquiryID {
        guard let raw = context.parameters.get("enquiryID"), let id = EnquiryID(rawValue: raw) else {
            throw GatewayError.invalidArgument("an enquiry id has 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        return id
    }
}
