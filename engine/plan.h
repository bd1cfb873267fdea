/* plan: demand-driven, top-down decisions for a set of targets.
 *
 * For each target: if its deep key has an entry that has not expired and whose bytes
 * are present, it is a hit and nothing upstream of it is looked at. Otherwise it must
 * run, and each of its upstreams is planned the same way (a hit if its output can be
 * used as is, else a run). A volatile task always runs, and so must everything
 * downstream of one (early cutoff then saves what did not change). Tasks no demand
 * reaches stay PLAN_NONE ("skipped"). Planning only reads:
 * deep keys (keys.h), the cache index and the store's directory entries. It never
 * reads task outputs and never runs anything.
 */
#ifndef SLUICE_PLAN_H
#define SLUICE_PLAN_H

#include <stdbool.h>

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
};

struct plan_node {
    enum plan_action action;
    enum plan_cause cause; /* why it runs */
    bool target;
    struct cache_entry *hit; /* PLAN_HIT, CAUSE_DAMAGED: the entry (owned by the plan) */
    char *damage;            /* CAUSE_DAMAGED: what is wrong with the stored bytes */
};

struct plan {
    struct plan_node *nodes; /* one per task */
    size_t n;
    size_t lookups; /* cache lookups made: a hit target makes exactly one */
    size_t n_run, n_hit;
};

/* force: per task, run it even if cached (may be NULL). */
int plan_for_targets(struct plan *p, struct keys *k, struct db *db, struct store *st,
                     const size_t *targets, size_t n_targets, const bool *force, struct err *e);
/* For a run: checks the bytes of every hit that a task of the plan will read
 * (cache_output_intact()). A damaged one is planned to run instead (CAUSE_DAMAGED,
 * so its producer re-runs), and its upstreams are planned in turn. Reads only. */
void plan_check_inputs(struct plan *p, struct keys *k, struct db *db, struct store *st,
                       const bool *force);
void plan_free(struct plan *p);
/* Whether an entry of task t is too old to use at time now. */
bool plan_expired(const struct task *t, const struct cache_entry *e, double now);

#endif
