import ParleyDomain
import Synchronization

/// One commit's journal entries as they are fanned out to every live session following the
/// room: the sessions share it, so its wire form is encoded once per publish, by whichever
/// session writes it first, not once per session. It also keeps the last frames sessions
/// built from a run of batches ending with it, so sessions that drain the same run (their
/// coalescing windows are aligned) share that frame too.
public final class EventBatch: Sendable, Equatable {
    public let entries: [JournalEntry]
    /// When it was published: sessions coalescing on the same window grid cut their runs at
    /// the same batches.
    public let publishedAt = ContinuousClock.now
    private let encoding = SharedEncoding()
    /// The frames kept: one per `notify` variant (the poster's sessions are not alerted by
    /// their own message, muted members are not alerted at all), a few at most.
    private let frames = Mutex<[Frame]>([])
    private static let framesKept = 4

    /// A frame made from the events `firstEventSeq...` up to this batch's last, alerting
    /// `notify`.
    private struct Frame: Sendable {
        let firstEventSeq: UInt64
        let notify: [UInt64]
        let bytes: any Sendable
    }

    public init(_ entries: [JournalEntry]) {
        self.entries = entries
    }

    /// The entries' wire form, made by `encode` on first use and shared after.
    public func encoded(by encode: ([JournalEntry]) -> String) -> String {
        encoding.bytes { encode(entries) }
    }

    /// The frame of the run of events from `firstEventSeq` to this batch's last, alerting
    /// `notify`: the one kept if it matches, else the one `make` builds (then kept).
    public func frame<Bytes: Sendable>(from firstEventSeq: UInt64, notify: [UInt64], make: () -> Bytes) -> Bytes {
        let kept = frames.withLock { frames in frames.first { $0.firstEventSeq == firstEventSeq && $0.notify == notify } }
        if let kept, let bytes = kept.bytes as? Bytes { return bytes }
        let made = make()
        frames.withLock { frames in
            if frames.count >= Self.framesKept { frames.removeFirst() }
            frames.append(Frame(firstEventSeq: firstEventSeq, notify: notify, bytes: made))
        }
        return made
    }

    public static func == (lhs: EventBatch, rhs: EventBatch) -> Bool { lhs.entries == rhs.entries }
}
