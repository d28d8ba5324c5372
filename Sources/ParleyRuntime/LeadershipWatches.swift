import ParleyCluster
import Synchronization

/// Calls `changed` whenever any partition's route on this node moves (it took or lost a
/// leadership, or learned of another leader): a service that acts on the partitions it leads
/// (`TimerService`) looks again at once instead of polling for leadership changes. Each watch
/// re-arms itself after it fires; `end()` ends them all. A static placement's routes never
/// move, so nothing is watched.
final class LeadershipWatches: Sendable {
    private let served: ServedPartitions
    private let changed: @Sendable () -> Void
    /// Each partition's live watch and its generation (an arming that finds the generation
    /// moved was overtaken by a newer one, armed from inside its own wake, and steps aside).
    private let watches = Mutex<(byPartition: [PartitionID: (watch: RouteWatch?, generation: UInt64)], ended: Bool)>(([:], false))

    init(served: ServedPartitions, partitions: [PartitionID], changed: @escaping @Sendable () -> Void) {
        self.served = served
        self.changed = changed
        for partition in partitions { arm(partition) }
    }

    private func arm(_ partition: PartitionID) {
        let generation = watches.withLock { watches -> UInt64? in
            guard !watches.ended else { return nil }
            let next = (watches.byPartition[partition]?.generation ?? 0) + 1
            watches.byPartition[partition] = (nil, next)
            return next
        }
        guard let generation else { return }
        // The wake may run at once, inside this call, when the route moved meanwhile.
        let watch = served.watchRouteChange(of: partition, from: served.route(partition)) { [weak self] in
            guard let self else { return }
            arm(partition)  // the new baseline first, then the ring
            changed()
        }
        guard let watch else { return }
        let keep = watches.withLock { watches -> Bool in
            guard !watches.ended, watches.byPartition[partition]?.generation == generation else { return false }
            watches.byPartition[partition] = (watch, generation)
            return true
        }
        if !keep { served.endWatch(watch) }
    }

    /// Ends every watch; none fires after this returns (unless one is firing already).
    func end() {
        let ended = watches.withLock { watches -> [RouteWatch] in
            watches.ended = true
            defer { watches.byPartition = [:] }
            return watches.byPartition.values.compactMap(\.watch)
        }
        for watch in ended { served.endWatch(watch) }
    }
}
