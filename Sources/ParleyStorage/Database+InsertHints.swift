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

    /// Throws, before anything is written, when `batch` has a range deletion in an
    /// insert-hinted family that starts at a hinted key (see `SequencedRecordKeys`).
    func refuseHintedRangeDeletions(in batch: WriteBatch) throws(StorageError) {
        var refused: Int?
        batch.forEachOperation { tag, family, start, _ in
            guard refused == nil, tag == .deleteRange, let keys = hintedKeys[family], keys.matches(start) else { return }
            refused = family
        }
        if let refused {
            let name = familyIndex.first { $0.value == refused }?.key ?? "\(refused)"
            throw StorageError(
                code: .invalidArgument,
                message: "a range deletion in the insert-hinted column family \(name) starts at a hinted key; start it at the record prefix")
        }
    }
}
