/// The Ready / advance cycle between the node and its shell.
extension RaftNode {
    /// Whether `ready()` has anything for the shell.
    public var hasReady: Bool {
        softState != lastSoftState || hardState != lastHardState || log.pendingSnapshot != nil
            || log.stableIndex < log.lastIndex || !outbox.isEmpty || log.hasNextCommittedEntries
            || !readStates.isEmpty
    }

    /// What the shell must persist, send and apply now (see `Ready` for the order). Taking
    /// it changes nothing; call `advance(_:)` once it was handled.
    public func ready() -> Ready {
        Ready(
            softState: softState != lastSoftState ? softState : nil,
            hardState: hardState != lastHardState ? hardState : nil,
            snapshot: log.pendingSnapshot,
            entries: log.unstableEntries,
            messages: outbox,
            committedEntries: log.nextCommittedEntries(limit: config.maxCommittedEntriesPerReady),
            readStates: readStates
        )
    }

    /// The shell persisted, sent and applied everything in `ready`.
    public mutating func advance(_ ready: Ready) {
        if let soft = ready.softState { lastSoftState = soft }
        if let hard = ready.hardState { lastHardState = hard }
        if let snap = ready.snapshot { log.snapshotApplied(snap.metadata) }
        if let last = ready.entries.last { log.stable(to: last.index, term: last.term) }
        if let last = ready.committedEntries.last { log.markApplied(last.index) }
        outbox.removeFirst(min(ready.messages.count, outbox.count))
        readStates.removeFirst(min(ready.readStates.count, readStates.count))
    }
}
