#ifndef PARLEY_CROCKSDB_HINTS_H
#define PARLEY_CROCKSDB_HINTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Registers with RocksDB's default object library (once per name) a slice transform for
/// keys laid out as `fixed bytes ++ name without 0x00 ++ 0x00 ++ record ++ 8-byte sequence`,
/// `record` one of `records`: it maps such a key to its prefix through the record byte, and
/// no other key is in its domain. Writes the transform's name (usable in an options string)
/// into `name`, NUL-terminated; returns its length, or 0 when `capacity` is too small.
size_t parley_register_sequenced_record_prefix(
    size_t fixed, const uint8_t *records, size_t record_count, char *name, size_t capacity);

/// Whether `key` is in that transform's domain: a sequenced record key as above.
int parley_is_sequenced_record_key(
    size_t fixed, const uint8_t *records, size_t record_count, const uint8_t *key, size_t length);

#ifdef __cplusplus
}
#endif

#endif
