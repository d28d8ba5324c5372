import ParleyRaft
import ParleyStorage

/// Log compaction and snapshots. A partition's snapshot is its state in the state family, so
/// compacting writes only a record (index, term, voters) and deletes log entries; a follower
/// that needs compacted entries is sent the partition's state as applied at that moment.
extension ReplicatedPartitionLog {
    /// Compacts every group whose log holds more than twice `retainedEntries`: the state is
    /// flushed first (a restart replays entries after the flushed applied index, so those
    /// must stay), then each such log is cut to its last `retainedEntries` applied entries.
    func compactIfDue(_ groups: [PartitionID: RaftGroup]) {
        let retained = configuration.retainedEntries
        let due = groups.keys.filter { partition in
            let node = groups[partition]!.node
            return node.appliedIndex > retained && node.appliedIndex - retained >= node.firstIndex + retained
        }
        guard !due.isEmpty else { return }
        do throws(StorageError) {
            try flushState(groups)
        } catch {
            logger.warning("state flush for log compaction failed; will retry", metadata: ["error": "\(error)"])
            return
        }
        var writes = WriteBatch()
        for partition in due {
            let first = groups[partition]!.node.firstIndex
            let index = groups[partition]!.node.appliedIndex - retained
            do throws(RaftError) {
                // In place: a copy of the group would copy its whole log.
                let snapshot = try groups[partition]!.node.createSnapshot(at: index, data: [])
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

    /// Writes every group's applied index beside its state and flushes the state family, so
    /// all applied state is durable and a restart replays nothing before it.
    func flushState(_ groups: [PartitionID: RaftGroup]) throws(StorageError) {
        var writes = StateWrites(family: families.state)
        for (partition, group) in groups where group.appliedWritten < group.node.appliedIndex {
            writes.put(LogLayout.appliedKey(partition), LogLayout.encodeIndex(group.node.appliedIndex))
        }
        if !writes.batch.isEmpty { try database.write(writes.batch, durability: .unlogged) }
        try database.flush(families.state)
        for partition in groups.keys { groups[partition]!.appliedWritten = groups[partition]!.node.appliedIndex }
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
