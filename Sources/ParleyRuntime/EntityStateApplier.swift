import ParleyCluster
import ParleyDomain

/// The partition state machine of a Parley node: decodes each entry's envelope and hands its
/// events to the store of the entity's kind, which turns them into blind writes.
public struct EntityStateApplier: PartitionStateMachine {
    public init() {}

    public func apply(_ entry: LogEntry, to writes: inout StateWrites) throws {
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
            let prefix = Outbox.prefix(entry.partition)
            for key in keys where key.starts(with: prefix) { writes.delete(key) }
        case let .staff(id, events):
            StaffStore.addWrites(for: events, of: id, in: entry.partition, to: &writes)
        case let .channel(id, events):
            ChannelStore.addWrites(for: events, of: id, in: entry.partition, to: &writes)
        }
    }
}
