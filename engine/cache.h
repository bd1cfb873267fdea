/* cache: which output each key stands for (tables `entries` and `outputs`).
 *
 * A deep key, a shallow key or an alias all map to an output digest; `outputs` holds
 * each output's manifest. An entry is written only after the output's objects are
 * durable (store_synced()), inside the coordinator's transaction, so a crash can lose
 * an entry but never leave one pointing at missing or partial bytes. Whether the
 * bytes are still in the store is checked through the manifest (cache_output_*).
 */
#ifndef SLUICE_CACHE_H
#define SLUICE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "hash.h"
#include "store.h"

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

/* Records an output's manifest (once per digest). */
int cache_put_output(struct db *db, const struct output *o, struct err *e);
/* The output's manifest, or NULL if unknown. Caller frees. */
char *cache_manifest(struct db *db, const char *digest);
/* Whether the output's bytes can be used (its view, or every object of its manifest). */
bool cache_output_present(struct db *db, struct store *st, const char *digest);
/* The output's view directory (rebuilt from its manifest if needed). Caller frees. */
char *cache_output_view(struct db *db, struct store *st, const char *digest, struct err *e);

#endif
