import Logging
import ParleyCluster
import ParleyDomain
import ParleyStorage

/// Settings of the entity runtime; every field has a default.
public struct RuntimeConfiguration: Sendable {
    /// How long an entity stays active without commands before it is passivated.
    public var passivateAfter: Duration = .seconds(300)
    /// How often idle entities are looked for.
    public var passivationSweepInterval: Duration = .seconds(10)
    /// How many times a command fenced by a generation change is decided again.
    public var maxFencedRetries = 3
    public var roomLimits = RoomLimits()

    public init() {}
}

/// The entity runtime of one node: routes each command to its entity's actor on the entity's
/// partition, retries commands fenced by a generation change on a fresh activation, and
/// reads applied state for queries.
public final class NodeRuntime: Sendable {
    public let configuration: RuntimeConfiguration
    public let partitioner: Partitioner
    let store: RoomStore
    let log: any PartitionLog
    let clock: any WallClock
    let rooms: [EntityRegistry<RoomActor>]
    let logger: Logger

    public init(
        database: Database,
        stateFamily: ColumnFamily,
        log: any PartitionLog,
        clock: any WallClock = SystemClock(),
        configuration: RuntimeConfiguration = RuntimeConfiguration(),
        logger: Logger = Logger(label: "parley.runtime")
    ) {
        let partitioner = Partitioner(partitionCount: log.partitionCount)
        let store = RoomStore(database: database, family: stateFamily, partitioner: partitioner)
        self.configuration = configuration
        self.partitioner = partitioner
        self.store = store
        self.log = log
        self.clock = clock
        self.logger = logger
        self.rooms = partitioner.allPartitions.map { partition in
            EntityRegistry { key in
                RoomActor(
                    id: RoomID(unchecked: key), partition: partition, store: store, log: log,
                    clock: clock, limits: configuration.roomLimits)
            }
        }
    }

    /// Creates a space room with a new id.
    public func createRoom(_ creation: RoomCreation) async throws(RuntimeError) -> RoomState {
        let id = RoomID.random(prefix: "r_")
        guard case let .created(state) = try await send(.create(creation), to: id) else {
            throw .internalFailure(code: "unexpected_outcome", message: "room creation did not create")
        }
        return state
    }

    /// Posts a message; `replayed` tells whether an idempotency key matched an earlier post.
    public func postMessage(in room: RoomID, _ post: MessagePost) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        guard case let .posted(message, replayed) = try await send(.post(post), to: room) else {
            throw .internalFailure(code: "unexpected_outcome", message: "posting did not post")
        }
        return (message, replayed)
    }

    /// The room, as `reader` may see it.
    public func room(_ id: RoomID, reader: StaffID) async throws(RuntimeError) -> RoomState {
        try await registry(for: id).withEntity(id.rawValue) { (actor) async throws(RuntimeError) -> RoomState in
            try await actor.readableState(by: reader)
        }
    }

    /// A page of the room's history, oldest first; only members may read it.
    public func messages(in id: RoomID, reader: StaffID, page: HistoryPage) async throws(RuntimeError) -> [Message] {
        _ = try await room(id, reader: reader)
        let store = self.store
        return try await store.database.executor.run { () throws(RuntimeError) -> [Message] in
            try store.messages(in: id, page: page)
        }
    }

    /// Passivates entities idle for `configuration.passivateAfter`; returns how many.
    @discardableResult
    public func passivateIdle(now: ContinuousClock.Instant = .now) -> Int {
        rooms.reduce(0) { $0 + $1.passivateIdle(now: now, idleFor: configuration.passivateAfter) }
    }

    /// How many entity actors are active on this node.
    public var activeEntities: Int { rooms.reduce(0) { $0 + $1.activeCount } }

    /// Whether the room's actor is active (for tests and diagnostics).
    public func isActive(_ room: RoomID) -> Bool { registry(for: room).isActive(room.rawValue) }

    private func registry(for room: RoomID) -> EntityRegistry<RoomActor> {
        rooms[Int(partitioner.partition(for: EntityID.room(room).description).rawValue)]
    }

    private func send(_ command: RoomCommand, to room: RoomID) async throws(RuntimeError) -> RoomOutcome {
        var attempt = 0
        while true {
            do {
                return try await registry(for: room).withEntity(room.rawValue) { (actor) async throws(RuntimeError) -> RoomOutcome in
                    try await actor.handle(command)
                }
            } catch {
                attempt += 1
                guard error.isFenced, attempt <= configuration.maxFencedRetries else { throw error }
                logger.debug("command fenced; deciding again", metadata: ["room": "\(room)", "attempt": "\(attempt)"])
            }
        }
    }
}
