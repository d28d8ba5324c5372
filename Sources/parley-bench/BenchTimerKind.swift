import ParleyDomain
import ParleyRuntime

/// The benchmark's own entity kind: one timer per entity, which records when it was decided.
struct BenchTimer: EntityRules {
    static let kind = EntityKind(rawValue: 0x71, name: "bench-timer")

    let key: String
    /// The deadline set, and when the fired timer's command was decided (0: not yet).
    private(set) var deadline: Int64 = 0
    private(set) var firedAt: Int64 = 0

    init(key: String) { self.key = key }

    enum Command: Sendable, BinaryCodable {
        case schedule(at: Timestamp)
        case fire

        func encode(into writer: inout BinaryWriter) {
            switch self {
            case let .schedule(at):
                writer.write(UInt8(1))
                writer.write(at.milliseconds)
            case .fire: writer.write(UInt8(2))
            }
        }

        static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Command {
            switch try reader.readUInt8() {
            case 1: return .schedule(at: Timestamp(milliseconds: try reader.readInt64()))
            case 2: return .fire
            case let tag: throw DecodingError("unknown bench timer command \(tag)")
            }
        }
    }

    enum Event: Sendable, BinaryCodable {
        case scheduled(Int64)
        case fired(Int64)

        func encode(into writer: inout BinaryWriter) {
            switch self {
            case let .scheduled(at):
                writer.write(UInt8(1))
                writer.write(at)
            case let .fired(at):
                writer.write(UInt8(2))
                writer.write(at)
            }
        }

        static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Event {
            switch try reader.readUInt8() {
            case 1: return .scheduled(try reader.readInt64())
            case 2: return .fired(try reader.readInt64())
            case let tag: throw DecodingError("unknown bench timer event \(tag)")
            }
        }
    }

    func decide(_ command: Command, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<Event> {
        switch command {
        case let .schedule(at): Decision([.scheduled(at.milliseconds)], effects: [.setTimer(tag: "t", at: at)])
        case .fire: Decision([.fired(context.now.milliseconds)])
        }
    }

    mutating func apply(_ event: Event) {
        switch event {
        case let .scheduled(at): deadline = at
        case let .fired(at): firedAt = at
        }
    }

    static func command(forTimer tag: String) -> Command? { .fire }

    func encode(into writer: inout BinaryWriter) {
        writer.write(key)
        writer.write(deadline)
        writer.write(firedAt)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> BenchTimer {
        var timer = BenchTimer(key: try reader.readString())
        timer.deadline = try reader.readInt64()
        timer.firedAt = try reader.readInt64()
        return timer
    }

    static let kinds = EntityKinds.standard.registering(BenchTimer.self, EntityKindRegistration<BenchTimer>())
}
