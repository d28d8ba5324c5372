import ParleyCluster
import ParleyDomain

/// The partition state machine of a Parley node: decodes each entry and turns it into blind
/// writes. An entry of a registered kind goes to that kind's storage, plus the runtime's own
/// records (outbox effects, timers, applied origins); file chunks, discarded uploads, outbox
/// deletions and rooms' version 1 entries are the runtime's own envelopes.
public struct EntityStateApplier: PartitionStateMachine {
    let kinds: EntityKinds

    /// - Parameter kinds: the kinds this node runs (every node of a cluster the same).
    public init(kinds: EntityKinds = .standard) {
        self.kinds = kinds
    }

    public func apply(_ entry: LogEntry, to writes: inout StateWrites) throws {
        if !EntityEnvelope.claims(entry.payload) {
            guard let kind = kinds.kind(entry.payload[1]) else { throw DecodingError("entity kind \(entry.payload[1]) is not registered on this node") }
            try applyEntity(of: kind, entry, to: &writes)
            return
        }
        let (envelope, eventRanges) = try EntityEnvelope.decodeLocatingEvents(entry.payload)
        switch envelope {
        case let .room(id, firstEventSeq, events, notices):
            let encoded = eventRanges.map { entry.payload[$0] }
            RoomStore.addWrites(for: events, encoded: encoded, firstEventSeq: firstEventSeq, of: id, in: entry.partition, to: &writes)
            for (ordinal, batch) in notices.enumerated() {
                var writer = BinaryWriter()
                batch.encode(into: &writer)
                writes.put(Outbox.key(entry.partition, index: entry.index, ordinal: UInt16(ordinal)), writer.bytes)
            }
        case let .fileChunk(room, file, index, bytes):
            writes.put(RoomStore.fileChunkKey(entry.partition, room, file: file, index: index), bytes)
            if index == 0 { writes.put(RoomStore.pendingUploadKey(entry.partition, room, file: file), []) }
        case let .uploadDiscarded(room, file):
            RoomStore.addDiscardWrites(of: file, in: room, partition: entry.partition, to: &writes)
        case let .outboxDelivered(keys):
            // Only this partition's outbox records: an entry can never touch other state.
            for key in keys where PartitionRecords.isRelayedRecord(key, of: entry.partition) { writes.delete(key) }
        }
    }

    /// `version u8, kind u8, key, first event seq, count, events…, trailer` (`EntityEntry`).
    private func applyEntity(of kind: any RegisteredKind, _ entry: LogEntry, to writes: inout StateWrites) throws {
        var reader = BinaryReader(entry.payload)
        let version = try reader.readUInt8()
        guard version == EntityEnvelope.version || version == EntityEntry.version else { throw DecodingError("unsupported entry version \(version)") }
        _ = try reader.readUInt8()
        let key = try reader.readString()
        guard (1...200).contains(key.utf8.count), !key.utf8.contains(0) else { throw DecodingError("invalid \(kind.kind) key") }
        let firstEventSeq = try reader.readVarint()
        let count = try reader.readCount(atMost: entry.payload.count, of: "events")
        guard firstEventSeq <= UInt64.max - UInt64(count) else { throw DecodingError("event seq \(firstEventSeq) overflows") }
        let entity = EntityID(kind: kind.kind, key: key)
        let records = EntityRecords(entity: entity, partition: entry.partition, firstEventSeq: firstEventSeq)
        try kind.addWrites(decoding: count, from: &reader, payload: entry.payload, records: records, to: &writes)
        let (effects, timers, origins) = try EntityEntry.decodeTrailer(from: &reader, version: version, entrySize: entry.payload.count)
        let decoded = EntityEntry(
            entity: entity, firstEventSeq: firstEventSeq, events: Array(repeating: [], count: count), effects: effects, timers: timers, origins: origins)
        decoded.addRuntimeWrites(records, entry: entry, recordsEventSeq: kind.recordsEventSeq, to: &writes)
    }
}
