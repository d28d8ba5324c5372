/// How the leader currently replicates to one follower.
public enum ProgressState: String, Sendable, Equatable, Hashable {
    /// One append at a time until the follower's match is known.
    case probe
    /// Optimistic streaming, bounded by `Inflights`.
    case replicate
    /// A snapshot is on its way; nothing else is sent.
    case snapshot
}

/// The leader's view of one follower.
struct Progress: Sendable, Equatable {
    var match: UInt64 = 0
    var next: UInt64
    var state: ProgressState = .probe
    /// In probe state: an append was sent and not yet answered.
    var probeSent = false
    /// In snapshot state: the index of the snapshot sent.
    var pendingSnapshot: UInt64 = 0
    /// Ticks spent in snapshot state (a lost snapshot is retried after an election timeout).
    var snapshotTicks = 0
    /// Heard from since the last check-quorum round.
    var recentActive = false
    /// `match` moved since the last heartbeat response (a full window that does not move
    /// between two heartbeat responses means appends were lost).
    var progressedSinceHeartbeat = false
    var inflights: Inflights

    init(next: UInt64, maxInflight: Int) {
        self.next = next
        self.inflights = Inflights(capacity: maxInflight)
    }

    var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            next = max(match + 1, pendingSnapshot + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        pendingSnapshot = 0
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        pendingSnapshot = 0
        inflights.reset()
    }

    mutating func becomeSnapshot(_ index: UInt64) {
        state = .snapshot
        pendingSnapshot = index
        snapshotTicks = 0
        probeSent = false
        inflights.reset()
    }

    /// The follower acknowledged `index`; returns whether `match` moved.
    mutating func maybeUpdate(_ index: UInt64) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
            progressedSinceHeartbeat = true
        }
        next = max(next, index + 1)
        return updated
    }

    /// The follower rejected an append after `rejected`; `matchHint` is the probe index the
    /// rejection suggests. Returns false when the rejection is stale.
    mutating func maybeDecrease(rejected: UInt64, matchHint: UInt64) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }

    /// Records that an append carrying `count` entries up to `lastIndex` was sent.
    mutating func sentEntries(count: Int, lastIndex: UInt64) {
        switch state {
        case .replicate:
            if count > 0 {
                next = lastIndex + 1
                inflights.add(lastIndex)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            break
        }
    }
}
