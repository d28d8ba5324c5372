import Synchronization

/// A value's wire form, made by the first session that writes it and shared by the others
/// (a published batch's events, `EventBatch`, and a staff update):
/// a staff member's badge update goes to every session of theirs, and encoding it once per
/// session was most of a fan-out's cost. It is a cache, so any two are equal.
public final class SharedEncoding: Sendable, Equatable {
    private let made = Mutex<(any Sendable)?>(nil)

    public init() {}

    /// The bytes `make` builds on first use, the same bytes after.
    public func bytes<Bytes: Sendable>(make: () -> Bytes) -> Bytes {
        if let done = made.withLock({ $0 }) as? Bytes { return done }
        let bytes = make()
        made.withLock { stored in
            if stored == nil { stored = bytes }
        }
        return bytes
    }

    public static func == (lhs: SharedEncoding, rhs: SharedEncoding) -> Bool { true }
}
