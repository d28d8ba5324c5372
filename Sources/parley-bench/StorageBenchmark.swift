import Foundation
import ParleyCluster
import ParleyStorage

/// `parley-bench storage [--seconds S]`: measures, on a temporary directory,
/// (a) raw RocksDB synced single puts per second, (b) raw RocksDB synced batches of 64
/// records, (c) the partition log's durable appends per second with 64 concurrent writers,
/// and prints one JSON line.

struct CountingStateMachine: PartitionStateMachine {
    /// One state record per entry, like a message post.
    func apply(_ entry: LogEntry, to writes: inout StateWrites) throws {
        var key = entry.partition.keyPrefix
        key.append(contentsOf: withUnsafeBytes(of: entry.index.bigEndian, Array.init))
        writes.put(key, entry.payload)
    }
}

func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "parley-bench-\(name)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let valueBytes = [UInt8](repeating: 0x61, count: 100)

func rawPuts(batch: Int, for duration: Duration) throws -> Double {
    let path = temporaryDirectory("raw\(batch)")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let database = try Database.open(at: path + "/db", columnFamilies: ["bench"])
    defer { database.close() }
    let family = try database.family("bench")
    var records = 0
    let start = ContinuousClock.now
    while ContinuousClock.now - start < duration {
        var writes = WriteBatch()
        for _ in 0..<batch {
            records += 1
            writes.put(Array("k\(records)".utf8), valueBytes, in: family)
        }
        try database.write(writes, sync: true)
    }
    return Double(records) / seconds(ContinuousClock.now - start)
}

func logAppends(writers: Int, for duration: Duration) async throws -> Double {
    let path = temporaryDirectory("log")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let database = try LocalPartitionLog.openDatabase(at: path + "/db")
    defer { database.close() }
    let log = try LocalPartitionLog(database: database, partitionCount: 64, stateMachine: CountingStateMachine())
    let partitioner = Partitioner(partitionCount: 64)
    return try await withThrowingTaskGroup(of: Int.self) { group in
        group.addTask {
            try await log.run()
            return 0
        }
        let start = ContinuousClock.now
        let deadline = start + duration
        for writer in 0..<writers {
            group.addTask {
                let partition = partitioner.partition(for: "room/bench-\(writer)")
                var appended = 0
                while ContinuousClock.now < deadline {
                    _ = try await log.append(valueBytes, to: partition, generation: log.generation(of: partition)).result()
                    appended += 1
                }
                return appended
            }
        }
        var total = 0
        for _ in 0..<writers {
            total += try await group.next() ?? 0
        }
        let elapsed = ContinuousClock.now - start
        let statistics = log.statistics
        FileHandle.standardError.write(Data("log: \(statistics.appendedEntries) entries in \(statistics.commits) commits (\(statistics.appendedEntries / max(statistics.commits, 1)) per commit), write \(statistics.writeDuration / max(statistics.commits, 1)) commit \(statistics.commitDuration / max(statistics.commits, 1)) per commit\n".utf8))
        log.close()
        _ = try await group.next()
        return Double(total) / seconds(elapsed)
    }
}

/// `parley-bench storage`: the three phases and one JSON line.
func runStorageBenchmark(_ arguments: [String]) async throws {
    var phaseSeconds = 5.0
    if let value = option("--seconds", in: arguments).flatMap(Double.init), value > 0, value <= 600 {
        phaseSeconds = value
    }
    let phase = Duration.milliseconds(Int64(phaseSeconds * 1_000))
    if arguments.contains("--only-log") {
        // For profiling the log alone.
        print(try await logAppends(writers: 64, for: phase))
        return
    }
    let single = try rawPuts(batch: 1, for: phase)
    let batched = try rawPuts(batch: 64, for: phase)
    let appends = try await logAppends(writers: 64, for: phase)
    printJSONLine([
        "raw_sync_puts_per_s": single.rounded(),
        "raw_sync_batch64_records_per_s": batched.rounded(),
        "log_appends_per_s": appends.rounded(),
        "log_vs_raw_batch64": (appends / batched * 1_000).rounded() / 1_000,
    ])
}
