import Foundation
import Testing

@testable import ParleyStorage

@Suite("RocksDB database")
struct DatabaseTests {
    @Test func putGetDeleteRoundTripAndSurviveReopen() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let db = try Database.open(at: dir + "/db", columnFamilies: ["a", "b"])
                let a = try db.family("a")
                let b = try db.family("b")
                try db.put("k1".bytes, "v1".bytes, in: a, sync: true)
                try db.put("k1".bytes, "other".bytes, in: b)
                try db.put("k2".bytes, [], in: a)
                #expect(try db.get("k1".bytes, in: a) == "v1".bytes)
                #expect(try db.get("k1".bytes, in: b) == "other".bytes)
                #expect(try db.get("k2".bytes, in: a) == [])
                #expect(try db.get("missing".bytes, in: a) == nil)
                try db.delete("k2".bytes, in: a, sync: true)
                #expect(try db.get("k2".bytes, in: a) == nil)
                db.close()
            }
            // Reopened without naming "b": families on disk are opened anyway.
            let db = try Database.open(at: dir + "/db", columnFamilies: ["a"])
            #expect(try db.get("k1".bytes, in: db.family("a")) == "v1".bytes)
            #expect(try db.get("k1".bytes, in: db.family("b")) == "other".bytes)
        }
    }

    @Test func unknownFamilyAndClosedDatabaseAreClearErrors() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir + "/db", columnFamilies: ["a"])
            let a = try db.family("a")
            #expect(throws: StorageError.self) { try db.family("nope") }
            do {
                _ = try db.family("nope")
            } catch let error as StorageError {
                #expect(error.code == .unknownColumnFamily)
            }
            db.close()
            db.close()  // idempotent
            do {
                _ = try db.get("k".bytes, in: a)
                Issue.record("a closed database answered a read")
            } catch let error as StorageError {
                #expect(error.code == .closed)
            }
        }
    }

    @Test func secondOpenOfTheSameDirectoryIsRefusedAsBusy() async throws {
        try await withTemporaryDirectory { dir in
            let first = try Database.open(at: dir + "/db", columnFamilies: [])
            defer { first.close() }
            do {
                _ = try Database.open(at: dir + "/db", columnFamilies: [])
                Issue.record("a locked database opened twice")
            } catch let error as StorageError {
                #expect(error.code == .busy)
                #expect(error.message.contains("lock"))
            }
        }
    }

    @Test func missingDatabaseWithoutCreateIsAnError() async throws {
        try await withTemporaryDirectory { dir in
            var options = DatabaseOptions()
            options.createIfMissing = false
            #expect(throws: StorageError.self) {
                try Database.open(at: dir + "/absent", columnFamilies: [], options: options)
            }
        }
    }

    @Test func writeBatchIsAtomicAcrossFamiliesAndDeletesRanges() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir + "/db", columnFamilies: ["a", "b"])
            let a = try db.family("a")
            let b = try db.family("b")
            var batch = WriteBatch()
            for i in 0..<10 { batch.put([UInt8(i)], "v\(i)".bytes, in: a) }
            batch.put("x".bytes, "y".bytes, in: b)
            try db.write(batch, sync: true)
            #expect(try db.entries(KeyRange(), in: a).count == 10)

            var second = WriteBatch()
            second.deleteRange(from: [2], to: [7], in: a)
            second.delete("x".bytes, in: b)
            try await db.writeAsync(second, sync: true)
            #expect(try db.entries(KeyRange(), in: a).map { $0.key } == [[0], [1], [7], [8], [9]])
            #expect(try db.get("x".bytes, in: b) == nil)
        }
    }

    @Test func scansHonourPrefixBoundsDirectionAndLimit() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir + "/db", columnFamilies: ["a"])
            let a = try db.family("a")
            for key in ["ap", "ba", "bb", "bc", "bz", "c", "b"] { try db.put(key.bytes, key.bytes, in: a) }
            try db.put([0x62, 0xFF], "b-ff".bytes, in: a)
            let forward = try db.entries(.prefix("b".bytes), in: a).map { String(decoding: $0.value, as: UTF8.self) }
            #expect(forward == ["b", "ba", "bb", "bc", "bz", "b-ff"])
            let backward = try db.entries(.prefix("b".bytes), in: a, reverse: true, limit: 2).map { String(decoding: $0.value, as: UTF8.self) }
            #expect(backward == ["b-ff", "bz"])
            #expect(try db.last(in: .prefix("a".bytes), of: a)?.value == "ap".bytes)
            #expect(try db.last(in: .prefix("d".bytes), of: a) == nil)
            var visited = 0
            try db.scan(KeyRange(lower: "ba".bytes, upper: "bz".bytes), in: a) { (_, _) throws(StorageError) -> Bool in
                visited += 1
                return visited < 2
            }
            #expect(visited == 2)
        }
    }

    @Test func prefixSuccessorHandlesAllOnesBytes() {
        #expect(KeyRange.successor(ofPrefix: [0x01, 0x02]) == [0x01, 0x03])
        #expect(KeyRange.successor(ofPrefix: [0x01, 0xFF]) == [0x02])
        #expect(KeyRange.successor(ofPrefix: [0xFF, 0xFF]) == nil)
        #expect(KeyRange.successor(ofPrefix: []) == nil)
    }

    @Test func snapshotSeesTheStateAsOfItsCreation() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir + "/db", columnFamilies: ["a"])
            let a = try db.family("a")
            try db.put("k".bytes, "old".bytes, in: a)
            try db.withSnapshot { (snapshot) throws(StorageError) in
                try db.put("k".bytes, "new".bytes, in: a)
                try db.put("k2".bytes, "added".bytes, in: a)
                #expect(try db.get("k".bytes, in: a, snapshot: snapshot) == "old".bytes)
                var seen: [[UInt8]] = []
                try db.scan(KeyRange(), in: a, snapshot: snapshot) { (key, _) throws(StorageError) -> Bool in
                    seen.append(key)
                    return true
                }
                #expect(seen == ["k".bytes])
            }
            #expect(try db.get("k".bytes, in: a) == "new".bytes)
        }
    }

    @Test func checkpointIsAnOpenableOnlineBackup() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir + "/db", columnFamilies: ["a"])
            let a = try db.family("a")
            for i in 0..<100 { try db.put("k\(i)".bytes, "v\(i)".bytes, in: a) }
            try await db.checkpointAsync(to: dir + "/backup")
            try db.put("after".bytes, "x".bytes, in: a)
            do {
                try db.checkpoint(to: dir + "/backup")
                Issue.record("a checkpoint overwrote an existing directory")
            } catch let error as StorageError {
                #expect(error.code != .closed)
            }
            let backup = try Database.open(at: dir + "/backup", columnFamilies: [])
            defer { backup.close() }
            let restored = try backup.family("a")
            #expect(try backup.entries(KeyRange(), in: restored).count == 100)
            #expect(try backup.get("after".bytes, in: restored) == nil)
        }
    }

    @Test func concurrentWritersAndCloseNeverCrash() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir + "/db", columnFamilies: ["a"])
            let a = try db.family("a")
            try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        var written = 0
                        for i in 0..<200 {
                            do {
                                try await db.writeAsync({ var b = WriteBatch(); b.put("w\(writer)-\(i)".bytes, [1], in: a); return b }(), sync: false)
                                written += 1
                            } catch let error as StorageError {
                                #expect(error.code == .closed)
                                return written
                            }
                        }
                        return written
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(5))
                    db.close()
                    return 0
                }
                var total = 0
                for try await count in group { total += count }
                #expect(total <= 1_600)
            }
        }
    }

    @Test func errorMessagesAreClassified() {
        #expect(StorageError.fromRocksDB("IO error: While lock file: /x/LOCK: Resource temporarily unavailable").code == .busy)
        #expect(StorageError.fromRocksDB("IO error: No space left on device").code == .ioError)
        #expect(StorageError.fromRocksDB("Corruption: block checksum mismatch").code == .corruption)
        #expect(StorageError.fromRocksDB("Invalid argument: Column family not found").code == .invalidArgument)
        #expect(StorageError.fromRocksDB("something else").code == .other)
    }
}
