import Logging
import Metrics
import ParleyStorage
import ServiceLifecycle
import Synchronization

/// The single-node partition log: entries of every partition queue up, and one committer
/// writes everything queued (log entries, the state they apply, the partitions' cursors) in
/// one atomic RocksDB batch with one fsync, then settles every ticket of the batch. This is
/// group commit: concurrent proposers share the cost of the fsync.
///
/// Run it as a `Service`; on graceful shutdown it refuses new entries, commits what is queued
/// and returns.
public final class LocalPartitionLog: PartitionLog, Service {
    /// Settings; every field has a default.
    public struct Configuration: Sendable {
        /// The most entries one commit takes.
        public var maxBatchEntries = 4_096
        /// How many of each partition's latest entries stay on disk after they are applied
        /// (kept for replicas to catch up from once the log is replicated).
        public var retainedEntries: UInt64 = 100_000

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
        var committerWaiting: CheckedContinuation<Void, Never>?
        var closed = false
        var generations: [UInt64]
    }

    public let partitionCount: Int
    let configuration: Configuration
    let database: Database
    let logFamily: ColumnFamily
    let stateFamily: ColumnFamily
    let metaFamily: ColumnFamily
    let stateMachine: any PartitionStateMachine
    let logger: Logger
    let queue: Mutex<Queue>
    /// The cursors read at start; only the committer loop moves them on, in its own copy.
    let recoveredCursors: [LogCursor]
    let metrics = LogMetrics()

    /// Opens the log over `database` (which must have been opened with `requiredFamilies`),
    /// checking that the database was laid out for `partitionCount` partitions.
    public init(
        database: Database,
        partitionCount: Int,
        stateMachine: any PartitionStateMachine,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "parley.log")
    ) throws(PartitionLogError) {
        self.partitionCount = partitionCount
        self.configuration = configuration
        self.database = database
        self.stateMachine = stateMachine
        self.logger = logger
        do {
            logFamily = try database.family(LogLayout.logFamily)
            stateFamily = try database.family(LogLayout.stateFamily)
            metaFamily = try database.family(LogLayout.metaFamily)
            recoveredCursors = try Self.recover(database: database, meta: metaFamily, partitionCount: partitionCount)
        } catch let error as StorageError {
            throw PartitionLogError(.storageFailure, error.description)
        } catch let error as PartitionLogError {
            throw error
        } catch {
            throw PartitionLogError(.storageFailure, "\(error)")
        }
        queue = Mutex(Queue(generations: Array(repeating: 1, count: partitionCount)))
    }

    /// The column families `Database.open` must be given for this log.
    public static var requiredFamilies: [String] { LogLayout.allFamilies }

    /// The column family that state machines' writes land in, for reading applied state.
    public var stateColumnFamily: ColumnFamily { stateFamily }

    public func generation(of partition: PartitionID) -> UInt64 {
        queue.withLock { $0.generations[Int(partition.rawValue)] }
    }

    public func append(_ payload: [UInt8], to partition: PartitionID, generation: UInt64) -> AppendTicket {
        guard Int(partition.rawValue) < partitionCount else {
            return .failed(PartitionLogError(.unknownPartition, "no partition \(partition) of \(partitionCount)"))
        }
        let ticket = AppendTicket()
        let (accepted, waiter): (Bool, CheckedContinuation<Void, Never>?) = queue.withLock { queue in
            guard !queue.closed else { return (false, nil) }
            queue.pending.append(Pending(partition: partition, generation: generation, payload: payload, ticket: ticket))
            defer { queue.committerWaiting = nil }
            return (true, queue.committerWaiting)
        }
        guard accepted else {
            ticket.complete(.failure(PartitionLogError(.shuttingDown, "the node is shutting down")))
            return ticket
        }
        waiter?.resume()
        return ticket
    }

    /// Commits batches until shutdown, then drains what is queued.
    public func run() async throws {
        logger.info("partition log running", metadata: ["partitions": "\(partitionCount)"])
        var cursors = recoveredCursors
        await withGracefulShutdownHandler {
            while let batch = await nextBatch() {
                await commit(batch, cursors: &cursors)
            }
        } onGracefulShutdown: {
            self.close()
        }
        logger.info("partition log drained")
    }

    /// Stops taking entries; queued ones are still committed.
    public func close() {
        let waiter = queue.withLock { queue in
            queue.closed = true
            defer { queue.committerWaiting = nil }
            return queue.committerWaiting
        }
        waiter?.resume()
    }

    /// The next batch to commit, waiting for one; nil once closed and drained.
    private func nextBatch() async -> [Pending]? {
        while true {
            enum Step { case batch([Pending]), finished, wait }
            let step: Step = queue.withLock { queue in
                if !queue.pending.isEmpty {
                    if queue.pending.count <= configuration.maxBatchEntries {
                        defer { queue.pending = [] }
                        return .batch(queue.pending)
                    }
                    let batch = Array(queue.pending.prefix(configuration.maxBatchEntries))
                    queue.pending.removeFirst(configuration.maxBatchEntries)
                    return .batch(batch)
                }
                return queue.closed ? .finished : .wait
            }
            switch step {
            case let .batch(batch): return batch
            case .finished: return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = queue.withLock { queue in
                        guard queue.pending.isEmpty, !queue.closed else { return true }
                        queue.committerWaiting = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private static func recover(database: Database, meta: ColumnFamily, partitionCount: Int) throws -> [LogCursor] {
        if let layout = try database.get(LogLayout.layoutKey, in: meta) {
            let stored = layout.reduce(0) { $0 << 8 | Int($1) }
            guard stored == partitionCount else {
                throw PartitionLogError(
                    .layoutMismatch,
                    "the data directory was created with \(stored) partitions but the configuration says \(partitionCount)")
            }
        } else {
            let bytes = [UInt8(partitionCount >> 8 & 0xFF), UInt8(partitionCount & 0xFF)]
            try database.put(LogLayout.layoutKey, bytes, in: meta, sync: true)
        }
        return try (0..<partitionCount).map { index in
            let raw = try database.get(LogLayout.cursorKey(PartitionID(UInt16(index))), in: meta)
            return raw.flatMap(LogLayout.decodeCursor) ?? LogCursor()
        }
    }
}
