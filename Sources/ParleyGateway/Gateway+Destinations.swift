import Hummingbird
import ParleyDomain
import ParleyRuntime

struct DestinationResponse: Encodable {
    let id: String
    let name: String
    let members: [String]
    let hours: HoursResponse?

    init(id: DestinationID, profile: DestinationProfile) {
        self.id = id.rawValue
        name = profile.name
        members = profile.members.map(\.rawValue)
        hours = profile.hours.map(HoursResponse.init)
    }
}

struct DestinationsResponse: Encodable {
    let destinations: [DestinationResponse]
}

/// `POST /v1/destinations` and `PATCH /v1/destinations/{id}` (absent fields stay; `always_open`
/// clears the hours).
struct DestinationRequest {
    var name: String?
    var members: [StaffID]?
    var hours: HoursChange

    init(_ fields: JSONFields, zones: RoutingBoard) throws(GatewayError) {
        name = try fields.optionalString("name")
        members = try fields.optionalStrings("members").map { raws throws(GatewayError) in
            guard raws.count <= DestinationProfile.maxMembers else {
                throw GatewayError.invalidArgument("a destination has at most \(DestinationProfile.maxMembers) members")
            }
            var ids: [StaffID] = []
            for raw in raws { ids.append(try Gateway.staffID(raw)) }
            return ids
        }
        let hoursFields = try fields.optionalObject("hours")
        let alwaysOpen = try fields.optionalBool("always_open") ?? false
        guard hoursFields == nil || !alwaysOpen else { throw GatewayError.invalidArgument("give hours or always_open, not both") }
        if let hoursFields {
            hours = .set(try RoutingJSON.hours(hoursFields, zones: zones))
        } else {
            hours = alwaysOpen ? .clear : .keep
        }
    }
}

extension Gateway {
    func addDestinationRoutes(to router: Router<BasicRequestContext>) {
        let destinations = router.group("/v1/destinations")

        destinations.get { request, _ -> Response in
            _ = try await caller(of: request)
            let listing = try await runtime.state(of: IndexState.destinations, IndexState.self)
            let all = listing.entries.sorted { $0.key < $1.key }.compactMap { member, summary in
                (try? DestinationProfile.decode(summary)).map { DestinationResponse(id: DestinationID(unchecked: member), profile: $0) }
            }
            return JSONBody.response(DestinationsResponse(destinations: all))
        }

        destinations.post { request, _ -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes)
            let parsed = try DestinationRequest(body, zones: runtime.routingBoard)
            guard let name = parsed.name else { throw GatewayError.invalidArgument("missing field name") }
            var hours: BusinessHours?
            if case let .set(value) = parsed.hours { hours = value }
            let id = DestinationID.random(prefix: "dst_")
            let state = try await runtime.command(
                DestinationCommand.create(DestinationProfile(name: name, members: parsed.members ?? [], hours: hours)), to: id.rawValue,
                of: DestinationState.self, by: caller.principal)
            return JSONBody.response(try Self.response(state), status: .created, headers: [.location: "/v1/destinations/\(id)"])
        }

        destinations.get(":destinationID") { request, context -> Response in
            _ = try await caller(of: request)
            let state = try await runtime.state(of: try Self.destinationID(context).rawValue, DestinationState.self)
            return JSONBody.response(try Self.response(state))
        }

        destinations.patch(":destinationID") { request, context -> Response in
            let caller = try await caller(of: request)
            let id = try Self.destinationID(context)
            let parsed = try DestinationRequest(try await JSONBody.decode(fields: request, limit: configuration.maxBodyBytes), zones: runtime.routingBoard)
            let state = try await runtime.command(
                DestinationCommand.update(name: parsed.name, members: parsed.members, hours: parsed.hours), to: id.rawValue, of: DestinationState.self,
                by: caller.principal)
            return JSONBody.response(try Self.response(state))
        }

        destinations.delete(":destinationID") { request, context -> Response in
            let caller = try await caller(of: request)
            _ = try await runtime.command(DestinationCommand.delete, to: try Self.destinationID(context).rawValue, of: DestinationState.self, by: caller.principal)
            return Response(status: .noContent)
        }
    }

    static func response(_ state: DestinationState) throws(GatewayError) -> DestinationResponse {
        guard state.exists, let profile = state.profile else {
            throw GatewayError(.notFound, code: DomainError.Code.destinationNotFound.rawValue, "no destination \(state.id)")
        }
        return DestinationResponse(id: state.id, profile: profile)
    }

    static func destinationID(_ context: BasicRequestContext) throws(GatewayError) -> DestinationID {
        try RoutingJSON.destination(context.parameters.get("destinationID") ?? "")
    }
}
