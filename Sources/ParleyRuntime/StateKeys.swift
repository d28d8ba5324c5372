import ParleyCluster
import ParleyDomain
import ParleyStorage

/// Keys of the partition state column family: `partition(2) ++ kind(1) ++ key ++ 0x00 ++
/// record`, so one partition's state is one contiguous range (for snapshots and transfer) and
/// one entity's records sort together.
enum StateKeys {
    static func entityPrefix(_ partition: PartitionID, _ entity: EntityID) -> [UInt8] {
        var key = partition.keyPrefix
        key.append(entity.kind.rawValue)
        key.append(contentsOf: entity.key.utf8)
        key.append(0)
        return key
    }

    /// The keys whose memtable inserts take RocksDB's insert hints: a room's journal and
    /// messages and a staff member's mentions, each written in sequence order. Their range
    /// deletions (pruning) start at the bare record prefix, as hinted families require.
    static let insertHints = SequencedRecordKeys(
        fixedPrefixBytes: 3, records: [RoomStore.Record.journal.rawValue, RoomStore.Record.message.rawValue, StaffStore.mention])

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func readBigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension Partitioner {
    /// The partition of `entity` (its address `kind/key` hashed without building it).
    func partition(of entity: EntityID) -> PartitionID { partition(forKind: entity.kind.name, key: entity.key) }
}
