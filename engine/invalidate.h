/* invalidate: distrust cached results on purpose, reversibly.
 *
 * An invalidation takes the selected tasks' current results out of the cache: the
 * entries for each task's current deep key and current shallow key, and the task's
 * aliases to the same output, so neither a hit nor an early cutoff can bring them
 * back. Every task downstream of them loses its deep-key entry only, so the next run
 * reaches the invalidated tasks, and a downstream task whose inputs come out the same
 * is still cut off. Bytes are not deleted. Each invalidation is recorded (who, when,
 * which tasks, why) with the entries it covers, including those an earlier one still
 * in force took out; an entry stays out while any invalidation in force covers it,
 * so undos compose in any order.
 */
#ifndef SLUICE_INVALIDATE_H
#define SLUICE_INVALIDATE_H

#include "workspace.h"

enum invalidate_scope { INVALIDATE_TASK, INVALIDATE_DOWNSTREAM, INVALIDATE_UPSTREAM };

/* The tasks an invalidation of `task` would touch (task first, then the flow's
 * topological order). Caller frees. */
size_t *invalidate_select(const struct workspace *ws, size_t task, enum invalidate_scope scope,
                          size_t *n);
/* The same for several tasks (distinct; given first, in their order). Caller frees. */
size_t *invalidate_select_all(const struct workspace *ws, const size_t *tasks, size_t n_tasks,
                              enum invalidate_scope scope, size_t *n);
/* Invalidates the tasks; *id gets the invalidation's id and *covered how many
 * entries it holds out: taken out now, or already out by an earlier invalidation
 * still in force (0: nothing was cached, and nothing is recorded). */
int invalidate_apply(struct workspace *ws, const size_t *tasks, size_t n, const char *reason,
                     int64_t *id, size_t *covered, struct err *e);
struct invalidate_undo_result {
    size_t restored; /* entries put back */
    size_t kept;     /* entries left out: another invalidation in force covers them */
    char kept_by[64]; /* those invalidations' ids, "2" or "2,5" */
};
/* Puts back an invalidation's entries, except those another invalidation still in
 * force covers. Fails when it is unknown or already undone. */
int invalidate_undo(struct workspace *ws, int64_t id, struct invalidate_undo_result *r,
                    struct err *e);
/* The newest invalidation of this flow not yet undone, or 0. */
int64_t invalidate_last(struct workspace *ws);
/* If the entry for `key` was removed by an invalidation still in force: 1, with its id,
 * its time and whether the task was selected (else it is downstream of one that was). */
int invalidate_lookup(struct db *db, const char *key, int64_t *id, double *when, bool *direct);

#endif
