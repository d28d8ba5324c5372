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

/// Relayed records waiting for their deletion entry: taken once old or many enough, per
/// partition, and dropped when their generation ends.
struct RelayedDeletionsTests {
    let start = ContinuousClock.now
    let one = PartitionID(1)
    let two = PartitionID(2)

    @Test func deletionsAreTakenOncePerPartitionWhenOldOrManyEnough() {
        var deletions = RelayedDeletions()
        #expect(deletions.isEmpty)
        deletions.add([[1], [2]], of: one, generation: 3, now: start)
        deletions.add([[3]], of: one, generation: 3, now: start + .milliseconds(150))
        deletions.add([[9]], of: two, generation: 3, now: start + .milliseconds(150))
        #expect(deletions.takeDue(now: start + .milliseconds(100), maxAge: .milliseconds(200), maxKeys: 10).isEmpty)
        let due = deletions.takeDue(now: start + .milliseconds(200), maxAge: .milliseconds(200), maxKeys: 10)
        #expect(due.map(\.partition) == [one] && due.first?.keys == [[1], [2], [3]] && due.first?.generation == 3)
        #expect(!deletions.isEmpty)
        // Many enough: at once.
        deletions.add([[10], [11]], of: two, generation: 3, now: start + .milliseconds(210))
        #expect(deletions.takeDue(now: start + .milliseconds(220), maxAge: .seconds(1), maxKeys: 3).first?.keys == [[9], [10], [11]])
        #expect(deletions.isEmpty)
        deletions.add([[12]], of: two, generation: 3, now: start)
        #expect(deletions.takeDue(now: start, maxAge: .seconds(1), maxKeys: 100, all: true).count == 1)
    }

    @Test func keysOfAnEndedGenerationAreDroppedForTheNewOnesCursorToFindAgain() {
        var deletions = RelayedDeletions()
        deletions.add([[1]], of: one, generation: 3, now: start)
        deletions.add([[2]], of: one, generation: 4, now: start)
        let taken = deletions.takeDue(now: start, maxAge: .zero, maxKeys: 100)
        #expect(taken.count == 1 && taken.first?.generation == 4 && taken.first?.keys == [[2]])
        var cursors = OutboxCursors()
        let prefix: [UInt8] = [0, 1, 0, 0x65]
        cursors.advance(.effects, in: one, generation: 4, scanned: [prefix + [1]], gone: [prefix + [1]])
        cursors.advance(.notices, in: one, generation: 4, scanned: [prefix + [1]], gone: [prefix + [1]])
        cursors.reset(one)
        #expect(cursors.range(of: .effects, in: one, prefix: prefix, generation: 4) == .prefix(prefix))
        #expect(cursors.range(of: .notices, in: one, prefix: prefix, generation: 4) == .prefix(prefix))
    }
}

/// Where timer scans start: at the first live timer found, lowered by any timer set below
/// it in the same partition, from the start under another generation, after a failed read and
/// at every full scan.
struct TimerFloorsTests {
    let partition = PartitionID(4)
    let other = PartitionID(5)
    let start = ContinuousClock.now

    @Test func aScanStartsAtTheFirstLiveTimerItsLastScanFound() {
        var floors = TimerFloors()
        var signalled = floors.beginRound(now: start)
        #expect(floors.start(of: partition, generation: 2, signalled: signalled[partition]) == Int64.min, "never scanned: from the start")
        floors.record(partition, generation: 2, start: .min, firstLive: 5_000, now: 1_000)
        signalled = floors.beginRound(now: start + .seconds(1))
        #expect(floors.start(of: partition, generation: 2, signalled: signalled[partition]) == 5_000)
        // Nothing live from there on: the floor moves up to the scan's time.
        floors.record(partition, generation: 2, start: 5_000, firstLive: nil, now: 9_000)
        signalled = floors.beginRound(now: start + .seconds(2))
        #expect(floors.start(of: partition, generation: 2, signalled: signalled[partition]) == 9_000)
    }

    @Test func aTimerSetBelowTheFloorLowersItsPartitionsNextStartOnce() {
        var floors = TimerFloors()
        _ = floors.beginRound(now: start)
        floors.record(partition, generation: 2, start: .min, firstLive: 60_000, now: 1_000)
        floors.record(other, generation: 2, start: .min, firstLive: 60_000, now: 1_000)
        floors.timerSet(3_000, in: partition)
        floors.timerSet(4_000, in: partition)
        let signalled = floors.beginRound(now: start + .seconds(1))
        #expect(signalled == [partition: 3_000])
        #expect(floors.start(of: partition, generation: 2, signalled: signalled[partition]) == 3_000)
        #expect(floors.start(of: other, generation: 2, signalled: signalled[other]) == 60_000, "another partition keeps its floor")
        floors.record(partition, generation: 2, start: 3_000, firstLive: 3_000, now: 2_000)
        #expect(floors.start(of: partition, generation: 2, signalled: floors.beginRound(now: start + .seconds(2))[partition]) == 3_000)
        // A signal that comes while a round scans is kept for the round after it.
        floors.timerSet(2_500, in: partition)
        floors.record(partition, generation: 2, start: 3_000, firstLive: 3_000, now: 2_000)
        #expect(floors.start(of: partition, generation: 2, signalled: floors.beginRound(now: start + .seconds(3))[partition]) == 2_500)
    }

    @Test func anotherGenerationAFailedReadAndTheFullScanStartFromTheBeginning() {
        var floors = TimerFloors()
        _ = floors.beginRound(now: start)
        floors.record(partition, generation: 2, start: .min, firstLive: 5_000, now: 1_000)
        #expect(floors.start(of: partition, generation: 3, signalled: nil) == Int64.min)
        floors.forget(partition)
        #expect(floors.start(of: partition, generation: 2, signalled: nil) == Int64.min)
        floors.record(partition, generation: 2, start: .min, firstLive: 5_000, now: 1_000)
        _ = floors.beginRound(now: start + TimerFloors.fullScanInterval)
        #expect(floors.start(of: partition, generation: 2, signalled: nil) == Int64.min)
    }
}

/// The bounded fan-out the relay, the timers and the panel share.
struct BoundedConcurrencyTests {
    actor Gauge {
        var now = 0
        var most = 0
        func enter() {
            now += 1
            most = max(most, now)
        }
        func leave() { now -= 1 }
    }

    @Test func everyItemRunsOnceAndNeverMoreThanTheLimitAtATime() async {
        let gauge = Gauge()
        let results = await concurrently(Array(0..<40), atMost: 4) { item in
            await gauge.enter()
            try? await Task.sleep(for: .milliseconds(2))
            await gauge.leave()
            return item * 2
        }
        #expect(results.sorted() == (0..<40).map { $0 * 2 })
        let most = await gauge.most
        #expect(most <= 4 && most >= 2)
    }
}
