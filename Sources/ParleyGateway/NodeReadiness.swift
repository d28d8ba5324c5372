import Synchronization

/// Whether the node takes traffic: `/ready` answers 200 only while `ready`.
public final class NodeReadiness: Sendable {
    public enum Phase: UInt8, Sendable {
        case starting = 0
        case ready = 1
        case draining = 2

        var name: String { ["starting", "ready", "draining"][Int(rawValue)] }
    }

    private let phase = Atomic<UInt8>(Phase.starting.rawValue)

    public init() {}

    public var current: Phase { Phase(rawValue: phase.load(ordering: .acquiring)) ?? .starting }

    public func set(_ new: Phase) { phase.store(new.rawValue, ordering: .releasing) }
}
