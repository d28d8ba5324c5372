import Logging
import ParleyCluster
import ParleyDomain
import ParleyStorage
import ServiceLifecycle

/// Delivers outbox records to the entities they address (today: staff members' notices),
/// at least once, then deletes them. Targets apply them once (by the source's event seq), so
/// a record delivered again after a crash changes nothing.
public final class OutboxRelay: Service {
    private let runtime: NodeRuntime
    private let logger: Logger
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    /// How long to wait before retrying records whose delivery failed.
    let retryDelay: Duration

    public init(runtime: NodeRuntime, retryDelay: Duration = .milliseconds(500), logger: Logger = Logger(label: "parley.outbox")) {
        self.runtime = runtime
        self.logger = logger
        self.retryDelay = retryDelay
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the relay to look for new records (called after commits that wrote some).
    public func nudge() { wakeContinuation.yield() }

    public func run() async throws {
        nudge()  // records left from before a restart
        try await withGracefulShutdownHandler {
            for await _ in wake {
                var failed = false
                while true {
                    let (count, hadFailure) = await relayBatch()
                    failed = failed || hadFailure
                    if count == 0 { break }
                }
                if failed {
                    try? await Task.sleep(for: retryDelay)
                    nudge()
                }
            }
        } onGracefulShutdown: {
            self.wakeContinuation.finish()
        }
    }

    /// Delivers up to 256 records of each partition; returns how many went and whether any
    /// failed (those stay for the next pass).
    func relayBatch() async -> (delivered: Int, failed: Bool) {
        let store = runtime.store
        var total = 0
        var failed = false
        for partition in runtime.partitioner.allPartitions {
            let records: [(key: [UInt8], value: [UInt8])]
            do {
                records = try store.database.entries(.prefix(Outbox.prefix(partition)), in: store.family, limit: 256)
            } catch {
                logger.warning("outbox read failed", metadata: ["partition": "\(partition)", "error": "\(error)"])
                failed = true
                continue
            }
            guard !records.isEmpty else { continue }
            var done = WriteBatch()
            for record in records {
                var reader = BinaryReader(record.value)
                guard let batch = try? NoticeBatch.decode(from: &reader) else {
                    logger.error("dropping an unreadable outbox record", metadata: ["partition": "\(partition)"])
                    done.delete(record.key, in: store.family)
                    continue
                }
                do {
                    _ = try await runtime.staffCommand(.deliver(room: batch.room, eventSeq: batch.eventSeq, notices: batch.notices), for: batch.staff)
                    done.delete(record.key, in: store.family)
                    total += 1
                } catch {
                    // Later records of this partition may address the same staff member: keep
                    // the order by stopping here until the next pass.
                    logger.debug("outbox delivery failed; will retry", metadata: ["staff": "\(batch.staff)", "error": "\(error)"])
                    failed = true
                    break
                }
            }
            if !done.isEmpty {
                do {
                    try await store.database.writeAsync(done, sync: false)
                } catch {
                    logger.warning("outbox cleanup failed; records will be delivered again", metadata: ["error": "\(error)"])
                }
            }
        }
        return (total, failed)
    }
}
