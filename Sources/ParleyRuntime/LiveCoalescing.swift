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
    private var lastWindow: Int64?

    public init(width: Duration) {
        self.width = width
    }

    /// The turn of a writer woken at `now`; a `writeNow` begins a window.
    public mutating func turn(at now: ContinuousClock.Instant) -> Turn {
        guard width > .zero else { return .writeNow }
        if let lastWindow, Self.window(of: now, width: width) <= lastWindow {
            return .waitUntil(Self.windowStart(lastWindow + 1, width: width))
        }
        lastWindow = Self.window(of: now, width: width)
        return .writeNow
    }

    /// The writer waited as told and writes now, at `now`.
    public mutating func began(at now: ContinuousClock.Instant) {
        guard width > .zero else { return }
        lastWindow = Self.window(of: now, width: width)
    }

    private static let epoch = ContinuousClock.now

    static func window(of instant: ContinuousClock.Instant, width: Duration) -> Int64 {
        Int64((instant - epoch) / width)
    }

    static func windowStart(_ window: Int64, width: Duration) -> ContinuousClock.Instant {
        epoch + width * Double(window)
    }
}
