import Foundation
import ParleyStorage
import Testing

@testable import ParleyCluster

/// A state machine that records each entry's payload under `partition ++ index`, and refuses
/// payloads that start with 0xFF.
struct RecordingStateMachine: PartitionStateMachine {
    struct Refused: Error {}

    func apply(_ entry: LogEntry, to writes: inout StateWrites) throws {
        if entry.payload.first == 0xFF { throw Refused() }
        writes.put(Self.key(entry.partition, entry.index), entry.payload)
    }

    /// `partition ++ 0x01 ++ index`: 0x01 keeps clear of the log's own `partition ++ 0x00` keys.
    static func key(_ partition: PartitionID, _ index: UInt64) -> [UInt8] {
        partition.keyPrefix + [1] + withUnsafeBytes(of: index.bigEndian, Array.init)
    }
}

/// Opens a database and a log in a temp dir, runs the log's committer for the duration of
/// `body`, then drains it.
func withRunningLog<R: Sendable>(
    partitions: Int = 8,
    directory: String? = nil,
    configuration: LocalPartitionLog.Configuration = .init(),
    _ body: @Sendable (LocalPartitionLog, Database) async throws -> R
) async throws -> R {
    let dir = directory ?? NSTemporaryDirectory() + "parley-log-test-" + UUID().uuidString
    defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let database = try LocalPartitionLog.openDatabase(at: dir + "/db")
    defer { database.close() }
    let log = try LocalPartitionLog(database: database, partitionCount: partitions, stateMachine: RecordingStateMachine(), configuration: configuration)
    return try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask {
            try await log.run()
            return nil
        }
        let result = try await body(log, database)
        log.close()
        for try await _ in group {}
        return result
    }
}

@Suite("Local partition log")
struct LocalPartitionLogTests {
    @Test func appendIsDurableAppliedAndIndexedPerPartition() async throws {
        try await withRunningLog { log, database in
            let p0 = PartitionID(0)
            let p1 = PartitionID(1)
            let a = try await log.append([1], to: p0, generation: log.generation(of: p0)).result()
            let b = try await log.append([2], to: p0, generation: log.generation(of: p0)).result()
            let c = try await log.append([3], to: p1, generation: log.generation(of: p1)).result()
            #expect((a.index, b.index, c.index) == (1, 2, 1))
            let state = try database.family("state")
            #expect(try database.get(RecordingStateMachine.key(p0, 2), in: state) == [2])
            #expect(try database.get(RecordingStateMachine.key(p1, 1), in: state) == [3])
            let logFamily = try database.family("log")
            let stored = try #require(try database.get(LogLayout.entryKey(p0, 1), in: logFamily))
            #expect(LogLayout.decodeEntry(partition: p0, index: 1, stored)?.payload == [1])
        }
    }

    @Test func concurrentAppendsShareCommitsAndKeepPerCallerOrder() async throws {
        try await withRunningLog { log, _ in
            let writers = 64
            let perWriter = 20
            try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        let partition = PartitionID(UInt16(writer % 8))
                        var indexes: [UInt64] = []
                        for _ in 0..<perWriter {
                            indexes.append(try await log.append([UInt8(writer)], to: partition, generation: log.generation(of: partition)).result().index)
                        }
                        return indexes
                    }
                }
                for try await indexes in group {
                    #expect(indexes == indexes.sorted())
                }
            }
            let statistics = log.statistics
            #expect(statistics.appendedEntries == writers * perWriter)
            #expect(statistics.commits < statistics.appendedEntries, "group commit shared no fsync: \(statistics)")
        }
    }

    @Test func entriesQueuedByOneCallerCommitInQueueOrder() async throws {
        try await withRunningLog { log, _ in
            let partition = PartitionID(3)
            let generation = log.generation(of: partition)
            let tickets = (0..<100).map { log.append([UInt8($0)], to: partition, generation: generation) }
            var indexes: [UInt64] = []
            for ticket in tickets { indexes.append(try await ticket.result().index) }
            #expect(indexes == Array(1...100))
        }
    }

    @Test func staleGenerationIsFencedAndARejectedEntryFencesItsPartition() async throws {
        try await withRunningLog { log, database in
            let partition = PartitionID(2)
            let before = log.generation(of: partition)
            await #expect(throws: ClusterError.self) {
                try await log.append([1], to: partition, generation: before + 5).result()
            }
            let rejected = log.append([0xFF], to: partition, generation: before)
            let pipelined = log.append([7], to: partition, generation: before)
            do {
                _ = try await rejected.result()
                Issue.record("a refused entry was acknowledged")
            } catch let error as ClusterError {
                #expect(error.code == .rejected)
            }
            do {
                _ = try await pipelined.result()
                Issue.record("an entry pipelined behind a refused one was acknowledged")
            } catch let error as ClusterError {
                #expect(error.code == .stale)
            }
            #expect(log.generation(of: partition) == before + 1)
            let fresh = try await log.append([8], to: partition, generation: log.generation(of: partition)).result()
            #expect(fresh.index == 1)
            #expect(try database.get(RecordingStateMachine.key(partition, 1), in: database.family("state")) == [8])
            // Other partitions are untouched.
            #expect(log.generation(of: PartitionID(0)) == before)
        }
    }

    @Test func unknownPartitionAndShutdownAreRefused() async throws {
        let log = try await withRunningLog(partitions: 4) { log, _ in
            await #expect(throws: ClusterError.self) {
                try await log.append([1], to: PartitionID(4), generation: 1).result()
            }
            return log
        }
        do {
            _ = try await log.append([1], to: PartitionID(0), generation: 1).result()
            Issue.record("a closed log took an entry")
        } catch {
            #expect(error.code == .shuttingDown)
        }
    }

    @Test func indexesContinueAfterReopenAndLayoutIsChecked() async throws {
        let dir = NSTemporaryDirectory() + "parley-log-reopen-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withRunningLog(directory: dir) { log, _ in
            for _ in 0..<5 { _ = try await log.append([1], to: PartitionID(0), generation: 1).result() }
        }
        let index = try await withRunningLog(directory: dir) { log, _ in
            try await log.append([2], to: PartitionID(0), generation: 1).result().index
        }
        #expect(index == 6)
        let database = try LocalPartitionLog.openDatabase(at: dir + "/db")
        defer { database.close() }
        let error = refusedOpen(database, partitions: 16)
        #expect(error?.code == .layoutMismatch)
        #expect(error?.message.contains("8 partitions") == true)
    }

    @Test func appliedEntriesBeyondRetentionAreCompacted() async throws {
        var configuration = LocalPartitionLog.Configuration()
        configuration.retainedEntries = 10
        try await withRunningLog(configuration: configuration) { log, database in
            let partition = PartitionID(5)
            for i in 0..<45 { _ = try await log.append([UInt8(i)], to: partition, generation: 1).result() }
            let logFamily = try database.family("log")
            let remaining = try database.entries(.prefix(partition.keyPrefix), in: logFamily)
            #expect(remaining.count >= 10 && remaining.count < 30, "kept \(remaining.count) entries")
            #expect(remaining.last?.key == LogLayout.entryKey(partition, 45))
            // Applied state is never compacted.
            #expect(try database.entries(.prefix(partition.keyPrefix + [1]), in: database.family("state")).count == 45)
        }
    }
}

@Suite("Local partition log recovery")
struct LocalPartitionLogRecoveryTests {
    @Test func stateLostWithTheMemtableIsReplayedFromTheLog() async throws {
        let dir = NSTemporaryDirectory() + "parley-log-replay-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Entries are fsync'd; their state is written without the WAL. Simulate a crash that
        // loses the unflushed state by deleting the state (and its applied index) directly.
        try await withRunningLog(directory: dir) { log, _ in
            for i in 0..<300 { _ = try await log.append([UInt8(i % 200)], to: PartitionID(1), generation: 1).result() }
        }
        do {
            let database = try LocalPartitionLog.openDatabase(at: dir + "/db")
            defer { database.close() }
            let state = try database.family("state")
            var wipe = WriteBatch()
            wipe.deleteRange(from: PartitionID(1).keyPrefix, to: PartitionID(2).keyPrefix, in: state)
            try database.write(wipe, sync: true)
            #expect(try database.entries(.prefix(PartitionID(1).keyPrefix), in: state).isEmpty)
        }
        try await withRunningLog(directory: dir) { log, database in
            let state = try database.family("state")
            #expect(try database.entries(.prefix(PartitionID(1).keyPrefix + [1]), in: state).count == 300)
            #expect(try database.get(RecordingStateMachine.key(PartitionID(1), 300), in: state) == [UInt8(299 % 200)])
            let next = try await log.append([9], to: PartitionID(1), generation: 1).result()
            #expect(next.index == 301)
        }
    }

    @Test func missingLogEntriesBelowTheAppliedIndexStopTheStart() async throws {
        let dir = NSTemporaryDirectory() + "parley-log-gap-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withRunningLog(directory: dir) { log, _ in
            for _ in 0..<5 { _ = try await log.append([1], to: PartitionID(0), generation: 1).result() }
        }
        let database = try LocalPartitionLog.openDatabase(at: dir + "/db")
        defer { database.close() }
        // Roll the applied index back and remove the entries it would replay from.
        var damage = WriteBatch()
        damage.put(LogLayout.appliedKey(PartitionID(0)), LogLayout.encodeIndex(1), in: try database.family("state"))
        damage.deleteRange(from: LogLayout.entryKey(PartitionID(0), 1), to: LogLayout.entryKey(PartitionID(0), 4), in: try database.family("log"))
        try database.write(damage, sync: true)
        let error = refusedOpen(database, partitions: 8)
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains("missing") == true)
    }
}

/// The error opening a log over `database` fails with, or nil (recorded as an issue) if it opens.
func refusedOpen(_ database: Database, partitions: Int) -> ClusterError? {
    let result = Result { () throws(ClusterError) -> LocalPartitionLog in
        try LocalPartitionLog(database: database, partitionCount: partitions, stateMachine: RecordingStateMachine())
    }
    switch result {
    case .success:
        Issue.record("the log opened")
        return nil
    case let .failure(error):
        return error
    }
}
