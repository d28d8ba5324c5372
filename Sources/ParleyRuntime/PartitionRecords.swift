import ParleyCluster
import ParleyDomain

/// Records of a partition that belong to no one entity, under `partition(2) ++ 0x00 ++ marker`:
/// the effects outbox (`e`, in commit order) and the timers (`t`, in deadline order). The
/// room notices outbox (`o`) is `Outbox`. Records the runtime keeps under each entity's own
/// prefix start with 0x01 (`EntityRecords`).
enum PartitionRecords {
    static let effectsMarker: [UInt8] = [0, 0x65]  // 0x00 "e"
    static let timersMarker: [UInt8] = [0, 0x74]  // 0x00 "t"

    static func effectKey(_ partition: PartitionID, index: UInt64, ordinal: UInt16) -> [UInt8] {
        partition.keyPrefix + effectsMarker + StateKeys.bigEndian(index) + [UInt8(ordinal >> 8), UInt8(ordinal & 0xFF)]
    }

    static func effectsPrefix(_ partition: PartitionID) -> [UInt8] { partition.keyPrefix + effectsMarker }

    /// The sequence of the effect at `index`, `ordinal`: increasing per source entity.
    static func effectSeq(index: UInt64, ordinal: UInt16) -> UInt64 { index << 16 | UInt64(ordinal) }

    static func timerKey(_ partition: PartitionID, at: Timestamp, entity: EntityID, tag: String) -> [UInt8] {
        timersPrefix(partition) + StateKeys.bigEndian(UInt64(max(0, at.milliseconds))) + Array(entity.description.utf8) + [0] + Array(tag.utf8)
    }

    static func timersPrefix(_ partition: PartitionID) -> [UInt8] { partition.keyPrefix + timersMarker }

    /// The deadline (milliseconds) a timer key of `partition` sorts by; nil: not one.
    static func timerDeadline(of key: [UInt8], in partition: PartitionID) -> Int64? {
        let prefix = timersPrefix(partition)
        guard key.count >= prefix.count + 8, key.starts(with: prefix) else { return nil }
        return StateKeys.readBigEndian(key[prefix.count..<prefix.count + 8]).map { Int64(bitPattern: $0) }
    }

    /// Whether `key` is a record a relay of `partition` works through (notices, effects,
    /// timers): what a delivered-records entry may delete (delivered ones, and ones that can
    /// never be delivered: unreadable, or refused for good).
    static func isRelayedRecord(_ key: [UInt8], of partition: PartitionID) -> Bool {
        key.starts(with: Outbox.prefix(partition)) || key.starts(with: effectsPrefix(partition)) || key.starts(with: timersPrefix(partition))
    }

    /// Runtime records under an entity's prefix.
    static let lastEventSeq: [UInt8] = [0x01, 0x73]  // 0x01 "s"
    static let appliedOrigin: [UInt8] = [0x01, 0x6F]  // 0x01 "o" ++ source entity
    static let timer: [UInt8] = [0x01, 0x74]  // 0x01 "t" ++ tag
}

/// An effect waiting in the outbox: who sent it, its sequence, the fencing epoch (the
/// partition's term when it was committed) and the effect.
struct EffectRecord: Equatable, Sendable, BinaryCodable {
    let source: EntityID
    let seq: UInt64
    let epoch: UInt64
    let effect: OutboxEffect

    func encode(into writer: inout BinaryWriter) {
        source.encode(into: &writer)
        writer.write(seq)
        writer.write(epoch)
        effect.encode(into: &writer)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EffectRecord {
        EffectRecord(
            source: try EntityID.decode(from: &reader), seq: try reader.readUInt64(), epoch: try reader.readUInt64(),
            effect: try OutboxEffect.decode(from: &reader))
    }
}

/// A timer waiting for its deadline.
struct TimerRecord: Equatable, Sendable, BinaryCodable {
    let entity: EntityID
    let tag: String
    let at: Timestamp

    func encode(into writer: inout BinaryWriter) {
        entity.encode(into: &writer)
        writer.write(tag)
        writer.write(at.milliseconds)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> TimerRecord {
        TimerRecord(entity: try EntityID.decode(from: &reader), tag: try reader.readString(), at: Timestamp(milliseconds: try reader.readInt64()))
    }
}

extension EntityEntry {
    /// The writes of this entry beyond the kind's own: the last event seq (unless the kind's
    /// state keeps it), the outbox records of its effects, its timers, and the origins it applied.
    func addRuntimeWrites(_ records: EntityRecords, entry: LogEntry, recordsEventSeq: Bool = true, to writes: inout StateWrites) {
        if recordsEventSeq, !events.isEmpty {
            writes.put(records.key(PartitionRecords.lastEventSeq), StateKeys.bigEndian(firstEventSeq + UInt64(events.count) - 1))
        }
        for (ordinal, effect) in effects.enumerated() {
            let seq = PartitionRecords.effectSeq(index: entry.index, ordinal: UInt16(ordinal))
            let record = EffectRecord(source: entity, seq: seq, epoch: entry.generation, effect: effect)
            writes.put(PartitionRecords.effectKey(entry.partition, index: entry.index, ordinal: UInt16(ordinal)), record.encoded)
        }
        for change in timers {
            switch change {
            case let .set(tag, at, replacing):
                if let replacing { writes.delete(PartitionRecords.timerKey(entry.partition, at: replacing, entity: entity, tag: tag)) }
                writes.put(PartitionRecords.timerKey(entry.partition, at: at, entity: entity, tag: tag), TimerRecord(entity: entity, tag: tag, at: at).encoded)
                writes.put(records.key(PartitionRecords.timer + Array(tag.utf8)), StateKeys.bigEndian(UInt64(bitPattern: at.milliseconds)))
            case let .cancel(tag, at):
                writes.delete(PartitionRecords.timerKey(entry.partition, at: at, entity: entity, tag: tag))
                writes.delete(records.key(PartitionRecords.timer + Array(tag.utf8)))
            case let .drop(tag, at):
                writes.delete(PartitionRecords.timerKey(entry.partition, at: at, entity: entity, tag: tag))
            }
        }
        for origin in origins {
            writes.put(records.key(PartitionRecords.appliedOrigin + Array(origin.source.description.utf8)), StateKeys.bigEndian(origin.seq))
        }
    }
}
