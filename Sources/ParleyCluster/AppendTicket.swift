import Synchronization

/// The promise of one appended entry: completed once, awaited once.
public final class AppendTicket: Sendable {
    public typealias Outcome = Result<LogPosition, ClusterError>

    private enum State {
        case pending(CheckedContinuation<Outcome, Never>?)
        case completed(Outcome)
    }

    private let state = Mutex<State>(.pending(nil))

    public init() {}

    /// A ticket that has already failed.
    public static func failed(_ error: ClusterError) -> AppendTicket {
        let ticket = AppendTicket()
        ticket.complete(.failure(error))
        return ticket
    }

    /// Settles the ticket; later calls are ignored.
    public func complete(_ outcome: Outcome) {
        let waiter: CheckedContinuation<Outcome, Never>? = state.withLock { state in
            guard case let .pending(waiter) = state else { return nil }
            state = .completed(outcome)
            return waiter
        }
        waiter?.resume(returning: outcome)
    }

    /// Waits until the entry is durable and applied (or failed). Cancelling the waiting task
    /// does not withdraw the entry: it may still commit.
    public func result() async throws(ClusterError) -> LogPosition {
        let outcome: Outcome = await withCheckedContinuation { continuation in
            let ready: Outcome? = state.withLock { state in
                switch state {
                case let .completed(outcome):
                    return outcome
                case .pending(nil):
                    state = .pending(continuation)
                    return nil
                case .pending(.some):
                    preconditionFailure("an AppendTicket is awaited at most once")
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try outcome.get()
    }
}
