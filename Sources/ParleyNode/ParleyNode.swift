import Foundation
import Hummingbird
import NIOCore
import HummingbirdHTTP2
import Logging
import ParleyCluster
import ParleyDomain
import ParleyGateway
import ParleyLinkPreview
import ParleyPeer
import ParleyRuntime
import ParleyStorage
import ServiceLifecycle

/// A running Parley node's parts, assembled from a configuration.
public struct ParleyNode: Sendable {
    public let configuration: NodeConfiguration
    public let database: Database
    /// The single-node log, or on a cluster with replication the Raft-replicated one.
    public let log: any NodePartitionLog
    public let runtime: NodeRuntime
    public let readiness: NodeReadiness
    /// The live sessions connected to this node.
    public let hub: LiveHub
    /// Delivers cross-entity effects (staff notices) from the outbox.
    public let outbox: OutboxRelay
    /// Fetches previews of messages' links; nil when `link_previews` is off.
    public let linkPreviewService: LinkPreviewService?
    public let adminToken: String
    public let adminTokenOrigin: AdminToken.Origin
    /// Where this node stands in its cluster (a cluster of one by default).
    public let cluster: ClusterView
    /// The HTTP/2 connections to the other nodes; nil on a single node.
    public let peers: PeerNetwork?
    /// The client-facing API: its routes, its server and the service running its live
    /// sessions' steps (one gateway, so its credential cache is shared by them all).
    public let gateway: Gateway
    let logger: Logger

    /// Opens the data directory and builds every part; nothing runs until `run`.
    public init(configuration: NodeConfiguration, logger: Logger, clock: any WallClock = SystemClock()) throws {
        // Metrics must be bootstrapped before any part creates its counters, or those bind to
        // the no-op handler for good.
        _ = NodeMetrics.registry
        self.configuration = configuration
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError(source: "data_dir", key: nil, reason: "\(configuration.dataDirectory) cannot be created: \(error.localizedDescription)")
        }
        (adminToken, adminTokenOrigin) = try AdminToken.resolve(configured: configuration.adminToken, dataDirectory: configuration.dataDirectory)
        let databasePath = (configuration.dataDirectory as NSString).appendingPathComponent("db")
        database = try LocalPartitionLog.openDatabase(at: databasePath, stateInsertHints: NodeRuntime.stateInsertHints)
        var runtimeConfiguration = RuntimeConfiguration()
        runtimeConfiguration.passivateAfter = .milliseconds(Int64(configuration.passivateAfterSeconds * 1_000))
        runtimeConfiguration.passivationSweepInterval = .milliseconds(Int64(configuration.passivationSweepSeconds * 1_000))
        runtimeConfiguration.uploadSweepInterval = .milliseconds(Int64(configuration.uploadSweepSeconds * 1_000))
        runtimeConfiguration.uploadGrace = .milliseconds(Int64(configuration.uploadGraceSeconds * 1_000))
        let membership = try configuration.clusterMembership()
        let placement = Placement(membership)
        let ownID = NodeID(configuration.nodeID)!  // checked by clusterMembership()
        runtimeConfiguration.forwardTimeout = .milliseconds(configuration.forwardTimeoutMilliseconds)
        var peerConfiguration = PeerNetwork.Configuration()
        // A forwarded upload travels as one message: the peers take the largest file allowed.
        peerConfiguration.maxMessageBytes = max(peerConfiguration.maxMessageBytes, configuration.maxFileBytes + (1 << 20))
        peerConfiguration.listenAddress = HostPort(configuration.peerListen)
        peerConfiguration.sourceHost = configuration.peerSourceHost.isEmpty ? nil : configuration.peerSourceHost
        if configuration.peerProbeTimeoutMilliseconds == 0 {
            peerConfiguration.suspectAfter = nil
        } else {
            peerConfiguration.probeTimeout = .milliseconds(configuration.peerProbeTimeoutMilliseconds)
        }
        if !configuration.peerTLSDirectory.isEmpty {
            peerConfiguration.tls = try PeerTLS(directory: configuration.peerTLSDirectory, node: ownID)
        }
        let peers =
            membership.members.count > 1
            ? try PeerNetwork(membership: membership, ownID: ownID, configuration: peerConfiguration, logger: logger) : nil
        self.peers = peers
        if let peers, membership.effectiveReplicationFactor > 1 {
            // Every partition a Raft group over its replicas; the leaders serve.
            var raftConfiguration = ReplicatedPartitionLog.Configuration()
            raftConfiguration.tickInterval = .milliseconds(Int64(configuration.raftTickMilliseconds))
            // Idle groups go quiet after 20 ticks (1 s at 50 ms): the peer network's handshakes
            // find a peer down, which wakes the quiet groups it belongs to.
            raftConfiguration.quiesceTicks = 20
            let replicated = try ReplicatedPartitionLog(
                database: database, placement: placement, ownID: ownID, stateMachine: EntityStateApplier(kinds: runtimeConfiguration.kinds), transport: peers,
                configuration: raftConfiguration, logger: logger)
            log = replicated
            runtimeConfiguration.servedPartitions = ServedPartitions(placement: placement, node: ownID, leadership: replicated)
        } else {
            // One node, or one replica per partition: each partition's first node serves it alone.
            var logConfiguration = LocalPartitionLog.Configuration()
            logConfiguration.maxBatchEntries = configuration.maxCommitBatch
            logConfiguration.retainedEntries = UInt64(configuration.logRetainedEntries)
            log = try LocalPartitionLog(
                database: database, partitionCount: configuration.partitions, stateMachine: EntityStateApplier(kinds: runtimeConfiguration.kinds),
                configuration: logConfiguration, logger: logger)
            runtimeConfiguration.servedPartitions = ServedPartitions(placement: placement, node: ownID)
        }
        cluster = ClusterView(
            membership: membership, placement: placement, ownID: ownID, leadership: log as? ReplicatedPartitionLog,
            replicaState: Self.replicaState(of: log, database: database, held: placement.partitions(replicatedOn: ownID))
        ) {
            peers?.statuses() ?? []
        }
        logger.notice(
            "cluster placement",
            metadata: [
                "fingerprint": "\(membership.fingerprint)", "nodes": "\(membership.members.count)",
                "serves": "\(placement.partitions(ledBy: ownID).count) of \(membership.partitionCount) partitions",
                "replicates": "\(placement.partitions(replicatedOn: ownID).count)",
                "replicated": "\(log is ReplicatedPartitionLog)",
            ])
        let hub = LiveHub()
        self.hub = hub
        let partitioner = Partitioner(partitionCount: log.partitionCount)
        let relay = peers.map { peers in
            var relayConfiguration = LiveRelay.Configuration()
            relayConfiguration.lifetime = .milliseconds(configuration.presenceLifetimeMilliseconds)
            relayConfiguration.renewal = .milliseconds(configuration.presenceLifetimeMilliseconds / 5)
            return LiveRelay(
                hub: hub, transport: peers, served: runtimeConfiguration.servedPartitions,
                partitioner: partitioner, configuration: relayConfiguration, logger: logger)
        }
        let previewQueue = configuration.linkPreviews ? LinkPreviewQueue() : nil
        let runtime = NodeRuntime(
            database: database, stateFamily: log.stateColumnFamily, log: log, clock: clock,
            events: relay ?? hub, staffEvents: relay ?? hub, configuration: runtimeConfiguration, linkPreviews: previewQueue,
            liveSessions: hub, peers: peers, relay: relay, logger: logger)
        self.runtime = runtime
        if let replicated = log as? ReplicatedPartitionLog {
            peers?.inbox.set(PeerRouter(raft: replicated, others: runtime))
        } else {
            peers?.inbox.set(runtime)
        }
        if let previewQueue {
            var previews = LinkPreviewConfiguration()
            previews.allowPrivateAddresses = configuration.linkPreviewPrivateAddresses
            previews.timeout = .milliseconds(Int64(configuration.linkPreviewTimeoutSeconds * 1_000))
            previews.maxPageBytes = configuration.linkPreviewMaxBytes
            linkPreviewService = LinkPreviewService(queue: previewQueue, fetcher: LinkPreviewFetcher(configuration: previews), runtime: runtime, logger: logger)
        } else {
            linkPreviewService = nil
        }
        let outboxRelay = OutboxRelay(runtime: runtime, logger: logger)
        runtime.onOutboxWritten { outboxRelay.nudge() }
        outbox = outboxRelay
        let readiness = NodeReadiness()
        self.readiness = readiness
        var gatewayConfiguration = GatewayConfiguration()
        gatewayConfiguration.maxBodyBytes = configuration.maxBodyBytes
        gatewayConfiguration.maxFileBytes = configuration.maxFileBytes
        gatewayConfiguration.liveCoalescingWindow = .milliseconds(configuration.liveCoalescingMilliseconds)
        gatewayConfiguration.cluster = cluster
        gateway = Gateway(
            runtime: runtime, hub: hub, authenticator: StaffAuthenticator(adminToken: adminToken), readiness: readiness,
            metrics: NodeMetrics.registry, configuration: gatewayConfiguration)
    }

    /// The client-facing router of this node.
    public func router() -> Router<BasicRequestContext> { gateway.router() }

    /// The client-facing application: REST and the live WebSocket on one port. Build it once
    /// per node: it runs the gateway's live-session work as its service.
    public func application(
        host: String, port: Int, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: gateway.router(),
            server: gateway.server(),
            configuration: .init(address: .hostname(host, port: port), serverName: "parley"),
            // Started before the server and stopped after it: the sessions' steps.
            services: [gateway.liveWork],
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// The node's services in start order; a `ServiceGroup` stops them in reverse, so the
    /// HTTP server drains first and the log commits what is queued last.
    public func services(
        onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void,
        onH2CListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }
    ) -> [any Service] {
        let readiness = self.readiness
        let configuration = self.configuration
        let app = application(host: configuration.clientHost, port: configuration.clientPort) { channel in
            readiness.set(.ready)
            onListening(configuration.clientHost, channel.localAddress?.port ?? configuration.clientPort)
        }
        // The relay stops before the peer network it sends through.
        var services: [any Service] = peers.map { [$0] } ?? []
        if let relay = runtime.relay { services.append(relay) }
        services += [
            log, outbox, TimerService(runtime: runtime, logger: logger), ListingRepairService(runtime: runtime, logger: logger),
            PassivationService(runtime: runtime, logger: logger),
            UploadSweepService(runtime: runtime, logger: logger),
            RoutingBoardService(runtime: runtime, logger: logger),
        ]
        if let linkPreviewService { services.append(linkPreviewService) }
        services.append(app)
        if let h2cPort = configuration.clientH2CPort {
            services.append(Application(
                router: router(),
                server: .plaintextHTTP2(),
                configuration: .init(address: .hostname(configuration.clientHost, port: h2cPort), serverName: "parley"),
                onServerRunning: { channel in onH2CListening(configuration.clientHost, channel.localAddress?.port ?? h2cPort) },
                logger: logger))
        }
        services.append(DrainingMarker(readiness: readiness))
        return services
    }

    /// Runs the node until SIGTERM or SIGINT, then shuts down gracefully and closes the
    /// database.
    public func run(
        onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void,
        onH2CListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }
    ) async throws {
        var groupConfiguration = ServiceGroupConfiguration(
            services: services(onListening: onListening, onH2CListening: onH2CListening).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [.sigquit],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(Int64(configuration.shutdownGraceSeconds * 1_000))
        let group = ServiceGroup(configuration: groupConfiguration)
        defer { database.close() }
        try await group.run()
        logger.info("node stopped", metadata: ["node": "\(configuration.nodeID)"])
    }
}

/// Marks the node as draining as soon as graceful shutdown begins, so `/ready` turns 503
/// while in-flight requests finish.
struct DrainingMarker: Service {
    let readiness: NodeReadiness

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(.draining)
    }
}
