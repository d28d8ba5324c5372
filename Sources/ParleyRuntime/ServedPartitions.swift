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
    /// This node; nil on a node outside any cluster (tests of one runtime).
    public let node: NodeID?
    /// The other nodes of the cluster, in id order.
    public let peers: [NodeID]
    /// Nil for a node outside any cluster, which serves everything.
    private let placement: Placement?
    private let leadership: (any PartitionLeadership)?

    /// The name presence gives a node outside any cluster.
    public static let standalone = NodeID("standalone")!

    /// Every partition (a single node).
    public static let all = ServedPartitions(node: nil, peers: [], placement: nil, leadership: nil)

    private init(node: NodeID?, peers: [NodeID], placement: Placement?, leadership: (any PartitionLeadership)?) {
        self.node = node
        self.peers = peers
        self.placement = placement
        self.leadership = leadership
    }

    /// What `node` serves: the partitions `leadership` says it leads now, or without one the
    /// partitions it is first in by `placement`.
    public init(placement: Placement, node: NodeID, leadership: (any PartitionLeadership)? = nil) {
        self.init(
            node: node, peers: placement.membership.members.map(\.id).filter { $0 != node }.sorted(), placement: placement,
            leadership: leadership)
    }

    /// Whether partitions move between nodes (Raft leadership), so calls may meet a
    /// failover and are retried.
    public var isReplicated: Bool { leadership != nil }

    /// Where `partition` is served now: by Raft's leadership with replication, else by its
    /// first node in the placement.
    public func route(_ partition: PartitionID) -> PartitionRoute {
        if let leadership { return leadership.route(partition) }
        guard let leader = placement?.leader(of: partition), leader != node else { return .here }
        return .elsewhere(leader)
    }

    public func serves(_ partition: PartitionID) -> Bool { route(partition) == .here }

    /// The node serving `partition`, nil when it is this one. While a replicated partition
    /// has no known leader, a replica to ask (it knows the leader, or refuses until there is one).
    public func servingNode(of partition: PartitionID) -> NodeID? {
        guard case let .elsewhere(leader) = route(partition) else { return nil }
        return leader ?? replica(of: partition, turn: 0)
    }

    /// The other nodes that may serve `partition`: its replicas with replication, else the
    /// node serving it (none when it is this one).
    func interestedNodes(of partition: PartitionID) -> [NodeID] {
        guard leadership != nil else { return servingNode(of: partition).map { [$0] } ?? [] }
        return otherReplicas(of: partition)
    }

    /// A replica of `partition` other than this node, a different one for each `turn`: whom
    /// to ask while no leader is known.
    func replica(of partition: PartitionID, turn: Int) -> NodeID? {
        let others = otherReplicas(of: partition)
        return others.isEmpty ? nil : others[turn % others.count]
    }

    private func otherReplicas(of partition: PartitionID) -> [NodeID] {
        placement?.replicas(of: partition).filter { $0 != node } ?? []
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

    /// Runs `wake` once `partition`'s route differs from `route`, unless the watch is ended
    /// first. Nil for a static placement, whose routes never move (nothing to watch).
    func watchRouteChange(of partition: PartitionID, from route: PartitionRoute, wake: @escaping @Sendable () -> Void) -> RouteWatch? {
        leadership?.watchRouteChange(of: partition, from: route, wake: wake)
    }

    /// Ends a watch started by `watchRouteChange`.
    func endWatch(_ watch: RouteWatch?) {
        if let watch { leadership?.endWatch(watch) }
    }

    /// Returns once a read of `partition`, served here, is linearizable: with replication, a
    /// quorum confirmed this node's leadership after the call began (Raft's ReadIndex); a
    /// static placement's partition has no other server, so at once.
    func confirmRead(of partition: PartitionID) async throws(RuntimeError) {
        guard let leadership else { return }
        do throws(ClusterError) {
            try await leadership.confirmLeadership(of: partition)
        } catch {
            throw .log(error)
        }
    }

    /// Drops `leader` as the hint for `partition` (it did not answer), so the replicas are asked.
    func forgetLeader(_ leader: NodeID, of partition: PartitionID) {
        leadership?.forgetLeader(leader, of: partition)
    }

    /// The refusal for commands of `partition`, nil when this node serves it: it names the
    /// serving node and its client address, "node-2 (clients: 127.0.0.1:8102)".
    func refusal(for partition: PartitionID) -> RuntimeError? {
        guard case let .elsewhere(leader) = route(partition) else { return nil }
        guard let leader else { return .servedElsewhere(partition, serving: "no node yet (its replicas are electing a leader)") }
        let address = placement?.membership.member(leader).map { " (clients: \($0.clientAddress))" } ?? ""
        return .servedElsewhere(partition, serving: "\(leader)\(address)")
    }
}
