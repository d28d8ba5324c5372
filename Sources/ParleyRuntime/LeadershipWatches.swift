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
    private let watches = Mutex<(byPartition: [PartitionID: RouteWatch], ended: Bool)>(([:], false))

    init(served: ServedPartitions, partitions: [PartitionID], changed: @escaping @Sendable () -> Void) {
        self.served = served
        self.changed = changed
        for partition in partitions { arm(partition) }
    }

    private func arm(_ partition: PartitionID) {
        let watch = served.watchRouteChange(of: partition, from: served.route(partition)) { [weak self] in
            guard let self else { return }
            changed()
            arm(partition)
        }
        guard let watch else { return }
        let keep = watches.withLock { watches -> Bool in
            guard !watches.ended else { return false }
            watches.byPartition[partition] = watch
            return true
        }
        if !keep { served.endWatch(watch) }
    }

    /// Ends every watch; none fires after this returns (unless one is firing already).
    func end() {
        let ended = watches.withLock { watches -> [RouteWatch] in
            watches.ended = true
            defer { watches.byPartition = [:] }
            return Array(watches.byPartition.values)
        }
        for watch in ended { served.endWatch(watch) }
    }
}
