/// State that must be durable before the node's messages are sent: the current term, the
/// vote cast in it (`0` = none) and the commit index.
public struct HardState: Sendable, Equatable, Hashable {
    public var term: UInt64
    public var vote: NodeID
    public var commit: UInt64

    public init(term: UInt64 = 0, vote: NodeID = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}
