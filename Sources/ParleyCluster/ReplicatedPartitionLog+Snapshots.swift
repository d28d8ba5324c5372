import ParleyRaft
import ParleyStorage

/// Log compaction and snapshots. A partition's snapshot is its state in the state family, so
/// compacting writes only a record (index, term, voters) and deletes log entries; a follower
/// that needs compacted entries is sent the partition's state as applied at that moment.
extension ReplicatedPartitionLog {
    /// Starts compacting every group whose log holds more than twice `retainedEntries`: a
    /// restart replays entries after the applied index flushed with the state, so those must
    /// stay. The applied indexes are written now, and the state flush runs off the driver
    /// thread (`compactionFlushLoop`), which goes on driving meanwhile: a flush takes as long as
    /// writing a memtable to disk. Once it is done, `compact` cuts each log to its last
    /// `retainedEntries` entries as applied when the flush was asked for. One at a time.
    func compactIfDue(_ groups: [PartitionID: RaftGroup]) {
        let retained = configuration.retainedEntries
        var points: [PartitionID: UInt64] = [:]
        for (partition, group) in groups {
            let (applied, first) = group.inspect { ($0.appliedIndex, $0.firstIndex) }
            if applied > retained, applied - retained >= first + retained { points[partition] = applied - retained }
        }
        guard !points.isEmpty else { return }
        do throws(StorageError) {
            try writeAppliedIndexes(groups)
        } catch {
            logger.warning("applied indexes for log compaction could not be written; will retry", metadata: ["error": "\(error)"])
            return
        }
        _ = compactionFlushes.request(points)
    }

    /// Runs the state flushes compaction asks for, on the database's storage threads, and
    /// hands each outcome to the driver; until the log closes.
    func compactionFlushLoop() async {
        for await _ in compactionFlushes.signals {
            guard let points = compactionFlushes.take() else { continue }
            let database = database
            let family = families.state
            var flushed = points
            do {
                try await database.executor.run { () throws(StorageError) in try database.flush(family) }
            } catch {
                logger.warning("state flush for log compaction failed; will retry", metadata: ["error": "\(error)"])
                flushed = [:]
            }
            toDriver { $0.flushedForCompaction.merge(flushed) { max($0, $1) } }
            compactionFlushes.ended()
        }
        // Ended early (the task was cancelled): nothing more is asked of a loop that is gone.
        compactionFlushes.close()
    }

    /// Cuts each partition's log at its point in `points`, now that the state as applied up to
    /// there is flushed: the snapshot record (index, term, voters) and the deletion of the
    /// entries up to it in one atomic write. A log already cut past its point (a snapshot was
    /// installed meanwhile) is left as it is.
    func compact(_ points: [PartitionID: UInt64], _ groups: [PartitionID: RaftGroup]) {
        var writes = WriteBatch()
        for (partition, index) in points {
            guard let group = groups[partition] else { continue }
            let first = group.inspect { $0.firstIndex }
            guard index >= first else { continue }
            do throws(RaftError) {
                // In place: a copy of the group would copy its whole log.
                let snapshot = try group.node.createSnapshot(at: index, data: [])
                writes.put(ReplicaLayout.snapshotKey(partition), ReplicaLayout.encodeSnapshotMetadata(snapshot.metadata), in: raftFamily)
                writes.deleteRange(from: ReplicaLayout.entryKey(partition, first), to: ReplicaLayout.entryKey(partition, index + 1), in: raftFamily)
            } catch {
                logger.warning("compaction refused", metadata: ["partition": "\(partition)", "error": "\(error.code)"])
            }
        }
        guard !writes.isEmpty else { return }
        do throws(StorageError) {
            // The record and the deletion are one atomic write: either both happened or neither.
            try database.write(writes, durability: .buffered)
        } catch {
            logger.warning("log compaction write failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Writes every group's applied index beside its state (unlogged: durable with the state's
    /// next flush, which persists both together).
    private func writeAppliedIndexes(_ groups: [PartitionID: RaftGroup]) throws(StorageError) {
        var writes = StateWrites(family: families.state)
        for (partition, group) in groups {
            let applied = group.inspect { $0.appliedIndex }
            guard group.appliedWritten < applied else { continue }
            writes.put(LogLayout.appliedKey(partition), LogLayout.encodeIndex(applied))
        }
        if !writes.batch.isEmpty { try database.write(writes.batch, durability: .unlogged) }
        for group in groups.values { group.appliedWritten = group.inspect { $0.appliedIndex } }
    }

    /// Writes every group's applied index beside its state and flushes the state family, so
    /// all applied state is durable and a restart replays nothing before it (at shutdown).
    func flushState(_ groups: [PartitionID: RaftGroup]) throws(StorageError) {
        try writeAppliedIndexes(groups)
        try database.flush(families.state)
    }

    /// Follower: adds to `writes` (the round's fsync'd batch) what installing `snapshot`
    /// takes: the partition's state replaced by the snapshot's, its log emptied, the snapshot
    /// record and applied index written. False when the data is unreadable (nothing added).
    func install(_ snapshot: ParleyRaft.Snapshot, of partition: PartitionID, group: RaftGroup, into writes: inout WriteBatch) -> Bool {
        guard let pairs = ReplicaLayout.decodeState(snapshot.data),
            pairs.allSatisfy({ $0.key.starts(with: partition.keyPrefix) }),
            let upper = KeyRange.successor(ofPrefix: partition.keyPrefix)
        else {
            logger.error("an unreadable snapshot was not installed", metadata: ["partition": "\(partition)"])
            return false
        }
        writes.deleteRange(from: partition.keyPrefix, to: upper, in: families.state)
        for (key, value) in pairs { writes.put(key, value, in: families.state) }
        writes.put(LogLayout.appliedKey(partition), LogLayout.encodeIndex(snapshot.metadata.index), in: families.state)
        let entries = ReplicaLayout.entriesRange(partition)
        writes.deleteRange(from: entries.lower, to: entries.upper ?? ReplicaLayout.entryKey(partition, UInt64.max), in: raftFamily)
        writes.put(ReplicaLayout.snapshotKey(partition), ReplicaLayout.encodeSnapshotMetadata(snapshot.metadata), in: raftFamily)
        group.appliedWritten = snapshot.metadata.index
        group.persistedLastIndex = snapshot.metadata.index
        return true
    }
}
