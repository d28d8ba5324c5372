#ifndef PARLEY_CROCKSDB_SHIM_H
#define PARLEY_CROCKSDB_SHIM_H
#include <rocksdb/c.h>
#endif
