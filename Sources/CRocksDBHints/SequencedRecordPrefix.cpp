// A RocksDB slice transform for memtable insert hints (`memtable_insert_with_hint_prefix_
// extractor`): keys of one record prefix (one room's journal, one room's messages) arrive in
// sequence order, so each insert can start from the splice the previous one left instead of
// searching the skip list from the top.
//
// RocksDB 7.8 (Debian's) keeps one hint per prefix for both of a memtable's skip lists, the
// point keys' and the range tombstones' (later versions hint the point keys' list only): a
// range deletion whose start key is in the domain would insert with a splice of the other
// list. So the domain is narrow on purpose (only keys ending in an 8-byte sequence after a
// listed record byte), and ParleyStorage writes a range deletion that starts inside it as a
// point deletion plus a range deletion from the start's successor, outside it.

#include "CRocksDBHints.h"

#include <rocksdb/slice.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/utilities/object_registry.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace {

/// The length of `key`'s prefix through its record byte, or 0 when it is not a sequenced
/// record key.
size_t sequencedPrefixLength(size_t fixed, const std::string &records, const char *key, size_t length) {
    if (length < fixed + 2 + 8) return 0;
    const void *zero = std::memchr(key + fixed, 0, length - fixed);
    if (zero == nullptr) return 0;
    const size_t separator = static_cast<size_t>(static_cast<const char *>(zero) - key);
    const size_t prefix = separator + 2;
    if (prefix + 8 != length) return 0;
    if (records.find(key[separator + 1]) == std::string::npos) return 0;
    return prefix;
}

class SequencedRecordPrefix final : public rocksdb::SliceTransform {
  public:
    SequencedRecordPrefix(std::string name, size_t fixed, std::string records)
        : name_(std::move(name)), fixed_(fixed), records_(std::move(records)) {}

    const char *Name() const override { return name_.c_str(); }

    rocksdb::Slice Transform(const rocksdb::Slice &key) const override {
        return rocksdb::Slice(key.data(), sequencedPrefixLength(fixed_, records_, key.data(), key.size()));
    }

    bool InDomain(const rocksdb::Slice &key) const override {
        return sequencedPrefixLength(fixed_, records_, key.data(), key.size()) != 0;
    }

  private:
    const std::string name_;
    const size_t fixed_;
    const std::string records_;
};

}  // namespace

extern "C" size_t parley_register_sequenced_record_prefix(
    size_t fixed, const uint8_t *records, size_t record_count, char *name, size_t capacity) {
    static const char hex[] = "0123456789abcdef";
    const std::string recordBytes(reinterpret_cast<const char *>(records), record_count);
    std::string id = "parley.SequencedRecordPrefix." + std::to_string(fixed) + ".";
    for (unsigned char record : recordBytes) {
        id += hex[record >> 4];
        id += hex[record & 15];
    }
    if (id.size() + 1 > capacity) return 0;
    static std::mutex lock;
    static std::set<std::string> registered;
    {
        std::lock_guard<std::mutex> guard(lock);
        if (registered.insert(id).second) {
            rocksdb::ObjectLibrary::Default()->AddFactory<const rocksdb::SliceTransform>(
                id, [id, fixed, recordBytes](const std::string &, std::unique_ptr<const rocksdb::SliceTransform> *made, std::string *) {
                    made->reset(new SequencedRecordPrefix(id, fixed, recordBytes));
                    return made->get();
                });
        }
    }
    std::memcpy(name, id.c_str(), id.size() + 1);
    return id.size();
}

extern "C" int parley_is_sequenced_record_key(
    size_t fixed, const uint8_t *records, size_t record_count, const uint8_t *key, size_t length) {
    const std::string recordBytes(reinterpret_cast<const char *>(records), record_count);
    return sequencedPrefixLength(fixed, recordBytes, reinterpret_cast<const char *>(key), length) != 0;
}
