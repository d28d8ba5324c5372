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
    /// The entity kinds this node runs (the log applier must be given the same).
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
    let staffStore: StaffStore
    /// The rooms' actors, typed: every message goes through them.
    let roomActors: KindActors<RoomHost>?
    /// The registered kinds' actors, by kind tag.
    let kinds: [UInt8: any BoundKind]
    /// The staff accounts' actors, typed: every request's credentials are read through them.
    let staffActors: KindActors<PlainHost<StaffState>>?
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
    /// What enquiry routing knows: destinations and staff statuses (the relay's, in a cluster).
    public let routingBoard: RoutingBoard

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
        let routingBoard = relay?.board ?? RoutingBoard()
        self.routingBoard = routingBoard
        self.linkPreviews = linkPreviews
        let partitioner = Partitioner(partitionCount: log.partitionCount)
        let store = RoomStore(database: database, family: stateFamily, partitioner: partitioner)
        var configuration = configuration
        if configuration.deliverySinks[EnquiryState.noticeSink] == nil {
            configuration.deliverySinks[EnquiryState.noticeSink] = EnquiryNoticeDelivery(
                board: routingBoard, sessions: relay?.hub ?? (liveSessions as? LiveHub), relay: relay)
        }
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
        let timers = timerSignal
        let context = KindContext(
            log: log, clock: clock, database: database, family: stateFamily,
            sinks: LiveSinks(rooms: events, staff: staffEvents, linkPreviews: linkPreviews, routing: routingBoard), logger: logger, configuration: configuration,
            outboxWritten: { signal.fire() }, timerSet: { timers.fire($0, $1) }, partitioner: partitioner, served: served,
            maxFencedRetries: configuration.maxFencedRetries)
        let kinds = configuration.kinds.byTag.mapValues { $0.bind(to: context) }
        self.kinds = kinds
        self.staffActors = kinds[StaffState.kind.rawValue] as? KindActors<PlainHost<StaffState>>
        self.roomActors = kinds[RoomState.kind.rawValue] as? KindActors<RoomHost>
    }

    /// Lets the outbox relay be woken after commits that wrote outbox records.
    public func onOutboxWritten(_ action: @escaping @Sendable () -> Void) { outboxSignal.set(action) }

    /// Passivates entities idle for `configuration.passivateAfter`; returns how many.
    @discardableResult
    public func passivateIdle(now: ContinuousClock.Instant = .now) -> Int {
        kinds.values.reduce(0) { $0 + $1.passivateIdle(now: now, idleFor: configuration.passivateAfter) }
    }

    /// How many entity actors are active on this node.
    public var activeEntities: Int {
        kinds.values.reduce(0) { $0 + $1.activeCount }
    }

    /// Whether the room's actor is active (for tests and diagnostics).
    public func isActive(_ room: RoomID) -> Bool { roomActors?.registry(.room(room)).isActive(room.rawValue) ?? false }
}

/// Runs `body`, deciding again (at most `maxRetries` times) on a fresh activation when a
/// command was only fenced: nothing of it was stored.
func retryingFenced<R>(
    _ entity: @autoclosure () -> String, maxRetries: Int, logger: Logger, _ body: () async throws(RuntimeError) -> R
) async throws(RuntimeError) -> R {
    var attempt = 0
    while true {
        do {
            return try await body()
        } catch {
            attempt += 1
            guard error.isFenced, attempt <= maxRetries else { throw error }
            logger.debug("command fenced; deciding again", metadata: ["entity": "\(entity())", "attempt": "\(attempt)"])
        }
    }
}

extension RoomEvent {
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

/// A settable call for each commit that set timers, with their partition and earliest
/// deadline, so entities can wake a timer service created after them.
final class TimerSignal: Sendable {
    /// Boxed for the reason `OutboxSignal` gives.
    private final class Action: Sendable {
        let run: @Sendable (PartitionID, Timestamp) -> Void
        init(_ run: @escaping @Sendable (PartitionID, Timestamp) -> Void) { self.run = run }
    }

    private let action = Mutex<Action?>(nil)

    func set(_ newAction: @escaping @Sendable (PartitionID, Timestamp) -> Void) {
        let boxed = Action(newAction)
        action.withLock { $0 = boxed }
    }

    func fire(_ partition: PartitionID, _ deadline: Timestamp) { action.withLock { $0 }?.run(partition, deadline) }
}
