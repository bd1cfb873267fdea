/* gc: give disk space back without losing anything still useful.
 *
 * Under the store's exclusive lock (so never while a run holds anything), gc_collect()
 * deletes expired entries, then the outputs no entry refers to (except those the last
 * `keep_runs` runs produced), then, if the store is still larger
 * than `max_size`, the least recently used outputs (their entries stay: a later need
 * re-runs the task). Then every file object, view and log no longer referenced, and
 * leftover scratch space, go. The code versions replay needs are kept (blobs.h): with
 * keep_runs, those of the last keep_runs runs, copied into the store if need be. With
 * dry_run nothing changes but the report.
 */
#ifndef SLUICE_GC_H
#define SLUICE_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "blobs.h"
#include "db.h"
#include "store.h"

struct gc_opts {
    long keep_runs;    /* < 0: not given */
    uint64_t max_size; /* 0: no budget */
    bool dry_run;
};

struct gc_report {
    size_t expired_entries;
    size_t outputs;  /* outputs whose bytes went */
    size_t objects;  /* file objects deleted */
    size_t views, logs, scratch;
    uint64_t freed;  /* bytes of objects and logs deleted */
    size_t kept_objects;
    uint64_t kept_bytes;
    struct blobs_report blobs; /* code versions kept for replay */
};

int gc_collect(struct store *st, struct db *db, const struct gc_opts *o, struct gc_report *r,
               struct err *e);

/* Parses "500M", "2G", "1.5T", "4096" (bytes; K/M/G/T are powers of 1024). */
int gc_parse_size(const char *text, uint64_t *bytes);

#endif
