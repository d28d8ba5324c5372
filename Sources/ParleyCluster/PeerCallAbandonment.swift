import Synchronization

/// Ends a peer call early from outside the task waiting for it: a forwarded call to a
/// partition's leader is abandoned the moment this node learns that node no longer leads (its
/// answer would only be a refusal, or never come). The call then fails as `peer_unavailable`
/// with the reason given; its frame, if already written, may still be acted on, as with any
/// call whose answer is lost.
///
/// One object per call. Whoever watches calls `abandon(_:)`, at most once taking effect; the
/// transport tells it how to end the call with `whenAbandoned(_:)`. Either may come first.
public final class PeerCallAbandonment: Sendable {
    private enum State {
        case armed((@Sendable (String) -> Void)?)
        case abandoned(String)
    }

    private let state = Mutex(State.armed(nil))

    public init() {}

    /// Abandons the call with `reason`: it fails at once if it is waiting, or as soon as the
    /// transport takes it. Only the first call takes effect.
    public func abandon(_ reason: String) {
        let end = state.withLock { state -> (@Sendable (String) -> Void)? in
            guard case let .armed(end) = state else { return nil }
            state = .abandoned(reason)
            return end
        }
        end?(reason)
    }

    /// Why the call was abandoned; nil while it was not.
    public var reason: String? {
        state.withLock { state in
            if case let .abandoned(reason) = state { return reason }
            return nil
        }
    }

    /// For transports: how to end the call (run at once when it was abandoned already).
    public func whenAbandoned(_ end: @escaping @Sendable (String) -> Void) {
        let reason = state.withLock { state -> String? in
            switch state {
            case .armed:
                state = .armed(end)
                return nil
            case let .abandoned(reason):
                return reason
            }
        }
        if let reason { end(reason) }
    }

    /// Returns once the call is abandoned, or when the calling task is cancelled (for
    /// transports with no frame to withdraw, which race the call against this).
    public func waitUntilAbandoned() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        whenAbandoned { _ in continuation.finish() }
        for await _ in stream {}
    }
}
