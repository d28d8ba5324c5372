import Hummingbird
import ParleyDomain
import ParleyRuntime

extension Gateway {
    func addMembershipRoutes(to rooms: RouterGroup<BasicRequestContext>) {
        rooms.post(":roomID/read") { request, context -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(MarkReadRequest.self, from: request, limit: configuration.maxBodyBytes)
            let state = try await runtime.update(try Self.roomID(context), .markRead(upTo: body.seq, by: caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }

        rooms.put(":roomID/settings") { request, context -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(RoomSettingsRequest.self, from: request, limit: configuration.maxBodyBytes)
            guard let mute = MuteSetting(name: body.mute) else {
                throw GatewayError.invalidArgument("mute must be one of all, mentions_only, muted")
            }
            let state = try await runtime.update(try Self.roomID(context), .setMute(mute, by: caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }

        rooms.post(":roomID/join") { request, context -> Response in
            let caller = try await caller(of: request)
            let state = try await runtime.update(try Self.roomID(context), .join(caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }

        rooms.post(":roomID/leave") { request, context -> Response in
            let caller = try await caller(of: request)
            let state = try await runtime.update(try Self.roomID(context), .leave(caller.staff))
            return JSONBody.response(RoomResponse(state, for: nil))
        }

        rooms.post(":roomID/members") { request, context -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(AddMembersRequest.self, from: request, limit: configuration.maxBodyBytes)
            guard body.members.count <= Self.maxListedMembers else {
                throw GatewayError.invalidArgument("at most \(Self.maxListedMembers) members may be listed")
            }
            var members: [StaffID] = []
            for raw in body.members { members.append(try Self.staffID(raw)) }
            let state = try await runtime.update(try Self.roomID(context), .addMembers(members, by: caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }

        rooms.delete(":roomID/members/:staffID") { request, context -> Response in
            let caller = try await caller(of: request)
            let removed = try Self.staffID(context.parameters.get("staffID") ?? "")
            let state = try await runtime.update(try Self.roomID(context), .removeMember(removed, by: caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }
    }
}
