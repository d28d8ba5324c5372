import Logging
import ParleyCluster
import ParleyDomain
import ParleyStorage
import Synchronization

/// Settings of the entity runtime; every field has a default.
public struct RuntimeConfiguration: Sendable {
    /// How long an entity stays active without commands before it is passivated.
    public var passivateAfter: Duration = .seconds(300)
    /// How often idle entities are looked for.
    public var passivationSweepInterval: Duration = .seconds(10)
    /// How many times a command fenced by a generation change is decided again.
    public var maxFencedRetries = 3
    /// How often uploads no message took up are looked for.
    public var uploadSweepInterval: Duration = .seconds(600)
    /// How long an upload may stay without its message before its chunks are discarded.
    public var uploadGrace: Duration = .seconds(3_600)
    public var roomLimits = RoomLimits()
    /// The partitions this node serves (all, on a single node).
    public var servedPartitions = ServedPartitions.all
    /// How long a call forwarded to the serving node may take before it fails as unavailable.
    public var forwardTimeout: Duration = .seconds(5)
    /// The entity kinds this node runs besides rooms (the log applier must be given the same).
    public var kinds = EntityKinds.standard
    /// Where effects' outgoing deliveries go, by sink name.
    public var deliverySinks: [String: any DeliverySink] = [:]

    public init() {}
}

/// The entity runtime of one node: routes each command to its entity's actor on the entity's
/// partition, retries commands fenced by a generation change on a fresh activation, and
/// reads applied state for queries.
public final class NodeRuntime: Sendable {
    /// The state keys whose memtable inserts take RocksDB's insert hints, for
    /// `LocalPartitionLog.openDatabase(at:stateInsertHints:)`.
    public static var stateInsertHints: SequencedRecordKeys { StateKeys.insertHints }

    public let configuration: RuntimeConfiguration
    public let partitioner: Partitioner
    let store: RoomStore
    let log: any PartitionLog
    let clock: any WallClock
    let rooms: [EntityRegistry<RoomActor>]
    let staffStore: StaffStore
    /// The registered kinds' actors, by kind tag.
    let kinds: [UInt8: any BoundKind]
    /// The staff accounts' actors, typed: every request's credentials are read through them.
    let staffActors: KindActors<StaffState>?
    /// Wakes the outbox relay after commits that wrote outbox records.
    let outboxSignal = OutboxSignal()
    /// Tells the timer service of a timer just set.
    let timerSignal = TimerSignal()
    /// Where committed messages with links ask for previews; nil when previews are off.
    let linkPreviews: LinkPreviewQueue?
    let logger: Logger
    /// How calls reach the nodes serving other partitions; nil on a single node.
    let peers: (any PeerTransport)?
    /// The cross-node fan-out of live events and presence; nil on a single node.
    public let relay: LiveRelay?
    /// This node's live sessions, counted for presence.
    let liveSessions: (any SessionCounting)?

    public init(
        database: Database,
        stateFamily: ColumnFamily,
        log: any PartitionLog,
        clock: any WallClock = SystemClock(),
        events: any RoomEventSink = DiscardingEventSink(),
        staffEvents: any StaffEventSink = DiscardingEventSink(),
        configuration: RuntimeConfiguration = RuntimeConfiguration(),
        linkPreviews: LinkPreviewQueue? = nil,
        liveSessions: (any SessionCounting)? = nil,
        peers: (any PeerTransport)? = nil,
        relay: LiveRelay? = nil,
        logger: Logger = Logger(label: "parley.runtime")
    ) {
        self.liveSessions = liveSessions
        self.peers = peers
        self.relay = relay
        self.linkPreviews = linkPreviews
        let partitioner = Partitioner(partitionCount: log.partitionCount)
        let store = RoomStore(database: database, family: stateFamily, partitioner: partitioner)
        self.configuration = configuration
        self.partitioner = partitioner
        self.store = store
        self.log = log
        self.clock = clock
        self.logger = logger
        let staffStore = StaffStore(database: database, family: stateFamily, partitioner: partitioner)
        self.staffStore = staffStore
        let served = configuration.servedPartitions
        let signal = outboxSignal
        self.rooms = partitioner.allPartitions.map { partition in
            EntityRegistry(refusal: { served.refusal(for: partition) }, generation: { log.generation(of: partition) }) { key in
                RoomActor(
                    id: RoomID(unchecked: key), partition: partition, store: store, log: log,
                    clock: clock, limits: configuration.roomLimits, events: events, outboxWritten: { signal.fire() })
            }
        }
        let timers = timerSignal
        let context = KindContext(
            log: log, clock: clock, database: database, family: stateFamily, sinks: LiveSinks(rooms: events, staff: staffEvents), logger: logger,
            outboxWritten: { signal.fire() }, timerSet: { timers.fire($0) }, partitioner: partitioner, served: served,
            maxFencedRetries: configuration.maxFencedRetries)
        let kinds = configuration.kinds.byTag.mapValues { $0.bind(to: context) }
        self.kinds = kinds
        self.staffActors = kinds[StaffState.kind.rawValue] as? KindActors<StaffState>
    }

    /// Creates a room: a space or conference with a new id, or the direct room of a staff
    /// pair (whose id is derived from the pair, so opening it again returns it).
    public func createRoom(_ creation: RoomCreation) async throws(RuntimeError) -> RoomState {
        try await openRoom(creation).room
    }

    /// `createRoom`, telling whether the room is new (false: the pair's direct room existed).
    public func openRoom(_ creation: RoomCreation) async throws(RuntimeError) -> (room: RoomState, created: Bool) {
        let id = creation.kind == .direct ? Self.directRoomID(creation.creator, creation.members) : RoomID.random(prefix: "r_")
        let outcome = try await send(.create(creation), to: id)
        guard case let .applied(entries, state) = outcome else { return (outcome.state, false) }
        return (state, !entries.isEmpty)
    }

    /// Opens an enquiry room for the staff serving it (what enquiry routing calls).
    public func openEnquiryRoom(_ opening: EnquiryOpening) async throws(RuntimeError) -> RoomState {
        try await send(.openEnquiry(opening), to: RoomID.random(prefix: "e_")).state
    }

    /// `d_` and two independent stable hashes of the sorted pair.
    static func directRoomID(_ creator: StaffID, _ members: [StaffID]) -> RoomID {
        let pair = Set(members + [creator]).map(\.rawValue).sorted().joined(separator: "/")
        let first = String(Partitioner.stableHash("direct/" + pair), radix: 16)
        let second = String(Partitioner.stableHash(pair + "/direct"), radix: 16)
        return RoomID(unchecked: "d_" + first + second)
    }

    /// Posts a message; `replayed` tells whether an idempotency key matched an earlier post.
    public func postMessage(in room: RoomID, _ post: MessagePost) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        try await perform(.postMessage(room, post)).posted()
    }

    /// `postMessage` on this node, which serves the room (a call from a peer, never forwarded).
    func postMessageHere(in room: RoomID, _ post: MessagePost) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        try Self.posted(try await sendHere(.post(post), to: room))
    }

    private static func posted(_ outcome: RoomOutcome) throws(RuntimeError) -> (message: Message, replayed: Bool) {
        switch outcome {
        case let .replayed(message, _):
            return (message, true)
        case let .applied(entries, _):
            guard let message = entries.lazy.compactMap(\.event.postedMessage).first else {
                throw .internalFailure(code: "unexpected_outcome", message: "posting did not post")
            }
            return (message, false)
        }
    }

    /// Forwards message `seq` of `origin` to `target`; the forwarder must be a member of
    /// both. `text` (optional) is the forwarder's own words above the forwarded message.
    public func forward(
        _ seq: UInt64, from origin: RoomID, to target: RoomID, by staff: StaffID, text: String = "", idempotencyKey: String? = nil
    ) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        let original = try await perform(.message(origin, seq: seq, reader: staff)).message()
        return try await postMessage(in: target, MessagePost(author: staff, text: text, idempotencyKey: idempotencyKey, forwarding: (original, origin)))
    }

    /// Edits message `seq`: its author only, within the edit window.
    public func edit(_ seq: UInt64, in room: RoomID, text: String, by staff: StaffID) async throws(RuntimeError) -> Message {
        try changedMessage(try await send(.edit(seq: seq, text: text, by: staff), to: room))
    }

    /// Recalls message `seq`: its author only, within the edit window. Its content is gone
    /// for everyone; a tombstone keeps its place.
    public func recall(_ seq: UInt64, in room: RoomID, by staff: StaffID) async throws(RuntimeError) -> Message {
        try changedMessage(try await send(.recall(seq: seq, by: staff), to: room))
    }

    /// Runs a room command that answers with the room (read pointers, mute, membership,
    /// profile).
    public func update(_ room: RoomID, _ command: RoomCommand) async throws(RuntimeError) -> RoomState {
        try await send(command, to: room).state
    }

    /// The room, as `reader` may see it.
    public func room(_ id: RoomID, reader: StaffID) async throws(RuntimeError) -> RoomState {
        try await perform(.roomState(id, reader: reader)).roomState()
    }

    /// A page of the room's history, oldest first; only members may read it.
    public func messages(in id: RoomID, reader: StaffID, page: HistoryPage) async throws(RuntimeError) -> [Message] {
        try await perform(.messages(id, reader: reader, page)).messages()
    }

    /// Journal events after `eventSeq` (what a reconnecting client missed), and the oldest
    /// event seq still kept; only members may read it.
    public func journal(of id: RoomID, reader: StaffID, after eventSeq: UInt64, limit: Int) async throws(RuntimeError) -> (entries: [JournalEntry], oldestKept: UInt64?) {
        let (entries, oldest) = try await perform(.journal(id, reader: reader, after: eventSeq, limit: limit)).journal()
        return (entries, oldest)
    }

    private func changedMessage(_ outcome: RoomOutcome) throws(RuntimeError) -> Message {
        guard case let .applied(entries, _) = outcome, let message = entries.lazy.compactMap(\.event.changedMessage).first else {
            throw .internalFailure(code: "unexpected_outcome", message: "the message did not change")
        }
        return message
    }

    /// The rooms `staff` takes part in, most recent activity first (Recent Connections).
    public func recentConnections(of staff: StaffID) async throws(RuntimeError) -> [RecentConnection] {
        let account = try await staffAccount(staff)
        let rooms = account.rooms.filter(\.value.isMember).map(\.key).sorted()
        var connections: [RecentConnection] = []
        // The rooms' nodes are asked concurrently, a bounded number of rooms at a time.
        for start in stride(from: 0, to: rooms.count, by: Self.concurrentRoomReads) {
            let chunk = rooms[start..<min(start + Self.concurrentRoomReads, rooms.count)]
            await withTaskGroup(of: RecentConnection?.self) { group in
                for room in chunk { group.addTask { await self.connection(to: room, of: staff) } }
                for await connection in group { if let connection { connections.append(connection) } }
            }
        }
        return connections.sorted { ($0.lastActivity, $0.room.id.rawValue) > ($1.lastActivity, $1.room.id.rawValue) }
    }

    /// Rooms whose state Recent Connections reads at once.
    static let concurrentRoomReads = 32

    /// `room` as one of `staff`'s Recent Connections: its state and last message (read
    /// together); nil if it cannot be read (left or removed since the notice, the index catches
    /// up; or its node is unreachable).
    private func connection(to room: RoomID, of staff: StaffID) async -> RecentConnection? {
        async let state = try? self.room(room, reader: staff)
        async let page = try? messages(in: room, reader: staff, page: HistoryPage(limit: 1))
        guard let state = await state, let page = await page else { return nil }
        let last = page.first
        let joined = state.members[staff]?.joinedAt ?? state.profile?.createdAt ?? Timestamp(milliseconds: 0)
        return RecentConnection(room: state, lastMessage: last, lastActivity: max(last?.postedAt ?? joined, joined))
    }


    /// Lets the outbox relay be woken after commits that wrote outbox records.
    public func onOutboxWritten(_ action: @escaping @Sendable () -> Void) { outboxSignal.set(action) }

    /// Passivates entities idle for `configuration.passivateAfter`; returns how many.
    @discardableResult
    public func passivateIdle(now: ContinuousClock.Instant = .now) -> Int {
        rooms.reduce(0) { $0 + $1.passivateIdle(now: now, idleFor: configuration.passivateAfter) }
            + kinds.values.reduce(0) { $0 + $1.passivateIdle(now: now, idleFor: configuration.passivateAfter) }
    }

    /// How many entity actors are active on this node.
    public var activeEntities: Int {
        rooms.reduce(0) { $0 + $1.activeCount } + kinds.values.reduce(0) { $0 + $1.activeCount }
    }

    /// Whether the room's actor is active (for tests and diagnostics).
    public func isActive(_ room: RoomID) -> Bool { registry(for: room).isActive(room.rawValue) }

    func registry(for room: RoomID) -> EntityRegistry<RoomActor> {
        rooms[Int(partitioner.partition(for: EntityID.room(room).description).rawValue)]
    }

    func send(_ command: RoomCommand, to room: RoomID) async throws(RuntimeError) -> RoomOutcome {
        try await perform(.roomCommand(room, command)).room()
    }

    /// Decides `command` on this node, which serves the room.
    func sendHere(_ command: RoomCommand, to room: RoomID) async throws(RuntimeError) -> RoomOutcome {
        let outcome = try await retryingFenced(room.rawValue) { () async throws(RuntimeError) -> RoomOutcome in
            try await registry(for: room).withEntity(room.rawValue) { (actor) async throws(RuntimeError) -> RoomOutcome in
                try await actor.handle(command)
            }
        }
        if case let .applied(entries, _) = outcome { requestLinkPreviews(after: entries, in: room) }
        return outcome
    }

    /// Runs `body`, deciding again on a fresh activation when a command was only fenced.
    func retryingFenced<R>(_ entity: String, _ body: () async throws(RuntimeError) -> R) async throws(RuntimeError) -> R {
        try await ParleyRuntime.retryingFenced(entity, maxRetries: configuration.maxFencedRetries, logger: logger, body)
    }
}

/// Runs `body`, deciding again (at most `maxRetries` times) on a fresh activation when a
/// command was only fenced: nothing of it was stored.
func retryingFenced<R>(
    _ entity: String, maxRetries: Int, logger: Logger, _ body: () async throws(RuntimeError) -> R
) async throws(RuntimeError) -> R {
    var attempt = 0
    while true {
        do {
            return try await body()
        } catch {
            attempt += 1
            guard error.isFenced, attempt <= maxRetries else { throw error }
            logger.debug("command fenced; deciding again", metadata: ["entity": "\(entity)", "attempt": "\(attempt)"])
        }
    }
}

extension RoomOutcome {
    /// The room after the command.
    public var state: RoomState {
        switch self {
        case let .applied(_, state), let .replayed(_, state): state
        }
    }
}

extension RoomEvent {
    var postedMessage: Message? {
        if case let .messagePosted(message) = self { return message }
        return nil
    }

    var changedMessage: Message? {
        switch self {
        case let .messageEdited(message), let .messageRecalled(message, _), let .messagePreviewed(message): message
        default: nil
        }
    }
}

/// One room of a staff member's Recent Connections.
public struct RecentConnection: Sendable {
    public let room: RoomState
    public let lastMessage: Message?
    public let lastActivity: Timestamp
}

/// A settable wake-up call, so rooms can wake a relay created after them.
final class OutboxSignal: Sendable {
    /// The closure lives in a box: a closure stored directly in the mutex would be
    /// reabstracted on every `withLock` (the generic inout writes it back wrapped in two more
    /// thunks), a chain that grew with every commit and made each call slower.
    private final class Action: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let action = Mutex<Action?>(nil)

    func set(_ newAction: @escaping @Sendable () -> Void) {
        let boxed = Action(newAction)
        action.withLock { $0 = boxed }
    }

    func fire() { action.withLock { $0 }?.run() }
}

/// A settable call for each timer set, with its deadline, so entities can wake a timer
/// service created after them.
final class TimerSignal: Sendable {
    /// Boxed for the reason `OutboxSignal` gives.
    private final class Action: Sendable {
        let run: @Sendable (Timestamp) -> Void
        init(_ run: @escaping @Sendable (Timestamp) -> Void) { self.run = run }
    }

    private let action = Mutex<Action?>(nil)

    func set(_ newAction: @escaping @Sendable (Timestamp) -> Void) {
        let boxed = Action(newAction)
        action.withLock { $0 = boxed }
    }

    func fire(_ deadline: Timestamp) { action.withLock { $0 }?.run(deadline) }
}
