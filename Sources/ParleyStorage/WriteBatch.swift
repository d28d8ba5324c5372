/// Operations that a `Database.write` applies atomically: all or none survive a crash.
///
/// Operations are framed into one growing byte buffer (tag, family, length-prefixed key and
/// value), so building a batch of many small writes costs one allocation, not three per
/// operation, and `Database.write` hands RocksDB pointers into that buffer.
public struct WriteBatch: Sendable {
    enum Tag: UInt8 {
        case put = 1
        case delete = 2
        case deleteRange = 3
    }

    /// A point a batch can be rolled back to.
    public struct Mark: Sendable, Equatable {
        let bytes: Int
        let count: Int
    }

    private(set) var buffer: [UInt8] = []
    /// How many operations the batch holds.
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func put(_ key: [UInt8], _ value: [UInt8], in family: ColumnFamily) {
        append(.put, family, key, value)
    }

    /// Puts `value` as it lies in a larger buffer (copied into the batch, as every value is).
    public mutating func put(_ key: [UInt8], _ value: ArraySlice<UInt8>, in family: ColumnFamily) {
        append(.put, family, key, value)
    }

    public mutating func delete(_ key: [UInt8], in family: ColumnFamily) {
        append(.delete, family, key, [])
    }

    /// Deletes every key in `[from, to)`.
    public mutating func deleteRange(from: [UInt8], to: [UInt8], in family: ColumnFamily) {
        append(.deleteRange, family, from, to)
    }

    public mutating func reserveCapacity(bytes: Int) {
        buffer.reserveCapacity(bytes)
    }

    /// The current end of the batch.
    public var mark: Mark { Mark(bytes: buffer.count, count: count) }

    /// Drops every operation added after `mark`.
    public mutating func rollback(to mark: Mark) {
        buffer.removeSubrange(mark.bytes...)
        count = mark.count
    }

    private mutating func append(_ tag: Tag, _ family: ColumnFamily, _ first: [UInt8], _ second: [UInt8]) {
        append(tag, family, first, second[...])
    }

    private mutating func append(_ tag: Tag, _ family: ColumnFamily, _ first: [UInt8], _ second: ArraySlice<UInt8>) {
        buffer.append(tag.rawValue)
        appendUInt32(UInt32(family.index))
        appendUInt32(UInt32(first.count))
        buffer.append(contentsOf: first)
        appendUInt32(UInt32(second.count))
        buffer.append(contentsOf: second)
        count += 1
    }

    private mutating func appendUInt32(_ value: UInt32) {
        buffer.append(UInt8(truncatingIfNeeded: value))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    /// Calls `body` with each operation's tag, family index and the two byte ranges (key and
    /// value, or range start and end), pointing into the batch's buffer.
    func forEachOperation(_ body: (Tag, Int, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        buffer.withUnsafeBufferPointer { bytes in
            func readUInt32(_ offset: Int) -> Int {
                Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            }
            var offset = 0
            while offset < bytes.count {
                let tag = Tag(rawValue: bytes[offset])!
                let family = readUInt32(offset + 1)
                let firstLength = readUInt32(offset + 5)
                let first = UnsafeBufferPointer(rebasing: bytes[(offset + 9)..<(offset + 9 + firstLength)])
                offset += 9 + firstLength
                let secondLength = readUInt32(offset)
                let second = UnsafeBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 4 + secondLength)])
                offset += 4 + secondLength
                body(tag, family, first, second)
            }
        }
    }
}
