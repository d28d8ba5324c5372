/// Operations that a `Database.write` applies atomically: all or none survive a crash.
public struct WriteBatch: Sendable {
    /// One operation of a batch.
    public enum Operation: Sendable, Equatable {
        case put(ColumnFamily, key: [UInt8], value: [UInt8])
        case delete(ColumnFamily, key: [UInt8])
        /// Deletes every key in `[from, to)`.
        case deleteRange(ColumnFamily, from: [UInt8], to: [UInt8])
    }

    public private(set) var operations: [Operation] = []

    public init() {}

    public var isEmpty: Bool { operations.isEmpty }
    public var count: Int { operations.count }

    public mutating func put(_ key: [UInt8], _ value: [UInt8], in family: ColumnFamily) {
        operations.append(.put(family, key: key, value: value))
    }

    public mutating func delete(_ key: [UInt8], in family: ColumnFamily) {
        operations.append(.delete(family, key: key))
    }

    public mutating func deleteRange(from: [UInt8], to: [UInt8], in family: ColumnFamily) {
        operations.append(.deleteRange(family, from: from, to: to))
    }

    public mutating func append(contentsOf other: WriteBatch) {
        operations.append(contentsOf: other.operations)
    }

    public mutating func reserveCapacity(_ n: Int) {
        operations.reserveCapacity(n)
    }
}
