#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CRocksDB

/// A column family of an open `Database`, named at open time.
public struct ColumnFamily: Sendable, Hashable {
    public let name: String
    let index: Int
}

/// Settings for opening a database; every field has a default.
public struct DatabaseOptions: Sendable {
    public var createIfMissing = true
    /// Background flush and compaction threads.
    public var maxBackgroundJobs: Int32 = 2
    /// Size of each memtable before it is flushed.
    public var writeBufferBytes: Int = 32 << 20
    /// Families written mostly in key order and read rarely (a log): their memtable is a
    /// vector, so inserts are appends instead of skip-list searches, sorted only when read.
    public var appendOnlyFamilies: Set<String> = []
    /// Families whose memtable inserts take insert hints for keys of the given layout (see
    /// `SequencedRecordKeys`, and how range deletions from such keys are written). A family
    /// that is also in `appendOnlyFamilies` is append-only, without hints.
    public var insertHintedFamilies: [String: SequencedRecordKeys] = [:]

    public init() {}
}

/// How durable a write is when `write` returns.
public enum WriteDurability: Sendable {
    /// In the write-ahead log and fsync'd: survives power loss.
    case fsync
    /// In the write-ahead log, not yet fsync'd: survives a process crash, not power loss.
    case buffered
    /// In the memtable only: lost by a crash unless a flush came first. For state that can
    /// be rebuilt from a durable log.
    case unlogged
}

/// An open RocksDB database with named column families.
///
/// Every call is thread-safe. Reads and unsynced writes are short and may run on any thread
/// but a NIO event loop; fsync'd writes, scans and checkpoints have `async` forms that run on
/// the database's `BlockingExecutor`. `close()` waits for calls in flight and frees every
/// RocksDB object exactly once; calls after it throw `storage_closed`.
public final class Database: @unchecked Sendable {
    // Safe: RocksDB's rocksdb_t, its column family handles and the option objects below are
    // documented thread-safe for concurrent use. They are created in init and never
    // reassigned; the only mutation, `close`, holds the exclusive side of `access`, while every
    // other call holds the shared side and checks `isClosed` under it.
    let handle: OpaquePointer
    private let familyHandles: [OpaquePointer]
    private let familyIndex: [String: Int]
    /// The insert-hinted families' key layouts, by family index.
    private let hintedKeys: [Int: SequencedRecordKeys]
    private let options: OpaquePointer
    private let syncWrite: OpaquePointer
    private let plainWrite: OpaquePointer
    private let unloggedWrite: OpaquePointer
    private let defaultRead: OpaquePointer
    private let access = AccessGuard()
    private var isClosed = false

    /// The directory the database lives in.
    public let path: String
    /// Runs this database's blocking calls off the caller's thread.
    public let executor: BlockingExecutor

    /// Turns RocksDB's performance counters off for the calling thread (they are per thread,
    /// and on by default): otherwise every key comparison of a memtable insert counts itself in
    /// thread-local storage, which a thread writing all the time pays for on each insert.
    public static func disablePerformanceCountersOnThisThread() {
        rocksdb_set_perf_level(1)  // rocksdb::PerfLevel::kDisable
    }

    /// Opens (creating if allowed) the database at `path` with at least the named column
    /// families; families that exist on disk but are not named are opened too.
    public static func open(
        at path: String,
        columnFamilies: [String],
        options: DatabaseOptions = DatabaseOptions()
    ) throws(StorageError) -> Database {
        try Database(path: path, columnFamilies: columnFamilies, settings: options)
    }

    private init(path: String, columnFamilies: [String], settings: DatabaseOptions) throws(StorageError) {
        let options = rocksdb_options_create()!
        rocksdb_options_set_create_if_missing(options, settings.createIfMissing ? 1 : 0)
        rocksdb_options_set_create_missing_column_families(options, 1)
        rocksdb_options_set_max_background_jobs(options, settings.maxBackgroundJobs)
        rocksdb_options_set_write_buffer_size(options, settings.writeBufferBytes)

        var names = ["default"]
        for name in Database.existingFamilies(at: path, options: options) + columnFamilies where !names.contains(name) {
            names.append(name)
        }
        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        var appendOnlyOptions: OpaquePointer?
        if names.contains(where: settings.appendOnlyFamilies.contains) {
            // Non-skip-list memtables cannot take concurrent inserts.
            rocksdb_options_set_allow_concurrent_memtable_write(options, 0)
            appendOnlyOptions = rocksdb_options_create_copy(options)
            rocksdb_options_set_memtable_vector_rep(appendOnlyOptions)
        }
        defer { if let appendOnlyOptions { rocksdb_options_destroy(appendOnlyOptions) } }
        var hintedOptions: [String: OpaquePointer] = [:]
        defer { hintedOptions.values.forEach { rocksdb_options_destroy($0) } }
        for (name, keys) in settings.insertHintedFamilies where names.contains(name) && !settings.appendOnlyFamilies.contains(name) {
            // Hints are taken only by inserts that are not concurrent.
            rocksdb_options_set_allow_concurrent_memtable_write(options, 0)
            do {
                hintedOptions[name] = try Database.options(options, hintingInsertsOf: keys)
            } catch {
                rocksdb_options_destroy(options)
                throw error
            }
        }
        let familyOptions: [OpaquePointer?] = names.map {
            settings.appendOnlyFamilies.contains($0) ? appendOnlyOptions : hintedOptions[$0] ?? options
        }
        var error: UnsafeMutablePointer<CChar>?
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let db: OpaquePointer? = cNames.map { UnsafePointer($0) }.withUnsafeBufferPointer { namePointers in
            familyOptions.withUnsafeBufferPointer { optionPointers in
                handles.withUnsafeMutableBufferPointer { handlePointers in
                    rocksdb_open_column_families(
                        options, path, Int32(names.count),
                        namePointers.baseAddress, optionPointers.baseAddress,
                        handlePointers.baseAddress, &error)
                }
            }
        }
        if let failure = Database.takeError(error) {
            rocksdb_options_destroy(options)
            throw failure
        }
        guard let db else {
            rocksdb_options_destroy(options)
            throw StorageError(code: .other, message: "RocksDB returned no handle for \(path)")
        }
        self.handle = db
        self.familyHandles = handles.map { $0! }
        self.familyIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        self.hintedKeys = Dictionary(uniqueKeysWithValues: names.enumerated().compactMap { index, name in
            hintedOptions[name] == nil ? nil : settings.insertHintedFamilies[name].map { (index, $0) }
        })
        self.options = options
        self.syncWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(syncWrite, 1)
        self.plainWrite = rocksdb_writeoptions_create()
        self.unloggedWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_disable_WAL(unloggedWrite, 1)
        self.defaultRead = rocksdb_readoptions_create()
        self.path = path
        self.executor = BlockingExecutor(label: "parley.storage")
    }

    deinit {
        close()
    }

    /// Waits for calls in flight, then frees every RocksDB object. Idempotent.
    public func close() {
        access.withExclusive {
            guard !isClosed else { return }
            isClosed = true
            for family in familyHandles {
                rocksdb_column_family_handle_destroy(family)
            }
            rocksdb_close(handle)
            rocksdb_writeoptions_destroy(syncWrite)
            rocksdb_writeoptions_destroy(plainWrite)
            rocksdb_writeoptions_destroy(unloggedWrite)
            rocksdb_readoptions_destroy(defaultRead)
            rocksdb_options_destroy(options)
        }
    }

    /// The column family called `name`.
    public func family(_ name: String) throws(StorageError) -> ColumnFamily {
        guard let index = familyIndex[name] else {
            throw StorageError(code: .unknownColumnFamily, message: "no column family named \(name)")
        }
        return ColumnFamily(name: name, index: index)
    }

    /// The value stored under `key`, or nil.
    public func get(_ key: [UInt8], in family: ColumnFamily) throws(StorageError) -> [UInt8]? {
        try withOpenHandle { () throws(StorageError) -> [UInt8]? in
            var error: UnsafeMutablePointer<CChar>?
            var length = 0
            let value = key.withUnsafeBufferPointer { k in
                k.withMemoryRebound(to: CChar.self) { k in
                    rocksdb_get_cf(handle, defaultRead, familyHandles[family.index], k.baseAddress, k.count, &length, &error)
                }
            }
            if let failure = Database.takeError(error) { throw failure }
            guard let value else { return nil }
            defer { rocksdb_free(value) }
            return value.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        }
    }

    /// Stores `value` under `key`; with `sync`, returns after the write-ahead log is fsync'd.
    public func put(_ key: [UInt8], _ value: [UInt8], in family: ColumnFamily, sync: Bool = false) throws(StorageError) {
        var batch = WriteBatch()
        batch.put(key, value, in: family)
        try write(batch, sync: sync)
    }

    /// Removes `key`.
    public func delete(_ key: [UInt8], in family: ColumnFamily, sync: Bool = false) throws(StorageError) {
        var batch = WriteBatch()
        batch.delete(key, in: family)
        try write(batch, sync: sync)
    }

    /// Applies `batch` atomically; with `sync`, returns after the write-ahead log is fsync'd.
    public func write(_ batch: WriteBatch, sync: Bool) throws(StorageError) {
        try write(batch, durability: sync ? .fsync : .buffered)
    }

    /// Applies `batch` atomically with the given durability.
    public func write(_ batch: WriteBatch, durability: WriteDurability) throws(StorageError) {
        let writeOptions =
            switch durability {
            case .fsync: syncWrite
            case .buffered: plainWrite
            case .unlogged: unloggedWrite
            }
        try withOpenHandle { () throws(StorageError) in
            let native = rocksdb_writebatch_create()
            defer { rocksdb_writebatch_destroy(native) }
            var invertedRange = false
            batch.forEachOperation { tag, family, first, second in
                let handle = familyHandles[family]
                if tag == .deleteRange, let keys = hintedKeys[family], keys.matches(first) {
                    invertedRange = invertedRange || second.lexicographicallyPrecedes(first)
                    Self.addRangeDeletion(from: first, to: second, startingAtAHintedKey: handle, to: native!)
                    return
                }
                first.withMemoryRebound(to: CChar.self) { a in
                    second.withMemoryRebound(to: CChar.self) { b in
                        switch tag {
                        case .put: rocksdb_writebatch_put_cf(native, handle, a.baseAddress, a.count, b.baseAddress, b.count)
                        case .delete: rocksdb_writebatch_delete_cf(native, handle, a.baseAddress, a.count)
                        case .deleteRange: rocksdb_writebatch_delete_range_cf(native, handle, a.baseAddress, a.count, b.baseAddress, b.count)
                        }
                    }
                }
            }
            // As RocksDB refuses an inverted range (and with it the whole batch).
            if invertedRange { throw StorageError(code: .invalidArgument, message: "Invalid argument: end key comes before start key") }
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_write(handle, writeOptions, native, &error)
            if let failure = Database.takeError(error) { throw failure }
        }
    }

    /// Writes `family`'s memtable to disk and waits; afterwards every write made to it before
    /// the call, unlogged ones included, survives a crash.
    public func flush(_ family: ColumnFamily) throws(StorageError) {
        try withOpenHandle { () throws(StorageError) in
            let options = rocksdb_flushoptions_create()
            defer { rocksdb_flushoptions_destroy(options) }
            rocksdb_flushoptions_set_wait(options, 1)
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_flush_cf(handle, options, familyHandle(family), &error)
            if let failure = Database.takeError(error) { throw failure }
        }
    }

    /// `write(_:sync:)` on the database's executor.
    public func writeAsync(_ batch: WriteBatch, sync: Bool) async throws(StorageError) {
        try await executor.run { () throws(StorageError) in try self.write(batch, sync: sync) }
    }

    /// Runs `body` while the database is guaranteed open, or throws `storage_closed`.
    func withOpenHandle<R>(_ body: () throws(StorageError) -> R) throws(StorageError) -> R {
        let result: Result<R, StorageError> = access.withShared {
            guard !isClosed else {
                return .failure(StorageError(code: .closed, message: "database at \(path) is closed"))
            }
            do throws(StorageError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    func familyHandle(_ family: ColumnFamily) -> OpaquePointer { familyHandles[family.index] }

    /// Converts and frees a RocksDB error string.
    static func takeError(_ error: UnsafeMutablePointer<CChar>?) -> StorageError? {
        guard let error else { return nil }
        defer { rocksdb_free(error) }
        return StorageError.fromRocksDB(String(cString: error))
    }

    private static func existingFamilies(at path: String, options: OpaquePointer) -> [String] {
        var count = 0
        var error: UnsafeMutablePointer<CChar>?
        // On error RocksDB still returns a (malloc(0)) list, so both must be freed.
        let list = rocksdb_list_column_families(options, path, &count, &error)
        defer { if let list { rocksdb_list_column_families_destroy(list, count) } }
        guard takeError(error) == nil, let list else {
            return []  // a database that does not exist yet has none
        }
        return (0..<count).compactMap { list[$0].map { String(cString: $0) } }
    }
}
