import ParleyCluster

/// The partitions this node serves, and for every other one the node that serves it. The
/// runtime forwards calls for entities of a partition served elsewhere to that node; an
/// entity registry of such a partition refuses every command with `partition_elsewhere`
/// (naming the serving node and its client address), so a call that reaches the wrong node
/// is never decided there.
///
/// With a replicated log the answer comes from Raft's leadership at each call (`leadership`),
/// so it follows every failover; without one it is the placement's preferred leader.
public struct ServedPartitions: Sendable {
    struct Elsewhere: Sendable {
        let node: NodeID
        /// "node-2 (clients: 127.0.0.1:8102)"
        let label: String
    }

    /// This node; nil on a node outside any cluster (tests of one runtime).
    public let node: NodeID?
    private let elsewhere: [PartitionID: Elsewhere]
    /// The other nodes of the cluster, in id order.
    public let peers: [NodeID]
    private let placement: Placement?
    private let leadership: (any PartitionLeadership)?

    /// The name presence gives a node outside any cluster.
    public static let standalone = NodeID("standalone")!

    /// Every partition (a single node).
    public static let all = ServedPartitions(node: nil, elsewhere: [:], peers: [], placement: nil, leadership: nil)

    private init(node: NodeID?, elsewhere: [PartitionID: Elsewhere], peers: [NodeID], placement: Placement?, leadership: (any PartitionLeadership)?) {
        self.node = node
        self.elsewhere = elsewhere
        self.peers = peers
        self.placement = placement
        self.leadership = leadership
    }

    /// What `node` serves: the partitions `leadership` says it leads now, or without one the
    /// partitions it is first in by `placement`.
    public init(placement: Placement, node: NodeID, leadership: (any PartitionLeadership)? = nil) {
        var elsewhere: [PartitionID: Elsewhere] = [:]
        for index in 0..<placement.membership.partitionCount {
            let partition = PartitionID(UInt16(index))
            let leader = placement.leader(of: partition)
            guard leader != node else { continue }
            elsewhere[partition] = Elsewhere(node: leader, label: Self.label(leader, placement))
        }
        self.init(
            node: node, elsewhere: elsewhere, peers: placement.membership.members.map(\.id).filter { $0 != node }.sorted(),
            placement: placement, leadership: leadership)
    }

    private static func label(_ node: NodeID, _ placement: Placement) -> String {
        "\(node)\(placement.membership.member(node).map { " (clients: \($0.clientAddress))" } ?? "")"
    }

    /// Whether partitions move between nodes (Raft leadership), so calls may meet a
    /// failover and are retried.
    public var isReplicated: Bool { leadership != nil }

    public func serves(_ partition: PartitionID) -> Bool {
        if let leadership { return leadership.route(partition) == .here }
        return elsewhere[partition] == nil
    }

    /// The node serving `partition`, nil when it is this one. While a replicated partition
    /// has no known leader, a replica to ask (it knows the leader, or refuses until there is one).
    public func servingNode(of partition: PartitionID) -> NodeID? {
        guard let leadership else { return elsewhere[partition]?.node }
        switch leadership.route(partition) {
        case .here: return nil
        case let .elsewhere(leader?): return leader
        case .elsewhere(nil): return placement?.replicas(of: partition).first { $0 != node }
        }
    }

    /// Where `partition` is served now.
    public func route(_ partition: PartitionID) -> PartitionRoute {
        if let leadership { return leadership.route(partition) }
        return elsewhere[partition].map { .elsewhere($0.node) } ?? .here
    }

    /// The other nodes that may serve `partition`: its replicas with replication, else the
    /// node serving it (none when it is this one).
    func interestedNodes(of partition: PartitionID) -> [NodeID] {
        guard leadership != nil, let placement else { return servingNode(of: partition).map { [$0] } ?? [] }
        return placement.replicas(of: partition).filter { $0 != node }
    }

    /// A replica of `partition` other than this node, a different one for each `turn`: whom
    /// to ask while no leader is known.
    func replica(of partition: PartitionID, turn: Int) -> NodeID? {
        let others = placement?.replicas(of: partition).filter { $0 != node } ?? []
        return others.isEmpty ? nil : others[turn % others.count]
    }

    /// Learns the leader a `partition_elsewhere` refusal named ("node-2 (clients: …)").
    func noteLeader(from refusal: RuntimeError, of partition: PartitionID) {
        guard let leadership, case let .servedElsewhere(_, serving) = refusal,
            let name = serving.split(separator: " ").first, let leader = NodeID(String(name)),
            placement?.membership.member(leader) != nil, leader != node
        else { return }
        leadership.noteLeader(leader, of: partition)
    }

    /// Whether this node replicates `partition` (and so has a Raft view of its leader).
    func replicates(_ partition: PartitionID) -> Bool {
        guard let node, let placement else { return true }
        return placement.replicas(of: partition).contains(node)
    }

    /// Drops `leader` as the hint for `partition` (it did not answer), so the replicas are asked.
    func forgetLeader(_ leader: NodeID, of partition: PartitionID) {
        leadership?.forgetLeader(leader, of: partition)
    }

    /// The refusal for commands of `partition`, nil when this node serves it.
    func refusal(for partition: PartitionID) -> RuntimeError? {
        guard let leadership else { return elsewhere[partition].map { .servedElsewhere(partition, serving: $0.label) } }
        switch leadership.route(partition) {
        case .here: return nil
        case let .elsewhere(leader?):
            return .servedElsewhere(partition, serving: placement.map { Self.label(leader, $0) } ?? leader.rawValue)
        case .elsewhere(nil):
            return .servedElsewhere(partition, serving: "no node yet (its replicas are electing a leader)")
        }
    }
}
