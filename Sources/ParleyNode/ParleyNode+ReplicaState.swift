import ParleyCluster
import ParleyGateway
import ParleyStorage

extension ParleyNode {
    /// What `GET /cluster/digests` reports: the partitions this node holds (`held`), each as
    /// applied, from one consistent view the log takes between two of its writes; hashed on
    /// the storage executor, never on an event loop.
    static func replicaState(of log: any NodePartitionLog, database: Database, held: [PartitionID]) -> ReplicaState {
        let state = log.stateColumnFamily
        return ReplicaState(
            digests: {
                let view = try await log.appliedView(of: held)
                defer { view.snapshot.release() }
                return try await database.executor.run { () throws(StorageError) -> [PartitionDigest] in
                    try view.digests(database: database, state: state)
                }
            },
            records: { partition in
                let view = try await log.appliedView(of: [partition])
                defer { view.snapshot.release() }
                return try await database.executor.run { () throws(StorageError) -> [(key: [UInt8], valueDigest: [UInt8])] in
                    try view.records(of: partition, database: database, state: state)
                }
            })
    }
}
