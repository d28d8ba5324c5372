/// What a decision asks to happen beyond its own entity's events. Effects are written in the
/// same log entry as the events, so they happen if and only if the events do.
public enum Effect: Sendable, Equatable {
    /// A command to another entity (any kind, any partition), in the target kind's command
    /// encoding. Delivered at least once by the partition's outbox; the receiver applies it
    /// once (it drops a repeated source sequence).
    case send(to: EntityID, command: [UInt8])
    /// An outgoing delivery to a named sink (a provider send, a webhook). The runtime
    /// attaches the entity's fencing epoch; the sink retries until it is taken.
    case deliver(sink: String, payload: [UInt8])
    /// Wake this entity with `tag` at `at` (replaces a timer of the same tag). A timer that
    /// falls due becomes the command `EntityRules.command(forTimer:)` names.
    case setTimer(tag: String, at: Timestamp)
    /// Forget the timer `tag`, if set.
    case cancelTimer(tag: String)

    /// `command` to entity `key` of kind `Target`.
    public static func send<Target: EntityRules>(_ command: Target.Command, to key: String, of target: Target.Type) -> Effect {
        .send(to: EntityID(kind: Target.kind, key: key), command: command.encoded)
    }
}

/// What a command decided: the events to append (in order) and the effects they carry.
public struct Decision<Event: Sendable>: Sendable {
    public var events: [Event]
    public var effects: [Effect]

    public init(_ events: [Event] = [], effects: [Effect] = []) {
        self.events = events
        self.effects = effects
    }

    /// Nothing to append: the command changed nothing durable (soft state may have moved).
    public var isEmpty: Bool { events.isEmpty && effects.isEmpty }
}

/// What a rule sees besides its state and the command: who asks, when, and which entity
/// it is deciding for.
public struct DecisionContext: Sendable {
    public let caller: Caller
    public let now: Timestamp
    public let entity: EntityID

    public init(caller: Caller, now: Timestamp, entity: EntityID) {
        self.caller = caller
        self.now = now
        self.entity = entity
    }
}

/// State of an entity that is never logged (presence, typing, renewals): kept by the
/// entity's actor on the partition's leader, lost on failover and rebuilt from renewals.
/// Kinds without any use `NoSoftState`.
public struct NoSoftState: Sendable, Equatable {
    public init() {}
}
