import Hummingbird
import ParleyDomain
import ParleyRuntime

extension Gateway {
    func addStaffRoutes(to router: Router<BasicRequestContext>) {
        let staff = router.group("/v1/staff")

        staff.post { request, _ -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(CreateStaffRequest.self, from: request, limit: configuration.maxBodyBytes)
            let id = try body.id.map(Self.staffID) ?? StaffID.random(prefix: "s_")
            guard id != StaffAuthenticator.adminStaff else {
                throw GatewayError(.conflict, code: DomainError.Code.staffAlreadyExists.rawValue, "admin is the bootstrap account")
            }
            guard let role = StaffRole(name: body.role ?? "agent") else { throw GatewayError.invalidArgument("role must be admin or agent") }
            let (token, hash) = StaffAuthenticator.issueToken(for: id)
            let state = try await runtime.staffCommand(.create(displayName: body.displayName, role: role, tokenHash: hash), for: id, by: caller.principal)
            return JSONBody.response(StaffResponse(state, token: token), status: .created, headers: [.location: "/v1/staff/\(id)"])
        }

        staff.get(":staffID") { request, context -> Response in
            _ = try await caller(of: request)
            let id = try Self.staffID(context.parameters.get("staffID") ?? "")
            let state = try await runtime.staffAccount(id)
            guard state.exists else { throw GatewayError(.notFound, code: DomainError.Code.staffNotFound.rawValue, "no staff member \(id)") }
            return JSONBody.response(StaffResponse(state))
        }

        staff.get(":staffID/presence") { request, context -> Response in
            _ = try await caller(of: request)
            let id = try Self.staffID(context.parameters.get("staffID") ?? "")
            return JSONBody.response(PresenceResponse(try await runtime.presence(of: id)))
        }

        staff.post(":staffID/token") { request, context -> Response in
            let caller = try await caller(of: request)
            let id = try Self.staffID(context.parameters.get("staffID") ?? "")
            let (token, hash) = StaffAuthenticator.issueToken(for: id)
            let state = try await runtime.staffCommand(.rotateToken(tokenHash: hash), for: id, by: caller.principal)
            authenticator.credentials.forget(id)
            return JSONBody.response(StaffResponse(state, token: token))
        }
    }
}

/// `{"staff_id":"…","online":true,"sessions":{"node-2":1}}`: live sessions per node.
struct PresenceResponse: Encodable {
    let staffID: String
    let online: Bool
    let sessions: [String: Int]

    init(_ presence: StaffPresence) {
        staffID = presence.staff.rawValue
        online = presence.isOnline
        sessions = Dictionary(uniqueKeysWithValues: presence.sessions.map { ($0.key.rawValue, $0.value) })
    }

    enum CodingKeys: String, CodingKey {
        case staffID = "staff_id"
        case online, sessions
    }
}
