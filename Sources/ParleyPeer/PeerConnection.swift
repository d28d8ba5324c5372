import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import ParleyCluster
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// This node's one HTTP/2 connection to a peer (over mutual TLS when configured), dialled
/// when first needed and again after it closed; the handshakes and the message stream are
/// streams on it. Callers that find it being dialled wait for that dial, so there is never
/// more than one. The schedule of retries is the callers' (`PeerHealth`'s backoff).
final class PeerConnection: Sendable {
    struct Connected: Sendable {
        let channel: any Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer
        /// Set before this node closes the connection itself.
        let closedHere = Flag()
    }

    /// A flag that is set once, shared by the copies of a `Connected`.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .releasing) }
        var isSet: Bool { value.load(ordering: .acquiring) }
    }

    let peer: ClusterMember
    private let tls: NIOSSLContext?
    private let connectTimeout: Duration
    /// The local address dials are made from (nil: the system's choice).
    private let sourceHost: String?
    private let current = Mutex<EventLoopFuture<Connected>?>(nil)
    /// Set when the node stops: no new dial.
    private let closed = Atomic<Bool>(false)
    /// Told when the peer's process is found gone (`probeAfterUnexpectedClose`).
    private let goneHandler = Mutex<(@Sendable () -> Void)?>(nil)

    init(peer: ClusterMember, tls: NIOSSLContext?, connectTimeout: Duration, sourceHost: String? = nil) {
        self.peer = peer
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.sourceHost = sourceHost
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
        future.whenSuccess { connected in
            connected.closedHere.set()
            connected.channel.close(promise: nil)
        }
    }

    /// Closes the connection for good (the node is stopping): nothing dials again.
    func shutDown() {
        current.withLock { _ in closed.store(true, ordering: .releasing) }
        reset()
    }

    /// Calls `handler` (on an event loop) whenever the open connection closes without this
    /// node asking and a new dial is refused: the peer's process is gone (a killed process
    /// closes its connections and its listening socket at once). A peer that silently stops
    /// answering (a crashed machine, a partition) is found by the handshakes instead.
    func whenGone(_ handler: @escaping @Sendable () -> Void) { goneHandler.withLock { $0 = handler } }

    /// Dials the peer's address, bare TCP: refused means nothing listens there any more. A
    /// dying process may still hold its listening socket for a moment after its connections
    /// closed, so an accepted dial is tried again 50 ms later, three times in all.
    private func probeAfterUnexpectedClose(attempt: Int = 1) {
        guard goneHandler.withLock({ $0 }) != nil, !closed.load(ordering: .acquiring) else { return }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(min(connectTimeout, .milliseconds(500))))
            .connect(host: peer.peerAddress.host, port: peer.peerAddress.port)
            .whenComplete { result in
                switch result {
                case let .success(channel):
                    channel.close(promise: nil)
                    guard attempt < 3 else { return }  // something still listens: no hint
                    loop.scheduleTask(in: .milliseconds(50)) { self.probeAfterUnexpectedClose(attempt: attempt + 1) }
                case let .failure(error):
                    if Self.isRefused(error), let handler = self.goneHandler.withLock({ $0 }) { handler() }
                }
            }
    }

    /// Whether a dial failed because the address refused it (every attempt, for a host name
    /// with several addresses).
    static func isRefused(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if let error = error as? NIOConnectionError {
            return !error.connectionErrors.isEmpty && error.connectionErrors.allSatisfy { isRefused($0.error) }
        }
        return false
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
        var bootstrap = ClientBootstrap(group: loop)
        if let sourceHost, let source = try? SocketAddress(ipAddress: sourceHost, port: 0) { bootstrap = bootstrap.bind(to: source) }
        let connecting = bootstrap
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
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
        // The future holds this connection until the channel closes; then it is forgotten. A
        // close this node did not ask for may mean the peer died.
        connected.whenSuccess { value in
            value.channel.closeFuture.whenComplete { _ in
                self.forget(connected)
                if !value.closedHere.isSet { self.probeAfterUnexpectedClose() }
            }
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
