import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens one staff live session (`GET /v1/live`, upgraded to a WebSocket) on bare NIO for the
/// benchmarks' clients; `handler` makes the frame handler added once the server upgraded it.
/// Answers whether it did.
func openLiveSession(
    group: any EventLoopGroup, host: String, port: Int, token: String, connectTimeout: TimeAmount = .seconds(10),
    handler: @escaping @Sendable () -> any ChannelHandler
) async throws -> Bool {
    let head = HTTPRequestHead(
        version: .http1_1, method: .GET, uri: "/v1/live?access_token=\(token)", headers: ["Host": "\(host):\(port)", "Content-Length": "0"])
    let upgraded = try await ClientBootstrap(group: group)
        .connectTimeout(connectTimeout)
        .channelOption(.socketOption(.so_reuseaddr), value: 1)
        .connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                let upgrader = NIOTypedWebSocketClientUpgrader<Bool>(maxFrameSize: 1 << 22) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(handler())
                        return true
                    }
                }
                let upgrade = NIOTypedHTTPClientUpgradeConfiguration(
                    upgradeRequestHead: head, upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(false) })
                var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
                // The server's first frame may come in the same read as its 101 response.
                configuration.leftOverBytesStrategy = .forwardBytes
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
            }
        }
    return try await upgraded.get()
}
