import ParleyCluster
import ParleyDomain
import ParleyStorage

/// The durable outbox: cross-entity effects written in the same commit as the events that
/// cause them, under `partition(2) ++ 0x00 ++ "o" ++ log index(8) ++ ordinal(2)`, so each
/// partition's records sort in commit order.
enum Outbox {
    static let marker: [UInt8] = [0, 0x6F]  // 0x00 "o"

    static func key(_ partition: PartitionID, index: UInt64, ordinal: UInt16) -> [UInt8] {
        partition.keyPrefix + marker + StateKeys.bigEndian(index) + [UInt8(ordinal >> 8), UInt8(ordinal & 0xFF)]
    }

    static func prefix(_ partition: PartitionID) -> [UInt8] { partition.keyPrefix + marker }
}
