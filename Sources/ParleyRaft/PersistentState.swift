/// What the shell persisted for a node, handed back to restart it after a crash.
public struct PersistentState: Sendable, Equatable {
    public var hardState: HardState
    /// The latest persisted snapshot, if any (its voters become the group's voters).
    public var snapshot: Snapshot?
    /// Persisted entries after the snapshot, contiguous.
    public var entries: [Entry]
    /// The last index the state machine applied and kept (nil: the snapshot index; entries
    /// after it are handed out again as committed entries).
    public var applied: UInt64?

    public init(hardState: HardState, snapshot: Snapshot? = nil, entries: [Entry] = [], applied: UInt64? = nil) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
        self.applied = applied
    }
}
