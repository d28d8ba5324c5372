import ParleyCluster
import ParleyDomain
import ParleyStorage

/// A read of an entity besides its state (a room's history pages, a staff member's
/// mentions): run on the node serving the entity, answered as bytes.
public struct EntityRead: Sendable {
    /// Whether the read needs a quorum to confirm this node still leads (a linearizable
    /// read); false for reads that may be a moment stale (credentials, which are cached anyway).
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
/// to be seen live, what its soft state shows, and its special reads. One value per kind,
/// added to an `EntityKinds` table: that is the whole registration.
public struct EntityKindRegistration<Rules: EntityRules>: Sendable {
    public var storage: EntityStorage<Rules>
    /// Called after each commit, in commit order per entity, with the state after it.
    public var publish: @Sendable (_ sinks: LiveSinks, _ events: [Rules.Event], _ state: Rules) -> Void
    /// What a read of the soft state answers (nil: the kind shows none).
    public var showSoft: (@Sendable (_ soft: Rules.Soft, _ now: Timestamp) -> [UInt8])?
    /// Reads beyond the state, by name.
    public var reads: [String: EntityRead]

    public init(
        storage: EntityStorage<Rules> = .journal,
        publish: @escaping @Sendable (_ sinks: LiveSinks, _ events: [Rules.Event], _ state: Rules) -> Void = { _, _, _ in },
        showSoft: (@Sendable (_ soft: Rules.Soft, _ now: Timestamp) -> [UInt8])? = nil,
        reads: [String: EntityRead] = [:]
    ) {
        self.storage = storage
        self.publish = publish
        self.showSoft = showSoft
        self.reads = reads
    }
}

/// Where committed events go to be seen live, handed to each kind's `publish`.
public struct LiveSinks: Sendable {
    public let rooms: any RoomEventSink
    public let staff: any StaffEventSink
}

/// The entity kinds a node runs, by tag: what its log entries are decoded with and its calls
/// are dispatched by. Every node of a cluster must register the same kinds.
public struct EntityKinds: Sendable {
    var byTag: [UInt8: any RegisteredKind] = [:]

    public init() {}

    /// Adds `Rules`' kind.
    public mutating func register<Rules: EntityRules>(_ rules: Rules.Type, _ registration: EntityKindRegistration<Rules>) {
        precondition(byTag[Rules.kind.rawValue] == nil, "entity kind \(Rules.kind) is registered twice")
        precondition(!byTag.values.contains { $0.kind.name == Rules.kind.name }, "two entity kinds are named \(Rules.kind.name)")
        precondition(Rules.kind != .room, "rooms have their own actor")
        byTag[Rules.kind.rawValue] = KindEntry(registration: registration)
    }

    /// This table with `Rules`' kind added.
    public func registering<Rules: EntityRules>(_ rules: Rules.Type, _ registration: EntityKindRegistration<Rules>) -> EntityKinds {
        var copy = self
        copy.register(rules, registration)
        return copy
    }

    func kind(_ tag: UInt8) -> (any RegisteredKind)? { byTag[tag] }

    /// The kinds every node runs: staff accounts, channels, listings.
    public static let standard: EntityKinds = EntityKinds()
        .registering(StaffState.self, StaffStore.registration)
        .registering(ChannelState.self, ChannelStore.registration)
        .registering(IndexState.self, IndexStore.registration)
}

/// A registered kind with its types erased: what the log applier and the node runtime use.
protocol RegisteredKind: Sendable {
    var kind: EntityKind { get }
    /// Decodes `count` events at `reader` and adds the writes that apply them.
    func addWrites(decoding count: Int, from reader: inout BinaryReader, records: EntityRecords, to writes: inout StateWrites) throws(DecodingError)
    /// The kind's actors on one node.
    func bind(to context: KindContext) -> any BoundKind
}

struct KindEntry<Rules: EntityRules>: RegisteredKind {
    let registration: EntityKindRegistration<Rules>

    var kind: EntityKind { Rules.kind }

    func addWrites(decoding count: Int, from reader: inout BinaryReader, records: EntityRecords, to writes: inout StateWrites) throws(DecodingError) {
        var events: [Rules.Event] = []
        events.reserveCapacity(count)
        for _ in 0..<count { events.append(try Rules.Event.decode(from: &reader)) }
        registration.storage.addWrites(events, records, &writes)
    }

    func bind(to context: KindContext) -> any BoundKind { KindActors<Rules>(registration: registration, context: context) }
}
