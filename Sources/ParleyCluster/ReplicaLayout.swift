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

    static func encodeEntry(_ entry: Entry) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entry.data.count + 4)
        var term = entry.term
        while term >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: term) | 0x80)
            term >>= 7
        }
        bytes.append(UInt8(term))
        bytes.append(contentsOf: entry.data)
        return bytes
    }

    static func decodeEntry(index: UInt64, _ bytes: [UInt8]) -> Entry? {
        var term: UInt64 = 0
        var offset = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { return nil }
            let byte = bytes[offset]
            term |= UInt64(byte & 0x7F) << shift
            offset += 1
            if byte & 0x80 == 0 { break }
            shift += 7
        }
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
        let applied = try database.get(LogLayout.appliedKey(partition), in: state).flatMap(LogLayout.decodeIndex) ?? 0
        guard applied <= hardState.commit else {
            throw ClusterError(.storageFailure, "\(partition) applied \(applied) entries but its Raft state commits only \(hardState.commit)")
        }
        if let first = entries.first, first.index != 1 {
            throw ClusterError(.storageFailure, "the Raft log of \(partition) starts at \(first.index) without a snapshot")
        }
        let restored = PersistentState(hardState: hardState, snapshot: nil, entries: entries, applied: applied)
        return (restored, entries.last?.index ?? 0)
    }
}
