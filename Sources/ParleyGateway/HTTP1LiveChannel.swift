import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import ParleyRuntime

/// The client port's connections: HTTP/1.1 for the REST API, and `GET /v1/live` upgraded to a
/// staff session's WebSocket, which then lives in the channel's pipeline as a
/// `LiveSessionHandler` (no task waits on it). An upgrade refused (bad token, another path)
/// gets the API's JSON error with its status.
struct HTTP1LiveChannel: HTTPChannelHandler {
    /// How a connection's first request went.
    enum Upgrade: Sendable {
        /// A live session runs in the pipeline.
        case live
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, GatewayError)
    }

    struct Value: ServerChildChannelValue {
        let upgrade: EventLoopFuture<Upgrade>
        let channel: any Channel
    }

    /// The path of the live WebSocket.
    static let livePath = "/v1/live"
    /// The visitors' live WebSocket: the same session, signed in with a visitor token, taking
    /// part as `visitor:<id>` in the enquiry rooms they are in.
    static let visitorLivePath = "/v1/visitor/live"

    let responder: HTTPChannelHandler.Responder
    let gateway: Gateway
    let settings: LiveSessionHandler.Settings

    init(responder: @escaping HTTPChannelHandler.Responder, gateway: Gateway) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.gateway = gateway
        var settings = LiveSessionHandler.Settings(runtime: gateway.runtime, hub: gateway.hub, work: gateway.liveWork)
        settings.coalescingWindow = gateway.configuration.liveCoalescingWindow
        self.settings = settings
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // What signing the session in decided, read once the upgrade goes ahead or not.
            let admission = NIOLoopBoundBox<Result<Caller, GatewayError>?>(nil, eventLoop: channel.eventLoop)
            let upgrader = LiveWebSocketUpgrader(
                maxFrameSize: settings.limits.maxMessageBytes,
                shouldUpgrade: { channel, head in
                    admit(head, on: channel.eventLoop).map { result in
                        admission.value = result
                        if case .success = result { return HTTPHeaders() }
                        return nil
                    }
                },
                upgradePipeline: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case let .success(caller)? = admission.value else { throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget }
                        // An idle session keeps a small receive buffer (client messages are small).
                        try channel.syncOptions?.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 1 << 16))
                        try channel.pipeline.syncOperations.addHandler(LiveSessionHandler(caller: caller, settings: settings))
                        return .live
                    }
                })
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        switch admission.value {
                        case let .failure(refusal)?: return .refused(http, refusal)
                        case .success?: return .refused(http, GatewayError(.badRequest, code: "invalid_upgrade", "the WebSocket upgrade failed"))
                        case nil: return .http(http)
                        }
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Upgrade>(upgradeConfiguration: upgrades)
            // Hummingbird's request loop pipelines, answers errors and checks response headers.
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgrade: upgrade, channel: channel)
        }
    }

    /// Signs an upgrade request in: the live path and a valid token make a caller.
    private func admit(_ head: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<Result<Caller, GatewayError>> {
        let uri = URI(head.uri)
        guard uri.path == Self.livePath || uri.path == Self.visitorLivePath else {
            return eventLoop.makeSucceededFuture(.failure(GatewayError(.notFound, code: "route_not_found", "no WebSocket at \(uri.path)")))
        }
        if head.method != .GET {
            return eventLoop.makeSucceededFuture(.failure(GatewayError(.methodNotAllowed, code: "method_not_allowed", "\(uri.path) allows GET")))
        }
        let promise = eventLoop.makePromise(of: Result<Caller, GatewayError>.self)
        let authorization = head.headers.first(name: "authorization")
        let accessToken = uri.queryParameters.get("access_token")
        let gateway = self.gateway
        let visitor = uri.path == Self.visitorLivePath
        let submitted = gateway.liveWork.submit {
            do {
                if visitor {
                    let state = try await gateway.visitorState(authorization: authorization, accessToken: accessToken)
                    promise.succeed(.success(Caller(staff: state.id.member, role: .agent)))
                    return
                }
                promise.succeed(.success(try await gateway.authenticator.authenticate(
                    authorization: authorization, accessToken: accessToken, runtime: gateway.runtime)))
            } catch {
                promise.succeed(.failure(GatewayError(describing: error)))
            }
        }
        if !submitted {
            promise.succeed(.failure(GatewayError(.serviceUnavailable, code: "shutting_down", "the node is shutting down")))
        }
        return promise.futureResult
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgrade.get() {
            case .live:
                // The session lives in the pipeline until the channel closes.
                return
            case let .http(http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case let .refused(http, refusal):
                try await Self.write(refusal, to: http)
            }
        } catch {
            logger.debug("a client connection ended while upgrading", metadata: ["error": "\(error)"])
        }
    }

    /// The refusal's status and JSON error body, then the connection closes.
    private static func write(_ refusal: GatewayError, to http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>) async throws {
        var writer = JSONWriter(capacity: 128)
        ErrorEnvelope(error: .init(code: refusal.code, message: refusal.message)).write(to: &writer)
        let body = ByteBuffer(bytes: writer.bytes)
        try await http.executeThenClose { _, outbound in
            let head = HTTPResponse(status: refusal.status, headerFields: [
                .contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes), .connection: "close",
            ])
            try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
        }
    }

    /// NIO upgrades only a connection's first request: a later request asking for the
    /// WebSocket is sent to the same address on a new connection.
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            let location = request.uri.query.map { request.uri.path + "?" + $0 } ?? request.uri.path
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            // Closing the connection makes the client open a new one for the upgrade.
            throw ChannelError.outputClosed
        }
    }
}
