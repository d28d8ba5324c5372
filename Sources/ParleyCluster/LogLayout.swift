import ParleyStorage

/// How the partition log lays itself out in RocksDB. Column families: `log` holds entries by
/// (partition, index); `state` holds what state machines wrote; `meta` holds each
/// partition's log cursor and the database's partition layout.
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

    static func encodeEntry(_ entry: LogEntry) -> [UInt8] {
        var bytes: [UInt8] = [formatVersion]
        bytes.reserveCapacity(entry.payload.count + 9)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: entry.generation >> UInt64(shift))) }
        bytes.append(contentsOf: entry.payload)
        return bytes
    }

    static func decodeEntry(partition: PartitionID, index: UInt64, _ bytes: [UInt8]) -> LogEntry? {
        guard bytes.count >= 9, bytes[0] == formatVersion else { return nil }
        let generation = bytes[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return LogEntry(partition: partition, index: index, generation: generation, payload: Array(bytes[9...]))
    }

    static func cursorKey(_ partition: PartitionID) -> [UInt8] { Array("cursor/".utf8) + partition.keyPrefix }

    static let layoutKey = Array("layout/partitions".utf8)

    static func encodeCursor(_ cursor: LogCursor) -> [UInt8] {
        var bytes: [UInt8] = [formatVersion]
        for value in [cursor.firstIndex, cursor.lastIndex] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return bytes
    }

    static func decodeCursor(_ bytes: [UInt8]) -> LogCursor? {
        guard bytes.count == 17, bytes[0] == formatVersion else { return nil }
        let first = bytes[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let last = bytes[9..<17].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return LogCursor(firstIndex: first, lastIndex: last)
    }
}

/// The retained span of one partition's log: entries `firstIndex...lastIndex` are on disk
/// (none when `lastIndex < firstIndex`); `lastIndex` is also the last applied index.
struct LogCursor: Equatable, Sendable {
    var firstIndex: UInt64 = 1
    var lastIndex: UInt64 = 0
}
