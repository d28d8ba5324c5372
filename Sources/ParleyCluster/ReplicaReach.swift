/// Which of a partition's replicas this node can count on, by its failure detector: pure rules
/// shared by the driver (a cut-off leader's waiting appends, a gone leader's successor) and the
/// runtime (a cut-off node's refusal).
public enum ReplicaReach {
    /// Whether `reachable` replicas, this node included if it is one, are a majority of
    /// `replicas` (a leader can stand, or keep standing, on this node's side).
    public static func isMajority(_ reachable: Int, of replicas: Int) -> Bool {
        reachable >= replicas / 2 + 1
    }

    /// The replica that campaigns when `gone`, the leader, is gone: the first of `replicas`
    /// (placement order) other than `gone` that is not held down. Every survivor seeing the same
    /// peers down picks the same one, so they do not split the vote.
    public static func successor(of replicas: [NodeID], replacing gone: NodeID?, isDown: (NodeID) -> Bool) -> NodeID? {
        replicas.first { $0 != gone && !isDown($0) }
    }
}
