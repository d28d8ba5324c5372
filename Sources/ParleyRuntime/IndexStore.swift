import ParleyCluster
import ParleyDomain

/// A listing's applied state: one record `e<member>` per member, its summary the value, so a
/// put or a removal is one blind write.
enum IndexStore {
    static let entry: UInt8 = 0x65  // e

    static let registration = EntityKindRegistration<IndexState>(
        storage: EntityStorage(
            addWrites: { events, records, writes in
                for event in events {
                    switch event {
                    case let .put(member, summary): writes.put(records.key(entry, Array(member.utf8)), summary)
                    case let .removed(member): writes.delete(records.key(entry, Array(member.utf8)))
                    }
                }
            },
            load: { reader in
                var entries: [String: [UInt8]] = [:]
                for record in try reader.entries(entry) { entries[String(decoding: record.rest, as: UTF8.self)] = record.value }
                return IndexState(name: reader.records.entity.key, entries: entries)
            }))
}
