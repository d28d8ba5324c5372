import ParleyStorage

/// How the partition log lays itself out in RocksDB. Column families: `log` holds entries by
/// (partition, index), fsync'd (a partition's first and last keys give its span, so no
/// cursor is written per commit); `meta` holds the database's partition layout; `state` holds what state machines wrote plus
/// each partition's applied index, written without the WAL (rebuilt from the log after a
/// crash), so that the index and the state it covers are always flushed together.
enum LogLayout {
    static let logFamily = "log"
    static let stateFamily = "state"
    static let metaFamily = "meta"
    static let allFamilies = [logFamily, stateFamily, metaFamily]

    private static let formatVersion: UInt8 = 1

    /// `partition(2) ++ index(8)`, both big-endian, so one partition's entries sort by index.
    static func entryKey(_ partition: PartitionID, _ index: UInt64) -> [UInt8] {
        var key = partition.keyPrefix
        key.reserveCapacity(10)
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: index >> UInt64(shift))) }
        return key
    }

    /// `version u8, generation varint, payload`.
    static func encodeEntry(_ entry: LogEntry) -> [UInt8] {
        var bytes: [UInt8] = [formatVersion]
        bytes.reserveCapacity(entry.payload.count + 4)
        appendVarint(entry.generation, to: &bytes)
        bytes.append(contentsOf: entry.payload)
        return bytes
    }

    static func decodeEntry(partition: PartitionID, index: UInt64, _ bytes: [UInt8]) -> LogEntry? {
        guard bytes.first == formatVersion else { return nil }
        var offset = 1
        guard let generation = readVarint(bytes, at: &offset) else { return nil }
        return LogEntry(partition: partition, index: index, generation: generation, payload: Array(bytes[offset...]))
    }

    /// Appends `value` as a LEB128 varint.
    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Reads a LEB128 varint at `offset` and moves past it; nil when truncated or too long.
    static func readVarint(_ bytes: [UInt8], at offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    /// The index an entry key names, if `key` is one of `partition`'s entry keys.
    static func index(ofEntryKey key: [UInt8], in partition: PartitionID) -> UInt64? {
        guard key.count == 10, Array(key[0..<2]) == partition.keyPrefix else { return nil }
        return key[2...].reduce(0) { $0 << 8 | UInt64($1) }
    }

    static let layoutKey = Array("layout/partitions".utf8)

    /// Records the partition count in a new database; refuses a database laid out for another.
    static func checkPartitionCount(_ partitionCount: Int, database: Database, meta: ColumnFamily) throws {
        if let layout = try database.get(layoutKey, in: meta) {
            let stored = layout.reduce(0) { $0 << 8 | Int($1) }
            guard stored == partitionCount else {
                throw ClusterError(
                    .layoutMismatch,
                    "the data directory was created with \(stored) partitions but the configuration says \(partitionCount)")
            }
        } else {
            let bytes = [UInt8(partitionCount >> 8 & 0xFF), UInt8(partitionCount & 0xFF)]
            try database.put(layoutKey, bytes, in: meta, sync: true)
        }
    }

    /// `partition(2) ++ 0x00 ++ "applied"`: entity kinds start at 1, so no entity key collides.
    static func appliedKey(_ partition: PartitionID) -> [UInt8] { partition.keyPrefix + [0] + Array("applied".utf8) }

    static func encodeIndex(_ index: UInt64) -> [UInt8] {
        stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: index >> UInt64($0)) }
    }

    static func decodeIndex(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// The retained span of one partition's log: entries `firstIndex...lastIndex` are on disk
/// (none when `lastIndex < firstIndex`).
struct LogCursor: Equatable, Sendable {
    var firstIndex: UInt64 = 1
    var lastIndex: UInt64 = 0
}

/// What the committer knows of one partition.
struct PartitionProgress: Equatable, Sendable {
    var log = LogCursor()
    /// The last entry applied to the state column family.
    var applied: UInt64 = 0
    /// The applied index last written to the state column family. It may lag `applied`:
    /// replaying from it is safe because applying is deterministic and blind.
    var appliedWritten: UInt64 = 0
    /// The written applied index as of the last state flush: a restart replays from after it,
    /// so log entries up to here may be compacted away.
    var durableApplied: UInt64 = 0
}
