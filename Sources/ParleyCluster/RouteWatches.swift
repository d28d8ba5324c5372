import Synchronization

/// One watch of a partition's route (`PartitionLeadership.watchRouteChange`), for ending it.
public struct RouteWatch: Sendable, Hashable {
    public let partition: PartitionID
    let id: UInt64
}

/// Watches of partitions' routes: a forwarded call to a partition's leader is watched while it
/// waits for its answer, so it is abandoned the moment this node's view of the leadership moves
/// on (the leader was deposed or killed), with no timer and no task per call.
///
/// The owner updates its view first and then calls `routeChanged(_:to:)`; a watch registers
/// first and then checks the view. Either way round, no change is missed, and each watch's
/// `wake` runs at most once.
final class RouteWatches: Sendable {
    private struct Watches {
        var nextID: UInt64 = 0
        /// Each watch's route (the one it waits to see change) and what it runs then.
        var byPartition: [PartitionID: [UInt64: (route: PartitionRoute, wake: @Sendable () -> Void)]] = [:]
    }

    private let watches = Mutex(Watches())

    /// Runs `wake` once `current()` differs from `route` (at once, if it does already).
    func watch(
        _ partition: PartitionID, from route: PartitionRoute, current: () -> PartitionRoute, wake: @escaping @Sendable () -> Void
    ) -> RouteWatch {
        let id = watches.withLock { watches in
            defer { watches.nextID += 1 }
            watches.byPartition[partition, default: [:]][watches.nextID] = (route, wake)
            return watches.nextID
        }
        let watch = RouteWatch(partition: partition, id: id)
        if current() != route { take(watch)?() }
        return watch
    }

    /// Ends `watch`: its `wake` does not run after this (unless it is running already).
    func end(_ watch: RouteWatch) {
        _ = take(watch)
    }

    /// `partition`'s route is now `route`: wakes the watches that waited on another one.
    func routeChanged(_ partition: PartitionID, to route: PartitionRoute) {
        let woken = watches.withLock { watches -> [@Sendable () -> Void] in
            guard let watching = watches.byPartition[partition] else { return [] }
            let moved = watching.filter { $0.value.route != route }
            guard !moved.isEmpty else { return [] }
            for id in moved.keys { watches.byPartition[partition]![id] = nil }
            if watches.byPartition[partition]!.isEmpty { watches.byPartition[partition] = nil }
            return moved.values.map(\.wake)
        }
        for wake in woken { wake() }
    }

    /// How many watches wait (for tests and metrics).
    var count: Int { watches.withLock { $0.byPartition.values.reduce(0) { $0 + $1.count } } }

    private func take(_ watch: RouteWatch) -> (@Sendable () -> Void)? {
        watches.withLock { watches in
            let taken = watches.byPartition[watch.partition]?.removeValue(forKey: watch.id)
            if watches.byPartition[watch.partition]?.isEmpty == true { watches.byPartition[watch.partition] = nil }
            return taken?.wake
        }
    }
}
