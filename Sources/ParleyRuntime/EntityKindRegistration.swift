import ParleyCluster
import ParleyDomain
import ParleyStorage

/// An operation on an entity besides its commands and its state (a room's history pages or
/// file upload, a staff member's mentions): run on the node serving the entity, answered as
/// bytes.
public struct EntityOperation: Sendable {
    /// Whether the operation needs a quorum to confirm this node still leads first (a
    /// linearizable read); false for reads that may be a moment stale (credentials, which are
    /// cached anyway) and for operations that write (the log fences those).
    public var linearizable: Bool
    public var run: @Sendable (_ runtime: NodeRuntime, _ entity: EntityID, _ caller: Caller, _ payload: [UInt8]) async throws(RuntimeError) -> [UInt8]

    public init(
        linearizable: Bool = true,
        _ run: @escaping @Sendable (_ runtime: NodeRuntime, _ entity: EntityID, _ caller: Caller, _ payload: [UInt8]) async throws(RuntimeError) -> [UInt8]
    ) {
        self.linearizable = linearizable
        self.run = run
    }
}

/// Everything the runtime needs to run a kind: its storage, where its committed events go
/// to be seen live, what its soft state shows, and its operations. One value per kind, added
/// to an `EntityKinds` table: that is the whole registration.
public struct EntityKindRegistration<Rules: EntityRules>: Sendable {
    public var storage: EntityStorage<Rules>
    /// Called with committed events in event order per entity (those of commits committed
    /// together in one call), numbered from `firstEventSeq`, with the state after them.
    public var publish: (@Sendable (_ sinks: LiveSinks, _ firstEventSeq: UInt64, _ events: [Rules.Event], _ state: Rules) -> Void)?
    /// What a read of the soft state answers (nil: the kind shows none).
    public var showSoft: (@Sendable (_ soft: Rules.Soft, _ now: Timestamp) -> [UInt8])?
    /// Operations beyond commands and the state, by name.
    public var operations: [String: EntityOperation]

    public init(
        storage: EntityStorage<Rules> = .journal,
        publish: (@Sendable (_ sinks: LiveSinks, _ firstEventSeq: UInt64, _ events: [Rules.Event], _ state: Rules) -> Void)? = nil,
        showSoft: (@Sendable (_ soft: Rules.Soft, _ now: Timestamp) -> [UInt8])? = nil,
        operations: [String: EntityOperation] = [:]
    ) {
        self.storage = storage
        self.publish = publish
        self.showSoft = showSoft
        self.operations = operations
    }
}

/// Where committed events go once committed, handed to each kind's `publish`: live sessions,
/// and the link previewer (nil when previews are off).
public struct LiveSinks: Sendable {
    public let rooms: any RoomEventSink
    public let staff: any StaffEventSink
    public let linkPreviews: LinkPreviewQueue?
    /// The node's routing board: staff accounts this node leads report their changes to it.
    public let routing: RoutingBoard
}

/// The entity kinds a node runs, by tag: what its log entries are decoded with and its calls
/// are dispatched by. Every node of a cluster must register the same kinds.
public struct EntityKinds: Sendable {
    var byTag: [UInt8: any RegisteredKind] = [:]

    public init() {}

    /// Adds `Rules`' kind.
    public mutating func register<Rules: EntityRules>(_ rules: Rules.Type, _ registration: EntityKindRegistration<Rules>) {
        register(host: PlainHost<Rules>.self, registration)
    }

    /// Adds the kind of `Host`'s rules, run with `Host`'s additions.
    mutating func register<Host: EntityHost>(host: Host.Type, _ registration: EntityKindRegistration<Host.Rules>) {
        let kind = Host.Rules.kind
        precondition(byTag[kind.rawValue] == nil, "entity kind \(kind) is registered twice")
        precondition(!byTag.values.contains { $0.kind.name == kind.name }, "two entity kinds are named \(kind.name)")
        byTag[kind.rawValue] = KindEntry<Host>(registration: registration)
    }

    /// This table with `Rules`' kind added.
    public func registering<Rules: EntityRules>(_ rules: Rules.Type, _ registration: EntityKindRegistration<Rules>) -> EntityKinds {
        var copy = self
        copy.register(rules, registration)
        return copy
    }

    func kind(_ tag: UInt8) -> (any RegisteredKind)? { byTag[tag] }

    /// The kinds every node runs: rooms, staff accounts, channels, listings, enquiries and
    /// destinations.
    public static let standard: EntityKinds = {
        var kinds = EntityKinds()
        kinds.register(host: RoomHost.self, RoomStore.registration)
        kinds.register(StaffState.self, StaffStore.registration)
        kinds.register(ChannelState.self, ChannelStore.registration)
        kinds.register(IndexState.self, IndexStore.registration)
        kinds.register(host: EnquiryHost.self, EnquiryKinds.enquiries)
        kinds.register(DestinationState.self, EnquiryKinds.destinations)
        kinds.register(VisitorState.self, EnquiryKinds.visitors)
        return kinds
    }()
}

/// A registered kind with its types erased: what the log applier and the node runtime use.
protocol RegisteredKind: Sendable {
    var kind: EntityKind { get }
    /// Whether the runtime keeps the entity's last event seq (the kind's state does not).
    var recordsEventSeq: Bool { get }
    /// Decodes `count` events at `reader` (over `payload`) and adds the writes that apply them.
    func addWrites(
        decoding count: Int, from reader: inout BinaryReader, payload: [UInt8], records: EntityRecords, to writes: inout StateWrites
    ) throws(DecodingError)
    /// The kind's actors on one node.
    func bind(to context: KindContext) -> any BoundKind
}

struct KindEntry<Host: EntityHost>: RegisteredKind {
    typealias Rules = Host.Rules
    let registration: EntityKindRegistration<Rules>

    var kind: EntityKind { Rules.kind }

    var recordsEventSeq: Bool { registration.storage.eventSeq == nil }

    func addWrites(
        decoding count: Int, from reader: inout BinaryReader, payload: [UInt8], records: EntityRecords, to writes: inout StateWrites
    ) throws(DecodingError) {
        var events: [Rules.Event] = []
        var encoded: [ArraySlice<UInt8>] = []
        events.reserveCapacity(count)
        encoded.reserveCapacity(count)
        for _ in 0..<count {
            let start = reader.offset
            events.append(try Rules.Event.decode(from: &reader))
            encoded.append(payload[start..<reader.offset])
        }
        registration.storage.addWrites(events, encoded, records, &writes)
    }

    func bind(to context: KindContext) -> any BoundKind { KindActors<Host>(registration: registration, context: context) }
}
