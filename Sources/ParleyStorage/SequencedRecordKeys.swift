import CRocksDBHints

/// A key layout whose memtable inserts take RocksDB's insert hints: `fixedPrefixBytes` bytes,
/// a name without 0x00, 0x00, a record byte in `records`, then an 8-byte sequence. Keys of
/// one record prefix (e.g. one room's journal) are inserted in sequence order, so each
/// insert starts where the last one of its prefix went instead of searching the skip list.
///
/// RocksDB 7.8 shares the hints between a memtable's point keys and its range tombstones, so
/// a range tombstone starting at a key of the layout would corrupt the memtable.
/// `Database.write` therefore writes a range deletion from such a key as a point deletion of
/// it and a range deletion from its immediate successor (outside the layout): the same keys
/// go. Pruning that starts at the bare record prefix needs neither.
public struct SequencedRecordKeys: Sendable, Hashable {
    public var fixedPrefixBytes: Int
    public var records: [UInt8]

    public init(fixedPrefixBytes: Int, records: [UInt8]) {
        self.fixedPrefixBytes = fixedPrefixBytes
        self.records = records
    }

    /// Whether `key` has this layout (and so takes hints; no range tombstone may start there).
    public func matches(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        records.withUnsafeBufferPointer { records in
            parley_is_sequenced_record_key(fixedPrefixBytes, records.baseAddress, records.count, key.baseAddress, key.count) != 0
        }
    }

    /// Registers the layout's slice transform with RocksDB; returns the name an options string
    /// gives it by.
    func registeredTransformName() throws(StorageError) -> String {
        var name = [CChar](repeating: 0, count: 128 + 2 * records.count)
        let capacity = name.count
        let length = records.withUnsafeBufferPointer { records in
            parley_register_sequenced_record_prefix(fixedPrefixBytes, records.baseAddress, records.count, &name, capacity)
        }
        guard length > 0 else { throw StorageError(code: .invalidArgument, message: "no name for the insert hint transform") }
        return String(decoding: name[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
