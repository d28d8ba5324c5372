import ParleyDomain
import Synchronization

/// One commit's journal entries as they are fanned out to every live session following the
/// room: the sessions share it, so its wire form is encoded once per publish, by whichever
/// session writes it first, not once per session.
public final class EventBatch: Sendable, Equatable {
    public let entries: [JournalEntry]
    private let encoding = Mutex<String?>(nil)

    public init(_ entries: [JournalEntry]) {
        self.entries = entries
    }

    /// The entries' wire form, made by `encode` on first use and shared after.
    public func encoded(by encode: ([JournalEntry]) -> String) -> String {
        if let done = encoding.withLock({ $0 }) { return done }
        let made = encode(entries)
        return encoding.withLock { stored in
            if let stored { return stored }
            stored = made
            return made
        }
    }

    public static func == (lhs: EventBatch, rhs: EventBatch) -> Bool { lhs.entries == rhs.entries }
}
