import ParleyCluster
import ParleyDomain
import Synchronization

/// What a room command produced.
public enum RoomOutcome: Sendable, Equatable {
    /// The events recorded (in journal order) and the room after them.
    case applied([JournalEntry], RoomState)
    /// An idempotency key matched a message already posted.
    case replayed(Message, RoomState)
}

/// The actor of one room on its partition's leader. It decides commands against its state,
/// applies the events to that state at once (so commands pipelined behind decide on top of
/// them), queues them on the partition log without suspending in between (so the log sees
/// them in decision order), answers only when they are durable and applied, and publishes
/// them to live subscribers in journal order.
actor RoomActor: ActivatedEntity {
    let id: RoomID
    let partition: PartitionID
    private let store: RoomStore
    private let log: any PartitionLog
    private let clock: any WallClock
    private let limits: RoomLimits
    private let events: any RoomEventSink
    /// Called after a commit that wrote outbox records, to wake the relay.
    private let outboxWritten: @Sendable () -> Void

    private var state: RoomState?
    /// The room as of the last committed command: what reads see (`state` runs ahead by the
    /// commands still committing). Counted so a late resumption never moves it back.
    private var committedState: RoomState?
    private var decidedCount: UInt64 = 0
    private var committedCount: UInt64 = 0
    private var generation: UInt64 = 0
    /// Idempotency keys of posts decided but not yet durable.
    private var pendingKeys: Set<String> = []
    /// Recently posted or changed messages, newest first to be looked up (including ones not
    /// yet durable, which the store cannot see), with the event that wrote each version.
    private var recentMessages: [UInt64: (message: Message, eventSeq: UInt64)] = [:]
    private static let recentMessageLimit = 256
    /// Committed events wait here until every earlier one is published.
    private var committed: [UInt64: [JournalEntry]] = [:]
    private var nextToPublish: UInt64 = 1
    /// A commit is collecting its successors' entries before publishing them with its own.
    private var publishPending = false
    /// Files whose post or discard is being committed: a post and a discard of one upload
    /// never both go ahead.
    private var filesInFlight: Set<String> = []
    private let retired = Atomic<Bool>(false)

    nonisolated var isRetired: Bool { retired.load(ordering: .acquiring) }

    init(
        id: RoomID, partition: PartitionID, store: RoomStore, log: any PartitionLog, clock: any WallClock, limits: RoomLimits,
        events: any RoomEventSink, outboxWritten: @escaping @Sendable () -> Void = {}
    ) {
        self.outboxWritten = outboxWritten
        self.id = id
        self.partition = partition
        self.store = store
        self.log = log
        self.clock = clock
        self.limits = limits
        self.events = events
    }

    /// Decides and commits `command`.
    func handle(_ command: RoomCommand) async throws(RuntimeError) -> RoomOutcome {
        let current = try activeState()
        if case let .post(post) = command, let key = post.idempotencyKey, let replay = try replay(of: post, key: key) {
            return .replayed(replay, current)
        }
        let file: String? = if case let .post(post) = command { post.attachment?.id } else { nil }
        if let file {
            guard !filesInFlight.contains(file), try store.hasPendingUpload(file, in: id) else {
                throw .rejected(DomainError(.fileNotFound, "upload \(file) is unknown or was discarded; upload the file again"))
            }
        }
        let decided: [RoomEvent]
        do {
            decided = try current.decide(command, now: clock.now(), limits: limits) { seq in self.lookup(seq) }
        } catch {
            throw .rejected(error)
        }
        guard !decided.isEmpty else { return .applied([], current) }
        var next = current
        var entries: [JournalEntry] = []
        for event in decided {
            next.apply(event)
            entries.append(JournalEntry(room: id, eventSeq: next.lastEventSeq, event: event))
            remember(event, at: next.lastEventSeq)
        }
        state = next
        let key: String? = if case let .post(post) = command { post.idempotencyKey } else { nil }
        if let key { pendingKeys.insert(key) }
        if let file { filesInFlight.insert(file) }
        defer {
            if let key { pendingKeys.remove(key) }
            if let file { filesInFlight.remove(file) }
        }

        let firstEventSeq = current.lastEventSeq + 1
        // The notices the events owe staff members: commands to their accounts, through the
        // effects outbox, applied there once (by this room's effect sequence and event seq).
        let notices = RoomNotices.effects(before: current, events: decided).compactMap(OutboxEffect.init)
        let envelope = EntityEnvelope.room(id, firstEventSeq: firstEventSeq, decided, effects: notices)
        decidedCount += 1
        let number = decidedCount
        let ticket = log.append(envelope.encoded(), to: partition, generation: generation)
        do {
            _ = try await ticket.result()
        } catch {
            retire()
            throw .log(error)
        }
        if number > committedCount {
            committedCount = number
            committedState = next
        }
        await publishInOrder(entries, from: firstEventSeq)
        if !notices.isEmpty { outboxWritten() }
        return .applied(entries, next)
    }

    /// Deletes the chunks of upload `file` if no message took it up and none is being posted
    /// with it; answers whether it did.
    func discardUpload(_ file: String) async throws(RuntimeError) -> Bool {
        _ = try activeState()
        guard !filesInFlight.contains(file), try store.hasPendingUpload(file, in: id) else { return false }
        filesInFlight.insert(file)
        defer { filesInFlight.remove(file) }
        let ticket = log.append(EntityEnvelope.uploadDiscarded(id, file: file).encoded(), to: partition, generation: generation)
        do {
            _ = try await ticket.result()
        } catch {
            retire()
            throw .log(error)
        }
        return true
    }

    /// The room's state, if `reader` may read it.
    func readableState(by reader: StaffID) throws(RuntimeError) -> RoomState {
        let active = try activeState()
        let current = committedState ?? active
        guard current.exists else { throw .rejected(DomainError(.roomNotFound, "room \(id) does not exist")) }
        guard current.canRead(reader) else { throw .rejected(DomainError(.notAMember, "\(reader) is not a member of room \(id)")) }
        return current
    }

    /// Message `seq`, if `reader` may read the room.
    func message(_ seq: UInt64, readBy reader: StaffID) throws(RuntimeError) -> Message {
        let readable = try readableState(by: reader)
        guard let message = lookup(seq, committedThrough: readable.lastEventSeq) else {
            throw .rejected(DomainError(.messageNotFound, "room \(id) has no message \(seq)"))
        }
        return message
    }

    /// Message `seq` as last decided (what new commands decide on), or, with
    /// `committedThrough`, as of that committed event (what reads see: never a version a
    /// failover could still take back).
    private func lookup(_ seq: UInt64, committedThrough committed: UInt64? = nil) -> Message? {
        if let cached = recentMessages[seq], cached.eventSeq <= committed ?? .max { return cached.message }
        return try? store.message(in: id, seq: seq)
    }

    private func remember(_ event: RoomEvent, at eventSeq: UInt64) {
        switch event {
        case let .messagePosted(message), let .messageEdited(message), let .messageRecalled(message, _), let .messagePreviewed(message):
            recentMessages[message.seq] = (message, eventSeq)
            if recentMessages.count > Self.recentMessageLimit, let oldest = recentMessages.keys.min() {
                recentMessages[oldest] = nil
            }
        default:
            break
        }
    }

    /// Publishes `entries` once every earlier committed entry is published. The commits of
    /// one log batch resume this actor one after another: the first of them yields, so the
    /// others (already queued on this actor) add their entries first, and publishes them all
    /// as one batch; subscribers then handle one item per log batch, not one per command.
    private func publishInOrder(_ entries: [JournalEntry], from firstEventSeq: UInt64) async {
        committed[firstEventSeq] = entries
        guard !publishPending else { return }
        publishPending = true
        await Task.yield()
        publishPending = false
        var ready: [JournalEntry] = []
        while let next = committed.removeValue(forKey: nextToPublish) {
            nextToPublish += UInt64(next.count)
            ready += next
        }
        if !ready.isEmpty, let state { events.publish(ready, room: state) }
    }

    private func replay(of post: MessagePost, key: String) throws(RuntimeError) -> Message? {
        guard !pendingKeys.contains(key) else {
            throw .rejected(DomainError(.requestInProgress, "a message with idempotency key \(key) is still being committed; retry"))
        }
        guard let existing = try store.message(in: id, idempotencyKey: key) else { return nil }
        do {
            return try post.replay(of: existing)
        } catch {
            throw .rejected(error)
        }
    }

    /// Loads the applied state on first use. The reads are point lookups and short scans of
    /// the member records, on this actor's thread, never on a NIO event loop.
    private func activeState() throws(RuntimeError) -> RoomState {
        if let state { return state }
        guard !isRetired else {
            throw .unavailable(code: RuntimeError.entityRetired, message: "room \(id) is being reactivated")
        }
        generation = log.generation(of: partition)
        let loaded = try store.load(id)
        state = loaded
        committedState = loaded
        nextToPublish = loaded.lastEventSeq + 1
        return loaded
    }

    private func retire() {
        retired.store(true, ordering: .releasing)
        state = nil
        committedState = nil
        committed = [:]
    }
}

/// Where a room's committed events go to be seen live: the node's sessions of its members.
public protocol RoomEventSink: Sendable {
    /// Called once per commit, in journal order per room, with the room as it is after them.
    func publish(_ entries: [JournalEntry], room: RoomState)
}

/// A sink for nodes without live sessions.
public struct DiscardingEventSink: RoomEventSink, StaffEventSink {
    public init() {}
    public func publish(_ entries: [JournalEntry], room: RoomState) {}
    public func publish(_ events: [StaffEvent], staff: StaffState) {}
}
