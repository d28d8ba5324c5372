import CRocksDB
import Synchronization

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

/// A point-in-time view of a database that outlives one call (a snapshot streamed to a peer
/// chunk by chunk): read through `view`, released by `release()` or when the last reference
/// goes. The holder must release it before the database closes.
// @unchecked Sendable: the handle is a rocksdb_snapshot_t, which RocksDB documents as
// immutable and safe to read through from any thread; release happens once, under `released`.
public final class HeldSnapshot: @unchecked Sendable {
    private let database: Database
    private let handle: OpaquePointer
    private let released = Mutex(false)

    init(database: Database, handle: OpaquePointer) {
        self.database = database
        self.handle = handle
    }

    /// The view, for `Database.scan(_:in:snapshot:)` and `get(_:in:snapshot:)`.
    public var view: Snapshot { Snapshot(handle: handle) }

    /// Releases the view; later reads through it are not allowed.
    public func release() {
        let first = released.withLock { released in
            defer { released = true }
            return !released
        }
        guard first else { return }
        _ = try? database.withOpenHandle { () throws(StorageError) in rocksdb_release_snapshot(database.handle, handle) }
    }

    deinit { release() }
}

extension Database {
    /// A view of every column family as of now, held until released.
    public func holdSnapshot() throws(StorageError) -> HeldSnapshot {
        try withOpenHandle { () throws(StorageError) -> HeldSnapshot in
            HeldSnapshot(database: self, handle: rocksdb_create_snapshot(handle)!)
        }
    }
}
