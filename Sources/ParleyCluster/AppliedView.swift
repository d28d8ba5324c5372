import Crypto
import ParleyStorage

/// A consistent view of a node's applied state: a held snapshot of the database and, for each
/// partition asked about, the index of the last log entry that snapshot's state reflects.
/// Taken by the thread that applies entries, between two of its writes, so state and index
/// agree. The holder releases the snapshot.
public struct AppliedView: Sendable {
    public let snapshot: HeldSnapshot
    public let appliedIndexes: [PartitionID: UInt64]
}

/// A request for an `AppliedView`, waiting for the applying thread.
struct AppliedViewRequest: Sendable {
    let partitions: [PartitionID]
    let reply: @Sendable (Result<AppliedView, ClusterError>) -> Void

    /// Takes the view now (on the applying thread, between writes).
    func serve(database: Database, applied: (PartitionID) -> UInt64?) {
        do {
            let snapshot = try database.holdSnapshot()
            var indexes: [PartitionID: UInt64] = [:]
            for partition in partitions { indexes[partition] = applied(partition) }
            reply(.success(AppliedView(snapshot: snapshot, appliedIndexes: indexes)))
        } catch {
            reply(.failure(ClusterError(.storageFailure, error.description)))
        }
    }
}

/// What one replica's applied state of a partition is: the index it reflects, how many
/// records it holds and their SHA-256 digest. Replicas at the same index must agree.
public struct PartitionDigest: Sendable, Equatable {
    public let partition: PartitionID
    public let appliedIndex: UInt64
    public let records: Int
    /// Lowercase hex of SHA-256 over every record (key length, key, value length, value) in
    /// key order, the node's own applied-index record left out (each replica writes it at
    /// its own times).
    public let digest: String
}

extension AppliedView {
    /// The digest of each partition of the view, read from its snapshot.
    public func digests(database: Database, state: ColumnFamily) throws(StorageError) -> [PartitionDigest] {
        try appliedIndexes.keys.sorted().map { partition throws(StorageError) -> PartitionDigest in
            var hash = SHA256()
            var count = 0
            try forEachRecord(of: partition, database: database, state: state) { key, value in
                count += 1
                withUnsafeBytes(of: UInt32(key.count).bigEndian) { hash.update(bufferPointer: $0) }
                hash.update(data: key)
                withUnsafeBytes(of: UInt32(value.count).bigEndian) { hash.update(bufferPointer: $0) }
                hash.update(data: value)
            }
            let digest = hash.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            return PartitionDigest(partition: partition, appliedIndex: appliedIndexes[partition] ?? 0, records: count, digest: digest)
        }
    }

    /// Each record of `partition` as (key, SHA-256 of its value), in key order: what two
    /// replicas' differing digests are traced with.
    public func records(of partition: PartitionID, database: Database, state: ColumnFamily) throws(StorageError) -> [(key: [UInt8], valueDigest: [UInt8])] {
        var records: [(key: [UInt8], valueDigest: [UInt8])] = []
        try forEachRecord(of: partition, database: database, state: state) { key, value in
            records.append((key, Array(SHA256.hash(data: value))))
        }
        return records
    }

    private func forEachRecord(
        of partition: PartitionID, database: Database, state: ColumnFamily, _ visit: ([UInt8], [UInt8]) -> Void
    ) throws(StorageError) {
        let applied = LogLayout.appliedKey(partition)
        try database.scan(.prefix(partition.keyPrefix), in: state, snapshot: snapshot.view) { key, value in
            if key != applied { visit(key, value) }
            return true
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
