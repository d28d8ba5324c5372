/// Every error `ParleyRaft` reports. `code` is stable and safe to expose.
public enum RaftError: Error, Sendable, Equatable, Hashable {
    /// Only the leader accepts this; `leaderHint` is the known leader (`0` when unknown).
    case notLeader(leaderHint: NodeID)
    /// A leadership transfer is under way; proposals are refused until it ends.
    case transferInProgress
    /// The node is not a voter of this group.
    case unknownNode(NodeID)
    /// The requested log position was compacted into a snapshot.
    case compacted
    /// The requested log position is beyond what the node has applied or holds.
    case unavailable
    /// A snapshot older than the current one was offered.
    case snapshotOutOfDate
    /// The configuration is invalid (reason given).
    case invalidConfiguration(String)
    /// The persisted state handed to a restarting node is inconsistent (reason given).
    case corruptedState(String)

    public var code: String {
        switch self {
        case .notLeader: "raft.not_leader"
        case .transferInProgress: "raft.transfer_in_progress"
        case .unknownNode: "raft.unknown_node"
        case .compacted: "raft.compacted"
        case .unavailable: "raft.unavailable"
        case .snapshotOutOfDate: "raft.snapshot_out_of_date"
        case .invalidConfiguration: "raft.invalid_configuration"
        case .corruptedState: "raft.corrupted_state"
        }
    }
}
