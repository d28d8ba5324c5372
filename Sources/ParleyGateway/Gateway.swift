import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import ParleyDomain
import ParleyRuntime
import Prometheus

/// Settings of the client-facing HTTP API; every field has a default.
public struct GatewayConfiguration: Sendable {
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// The largest file accepted, in bytes.
    public var maxFileBytes = 25 << 20
    /// A busy live session writes at most one frame per room per window (see `LiveCoalescing`).
    public var liveCoalescingWindow: Duration = .milliseconds(10)
    /// The cluster this node is part of, for `GET /cluster`.
    public var cluster: ClusterView?

    public init() {}
}

/// Builds the client-facing router: health, readiness, metrics and the REST API.
public struct Gateway: Sendable {
    let runtime: NodeRuntime
    let hub: LiveHub
    let authenticator: StaffAuthenticator
    let readiness: NodeReadiness
    let metrics: PrometheusCollectorRegistry
    let configuration: GatewayConfiguration
    /// Runs the live sessions' asynchronous steps: a service to run beside the server.
    public let liveWork = LiveSessionWork()

    public init(
        runtime: NodeRuntime,
        hub: LiveHub,
        authenticator: StaffAuthenticator,
        readiness: NodeReadiness,
        metrics: PrometheusCollectorRegistry,
        configuration: GatewayConfiguration = GatewayConfiguration()
    ) {
        self.runtime = runtime
        self.hub = hub
        self.authenticator = authenticator
        self.readiness = readiness
        self.metrics = metrics
        self.configuration = configuration
    }

    /// The OpenAPI 3.1 description of this API, shipped as a resource of this module.
    static let openAPIDocument: [UInt8]? = Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        .flatMap { try? Data(contentsOf: $0) }.map { Array($0) }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.addMiddleware {
            // Outermost, so refusals are counted with the status the client gets.
            RequestMetricsMiddleware()
            ErrorMiddleware()
        }
        addOperationalRoutes(to: router)
        addClusterRoute(to: router)
        addRoomRoutes(to: router)
        addStaffRoutes(to: router)
        addMeRoutes(to: router)
        addShortcutRoutes(to: router)
        addChannelRoutes(to: router)
        addDestinationRoutes(to: router)
        addEnquiryRoutes(to: router)
        addVisitorRoutes(to: router)
        addVisitorFileRoutes(to: router)
        addOverviewRoutes(to: router)
        addWeblinkRoutes(to: router)
        return router
    }

    /// The client port's server: HTTP/1.1 for `router()`'s routes, and `GET /v1/live`
    /// upgraded to a staff session's WebSocket (`HTTP1LiveChannel`). The token comes in the
    /// `Authorization` header or, for browsers, the `access_token` query item. The sessions'
    /// asynchronous steps run in `liveWork`, which must run beside the server.
    public func server() -> HTTPServerBuilder {
        let gateway = self
        return HTTPServerBuilder { responder in HTTP1LiveChannel(responder: responder, gateway: gateway) }
    }

    /// Every path of the API and the methods it has; the others get 405 with `Allow`.
    static let routeTable: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/health", [.get]), ("/ready", [.get]), ("/v1/live", [.get]), ("/v1/visitor/live", [.get]), ("/metrics", [.get]), ("/openapi.yaml", [.get]), ("/cluster", [.get]),
        ("/cluster/digests", [.get]), ("/cluster/partitions/:partition/records", [.get]),
        ("/v1/staff", [.post]), ("/v1/staff/:staffID", [.get]), ("/v1/staff/:staffID/presence", [.get]), ("/v1/staff/:staffID/token", [.post]),
        ("/v1/me", [.get]), ("/v1/me/rooms", [.get]), ("/v1/me/mentions", [.get]),
        ("/v1/me/shortcuts", [.get]), ("/v1/me/shortcuts/:code", [.put, .delete]), ("/v1/rooms/:roomID/quick-links", [.post]),
        ("/v1/channels", [.get, .post]), ("/v1/channels/:channelID", [.get, .patch]),
        ("/v1/channels/:channelID/shortcuts/:code", [.put, .delete]),
        ("/v1/rooms", [.post]), ("/v1/rooms/:roomID", [.get, .patch]), ("/v1/rooms/:roomID/events", [.get]),
        ("/v1/rooms/:roomID/messages", [.get, .post]), ("/v1/rooms/:roomID/messages/:seq", [.patch, .delete]),
        ("/v1/rooms/:roomID/messages/:seq/forward", [.post]), ("/v1/rooms/:roomID/read", [.post]),
        ("/v1/rooms/:roomID/settings", [.put]), ("/v1/rooms/:roomID/join", [.post]), ("/v1/rooms/:roomID/leave", [.post]),
        ("/v1/rooms/:roomID/members", [.post]), ("/v1/rooms/:roomID/members/:staffID", [.delete]),
        ("/v1/rooms/:roomID/files", [.post]), ("/v1/rooms/:roomID/files/:fileID", [.get]),
        ("/v1/rooms/:roomID/information/visitor/:field", [.put]), ("/v1/rooms/:roomID/information/contact", [.put]),
        ("/v1/destinations", [.get, .post]), ("/v1/destinations/:destinationID", [.get, .patch, .delete]),
        ("/v1/me/availability", [.get, .put]), ("/v1/me/enquiries", [.get]), ("/v1/staff/:staffID/capacity", [.put]),
        ("/v1/enquiries", [.get]), ("/v1/enquiries/:enquiryID/history", [.get]), ("/v1/enquiries/:enquiryID", [.get]), ("/v1/enquiries/:enquiryID/accept", [.post]), ("/v1/enquiries/:enquiryID/decline", [.post]),
        ("/v1/enquiries/:enquiryID/close", [.post]), ("/v1/enquiries/:enquiryID/transfer", [.post]),
        ("/v1/channels/:channelID/settings", [.get, .put]),
        ("/v1/widget/:channelID", [.get]), ("/w/:code", [.get]), ("/w/:code/engage.js", [.get]), ("/w/:code/qr.svg", [.get]), ("/v1/visitor/sessions", [.post]), ("/v1/visitor", [.get]), ("/v1/visitor/messages", [.get, .post]), ("/v1/visitor/files", [.post]),
    ]

    /// The methods `path` allows, if it is one of the API's paths.
    static func allowedMethods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for (parts, methods) in routeSegments where parts.count == segments.count {
            // A nil part is a parameter: it takes any segment.
            if zip(parts, segments).allSatisfy({ part, segment in part.map { $0 == segment } ?? true }) { return methods }
        }
        return nil
    }

    /// `routeTable` with its paths split once (nil for a parameter): every unknown path a
    /// client asks for is looked up here, and splitting the table each time was most of a
    /// 404's cost.
    private static let routeSegments: [(parts: [Substring?], methods: [HTTPRequest.Method])] = routeTable.map { route in
        (route.path.split(separator: "/", omittingEmptySubsequences: true).map { $0.hasPrefix(":") ? nil : $0 }, route.methods)
    }

    private func addOperationalRoutes(to router: Router<BasicRequestContext>) {
        // A WebSocket upgrade of `/v1/live` never reaches the router; a plain GET does: it is
        // told to sign in (401) or to upgrade (426).
        router.get("/v1/live") { request, _ -> Response in
            _ = try await caller(of: request)
            throw GatewayError(.upgradeRequired, code: "upgrade_required", "GET /v1/live upgrades to a WebSocket (Connection: Upgrade, Upgrade: websocket)")
        }
        router.get("/v1/visitor/live") { request, _ -> Response in
            _ = try await visitorCaller(request)
            throw GatewayError(.upgradeRequired, code: "upgrade_required", "GET /v1/visitor/live upgrades to a WebSocket (Connection: Upgrade, Upgrade: websocket)")
        }
        router.get("/health") { _, _ in
            JSONBody.response(StatusBody(status: "ok"))
        }
        router.get("/ready") { _, _ in
            let phase = readiness.current
            return JSONBody.response(StatusBody(status: phase.name), status: phase == .ready ? .ok : .serviceUnavailable)
        }
        router.get("/openapi.yaml") { _, _ in
            guard let document = Self.openAPIDocument else {
                throw GatewayError(.internalServerError, code: "internal_error", "the OpenAPI document is missing from the build")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}

/// `{"status":"…"}`: the answer of `/health` and `/ready`, which orchestrators poll.
struct StatusBody: Encodable, JSONWritable {
    let status: String

    func write(to writer: inout JSONWriter) {
        writer.object { writer in writer.field("status", status) }
    }
}
