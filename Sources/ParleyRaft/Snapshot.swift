/// What a snapshot covers: the last log position it includes and the voter set at that point.
public struct SnapshotMetadata: Sendable, Equatable, Hashable {
    /// Index of the last entry folded into the snapshot.
    public var index: UInt64
    /// Term of that entry.
    public var term: UInt64
    /// The voters of the group as of `index` (membership travels with the snapshot).
    public var voters: [NodeID]

    public init(index: UInt64, term: UInt64, voters: [NodeID]) {
        self.index = index
        self.term = term
        self.voters = voters
    }
}

/// A point-in-time image of the application state plus its metadata. `data` is opaque to Raft.
public struct Snapshot: Sendable, Equatable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}
