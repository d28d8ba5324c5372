import ParleyDomain

/// The ordering rules of one live session, as a pure state machine: it turns the session's
/// items into what to write so that each room's events reach the client once each, in
/// journal order, with the replay of what it missed before anything live, and says which
/// rooms to stop following.
public struct LiveSessionState: Sendable {
    /// What the session writes.
    public enum Output: Sendable, Equatable {
        /// Events to write; `shared` is the published batch when they are all of it (its
        /// encoding is shared with other sessions); `notify` lists the messages among them
        /// that should alert this staff member.
        case events(RoomID, [JournalEntry], shared: EventBatch? = nil, notify: [UInt64] = [])
        /// The client fell behind what the journal keeps (or the live stream skipped): it
        /// must reload the room over REST, then resume from the seq given.
        case resyncRequired(RoomID, resumeFrom: UInt64)
        case refused(RoomID, code: String, message: String)
        case staffUpdated(unreadRooms: Int, rooms: [RoomID: StaffRoomEntry], mentions: [Mention], shared: SharedEncoding = SharedEncoding())
        case enquiries([EnquiryNotice])
    }

    private enum Phase {
        case replaying(after: UInt64, lastSent: UInt64, held: [JournalEntry], heldNotify: [UInt64])
        /// `replayed`: the event seqs the replay wrote, without alerts (a journal read knows
        /// none); a live batch that brings one of them late brings its alert still.
        case live(lastSent: UInt64, replayed: Range<UInt64>)
    }

    private var rooms: [RoomID: Phase] = [:]
    /// The session's staff member: once events removing them from a room are written, the
    /// session stops following it.
    private let staff: StaffID?

    public init(staff: StaffID? = nil) {
        self.staff = staff
    }

    /// The rooms the session follows.
    public var followedRooms: Set<RoomID> { Set(rooms.keys) }

    public mutating func handle(_ item: LiveItem) -> [Output] {
        var outputs: [Output] = []
        handle(item, into: &outputs)
        return outputs
    }

    /// The same, appending to `outputs` (a session handles a window's items into one array).
    /// Returns the rooms the session must stop following: its staff member was removed from
    /// them (the removal itself is still written), or following them was refused.
    @discardableResult
    public mutating func handle(_ item: LiveItem, into outputs: inout [Output]) -> [RoomID] {
        let start = outputs.count
        step(item, into: &outputs)
        var stopped: [RoomID] = []
        for output in outputs[start...] {
            switch output {
            case let .events(room, entries, _, _) where staff.map({ staff in entries.contains { $0.event.removes(staff) } }) ?? false:
                rooms[room] = nil
                stopped.append(room)
            case let .refused(room, _, _):
                stopped.append(room)
            default:
                break
            }
        }
        return stopped
    }

    private mutating func step(_ item: LiveItem, into outputs: inout [Output]) {
        switch item {
        case let .subscribing(room, after):
            rooms[room] = .replaying(after: after, lastSent: after, held: [], heldNotify: [])
        case let .replayed(room, entries, complete, resyncRequired):
            guard case .replaying(let after, var lastSent, let held, let heldNotify) = rooms[room] else { return }
            if resyncRequired { outputs.append(.resyncRequired(room, resumeFrom: lastSent)) }
            let fresh = entries.filter { $0.eventSeq > lastSent }
            if !fresh.isEmpty {
                outputs.append(.events(room, fresh))
                lastSent = fresh[fresh.count - 1].eventSeq
            }
            guard complete else {
                rooms[room] = .replaying(after: after, lastSent: lastSent, held: held, heldNotify: heldNotify)
                return
            }
            rooms[room] = .live(lastSent: lastSent, replayed: after + 1..<max(after + 1, lastSent + 1))
            if !held.isEmpty { deliver(held, notify: heldNotify, to: room, into: &outputs) }
        case let .events(batch, notify):
            guard let room = batch.entries.first?.room else { return }
            switch rooms[room] {
            case .replaying(let after, let lastSent, var held, var heldNotify):
                held += batch.entries
                heldNotify += notify
                rooms[room] = .replaying(after: after, lastSent: lastSent, held: held, heldNotify: heldNotify)
            case .live:
                deliver(batch.entries, notify: notify, to: room, batch: batch, into: &outputs)
            case nil:
                break
            }
        case let .refused(room, code, message):
            rooms[room] = nil
            outputs.append(.refused(room, code: code, message: message))
        case let .staffUpdated(unreadRooms, entries, mentions, shared):
            outputs.append(.staffUpdated(
                unreadRooms: unreadRooms, rooms: Dictionary(entries, uniquingKeysWith: { _, last in last }), mentions: mentions, shared: shared))
        case let .enquiries(notices):
            outputs.append(.enquiries(notices))
        }
    }

    private mutating func deliver(
        _ entries: [JournalEntry], notify: [UInt64], to room: RoomID, batch: EventBatch? = nil, into outputs: inout [Output]
    ) {
        guard case .live(let lastSent, var replayed) = rooms[room] else { return }
        // The usual case, all of it new, takes the entries as they are.
        let fresh = (entries.first?.eventSeq ?? 0) > lastSent ? entries : entries.filter { $0.eventSeq > lastSent }
        // Alerts for messages the replay already wrote (raced the subscription): sent now, once
        // (the replayed seqs up to the last alerted are done with).
        var late: [UInt64] = []
        if fresh.count != entries.count, !notify.isEmpty {
            let alerted = entries.filter { entry in
                guard replayed.contains(entry.eventSeq), case let .messagePosted(message) = entry.event else { return false }
                return notify.contains(message.seq)
            }
            late = Self.messages(in: alerted)
            if let last = alerted.last { replayed = last.eventSeq + 1..<max(last.eventSeq + 1, replayed.upperBound) }
        }
        guard let first = fresh.first else {
            rooms[room] = .live(lastSent: lastSent, replayed: replayed)
            if !late.isEmpty { outputs.append(.events(room, [], notify: late)) }
            return
        }
        guard first.eventSeq == lastSent + 1 else {
            // Something between was never seen: the client must catch up from the journal.
            rooms[room] = nil
            outputs.append(.resyncRequired(room, resumeFrom: lastSent))
            return
        }
        rooms[room] = .live(lastSent: fresh[fresh.count - 1].eventSeq, replayed: replayed)
        let shared = fresh.count == batch?.entries.count ? batch : nil
        guard !notify.isEmpty, shared == nil else {
            outputs.append(.events(room, fresh, shared: shared, notify: notify))
            return
        }
        // Part of the batch was already written: alert only for what is written now (and what
        // the replay wrote without its alert).
        let messages = Set(Self.messages(in: fresh))
        outputs.append(.events(room, fresh, shared: shared, notify: late + notify.filter(messages.contains)))
    }

    /// The seqs of the messages posted by `entries`.
    private static func messages(in entries: [JournalEntry]) -> [UInt64] {
        entries.compactMap { entry -> UInt64? in
            if case let .messagePosted(message) = entry.event { return message.seq }
            return nil
        }
    }
}

extension RoomEvent {
    /// Whether this event removes `staff` from the room.
    fileprivate func removes(_ staff: StaffID) -> Bool {
        if case .memberRemoved(staff, _) = self { true } else { false }
    }
}
