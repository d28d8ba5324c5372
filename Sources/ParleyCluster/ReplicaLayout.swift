import ParleyRaft
import ParleyStorage

/// How a node keeps its partition replicas' Raft state in RocksDB's `raft` column family:
/// - `partition(2) ++ 0x01 ++ index(8, big-endian)` → `term varint ++ data`: the log;
/// - `partition(2) ++ 0x00 ++ "hard"` → term, vote and commit (three 8-byte big-endian);
/// - the applied index stays where the single-node log keeps it, beside the state it covers
///   in the `state` family (`LogLayout.appliedKey`), so the two are always flushed together.
/// Entries and hard state are written in the driver's one fsync'd batch per round.
enum ReplicaLayout {
    static let family = "raft"

    static func entryKey(_ partition: PartitionID, _ index: UInt64) -> [UInt8] {
        var key = partition.keyPrefix
        key.reserveCapacity(11)
        key.append(1)
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: index >> UInt64(shift))) }
        return key
    }

    static func entriesRange(_ partition: PartitionID) -> KeyRange { KeyRange.prefix(partition.keyPrefix + [1]) }

    static func hardStateKey(_ partition: PartitionID) -> [UInt8] { partition.keyPrefix + [0] + Array("hard".utf8) }

    /// `partition(2) ++ 0x00 ++ "snap"` → the latest snapshot's index, term and voters. The
    /// snapshot's data is the partition's state itself, in the state family.
    static func snapshotKey(_ partition: PartitionID) -> [UInt8] { partition.keyPrefix + [0] + Array("snap".utf8) }

    static func encodeSnapshotMetadata(_ metadata: SnapshotMetadata) -> [UInt8] {
        ([metadata.index, metadata.term, UInt64(metadata.voters.count)] + metadata.voters).flatMap(LogLayout.encodeIndex)
    }

    static func decodeSnapshotMetadata(_ bytes: [UInt8]) -> SnapshotMetadata? {
        guard bytes.count >= 24, bytes.count % 8 == 0 else { return nil }
        let words = stride(from: 0, to: bytes.count, by: 8).compactMap { LogLayout.decodeIndex(Array(bytes[$0..<$0 + 8])) }
        guard words.count == 3 + Int(words[2]) else { return nil }
        return SnapshotMetadata(index: words[0], term: words[1], voters: Array(words[3...]))
    }

    /// A partition's state as snapshot data: `count varint, (key bytes, value bytes)…`, each
    /// with a varint length.
    static func encodeState(_ pairs: [(key: [UInt8], value: [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = []
        LogLayout.appendVarint(UInt64(pairs.count), to: &bytes)
        for (key, value) in pairs {
            LogLayout.appendVarint(UInt64(key.count), to: &bytes)
            bytes += key
            LogLayout.appendVarint(UInt64(value.count), to: &bytes)
            bytes += value
        }
        return bytes
    }

    static func decodeState(_ bytes: [UInt8]) -> [(key: [UInt8], value: [UInt8])]? {
        var offset = 0
        func chunk() -> [UInt8]? {
            guard let length = LogLayout.readVarint(bytes, at: &offset), length <= UInt64(bytes.count - offset) else { return nil }
            defer { offset += Int(length) }
            return Array(bytes[offset..<offset + Int(length)])
        }
        guard let count = LogLayout.readVarint(bytes, at: &offset), count <= UInt64(bytes.count) else { return nil }
        var pairs: [(key: [UInt8], value: [UInt8])] = []
        for _ in 0..<count {
            guard let key = chunk(), let value = chunk() else { return nil }
            pairs.append((key, value))
        }
        return offset == bytes.count ? pairs : nil
    }

    static func encodeEntry(_ entry: Entry) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entry.data.count + 4)
        LogLayout.appendVarint(entry.term, to: &bytes)
        bytes.append(contentsOf: entry.data)
        return bytes
    }

    static func decodeEntry(index: UInt64, _ bytes: [UInt8]) -> Entry? {
        var offset = 0
        guard let term = LogLayout.readVarint(bytes, at: &offset) else { return nil }
        return Entry(term: term, index: index, data: Array(bytes[offset...]))
    }

    static func encodeHardState(_ state: HardState) -> [UInt8] {
        LogLayout.encodeIndex(state.term) + LogLayout.encodeIndex(state.vote) + LogLayout.encodeIndex(state.commit)
    }

    static func decodeHardState(_ bytes: [UInt8]) -> HardState? {
        guard bytes.count == 24, let term = LogLayout.decodeIndex(Array(bytes[0..<8])),
            let vote = LogLayout.decodeIndex(Array(bytes[8..<16])), let commit = LogLayout.decodeIndex(Array(bytes[16..<24]))
        else { return nil }
        return HardState(term: term, vote: vote, commit: commit)
    }

    /// What `partition`'s replica persisted: hard state, log and applied index, for
    /// `RaftNode(config:restoring:)`. The log must be contiguous.
    static func load(_ partition: PartitionID, database: Database, raft: ColumnFamily, state: ColumnFamily) throws -> (PersistentState, lastIndex: UInt64) {
        let hardState = try database.get(hardStateKey(partition), in: raft).map { bytes in
            guard let decoded = decodeHardState(bytes) else {
                throw ClusterError(.storageFailure, "the Raft hard state of \(partition) is unreadable")
            }
            return decoded
        } ?? HardState()
        var entries: [Entry] = []
        var expected: UInt64? = nil
        try database.scan(entriesRange(partition), in: raft) { key, value throws(StorageError) -> Bool in
            let index = key.count == 11 ? key[3...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } : 0
            guard index > 0, expected == nil || index == expected, let entry = decodeEntry(index: index, value) else {
                throw StorageError(code: .corruption, message: "Raft log entry \(index) of \(partition) is out of place or unreadable")
            }
            entries.append(entry)
            expected = index + 1
            return true
        }
        let snapshot = try database.get(snapshotKey(partition), in: raft).map { bytes in
            guard let metadata = decodeSnapshotMetadata(bytes) else {
                throw ClusterError(.storageFailure, "the Raft snapshot record of \(partition) is unreadable")
            }
            return ParleyRaft.Snapshot(metadata: metadata, data: [])
        }
        let snapshotIndex = snapshot?.metadata.index ?? 0
        // Entries the snapshot covers may linger if a compaction's delete did not land.
        entries.removeAll { $0.index <= snapshotIndex }
        let applied = max(try database.get(LogLayout.appliedKey(partition), in: state).flatMap(LogLayout.decodeIndex) ?? 0, snapshotIndex)
        let lastIndex = entries.last?.index ?? snapshotIndex
        guard applied <= lastIndex else {
            throw ClusterError(.storageFailure, "\(partition) applied \(applied) entries but its Raft log ends at \(lastIndex)")
        }
        if let first = entries.first, first.index != snapshotIndex + 1 {
            throw ClusterError(.storageFailure, "the Raft log of \(partition) starts at \(first.index), after a snapshot at \(snapshotIndex)")
        }
        var hard = hardState
        // A commit index is written without an fsync of its own, so it may lag what was
        // applied (only committed entries are ever applied).
        hard.commit = max(hard.commit, snapshotIndex, applied)
        let restored = PersistentState(hardState: hard, snapshot: snapshot, entries: entries, applied: applied)
        return (restored, entries.last?.index ?? snapshotIndex)
    }
}
