import Foundation

/// Failover and unavailability figures from the ledger.
enum ChaosFigures {
    /// One fault's failover, per written partition its nodes led: from the fault to the first
    /// acknowledged write on that partition, for those that kept a majority of live replicas;
    /// for those that lost it, from the fault's healing (the nodes back) to the first write.
    /// A write counts when it provably went through a live leader: its message was decided
    /// after the moment measured from (`posted_at`, the nodes share this machine's clock), or
    /// its attempt began after it (a replayed answer comes from the serving leader too), or it
    /// is a replay answered more than `replayMargin` ms after it (a forwarder retried it on
    /// the new leader), so an answer the old leader sent just before the fault cannot pass for
    /// a failover; and never an answer that arrived before that moment. Nil where such a
    /// partition never took a write again.
    struct Failover {
        let fault: ChaosLedger.Fault
        /// Partitions that kept a majority: milliseconds from the fault to their first write.
        let kept: [Int: Double?]
        /// Partitions that lost it: milliseconds from the healing to their first write.
        let lost: [Int: Double?]
        /// When (since the fault) the attempt of the first write of any kept partition began.
        let firstAttemptMs: Double?
    }

    static let replayMargin = 500.0
    /// How far a `posted_at` may lie after its answer's arrival before the wall clock is
    /// taken to have been stepped.
    static let clockSlackMs = 50.0

    static func failovers(faults: [ChaosLedger.Fault], acks: [ChaosLedger.Ack]) -> [Failover] {
        let byPartition = Dictionary(grouping: acks, by: \.partition).mapValues { $0.sorted { $0.ackMs < $1.ackMs } }
        func firstWrite(on partition: Int, after moment: Double) -> ChaosLedger.Ack? {
            byPartition[partition]?.first { ack in
                guard ack.ackMs > moment else { return false }
                // `posted_at` is the node's wall clock put on the run's monotonic scale: it is
                // believed only while it agrees with the answer (a message is decided before its
                // answer arrives), since the machine's wall clock may be stepped during a run.
                let postedAt = ack.postedAtMs.flatMap { $0 <= ack.ackMs + clockSlackMs ? $0 : nil }
                return ack.attemptStartMs > moment || (postedAt ?? 0) > moment + 1 || (ack.replayed && ack.ackMs > moment + replayMargin)
            }
        }
        return faults.map { fault in
            var kept: [Int: Double?] = [:]
            var lost: [Int: Double?] = [:]
            var firstAttempt: Double?
            for (partition, keptMajority) in fault.led {
                if keptMajority {
                    let first = firstWrite(on: partition, after: fault.atMs)
                    kept[partition] = first.map { $0.ackMs - fault.atMs }
                    if let first { firstAttempt = min(firstAttempt ?? .infinity, first.attemptStartMs - fault.atMs) }
                } else {
                    lost[partition] = firstWrite(on: partition, after: fault.endedMs).map { $0.ackMs - fault.endedMs }
                }
            }
            return Failover(fault: fault, kept: kept, lost: lost, firstAttemptMs: firstAttempt)
        }
    }

    /// The longest time a written partition had no acknowledged write while a send to it
    /// was under way: for each send, from its first attempt (or the partition's last
    /// acknowledgement after that) to its own acknowledgement or the end of the load.
    /// Returns the stretch, its partition and when it ended.
    static func longestUnavailability(operations: [ChaosLedger.Operation], acks: [ChaosLedger.Ack]) -> (ms: Double, partition: Int, endMs: Double) {
        let times = Dictionary(grouping: acks, by: \.partition).mapValues { $0.map(\.ackMs).sorted() }
        var longest: (ms: Double, partition: Int, endMs: Double) = (0, -1, 0)
        for operation in operations {
            let acked = times[operation.partition] ?? []
            // The last acknowledgement on the partition strictly before the operation ended.
            var low = 0
            var high = acked.count
            while low < high {
                let middle = (low + high) / 2
                if acked[middle] < operation.endMs { low = middle + 1 } else { high = middle }
            }
            let since = low > 0 ? max(operation.startMs, acked[low - 1]) : operation.startMs
            let stretch = operation.endMs - since
            if stretch > longest.ms { longest = (stretch, operation.partition, operation.endMs) }
        }
        return longest
    }
}
