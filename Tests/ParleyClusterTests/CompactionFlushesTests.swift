import Testing

@testable import ParleyCluster

/// The compaction flush between the driver and the loop that runs it: one at a time, each
/// taken once with its compaction points, and none asked once closed.
@Suite("Compaction flushes")
struct CompactionFlushesTests {
    @Test func oneFlushAtATimeEachTakenOnce() async {
        let flushes = CompactionFlushes()
        #expect(flushes.request([PartitionID(1): 100]))
        #expect(!flushes.request([PartitionID(2): 5]))  // one is under way
        #expect(flushes.take() == [PartitionID(1): 100])
        #expect(flushes.take() == nil)
        #expect(!flushes.request([PartitionID(2): 5]))  // taken, but not reported back yet
        flushes.ended()
        #expect(flushes.request([PartitionID(2): 5]))
        #expect(flushes.take() == [PartitionID(2): 5])
    }

    @Test func aClosedQueueAsksNothingAndEndsItsSignals() async {
        let flushes = CompactionFlushes()
        #expect(flushes.request([PartitionID(1): 1]))
        flushes.close()
        flushes.ended()
        #expect(!flushes.request([PartitionID(1): 2]))
        var signals = 0
        for await _ in flushes.signals { signals += 1 }  // ends: the stream finished
        #expect(signals == 1)
    }
}
