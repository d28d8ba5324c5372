import CRocksDB

extension Database {
    /// Writes an online backup of the whole database into `directory`, which must not exist
    /// yet. The backup is a complete database that `Database.open` can open; unchanged SST
    /// files are hard-linked, so it is cheap on the same filesystem.
    public func checkpoint(to directory: String) throws(StorageError) {
        try withOpenHandle { () throws(StorageError) in
            var error: UnsafeMutablePointer<CChar>?
            let checkpoint = rocksdb_checkpoint_object_create(handle, &error)
            if let failure = Database.takeError(error) { throw failure }
            defer { rocksdb_checkpoint_object_destroy(checkpoint) }
            rocksdb_checkpoint_create(checkpoint, directory, 0, &error)
            if let failure = Database.takeError(error) { throw failure }
        }
    }

    /// `checkpoint(to:)` on the database's executor.
    public func checkpointAsync(to directory: String) async throws(StorageError) {
        try await executor.run { () throws(StorageError) in try self.checkpoint(to: directory) }
    }
}
