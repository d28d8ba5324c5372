import ParleyCluster
import ParleyDomain

/// What one command of a registered kind writes in one log entry: the entity's events,
/// the effects they carry (outbox records), its timer changes, and, for a command that came
/// from other entities' effects, their origins (so each is applied once).
///
/// Layout, version 2: `version u8, kind u8, key string, first event seq varint, count
/// varint, events…`, then `effect count varint, effects…, timer change count varint,
/// changes…, origin count varint, origins…`. Version 1 (staff and channel entries before effects)
/// is the same without the trailer; nodes that read only version 1 refuse version 2 whole,
/// so every replica refuses alike (nodes of both versions do not share a cluster).
struct EntityEntry: Equatable, Sendable {
    var entity: EntityID
    var firstEventSeq: UInt64
    /// Each event in its kind's encoding.
    var events: [[UInt8]]
    var effects: [OutboxEffect] = []
    var timers: [TimerChange] = []
    var origins: [EffectOrigin] = []

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 64 + events.reduce(0) { $0 + $1.count })
        Self.writeHeader(entity, firstEventSeq, count: events.count, into: &writer)
        for event in events { writer.append(event) }
        Self.writeTrailer(effects, timers, origins, into: &writer)
        return writer.bytes
    }

    /// The entry of typed `events`, each encoded in place (what an actor appends).
    static func encode<Event: BinaryCodable>(
        entity: EntityID, firstEventSeq: UInt64, events: [Event], effects: [OutboxEffect], timers: [TimerChange], origins: [EffectOrigin]
    ) -> [UInt8] {
        var writer = BinaryWriter(capacity: 256)
        writeHeader(entity, firstEventSeq, count: events.count, into: &writer)
        for event in events { event.encode(into: &writer) }
        writeTrailer(effects, timers, origins, into: &writer)
        return writer.bytes
    }

    private static func writeHeader(_ entity: EntityID, _ firstEventSeq: UInt64, count: Int, into writer: inout BinaryWriter) {
        writer.write(version)
        writer.write(entity.kind.rawValue)
        writer.write(entity.key)
        writer.writeVarint(firstEventSeq)
        writer.writeVarint(UInt64(count))
    }

    private static func writeTrailer(_ effects: [OutboxEffect], _ timers: [TimerChange], _ origins: [EffectOrigin], into writer: inout BinaryWriter) {
        writer.writeVarint(UInt64(effects.count))
        for effect in effects { effect.encode(into: &writer) }
        writer.writeVarint(UInt64(timers.count))
        for change in timers { change.encode(into: &writer) }
        writer.writeVarint(UInt64(origins.count))
        for origin in origins { origin.encode(into: &writer) }
    }

    static let version: UInt8 = 2
    /// Effects one entry may carry (they are numbered by a 16-bit ordinal).
    static let maxEffects = Int(UInt16.max) + 1

    /// Reads the trailer after the events (version 2); a version 1 entry has none. A room
    /// entry written before rooms ran on the generic actor ends after its effects.
    static func decodeTrailer(from reader: inout BinaryReader, version: UInt8, entrySize: Int) throws(DecodingError) -> (effects: [OutboxEffect], timers: [TimerChange], origins: [EffectOrigin]) {
        guard version >= 2 else {
            try reader.expectEnd()
            return ([], [], [])
        }
        let effectCount = try reader.readCount(atMost: min(entrySize, maxEffects), of: "effects")
        var effects: [OutboxEffect] = []
        for _ in 0..<effectCount { effects.append(try OutboxEffect.decode(from: &reader)) }
        if reader.isAtEnd { return (effects, [], []) }
        let timerCount = try reader.readCount(atMost: entrySize, of: "timer changes")
        var timers: [TimerChange] = []
        for _ in 0..<timerCount { timers.append(try TimerChange.decode(from: &reader)) }
        let originCount = try reader.readCount(atMost: entrySize, of: "origins")
        var origins: [EffectOrigin] = []
        for _ in 0..<originCount { origins.append(try EffectOrigin.decode(from: &reader)) }
        try reader.expectEnd()
        return (effects, timers, origins)
    }
}

/// An effect that leaves the entity through the outbox.
enum OutboxEffect: Equatable, Sendable, BinaryCodable {
    case send(to: EntityID, command: [UInt8])
    case deliver(sink: String, payload: [UInt8])

    /// The outbox's part of a decided effect (nil for timer effects, which are partition records).
    init?(_ effect: Effect) {
        switch effect {
        case let .send(target, command): self = .send(to: target, command: command)
        case let .deliver(sink, payload): self = .deliver(sink: sink, payload: payload)
        case .setTimer, .cancelTimer: return nil
        }
    }

    func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .send(target, command):
            writer.write(UInt8(1))
            target.encode(into: &writer)
            writer.write(bytes: command)
        case let .deliver(sink, payload):
            writer.write(UInt8(2))
            writer.write(sink)
            writer.write(bytes: payload)
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> OutboxEffect {
        switch try reader.readUInt8() {
        case 1: return .send(to: try EntityID.decode(from: &reader), command: try reader.readBytes())
        case 2: return .deliver(sink: try reader.readString(), payload: try reader.readBytes())
        case let tag: throw DecodingError("unknown effect tag \(tag)")
        }
    }
}

/// A change to one of the entity's timers, with the deadline it replaces (so the partition's
/// deadline-ordered record can be deleted blindly).
enum TimerChange: Equatable, Sendable, BinaryCodable {
    case set(tag: String, at: Timestamp, replacing: Timestamp?)
    case cancel(tag: String, at: Timestamp)
    /// Deletes only the partition's record of a deadline the entity no longer has (a record
    /// left behind would be fired again and again).
    case drop(tag: String, at: Timestamp)

    func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .set(tag, at, replacing):
            writer.write(UInt8(1))
            writer.write(tag)
            writer.write(at.milliseconds)
            writer.writeOptionalVarint(replacing.map { UInt64(bitPattern: $0.milliseconds) })
        case let .cancel(tag, at):
            writer.write(UInt8(2))
            writer.write(tag)
            writer.write(at.milliseconds)
        case let .drop(tag, at):
            writer.write(UInt8(3))
            writer.write(tag)
            writer.write(at.milliseconds)
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> TimerChange {
        switch try reader.readUInt8() {
        case 1:
            let tag = try reader.readString()
            let at = Timestamp(milliseconds: try reader.readInt64())
            let replacing = try reader.readOptionalVarint().map { Timestamp(milliseconds: Int64(bitPattern: $0)) }
            return .set(tag: tag, at: at, replacing: replacing)
        case 2: return .cancel(tag: try reader.readString(), at: Timestamp(milliseconds: try reader.readInt64()))
        case 3: return .drop(tag: try reader.readString(), at: Timestamp(milliseconds: try reader.readInt64()))
        case let tag: throw DecodingError("unknown timer change \(tag)")
        }
    }
}

/// Which effect a command came from: the source entity and the effect's sequence in the
/// source's partition log (log index × 65,536 + ordinal: increasing per source).
public struct EffectOrigin: Equatable, Sendable, BinaryCodable {
    public let source: EntityID
    public let seq: UInt64

    public init(source: EntityID, seq: UInt64) {
        self.source = source
        self.seq = seq
    }

    public func encode(into writer: inout BinaryWriter) {
        source.encode(into: &writer)
        writer.write(seq)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EffectOrigin {
        EffectOrigin(source: try EntityID.decode(from: &reader), seq: try reader.readUInt64())
    }
}
