/* blobs: the versions of code files that runs used, kept so they can be diffed and
 * replayed.
 *
 * A code file's version is its git blob id. Committed versions live in the
 * repository's object database; a modified or untracked file (and every code file
 * outside a git repository) is copied into the store, `blobs/ab/cdef...` (read-only,
 * named by its blob id), when a task runs with it, so sluice never writes into the
 * repository. Lookups try the store first, then the repository. `gc --keep-runs N`
 * copies the committed versions the last N runs used into the store too, so a history
 * rewrite or `git gc` cannot make those runs unreplayable.
 */
#ifndef SLUICE_BLOBS_H
#define SLUICE_BLOBS_H

#include <stdint.h>

#include "db.h"
#include "fingerprint.h"
#include "store.h"

/* Keeps the file at abs as blob `id` (a no-op when the store has it). Fails when the
 * file no longer has that id (it changed since it was fingerprinted). */
int blobs_keep(struct store *st, const char *abs, const char *id, struct err *e);
/* The content of blob `id` (`path` names it in messages), from the store or else the
 * repository fp is in (fp may be NULL). Caller frees *data. */
int blobs_read(struct store *st, struct fingerprint *fp, const char *id, const char *path,
               char **data, size_t *len, struct err *e);
/* The unified diff from blob old_id to blob new_id, or to the file at abs when new_id
 * is NULL; at most max_lines lines. Caller frees *out. */
int blobs_diff(struct store *st, struct fingerprint *fp, const char *path, const char *old_id,
               const char *new_id, const char *abs, size_t max_lines, char **out,
               struct err *e);

struct blobs_report {
    size_t copied;  /* committed versions copied in from repositories */
    size_t missing; /* versions neither the store nor the repository has */
    size_t deleted; /* store blobs no kept run needs */
    uint64_t freed;
};

/* gc's part: with keep_runs >= 0, makes sure the store holds every version the last
 * keep_runs runs used and deletes the others; with keep_runs < 0, deletes only the
 * versions no recorded run used. dry_run changes nothing. */
int blobs_collect(struct store *st, struct db *db, long keep_runs, bool dry_run,
                  struct blobs_report *r, struct err *e);

#endif
