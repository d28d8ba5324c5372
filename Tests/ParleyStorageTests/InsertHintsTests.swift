import Foundation
import ParleyRaft
import Testing

@testable import ParleyStorage

/// Memtable insert hints (`DatabaseOptions.insertHintedFamilies`): the hinted family holds
/// exactly what an unhinted one holds under the same writes, including range deletions from
/// hinted keys (which RocksDB 7.8 would corrupt the memtable with, sharing hints with the
/// range tombstones, and which `Database.write` therefore writes another way).
@Suite("RocksDB insert hints")
struct InsertHintsTests {
    /// `fixed(3) ++ name ++ 0x00 ++ record ++ seq(8)`, with records 'j' and 'g' hinted.
    static let layout = SequencedRecordKeys(fixedPrefixBytes: 3, records: [0x6A, 0x67])

    static func prefix(_ partition: UInt8, _ name: String, _ record: UInt8) -> [UInt8] {
        [0, partition, 0x72] + Array(name.utf8) + [0, record]
    }

    static func sequenced(_ partition: UInt8, _ name: String, _ record: UInt8, _ seq: UInt64) -> [UInt8] {
        prefix(partition, name, record) + withUnsafeBytes(of: seq.bigEndian) { Array($0) }
    }

    static func open(_ path: String, hinted: Bool) throws -> (Database, ColumnFamily) {
        var options = DatabaseOptions()
        if hinted { options.insertHintedFamilies["state"] = layout }
        let database = try Database.open(at: path, columnFamilies: ["state"], options: options)
        return (database, try database.family("state"))
    }

    @Test func theLayoutTakesOnlySequencedRecordKeysOfItsRecords() {
        func matches(_ key: [UInt8]) -> Bool { key.withUnsafeBufferPointer { Self.layout.matches($0) } }
        #expect(matches(Self.sequenced(1, "room-a", 0x6A, 7)))
        #expect(matches(Self.sequenced(1, "room-a", 0x67, 0)))
        // The fixed bytes may hold 0x00 (a partition number); the name ends at the first after them.
        #expect(matches([0, 0, 0] + Array("x".utf8) + [0, 0x6A] + [UInt8](repeating: 9, count: 8)))
        #expect(!matches(Self.prefix(1, "room-a", 0x6A)))  // a bare record prefix: where range deletions start
        #expect(!matches(Self.sequenced(1, "room-a", 0x70, 7)))  // a record not listed
        #expect(!matches(Self.prefix(1, "room-a", 0x6A) + [1, 2, 3, 4, 5, 6, 7]))  // 7 bytes after the record
        #expect(!matches(Self.prefix(1, "room-a", 0x6A) + [UInt8](repeating: 1, count: 9)))  // 9 bytes
        #expect(!matches([0, 1, 0x72] + Array("no-separator".utf8)))
        #expect(!matches([0, 1]))  // a partition's prefix (snapshots delete from there)
    }

    @Test func aHintedFamilyHoldsWhatAnUnhintedOneHoldsUnderTheSameWrites() async throws {
        try await withTemporaryDirectory { dir in
            let (hinted, hintedState) = try Self.open(dir + "/hinted", hinted: true)
            let (plain, plainState) = try Self.open(dir + "/plain", hinted: false)
            var random = SystemRandomNumberGenerator()
            let seed = UInt64.random(in: 0..<UInt64.max, using: &random)
            var generator = SplitMix64(seed: seed)  // a failing run replays from its seed
            let names = ["room-a", "room-b", "r", "a-much-longer-room-name", "bo.smith"]
            var nextSeq: [String: UInt64] = [:]
            for round in 0..<300 {
                var hintedBatch = WriteBatch()
                var plainBatch = WriteBatch()
                for _ in 0..<Int.random(in: 1...12, using: &generator) {
                    let name = names.randomElement(using: &generator)!
                    let record: UInt8 = [0x6A, 0x67, 0x70].randomElement(using: &generator)!
                    let partition = UInt8.random(in: 0...2, using: &generator)
                    let counter = "\(partition)/\(name)/\(record)"
                    let choice = Int.random(in: 0..<10, using: &generator)
                    func both(_ write: (inout WriteBatch, ColumnFamily) -> Void) {
                        write(&hintedBatch, hintedState)
                        write(&plainBatch, plainState)
                    }
                    if choice < 6 {
                        // Mostly in sequence, now and then behind (a hint is only a hint).
                        var seq = nextSeq[counter, default: 0]
                        if choice == 0, seq > 3 { seq -= UInt64.random(in: 1...3, using: &generator) } else { nextSeq[counter] = seq + 1 }
                        let key = Self.sequenced(partition, name, record, seq)
                        let value = [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: Int.random(in: 0...64, using: &generator))
                        both { $0.put(key, value, in: $1) }
                    } else if choice < 8 {
                        let key = Self.sequenced(partition, name, record, UInt64.random(in: 0..<(nextSeq[counter, default: 0] + 2), using: &generator))
                        both { $0.delete(key, in: $1) }
                    } else {
                        // Pruning as the state machines do it (from the bare record prefix),
                        // or from a hinted key, or an empty or inverted range.
                        let bound = nextSeq[counter, default: 0] + 2
                        let ends = [UInt64.random(in: 0..<bound, using: &generator), UInt64.random(in: 0..<bound, using: &generator)].sorted()
                        let from = choice == 8 ? Self.prefix(partition, name, record) : Self.sequenced(partition, name, record, ends[0])
                        let to = Self.sequenced(partition, name, record, ends[1])
                        both { $0.deleteRange(from: from, to: to, in: $1) }
                    }
                }
                try hinted.write(hintedBatch, durability: .unlogged)
                try plain.write(plainBatch, durability: .unlogged)
                if round % 97 == 96 { try hinted.flush(hintedState) }
                if round % 25 == 0 || round == 299 {
                    let hintedEntries = try hinted.entries(KeyRange(), in: hintedState)
                    let plainEntries = try plain.entries(KeyRange(), in: plainState)
                    #expect(hintedEntries.map(\.key) == plainEntries.map(\.key), "seed \(seed), round \(round)")
                    #expect(hintedEntries.map(\.value) == plainEntries.map(\.value), "seed \(seed), round \(round)")
                }
            }
            #expect(try !hinted.entries(KeyRange(), in: hintedState).isEmpty)
            // RocksDB took the transform: its options file names it for the family.
            let optionsFiles = try FileManager.default.contentsOfDirectory(atPath: dir + "/hinted").filter { $0.hasPrefix("OPTIONS-") }
            let written = try optionsFiles.map { try String(contentsOfFile: dir + "/hinted/" + $0, encoding: .utf8) }
            #expect(written.contains { $0.contains("memtable_insert_with_hint_prefix_extractor=parley.SequencedRecordPrefix.3.6a67") })
            hinted.close()
            plain.close()
            // The data opens again with hints and without.
            let (reopened, state) = try Self.open(dir + "/hinted", hinted: false)
            #expect(try !reopened.entries(KeyRange(), in: state).isEmpty)
            reopened.close()
            let (hintedAgain, hintedAgainState) = try Self.open(dir + "/hinted", hinted: true)
            #expect(try !hintedAgain.entries(KeyRange(), in: hintedAgainState).isEmpty)
        }
    }

    @Test func aRangeDeletionFromAHintedKeyDeletesExactlyItsRange() async throws {
        try await withTemporaryDirectory { dir in
            let (database, state) = try Self.open(dir + "/db", hinted: true)
            for seq in 1...6 as ClosedRange<UInt64> { try database.put(Self.sequenced(1, "room-a", 0x6A, seq), [UInt8(seq)], in: state) }
            try database.put(Self.sequenced(1, "room-a", 0x6A, 3) + [7], [9], in: state)  // between 3 and 4
            var batch = WriteBatch()
            batch.deleteRange(from: Self.sequenced(1, "room-a", 0x6A, 3), to: Self.sequenced(1, "room-a", 0x6A, 5), in: state)
            // Empty: nothing goes.
            batch.deleteRange(from: Self.sequenced(1, "room-a", 0x6A, 6), to: Self.sequenced(1, "room-a", 0x6A, 6), in: state)
            try database.write(batch, durability: .buffered)
            // Inverted: refused with nothing of its batch written, as RocksDB refuses it.
            var inverted = WriteBatch()
            inverted.delete(Self.sequenced(1, "room-a", 0x6A, 1), in: state)
            inverted.deleteRange(from: Self.sequenced(1, "room-a", 0x6A, 2), to: Self.sequenced(1, "room-a", 0x6A, 1), in: state)
            #expect(throws: StorageError.self) { try database.write(inverted, durability: .buffered) }
            // Inserts of the same prefix after it, each with its hint.
            try database.put(Self.sequenced(1, "room-a", 0x6A, 7), [7], in: state)
            try database.put(Self.sequenced(1, "room-a", 0x6A, 4), [4], in: state)
            let kept = try database.entries(KeyRange(), in: state).map(\.key)
            #expect(kept == [1, 2, 4, 5, 6, 7].map { Self.sequenced(1, "room-a", 0x6A, $0) })
            // The same from the bare record prefix: a plain range deletion.
            var pruning = WriteBatch()
            pruning.deleteRange(from: Self.prefix(1, "room-a", 0x6A), to: Self.sequenced(1, "room-a", 0x6A, 5), in: state)
            try database.write(pruning, durability: .buffered)
            #expect(try database.entries(KeyRange(), in: state).map(\.key) == [5, 6, 7].map { Self.sequenced(1, "room-a", 0x6A, $0) })
        }
    }
}
