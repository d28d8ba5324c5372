/// Everything the node wants the shell to do, in order.
///
/// The contract, per `Ready`:
/// 1. If `snapshot` is set, persist it, discarding every persisted entry (later entries
///    arrive again), and restore the state machine from it.
/// 2. Persist `entries` (overwriting any persisted entry at or after the first one's index)
///    and `hardState` if set, durably (fsync), in one atomic write.
/// 3. Only then send `messages` (votes and append responses promise things about the disk).
/// 4. Apply `committedEntries` in order (they may include entries of this same Ready, hence
///    after step 2); serve `readStates` once their index is applied.
/// 5. Call `advance(_:)` with this same `Ready`.
/// Crashing anywhere before step 2 completes loses nothing that any other node was told.
/// Steps 1 and 2 may be one atomic write. Persisting several nodes' (groups') Readies in
/// one fsync before sending any of their messages is fine (group commit). Calling `step`,
/// `tick` or `propose` between `ready()` and `advance(_:)` is allowed: `advance` removes
/// only what this Ready listed.
public struct Ready: Sendable, Equatable {
    public var softState: SoftState?
    public var hardState: HardState?
    public var snapshot: Snapshot?
    public var entries: [Entry]
    public var messages: [Message]
    public var committedEntries: [Entry]
    public var readStates: [ReadState]

    public init(
        softState: SoftState? = nil, hardState: HardState? = nil, snapshot: Snapshot? = nil,
        entries: [Entry] = [], messages: [Message] = [], committedEntries: [Entry] = [],
        readStates: [ReadState] = []
    ) {
        self.softState = softState
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
        self.messages = messages
        self.committedEntries = committedEntries
        self.readStates = readStates
    }

    /// True when nothing needs doing.
    public var isEmpty: Bool {
        softState == nil && hardState == nil && snapshot == nil && entries.isEmpty && messages.isEmpty
            && committedEntries.isEmpty && readStates.isEmpty
    }
}
