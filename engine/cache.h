/* cache: which output each key stands for (table `entries`).
 *
 * A deep key, a shallow key or an alias all map to an output digest in the store.
 * An entry is written only after the output's objects are durable (store_sync()),
 * inside the coordinator's transaction, so a crash can lose an entry but never
 * leave one pointing at missing or partial bytes. Whether the bytes are still there
 * is the store's question (store_has_output()).
 */
#ifndef SLUICE_CACHE_H
#define SLUICE_CACHE_H

#include <stdint.h>

#include "db.h"
#include "hash.h"

struct cache_entry {
    char digest[HASH_HEX];
    uint64_t size;
    double created;
    int64_t task_run_id; /* the task run that produced the output (0 if unknown) */
};

/* 1 and *out filled when key has an entry, 0 when not. */
int cache_get(struct db *db, const char *key, struct cache_entry *out);
/* kind: "deep", "shallow" or "alias" (a new deep key for an output found by cutoff). */
int cache_put(struct db *db, const char *key, const char *kind, const char *task,
              const struct cache_entry *entry, struct err *e);

#endif
