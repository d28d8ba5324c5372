import ParleyCluster

/// The partitions this node serves, and for every other one where it is served. A command
/// for an entity of a partition served elsewhere is refused with `partition_elsewhere`,
/// naming the serving node and its client address, until the peer transport forwards it.
public struct ServedPartitions: Sendable {
    /// Partition → "node-2 (clients: 127.0.0.1:8102)", for the partitions served elsewhere.
    private let elsewhere: [PartitionID: String]

    /// Every partition (a single node).
    public static let all = ServedPartitions(elsewhere: [:])

    private init(elsewhere: [PartitionID: String]) {
        self.elsewhere = elsewhere
    }

    /// What `node` serves by `placement`: the partitions it is first in.
    public init(placement: Placement, node: NodeID) {
        var elsewhere: [PartitionID: String] = [:]
        for index in 0..<placement.membership.partitionCount {
            let partition = PartitionID(UInt16(index))
            let leader = placement.leader(of: partition)
            guard leader != node else { continue }
            let address = placement.membership.member(leader).map { " (clients: \($0.clientAddress))" } ?? ""
            elsewhere[partition] = "\(leader)\(address)"
        }
        self.elsewhere = elsewhere
    }

    public func serves(_ partition: PartitionID) -> Bool { elsewhere[partition] == nil }

    /// The refusal for commands of `partition`, nil when this node serves it.
    func refusal(for partition: PartitionID) -> RuntimeError? {
        elsewhere[partition].map { .servedElsewhere(partition, serving: $0) }
    }
}
