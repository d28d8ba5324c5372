import CRocksDB

extension Database {
    /// A copy of `base` whose memtable inserts take hints for keys laid out as `keys`.
    static func options(_ base: OpaquePointer, hintingInsertsOf keys: SequencedRecordKeys) throws(StorageError) -> OpaquePointer {
        let name = try keys.registeredTransformName()
        let hinted = rocksdb_options_create_copy(base)!
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_get_options_from_string(base, "memtable_insert_with_hint_prefix_extractor=\(name)", hinted, &error)
        if let failure = takeError(error) {
            rocksdb_options_destroy(hinted)
            throw failure
        }
        return hinted
    }

    /// Adds the deletion of `[start, end)` to `batch` for an insert-hinted family whose
    /// layout `start` has: as a point deletion of `start` and a range deletion from its
    /// immediate successor (`start ++ 0x00`, one byte too long for the layout), the same keys,
    /// so that no range tombstone starts at a hinted key (see `SequencedRecordKeys`). An
    /// empty range deletes nothing and adds nothing (an inverted one is refused by the caller).
    static func addRangeDeletion(
        from start: UnsafeBufferPointer<UInt8>, to end: UnsafeBufferPointer<UInt8>, startingAtAHintedKey family: OpaquePointer,
        to batch: OpaquePointer
    ) {
        guard start.lexicographicallyPrecedes(end) else { return }
        let successor = Array(start) + [0]
        start.withMemoryRebound(to: CChar.self) { start in
            rocksdb_writebatch_delete_cf(batch, family, start.baseAddress, start.count)
        }
        successor.withUnsafeBufferPointer { successor in
            successor.withMemoryRebound(to: CChar.self) { successor in
                end.withMemoryRebound(to: CChar.self) { end in
                    rocksdb_writebatch_delete_range_cf(batch, family, successor.baseAddress, successor.count, end.baseAddress, end.count)
                }
            }
        }
    }
}
