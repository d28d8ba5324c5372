import Logging
import Metrics
import ParleyCluster
import ParleyDomain
import ParleyStorage
import ServiceLifecycle
import Synchronization

/// Fires durable timers. Timers are partition state (written with the entry that set them,
/// in deadline order); this service, on every node, fires those of the partitions the node
/// leads once they are due, as ordinary commands through the entity (logged and fenced like
/// any other, so a stale leader's firing never commits). After a failover the new leader
/// finds the same records: a deadline that passed while no leader existed fires at its
/// first look, which a leadership change rings for (`LeadershipWatches`); `rescanInterval`
/// bounds the sleep in any case.
public final class TimerService: Service {
    private let runtime: NodeRuntime
    private let logger: Logger
    private let doorbell = Doorbell()
    /// The longest sleep between looks. Set timers and leadership changes ring the service
    /// awake, so this is a safety net, not what an idle node pays for every quarter second.
    let rescanInterval: Duration

    /// How late timers fire (milliseconds past their deadline).
    static let lateness = Recorder(label: "parley_timer_lateness_ms")
    static let fired = Counter(label: "parley_timers_fired_total")

    public init(runtime: NodeRuntime, rescanInterval: Duration = .seconds(2), logger: Logger = Logger(label: "parley.timers")) {
        self.runtime = runtime
        self.rescanInterval = rescanInterval
        self.logger = logger
    }

    public func run() async throws {
        let doorbell = self.doorbell
        runtime.timerSignal.set { [weak self] partition, deadline in
            self?.floors.withLock { $0.timerSet(deadline.milliseconds, in: partition) }
            doorbell.ring()
        }
        let leaderships = LeadershipWatches(served: runtime.configuration.servedPartitions, partitions: Array(runtime.partitioner.allPartitions)) {
            doorbell.ring()
        }
        defer { leaderships.end() }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = await self.fireDue()
                var wait = self.rescanInterval
                if let next {
                    let until = next.milliseconds - self.runtime.clock.now().milliseconds
                    wait = min(wait, .milliseconds(max(0, until)))
                }
                if wait > .zero { await doorbell.wait(atMost: wait) }
            }
        }
    }

    /// Timers looked at per partition per round.
    static let batch = 64

    /// Where each partition's scans start (past the timers gone since).
    let floors = Mutex(TimerFloors())

    /// Fires every due timer of the partitions this node leads; returns the earliest deadline
    /// still ahead (nil: none seen).
    func fireDue() async -> Timestamp? {
        let store = runtime.store
        let served = runtime.configuration.servedPartitions
        let now = runtime.clock.now()
        var due: [(key: [UInt8], timer: TimerRecord)] = []
        var hopeless: [[UInt8]] = []
        var next: Timestamp?
        let signalled = floors.withLock { $0.beginRound(now: .now) }
        for partition in runtime.partitioner.allPartitions where served.serves(partition) {
            let records: [(key: [UInt8], value: [UInt8])]
            let generation = runtime.log.generation(of: partition)
            guard generation != 0 else { continue }  // not served here any more
            let start = floors.withLock { $0.start(of: partition, generation: generation, signalled: signalled[partition]) }
            let prefix = PartitionRecords.timersPrefix(partition)
            var range = KeyRange.prefix(prefix)
            if start > 0 { range.lower = prefix + StateKeys.bigEndian(UInt64(start)) }
            do {
                records = try store.database.entries(range, in: store.family, limit: Self.batch)
            } catch {
                logger.warning("timer read failed", metadata: ["partition": "\(partition)", "error": "\(error)"])
                // What was signalled for it this round is not lost: the next scan starts over.
                floors.withLock { $0.forget(partition) }
                continue
            }
            let firstLive = records.first.flatMap { PartitionRecords.timerDeadline(of: $0.key, in: partition) }
            floors.withLock { $0.record(partition, generation: generation, start: start, firstLive: firstLive, now: now.milliseconds) }
            for (key, value) in records {
                guard let timer = try? TimerRecord.decode(value) else {
                    logger.error("dropping an unreadable timer record", metadata: ["partition": "\(partition)"])
                    hopeless.append(key)
                    continue
                }
                if timer.at <= now {
                    due.append((key, timer))
                } else {
                    next = min(next ?? timer.at, timer.at)
                    break
                }
            }
        }
        if !due.isEmpty {
            // Each entity's due timers fire in deadline order, one after another; different
            // entities' at once, at most `concurrentFires` at a time.
            var byEntity: [EntityID: [(key: [UInt8], timer: TimerRecord)]] = [:]
            var order: [EntityID] = []
            for item in due.sorted(by: { $0.timer.at < $1.timer.at }) {
                if byEntity[item.timer.entity] == nil { order.append(item.timer.entity) }
                byEntity[item.timer.entity, default: []].append(item)
            }
            let outcomes = await concurrently(order.compactMap { byEntity[$0] }, atMost: Self.concurrentFires) { await self.fire($0) }.flatMap { $0 }
            hopeless += outcomes.filter(\.hopeless).map(\.key)
            // Something fired: look again at once (more may be due); a failure waits a round.
            if outcomes.allSatisfy(\.fired) { doorbell.ring() }
        }
        if !hopeless.isEmpty { await drop(hopeless) }
        return next
    }

    /// Entities whose timers fire at once.
    static let concurrentFires = 64

    /// Fires one entity's due timers in order; stops at the first that fails for now (the
    /// rest wait for the next round, keeping the order).
    private func fire(_ timers: [(key: [UInt8], timer: TimerRecord)]) async -> [(key: [UInt8], fired: Bool, hopeless: Bool)] {
        var outcomes: [(key: [UInt8], fired: Bool, hopeless: Bool)] = []
        for (key, timer) in timers {
            do throws(RuntimeError) {
                _ = try await runtime.perform(.fireTimer(timer.entity, tag: timer.tag, deadline: timer.at))
                let (late, overflow) = runtime.clock.now().milliseconds.subtractingReportingOverflow(timer.at.milliseconds)
                Self.lateness.record(overflow ? 0 : max(0, late))
                Self.fired.increment()
                outcomes.append((key, true, false))
            } catch {
                let hopeless = OutboxRelay.isFinal(error)
                logger.log(
                    level: hopeless ? .warning : .debug, hopeless ? "a timer can never fire; dropping it" : "a timer did not fire; it will be tried again",
                    metadata: ["entity": "\(timer.entity)", "error": "\(error)"])
                outcomes.append((key, false, hopeless))
                if !hopeless { break }
            }
        }
        return outcomes
    }

    /// Deletes timer records that can never fire, through their partitions' logs.
    private func drop(_ keys: [[UInt8]]) async {
        _ = await runtime.deleteRelayedRecords(keys, logger: logger)
    }
}
