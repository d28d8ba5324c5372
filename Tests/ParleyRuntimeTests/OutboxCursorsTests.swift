import ParleyCluster
import ParleyStorage
import Testing

@testable import ParleyRuntime

/// The relay's scan cursors: past what was relayed and deleted, never past a record that
/// failed, and from the start under any other generation.
struct OutboxCursorsTests {
    let partition = PartitionID(7)
    let prefix: [UInt8] = [0, 7, 0, 0x65]

    private func key(_ index: UInt8) -> [UInt8] { prefix + [index] }

    @Test func aPartitionNeverScannedIsReadFromTheStartOfItsPrefix() {
        let cursors = OutboxCursors()
        #expect(cursors.range(of: .effects, in: partition, prefix: prefix, generation: 3) == .prefix(prefix))
    }

    @Test func theNextScanStartsJustAfterTheLastRecordRelayedAndDeleted() {
        var cursors = OutboxCursors()
        cursors.advance(.effects, in: partition, generation: 3, scanned: [key(1), key(2), key(3)], gone: [key(1), key(2), key(3)])
        let range = cursors.range(of: .effects, in: partition, prefix: prefix, generation: 3)
        #expect(range.lower == key(3) + [0])
        #expect(range.upper == KeyRange.prefix(prefix).upper)
        // The other queue, and other partitions, keep their own place.
        #expect(cursors.range(of: .notices, in: partition, prefix: prefix, generation: 3) == .prefix(prefix))
        #expect(cursors.range(of: .effects, in: PartitionID(8), prefix: prefix, generation: 3) == .prefix(prefix))
    }

    @Test func aRecordThatFailedStaysAheadOfTheCursorWithEveryRecordAfterIt() {
        var cursors = OutboxCursors()
        cursors.advance(.notices, in: partition, generation: 1, scanned: [key(1), key(2), key(3), key(4)], gone: [key(1), key(3), key(4)])
        #expect(cursors.range(of: .notices, in: partition, prefix: prefix, generation: 1).lower == key(1) + [0])
        // A pass where the first record failed again moves nothing.
        cursors.advance(.notices, in: partition, generation: 1, scanned: [key(2), key(5)], gone: [key(5)])
        #expect(cursors.range(of: .notices, in: partition, prefix: prefix, generation: 1).lower == key(1) + [0])
        cursors.advance(.notices, in: partition, generation: 1, scanned: [key(2), key(5)], gone: [key(2), key(5)])
        #expect(cursors.range(of: .notices, in: partition, prefix: prefix, generation: 1).lower == key(5) + [0])
    }

    @Test func anotherGenerationScansFromTheStart() {
        var cursors = OutboxCursors()
        cursors.advance(.effects, in: partition, generation: 4, scanned: [key(1)], gone: [key(1)])
        // A later term (this node lost and regained leadership) or a restarted local log: the
        // records a predecessor left may sit anywhere.
        #expect(cursors.range(of: .effects, in: partition, prefix: prefix, generation: 5) == .prefix(prefix))
        #expect(cursors.range(of: .effects, in: partition, prefix: prefix, generation: 0) == .prefix(prefix))
    }
}
