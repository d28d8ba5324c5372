import ParleyDomain

@testable import ParleyRuntime

/// A kind that exists only in the tests, to prove that a kind is its rules, its codec and
/// one registration: a counter that can ask another counter to add (an effect), set and
/// cancel timers that add when they fire, and keep pings as soft state (never logged).
struct ProbeState: EntityRules, Equatable {
    static let kind = EntityKind(rawValue: 0x70, name: "probe")

    let key: String
    private(set) var total: Int64 = 0
    /// Tags of the timers that fired, in order.
    private(set) var fired: [String] = []

    init(key: String) { self.key = key }

    enum Command: Equatable, Sendable {
        case add(Int64)
        /// Asks probe `target` to add `amount` (an effect; nothing changes here).
        case forward(Int64, to: String)
        case schedule(tag: String, at: Timestamp)
        case cancel(tag: String)
        /// Soft state only: who pinged, when.
        case ping(from: String)
        case timerFired(tag: String)
        /// Refused unless an admin asks.
        case reset
    }

    enum Event: Equatable, Sendable {
        case added(Int64)
        case fired(String)
        case reset
    }

    /// Who pinged, when (last ping each).
    typealias Soft = [String: Timestamp]

    static var initialSoft: Soft { [:] }

    func decide(_ command: Command, soft: inout Soft, context: DecisionContext) throws(DomainError) -> Decision<Event> {
        switch command {
        case let .add(amount): return Decision([.added(amount)])
        case let .forward(amount, target): return Decision(effects: [.send(Command.add(amount), to: target, of: ProbeState.self)])
        case let .schedule(tag, at): return Decision(effects: [.setTimer(tag: tag, at: at)])
        case let .cancel(tag): return Decision(effects: [.cancelTimer(tag: tag)])
        case let .ping(from):
            soft[from] = context.now
            return Decision()
        case let .timerFired(tag): return Decision([.fired(tag), .added(1)])
        case .reset:
            try context.caller.require(context.caller.isAdmin, "reset a probe")
            return Decision([.reset])
        }
    }

    mutating func apply(_ event: Event) {
        switch event {
        case let .added(amount): total += amount
        case let .fired(tag): fired.append(tag)
        case .reset: total = 0
        }
    }

    static func command(forTimer tag: String) -> Command? { .timerFired(tag: tag) }

    /// The one registration: events kept as a journal, soft state shown as "name,name".
    static let registration = EntityKindRegistration<ProbeState>(showSoft: { soft, _ in Array(soft.keys.sorted().joined(separator: ",").utf8) })

    static let kinds = EntityKinds.standard.registering(ProbeState.self, registration)
}

extension ProbeState: BinaryCodable {
    func encode(into writer: inout BinaryWriter) {
        writer.write(key)
        writer.write(total)
        writer.write(fired)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ProbeState {
        var state = ProbeState(key: try reader.readString())
        state.total = try reader.readInt64()
        state.fired = try reader.readStrings()
        return state
    }
}

extension ProbeState.Command: BinaryCodable {
    func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .add(amount):
            writer.write(UInt8(1))
            writer.write(amount)
        case let .forward(amount, target):
            writer.write(UInt8(2))
            writer.write(amount)
            writer.write(target)
        case let .schedule(tag, at):
            writer.write(UInt8(3))
            writer.write(tag)
            writer.write(at.milliseconds)
        case let .cancel(tag):
            writer.write(UInt8(4))
            writer.write(tag)
        case let .ping(from):
            writer.write(UInt8(5))
            writer.write(from)
        case let .timerFired(tag):
            writer.write(UInt8(6))
            writer.write(tag)
        case .reset:
            writer.write(UInt8(7))
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ProbeState.Command {
        switch try reader.readUInt8() {
        case 1: return .add(try reader.readInt64())
        case 2: return .forward(try reader.readInt64(), to: try reader.readString())
        case 3: return .schedule(tag: try reader.readString(), at: Timestamp(milliseconds: try reader.readInt64()))
        case 4: return .cancel(tag: try reader.readString())
        case 5: return .ping(from: try reader.readString())
        case 6: return .timerFired(tag: try reader.readString())
        case 7: return .reset
        case let tag: throw DecodingError("unknown probe command \(tag)")
        }
    }
}

extension ProbeState.Event: BinaryCodable {
    func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .added(amount):
            writer.write(UInt8(1))
            writer.write(amount)
        case let .fired(tag):
            writer.write(UInt8(2))
            writer.write(tag)
        case .reset:
            writer.write(UInt8(3))
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ProbeState.Event {
        switch try reader.readUInt8() {
        case 1: return .added(try reader.readInt64())
        case 2: return .fired(try reader.readString())
        case 3: return .reset
        case let tag: throw DecodingError("unknown probe event \(tag)")
        }
    }
}
