import Metrics
import ParleyStorage

extension LocalPartitionLog {
    /// Applies, writes with one fsync, and settles every ticket of `batch`.
    func commit(_ batch: [Pending], cursors: inout [LogCursor]) async {
        let started = ContinuousClock.now
        var generations = queue.withLock { $0.generations }
        var tentative: [Int: LogCursor] = [:]
        var writes = WriteBatch()
        writes.reserveCapacity(batch.count * 3)
        var accepted: [(ticket: AppendTicket, position: LogPosition)] = []
        accepted.reserveCapacity(batch.count)
        var failedPartitions: Set<Int> = []

        for pending in batch {
            let slot = Int(pending.partition.rawValue)
            guard pending.generation == generations[slot] else {
                pending.ticket.complete(.failure(PartitionLogError(
                    .stale, "partition \(pending.partition) is at generation \(generations[slot]), not \(pending.generation)")))
                continue
            }
            var cursor = tentative[slot] ?? cursors[slot]
            let entry = LogEntry(partition: pending.partition, index: cursor.lastIndex + 1, generation: pending.generation, payload: pending.payload)
            var stateWrites = StateWrites(family: stateFamily)
            do {
                try stateMachine.apply(entry, to: &stateWrites)
            } catch {
                // The proposer's in-memory state is now ahead of what will be stored: fence
                // everything else it pipelined by moving the generation on.
                generations[slot] += 1
                failedPartitions.insert(slot)
                pending.ticket.complete(.failure(PartitionLogError(.rejected, "\(error)")))
                continue
            }
            writes.append(contentsOf: stateWrites.batch)
            writes.put(LogLayout.entryKey(entry.partition, entry.index), LogLayout.encodeEntry(entry), in: logFamily)
            cursor.lastIndex = entry.index
            tentative[slot] = cursor
            accepted.append((pending.ticket, LogPosition(partition: entry.partition, index: entry.index, generation: entry.generation)))
        }

        for (slot, cursor) in tentative {
            var cursor = cursor
            let retained = configuration.retainedEntries
            if cursor.lastIndex >= cursor.firstIndex &+ retained &* 2 {
                let newFirst = cursor.lastIndex - retained + 1
                let partition = PartitionID(UInt16(slot))
                writes.deleteRange(
                    from: LogLayout.entryKey(partition, cursor.firstIndex),
                    to: LogLayout.entryKey(partition, newFirst), in: logFamily)
                cursor.firstIndex = newFirst
            }
            tentative[slot] = cursor
            writes.put(LogLayout.cursorKey(PartitionID(UInt16(slot))), LogLayout.encodeCursor(cursor), in: metaFamily)
        }

        if !writes.isEmpty {
            do {
                try await database.writeAsync(writes, sync: true)
                for (slot, cursor) in tentative { cursors[slot] = cursor }
            } catch {
                logger.error("commit failed", metadata: ["error": "\(error)", "entries": "\(accepted.count)"])
                for slot in tentative.keys { failedPartitions.insert(slot) }
                let failure = PartitionLogError(.storageFailure, error.description)
                bumpGenerations(failedPartitions)
                for item in accepted { item.ticket.complete(.failure(failure)) }
                metrics.failures.increment()
                return
            }
        }
        bumpGenerations(failedPartitions)
        for item in accepted { item.ticket.complete(.success(item.position)) }
        metrics.appends.increment(by: Int64(accepted.count))
        metrics.batches.increment()
        metrics.batchEntries.record(batch.count)
        metrics.commitDuration.recordInterval(since: started)
    }

    private func bumpGenerations(_ slots: Set<Int>) {
        guard !slots.isEmpty else { return }
        queue.withLock { queue in
            for slot in slots { queue.generations[slot] += 1 }
        }
    }
}

/// What the log reports to the metrics system.
struct LogMetrics: Sendable {
    let appends = Counter(label: "parley_log_appends_total")
    let batches = Counter(label: "parley_log_commits_total")
    let failures = Counter(label: "parley_log_commit_failures_total")
    let batchEntries = Recorder(label: "parley_log_commit_batch_entries", aggregate: true)
    let commitDuration = Metrics.Timer(label: "parley_log_commit_duration")
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        recordNanoseconds(nanos)
    }
}
