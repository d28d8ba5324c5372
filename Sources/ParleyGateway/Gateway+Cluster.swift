import Foundation
import Hummingbird
import ParleyCluster

/// What this node knows of its cluster, for `GET /cluster`: its membership, the placement
/// and, from the peer network, each peer's health.
public struct ClusterView: Sendable {
    public let membership: ClusterMembership
    public let placement: Placement
    public let ownID: NodeID
    public let peers: @Sendable () -> [(peer: ClusterMember, health: PeerHealth)]
    /// Where each partition is served now (Raft leadership with replication); nil: by placement.
    public let leadership: (any PartitionLeadership)?
    /// This node's replicas as applied: each partition's applied index and digest, and one
    /// partition's records (nil: the node cannot tell).
    public let replicaState: ReplicaState?

    public init(
        membership: ClusterMembership, placement: Placement, ownID: NodeID, leadership: (any PartitionLeadership)? = nil,
        replicaState: ReplicaState? = nil, peers: @escaping @Sendable () -> [(peer: ClusterMember, health: PeerHealth)]
    ) {
        self.membership = membership
        self.placement = placement
        self.ownID = ownID
        self.leadership = leadership
        self.replicaState = replicaState
        self.peers = peers
    }

    /// The node serving `partition` as this node knows it; nil while unknown.
    func leader(of partition: PartitionID) -> NodeID? {
        guard let leadership else { return placement.leader(of: partition) }
        switch leadership.route(partition) {
        case .here: return ownID
        case let .elsewhere(leader): return leader
        }
    }
}

/// `GET /cluster`.
struct ClusterStatusResponse: Encodable {
    struct Peer: Encodable {
        let id: String
        let peerAddress: String
        let clientAddress: String
        /// unknown, up, down or mismatched.
        let state: String
        let roundTripMs: Double?
        let lastSeenMsAgo: Int?
        let failures: Int?
        let reason: String?

        enum CodingKeys: String, CodingKey {
            case id, state, failures, reason
            case peerAddress = "peer_address", clientAddress = "client_address", roundTripMs = "round_trip_ms", lastSeenMsAgo = "last_seen_ms_ago"
        }
    }

    let nodeID: String
    let fingerprint: String
    let partitions: Int
    let replicationFactor: Int
    let serves: Int
    let replicates: Int
    /// Whether partitions are Raft groups (leaders move on failover).
    let replicated: Bool
    /// Each partition's serving node as this node knows it (null while unknown, e.g. during
    /// an election, or for a partition this node does not replicate and never asked about).
    let leaders: [String?]
    let peers: [Peer]

    enum CodingKeys: String, CodingKey {
        case fingerprint, partitions, serves, replicates, replicated, leaders, peers
        case nodeID = "node_id", replicationFactor = "replication_factor"
    }

    init(_ view: ClusterView, now: ContinuousClock.Instant = .now) {
        nodeID = view.ownID.rawValue
        fingerprint = view.membership.fingerprint
        partitions = view.membership.partitionCount
        replicationFactor = view.membership.replicationFactor
        replicates = view.placement.partitions(replicatedOn: view.ownID).count
        replicated = view.leadership != nil
        leaders = (0..<view.membership.partitionCount).map { view.leader(of: PartitionID(UInt16($0)))?.rawValue }
        serves = leaders.filter { $0 == view.ownID.rawValue }.count
        peers = view.peers().map { peer, health in
            var state = "unknown"
            var roundTrip: Double?
            var failures: Int?
            var reason: String?
            switch health.status {
            case .unknown: break
            case let .up(_, trip):
                state = "up"
                roundTrip = (trip / .microseconds(1)).rounded() / 1_000
            case let .down(_, count, why):
                state = "down"
                failures = count
                reason = why
            case let .mismatched(why):
                state = "mismatched"
                reason = why
            }
            return Peer(
                id: peer.id.rawValue, peerAddress: peer.peerAddress.description, clientAddress: peer.clientAddress.description,
                state: state, roundTripMs: roundTrip, lastSeenMsAgo: health.lastSeen.map { Int((now - $0) / .milliseconds(1)) },
                failures: failures, reason: reason)
        }
    }
}

/// What a node's replicas hold, as applied (`GET /cluster/digests`, and the records behind a
/// digest for tracing a difference between replicas).
public struct ReplicaState: Sendable {
    public let digests: @Sendable () async throws -> [PartitionDigest]
    public let records: @Sendable (PartitionID) async throws -> [(key: [UInt8], valueDigest: [UInt8])]

    public init(
        digests: @escaping @Sendable () async throws -> [PartitionDigest],
        records: @escaping @Sendable (PartitionID) async throws -> [(key: [UInt8], valueDigest: [UInt8])]
    ) {
        self.digests = digests
        self.records = records
    }
}

/// `GET /cluster/digests`.
struct DigestsResponse: Encodable {
    struct Partition: Encodable {
        let partition: Int
        let appliedIndex: UInt64
        let records: Int
        let digest: String

        enum CodingKeys: String, CodingKey {
            case partition, records, digest
            case appliedIndex = "applied_index"
        }
    }

    let nodeID: String
    let partitions: [Partition]

    enum CodingKeys: String, CodingKey {
        case partitions
        case nodeID = "node_id"
    }
}

/// `GET /cluster/partitions/{partition}/records`.
struct RecordsResponse: Encodable {
    struct Record: Encodable {
        let key: String
        let valueSHA256: String

        enum CodingKeys: String, CodingKey {
            case key
            case valueSHA256 = "value_sha256"
        }
    }

    let partition: Int
    let records: [Record]
}

extension Gateway {
    func addClusterRoute(to router: Router<BasicRequestContext>) {
        router.get("/cluster") { _, _ in
            JSONBody.response(ClusterStatusResponse(try clusterView()))
        }
        // What this node's replicas hold (admins only: it is the whole cluster's state).
        router.get("/cluster/digests") { request, _ in
            let (view, replicas) = try await adminReplicaState(request)
            let digests = try await replicas.digests()
            return JSONBody.response(DigestsResponse(
                nodeID: view.ownID.rawValue,
                partitions: digests.map { .init(partition: Int($0.partition.rawValue), appliedIndex: $0.appliedIndex, records: $0.records, digest: $0.digest) }))
        }
        router.get("/cluster/partitions/:partition/records") { request, context in
            let (view, replicas) = try await adminReplicaState(request)
            guard let raw = context.parameters.get("partition"), raw.utf8.count <= 5, let number = Int(raw), number >= 0 else {
                throw GatewayError.invalidArgument("a partition is a number")
            }
            guard number < view.membership.partitionCount else {
                throw GatewayError(.notFound, code: "partition_not_found", "the cluster has partitions 0 to \(view.membership.partitionCount - 1)")
            }
            let records = try await replicas.records(PartitionID(UInt16(number)))
            return JSONBody.response(RecordsResponse(
                partition: Int(number), records: records.map { .init(key: Self.hex($0.key), valueSHA256: Self.hex($0.valueDigest)) }))
        }
    }

    private func clusterView() throws -> ClusterView {
        guard let view = configuration.cluster else {
            throw GatewayError(.serviceUnavailable, code: "cluster_unknown", "this node was started without a cluster view")
        }
        return view
    }

    private func adminReplicaState(_ request: Request) async throws -> (ClusterView, ReplicaState) {
        guard try await authenticator.authenticate(request, runtime: runtime).isAdmin else { throw GatewayError.adminOnly }
        let view = try clusterView()
        guard let replicas = view.replicaState else {
            throw GatewayError(.serviceUnavailable, code: "cluster_unknown", "this node cannot report its replicas' state")
        }
        return (view, replicas)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
}
