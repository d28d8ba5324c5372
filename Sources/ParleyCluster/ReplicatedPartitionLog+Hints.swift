import ParleyRaft

/// What the driver does with the failure detector's news: a peer gone (its groups elect at
/// once), a quiet group whose replica went down (it wakes).
extension ReplicatedPartitionLog {
    /// `node`'s process is gone: each group whose leader it was, by this node's view, forgets
    /// it, and the group's successor (its first replica, in placement order, other than
    /// `node` and other than those the failure detector holds down) campaigns within two ticks
    /// instead of an election timeout. One successor per group, the same on every survivor
    /// that sees the same peers down, so that they do not split the vote. The groups hinted.
    func leaderGone(_ node: NodeID, in groups: [PartitionID: RaftGroup]) -> [RaftGroup] {
        let raftID = ids.raftID(of: node)
        var hinted: [RaftGroup] = []
        for (partition, group) in groups {
            if group.node.role == .follower && group.node.leader == raftID {
                let successor = ReplicaReach.successor(of: replicas[Int(partition.rawValue)], replacing: node) { $0 != ownID && !transport.isUp($0) }
                group.node.leaderUnreachable(raftID, campaign: successor == ownID)
                hinted.append(group)
            } else if group.isQuiescent, replicas[Int(partition.rawValue)].contains(node) {
                // A quiet group that lost a replica ticks again: a leader cut off from its
                // quorum steps down (check-quorum), as an awake one would.
                group.node.wake()
                hinted.append(group)
            }
        }
        if !hinted.isEmpty {
            logger.info("a peer's process is gone: its partitions elect at once", metadata: ["peer": "\(node)", "partitions": "\(hinted.count)"])
        }
        return hinted
    }

    /// A quiet group's tick: it wakes when a replica it depends on is down (a follower whose
    /// leader is, which then elects; a leader with a follower down, which then checks its
    /// quorum), or when a follower has been quiet for `quietFollowerWakeTicks` (a safety net:
    /// a leader whose process answers handshakes but whose log is stuck is found by the
    /// election that follows). Proposals this node made as an earlier leader past the end of
    /// the log it now shares can never commit: they fail (stale).
    func tickQuiet(_ group: RaftGroup, partition: PartitionID, down: Set<UInt64>) -> [AppendTicket] {
        group.quietTicks += 1
        var expired: [AppendTicket] = []
        if !group.pending.isEmpty {
            let last = group.inspect { $0.lastIndex }
            for (index, waiting) in group.pending where index > last {
                group.pending[index] = nil
                expired.append(waiting.ticket)
            }
        }
        let leader = group.inspect { $0.leader }
        let isLeader = group.inspect { $0.role == .leader }
        if !down.isEmpty {
            if !isLeader, down.contains(leader) {
                let gone = ids.node(of: leader)
                let successor = ReplicaReach.successor(of: replicas[Int(partition.rawValue)], replacing: gone) { $0 != ownID && down.contains(ids.raftID(of: $0)) }
                group.node.leaderUnreachable(leader, campaign: successor == ownID)
            } else if isLeader, group.inspect({ $0.voters.contains(where: down.contains) }) {
                group.node.wake()
            }
        }
        if group.isQuiescent, !isLeader, group.quietTicks >= configuration.quietFollowerWakeTicks {
            group.node.wake()
        }
        return expired
    }
}
