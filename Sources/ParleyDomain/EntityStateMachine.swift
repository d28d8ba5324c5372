/// The rules of an entity kind whose commands turn into events one at a time: `decide`
/// refuses or returns events, `apply` folds them in. Rooms have richer outcomes (replays,
/// notices) and keep their own shape.
public protocol EntityStateMachine: Sendable {
    associatedtype Command: Sendable
    associatedtype Event: Sendable

    func decide(_ command: Command, now: Timestamp) throws(DomainError) -> [Event]
    mutating func apply(_ event: Event)
}

extension StaffState: EntityStateMachine {}
