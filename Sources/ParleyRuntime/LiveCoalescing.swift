/// The write windows of a busy live session: a session writes at most one batch per window,
/// and a batch that follows the previous one within the same window waits for the next
/// window and takes what was sent before that window began (an idle session writes at once).
/// Windows are one grid for the whole process, so busy sessions following a room take the
/// same runs of batches and can share the frames made of them.
public struct LiveCoalescing: Sendable {
    /// What a woken writer does.
    public enum Turn: Sendable, Equatable {
        case writeNow
        /// Wait until the instant, then take what was sent before it.
        case waitUntil(ContinuousClock.Instant)
    }

    public let width: Duration
    /// The width in nanoseconds (every drain of every session computes its window).
    private let widthNanoseconds: Int64
    private var lastWindow: Int64?

    public init(width: Duration) {
        self.width = width
        widthNanoseconds = max(1, Self.nanoseconds(width))
    }

    /// The turn of a writer woken at `now`; a `writeNow` begins a window.
    public mutating func turn(at now: ContinuousClock.Instant) -> Turn {
        guard width > .zero else { return .writeNow }
        let window = window(at: now)
        if let lastWindow, window <= lastWindow {
            return .waitUntil(Self.epoch + .nanoseconds((lastWindow + 1) * widthNanoseconds))
        }
        lastWindow = window
        return .writeNow
    }

    /// The writer waited as told and writes now, at `now`.
    public mutating func began(at now: ContinuousClock.Instant) {
        guard width > .zero else { return }
        lastWindow = window(at: now)
    }

    private static let epoch = ContinuousClock.now

    /// The window of the process-wide grid that `instant` falls in.
    private func window(at instant: ContinuousClock.Instant) -> Int64 {
        Self.nanoseconds(instant - Self.epoch) / widthNanoseconds
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
