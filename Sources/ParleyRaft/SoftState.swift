/// The role a node plays in its group.
public enum Role: String, Sendable, Equatable, Hashable {
    case follower, preCandidate, candidate, leader
}

/// Volatile state useful to the shell (routing, logging); never persisted.
public struct SoftState: Sendable, Equatable, Hashable {
    public var role: Role
    /// The known leader, `0` when none.
    public var leader: NodeID

    public init(role: Role, leader: NodeID) {
        self.role = role
        self.leader = leader
    }
}
