/// A Raft node identifier. `0` is never a valid node id.
public typealias NodeID = UInt64

/// One entry of the replicated log: its position, the term of the leader that created it,
/// and opaque application data (empty for the no-op entry a new leader appends).
public struct Entry: Sendable, Equatable, Hashable {
    public var term: UInt64
    public var index: UInt64
    public var data: [UInt8]

    public init(term: UInt64, index: UInt64, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.data = data
    }
}
