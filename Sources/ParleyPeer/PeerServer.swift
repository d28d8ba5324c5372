import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import ParleyCluster
import Synchronization

/// The listening side of the peer network: HTTP/2 (over mutual TLS when configured) on the
/// node's peer address; every stream a peer opens gets a `PeerServerStreamHandler`. Keeps the
/// connections it accepted, to close them when the node stops.
final class PeerServer: Sendable {
    let listener: any Channel
    private let connections: AcceptedConnections

    private init(listener: any Channel, connections: AcceptedConnections) {
        self.listener = listener
        self.connections = connections
    }

    /// Binds `address`; fails with `cluster_invalid_membership` when it cannot.
    static func bind(address: HostPort, tls: NIOSSLContext?, network: PeerNetwork, maxMessageBytes: Int) async throws(ClusterError) -> PeerServer {
        let connections = AcceptedConnections()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    connections.add(channel)
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .server, connectionConfiguration: PeerHTTP2.connection, streamConfiguration: PeerHTTP2.stream
                    ) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(PeerServerStreamHandler(network: network, maxMessageBytes: maxMessageBytes))
                        }
                    }
                }
            }
        do {
            let listener = try await bootstrap.bind(host: address.host, port: address.port).get()
            return PeerServer(listener: listener, connections: connections)
        } catch {
            throw ClusterError(.invalidMembership, "the peer address \(address) cannot be listened on: \(error)")
        }
    }

    var port: Int? { listener.localAddress?.port }

    /// Open connections from peers.
    var connectionCount: Int { connections.all.count }

    /// Stops listening and closes every connection still open.
    func close() async {
        try? await listener.close()
        for connection in connections.all { try? await connection.close() }
    }

    /// Registers accepted connections and forgets them once closed.
    private final class AcceptedConnections: Sendable {
        private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

        func add(_ channel: any Channel) {
            let key = ObjectIdentifier(channel)
            open.withLock { $0[key] = channel }
            channel.closeFuture.whenComplete { _ in _ = self.open.withLock { $0.removeValue(forKey: key) } }
        }

        var all: [any Channel] { open.withLock { Array($0.values) } }
    }
}

/// HTTP/2 settings of peer connections: large windows (a batch can be megabytes), many streams.
enum PeerHTTP2 {
    static var connection: NIOHTTP2Handler.ConnectionConfiguration {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 256),
            HTTP2Setting(parameter: .initialWindowSize, value: 4 << 20),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 20),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 16 << 10),
        ]
        configuration.targetWindowSize = 16 << 20
        return configuration
    }

    static var stream: NIOHTTP2Handler.StreamConfiguration {
        var configuration = NIOHTTP2Handler.StreamConfiguration()
        configuration.targetWindowSize = 4 << 20
        return configuration
    }
}
