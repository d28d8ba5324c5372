import CRocksDB

extension Database {
    /// Calls `visit` with each key and value in `range` of `family`, in key order (or reverse),
    /// until it returns false or `limit` entries have been visited. With `snapshot`, reads the
    /// state as of that snapshot.
    public func scan(
        _ range: KeyRange,
        in family: ColumnFamily,
        reverse: Bool = false,
        limit: Int = .max,
        snapshot: Snapshot? = nil,
        _ visit: (_ key: [UInt8], _ value: [UInt8]) throws(StorageError) -> Bool
    ) throws(StorageError) {
        try withOpenHandle { () throws(StorageError) in
            let readOptions = rocksdb_readoptions_create()
            defer { rocksdb_readoptions_destroy(readOptions) }
            if let snapshot { rocksdb_readoptions_set_snapshot(readOptions, snapshot.handle) }
            // RocksDB keeps pointers to the bounds: they must outlive the iterator, so both
            // live in buffers freed only after it is destroyed.
            let lower = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(range.lower.count, 1))
            defer { lower.deallocate() }
            _ = lower.initialize(from: range.lower.map { CChar(bitPattern: $0) })
            rocksdb_readoptions_set_iterate_lower_bound(readOptions, lower.baseAddress, range.lower.count)
            let upperBytes = range.upper ?? []
            let upper = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(upperBytes.count, 1))
            defer { upper.deallocate() }
            if range.upper != nil {
                _ = upper.initialize(from: upperBytes.map { CChar(bitPattern: $0) })
                rocksdb_readoptions_set_iterate_upper_bound(readOptions, upper.baseAddress, upperBytes.count)
            }
            let iterator = rocksdb_create_iterator_cf(handle, readOptions, familyHandle(family))
            defer { rocksdb_iter_destroy(iterator) }
            if reverse { rocksdb_iter_seek_to_last(iterator) } else { rocksdb_iter_seek_to_first(iterator) }
            var visited = 0
            while visited < limit, rocksdb_iter_valid(iterator) != 0 {
                var keyLength = 0
                var valueLength = 0
                let keyPointer = rocksdb_iter_key(iterator, &keyLength)
                let valuePointer = rocksdb_iter_value(iterator, &valueLength)
                let key = Database.bytes(keyPointer, keyLength)
                let value = Database.bytes(valuePointer, valueLength)
                visited += 1
                guard try visit(key, value) else { break }
                if reverse { rocksdb_iter_prev(iterator) } else { rocksdb_iter_next(iterator) }
            }
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_iter_get_error(iterator, &error)
            if let failure = Database.takeError(error) { throw failure }
        }
    }

    /// Collects up to `limit` entries of `range`.
    public func entries(
        _ range: KeyRange, in family: ColumnFamily, reverse: Bool = false, limit: Int = .max
    ) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        var result: [(key: [UInt8], value: [UInt8])] = []
        try scan(range, in: family, reverse: reverse, limit: limit) { key, value in
            result.append((key, value))
            return true
        }
        return result
    }

    /// The last entry of `range`, if any.
    public func last(in range: KeyRange, of family: ColumnFamily) throws(StorageError) -> (key: [UInt8], value: [UInt8])? {
        try entries(range, in: family, reverse: true, limit: 1).first
    }

    static func bytes(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }
}
