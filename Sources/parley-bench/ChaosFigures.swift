import Foundation

/// Failover and unavailability figures from the ledger.
enum ChaosFigures {
    /// One kill's failover: from the kill to the first acknowledged write, by any sender, to
    /// one of the written partitions the killed nodes led that kept a majority. A write counts
    /// when it provably went through a live leader: its message was decided after the kill
    /// (`posted_at`, the nodes share this machine's clock), or its attempt began after the
    /// kill (a replayed answer comes from the serving leader too), or it is a replay answered
    /// more than `replayMargin` ms after the kill (a forwarder retried it on the new leader),
    /// so an answer the dead leader sent just before dying cannot pass for a failover. Nil
    /// where such a partition never took a write again.
    struct Failover {
        let fault: ChaosLedger.Fault
        let milliseconds: Double?
        /// The same per partition (its own first write after the kill).
        let perPartition: [Int: Double?]
        /// When (since the kill) the attempt acknowledged first began.
        let firstAttemptMs: Double?
    }

    static let replayMargin = 500.0

    static func failovers(faults: [ChaosLedger.Fault], acks: [ChaosLedger.Ack]) -> [Failover] {
        let byPartition = Dictionary(grouping: acks, by: \.partition).mapValues { $0.sorted { $0.ackMs < $1.ackMs } }
        return faults.filter { $0.kind.hasPrefix("kill") }.compactMap { fault in
            let kept = fault.led.filter(\.value).keys
            guard !kept.isEmpty else { return nil }
            var perPartition: [Int: Double?] = [:]
            var firsts: [ChaosLedger.Ack] = []
            for partition in kept {
                let first = byPartition[partition]?.first { ack in
                    ack.attemptStartMs > fault.atMs || (ack.postedAtMs ?? 0) > fault.atMs + 1 || (ack.replayed && ack.ackMs > fault.atMs + replayMargin)
                }
                perPartition[partition] = first.map { $0.ackMs - fault.atMs }
                if let first { firsts.append(first) }
            }
            let first = firsts.min { $0.ackMs < $1.ackMs }
            return Failover(
                fault: fault, milliseconds: first.map { $0.ackMs - fault.atMs }, perPartition: perPartition,
                firstAttemptMs: first.map { $0.attemptStartMs - fault.atMs })
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
