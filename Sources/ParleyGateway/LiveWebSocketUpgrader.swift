import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Upgrades `GET /v1/live` to a WebSocket (RFC 6455 section 4.2) whose pipeline is a frame
/// decoder and a `LiveSessionHandler`, with no frame encoder: the session writes frames it
/// framed once for every session (`LiveFrames.framed`), which NIO's own upgrader, adding an
/// encoder that cannot be removed, does not allow.
struct LiveWebSocketUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = HTTP1LiveChannel.Upgrade
    let supportedProtocol = "websocket"
    /// Headers the request must name in `Connection` (none: the keys are checked below).
    let requiredUpgradeHeaders: [String] = []
    /// The largest client frame the decoder takes.
    let maxFrameSize: Int
    /// Whether to upgrade, with the extra response headers; nil refuses.
    let shouldUpgrade: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>
    /// Adds the session's handlers after the decoder.
    let upgradePipeline: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>

    /// The value RFC 6455 appends to the client's key.
    private static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
    static func accept(key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + acceptGUID).utf8))).base64EncodedString()
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        let keys = upgradeRequest.headers["sec-websocket-key"]
        guard keys.count == 1, let key = keys.first, upgradeRequest.headers["sec-websocket-version"] == ["13"] else {
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.invalidUpgradeHeader)
        }
        return shouldUpgrade(channel, upgradeRequest).flatMapThrowing { extra in
            guard var headers = extra else { throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget }
            headers.replaceOrAdd(name: "Upgrade", value: "websocket")
            headers.replaceOrAdd(name: "Connection", value: "upgrade")
            headers.add(name: "Sec-WebSocket-Accept", value: Self.accept(key: key))
            return headers
        }
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
        }.flatMap { upgradePipeline(channel, upgradeRequest) }
    }
}
