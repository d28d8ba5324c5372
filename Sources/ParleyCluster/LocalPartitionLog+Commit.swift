import Metrics
import ParleyStorage

extension LocalPartitionLog {
    /// Commits `batch`: decides each entry's state writes (refusing entries the state machine
    /// refuses), makes the entries and log cursors durable with one fsync, applies the state
    /// (unlogged: the log can rebuild it), and only then settles the tickets, so no reader
    /// ever sees state that a crash could take back.
    func commit(_ batch: [Pending], progress: inout [PartitionProgress]) {
        let started = ContinuousClock.now
        var generations = queue.withLock { $0.generations }
        var tentative: [Int: PartitionProgress] = [:]
        var logWrites = WriteBatch()
        logWrites.reserveCapacity(bytes: batch.count * 160)
        var stateWrites = StateWrites(family: families.state)
        stateWrites.reserveCapacity(bytes: batch.count * 200)
        var accepted: [(ticket: AppendTicket, position: LogPosition)] = []
        accepted.reserveCapacity(batch.count)
        var fenced: Set<Int> = []

        // Grouping by partition (stably, so each proposer's order holds) makes the keys
        // ascending, which keeps RocksDB's memtable inserts on its cheap sequential path.
        let ordered = batch.enumerated().sorted { ($0.element.partition, $0.offset) < ($1.element.partition, $1.offset) }.map(\.element)
        for pending in ordered {
            let slot = Int(pending.partition.rawValue)
            guard pending.generation == generations[slot] else {
                pending.ticket.complete(.failure(ClusterError(
                    .stale, "partition \(pending.partition) is at generation \(generations[slot]), not \(pending.generation)")))
                continue
            }
            var next = tentative[slot] ?? progress[slot]
            let entry = LogEntry(partition: pending.partition, index: next.log.lastIndex + 1, generation: pending.generation, payload: pending.payload)
            let mark = stateWrites.mark
            do {
                try stateMachine.apply(entry, to: &stateWrites)
            } catch {
                stateWrites.rollback(to: mark)
                // The proposer's in-memory state is now ahead of what will be stored: fence
                // everything else it pipelined by moving the generation on.
                generations[slot] += 1
                fenced.insert(slot)
                pending.ticket.complete(.failure(ClusterError(.rejected, "\(error)")))
                continue
            }
            logWrites.put(LogLayout.entryKey(entry.partition, entry.index), LogLayout.encodeEntry(entry), in: families.log)
            next.log.lastIndex = entry.index
            next.applied = entry.index
            tentative[slot] = next
            accepted.append((pending.ticket, LogPosition(partition: entry.partition, index: entry.index, generation: entry.generation)))
        }
        for (slot, next) in tentative where next.applied >= next.appliedWritten + configuration.appliedIndexInterval {
            stateWrites.put(LogLayout.appliedKey(PartitionID(UInt16(slot))), LogLayout.encodeIndex(next.applied))
            tentative[slot]?.appliedWritten = next.applied
        }

        var writeDuration = Duration.zero
        if !tentative.isEmpty {
            let writeStarted = ContinuousClock.now
            do throws(StorageError) {
                try database.write(logWrites, durability: .fsync)
            } catch {
                settleFailedCommit(.notDurable(error), accepted: accepted, partitions: Set(tentative.keys).union(fenced))
                return
            }
            writeDuration = ContinuousClock.now - writeStarted
            do throws(StorageError) {
                try database.write(stateWrites.batch, durability: .unlogged)
            } catch {
                settleFailedCommit(.notApplied(error), accepted: accepted, partitions: Set(tentative.keys).union(fenced))
                return
            }
            for (slot, next) in tentative { progress[slot] = next }
        }
        queue.withLock { queue in
            for slot in fenced { queue.generations[slot] += 1 }
            queue.statistics.appendedEntries += accepted.count
            if !tentative.isEmpty { queue.statistics.commits += 1 }
            queue.statistics.writeDuration += writeDuration
            queue.statistics.commitDuration += ContinuousClock.now - started
        }
        for item in accepted { item.ticket.complete(.success(item.position)) }
        metrics.appends.increment(by: Int64(accepted.count))
        metrics.batches.increment()
        metrics.batchEntries.record(batch.count)
        metrics.commitDuration.recordInterval(since: started)
    }

    enum WriteFailure: Error {
        /// Nothing of the batch is durable.
        case notDurable(StorageError)
        /// The entries are durable but their state is not applied; a restart replays them.
        case notApplied(StorageError)
    }

    private func settleFailedCommit(_ failure: WriteFailure, accepted: [(ticket: AppendTicket, position: LogPosition)], partitions: Set<Int>) {
        let error: ClusterError
        switch failure {
        case let .notDurable(storage):
            logger.error("commit failed; nothing of it is durable", metadata: ["error": "\(storage)", "entries": "\(accepted.count)"])
            error = ClusterError(.storageFailure, storage.description)
        case let .notApplied(storage):
            logger.critical(
                "entries are durable but could not be applied; refusing further entries until restart replays them",
                metadata: ["error": "\(storage)", "entries": "\(accepted.count)"])
            error = ClusterError(.storageFailure, "state could not be applied (\(storage.message)); the node must restart")
        }
        queue.withLock { queue in
            for slot in partitions { queue.generations[slot] += 1 }
            if case .notApplied = failure { queue.failure = error }
        }
        for item in accepted { item.ticket.complete(.failure(error)) }
        metrics.failures.increment()
    }

    /// Drops log entries that are both older than the retention window and covered by
    /// durable state. Making state durable takes a flush of the state column family, so it
    /// happens only once some partition holds twice the retention.
    func compactIfDue(_ progress: inout [PartitionProgress]) {
        let retained = configuration.retainedEntries
        let due = progress.indices.filter { progress[$0].log.lastIndex >= progress[$0].log.firstIndex &+ retained &* 2 }
        guard !due.isEmpty else { return }
        do throws(StorageError) {
            try flushState(&progress)
        } catch {
            logger.warning("state flush for log compaction failed; will retry", metadata: ["error": "\(error)"])
            return
        }
        var writes = WriteBatch()
        for slot in due {
            let partition = PartitionID(UInt16(slot))
            let newFirst = min(progress[slot].durableApplied, progress[slot].log.lastIndex - retained) + 1
            guard newFirst > progress[slot].log.firstIndex else { continue }
            writes.deleteRange(
                from: LogLayout.entryKey(partition, progress[slot].log.firstIndex),
                to: LogLayout.entryKey(partition, newFirst), in: families.log)
            progress[slot].log.firstIndex = newFirst
        }
        guard !writes.isEmpty else { return }
        do throws(StorageError) {
            try database.write(writes, durability: .buffered)
        } catch {
            logger.warning("log compaction write failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Writes every partition's applied index and flushes the state column family, so all
    /// applied state is durable and a restart replays nothing.
    func flushState(_ progress: inout [PartitionProgress]) throws(StorageError) {
        var writes = StateWrites(family: families.state)
        for slot in progress.indices where progress[slot].appliedWritten < progress[slot].applied {
            writes.put(LogLayout.appliedKey(PartitionID(UInt16(slot))), LogLayout.encodeIndex(progress[slot].applied))
        }
        if !writes.batch.isEmpty {
            try database.write(writes.batch, durability: .unlogged)
        }
        try database.flush(families.state)
        for slot in progress.indices {
            progress[slot].appliedWritten = progress[slot].applied
            progress[slot].durableApplied = progress[slot].applied
        }
    }

    /// At shutdown: makes all applied state durable.
    func persistAppliedIndexes(_ progress: [PartitionProgress]) {
        var final = progress
        do throws(StorageError) {
            try flushState(&final)
        } catch {
            logger.error("could not flush state at shutdown; the next start replays the log", metadata: ["error": "\(error)"])
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
    /// Snapshot chunks a leader sent and a follower took.
    let snapshotChunks = Counter(label: "parley_raft_snapshot_chunks_sent_total")
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        recordNanoseconds(nanos)
    }
}
