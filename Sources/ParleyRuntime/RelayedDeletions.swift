import ParleyCluster

/// Relayed records waiting to be deleted through their partitions' logs, so that one log
/// entry deletes what many relay passes delivered. Until then the relay's cursors
/// (`OutboxCursors`) pass them, and a scan that meets them again (behind a record that failed)
/// skips them; a new leader finds them and delivers them again, which their targets apply
/// once (as after any failover). Under the enquiry benchmark, deleting after every pass was 7
/// of an enquiry's 23 log entries.
struct RelayedDeletions {
    private struct Pending {
        let generation: UInt64
        var keys: Set<[UInt8]>
        let since: ContinuousClock.Instant
    }

    private var pending: [PartitionID: Pending] = [:]

    /// Whether any record waits.
    var isEmpty: Bool { pending.isEmpty }

    /// Whether `key` of `partition` waits for its deletion (a scan that meets it again, behind
    /// a record that failed, leaves it: it was delivered).
    func isWaiting(_ key: [UInt8], of partition: PartitionID) -> Bool { pending[partition]?.keys.contains(key) == true }

    /// Adds `keys` of `partition`, delivered while serving it under `generation`. Keys
    /// waiting under another generation are dropped: that generation's cursor is gone, so its
    /// records are scanned, delivered and added again.
    mutating func add(_ keys: [[UInt8]], of partition: PartitionID, generation: UInt64, now: ContinuousClock.Instant) {
        guard !keys.isEmpty else { return }
        if let waiting = pending[partition], waiting.generation == generation {
            pending[partition]?.keys.formUnion(keys)
        } else {
            pending[partition] = Pending(generation: generation, keys: Set(keys), since: now)
        }
    }

    /// Takes the partitions whose oldest key has waited `maxAge`, or that hold `maxKeys` or
    /// more (every partition with `all`), with the generation their keys were delivered under.
    mutating func takeDue(now: ContinuousClock.Instant, maxAge: Duration, maxKeys: Int, all: Bool = false)
        -> [(partition: PartitionID, generation: UInt64, keys: [[UInt8]])]
    {
        let due = pending.filter { all || now - $0.value.since >= maxAge || $0.value.keys.count >= maxKeys }
        for partition in due.keys { pending[partition] = nil }
        return due.map { ($0.key, $0.value.generation, $0.value.keys.sorted { $0.lexicographicallyPrecedes($1) }) }.sorted { $0.partition < $1.partition }
    }
}
