import CRocksDB

/// A consistent point-in-time view of a database, valid only inside `Database.withSnapshot`.
public struct Snapshot {
    let handle: OpaquePointer
}

extension Database {
    /// Runs `body` with a consistent view of every column family as of now; writes made
    /// meanwhile are invisible through it. The snapshot is released when `body` returns.
    public func withSnapshot<R>(_ body: (Snapshot) throws(StorageError) -> R) throws(StorageError) -> R {
        try withOpenHandle { () throws(StorageError) -> R in
            let snapshot = rocksdb_create_snapshot(handle)!
            defer { rocksdb_release_snapshot(handle, snapshot) }
            return try body(Snapshot(handle: snapshot))
        }
    }

    /// The value of `key` as of `snapshot`.
    public func get(_ key: [UInt8], in family: ColumnFamily, snapshot: Snapshot) throws(StorageError) -> [UInt8]? {
        try withOpenHandle { () throws(StorageError) -> [UInt8]? in
            let readOptions = rocksdb_readoptions_create()
            defer { rocksdb_readoptions_destroy(readOptions) }
            rocksdb_readoptions_set_snapshot(readOptions, snapshot.handle)
            var error: UnsafeMutablePointer<CChar>?
            var length = 0
            let value = key.withUnsafeBufferPointer { k in
                k.withMemoryRebound(to: CChar.self) { k in
                    rocksdb_get_cf(handle, readOptions, familyHandle(family), k.baseAddress, k.count, &length, &error)
                }
            }
            if let failure = Database.takeError(error) { throw failure }
            guard let value else { return nil }
            defer { rocksdb_free(value) }
            return Database.bytes(value, length)
        }
    }
}
