import ParleyStorage

extension LocalPartitionLog {
    /// Reads every partition's log cursor and applied index, checks the partition layout, and
    /// re-applies entries that were durable in the log but whose state a crash lost.
    static func recover(
        database: Database, families: LogFamilies, partitionCount: Int, stateMachine: any PartitionStateMachine
    ) throws -> [PartitionProgress] {
        try LogLayout.checkPartitionCount(partitionCount, database: database, meta: families.meta)
        // The log family's memtable is sorted on every read; reading SST files instead keeps
        // the per-partition scans below cheap.
        try database.flush(families.log)
        var progress: [PartitionProgress] = []
        for slot in 0..<partitionCount {
            let partition = PartitionID(UInt16(slot))
            var current = PartitionProgress()
            let span = KeyRange.prefix(partition.keyPrefix)
            if let first = try database.entries(span, in: families.log, limit: 1).first,
                let last = try database.last(in: span, of: families.log)
            {
                guard let firstIndex = LogLayout.index(ofEntryKey: first.key, in: partition),
                    let lastIndex = LogLayout.index(ofEntryKey: last.key, in: partition)
                else {
                    throw ClusterError(.storageFailure, "the log of \(partition) holds a key that is not an entry key")
                }
                current.log = LogCursor(firstIndex: firstIndex, lastIndex: lastIndex)
            }
            current.applied = try database.get(LogLayout.appliedKey(partition), in: families.state).flatMap(LogLayout.decodeIndex) ?? 0
            if current.log.lastIndex == 0 {
                // Never written, or every entry compacted away: the log resumes after what is applied.
                current.log = LogCursor(firstIndex: current.applied + 1, lastIndex: current.applied)
            }
            if current.applied < current.log.lastIndex {
                current.applied = try replay(partition, from: current, database: database, families: families, stateMachine: stateMachine)
            }
            current.appliedWritten = current.applied
            current.durableApplied = current.applied
            progress.append(current)
        }
        return progress
    }

    /// Applies `(applied, lastIndex]` of `partition`'s log again, in chunks, each chunk's state
    /// and applied index fsync'd together. Applying is deterministic and blind, so entries
    /// whose state did survive are rewritten with the same values.
    private static func replay(
        _ partition: PartitionID, from progress: PartitionProgress, database: Database, families: LogFamilies,
        stateMachine: any PartitionStateMachine
    ) throws -> UInt64 {
        guard progress.applied + 1 >= progress.log.firstIndex else {
            throw ClusterError(
                .storageFailure,
                "\(partition) applied up to \(progress.applied) but its log starts at \(progress.log.firstIndex): entries are missing")
        }
        var applied = progress.applied
        while applied < progress.log.lastIndex {
            let upper = min(applied + 1_024, progress.log.lastIndex)
            let range = KeyRange(lower: LogLayout.entryKey(partition, applied + 1), upper: LogLayout.entryKey(partition, upper + 1))
            var writes = StateWrites(family: families.state)
            var expected = applied + 1
            try database.scan(range, in: families.log) { key, value throws(StorageError) -> Bool in
                guard let entry = LogLayout.decodeEntry(partition: partition, index: expected, value),
                    key == LogLayout.entryKey(partition, expected)
                else {
                    throw StorageError(code: .corruption, message: "log entry \(expected) of \(partition) is missing or unreadable")
                }
                do {
                    try stateMachine.apply(entry, to: &writes)
                } catch {
                    throw StorageError(code: .corruption, message: "log entry \(expected) of \(partition) no longer applies: \(error)")
                }
                expected += 1
                return true
            }
            guard expected == upper + 1 else {
                throw ClusterError(.storageFailure, "log entries \(expected)...\(upper) of \(partition) are missing")
            }
            writes.put(LogLayout.appliedKey(partition), LogLayout.encodeIndex(upper))
            try database.write(writes.batch, sync: true)
            applied = upper
        }
        return applied
    }
}

/// The column families the log uses.
struct LogFamilies: Sendable {
    let log: ColumnFamily
    let state: ColumnFamily
    let meta: ColumnFamily

    init(_ database: Database) throws(StorageError) {
        log = try database.family(LogLayout.logFamily)
        state = try database.family(LogLayout.stateFamily)
        meta = try database.family(LogLayout.metaFamily)
    }
}
