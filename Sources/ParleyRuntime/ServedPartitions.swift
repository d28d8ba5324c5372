import ParleyCluster

/// The partitions this node serves, and for every other one the node that serves it. The
/// runtime forwards calls for entities of a partition served elsewhere to that node; an
/// entity registry of such a partition refuses every command with `partition_elsewhere`
/// (naming the serving node and its client address), so a call that reaches the wrong node
/// is never decided there.
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

    /// The name presence gives a node outside any cluster.
    public static let standalone = NodeID("standalone")!

    /// Every partition (a single node).
    public static let all = ServedPartitions(node: nil, elsewhere: [:], peers: [])

    private init(node: NodeID?, elsewhere: [PartitionID: Elsewhere], peers: [NodeID]) {
        self.node = node
        self.elsewhere = elsewhere
        self.peers = peers
    }

    /// What `node` serves by `placement`: the partitions it is first in.
    public init(placement: Placement, node: NodeID) {
        var elsewhere: [PartitionID: Elsewhere] = [:]
        for index in 0..<placement.membership.partitionCount {
            let partition = PartitionID(UInt16(index))
            let leader = placement.leader(of: partition)
            guard leader != node else { continue }
            let address = placement.membership.member(leader).map { " (clients: \($0.clientAddress))" } ?? ""
            elsewhere[partition] = Elsewhere(node: leader, label: "\(leader)\(address)")
        }
        self.init(node: node, elsewhere: elsewhere, peers: placement.membership.members.map(\.id).filter { $0 != node }.sorted())
    }

    public func serves(_ partition: PartitionID) -> Bool { elsewhere[partition] == nil }

    /// The node serving `partition`, nil when it is this one.
    public func servingNode(of partition: PartitionID) -> NodeID? { elsewhere[partition]?.node }

    /// The refusal for commands of `partition`, nil when this node serves it.
    func refusal(for partition: PartitionID) -> RuntimeError? {
        elsewhere[partition].map { .servedElsewhere(partition, serving: $0.label) }
    }
}
