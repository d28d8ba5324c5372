import ParleyCluster
import ParleyDomain

/// What a command on a room produced.
public enum RoomOutcome: Sendable, Equatable {
    /// The events recorded (in journal order) and the room after them.
    case applied([JournalEntry], RoomState)
    /// An idempotency key matched a message already posted.
    case replayed(Message, RoomState)
}

/// What a room's actor adds to the generic one: a post with an idempotency key its author
/// already used is answered with the message it posted (refused while that post is still committing); a
/// post of a file needs the upload, not being discarded; the rules decide with the room
/// limits and the messages a command is about, looked up among the ones this activation
/// decided recently (not all durable yet, so not in the store) and then in the store. A
/// command answers with a `RoomOutcome`.
final class RoomHost: EntityHost {
    typealias Rules = RoomState

    let room: RoomID
    private let store: RoomStore
    private let limits: RoomLimits
    /// Idempotency keys of posts decided but not yet durable, by author.
    private var pendingKeys: Set<PendingKey> = []

    private struct PendingKey: Hashable {
        let author: StaffID
        let key: String
    }
    /// Files whose post or discard is being committed: a post and a discard of one upload
    /// never both go ahead.
    var filesInFlight: Set<String> = []
    /// Recently posted or changed messages, with the event that wrote each version.
    private var recentMessages: [UInt64: (message: Message, eventSeq: UInt64)] = [:]
    private static let recentMessageLimit = 256

    init(entity: EntityID, partition: PartitionID, context: KindContext) {
        room = RoomID(unchecked: entity.key)
        store = RoomStore(database: context.database, family: context.family, partitioner: context.partitioner)
        limits = context.configuration.roomLimits
    }

    func decide(
        _ command: RoomCommand, on state: RoomState, committed: RoomState, soft: inout NoSoftState, context: DecisionContext
    ) throws(RuntimeError) -> HostDecision<RoomEvent, RoomOutcome> {
        do {
            try state.authorize(command, by: context.caller)
        } catch {
            throw .rejected(error)
        }
        if case let .post(post) = command {
            // A replay answers only a member with their own message (and the room as committed).
            if let key = post.idempotencyKey, committed.canRead(post.author), let replay = try replay(of: post, key: key) {
                return .answered(.replayed(replay, committed))
            }
            if let file = post.attachment?.id {
                guard !filesInFlight.contains(file), try store.hasPendingUpload(file, in: room) else {
                    throw .rejected(DomainError(.fileNotFound, "upload \(file) is unknown or was discarded; upload the file again"))
                }
            }
        }
        do {
            return .decided(try state.decision(command, context: context, inputs: RoomInputs(limits: limits) { seq in self.lookup(seq) }))
        } catch {
            throw .rejected(error)
        }
    }

    func decided(_ command: RoomCommand?, events: [RoomEvent], firstEventSeq: UInt64) {
        for (offset, event) in events.enumerated() { remember(event, at: firstEventSeq + UInt64(offset)) }
        guard case let .post(post) = command else { return }
        if let key = post.idempotencyKey { pendingKeys.insert(PendingKey(author: post.author, key: key)) }
        if let file = post.attachment?.id { filesInFlight.insert(file) }
    }

    func settled(_ command: RoomCommand?) {
        guard case let .post(post) = command else { return }
        if let key = post.idempotencyKey { pendingKeys.remove(PendingKey(author: post.author, key: key)) }
        if let file = post.attachment?.id { filesInFlight.remove(file) }
    }

    func answer(state: RoomState, firstEventSeq: UInt64, events: [RoomEvent]) -> RoomOutcome {
        .applied(events.enumerated().map { JournalEntry(room: room, eventSeq: firstEventSeq + UInt64($0.offset), event: $0.element) }, state)
    }

    static func state(of answer: RoomOutcome) -> RoomState { answer.state }

    /// In full, the outcome; brief, what a post answers: the message and whether it was a replay.
    static func encode(_ answer: RoomOutcome, brief: Bool) -> [UInt8] {
        var writer = BinaryWriter(capacity: 256)
        if brief {
            writer.write(answer.isReplay)
            writer.write(answer.message != nil)
            answer.message?.encode(into: &writer)
        } else {
            answer.encode(into: &writer)
        }
        return writer.bytes
    }

    /// `message`: message `seq` as committed (payload: the seq).
    func read(_ name: String, payload: [UInt8], committed: RoomState, caller: Caller) throws(RuntimeError) -> [UInt8]? {
        guard name == Self.messageRead else { return nil }
        var reader = BinaryReader(payload)
        guard let seq = try? reader.readVarint(), reader.isAtEnd else {
            throw .rejected(DomainError(.invalidArgument, "a message read names one message seq"))
        }
        guard let message = lookup(seq, committedThrough: committed.lastEventSeq) else {
            throw .rejected(DomainError(.messageNotFound, "room \(room) has no message \(seq)"))
        }
        return message.encoded
    }

    static let messageRead = "message"

    /// Message `seq` as last decided (what new commands decide on), or, with
    /// `committedThrough`, as of that committed event (what reads see: never a version a
    /// failover could still take back).
    private func lookup(_ seq: UInt64, committedThrough committed: UInt64? = nil) -> Message? {
        if let cached = recentMessages[seq], cached.eventSeq <= committed ?? .max { return cached.message }
        return try? store.message(in: room, seq: seq)
    }

    private func remember(_ event: RoomEvent, at eventSeq: UInt64) {
        guard let message = event.postedMessage ?? event.changedMessage else { return }
        recentMessages[message.seq] = (message, eventSeq)
        if recentMessages.count > Self.recentMessageLimit, let oldest = recentMessages.keys.min() {
            recentMessages[oldest] = nil
        }
    }

    private func replay(of post: MessagePost, key: String) throws(RuntimeError) -> Message? {
        guard !pendingKeys.contains(PendingKey(author: post.author, key: key)) else {
            throw .rejected(DomainError(.requestInProgress, "a message with idempotency key \(key) is still being committed; retry"))
        }
        guard let existing = try store.message(in: room, idempotencyKey: key, author: post.author) else { return nil }
        do {
            return try post.replay(of: existing)
        } catch {
            throw .rejected(error)
        }
    }
}

extension EntityActor where Host == RoomHost {
    /// Deletes the chunks of upload `file` if no message took it up and none is being posted
    /// with it; answers whether it did.
    func discardUpload(_ file: String) async throws(RuntimeError) -> Bool {
        _ = try activeState()
        let room = host.room
        guard !host.filesInFlight.contains(file), try RoomStore(database: context.database, family: context.family, partitioner: context.partitioner)
            .hasPendingUpload(file, in: room)
        else { return false }
        host.filesInFlight.insert(file)
        defer { host.filesInFlight.remove(file) }
        try await appendFenced(EntityEnvelope.uploadDiscarded(room, file: file).encoded())
        return true
    }
}

extension RoomOutcome: BinaryCodable {
    /// The room after the command.
    public var state: RoomState {
        switch self {
        case let .applied(_, state), let .replayed(_, state): state
        }
    }

    var isReplay: Bool {
        if case .replayed = self { return true }
        return false
    }

    /// The message the command posted or changed (or the one a replay answers with).
    var message: Message? {
        switch self {
        case let .replayed(message, _): message
        case let .applied(entries, _): entries.lazy.compactMap { $0.event.postedMessage ?? $0.event.changedMessage }.first
        }
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .applied(entries, state):
            writer.write(UInt8(1))
            JournalEntry.encode(entries, into: &writer)
            state.encode(into: &writer)
        case let .replayed(message, state):
            writer.write(UInt8(2))
            message.encode(into: &writer)
            state.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomOutcome {
        switch try reader.readUInt8() {
        case 1:
            let entries = try JournalEntry.decodeAll(from: &reader)
            return .applied(entries, try RoomState.decode(from: &reader))
        case 2:
            let message = try Message.decode(from: &reader)
            return .replayed(message, try RoomState.decode(from: &reader))
        case let tag: throw DecodingError("unknown room outcome \(tag)")
        }
    }
}

/// Where a room's committed events go to be seen live: the node's sessions of its members.
public protocol RoomEventSink: Sendable {
    /// Called with committed events in journal order per room, with the room as it is after them.
    func publish(_ entries: [JournalEntry], room: RoomState)
}

/// A sink for nodes without live sessions.
public struct DiscardingEventSink: RoomEventSink, StaffEventSink {
    public init() {}
    public func publish(_ entries: [JournalEntry], room: RoomState) {}
    public func publish(_ events: [StaffEvent], staff: StaffState) {}
}
