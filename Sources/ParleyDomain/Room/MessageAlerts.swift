/// Which of one commit's new messages alert each member (`MuteSetting.notifies`), computed
/// once per commit: most members hear every one (not theirs, not muted, no mention to pick
/// by), and they share one list.
public struct MessageAlerts: Sendable {
    private let posted: [Message]
    private let everySeq: [UInt64]
    private let authors: Set<StaffID>

    public init(posted: [Message]) {
        self.posted = posted
        everySeq = posted.filter { $0.recalledAt == nil }.map(\.seq)
        authors = Set(posted.map(\.author))
    }

    /// The seqs of the messages that alert `member`, who has `mute`.
    public func seqs(for member: StaffID, mute: MuteSetting) -> [UInt64] {
        switch mute {
        case .muted: []
        case .all where !authors.contains(member): everySeq
        default: posted.filter { mute.notifies(member, of: $0) }.map(\.seq)
        }
    }
}
