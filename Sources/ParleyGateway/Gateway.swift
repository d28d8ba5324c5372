import Hummingbird
import HummingbirdWebSocket
import NIOCore
import ParleyDomain
import ParleyRuntime
import Prometheus

/// Settings of the client-facing HTTP API; every field has a default.
public struct GatewayConfiguration: Sendable {
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20

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

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.addMiddleware {
            ErrorMiddleware()
            MetricsMiddleware()
        }
        addOperationalRoutes(to: router)
        addRoomRoutes(to: router)
        addStaffRoutes(to: router)
        return router
    }

    /// The router that upgrades `GET /v1/live` to a staff session's WebSocket. The token
    /// comes in the `Authorization` header or, for browsers, the `access_token` query item.
    public func webSocketRouter() -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.addMiddleware { ErrorMiddleware() }
        router.ws("/v1/live") { request, _ in
            _ = try await authenticator.authenticate(request, runtime: runtime)
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let caller = try await authenticator.authenticate(context.request, runtime: runtime)
            try await LiveSession(caller: caller, runtime: runtime, hub: hub).run(inbound: inbound, outbound: outbound)
        }
        return router
    }

    private func addOperationalRoutes(to router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in
            JSONBody.response(["status": "ok"])
        }
        router.get("/ready") { _, _ in
            let phase = readiness.current
            return JSONBody.response(["status": phase.name], status: phase == .ready ? .ok : .serviceUnavailable)
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
