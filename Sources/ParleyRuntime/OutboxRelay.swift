import Logging
import Metrics
import ParleyCluster
import ParleyDomain
import ParleyStorage
import ServiceLifecycle
import Synchronization

/// Delivers outbox records, at least once, then deletes them through the partition's log:
/// rooms' notices to staff members (applied once by the room's event seq) and the effects of
/// registered kinds (commands to other entities, applied once by source sequence, and
/// deliveries to sinks). A record delivered again after a crash or failover changes nothing.
public final class OutboxRelay: Service {
    let runtime: NodeRuntime
    let logger: Logger
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    /// How long to wait before retrying records whose delivery failed.
    let retryDelay: Duration

    public init(runtime: NodeRuntime, retryDelay: Duration = .milliseconds(500), logger: Logger = Logger(label: "parley.outbox")) {
        self.runtime = runtime
        self.logger = logger
        self.retryDelay = retryDelay
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        backlogs = Dictionary(uniqueKeysWithValues: ["notices", "effects"].map { kind in
            (kind, runtime.partitioner.allPartitions.map { Gauge(label: "parley_outbox_backlog", dimensions: [("partition", "\($0.rawValue)"), ("kind", kind)]) })
        })
    }

    /// Each partition's backlog gauges, by kind of record ("notices", "effects").
    private let backlogs: [String: [Gauge]]

    /// Where each partition's next scans start (past what this node relayed).
    let cursors = Mutex(OutboxCursors())
    /// Relayed records waiting to be deleted in one entry per partition (replicated only).
    let deletions = Mutex(RelayedDeletions())
    /// How long relayed records wait before their deletion entry is appended.
    static let deletionDelay: Duration = .milliseconds(200)
    /// Records one deletion entry holds at most before it is appended at once.
    static let deletionBatch = 2_048

    /// The gauge of a partition's outbox records waiting (as seen by the last pass, at most
    /// 256 a kind).
    func backlog(_ partition: PartitionID, kind: String) -> Gauge { backlogs[kind]![Int(partition.rawValue)] }

    /// Asks the relay to look for new records (called after commits that wrote some).
    public func nudge() { wakeContinuation.yield() }

    public func run() async throws {
        nudge()  // records left from before a restart
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if runtime.configuration.servedPartitions.isReplicated {
                    // A node that becomes a partition's leader takes over the records its
                    // predecessor had not delivered yet: look every second; and append the
                    // deletions of relayed records once they are due.
                    group.addTask {
                        var sinceLook = Duration.zero
                        while !Task.isCancelled {
                            try? await Task.sleep(for: Self.deletionDelay)
                            sinceLook += Self.deletionDelay
                            let deletionsWait = !self.deletions.withLock(\.isEmpty)
                            if sinceLook >= .seconds(1) || deletionsWait {
                                sinceLook = .zero
                                self.nudge()
                            }
                        }
                    }
                }
                // Failed records wait retryDelay, doubling up to maxRetryDelay while they keep failing.
                var backoff = retryDelay
                for await _ in wake {
                    var failed = false
                    while true {
                        let (count, hadFailure) = await relayBatch()
                        failed = failed || hadFailure
                        if count == 0 { break }
                    }
                    if failed {
                        try? await Task.sleep(for: backoff)
                        backoff = min(backoff * 2, Self.maxRetryDelay)
                        nudge()
                    } else {
                        backoff = retryDelay
                    }
                }
                group.cancelAll()
                // What was relayed is deleted now rather than delivered again by the next leader.
                _ = await deleteRelayed(all: true)
            }
        } onGracefulShutdown: {
            self.wakeContinuation.finish()
        }
    }

    /// The longest wait before records that keep failing are tried again.
    static let maxRetryDelay: Duration = .seconds(5)

    /// Staff members delivered to at once (each one's records in order, in as few commands as they fit).
    static let concurrentTargets = 64

    /// Delivers up to 256 records of each partition; returns how many went and whether any
    /// failed (those stay for the next pass). Records are grouped by the staff member they
    /// address: each member's go in order (a room's notices are applied by event seq), and
    /// different members' go concurrently, so deliveries to other nodes share the peer
    /// stream's batches instead of waiting on each other's round trips.
    func relayBatch() async -> (delivered: Int, failed: Bool) {
        let store = runtime.store
        var failed = false
        /// Records to delete: delivered, or unreadable.
        var done: [[UInt8]] = []
        var byStaff: [StaffID: [(key: [UInt8], batch: NoticeBatch)]] = [:]
        var order: [StaffID] = []
        let served = runtime.configuration.servedPartitions
        // Each partition's records are delivered by the node serving it (its Raft leader);
        // the other replicas hold the same records until that node's deletion reaches them.
        var scans: [OutboxScan] = []
        for partition in runtime.partitioner.allPartitions where served.serves(partition) {
            guard let (scan, records) = self.scan(.notices, of: partition, prefix: Outbox.prefix(partition)) else {
                failed = true
                continue
            }
            scans.append(scan)
            for record in records {
                var reader = BinaryReader(record.value)
                guard let batch = try? NoticeBatch.decode(from: &reader) else {
                    logger.error("dropping an unreadable outbox record", metadata: ["partition": "\(partition)"])
                    done.append(record.key)
                    continue
                }
                if byStaff[batch.staff] == nil { order.append(batch.staff) }
                byStaff[batch.staff, default: []].append((record.key, batch))
            }
        }
        var total = 0
        let staffRecords = order.compactMap { byStaff[$0] }
        for outcome in await concurrently(staffRecords, atMost: Self.concurrentTargets, { await self.deliver($0) }) {
            done += outcome.delivered
            total += outcome.delivered.count
            failed = failed || outcome.failed
        }
        let effects = await relayEffects()
        done += effects.done
        total += effects.done.count
        failed = failed || effects.failed
        scans += effects.scans
        // Records a scan met again while they wait for their deletion were delivered: the
        // cursors pass them too.
        let delivered = Set(done)
        let gone = delivered.union(scans.flatMap(\.waiting))
        if served.isReplicated {
            // Past the cursors now; deleted through the log in batches (`RelayedDeletions`).
            let now = ContinuousClock.now
            advanceCursors(over: scans, gone: gone)
            deletions.withLock { deletions in
                for scan in scans { deletions.add(scan.keys.filter(delivered.contains), of: scan.partition, generation: scan.generation, now: now) }
            }
            failed = await deleteRelayed() || failed
        } else if !done.isEmpty {
            var deletes = WriteBatch()
            for key in done { deletes.delete(key, in: store.family) }
            do {
                try await store.database.writeAsync(deletes, sync: false)
                advanceCursors(over: scans, gone: gone)
            } catch {
                logger.warning("outbox cleanup failed; records will be delivered again", metadata: ["error": "\(error)"])
            }
        }
        return (total, failed)
    }

    /// Reads up to 256 records of `queue` in `partition` from where its cursor stands; answers
    /// the scan (every key read) and the records to deliver (those not delivered already and
    /// waiting for their deletion), or nil when the read failed. A partition this node does
    /// not serve now (generation 0) gives nothing.
    func scan(_ queue: OutboxCursors.Queue, of partition: PartitionID, prefix: [UInt8]) -> (OutboxScan, [(key: [UInt8], value: [UInt8])])? {
        let generation = runtime.log.generation(of: partition)
        guard generation != 0 else { return (OutboxScan(queue: queue, partition: partition, generation: 0, keys: [], waiting: []), []) }
        let records: [(key: [UInt8], value: [UInt8])]
        do {
            let range = cursors.withLock { $0.range(of: queue, in: partition, prefix: prefix, generation: generation) }
            records = try runtime.store.database.entries(range, in: runtime.store.family, limit: 256)
        } catch {
            logger.warning("outbox read failed", metadata: ["partition": "\(partition)", "error": "\(error)"])
            return nil
        }
        let waiting = deletions.withLock { deletions in records.filter { deletions.isWaiting($0.key, of: partition) }.map(\.key) }
        let skipped = Set(waiting)
        let toDeliver = skipped.isEmpty ? records : records.filter { !skipped.contains($0.key) }
        backlog(partition, kind: queue == .notices ? "notices" : "effects").record(toDeliver.count)
        return (OutboxScan(queue: queue, partition: partition, generation: generation, keys: records.map(\.key), waiting: waiting), toDeliver)
    }

    private func advanceCursors(over scans: [OutboxScan], gone: Set<[UInt8]>) {
        cursors.withLock { cursors in
            for scan in scans where scan.generation != 0 {
                cursors.advance(scan.queue, in: scan.partition, generation: scan.generation, scanned: scan.keys, gone: gone)
            }
        }
    }

    /// Appends the deletions that are due (every one with `all`), one entry per partition, so
    /// every replica drops the records. Deletions of a partition this node no longer serves
    /// under the same generation are left to its next leader. A failed deletion sends the
    /// partition's scans back to its start: its records are delivered again (their targets
    /// apply them once) and deleted then. Returns whether one failed.
    private func deleteRelayed(all: Bool = false) async -> Bool {
        let due = deletions.withLock { $0.takeDue(now: .now, maxAge: Self.deletionDelay, maxKeys: Self.deletionBatch, all: all) }
        let log = runtime.log
        let current = due.filter { log.generation(of: $0.partition) == $0.generation }
        guard !current.isEmpty else { return false }
        let outcome = await runtime.deleteRelayedRecords(current.flatMap(\.keys), logger: logger)
        guard !outcome.failed.isEmpty else { return false }
        cursors.withLock { cursors in
            for partition in outcome.failed { cursors.reset(partition) }
        }
        return true
    }

    /// Records delivered to one staff member in one command.
    static let deliveriesPerCommand = 512

    /// Delivers one staff member's records in order, as few commands as there are chunks of
    /// `deliveriesPerCommand`; stops at the first failure (the rest wait for the next pass,
    /// keeping the order). Returns the keys of those delivered.
    private func deliver(_ records: [(key: [UInt8], batch: NoticeBatch)]) async -> (delivered: [[UInt8]], failed: Bool) {
        var delivered: [[UInt8]] = []
        for start in stride(from: 0, to: records.count, by: Self.deliveriesPerCommand) {
            let chunk = records[start..<min(start + Self.deliveriesPerCommand, records.count)]
            guard let staff = chunk.first?.batch.staff else { continue }
            let deliveries = chunk.map { StaffDelivery(room: $0.batch.room, eventSeq: $0.batch.eventSeq, notices: $0.batch.notices) }
            do {
                _ = try await runtime.perform(
                    .command(.staff(staff), caller: .system, payload: StaffCommand.deliverAll(deliveries).encoded, origin: nil, answer: .none))
                delivered += chunk.map(\.key)
            } catch {
                logger.debug("outbox delivery failed; will retry", metadata: ["staff": "\(staff)", "error": "\(error)"])
                return (delivered, true)
            }
        }
        return (delivered, false)
    }
}

/// The keys one pass read from one partition's queue, under the generation it read at, and
/// those of them already delivered and waiting for their deletion.
struct OutboxScan {
    let queue: OutboxCursors.Queue
    let partition: PartitionID
    let generation: UInt64
    let keys: [[UInt8]]
    let waiting: [[UInt8]]
}
