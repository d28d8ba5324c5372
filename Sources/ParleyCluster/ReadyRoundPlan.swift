import ParleyRaft

/// What one round of Readies writes to the Raft family, how durably, and which messages go
/// out before that write: decided from the Readies and from what each group has on disk, with
/// no I/O (the driver carries the plan out: it installs snapshots, writes, fsyncs, sends).
///
/// The rules, from `Ready`'s contract:
/// - New entries, a snapshot, or a changed term or vote need the fsync; a commit index alone
///   is written without one (a restart learns it again from the leader, never below what it
///   applied). Nothing to write: no write at all.
/// - Entries overwrite the persisted tail from their first index: a longer persisted tail is
///   deleted after the last new entry.
/// - A leader's messages (appends, heartbeats) go out before the write, so its disk and its
///   followers' work at the same time. That is safe because the driver takes the followers'
///   answers only in a later round, after this round's fsync, so a leader never counts an entry
///   it has not made durable. Everyone else's messages (votes, acknowledgements) promise what
///   is on disk and go out after it, as does a leader's that installs a snapshot.
struct ReadyRoundPlan: Equatable {
    /// One group's Ready: what it is, and what the group has on disk before the round.
    struct Input {
        var leads: Bool
        var ready: Ready
        var persistedLastIndex: UInt64
        var persistedHardState: HardState
    }

    /// One group's part of the write, in order, and what it has on disk after it.
    struct Part: Equatable {
        /// The Ready's snapshot is installed first (replacing the group's persisted entries).
        var installsSnapshot: Bool
        var entries: [Entry]
        /// Persisted entries past the last new one, deleted (they were overwritten).
        var staleTail: ClosedRange<UInt64>?
        var hardState: HardState?
        var persistedLastIndex: UInt64
        var persistedHardState: HardState
        /// The Ready's messages go out before the write rather than after it.
        var sendsBeforeWrite: Bool
    }

    enum Durability: Equatable {
        /// Written without an fsync (only commit indexes changed).
        case buffered
        case fsync
    }

    /// One part per input, in input order.
    var parts: [Part]
    /// How the round's write reaches the disk; nil when there is nothing to write.
    var durability: Durability?

    init(_ inputs: [Input]) {
        var durable = false
        var written = false
        parts = inputs.map { input in
            let ready = input.ready
            var part = Part(
                installsSnapshot: ready.snapshot != nil, entries: ready.entries, staleTail: nil, hardState: ready.hardState,
                persistedLastIndex: ready.snapshot?.metadata.index ?? input.persistedLastIndex,
                persistedHardState: input.persistedHardState, sendsBeforeWrite: input.leads && ready.snapshot == nil)
            if ready.snapshot != nil { durable = true }
            if let last = ready.entries.last {
                if part.persistedLastIndex > last.index { part.staleTail = (last.index + 1)...part.persistedLastIndex }
                part.persistedLastIndex = last.index
                durable = true
            }
            if let hardState = ready.hardState {
                if hardState.term != input.persistedHardState.term || hardState.vote != input.persistedHardState.vote { durable = true }
                part.persistedHardState = hardState
                written = true
            }
            return part
        }
        durability = durable ? .fsync : written ? .buffered : nil
    }
}
