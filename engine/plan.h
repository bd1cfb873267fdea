/* plan: demand-driven, top-down decisions for a set of targets.
 *
 * For each target: if its deep key has a valid entry whose bytes are present, it is a
 * hit and nothing upstream of it is looked at. Otherwise it must
 * run, and each of its upstreams is planned the same way (a hit if its output can be
 * used as is, else a run). A volatile task always runs, and so must everything
 * downstream of one (early cutoff then saves what did not change). Tasks no demand
 * reaches stay PLAN_NONE ("skipped").
 *
 * Expiry is inherited. A deep key says nothing about an upstream's bytes, and an
 * expiring task's bytes change without its key changing. So the deep entry of a task
 * with an expiring task anywhere upstream of it is valid only while it was built from
 * what its upstreams are now: each upstream's own entry valid (not expired, and the
 * same rule in turn), and the task's shallow key for those upstreams' current output
 * digests naming the very output the deep entry names. Otherwise the task runs
 * (CAUSE_UPSTREAM_EXPIRED, CAUSE_UPSTREAM_CHANGED), its upstreams are planned in turn,
 * and early cutoff keeps what comes out the same. Without expiring upstreams a
 * deep entry stands alone: one lookup. Planning only reads:
 * deep keys (keys.h), the cache index (and the tier behind it) and the store's directory entries. It never
 * reads task outputs and never runs anything.
 */
#ifndef SLUICE_PLAN_H
#define SLUICE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "keys.h"
#include "store.h"

enum plan_action { PLAN_NONE, PLAN_HIT, PLAN_RUN };
enum plan_cause {
    CAUSE_NONE,
    CAUSE_FORCED,
    CAUSE_NO_ENTRY,
    CAUSE_NOT_STORED,     /* the entry's bytes are gone (not kept, or collected) */
    CAUSE_EXPIRED,
    CAUSE_VOLATILE,
    CAUSE_AFTER_VOLATILE, /* downstream of a volatile task */
    CAUSE_DAMAGED,        /* its stored output, which a task needs, is damaged */
    CAUSE_UPSTREAM_EXPIRED, /* built from an upstream whose entry expired (cause_task) */
    CAUSE_UPSTREAM_CHANGED, /* built from other bytes than an upstream has now (cause_task) */
};

/* Whether a task's deep entry still stands for its inputs (see above), memoised. */
enum { VALID_UNKNOWN, VALID_YES, VALID_NO };
struct plan_valid { /* 16 bytes: one per task of a flow of a million */
    unsigned char v;     /* VALID_* */
    unsigned char cause; /* VALID_NO: CAUSE_NO_ENTRY, CAUSE_EXPIRED, CAUSE_UPSTREAM_* */
    int32_t task;        /* VALID_NO: the task the cause is about (itself, or upstream) */
    const struct cache_entry *entry; /* VALID_YES, CAUSE_EXPIRED: owned by the plan */
};

struct plan_node { /* 24 bytes: one per task */
    enum plan_action action : 8;
    enum plan_cause cause : 8; /* why it runs */
    bool target;
    int32_t cause_task;      /* CAUSE_UPSTREAM_*: the upstream at the root of it, or -1 */
    struct cache_entry *hit; /* PLAN_HIT, CAUSE_DAMAGED: the entry (owned by the plan) */
    char *damage;            /* CAUSE_DAMAGED: what is wrong with the stored bytes */
};

struct plan {
    struct plan_node *nodes; /* one per task */
    size_t n;
    size_t lookups; /* cache lookups made: a hit target makes exactly one */
    size_t n_run, n_hit;
    bool *inherits;           /* per task: some task upstream of it expires */
    struct plan_valid *valid; /* per task, filled on demand */
    struct cache_entry **entries; /* what valid[] points at: chunks that never move */
    size_t n_entries;
    const struct cache_tier *tier; /* asked for keys the local cache lacks, or NULL */
};

/* force: per task, run it even if cached (may be NULL). tier (may be NULL): the cache
 * tier behind the local one, asked for each key the local cache has no entry for; an
 * entry found there is a hit (entry.remote) whose bytes plan_check_inputs() and
 * plan_demand() fetch, so that only the outputs a run reads are downloaded. */
int plan_for_targets(struct plan *p, struct keys *k, struct db *db, struct store *st,
                     const struct cache_tier *tier, const size_t *targets, size_t n_targets,
                     const bool *force, struct err *e);
/* Plans task t, which no demand reached, as if a task of the plan needed its output
 * (it is no target); a hit's bytes are checked as a target's are, and a damaged one
 * runs (plan_check_inputs() then plans its upstreams). A task already planned is
 * left as it is. */
int plan_demand(struct plan *p, struct keys *k, struct db *db, struct store *st, size_t t,
                const bool *force, struct err *e);
/* For a run: checks the bytes of every hit that a task of the plan will read, and of
 * every target that is a hit (the user reads those), with cache_output_intact(): stat
 * data through the stat cache, bytes only when it cannot vouch for them. A remote hit's
 * objects are fetched (cache_fetch()); one that cannot be is planned to run
 * (CAUSE_NO_ENTRY). A damaged
 * one is planned to run instead (CAUSE_DAMAGED, so its producer re-runs), and its
 * upstreams are planned in turn. Reads only. */
void plan_check_inputs(struct plan *p, struct keys *k, struct db *db, struct store *st,
                       const size_t *targets, size_t n_targets,
                       const bool *force);
/* Leaves out (PLAN_NONE) every task planned to run, and the remote hits that are not
 * targets (only those tasks read them): a pull fetches, never runs. Returns how many
 * targets were left out. */
size_t plan_drop_runs(struct plan *p);
void plan_free(struct plan *p);
/* Task t's deep entry when it is valid (whether or not its bytes are present), else
 * NULL with the cause (and the task it is about) in *why. keys_deep(k, t) must have
 * succeeded. Reads only. */
const struct cache_entry *plan_entry(struct plan *p, struct keys *k, struct db *db, size_t t,
                                     const struct plan_valid **why);
/* Whether task t's entries depend on an expiring upstream (a deep entry alone does
 * not vouch for it: its shallow key must agree). */
bool plan_inherits_expiry(const struct plan *p, size_t t);
/* Whether an entry of task t is too old to use at time now. An entry of an expiring
 * task made more than a minute after now (the clock was ahead, then corrected) is
 * expired too: its age is unknown. */
bool plan_expired(const struct task *t, const struct cache_entry *e, double now);
/* Says why that entry expired ("expired 3m ago", or that it was made ahead of the
 * clock) into buf. */
void plan_expiry_text(const struct task *t, const struct cache_entry *e, double now,
                      char *buf, size_t n);

#endif
