import Testing

@testable import ParleyCluster

@Suite("Partitioner")
struct PartitionerTests {
    @Test func hashIsPinnedAcrossVersionsAndProcesses() {
        // These values are part of the on-disk format: changing the hash moves every entity.
        let partitioner = Partitioner(partitionCount: 64)
        let first = ["room/a", "room/b", "staff/admin"].map { partitioner.partition(for: $0) }
        let second = ["room/a", "room/b", "staff/admin"].map { partitioner.partition(for: $0) }
        #expect(first == second)
        #expect(PinnedHashes.values.allSatisfy { Partitioner.stableHash($0.key) == $0.value })
    }

    @Test func entitiesSpreadEvenlyOverPartitions() {
        let partitioner = Partitioner(partitionCount: 64)
        var counts = [Int](repeating: 0, count: 64)
        for i in 0..<64_000 { counts[Int(partitioner.partition(for: "room/r_\(i)").rawValue)] += 1 }
        let expected = 1_000.0
        for count in counts {
            #expect(abs(Double(count) - expected) < expected * 0.15, "partition holds \(count) of 64000")
        }
    }

    @Test func partitionKeyPrefixSortsByPartition() {
        #expect(PartitionID(1).keyPrefix == [0, 1])
        #expect(PartitionID(258).keyPrefix == [1, 2])
        #expect(Partitioner(partitionCount: 3).allPartitions == [PartitionID(0), PartitionID(1), PartitionID(2)])
    }
}

/// Hashes computed by an independent implementation (FNV-1a 64 + murmur3 fmix64) when the
/// format was fixed; the test above fails if the Swift function drifts.
enum PinnedHashes {
    static let values: [String: UInt64] = [
        "room/a": 0x1b14e3c2c1bdec52,
        "room/r_123": 0xff83364781ce1bb5,
        "staff/admin": 0xd45027b8813dc5af,
        "": 0xefd01f60ba992926,
    ]
}
