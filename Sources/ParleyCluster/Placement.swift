/// Where each partition lives: its ordered replica list, the first entry the node that
/// serves it (its preferred leader). A pure function of a `ClusterMembership`, so every node
/// computes the same placement.
///
/// Replica sets are rendezvous (highest random weight) hashing: each node scores each
/// partition with a stable hash and the partition's replicas are its `R` best-scoring nodes.
/// A set changes only where a joining node now scores among the best `R`, so adding a node
/// moves about `1/(N+1)` of the replica slots, all of them to the new node, and no other.
/// Which replica leads is chosen for balance: partitions in order, each led by the replica
/// that leads the fewest so far (ties to the better score). Rendezvous alone leaves leaders
/// unbalanced on few partitions (64 on 5 nodes: the busiest node led about twice as many as
/// the idlest); leadership moves no data, so the leader choice may move when the cluster
/// changes.
public struct Placement: Sendable, Equatable {
    public let membership: ClusterMembership
    private let replicaLists: [[NodeID]]

    public init(_ membership: ClusterMembership) {
        self.membership = membership
        let nodes = membership.members.map(\.id)
        let seeds = nodes.map { Partitioner.stableHash("node/" + $0.rawValue) }
        let count = membership.effectiveReplicationFactor
        var led = [Int](repeating: 0, count: nodes.count)
        var lists: [[NodeID]] = []
        lists.reserveCapacity(membership.partitionCount)
        for partition in 0..<membership.partitionCount {
            let scores = seeds.map { Self.score($0, partition) }
            let ranked = (0..<nodes.count).sorted { a, b in
                scores[a] != scores[b] ? scores[a] > scores[b] : nodes[a] < nodes[b]
            }
            let replicas = Array(ranked.prefix(count))
            // The first replica with the fewest led partitions (`min` keeps the first of equals).
            let leader = replicas.min { led[$0] < led[$1] } ?? replicas[0]
            led[leader] += 1
            lists.append([nodes[leader]] + replicas.filter { $0 != leader }.map { nodes[$0] })
        }
        replicaLists = lists
    }

    /// The replicas of `partition`, the serving (preferred leader) node first.
    public func replicas(of partition: PartitionID) -> [NodeID] { replicaLists[Int(partition.rawValue)] }

    /// The node that serves `partition`.
    public func leader(of partition: PartitionID) -> NodeID { replicaLists[Int(partition.rawValue)][0] }

    /// The partitions `node` holds a replica of.
    public func partitions(replicatedOn node: NodeID) -> [PartitionID] {
        replicaLists.indices.filter { replicaLists[$0].contains(node) }.map { PartitionID(UInt16($0)) }
    }

    /// The partitions `node` serves.
    public func partitions(ledBy node: NodeID) -> [PartitionID] {
        replicaLists.indices.filter { replicaLists[$0][0] == node }.map { PartitionID(UInt16($0)) }
    }

    /// A node's weight for a partition: its seed and the partition through the splitmix64
    /// finaliser, the same on every machine.
    static func score(_ seed: UInt64, _ partition: Int) -> UInt64 {
        var z = seed ^ (UInt64(partition) &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
