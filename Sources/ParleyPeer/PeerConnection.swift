import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import ParleyCluster
import Synchronization

/// This node's one HTTP/2 connection to a peer (over mutual TLS when configured), dialled
/// when first needed and again after it closed; the handshakes and the message stream are
/// streams on it. Callers that find it being dialled wait for that dial, so there is never
/// more than one. The schedule of retries is the callers' (`PeerHealth`'s backoff).
final class PeerConnection: Sendable {
    struct Connected: Sendable {
        let channel: any Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    }

    let peer: ClusterMember
    private let tls: NIOSSLContext?
    private let connectTimeout: Duration
    private let current = Mutex<EventLoopFuture<Connected>?>(nil)
    /// Set when the node stops: no new dial.
    private let closed = Atomic<Bool>(false)

    init(peer: ClusterMember, tls: NIOSSLContext?, connectTimeout: Duration) {
        self.peer = peer
        self.tls = tls
        self.connectTimeout = connectTimeout
    }

    var authority: String { "\(peer.peerAddress.host):\(peer.peerAddress.port)" }
    var isSecure: Bool { tls != nil }

    /// The open connection, dialled first if there is none.
    func connected() async throws(ClusterError) -> Connected {
        let future = current.withLock { current -> EventLoopFuture<Connected>? in
            if let current { return current }
            guard !closed.load(ordering: .acquiring) else { return nil }
            let dial = dial()
            current = dial
            return dial
        }
        guard let future else { throw ClusterError(.peerUnavailable, "this node is stopping") }
        do {
            let connected = try await future.get()
            guard connected.channel.isActive else { throw ClusterError(.peerUnavailable, "the connection to \(peer.id) closed") }
            return connected
        } catch {
            forget(future)
            if let error = error as? ClusterError { throw error }
            throw ClusterError(.peerUnavailable, "\(peer.id) at \(authority) cannot be reached: \(error)")
        }
    }

    /// Closes the connection (a peer that stopped answering): every stream on it ends.
    func reset() {
        guard let future = current.withLock({ $0 }) else { return }
        forget(future)
        future.whenSuccess { $0.channel.close(promise: nil) }
    }

    /// Closes the connection for good (the node is stopping): nothing dials again.
    func shutDown() {
        current.withLock { _ in closed.store(true, ordering: .releasing) }
        reset()
    }

    private func forget(_ future: EventLoopFuture<Connected>) {
        current.withLock { current in
            if current === future { current = nil }
        }
    }

    private func dial() -> EventLoopFuture<Connected> {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let multiplexer = loop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer.self)
        let tls = tls
        let connecting = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No hostname: NIOSSL checks the server's certificate against the address dialled.
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    let streams = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: PeerHTTP2.connection, streamConfiguration: PeerHTTP2.stream
                    ) { stream in stream.close() }  // a peer never opens streams to its callers
                    multiplexer.succeed(streams)
                }
            }
            .connect(host: peer.peerAddress.host, port: peer.peerAddress.port)
        connecting.whenFailure { multiplexer.fail($0) }
        let connected = connecting.and(multiplexer.futureResult).map { Connected(channel: $0, multiplexer: $1) }
        // The future holds this connection until the channel closes; then it is forgotten.
        connected.whenSuccess { value in
            value.channel.closeFuture.whenComplete { _ in self.forget(connected) }
        }
        return connected
    }

    /// One request and its answer on a stream of its own, within `timeout`.
    func unary(path: String, request: ByteBuffer, timeout: Duration, maxMessageBytes: Int) async throws(ClusterError) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        let connected = try await connected()
        // One deadline covers dialling (when there was no connection) and the call.
        let remaining = deadline - .now
        guard remaining > .zero else { throw ClusterError(.peerUnavailable, "no answer within \(timeout)") }
        let answer = connected.channel.eventLoop.makePromise(of: [UInt8].self)
        let headers = PeerWire.requestHeaders(path: path, authority: authority, secure: isSecure)
        let created = connected.channel.eventLoop.makePromise(of: (any Channel).self)
        created.futureResult.whenFailure { answer.fail(ClusterError(.peerUnavailable, "no stream to \(self.peer.id): \($0)")) }
        connected.multiplexer.createStreamChannel(promise: created) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(
                    UnaryCallHandler(headers: headers, request: request, timeout: remaining, maxMessageBytes: maxMessageBytes, answer: answer))
            }
        }
        do {
            return try await answer.futureResult.get()
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError(.peerUnavailable, "\(peer.id): \(error)")
        }
    }
}
