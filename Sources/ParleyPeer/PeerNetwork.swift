import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Metrics
import ParleyCluster
import ServiceLifecycle
import Synchronization

/// This node's side of the peer network: the gRPC server (HTTP/2) other nodes call, and one
/// client per peer, each a single multiplexed HTTP/2 connection that gRPC re-establishes
/// with backoff. Every peer is greeted on a heartbeat; what is learnt goes into its
/// `PeerHealth` (the pure state machine), reported by `statuses()` and the
/// `parley_peer_up{peer}` gauge. A peer that is down is retried on its own schedule and
/// stalls no other.
///
/// A node that finds, while joining, that a peer runs with another cluster configuration
/// stops with `cluster_membership_mismatch`; once joined (accepted by a peer, or past the
/// join window) it only marks such a peer as mismatched and never talks to it, so a
/// misconfigured newcomer cannot take down a running cluster.
public final class PeerNetwork: Service, PeerTransport, Sendable {
    public struct Configuration: Sendable {
        /// How often a peer that is up is greeted.
        public var heartbeat: Duration = .seconds(1)
        /// The deadline of one handshake.
        public var callTimeout: Duration = .seconds(1)
        public var backoff = PeerHealth.Backoff()
        /// How long after start a mismatch stops this node (unless a peer accepted it first).
        public var joinWindow: Duration = .seconds(10)
        /// The largest message exchanged (a file upload travels as one).
        public var maxMessageBytes = 64 << 20
        /// Mutual TLS between the nodes; nil: plaintext HTTP/2 (loopback and trusted networks).
        public var tls: PeerTLS?
        public init() {}
    }

    let membership: ClusterMembership
    let ownID: NodeID
    private let configuration: Configuration
    private let logger: Logger
    private let onListening: @Sendable (String, Int) -> Void
    private let health: Mutex<[NodeID: PeerHealth]>
    /// Set once a peer accepted this node: from then on a mismatch no longer stops it.
    private let joined = Atomic<Bool>(false)
    /// Set at shutdown (or a refusal to join): the greeting loops end.
    private let stopping = Atomic<Bool>(false)
    private let gauges: [NodeID: Gauge]
    /// One client (one HTTP/2 connection, re-established with backoff) per peer.
    private let clients: [NodeID: GRPCClient<HTTP2ClientTransport.Posix>]
    /// One stream of messages per peer, on that connection.
    let streams: [NodeID: PeerStream]
    /// The peers' streams this node's server is answering, to close when it stops.
    private let incoming = Mutex<[ObjectIdentifier: AnswerQueue]>([:])
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
        let peers = membership.members.map(\.id).filter { $0 != ownID }
        health = Mutex(Dictionary(uniqueKeysWithValues: peers.map { ($0, PeerHealth(heartbeat: configuration.heartbeat, backoff: configuration.backoff)) }))
        gauges = Dictionary(uniqueKeysWithValues: peers.map { ($0, Gauge(label: "parley_peer_up", dimensions: [("peer", $0.rawValue)])) })
        var clients: [NodeID: GRPCClient<HTTP2ClientTransport.Posix>] = [:]
        for member in membership.members where member.id != ownID {
            clients[member.id] = try Self.client(for: member, configuration: configuration)
        }
        self.clients = clients
        streams = Dictionary(uniqueKeysWithValues: clients.keys.map { ($0, PeerStream(peer: $0)) })
    }

    private static func client(for peer: ClusterMember, configuration: Configuration) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        let backoff = configuration.backoff
        let keepalive = configuration.heartbeat
        do {
            return GRPCClient(
                transport: try .http2NIOPosix(
                    target: .ipv4(host: peer.peerAddress.host, port: peer.peerAddress.port),
                    transportSecurity: configuration.tls?.clientSecurity ?? .plaintext,
                    config: .defaults { config in
                        // Reconnect on this network's schedule, not gRPC's default (1 s up to 2 min),
                        // and ping the connection so a silent peer is noticed between handshakes.
                        config.backoff = .init(initial: backoff.initial, max: backoff.maximum, multiplier: backoff.multiplier, jitter: 0.2)
                        config.connection.keepalive = .init(time: keepalive * 5, timeout: keepalive * 2, allowWithoutCalls: true)
                    }))
        } catch {
            throw ClusterError(.invalidMembership, "peer \(peer.id) at \(peer.peerAddress) cannot be dialled: \(error)")
        }
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
        let maxBytes = configuration.maxMessageBytes
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: own.peerAddress.host, port: own.peerAddress.port),
                transportSecurity: configuration.tls?.serverSecurity ?? .plaintext,
                config: .defaults { $0.rpc.maxRequestPayloadSize = maxBytes }),
            services: [HandshakeEndpoint(network: self), ExchangeEndpoint(network: self)])
        let started = ContinuousClock.now
        // Nothing here is cancelled: cancelling a NIO server or client while connections are
        // buffered traps (NIOAsyncWriter deinited unfinished). Shutdown, or a refusal to join,
        // sets `stopping`; the loops end, the clients and the server shut down gracefully.
        let failure = await withTaskGroup(of: (any Error)?.self) { group -> (any Error)? in
            group.addTask {
                do {
                    try await server.serve()
                    return nil
                } catch {
                    return error
                }
            }
            group.addTask {
                if let address = try? await server.listeningAddress?.ipv4 { self.onListening(address.host, address.port) }
                return nil
            }
            for client in clients.values {
                group.addTask {
                    try? await client.runConnections()
                    return nil
                }
            }
            let ownID = self.ownID
            let fingerprint = membership.fingerprint
            // The greeting and the message streams run until stopped; the streams end before
            // their clients shut down.
            let refusal = await withTaskGroup(of: ClusterError?.self) { loops -> ClusterError? in
                for (peer, stream) in streams {
                    guard let client = clients[peer] else { continue }
                    loops.addTask {
                        await stream.run(client: client, ownID: ownID, fingerprint: fingerprint, maxMessageBytes: maxBytes)
                        return nil
                    }
                    loops.addTask {
                        await stream.sweep()
                        return nil
                    }
                }
                loops.addTask {
                    let refusal = await withGracefulShutdownHandler {
                        await self.greetAll(joiningUntil: started + self.configuration.joinWindow)
                    } onGracefulShutdown: {
                        self.stopping.store(true, ordering: .releasing)
                    }
                    self.stopping.store(true, ordering: .releasing)
                    for stream in self.streams.values { stream.stop() }
                    for answers in self.incoming.withLock({ Array($0.values) }) { answers.requestClose() }
                    return refusal
                }
                var refusal: ClusterError?
                for await result in loops where result != nil { refusal = refusal ?? result }
                return refusal
            }
            for client in clients.values { client.beginGracefulShutdown() }
            server.beginGracefulShutdown()
            var serverError: (any Error)?
            for await error in group where error != nil { serverError = serverError ?? error }
            return refusal ?? serverError
        }
        if let failure { throw failure }
    }

    /// Greets every peer until stopped; the first refusal to join, if any, stops the others.
    private func greetAll(joiningUntil joinDeadline: ContinuousClock.Instant) async -> ClusterError? {
        await withTaskGroup(of: ClusterError?.self) { group in
            for member in membership.members where member.id != ownID {
                group.addTask { await self.greet(member, joiningUntil: joinDeadline) }
            }
            var refusal: ClusterError?
            for await outcome in group {
                guard let outcome else { continue }
                refusal = refusal ?? outcome
                stopping.store(true, ordering: .releasing)
            }
            return refusal
        }
    }

    /// Greets `peer` until stopped: one client (one HTTP/2 connection), a handshake per
    /// heartbeat while it answers, backing off while it does not. Returns the refusal when
    /// the peer runs another cluster configuration while this node is still joining.
    private func greet(_ peer: ClusterMember, joiningUntil joinDeadline: ContinuousClock.Instant) async -> ClusterError? {
        guard let client = clients[peer.id] else { return nil }
        let stub = Parley_Peer_V1_PeerHandshake.Client(wrapping: client)
        while !stopping.load(ordering: .acquiring) {
            if let refusal = await handshake(with: peer, stub: stub, joiningUntil: joinDeadline) { return refusal }
            let delay = health.withLock { $0[peer.id]?.nextAttempt(jitter: Double.random(in: 0...1)) } ?? configuration.heartbeat
            await pause(delay)
        }
        return nil
    }

    /// One handshake with `peer`, its outcome recorded; the refusal if this node must not join.
    private func handshake(
        with peer: ClusterMember, stub: Parley_Peer_V1_PeerHandshake.Client<HTTP2ClientTransport.Posix>, joiningUntil joinDeadline: ContinuousClock.Instant
    ) async -> ClusterError? {
        var options = CallOptions.defaults
        options.timeout = configuration.callTimeout
        var request = Parley_Peer_V1_HelloRequest()
        request.nodeID = ownID.rawValue
        request.clusterFingerprint = membership.fingerprint
        request.clusterDescription = membership.canonicalDescription
        request.sentAtMs = Int64(Date().timeIntervalSince1970 * 1_000)
        let sent = ContinuousClock.now
        let response: Parley_Peer_V1_HelloResponse
        do {
            response = try await stub.hello(request, options: options)
        } catch {
            let wasUp = health.withLock { $0[peer.id]?.isUp ?? false }
            record(peer.id) { $0.failed(at: .now, reason: Self.reason(error)) }
            if wasUp { logger.warning("peer stopped answering", metadata: ["peer": "\(peer.id)", "error": "\(Self.reason(error))"]) }
            return nil
        }
        let now = ContinuousClock.now
        guard let refusal = membership.agreement(withFingerprint: response.clusterFingerprint, description: response.clusterDescription) else {
            joined.store(true, ordering: .releasing)
            record(peer.id) { $0.answered(at: now, roundTrip: now - sent) }
            return nil
        }
        record(peer.id) { $0.refused(reason: refusal.message) }
        if !joined.load(ordering: .acquiring) && now < joinDeadline {
            logger.critical("refusing to join: a peer runs another cluster configuration", metadata: ["peer": "\(peer.id)", "error": "\(refusal)"])
            return refusal
        }
        logger.error("peer runs another cluster configuration; not talking to it", metadata: ["peer": "\(peer.id)", "error": "\(refusal)"])
        return nil
    }


    func openedStream(_ answers: AnswerQueue) {
        incoming.withLock { $0[ObjectIdentifier(answers)] = answers }
        if stopping.load(ordering: .acquiring) { answers.requestClose() }
    }

    func closedStream(_ answers: AnswerQueue) { _ = incoming.withLock { $0.removeValue(forKey: ObjectIdentifier(answers)) } }

    /// What is known of `node`, for a call about to be made.
    func health(of node: NodeID) -> PeerHealth? { health.withLock { $0[node] } }


    /// Waits `delay`, in slices, so a stop is noticed within 100 ms.
    private func pause(_ delay: Duration) async {
        let deadline = ContinuousClock.now + delay
        while !stopping.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try? await Task.sleep(until: min(deadline, .now + .milliseconds(100)))
        }
    }

    /// The caller of a handshake this node answered: a refusal marks it mismatched (it is
    /// greeted by this node's own loop too, which keeps its liveness).
    func greeted(by caller: String, refusal: ClusterError?) {
        guard let refusal, let id = NodeID(caller) else { return }
        record(id) { $0.refused(reason: refusal.message) }
    }

    /// Applies `change` to `peer`'s health (callers unknown to the membership are ignored).
    private func record(_ peer: NodeID, _ change: (inout PeerHealth) -> Void) {
        let up = health.withLock { table -> Bool? in
            guard var entry = table[peer] else { return nil }
            change(&entry)
            table[peer] = entry
            return entry.isUp
        }
        if let up { gauges[peer]?.record(up ? 1 : 0) }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? RPCError { return "\(error.code): \(error.message)" }
        return "\(error)"
    }
}
