/* status: each task's state and, when it would run, the root causes why.
 *
 * States follow the plan a `sluice run` of the same targets would make: a target or
 * needed upstream is `cached` (its key has a valid entry whose bytes are present),
 * `not kept` (its entry is valid but its bytes are gone: ephemeral, or collected),
 * `failed` (its last attempt with this very key failed), `expired` (its entry is
 * older than its `expire`, or gc removed it for that), `invalidated` (its entry was taken out on purpose: `sluice
 * invalidate`), `stale` (it completed before with a different key, an upstream it was
 * built from expired or has new output (expiry is inherited: plan.h), or it is
 * volatile) or `pending` (never completed in this flow). A task no demand reaches is
 * `cached` or `not kept` when it has a valid entry, `expired` when its own entry
 * expired, else `skipped`. `cached` is never said of bytes that are not in the store.
 * Reasons compare the current inputs with the last completed task run in the history
 * (code files, params, files, env) and each upstream with the entry the task would
 * read now: "upstream X changed" only when X's output differs from the one the task
 * last used. Reading only: nothing runs and nothing is written.
 */
#ifndef SLUICE_STATUS_H
#define SLUICE_STATUS_H

#include "cache.h"
#include "workspace.h"

enum node_state {
    ST_CACHED,
    ST_NOT_KEPT,
    ST_STALE,
    ST_PENDING,
    ST_EXPIRED,
    ST_INVALIDATED,
    ST_FAILED,
    ST_SKIPPED,
    ST_N_STATES
};

/* Code files whose content changed, and the blob ids they had. */
struct changed_code {
    struct strv paths, from;
};

struct task_status {
    enum node_state state;
    struct strv reasons;
    struct changed_code *changed; /* NULL when no code file changed */
    struct cache_entry *entry;    /* cached, not kept: the current key's entry */
};

const char *state_name(enum node_state s);
/* The state that speaks for a group of tasks: the most urgent of the two (failed, then
 * invalidated, expired, stale, pending, skipped, not kept, cached). */
enum node_state status_merge(enum node_state a, enum node_state b);

/* Fills (*out)[i] for every task of the flow. Caller frees with status_free(). */
int status_compute(struct workspace *ws, const size_t *targets, size_t n_targets,
                   struct task_status **out, struct err *e);
/* Someone watching a long computation: step() is called every few hundred tasks with
 * what is being done ("computing keys", "looking up results"), how far it got and of how many; non-zero
 * stops the computation (which then fails with "stopped"). */
struct status_watch {
    int (*step)(void *ctx, const char *what, size_t done, size_t total);
    void *ctx;
};
/* status_compute(), watched (w may be NULL). */
int status_compute_watched(struct workspace *ws, const size_t *targets, size_t n_targets,
                           const struct status_watch *w, struct task_status **out,
                           struct err *e);
/* The same for a plan already made (a run's, with --force and damaged inputs: then
 * "forced (--force)" and the damage are its reasons), for every task it reaches.
 * Fills the plan's validity memo for the tasks it did not reach (plan_entry()). */
struct plan;
struct task_status *status_of_plan(struct workspace *ws, struct plan *p);
void status_free(struct task_status *st, size_t n);

#endif
