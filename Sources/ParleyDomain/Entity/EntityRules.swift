/// The rules of one entity kind: a pure state machine. `decide` sees the command, the
/// caller and the time and refuses, or returns events and effects; `apply` folds an event
/// in. Who may do what is decided here (the gateway only authenticates). No I/O, no clock:
/// everything comes in through the context.
public protocol EntityRules: BinaryCodable, Sendable {
    associatedtype Command: BinaryCodable & Sendable
    associatedtype Event: BinaryCodable & Sendable
    associatedtype Soft: Sendable = NoSoftState

    /// The kind these rules are for.
    static var kind: EntityKind { get }

    /// The entity `key` before its first event.
    init(key: String)

    /// The soft state of an entity just activated.
    static var initialSoft: Soft { get }

    /// Decides `command`. `soft` may be changed (it is kept only if this returns); a
    /// decision with no events and no effects appends nothing.
    func decide(_ command: Command, soft: inout Soft, context: DecisionContext) throws(DomainError) -> Decision<Event>

    mutating func apply(_ event: Event)

    /// The command a timer of this entity becomes when it falls due; nil forgets the timer.
    static func command(forTimer tag: String) -> Command?

    /// Refuses `caller` a read of this entity's state.
    func authorizeRead(by caller: Caller) throws(DomainError)
}

extension EntityRules where Soft == NoSoftState {
    public static var initialSoft: NoSoftState { NoSoftState() }
}

extension EntityRules {
    public static func command(forTimer tag: String) -> Command? { nil }
    public func authorizeRead(by caller: Caller) throws(DomainError) {}
}
