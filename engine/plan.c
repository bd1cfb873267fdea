/* plan: top-down planning with an explicit work list. */
#include "plan.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOCK_SLACK 60.0 /* seconds an entry may seem to come from the future */

bool plan_expired(const struct task *t, const struct cache_entry *e, double now)
{
    return t->expire > 0 && (now - e->created > t->expire || e->created - now > CLOCK_SLACK);
}

void plan_expiry_text(const struct task *t, const struct cache_entry *e, double now,
                      char *buf, size_t n)
{
    char d[32];
    if (e->created - now > CLOCK_SLACK) {
        fmt_duration(d, sizeof d, e->created - now);
        snprintf(buf, n, "expired: made %s ahead of the clock (its age is unknown)", d);
    } else {
        fmt_duration(d, sizeof d, now - e->created - t->expire);
        snprintf(buf, n, "expired %s ago", d);
    }
}

/* --- validity: expiry is inherited -------------------------------------------------------- */

static void mark_invalid(struct plan_valid *v, enum plan_cause cause, size_t task)
{
    v->v = VALID_NO;
    v->cause = (unsigned char)cause;
    v->task = (int32_t)task;
}

#define ENTRY_CHUNK 1024

/* A place for one more entry that stays where it is until plan_free(). */
static struct cache_entry *new_entry(struct plan *p)
{
    size_t c = p->n_entries / ENTRY_CHUNK;
    if (p->n_entries % ENTRY_CHUNK == 0) {
        p->entries = xrealloc(p->entries, (c + 1) * sizeof *p->entries);
        p->entries[c] = xmalloc(ENTRY_CHUNK * sizeof **p->entries);
    }
    return &p->entries[c][p->n_entries++ % ENTRY_CHUNK];
}

/* An upstream d is not valid: what that means for its downstream. */
static void inherit_invalid(struct plan_valid *v, const struct plan_valid *up, size_t d)
{
    bool expired = up->cause == CAUSE_EXPIRED || up->cause == CAUSE_UPSTREAM_EXPIRED;
    bool deeper = up->cause == CAUSE_UPSTREAM_EXPIRED || up->cause == CAUSE_UPSTREAM_CHANGED;
    mark_invalid(v, expired ? CAUSE_UPSTREAM_EXPIRED : CAUSE_UPSTREAM_CHANGED,
                 deeper ? (size_t)up->task : d);
}

/* The upstream whose bytes can have changed under an unchanged key: an expiring one,
 * or one that inherits expiry (the first, in `after` order). */
static size_t changing_upstream(const struct plan *p, const struct flow *f, size_t t)
{
    const struct task *task = &f->tasks[t];
    for (size_t j = 0; j < task->n_deps; j++) {
        size_t d = task->deps[j];
        if (f->tasks[d].expire > 0 || p->inherits[d])
            return d;
    }
    return task->deps[0];
}

/* Task u's validity, its upstreams' being known when it inherits expiry. */
static void valid_one(struct plan *p, struct keys *k, struct db *db, size_t u)
{
    const struct task *t = &k->flow->tasks[u];
    struct plan_valid *v = &p->valid[u];
    if (t->is_volatile || t->after_volatile) {
        mark_invalid(v, t->is_volatile ? CAUSE_VOLATILE : CAUSE_AFTER_VOLATILE, u);
        return;
    }
    p->lookups++;
    struct cache_entry found;
    if (!cache_lookup(db, p->tier, k->in[u].deep, &found)) {
        mark_invalid(v, CAUSE_NO_ENTRY, u);
        return;
    }
    struct cache_entry *entry = new_entry(p);
    *entry = found;
    v->entry = entry;
    if (plan_expired(t, entry, now_wall())) {
        mark_invalid(v, CAUSE_EXPIRED, u);
        return;
    }
    if (p->inherits[u]) {
        const char **digests = xcalloc(t->n_deps, sizeof *digests);
        for (size_t j = 0; j < t->n_deps && v->v == VALID_UNKNOWN; j++) {
            const struct plan_valid *up = &p->valid[t->deps[j]];
            assert(up->v != VALID_UNKNOWN);
            if (up->v == VALID_NO)
                inherit_invalid(v, up, t->deps[j]);
            digests[j] = up->entry ? up->entry->digest : NULL;
        }
        if (v->v == VALID_UNKNOWN) {
            char shallow[HASH_HEX];
            struct cache_entry se;
            keys_shallow(k, u, digests, shallow);
            p->lookups++;
            if (!cache_lookup(db, p->tier, shallow, &se) ||
                strcmp(se.digest, entry->digest) != 0)
                mark_invalid(v, CAUSE_UPSTREAM_CHANGED, changing_upstream(p, k->flow, u));
        }
        free(digests);
        if (v->v == VALID_NO)
            return;
    }
    v->v = VALID_YES;
}

/* Post-order over the upstreams that matter (those of tasks that inherit expiry),
 * with an explicit stack: a long chain must not overflow. */
static const struct plan_valid *validity(struct plan *p, struct keys *k, struct db *db,
                                         size_t t)
{
    if (p->valid[t].v != VALID_UNKNOWN)
        return &p->valid[t];
    const struct flow *f = k->flow;
    struct frame {
        size_t task, next;
    } *stack = NULL;
    size_t top = 0, cap = 0;
    xgrow(&stack, &cap, 16, sizeof *stack);
    stack[top++] = (struct frame){t, 0};
    while (top > 0) {
        struct frame *fr = &stack[top - 1];
        const struct task *task = &f->tasks[fr->task];
        bool descend = p->inherits[fr->task] && !task->after_volatile;
        if (descend && fr->next < task->n_deps) {
            size_t d = task->deps[fr->next++];
            if (p->valid[d].v == VALID_UNKNOWN) {
                xgrow(&stack, &cap, top + 1, sizeof *stack);
                stack[top++] = (struct frame){d, 0};
            }
            continue;
        }
        if (p->valid[fr->task].v == VALID_UNKNOWN)
            valid_one(p, k, db, fr->task);
        top--;
    }
    free(stack);
    return &p->valid[t];
}

const struct cache_entry *plan_entry(struct plan *p, struct keys *k, struct db *db, size_t t,
                                     const struct plan_valid **why)
{
    const struct plan_valid *v = validity(p, k, db, t);
    *why = v;
    return v->v == VALID_YES ? v->entry : NULL;
}

bool plan_inherits_expiry(const struct plan *p, size_t t)
{
    return p->inherits && p->inherits[t];
}

static void find_inherits(struct plan *p, const struct flow *f)
{
    p->inherits = xcalloc(f->n_tasks + 1, sizeof *p->inherits);
    for (size_t i = 0; i < f->n_tasks; i++) {
        size_t t = f->order[i];
        const struct task *task = &f->tasks[t];
        for (size_t j = 0; j < task->n_deps && !p->inherits[t]; j++)
            p->inherits[t] = f->tasks[task->deps[j]].expire > 0 || p->inherits[task->deps[j]];
    }
}

/* --- decisions ---------------------------------------------------------------------------- */

/* Why task i must run, or CAUSE_NONE (and *e filled) when its entry can be used. */
static enum plan_cause run_cause(struct plan *p, struct keys *k, struct db *db,
                                 struct store *st, size_t i, struct cache_entry *e)
{
    const struct task *t = &k->flow->tasks[i];
    if (t->is_volatile)
        return CAUSE_VOLATILE;
    if (t->after_volatile)
        return CAUSE_AFTER_VOLATILE;
    const struct plan_valid *why;
    const struct cache_entry *found = plan_entry(p, k, db, i, &why);
    if (!found) {
        p->nodes[i].cause_task = why->task;
        return why->cause;
    }
    if (!found->remote && !cache_output_present(db, st, found->digest))
        return CAUSE_NOT_STORED; /* a remote hit's bytes are fetched when it is used */
    *e = *found;
    return CAUSE_NONE;
}

static void decide(struct plan *p, struct keys *k, struct db *db, struct store *st, size_t t,
                   const bool *force)
{
    struct plan_node *n = &p->nodes[t];
    struct cache_entry e;
    n->cause = force && force[t] ? CAUSE_FORCED : run_cause(p, k, db, st, t, &e);
    if (n->cause != CAUSE_NONE) {
        n->action = PLAN_RUN;
    } else {
        n->action = PLAN_HIT;
        n->hit = xmalloc(sizeof *n->hit);
        *n->hit = e;
    }
}

/* Asks the tier at once for the deep keys of these tasks that the local cache lacks,
 * before decide() looks them up one by one: a plan a level of the graph at a time
 * waits for one round trip per level, not one per task. */
static void prefetch(struct plan *p, struct keys *k, struct db *db, const size_t *tasks,
                     size_t n)
{
    if (!p->tier || !p->tier->ops->prefetch || n < 2)
        return;
    const char **keys = xcalloc(n, sizeof *keys);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct task *t = &k->flow->tasks[tasks[i]];
        struct cache_entry ce;
        if (!t->is_volatile && !t->after_volatile && p->valid[tasks[i]].v == VALID_UNKNOWN &&
            !cache_get(db, k->in[tasks[i]].deep, &ce))
            keys[m++] = k->in[tasks[i]].deep;
    }
    p->tier->ops->prefetch(p->tier->ctx, keys, m);
    free(keys);
}

/* Plans the given tasks and what they need, a level at a time; tasks already planned
 * stay as they are. They are targets when mark is set. */
static int plan_walk(struct plan *p, struct keys *k, struct db *db, struct store *st,
                     const size_t *targets, size_t n_targets, bool mark, const bool *force,
                     struct err *e)
{
    const struct flow *f = k->flow;
    for (size_t i = 0; i < n_targets; i++)
        if (keys_deep(k, targets[i], e))
            return -1;
    bool *seen = xcalloc(f->n_tasks, sizeof *seen);
    for (size_t t = 0; t < f->n_tasks; t++)
        seen[t] = p->nodes[t].action != PLAN_NONE;
    /* level: the tasks being decided; next: the upstreams of those that must run */
    size_t *level = xcalloc(f->n_tasks, sizeof *level), *next = xcalloc(f->n_tasks, sizeof *next);
    size_t n_level = 0, n_next = 0;
    for (size_t i = 0; i < n_targets; i++) {
        p->nodes[targets[i]].target |= mark;
        if (!seen[targets[i]]) {
            seen[targets[i]] = true;
            level[n_level++] = targets[i];
        }
    }
    while (n_level > 0) {
        prefetch(p, k, db, level, n_level);
        for (size_t i = 0; i < n_level; i++) {
            size_t t = level[i];
            decide(p, k, db, st, t, force);
            if (p->nodes[t].action == PLAN_HIT) {
                p->n_hit++;
                continue;
            }
            p->n_run++;
            const struct task *task = &f->tasks[t];
            for (size_t j = 0; j < task->n_deps; j++) {
                size_t d = task->deps[j];
                if (!seen[d]) {
                    seen[d] = true;
                    next[n_next++] = d;
                }
            }
        }
        size_t *swap = level;
        level = next, n_level = n_next;
        next = swap, n_next = 0;
    }
    free(seen);
    free(level);
    free(next);
    return 0;
}

int plan_for_targets(struct plan *p, struct keys *k, struct db *db, struct store *st,
                     const struct cache_tier *tier, const size_t *targets, size_t n_targets,
                     const bool *force, struct err *e)
{
    memset(p, 0, sizeof *p);
    p->tier = tier;
    p->n = k->flow->n_tasks;
    p->nodes = xcalloc(p->n, sizeof *p->nodes);
    for (size_t i = 0; i < p->n; i++)
        p->nodes[i].cause_task = -1;
    p->valid = xcalloc(p->n + 1, sizeof *p->valid);
    find_inherits(p, k->flow);
    bool opened;
    db_read_begin(db, &opened);
    int rc = plan_walk(p, k, db, st, targets, n_targets, true, force, e);
    db_read_end(db, opened);
    return rc;
}

static bool damaged(struct plan *p, struct db *db, struct store *st, size_t t,
                    const signed char *fetched);

int plan_demand(struct plan *p, struct keys *k, struct db *db, struct store *st, size_t t,
                const bool *force, struct err *e)
{
    bool opened;
    db_read_begin(db, &opened);
    int rc = plan_walk(p, k, db, st, &t, 1, false, force, e);
    if (rc == 0 && p->nodes[t].action == PLAN_HIT)
        damaged(p, db, st, t, NULL); /* its bytes are read: checked as a target's */
    db_read_end(db, opened);
    return rc;
}

/* A hit whose bytes are damaged: it runs instead. fetched (or NULL): per task, 1 when
 * fetch_hits() brought its bytes, -1 when it could not. */
static bool damaged(struct plan *p, struct db *db, struct store *st, size_t t,
                    const signed char *fetched)
{
    struct plan_node *n = &p->nodes[t];
    if (n->hit->remote) { /* every fetched byte was checked against its digest */
        struct err fe;
        int got = fetched ? fetched[t] : 0;
        if (got > 0 || (got == 0 && cache_fetch(st, p->tier, n->hit->digest, &fe) == 0))
            return false;
        n->action = PLAN_RUN;
        n->cause = CAUSE_NO_ENTRY;
        p->n_hit--;
        p->n_run++;
        return true;
    }
    char *why;
    if (cache_output_intact(db, st, n->hit->digest, &why))
        return false;
    n->damage = xasprintf("its stored output is damaged: %s", why);
    free(why);
    n->action = PLAN_RUN;
    n->cause = CAUSE_DAMAGED;
    p->n_hit--;
    p->n_run++;
    return true;
}

/* Downloads the outputs of the remote hits among these tasks together (a round trip
 * for all of them, not one each) and notes in fetched which could be had. */
static void fetch_hits(struct plan *p, struct store *st, const size_t *tasks, size_t n,
                       signed char *fetched)
{
    const char **digests = xcalloc(n + 1, sizeof *digests);
    size_t *which = xcalloc(n + 1, sizeof *which);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct plan_node *node = &p->nodes[tasks[i]];
        if (node->hit->remote && fetched[tasks[i]] == 0) {
            which[m] = tasks[i];
            digests[m++] = node->hit->digest;
        }
    }
    bool *ok = xcalloc(m + 1, sizeof *ok);
    struct err e;
    if (m > 0 && cache_fetch_all(st, p->tier, digests, m, ok, &e) == 0)
        for (size_t i = 0; i < m; i++)
            fetched[which[i]] = ok[i] ? 1 : -1;
    free(ok);
    free(which);
    free(digests);
}

/* The hits in check (their bytes are read) are checked, a level at a time: a damaged
 * one runs, and so its upstreams are planned and checked in turn. */
void plan_check_inputs(struct plan *p, struct keys *k, struct db *db, struct store *st,
                       const size_t *targets, size_t n_targets, const bool *force)
{
    const struct flow *f = k->flow;
    bool *checked = xcalloc(f->n_tasks, sizeof *checked);
    signed char *fetched = xcalloc(f->n_tasks, sizeof *fetched);
    size_t *run = xcalloc(f->n_tasks, sizeof *run), *check = xcalloc(f->n_tasks, sizeof *check);
    size_t n_run = 0, n_check = 0;
    for (size_t t = 0; t < f->n_tasks; t++)
        if (p->nodes[t].action == PLAN_RUN)
            run[n_run++] = t;
    for (size_t i = 0; i < n_targets; i++) {
        size_t t = targets[i];
        if (p->nodes[t].action == PLAN_HIT && !checked[t]) {
            checked[t] = true;
            check[n_check++] = t;
        }
    }
    for (;;) {
        fetch_hits(p, st, check, n_check, fetched);
        for (size_t i = 0; i < n_check; i++)
            if (damaged(p, db, st, check[i], fetched))
                run[n_run++] = check[i];
        n_check = 0;
        if (n_run == 0)
            break;
        while (n_run > 0) { /* the upstreams of what runs: their bytes are read */
            const struct task *task = &f->tasks[run[--n_run]];
            for (size_t j = 0; j < task->n_deps; j++) {
                size_t d = task->deps[j];
                if (p->nodes[d].action == PLAN_NONE) { /* upstream of a damaged hit */
                    decide(p, k, db, st, d, force);
                    if (p->nodes[d].action == PLAN_RUN) {
                        p->n_run++;
                        run[n_run++] = d;
                        continue;
                    }
                    p->n_hit++;
                }
                if (p->nodes[d].action == PLAN_HIT && !checked[d]) {
                    checked[d] = true;
                    check[n_check++] = d;
                }
            }
        }
    }
    free(checked);
    free(fetched);
    free(run);
    free(check);
}

size_t plan_drop_runs(struct plan *p)
{
    size_t targets = 0;
    for (size_t t = 0; t < p->n; t++) {
        struct plan_node *n = &p->nodes[t];
        if (n->action == PLAN_HIT && n->hit->remote && !n->target) {
            n->action = PLAN_NONE; /* only a task that runs needed it: never fetched */
            p->n_hit--;
            continue;
        }
        if (n->action != PLAN_RUN)
            continue;
        targets += n->target;
        n->action = PLAN_NONE;
        n->cause = CAUSE_NONE;
        p->n_run--;
    }
    return targets;
}

void plan_free(struct plan *p)
{
    for (size_t i = 0; p->nodes && i < p->n; i++) {
        free(p->nodes[i].hit);
        free(p->nodes[i].damage);
    }
    free(p->nodes);
    free(p->inherits);
    free(p->valid);
    for (size_t c = 0; c * ENTRY_CHUNK < p->n_entries; c++)
        free(p->entries[c]);
    free(p->entries);
    memset(p, 0, sizeof *p);
}
