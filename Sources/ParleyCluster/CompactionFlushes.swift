import Synchronization

/// The state flush a log compaction waits for, between the driver (which asks for it and
/// compacts once it is done) and the loop that runs it off the driver thread: one at a time,
/// with the compaction point of each partition it was asked for.
final class CompactionFlushes: Sendable {
    private struct State {
        /// Asked for and not yet taken by the loop.
        var requested: [PartitionID: UInt64]?
        /// Asked for and not yet reported back to the driver.
        var underWay = false
        var closed = false
    }

    private let state = Mutex(State())
    let signals: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (signals, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a flush after which each partition's log may be cut at its index in `points`;
    /// false (nothing asked) while another is under way or once closed.
    func request(_ points: [PartitionID: UInt64]) -> Bool {
        let asked = state.withLock { state in
            guard !state.closed, !state.underWay else { return false }
            state.requested = points
            state.underWay = true
            return true
        }
        if asked { continuation.yield() }
        return asked
    }

    /// The flush asked for, for the loop to run.
    func take() -> [PartitionID: UInt64]? {
        state.withLock { state in
            defer { state.requested = nil }
            return state.requested
        }
    }

    /// The flush ran (either way) and its outcome reached the driver: another may be asked.
    func ended() { state.withLock { $0.underWay = false } }

    /// No more flushes are asked; the loop ends.
    func close() {
        state.withLock { $0.closed = true }
        continuation.finish()
    }
}
