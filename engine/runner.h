/* runner: execute a plan bottom-up, in parallel, and record everything.
 *
 * runner_run() takes the store's shared lock (waiting for gc or a repair to finish),
 * then plans the targets (plan.h), so what the plan found stays in the store, then
 * starts every task whose upstreams
 * are done, at most `jobs` at a time on each executor (executors.h: each task's own,
 * loaded as a plugin, its options checked before anything runs). Before starting a
 * task it checks the task's shallow key: if an upstream re-ran and produced the same
 * bytes as before, the old output is reused (early cutoff) and the new deep key
 * recorded as an alias. A finished task's $OUT is moved into the store and entered in the cache;
 * a failed task blocks its downstream while the rest continue; a cancel request (the
 * flag, set from a signal handler) stops running tasks and starts no new ones.
 *
 * Every task the plan runs is recorded with its cause, found when the plan is made: its
 * root causes as `sluice why` words them (status_of_plan(), why_causes_text()).
 *
 * It is the only writer of a run's history: one transaction per scheduling round,
 * committed after the round's objects are durable. Front ends watch through a
 * run_observer; every event they get is also in the `events` table.
 */
#ifndef SLUICE_RUNNER_H
#define SLUICE_RUNNER_H

#include <signal.h>
#include <stdbool.h>

#include "plan.h"
#include "workspace.h"

enum decision {
    DEC_NONE,      /* not (yet) decided */
    DEC_RAN,       /* executed successfully */
    DEC_HIT,       /* deep key found in the cache */
    DEC_CUTOFF,    /* shallow key found: upstream output unchanged */
    DEC_FAILED,    /* executed, non-zero exit (or could not start or store) */
    DEC_CANCELLED, /* stopped by a cancel request, or never started because of one */
    DEC_BLOCKED,   /* not run because an upstream failed */
};
const char *decision_name(enum decision d);

enum run_event_kind {
    RUN_STARTED,  /* plan made; run_id assigned */
    TASK_QUEUED,    /* planned to run, waiting for upstreams or a free job slot; or, with
                       a detail starting "waiting", for another run computing its key */
    TASK_SUBMITTED, /* queued by its executor's scheduler; detail: the job ("slurm job 42") */
    TASK_RUNNING,   /* running; detail: its live log file */
    TASK_DONE,    /* decision made (see decision) */
    TASK_UNPUBLISHED, /* its output is stored but could not be published; detail: why */
    RUN_FINISHED,
    RUN_TICK,     /* nothing happened for a while (observers only; not recorded) */
};

struct run_summary {
    int64_t run_id;
    size_t total; /* tasks the plan visited */
    size_t ran, hit, cutoff, failed, cancelled, blocked;
    size_t unpublished; /* outputs that could not be published (the run fails) */
    size_t empty;       /* tasks that succeeded leaving $OUT empty (a warning) ... */
    char empty_names[256]; /* ... the first of them, ", "-separated ("..." when more) */
    size_t uncached;        /* tasks whose inputs changed while they ran: not cached ... */
    char uncached_names[256]; /* ... named the same way */
    size_t capped;          /* local tasks that asked more cpus than -j, given them all ... */
    char capped_names[256]; /* ... named the same way */
    int jobs;               /* the run's -j */
    size_t missing;         /* a pull: targets neither here nor on the remote */
    double seconds;
    const char *status; /* "ok", "failed", "cancelled" */
};

struct run_event {
    enum run_event_kind kind;
    double t;              /* wall clock */
    size_t task;           /* index into flow->tasks, for TASK_* events */
    enum decision decision; /* TASK_DONE */
    const char *detail;    /* reason, exit status or NULL */
    const char *log_object; /* TASK_DONE: digest of the captured output, or NULL */
    const struct run_summary *progress;
};

struct run_observer {
    void (*notify)(void *ctx, const struct workspace *ws, const struct run_event *ev);
    void *ctx;
};

/* Where a run comes from when it is not a run of the present: a replay of a past run
 * (recorded as such, with that run's git HEAD). A replay checks results rather than
 * making them, so it writes no cache entries (its outputs stay in the store and in its
 * history, for `gc --keep-runs`). */
struct run_origin {
    int64_t replay_of;
    const char *git_head;
    bool git_dirty;
};

struct run_opts {
    const size_t *targets;
    size_t n_targets;
    const bool *force; /* per task, may be NULL */
    int jobs;
    bool dry_run; /* plan and report; run nothing, record nothing */
    bool publish_overwrite; /* publishing may replace a path sluice did not publish */
    const volatile sig_atomic_t *cancel;
    const struct run_observer *observer; /* may be NULL */
    const struct run_origin *origin;      /* NULL: a run of the present */
    double claim_wait; /* seconds a task waits for another run computing its key, then
                          fails (0: no bound) */
    const struct cache_tier *tier; /* a remote behind the local cache, or NULL: asked for
                                      the keys the local cache lacks, offered the outputs
                                      of tasks that ran and keep them, once committed */
    bool pull; /* run nothing: only record the targets' hits (fetched from the tier);
                  targets that would have to run are left out (sum->missing) */
};

/* Returns 0 when the run happened (whatever its tasks did: see sum->status) and -1
 * with a message when it could not (bad inputs, store or database errors). With
 * dry_run, *plan_out (if not NULL) receives the plan; the caller frees it. */
int runner_run(struct workspace *ws, const struct run_opts *o, struct run_summary *sum,
               struct plan *plan_out, struct err *e);

#endif
