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

    public init(
        membership: ClusterMembership, placement: Placement, ownID: NodeID,
        peers: @escaping @Sendable () -> [(peer: ClusterMember, health: PeerHealth)]
    ) {
        self.membership = membership
        self.placement = placement
        self.ownID = ownID
        self.peers = peers
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
    let peers: [Peer]

    enum CodingKeys: String, CodingKey {
        case fingerprint, partitions, serves, replicates, peers
        case nodeID = "node_id", replicationFactor = "replication_factor"
    }

    init(_ view: ClusterView, now: ContinuousClock.Instant = .now) {
        nodeID = view.ownID.rawValue
        fingerprint = view.membership.fingerprint
        partitions = view.membership.partitionCount
        replicationFactor = view.membership.replicationFactor
        serves = view.placement.partitions(ledBy: view.ownID).count
        replicates = view.placement.partitions(replicatedOn: view.ownID).count
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
