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

    public init(
        membership: ClusterMembership, placement: Placement, ownID: NodeID, leadership: (any PartitionLeadership)? = nil,
        peers: @escaping @Sendable () -> [(peer: ClusterMember, health: PeerHealth)]
    ) {
        self.membership = membership
        self.placement = placement
        self.ownID = ownID
        self.leadership = leadership
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

extension Gateway {
    func addClusterRoute(to router: Router<BasicRequestContext>) {
        router.get("/cluster") { _, _ in
            guard let view = configuration.cluster else {
                throw GatewayError(.serviceUnavailable, code: "cluster_unknown", "this node was started without a cluster view")
            }
            return JSONBody.response(ClusterStatusResponse(view))
        }
    }
}
