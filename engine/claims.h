/* claims: which run is computing which deep key right now (table `claims`).
 *
 * Before a task starts, its run claims the task's deep key inside the run's write
 * transaction, so two runs on one store (two terminals, a TUI and a CLI) never
 * compute the same key at once: the second sees the claim, waits, then reuses the
 * first's result (or, if the first failed, claims the key itself). A claim records
 * the owner's pid: one whose process is gone (kill -9), a zombie, or a pid reused by a
 * program started after the claim is stale and taken over. A claim (and a run) also
 * records its host: one made on another host (a store shared by two machines) is
 * never taken as stale, since its pid cannot be checked here; a task waiting for it
 * gives up after the run's claim_wait. Hosts sharing only a remote (remote.h) have
 * separate stores and claims: both may compute one key, and both results are right.
 * Claims go with the task's cache entry or failure, and all of a run's at its end.
 * Two tasks of one run with the same key are serialised the same way.
 */
#ifndef SLUICE_CLAIMS_H
#define SLUICE_CLAIMS_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/* Claims key for (run_id, task): 1 when it is now (or already was) theirs, 0 when a
 * live claim of another task or run holds it (*owner_run, *owner_pid: its run and
 * process), -1 on error. Must run inside the caller's write transaction. */
int claims_take(struct db *db, const char *key, const char *task, int64_t run_id,
                int64_t *owner_run, int64_t *owner_pid, struct err *e);
int claims_release(struct db *db, const char *key, int64_t run_id, struct err *e);
/* This machine's name, as claims and runs record it. */
void claims_host(char out[256]);
/* Whether a process (pid, started at `since`) recorded on host (NULL: this one) may
 * still be going: on another host it is always taken as going. */
bool claims_process_alive(const char *host, int64_t pid, double since);
int claims_release_run(struct db *db, int64_t run_id, struct err *e);
/* Whether a run other than run_id is going on (its process is alive, as for a claim):
 * it may read any output of the store, so nothing unpinned may be deleted under it. */
bool claims_other_run_live(struct db *db, int64_t run_id);

#endif
