import ParleyRaft
import Testing

@testable import ParleyCluster

/// Snapshot chunks on the wire, and the follower's assembly of them: in order only, one
/// transfer at a time per leader and partition, bounded in size, and giving back the Raft
/// snapshot message with exactly the state every chunk carried.
@Suite("Snapshot streaming")
struct SnapshotStreamingTests {
    static let partition = PartitionID(7)

    static func pairs(_ range: Range<Int>) -> [(key: [UInt8], value: [UInt8])] {
        range.map { (partition.keyPrefix + [1, UInt8($0)], [UInt8]("value \($0)".utf8)) }
    }

    static func snapshotMessage(from sender: UInt64) -> Message {
        Message(kind: .snapshot, from: sender, to: 2, term: 4, snapshot: Snapshot(metadata: SnapshotMetadata(index: 90, term: 3, voters: [1, 2, 3]), data: []))
    }

    @Test func chunksRoundTripAndMalformedOnesAreRejected() throws {
        let middle = SnapshotChunk(partition: Self.partition, transfer: 77, sequence: 3, pairs: Self.pairs(0..<4), message: nil)
        let last = SnapshotChunk(partition: Self.partition, transfer: 77, sequence: 4, pairs: [], message: Self.snapshotMessage(from: 1))
        #expect(SnapshotChunk(decoding: middle.encoded()) == middle)
        #expect(SnapshotChunk(decoding: last.encoded()) == last)
        let bytes = middle.encoded()
        #expect(SnapshotChunk(decoding: []) == nil)
        #expect(SnapshotChunk(decoding: [2] + bytes.dropFirst()) == nil)  // unknown format
        #expect(SnapshotChunk(decoding: Array(bytes.dropLast())) == nil)  // truncated
        #expect(SnapshotChunk(decoding: bytes + [0]) == nil)  // trailing bytes
        // A final chunk whose message is not a snapshot.
        var notSnapshot = last
        notSnapshot.message = Message(kind: .heartbeat, from: 1, to: 2, term: 4)
        #expect(SnapshotChunk(decoding: notSnapshot.encoded()) == nil)
    }

    @Test func chunksInOrderAssembleTheSnapshotWithEveryPair() throws {
        let assembler = SnapshotAssembler(maxBytes: 1 << 20)
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 0, pairs: Self.pairs(0..<3), message: nil), from: 1) == .accepted)
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 1, pairs: Self.pairs(3..<6), message: nil), from: 1) == .accepted)
        let outcome = assembler.take(
            SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 2, pairs: Self.pairs(6..<7), message: Self.snapshotMessage(from: 1)), from: 1)
        guard case let .complete(message) = outcome else {
            Issue.record("expected a complete snapshot, got \(outcome)")
            return
        }
        let state = try #require(message.snapshot.flatMap { ReplicaLayout.decodeState($0.data) })
        #expect(state.map(\.key) == Self.pairs(0..<7).map(\.key))
        #expect(state.map(\.value) == Self.pairs(0..<7).map(\.value))
        #expect(message.snapshot?.metadata == SnapshotMetadata(index: 90, term: 3, voters: [1, 2, 3]))
        #expect(assembler.counts.chunks == 3 && assembler.counts.snapshots == 1)
        // Done: a late chunk of the same transfer starts nothing.
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 3, pairs: [], message: nil), from: 1) == .restart)
    }

    @Test func outOfOrderOrForeignChunksAskForARestartAndANewTransferReplacesTheOld() {
        let assembler = SnapshotAssembler(maxBytes: 1 << 20)
        // Nothing under way: only sequence 0 starts a transfer.
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 1, pairs: [], message: nil), from: 1) == .restart)
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 0, pairs: Self.pairs(0..<2), message: nil), from: 1) == .accepted)
        // A skipped chunk, or a chunk of another transfer, is not taken.
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 2, pairs: [], message: nil), from: 1) == .restart)
        // A new transfer from the same leader replaces the old one...
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 6, sequence: 0, pairs: Self.pairs(2..<3), message: nil), from: 1) == .accepted)
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 5, sequence: 1, pairs: [], message: nil), from: 1) == .restart)
        // ...and another leader's transfer of the same partition is kept apart.
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 6, sequence: 1, pairs: [], message: nil), from: 3) == .restart)
        let outcome = assembler.take(
            SnapshotChunk(partition: Self.partition, transfer: 6, sequence: 1, pairs: [], message: Self.snapshotMessage(from: 1)), from: 1)
        guard case let .complete(message) = outcome else {
            Issue.record("expected a complete snapshot, got \(outcome)")
            return
        }
        #expect(message.snapshot.flatMap { ReplicaLayout.decodeState($0.data) }?.map(\.key) == Self.pairs(2..<3).map(\.key))
    }

    @Test func oversizeForeignKeysOrAMessageFromAnotherNodeAreRefused() {
        let small = SnapshotAssembler(maxBytes: 40)
        #expect(small.take(SnapshotChunk(partition: Self.partition, transfer: 1, sequence: 0, pairs: Self.pairs(0..<2), message: nil), from: 1) == .accepted)
        #expect(small.take(SnapshotChunk(partition: Self.partition, transfer: 1, sequence: 1, pairs: Self.pairs(2..<4), message: nil), from: 1) == .refused)
        // Refused transfers are dropped.
        #expect(small.take(SnapshotChunk(partition: Self.partition, transfer: 1, sequence: 2, pairs: [], message: nil), from: 1) == .restart)

        let assembler = SnapshotAssembler(maxBytes: 1 << 20)
        let foreign = [(key: PartitionID(8).keyPrefix + [1], value: [UInt8(1)])]
        #expect(assembler.take(SnapshotChunk(partition: Self.partition, transfer: 2, sequence: 0, pairs: foreign, message: nil), from: 1) == .refused)
        let claimed = SnapshotChunk(partition: Self.partition, transfer: 3, sequence: 0, pairs: [], message: Self.snapshotMessage(from: 3))
        #expect(assembler.take(claimed, from: 1) == .refused)
    }
}
