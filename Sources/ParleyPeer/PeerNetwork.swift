import Foundation
import Logging
import Metrics
import NIOHPACK
import NIOSSL
import ParleyCluster
import ServiceLifecycle
import Synchronization

/// This node's side of the peer network: the HTTP/2 server other nodes call (`PeerServer`),
/// and one connection per peer (`PeerConnection`), dialled again with backoff when it closes.
/// On each connection run a handshake per heartbeat and one long-lived message stream
/// (`PeerStream`). What the handshakes learn goes into each peer's `PeerHealth` (the pure
/// state machine), reported by `statuses()` and the `parley_peer_up{peer}` gauge. A peer that
/// is down is retried on its own schedule and stalls no other.
///
/// A node that finds, while joining, that a peer runs with another cluster configuration
/// stops with `cluster_membership_mismatch`; once joined (accepted by a peer, or past the
/// join window) it only marks such a peer as mismatched and never talks to it, so a
/// misconfigured newcomer cannot take down a running cluster.
public final class PeerNetwork: Service, PeerTransport, Sendable {
    public struct Configuration: Sendable {
        /// How often a peer that is up is greeted.
        public var heartbeat: Duration = .seconds(1)
        /// The deadline of one handshake (and of dialling a peer).
        public var callTimeout: Duration = .seconds(1)
        /// How long a call to a peer may wait with nothing answered before every peer is
        /// checked at once (nil: never; peers are then checked only every `heartbeat`). A cut
        /// network closes no socket: this finds it in `suspectAfter + probeTimeout` rather
        /// than up to `heartbeat + callTimeout`, at no cost while calls are answered.
        public var suspectAfter: Duration? = .milliseconds(250)
        /// The deadline of a handshake made because a call waited (`suspectAfter`).
        public var probeTimeout: Duration = .milliseconds(500)
        public var backoff = PeerHealth.Backoff()
        /// How long after start a mismatch stops this node (unless a peer accepted it first).
        public var joinWindow: Duration = .seconds(10)
        /// The largest message exchanged (a file upload travels as one).
        public var maxMessageBytes = 64 << 20
        /// How long a stopping node waits for its streams to drain before closing connections.
        public var drainTimeout: Duration = .seconds(1)
        /// Mutual TLS between the nodes; nil: plaintext HTTP/2 (loopback and trusted networks).
        public var tls: PeerTLS?
        /// Where the peer server listens when not at this node's peer address in the cluster
        /// file (behind a proxy or NAT that other nodes dial instead).
        public var listenAddress: HostPort?
        /// The local address dials to peers are made from (nil: the system's choice), so a
        /// peer, or a proxy between them, can tell this node's connections by their source.
        public var sourceHost: String?
        public init() {}
    }

    let membership: ClusterMembership
    let ownID: NodeID
    let configuration: Configuration
    let logger: Logger
    private let onListening: @Sendable (String, Int) -> Void
    let health: Mutex<[NodeID: PeerHealth]>
    /// Set once a peer accepted this node: from then on a mismatch no longer stops it.
    let joined = Atomic<Bool>(false)
    /// Set at shutdown (or a refusal to join): the greeting loops end.
    let stopping = Atomic<Bool>(false)
    /// Rung to greet a peer now: a call waited (`suspect`), or the node is stopping.
    let doorbells: [NodeID: Doorbell]
    /// The peers whose next handshake is a probe (`probeTimeout`), asked for by `suspect`.
    let probesAsked = Mutex<Set<NodeID>>([])
    /// When `heard(from:)` last rang each peer's doorbell.
    let lastHeardRing = Mutex<[NodeID: ContinuousClock.Instant]>([:])
    /// Handshakes made as probes so far.
    let probesMade = Atomic<Int>(0)
    private let gauges: [NodeID: Gauge]
    private let serverTLS: NIOSSLContext?
    /// One connection per peer.
    let connections: [NodeID: PeerConnection]
    /// One stream of messages per peer, on that connection.
    let streams: [NodeID: PeerStream]
    /// The peers' streams this node's server is answering, to close when it stops.
    private let incoming = Mutex<[ObjectIdentifier: ExchangeSession]>([:])
    /// Frames from peers, handed from the event loops to `serveFrames`.
    let work: (stream: AsyncStream<IncomingFrames>, continuation: AsyncStream<IncomingFrames>.Continuation)
    /// Where messages from peers go (the runtime, once it exists).
    public let inbox = PeerInbox()

    public init(
        membership: ClusterMembership, ownID: NodeID, configuration: Configuration = Configuration(), logger: Logger,
        onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
    ) throws {
        self.membership = membership
        self.ownID = ownID
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
        let peers = membership.members.filter { $0.id != ownID }
        health = Mutex(Dictionary(uniqueKeysWithValues: peers.map { ($0.id, PeerHealth(heartbeat: configuration.heartbeat, backoff: configuration.backoff)) }))
        gauges = Dictionary(uniqueKeysWithValues: peers.map { ($0.id, Gauge(label: "parley_peer_up", dimensions: [("peer", $0.id.rawValue)])) })
        serverTLS = try configuration.tls?.serverContext()
        let clientTLS = try configuration.tls?.clientContext()
        connections = Dictionary(uniqueKeysWithValues: peers.map { ($0.id, PeerConnection(peer: $0, tls: clientTLS, connectTimeout: configuration.callTimeout, sourceHost: configuration.sourceHost)) })
        streams = Dictionary(uniqueKeysWithValues: peers.map { ($0.id, PeerStream(peer: $0.id, maxMessageBytes: configuration.maxMessageBytes)) })
        doorbells = Dictionary(uniqueKeysWithValues: peers.map { ($0.id, Doorbell()) })
        work = AsyncStream.makeStream(of: IncomingFrames.self)
    }

    /// Every peer and what is known of it, in id order.
    public func statuses() -> [(peer: ClusterMember, health: PeerHealth)] {
        let table = health.withLock { $0 }
        return membership.members.compactMap { member in table[member.id].map { (member, $0) } }
    }

    public func run() async throws {
        guard let own = membership.member(ownID) else {
            throw ClusterError(.invalidMembership, "node \(ownID) is not a member of its cluster")
        }
        let server: PeerServer
        do {
            server = try await PeerServer.bind(
                address: configuration.listenAddress ?? own.peerAddress, tls: serverTLS, network: self, maxMessageBytes: configuration.maxMessageBytes)
        } catch {
            // Nothing will run: calls already queued fail now rather than never.
            beginStopping()
            for stream in streams.values { stream.abandon(reason: "the peer network could not start: \(error.message)") }
            for connection in connections.values { connection.shutDown() }
            throw error
        }
        if let port = server.port { onListening(own.peerAddress.host, port) }
        for (peer, connection) in connections {
            connection.whenGone { [weak self] in self?.peerGone(peer) }
        }
        let started = ContinuousClock.now
        // Shutdown, a refusal to join, or cancellation (the service group giving up on a
        // graceful stop) sets `stopping`; the loops end, the streams drain, the connections close.
        let refusal = await withTaskCancellationHandler {
            await withTaskGroup(of: ClusterError?.self) { loops -> ClusterError? in
                loops.addTask {
                    await self.serveFrames()
                    return nil
                }
                for (peer, stream) in streams {
                    guard let connection = connections[peer] else { continue }
                    let identity = streamHeaders(authority: connection.authority)
                    loops.addTask {
                        await stream.run(connection: connection, identity: identity, maxMessageBytes: self.configuration.maxMessageBytes)
                        return nil
                    }
                    loops.addTask {
                        await stream.sweep(suspectAfter: self.configuration.suspectAfter) { self.suspectAll() }
                        return nil
                    }
                }
                loops.addTask {
                    let refusal = await withGracefulShutdownHandler {
                        await self.greetAll(joiningUntil: started + self.configuration.joinWindow)
                    } onGracefulShutdown: {
                        self.beginStopping()
                    }
                    await self.stop(server)
                    return refusal
                }
                var refusal: ClusterError?
                for await result in loops where result != nil { refusal = refusal ?? result }
                return refusal
            }
        } onCancel: {
            self.beginStopping()
            for stream in self.streams.values { stream.stop() }
        }
        if let refusal { throw refusal }
    }

    /// Ends this node's streams and asks peers to end theirs, waits for them to drain (up to
    /// `drainTimeout`), then closes every connection and stops handing out frames.
    private func stop(_ server: PeerServer) async {
        beginStopping()
        for stream in streams.values { stream.stop() }
        for session in incoming.withLock({ Array($0.values) }) { session.requestClose() }
        let deadline = ContinuousClock.now + configuration.drainTimeout
        while ContinuousClock.now < deadline, !Task.isCancelled, incoming.withLock({ !$0.isEmpty }) || streams.values.contains(where: \.isOpen) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for connection in connections.values { connection.shutDown() }
        await server.close()
        work.continuation.finish()
    }

    /// The request headers of this node's message stream to the peer at `authority`: who this
    /// node is, and its configuration.
    private func streamHeaders(authority: String) -> HPACKHeaders {
        var headers = PeerWire.requestHeaders(path: PeerWire.exchangePath, authority: authority, secure: configuration.tls != nil)
        headers.replaceOrAdd(name: PeerServerStreamHandler.nodeHeader, value: ownID.rawValue)
        headers.replaceOrAdd(name: PeerServerStreamHandler.fingerprintHeader, value: membership.fingerprint)
        return headers
    }

    /// `peer` reached this node (opened a stream, greeted it, posted to it): if it is held
    /// down, it is greeted now rather than on its backoff schedule (a restarted process, a
    /// healed network), since its messages may be dropped until it is up.
    func heard(from peer: NodeID) {
        guard health(of: peer)?.isDown == true else { return }
        // At most once per `backoff.initial`: a peer whose frames arrive while this node cannot
        // reach it (a one-way cut) is not greeted once per frame.
        let now = ContinuousClock.now
        let due = lastHeardRing.withLock { rung -> Bool in
            if let last = rung[peer], now - last < configuration.backoff.initial { return false }
            rung[peer] = now
            return true
        }
        if due { doorbells[peer]?.ring() }
    }

    /// Sets `stopping` and wakes the greeting loops, so they end now.
    func beginStopping() {
        stopping.store(true, ordering: .releasing)
        for doorbell in doorbells.values { doorbell.ring() }
    }

    /// A call waited `suspectAfter` with nothing answered: every peer that is up is greeted now,
    /// with `probeTimeout`. All of them, because what cuts one peer off (a cable, a split, this
    /// node's own network) often cuts off others, and a node refuses calls it cannot serve
    /// only once it knows a partition's majority is out of reach. Peers already down are
    /// retried on their own schedule.
    func suspectAll() {
        let suspects = health.withLock { table in table.filter { $0.value.isUp }.map(\.key) }
        guard !suspects.isEmpty else { return }
        probesAsked.withLock { $0.formUnion(suspects) }
        for peer in suspects { doorbells[peer]?.ring() }
    }

    func openedStream(_ session: ExchangeSession) {
        incoming.withLock { $0[ObjectIdentifier(session)] = session }
        heard(from: session.sender)
        if stopping.load(ordering: .acquiring) { session.requestClose() }
    }

    func closedStream(_ session: ExchangeSession) { _ = incoming.withLock { $0.removeValue(forKey: ObjectIdentifier(session)) } }

    /// `peer`'s process is gone (its connection closed unasked and a new dial was refused):
    /// it is down at once rather than at the next handshake, calls waiting for it fail now,
    /// and the receiver is told (the Raft groups it led elect at once).
    func peerGone(_ peer: NodeID) {
        guard !stopping.load(ordering: .acquiring) else { return }
        markDown(peer, reason: "its connection closed and a new dial was refused", warning: "peer is gone")
        inbox.deliverGone(peer)
    }

    /// Records `peer` down for `reason` (logging `warning` if it was up). Calls waiting for a
    /// stream would only wait out their deadlines: they fail now, and later ones fail fast
    /// while the peer is down.
    func markDown(_ peer: NodeID, reason: String, warning: Logger.Message) {
        let wasUp = health.withLock { $0[peer]?.isUp ?? false }
        record(peer) { $0.failed(at: .now, reason: reason) }
        if wasUp { logger.warning(warning, metadata: ["peer": "\(peer)", "reason": "\(reason)"]) }
        streams[peer]?.failUnsent(reason: "\(peer) is down: \(reason)")
    }

    /// How many handshakes were probes (asked for by a call that waited with nothing answered).
    public var probeCount: Int { probesMade.load(ordering: .relaxed) }

    /// Whether `node` answered its last handshake (unknown counts as up: no news yet).
    public func isUp(_ node: NodeID) -> Bool {
        guard let health = health(of: node) else { return true }
        return !health.isDown && !health.isMismatched
    }

    /// What is known of `node`, for a call about to be made.
    func health(of node: NodeID) -> PeerHealth? { health.withLock { $0[node] } }

    /// Applies `change` to `peer`'s health (callers unknown to the membership are ignored).
    func record(_ peer: NodeID, _ change: (inout PeerHealth) -> Void) {
        let up = health.withLock { table -> Bool? in
            guard var entry = table[peer] else { return nil }
            change(&entry)
            table[peer] = entry
            return entry.isUp
        }
        if let up { gauges[peer]?.record(up ? 1 : 0) }
    }
}
