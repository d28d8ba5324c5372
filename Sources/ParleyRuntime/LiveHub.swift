import ParleyDomain
import Synchronization

/// What a live session's writer receives, in order.
public enum LiveItem: Sendable {
    /// The session starts following `room` from just after `after`: hold its live events
    /// until the replay is written.
    case subscribing(RoomID, after: UInt64)
    /// Journal events read for a subscription; `complete` ends the replay.
    case replayed(RoomID, [JournalEntry], complete: Bool, resyncRequired: Bool)
    /// Committed events, as they are published, and the seqs of the messages among them
    /// that should alert this session's staff member (their mute setting allowing).
    case events(EventBatch, notify: [UInt64])
    /// A subscription could not be made.
    case refused(RoomID, code: String, message: String)
    /// The staff member's own index changed: badge, room entries, new mentions; its wire form
    /// is shared by the staff member's sessions.
    case staffUpdated(unreadRooms: Int, rooms: [(RoomID, StaffRoomEntry)], mentions: [Mention], shared: SharedEncoding = SharedEncoding())
    /// Enquiries offered to the staff member, or taken from them, assigned or released.
    case enquiries([EnquiryNotice])
}

/// The node's live sessions and the rooms each follows: room events are fanned out to the
/// sessions of staff who may read them. One `Subscription` per session; its stream is the
/// session's single ordered outbox.
public final class LiveHub: RoomEventSink, StaffEventSink {
    /// One session's queue of items: producers append, the session's writer takes all that
    /// are pending at once (so a burst is written as a few frames, not one per event).
    ///
    /// A writer either pulls (`forEachBatch`, a task per session) or is pushed to: the
    /// `wake` given to `LiveHub.subscribe(staff:wake:)` is called when an item finds the queue
    /// empty, and when the session lags or ends; the writer then calls `take(before:)`.
    public final class Subscription: Sendable {
        public let staff: StaffID
        let id: UInt64
        private let limit: Int
        /// Pending items, each with the instant it counts as sent (a batch: when it was
        /// published, the same for every session).
        private let queue = Mutex<(items: [(item: LiveItem, at: ContinuousClock.Instant)], lagged: Bool, ended: Bool)>(([], false, false))
        /// Tells the writer there is something to take (or that the session ended).
        private let wake: @Sendable (_ ended: Bool) -> Void
        /// The pulling writer's wake-ups (nil for a pushed writer); holds at most one.
        private let wakeups: AsyncStream<Void>?

        init(id: UInt64, staff: StaffID, bufferLimit: Int, wake: (@Sendable (_ ended: Bool) -> Void)?) {
            self.id = id
            self.staff = staff
            limit = bufferLimit
            if let wake {
                self.wake = wake
                wakeups = nil
            } else {
                let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                self.wake = { ended in
                    if ended { continuation.finish() } else { continuation.yield() }
                }
                wakeups = stream
            }
        }

        /// Set when the session fell so far behind that items were dropped: it must
        /// reconnect and resume from what it last saw.
        public var hasLagged: Bool { queue.withLock { $0.lagged } }

        /// Set once the session ended (or lagged): nothing more is queued.
        public var hasEnded: Bool { queue.withLock { $0.ended } }

        /// Adds an item to this session's queue. Only an item that finds the queue empty wakes
        /// the writer: items behind it are taken with it, or (past a window's cutoff) on the
        /// writer's next turn, which it takes without waiting for a wake-up.
        public func send(_ item: LiveItem) {
            enum Outcome { case queuedFirst, queuedBehind, ignored, lagged }
            let at: ContinuousClock.Instant = if case let .events(batch, _) = item { batch.publishedAt } else { .now }
            let outcome = queue.withLock { queue -> Outcome in
                guard !queue.ended else { return .ignored }
                guard queue.items.count < limit else {
                    queue.lagged = true
                    queue.ended = true
                    queue.items = []
                    return .lagged
                }
                queue.items.append((item, at))
                return queue.items.count == 1 ? .queuedFirst : .queuedBehind
            }
            switch outcome {
            case .queuedFirst: wake(false)
            case .lagged: wake(true)
            case .queuedBehind, .ignored: break
            }
        }

        /// Takes the pending items sent before `cutoff` (all of them without one), in order,
        /// and says whether any remain and whether the session lagged (then nothing is taken).
        public func take(before cutoff: ContinuousClock.Instant? = nil) -> (items: [LiveItem], remaining: Bool, lagged: Bool) {
            queue.withLock { queue in
                guard !queue.lagged else { return ([], false, true) }
                let count = cutoff.map { cutoff in queue.items.firstIndex { $0.at >= cutoff } ?? queue.items.count } ?? queue.items.count
                let taken = queue.items.prefix(count).map(\.item)
                queue.items.removeFirst(count)
                return (taken, !queue.items.isEmpty, false)
            }
        }

        /// Calls `write` with every batch of pending items, in order, until the session ends
        /// or lags (a pulling writer: a subscription made without `wake`). A busy session
        /// writes at most one batch per `coalescing` window (`LiveCoalescing`).
        public func forEachBatch(coalescing: Duration = .zero, _ write: ([LiveItem]) async throws -> Void) async rethrows {
            guard let wakeups else { return }
            var windows = LiveCoalescing(width: coalescing)
            var wakeup = wakeups.makeAsyncIterator()
            var morePending = false
            while !Task.isCancelled {
                if !morePending {
                    guard await wakeup.next() != nil else { return }
                }
                var cutoff: ContinuousClock.Instant?
                if case let .waitUntil(next) = windows.turn(at: .now) {
                    try? await Task.sleep(until: next)
                    cutoff = next
                    windows.began(at: .now)
                }
                let (items, remaining, lagged) = take(before: cutoff)
                if lagged { return }
                morePending = remaining
                if !items.isEmpty { try await write(items) }
            }
        }

        func finish() {
            queue.withLock { $0.ended = true }
            wake(true)
        }
    }

    private struct State {
        var nextID: UInt64 = 1
        var followers: [RoomID: [UInt64: Subscription]] = [:]
        var rooms: [UInt64: Set<RoomID>] = [:]
        var sessionsOfStaff: [StaffID: [UInt64: Subscription]] = [:]
    }

    private let state = Mutex(State())
    private let bufferLimit: Int

    /// - Parameter bufferLimit: how many items a session may have unwritten before it is
    ///   cut off as lagging.
    public init(bufferLimit: Int = 10_000) {
        self.bufferLimit = bufferLimit
    }

    /// A new session for `staff`. With `wake`, its writer is pushed to (see `Subscription`);
    /// without, it pulls with `forEachBatch`.
    public func subscribe(staff: StaffID, wake: (@Sendable (_ ended: Bool) -> Void)? = nil) -> Subscription {
        state.withLock { state in
            defer { state.nextID += 1 }
            state.rooms[state.nextID] = []
            let subscription = Subscription(id: state.nextID, staff: staff, bufferLimit: bufferLimit, wake: wake)
            state.sessionsOfStaff[staff, default: [:]][subscription.id] = subscription
            return subscription
        }
    }

    /// Starts fanning `room`'s events out to `subscription`; returns false past `maxRooms`.
    public func follow(_ room: RoomID, by subscription: Subscription, maxRooms: Int = 1_000) -> Bool {
        state.withLock { state in
            guard let followed = state.rooms[subscription.id], followed.count < maxRooms || followed.contains(room) else { return false }
            state.rooms[subscription.id, default: []].insert(room)
            state.followers[room, default: [:]][subscription.id] = subscription
            return true
        }
    }

    /// Stops `subscription` following `room`.
    public func unfollow(_ room: RoomID, by subscription: Subscription) {
        state.withLock { state in
            state.rooms[subscription.id]?.remove(room)
            state.followers[room]?[subscription.id] = nil
            if state.followers[room]?.isEmpty == true { state.followers[room] = nil }
        }
    }

    /// Ends a session.
    public func end(_ subscription: Subscription) {
        state.withLock { state in
            state.sessionsOfStaff[subscription.staff]?[subscription.id] = nil
            if state.sessionsOfStaff[subscription.staff]?.isEmpty == true { state.sessionsOfStaff[subscription.staff] = nil }
            for room in state.rooms.removeValue(forKey: subscription.id) ?? [] {
                state.followers[room]?[subscription.id] = nil
                if state.followers[room]?.isEmpty == true { state.followers[room] = nil }
            }
        }
        subscription.finish()
    }

    public func publish(_ entries: [JournalEntry], room: RoomState) {
        let followers = state.withLock { $0.followers[room.id].map { Array($0.values) } ?? [] }
        guard !followers.isEmpty else { return }
        // A removed member still sees their removal.
        let removed = Set(entries.compactMap { entry -> StaffID? in
            if case let .memberRemoved(staff, _) = entry.event { return staff }
            return nil
        })
        let batch = EventBatch(entries)
        let alerts = MessageAlerts(posted: entries.compactMap(\.event.postedMessage))
        for follower in followers {
            // One lookup: membership (who may read) and the mute setting.
            let member = room.members[follower.staff]
            guard member != nil || (!removed.isEmpty && removed.contains(follower.staff)) else { continue }
            follower.send(.events(batch, notify: alerts.seqs(for: follower.staff, mute: member?.mute ?? .muted)))
        }
    }
}

extension LiveHub: SessionCounting {
    public func publish(_ events: [StaffEvent], staff: StaffState) {
        if let update = StaffUpdate(events, staff: staff) { deliver(update) }
        if let update = EnquiryUpdate(events, staff: staff.id) { deliver(update) }
    }

    /// Sends a staff member's enquiry notices to their sessions on this node.
    public func deliver(_ update: EnquiryUpdate) {
        for session in sessions(of: update.staff) { session.send(.enquiries(update.notices)) }
    }

    private func sessions(of staff: StaffID) -> [Subscription] {
        state.withLock { $0.sessionsOfStaff[staff].map { Array($0.values) } ?? [] }
    }

    /// Every staff member with a session on this node, and how many.
    public func sessionCounts() -> [StaffID: Int] { state.withLock { $0.sessionsOfStaff.mapValues(\.count) } }

    /// Sends a staff member's index change to their sessions on this node.
    public func deliver(_ update: StaffUpdate) {
        let shared = SharedEncoding()
        for session in sessions(of: update.staff) {
            session.send(.staffUpdated(unreadRooms: update.unreadRooms, rooms: update.rooms, mentions: update.mentions, shared: shared))
        }
    }

    public func sessionCount(of staff: StaffID) -> Int { state.withLock { $0.sessionsOfStaff[staff]?.count ?? 0 } }

    /// What this node's sessions need: the rooms followed and the sessions per staff member.
    public func interest() -> LiveInterest {
        state.withLock { state in
            LiveInterest(rooms: Set(state.followers.keys), staff: state.sessionsOfStaff.mapValues(\.count))
        }
    }
}

/// Counts this node's live sessions per staff member (for presence).
public protocol SessionCounting: Sendable {
    func sessionCount(of staff: StaffID) -> Int
    /// Every staff member with a session here, and how many.
    func sessionCounts() -> [StaffID: Int]
}

/// What a staff member's sessions are told of their enquiries (offers, offers ended,
/// assigned, released), in commit order.
public struct EnquiryUpdate: Sendable, Equatable {
    public let staff: StaffID
    public let notices: [EnquiryNotice]

    public init(staff: StaffID, notices: [EnquiryNotice]) {
        self.staff = staff
        self.notices = notices
    }

    /// The notices committed `events` carry, nil when none.
    public init?(_ events: [StaffEvent], staff: StaffID) {
        let notices = events.compactMap { event -> EnquiryNotice? in
            if case let .enquiryNoted(notice) = event { return notice }
            return nil
        }
        guard !notices.isEmpty else { return nil }
        self.init(staff: staff, notices: notices)
    }
}

/// What a staff member's sessions are told when their index changes: the badge, the room
/// entries that changed and the new mentions.
public struct StaffUpdate: Sendable {
    public let staff: StaffID
    public let unreadRooms: Int
    public let rooms: [(RoomID, StaffRoomEntry)]
    public let mentions: [Mention]

    public init(staff: StaffID, unreadRooms: Int, rooms: [(RoomID, StaffRoomEntry)], mentions: [Mention]) {
        self.staff = staff
        self.unreadRooms = unreadRooms
        self.rooms = rooms
        self.mentions = mentions
    }

    /// The update committed `events` make, nil when they change no room entry.
    public init?(_ events: [StaffEvent], staff: StaffState) {
        var rooms: [(RoomID, StaffRoomEntry)] = []
        var mentions: [Mention] = []
        for event in events {
            if case let .roomNoted(room, entry, noted, _) = event {
                rooms.append((room, entry))
                mentions += noted
            }
        }
        guard !rooms.isEmpty else { return nil }
        self.init(staff: staff.id, unreadRooms: staff.unreadRooms, rooms: rooms, mentions: mentions)
    }
}
