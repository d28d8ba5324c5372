import ParleyCluster
import ParleyDomain
import Synchronization

/// What a room command produced.
public enum RoomOutcome: Sendable, Equatable {
    case created(RoomState)
    /// `replayed` is true when an idempotency key matched a message already posted.
    case posted(Message, replayed: Bool)
}

/// The actor of one room on its partition's leader. It decides commands against its state,
/// applies the events to that state at once (so commands pipelined behind decide on top of
/// them), queues them on the partition log without suspending in between (so the log sees
/// them in decision order), and answers only when they are durable and applied.
actor RoomActor: ActivatedEntity {
    let id: RoomID
    let partition: PartitionID
    private let store: RoomStore
    private let log: any PartitionLog
    private let clock: any WallClock
    private let limits: RoomLimits

    private var state: RoomState?
    private var generation: UInt64 = 0
    /// Idempotency keys of posts decided but not yet durable.
    private var pendingKeys: Set<String> = []
    private let retired = Atomic<Bool>(false)

    nonisolated var isRetired: Bool { retired.load(ordering: .acquiring) }

    init(id: RoomID, partition: PartitionID, store: RoomStore, log: any PartitionLog, clock: any WallClock, limits: RoomLimits) {
        self.id = id
        self.partition = partition
        self.store = store
        self.log = log
        self.clock = clock
        self.limits = limits
    }

    /// Decides and commits `command`.
    func handle(_ command: RoomCommand) async throws(RuntimeError) -> RoomOutcome {
        let current = try activeState()
        if case let .post(post) = command, let key = post.idempotencyKey {
            if let replay = try replay(of: post, key: key) { return .posted(replay, replayed: true) }
        }
        let events: [RoomEvent]
        do {
            events = try current.decide(command, now: clock.now(), limits: limits)
        } catch {
            throw .rejected(error)
        }
        var next = current
        for event in events { next.apply(event) }
        state = next
        let key: String? = if case let .post(post) = command { post.idempotencyKey } else { nil }
        if let key { pendingKeys.insert(key) }
        defer { if let key { pendingKeys.remove(key) } }

        let ticket = log.append(EntityEnvelope.room(id, events).encoded(), to: partition, generation: generation)
        do {
            _ = try await ticket.result()
        } catch {
            retire()
            throw .log(error)
        }
        switch events.first {
        case .created?: return .created(next)
        case let .messagePosted(message)?: return .posted(message, replayed: false)
        case nil: throw .internalFailure(code: "no_events", message: "room command produced no events")
        }
    }

    /// The room's state, if `reader` may read it.
    func readableState(by reader: StaffID) throws(RuntimeError) -> RoomState {
        let current = try activeState()
        guard current.exists else { throw .rejected(DomainError(.roomNotFound, "room \(id) does not exist")) }
        guard current.canRead(reader) else { throw .rejected(DomainError(.notAMember, "\(reader) is not a member of room \(id)")) }
        return current
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

    /// Loads the applied state on first use. The reads are point lookups and one short
    /// scan of the member list, on this actor's thread, never on a NIO event loop.
    private func activeState() throws(RuntimeError) -> RoomState {
        if let state { return state }
        guard !isRetired else {
            throw .unavailable(code: RuntimeError.entityRetired, message: "room \(id) is being reactivated")
        }
        generation = log.generation(of: partition)
        let loaded = try store.load(id)
        state = loaded
        return loaded
    }

    private func retire() {
        retired.store(true, ordering: .releasing)
        state = nil
    }
}
