/* verify: check that the store holds, byte for byte, what the cache says it does.
 *
 * verify_store() re-hashes every file object and log under the store (no stat cache),
 * checks every present output (its manifest matches its digest; each object it names
 * exists with the listed size and digest; its view, when built, holds exactly its
 * manifest: each file the stored object itself, nothing missing, nothing extra, see
 * store_view_check(), each difference reported) and every cache entry (it names a
 * known output, and agrees with the history's record of the task run that made it:
 * that run's output digest, task and key), plus SQLite's own quick_check.
 * Without repair it changes nothing (under the store's shared lock, beside runs).
 * With repair (under the exclusive lock, so never during a run): damaged objects and
 * logs are deleted, an object missing but intact in a view is put back, a view that
 * differs from its manifest is rebuilt from the objects, and an output whose bytes are
 * lost loses its entries, so its tasks run again, as does a disagreeing entry. It
 * never follows a symlink.
 */
#ifndef SLUICE_VERIFY_H
#define SLUICE_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "store.h"

struct verify_report {
    size_t objects, logs, outputs, entries; /* how many were checked */
    uint64_t bytes;                         /* bytes re-hashed */
    struct strv problems;                   /* one line each, e.g. "object 3fa1c0…: ..." */
    struct strv repairs;                    /* what --repair did, one line each */
    size_t unrepaired;                      /* problems repair could not fix (or none tried) */
};

int verify_store(struct store *st, struct db *db, bool repair, struct verify_report *r,
                 struct err *e);
void verify_report_free(struct verify_report *r);

#endif
