import Synchronization

/// Callers suspended until a partition's route changes: a forwarded call to a partition's
/// leader waits here beside its answer, so it is abandoned the moment this node's view of the
/// leadership moves on (the leader was deposed or killed), with no timer per call.
///
/// The owner updates its view first and then calls `routeChanged(_:to:)`; a waiter registers
/// first and then checks the view. Either way round, no change is missed.
final class RouteChangeWaiters: Sendable {
    private struct Waiters {
        var nextID: UInt64 = 0
        /// Each waiter's route (the one it waits to see change) and continuation.
        var byPartition: [PartitionID: [UInt64: (route: PartitionRoute, continuation: CheckedContinuation<Void, Never>)]] = [:]
    }

    private let waiters = Mutex(Waiters())

    /// Returns once `current()` differs from `route`, or when the calling task is cancelled.
    func wait(for partition: PartitionID, from route: PartitionRoute, current: () -> PartitionRoute) async {
        let id = waiters.withLock { waiters in
            defer { waiters.nextID += 1 }
            return waiters.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                waiters.withLock { $0.byPartition[partition, default: [:]][id] = (route, continuation) }
                if current() != route || Task.isCancelled { resume(id, of: partition) }
            }
        } onCancel: {
            resume(id, of: partition)
        }
    }

    /// `partition`'s route is now `route`: wakes the callers that waited on another one.
    func routeChanged(_ partition: PartitionID, to route: PartitionRoute) {
        let woken = waiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            guard let waiting = waiters.byPartition[partition] else { return [] }
            let moved = waiting.filter { $0.value.route != route }
            guard !moved.isEmpty else { return [] }
            for id in moved.keys { waiters.byPartition[partition]![id] = nil }
            if waiters.byPartition[partition]!.isEmpty { waiters.byPartition[partition] = nil }
            return moved.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// How many callers wait (for tests and metrics).
    var count: Int { waiters.withLock { $0.byPartition.values.reduce(0) { $0 + $1.count } } }

    private func resume(_ id: UInt64, of partition: PartitionID) {
        let continuation = waiters.withLock { waiters -> CheckedContinuation<Void, Never>? in
            let waiting = waiters.byPartition[partition]?.removeValue(forKey: id)
            if waiters.byPartition[partition]?.isEmpty == true { waiters.byPartition[partition] = nil }
            return waiting?.continuation
        }
        continuation?.resume()
    }
}
