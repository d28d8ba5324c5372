/// What this node knows of one peer's reachability, as a pure state machine: the shell
/// reports each handshake's outcome with the time it happened and asks when to try next.
/// Failed attempts back off exponentially (with the jitter the shell passes in) up to a cap,
/// so a dead peer costs a few cheap attempts, and a peer that answers again is up at once.
public struct PeerHealth: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        /// Never reached yet.
        case unknown
        /// Answered the last handshake; `roundTrip` is how long it took.
        case up(since: ContinuousClock.Instant, roundTrip: Duration)
        /// Did not answer the last `failures` attempts.
        case down(since: ContinuousClock.Instant, failures: Int, reason: String)
        /// Answered, but with another cluster configuration: never talked to.
        case mismatched(reason: String)
    }

    public struct Backoff: Sendable, Equatable {
        public var initial: Duration = .milliseconds(100)
        public var maximum: Duration = .seconds(5)
        public var multiplier: Double = 2
        public init() {}
    }

    public private(set) var status: Status = .unknown
    /// When the peer last answered.
    public private(set) var lastSeen: ContinuousClock.Instant?
    public let backoff: Backoff
    /// How often a peer that is up is greeted again (its liveness).
    public let heartbeat: Duration

    public init(heartbeat: Duration = .seconds(1), backoff: Backoff = Backoff()) {
        self.heartbeat = heartbeat
        self.backoff = backoff
    }

    public var isUp: Bool { if case .up = status { true } else { false } }

    /// Whether the last handshake failed: calls to the peer should fail fast rather than wait
    /// for a connection (one that is merely starting, or never reached yet, is worth waiting for).
    public var isDown: Bool { if case .down = status { true } else { false } }

    /// Whether the peer runs another cluster configuration (it is never talked to).
    public var isMismatched: Bool { if case .mismatched = status { true } else { false } }

    /// The peer answered a handshake sent `roundTrip` before `now`.
    public mutating func answered(at now: ContinuousClock.Instant, roundTrip: Duration) {
        if case let .up(since, _) = status {
            status = .up(since: since, roundTrip: roundTrip)
        } else {
            status = .up(since: now, roundTrip: roundTrip)
        }
        lastSeen = now
    }

    /// A handshake failed (refused connection, timeout, transport error).
    public mutating func failed(at now: ContinuousClock.Instant, reason: String) {
        switch status {
        case let .down(since, failures, _): status = .down(since: since, failures: failures + 1, reason: reason)
        case .mismatched: break
        case .unknown, .up: status = .down(since: now, failures: 1, reason: reason)
        }
    }

    /// The peer runs with another cluster configuration.
    public mutating func refused(reason: String) {
        status = .mismatched(reason: reason)
    }

    /// How long to wait before the next handshake. `jitter` in 0...1 spreads retries of
    /// many nodes apart (half the delay is fixed, half scaled by it).
    public func nextAttempt(jitter: Double) -> Duration {
        switch status {
        case .up, .unknown: return heartbeat
        case .mismatched: return backoff.maximum
        case let .down(_, failures, _):
            var delay = backoff.initial
            for _ in 1..<max(failures, 1) {
                delay = delay * backoff.multiplier
                if delay >= backoff.maximum { return Self.jittered(backoff.maximum, jitter) }
            }
            return Self.jittered(min(delay, backoff.maximum), jitter)
        }
    }

    static func jittered(_ delay: Duration, _ jitter: Double) -> Duration {
        delay * 0.5 + delay * (0.5 * min(max(jitter, 0), 1))
    }
}

extension ClusterMembership {
    /// Whether a peer whose configuration has `fingerprint` (and reads as `description`) is
    /// of this cluster; when not, the refusal saying what differs.
    public func agreement(withFingerprint fingerprint: String, description: String) -> ClusterError? {
        guard fingerprint != self.fingerprint else { return nil }
        return ClusterError(
            .membershipMismatch,
            "the peer's cluster configuration differs from this node's: it has \(description); this node has \(canonicalDescription)")
    }
}
