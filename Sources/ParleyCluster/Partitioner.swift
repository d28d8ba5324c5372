/// One of the cluster's fixed partitions, numbered from 0.
public struct PartitionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static func < (lhs: PartitionID, rhs: PartitionID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "p\(rawValue)" }

    /// The partition as a two-byte big-endian key prefix, so a partition's keys sort together.
    public var keyPrefix: [UInt8] { [UInt8(rawValue >> 8), UInt8(rawValue & 0xFF)] }
}

/// Maps entity keys to partitions with a hash that is the same in every process, version and
/// machine (Swift's `Hasher` is seeded per process, so it cannot be used here).
public struct Partitioner: Sendable, Equatable {
    public let partitionCount: Int

    public init(partitionCount: Int) {
        precondition((1...Int(UInt16.max)).contains(partitionCount), "partition count out of range")
        self.partitionCount = partitionCount
    }

    /// The partition that owns the entity whose key is `key` (e.g. "room/r_123").
    public func partition(for key: String) -> PartitionID {
        PartitionID(UInt16(Partitioner.stableHash(key) % UInt64(partitionCount)))
    }

    /// The partition of the entity `kind/key`: the same as `partition(for: "\(kind)/\(key)")`,
    /// without building that string (every call on an entity asks this).
    public func partition(forKind kind: String, key: String) -> PartitionID {
        var hash = Self.fnvOffset
        Self.fnv(kind.utf8, into: &hash)
        Self.fnv(CollectionOfOne(UInt8(ascii: "/")), into: &hash)
        Self.fnv(key.utf8, into: &hash)
        return PartitionID(UInt16(Self.finalised(hash) % UInt64(partitionCount)))
    }

    public var allPartitions: [PartitionID] { (0..<partitionCount).map { PartitionID(UInt16($0)) } }

    /// FNV-1a over the UTF-8 bytes, then the murmur3 finaliser so the low bits mix well.
    public static func stableHash(_ key: String) -> UInt64 {
        var hash = fnvOffset
        fnv(key.utf8, into: &hash)
        return finalised(hash)
    }

    private static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325

    private static func fnv(_ bytes: some Sequence<UInt8>, into hash: inout UInt64) {
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
    }

    private static func finalised(_ hash: UInt64) -> UInt64 {
        var hash = hash
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}
