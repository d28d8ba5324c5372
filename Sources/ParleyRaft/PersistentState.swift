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

    /// Records what `ready` asks to persist, as a shell's disk would: a snapshot replaces the
    /// log, new entries replace any persisted tail from their first index, and the hard state.
    public mutating func persist(_ ready: Ready) {
        if let snapshot = ready.snapshot {
            self.snapshot = snapshot
            entries = []
        }
        if let first = ready.entries.first {
            entries.removeAll { $0.index >= first.index }
            entries.append(contentsOf: ready.entries)
        }
        if let hardState = ready.hardState { self.hardState = hardState }
    }
}
