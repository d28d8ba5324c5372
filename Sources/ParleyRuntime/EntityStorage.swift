import ParleyCluster
import ParleyDomain
import ParleyStorage

/// Where one entity's records live: `partition(2) ++ kind(1) ++ key ++ 0x00`, then a record
/// name the kind chooses. Record names starting with 0x01 belong to the runtime (last event
/// seq, applied effect sources, timers); a kind's own start with a printable byte.
public struct EntityRecords: Sendable {
    public let entity: EntityID
    public let partition: PartitionID
    /// The entity's prefix.
    public let prefix: [UInt8]
    /// The event seq of the first event being applied (events are numbered from 1 per entity).
    public let firstEventSeq: UInt64

    init(entity: EntityID, partition: PartitionID, firstEventSeq: UInt64 = 0) {
        self.entity = entity
        self.partition = partition
        self.prefix = StateKeys.entityPrefix(partition, entity)
        self.firstEventSeq = firstEventSeq
    }

    /// The key of record `name`.
    public func key(_ name: [UInt8]) -> [UInt8] { prefix + name }

    /// The key of record `name` followed by `suffix` (a member id, a big-endian seq…).
    public func key(_ name: UInt8, _ suffix: [UInt8] = []) -> [UInt8] { prefix + [name] + suffix }
}

/// Reads one entity's applied records (on the entity's actor, never on an event loop).
public struct EntityRecordReader: Sendable {
    public let records: EntityRecords
    let database: Database
    let family: ColumnFamily

    /// The value of record `name` followed by `suffix`, if any.
    public func get(_ name: UInt8, _ suffix: [UInt8] = []) throws -> [UInt8]? {
        try database.get(records.key(name, suffix), in: family)
    }

    /// Every record whose name starts with `name` (then `suffix`), in key order, each with the
    /// rest of its key after that prefix.
    public func entries(_ name: UInt8, _ suffix: [UInt8] = []) throws -> [(rest: [UInt8], value: [UInt8])] {
        let prefix = records.key(name, suffix)
        return try database.entries(.prefix(prefix), in: family).map { (Array($0.key[prefix.count...]), $0.value) }
    }

    /// The last record whose name starts with `name`, with the rest of its key.
    public func last(_ name: UInt8) throws -> (rest: [UInt8], value: [UInt8])? {
        let prefix = records.key(name)
        return try database.last(in: .prefix(prefix), of: family).map { (Array($0.key[prefix.count...]), $0.value) }
    }
}

/// How a kind's applied state is stored: the blind writes that apply events (no reads while
/// applying, so every replica writes the same) and how the state is loaded back.
public struct EntityStorage<Rules: EntityRules>: Sendable {
    /// The writes of `events`, with each event's encoding as the log entry carries it (to be
    /// stored as it is rather than encoded again).
    public var addWrites: @Sendable (_ events: [Rules.Event], _ encoded: [ArraySlice<UInt8>], _ records: EntityRecords, _ writes: inout StateWrites) -> Void
    public var load: @Sendable (_ reader: EntityRecordReader) throws -> Rules
    /// The last event seq of a loaded entity, for kinds whose state knows it (a room's
    /// journal does): the runtime then keeps no record of it. Nil: the runtime keeps it.
    public var eventSeq: (@Sendable (_ state: Rules) -> UInt64)?

    public init(
        addEncodedWrites: @escaping @Sendable (_ events: [Rules.Event], _ encoded: [ArraySlice<UInt8>], _ records: EntityRecords, _ writes: inout StateWrites) -> Void,
        load: @escaping @Sendable (_ reader: EntityRecordReader) throws -> Rules,
        eventSeq: (@Sendable (_ state: Rules) -> UInt64)? = nil
    ) {
        self.addWrites = addEncodedWrites
        self.load = load
        self.eventSeq = eventSeq
    }

    public init(
        addWrites: @escaping @Sendable (_ events: [Rules.Event], _ records: EntityRecords, _ writes: inout StateWrites) -> Void,
        load: @escaping @Sendable (_ reader: EntityRecordReader) throws -> Rules
    ) {
        self.init(addEncodedWrites: { events, _, records, writes in addWrites(events, records, &writes) }, load: load)
    }

    /// Every event kept as record `j<event seq>` and folded in order at load: right for
    /// entities with short lives (an enquiry, a binding, a test kind), not for long ones.
    public static var journal: EntityStorage {
        EntityStorage(
            addEncodedWrites: { events, encoded, records, writes in
                for offset in events.indices {
                    writes.put(records.key(journalRecord, StateKeys.bigEndian(records.firstEventSeq + UInt64(offset))), encoded[offset])
                }
            },
            load: { reader in
                var state = Rules(key: reader.records.entity.key)
                for entry in try reader.entries(journalRecord) {
                    var bytes = BinaryReader(entry.value)
                    state.apply(try Rules.Event.decode(from: &bytes))
                }
                return state
            })
    }

    static var journalRecord: UInt8 { 0x6A }  // j
}
