import Dispatch
import Foundation
import Logging
import Metrics
import ParleyStorage
import ServiceLifecycle
import Synchronization

/// The single-node partition log. Entries of every partition queue up; one committer thread
/// takes everything queued, makes the entries durable with one fsync, applies them to the
/// partitions' state, and settles every ticket of the batch. This is group commit:
/// concurrent proposers share the cost of the fsync.
///
/// The committer is a thread of its own because its work is blocking I/O end to end: a
/// Swift task would hold one of the cooperative pool's few threads through every fsync.
/// `run()` starts it and awaits it, so it is as structured as any service. On graceful
/// shutdown the log refuses new entries, commits what is queued, flushes the state and
/// returns.
public final class LocalPartitionLog: NodePartitionLog {
    /// Settings; every field has a default.
    public struct Configuration: Sendable {
        /// The most entries one commit takes.
        public var maxBatchEntries = 4_096
        /// How many of each partition's latest entries stay on disk after they are applied
        /// (kept for replicas to catch up from once the log is replicated).
        public var retainedEntries: UInt64 = 100_000
        /// How many entries a partition applies between writes of its applied index; a
        /// restart replays at most this many entries per partition beyond what was flushed.
        public var appliedIndexInterval: UInt64 = 256
        /// How long the committer may wait for the proposers it just answered to propose
        /// again, so the next fsync carries a full batch. It waits only while fewer entries
        /// are queued than the last batch held, so a lone proposer never waits.
        public var maxLinger: Duration = .microseconds(200)

        public init() {}
    }

    struct Pending {
        let partition: PartitionID
        let generation: UInt64
        let payload: [UInt8]
        let ticket: AppendTicket
    }

    struct Queue {
        var pending: [Pending] = []
        var committerSleeping = false
        /// While lingering, the queue length at which to wake the committer early.
        var lingerTarget = 0
        var closed = false
        /// Set when state could not be applied after its entries became durable: the node
        /// must restart (and replay) before it takes more entries.
        var failure: ClusterError?
        var generations: [UInt64]
        var statistics = LogStatistics()
        /// Views of applied state asked for, served by the committer between batches.
        var views: [AppliedViewRequest] = []
    }

    public let partitionCount: Int
    let configuration: Configuration
    let database: Database
    let families: LogFamilies
    let stateMachine: any PartitionStateMachine
    let logger: Logger
    let queue: Mutex<Queue>
    /// Wakes the committer thread when entries arrive or the log closes.
    let wakeCommitter = DispatchSemaphore(value: 0)
    /// Each partition's progress as recovered at start; only the committer moves it on, in
    /// its own copy.
    let recovered: [PartitionProgress]
    let metrics = LogMetrics()

    /// Opens the log over `database` (which must have been opened with `requiredFamilies`),
    /// checks that the database was laid out for `partitionCount` partitions, and replays
    /// entries whose state a crash lost.
    public init(
        database: Database,
        partitionCount: Int,
        stateMachine: any PartitionStateMachine,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "parley.log")
    ) throws(ClusterError) {
        self.partitionCount = partitionCount
        self.configuration = configuration
        self.database = database
        self.stateMachine = stateMachine
        self.logger = logger
        do {
            families = try LogFamilies(database)
            recovered = try Self.recover(database: database, families: families, partitionCount: partitionCount, stateMachine: stateMachine)
        } catch let error as StorageError {
            throw ClusterError(.storageFailure, error.description)
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError(.storageFailure, "\(error)")
        }
        queue = Mutex(Queue(generations: Array(repeating: 1, count: partitionCount)))
    }

    /// The column families `Database.open` must be given for this log.
    public static var requiredFamilies: [String] { LogLayout.allFamilies }

    /// Opens (creating if needed) a database laid out for the log: its families, with the
    /// memtables of the two logs' families (this one's, and the Raft log's, which is only
    /// written while the node runs and read when it starts) tuned for appends, and the state
    /// family's inserts of `stateInsertHints` keys hinted (the state machines' layout).
    public static func openDatabase(at path: String, stateInsertHints: SequencedRecordKeys? = nil) throws(StorageError) -> Database {
        var options = DatabaseOptions()
        options.appendOnlyFamilies = [LogLayout.logFamily, ReplicaLayout.family]
        if let stateInsertHints { options.insertHintedFamilies[LogLayout.stateFamily] = stateInsertHints }
        // The replicated log's family too, so one data directory serves either log.
        return try Database.open(at: path, columnFamilies: ReplicatedPartitionLog.requiredFamilies, options: options)
    }

    /// The column family that state machines' writes land in, for reading applied state.
    public var stateColumnFamily: ColumnFamily { families.state }

    /// Counts of what has been committed since the log was opened.
    public var statistics: LogStatistics { queue.withLock { $0.statistics } }

    public func generation(of partition: PartitionID) -> UInt64 {
        queue.withLock { $0.generations[Int(partition.rawValue)] }
    }

    public func append(_ payload: [UInt8], to partition: PartitionID, generation: UInt64) -> AppendTicket {
        guard Int(partition.rawValue) < partitionCount else {
            return .failed(ClusterError(.unknownPartition, "no partition \(partition) of \(partitionCount)"))
        }
        let ticket = AppendTicket()
        let (refusal, wake): (ClusterError?, Bool) = queue.withLock { queue in
            if let failure = queue.failure { return (failure, false) }
            guard !queue.closed else { return (ClusterError(.shuttingDown, "the node is shutting down"), false) }
            queue.pending.append(Pending(partition: partition, generation: generation, payload: payload, ticket: ticket))
            if queue.lingerTarget > 0 {
                guard queue.pending.count >= queue.lingerTarget else { return (nil, false) }
                queue.lingerTarget = 0
                return (nil, true)
            }
            defer { queue.committerSleeping = false }
            return (nil, queue.committerSleeping)
        }
        if let refusal {
            ticket.complete(.failure(refusal))
            return ticket
        }
        if wake { wakeCommitter.signal() }
        return ticket
    }

    /// Commits batches until shutdown, then drains what is queued.
    public func run() async throws {
        logger.info("partition log running", metadata: ["partitions": "\(partitionCount)"])
        // Graceful shutdown and cancellation both close the log: queued entries are still
        // committed, then the committer thread ends and `run` returns.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        self.commitLoop()
                        finished.resume()
                    }
                    thread.name = "parley.log.committer"
                    thread.start()
                }
            } onGracefulShutdown: {
                self.close()
            }
        } onCancel: {
            self.close()
        }
        logger.info("partition log drained")
    }

    /// Stops taking entries; queued ones are still committed.
    public func close() {
        let wake = queue.withLock { queue in
            queue.closed = true
            defer {
                queue.committerSleeping = false
                queue.lingerTarget = 0
            }
            return queue.committerSleeping || queue.lingerTarget > 0
        }
        if wake { wakeCommitter.signal() }
    }

    public func appliedView(of partitions: [PartitionID]) async throws(ClusterError) -> AppliedView {
        try await awaitAppliedView(of: partitions.filter { Int($0.rawValue) < partitionCount }) { request in
            let wake: Bool? = queue.withLock { queue in
                guard !queue.closed else { return nil }
                queue.views.append(request)
                defer { queue.committerSleeping = false }
                return queue.committerSleeping
            }
            if wake == true { wakeCommitter.signal() }
            return wake != nil
        }
    }

    private func commitLoop() {
        var progress = recovered
        while let work = nextWork() {
            switch work {
            case let .batch(batch):
                commit(batch, progress: &progress)
                compactIfDue(&progress)
                linger(expecting: batch.count)
            case let .views(requests):
                // Between batches: the state written is exactly that of `applied`.
                for request in requests { request.serve(database: database) { progress[Int($0.rawValue)].applied } }
            }
        }
        persistAppliedIndexes(progress)
    }

    /// Waits up to `maxLinger` for `expected` entries to be queued.
    private func linger(expecting expected: Int) {
        guard expected > 1, configuration.maxLinger > .zero else { return }
        let shouldWait = queue.withLock { queue in
            guard !queue.closed, queue.pending.count < expected else { return false }
            queue.lingerTarget = expected
            return true
        }
        guard shouldWait else { return }
        let nanoseconds = Int(configuration.maxLinger.components.attoseconds / 1_000_000_000 + configuration.maxLinger.components.seconds * 1_000_000_000)
        if wakeCommitter.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .timedOut {
            // Nobody signalled; but one may be about to: clear the target under the lock and
            // absorb a signal that raced with the timeout.
            let signalled = queue.withLock { queue in
                defer { queue.lingerTarget = 0 }
                return queue.lingerTarget == 0
            }
            if signalled { wakeCommitter.wait() }
        }
    }

    /// What the committer does next.
    private enum Work {
        case batch([Pending])
        case views([AppliedViewRequest])
    }

    /// The next batch to commit (or views to take), sleeping until there is one; nil once
    /// closed and drained.
    private func nextWork() -> Work? {
        while true {
            enum Step { case work(Work), finished, sleep }
            let step: Step = queue.withLock { queue in
                if !queue.views.isEmpty {
                    defer { queue.views = [] }
                    return .work(.views(queue.views))
                }
                if !queue.pending.isEmpty {
                    if queue.pending.count <= configuration.maxBatchEntries {
                        defer { queue.pending = [] }
                        return .work(.batch(queue.pending))
                    }
                    let batch = Array(queue.pending.prefix(configuration.maxBatchEntries))
                    queue.pending.removeFirst(configuration.maxBatchEntries)
                    return .work(.batch(batch))
                }
                if queue.closed { return .finished }
                queue.committerSleeping = true
                return .sleep
            }
            switch step {
            case let .work(work): return work
            case .finished: return nil
            case .sleep: wakeCommitter.wait()
            }
        }
    }
}

/// What a log has committed since it was opened.
public struct LogStatistics: Sendable, Equatable {
    /// Entries made durable and applied.
    public var appendedEntries = 0
    /// Atomic fsync'd writes that carried them.
    public var commits = 0
    /// Time spent in the fsync'd writes themselves.
    public var writeDuration: Duration = .zero
    /// Time from taking a batch to settling its tickets.
    public var commitDuration: Duration = .zero
}
