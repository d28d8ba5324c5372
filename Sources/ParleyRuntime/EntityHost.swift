import ParleyCluster
import ParleyDomain

/// What one kind's actor does around the generic decide-and-commit of `EntityActor`: how it
/// decides (with inputs from storage or configuration the rules cannot read themselves), what
/// a command answers, what it keeps track of while commands commit, and reads that need the
/// actor. One instance per activation, used only on its actor. Most kinds need nothing of it:
/// `PlainHost` decides with the rules alone and answers with the state; rooms have `RoomHost`.
protocol EntityHost<Rules>: AnyObject, SendableMetatype {
    associatedtype Rules: EntityRules
    /// What a command answers on the node that decided it.
    associatedtype Answer: Sendable

    init(entity: EntityID, partition: PartitionID, context: KindContext)

    /// Decides `command` on `state` (as last decided; `committed` is as last committed): the
    /// decision, or an answer without a decision (an idempotent replay). May change `soft`.
    func decide(
        _ command: Rules.Command, on state: Rules, committed: Rules, soft: inout Rules.Soft, context: DecisionContext
    ) throws(RuntimeError) -> HostDecision<Rules.Event, Answer>

    /// Events are decided, numbered from `firstEventSeq`, and on their way to the log: those of
    /// `command`, or (nil) of a timer or a run of effects.
    func decided(_ command: Rules.Command?, events: [Rules.Event], firstEventSeq: UInt64)

    /// The entry of `command` (or nil, as in `decided`) settled: committed, or failed (the
    /// activation is then retired).
    func settled(_ command: Rules.Command?)

    /// What `command` answers: the entity after it and the events it appended.
    func answer(state: Rules, firstEventSeq: UInt64, events: [Rules.Event]) -> Answer

    /// The state after the command, from its answer.
    static func state(of answer: Answer) -> Rules

    /// The answer's encoding for a caller on another node; `brief` when the caller asked only
    /// for what a brief answer holds (the kind says what that is).
    static func encode(_ answer: Answer, brief: Bool) -> [UInt8]

    /// Reads the actor serves from its committed state and what it keeps besides (nil: no
    /// read of that name here).
    func read(_ name: String, payload: [UInt8], committed: Rules, caller: Caller) throws(RuntimeError) -> [UInt8]?
}

/// A decision of a host: events and effects to commit, or an answer without deciding.
enum HostDecision<Event: Sendable, Answer> {
    case decided(Decision<Event>)
    case answered(Answer)
}

/// What a command call asks back: nothing, the state after it, or the kind's own answer (in
/// full or brief).
public enum CallAnswer: UInt8, Sendable, Equatable {
    case none = 0, state, outcome, briefOutcome
}

extension EntityHost {
    func decided(_ command: Rules.Command?, events: [Rules.Event], firstEventSeq: UInt64) {}
    func settled(_ command: Rules.Command?) {}
    func read(_ name: String, payload: [UInt8], committed: Rules, caller: Caller) throws(RuntimeError) -> [UInt8]? { nil }
}

/// The host of kinds that need nothing beyond their rules: decides with them alone and
/// answers with the state.
final class PlainHost<Rules: EntityRules>: EntityHost {
    init(entity: EntityID, partition: PartitionID, context: KindContext) {}

    func decide(
        _ command: Rules.Command, on state: Rules, committed: Rules, soft: inout Rules.Soft, context: DecisionContext
    ) throws(RuntimeError) -> HostDecision<Rules.Event, Rules> {
        do {
            return .decided(try state.decide(command, soft: &soft, context: context))
        } catch {
            throw .rejected(error)
        }
    }

    func answer(state: Rules, firstEventSeq: UInt64, events: [Rules.Event]) -> Rules { state }

    static func state(of answer: Rules) -> Rules { answer }

    static func encode(_ answer: Rules, brief: Bool) -> [UInt8] { answer.encoded }
}
