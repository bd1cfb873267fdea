/* plan: top-down planning with an explicit work list. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

bool plan_expired(const struct task *t, const struct cache_entry *e, double now)
{
    return t->expire > 0 && now - e->created > t->expire;
}

/* Why task i must run, or CAUSE_NONE (and *e filled) when its entry can be used. */
static enum plan_cause run_cause(struct keys *k, struct db *db, struct store *st, size_t i,
                                 struct cache_entry *e, size_t *lookups)
{
    const struct task *t = &k->flow->tasks[i];
    if (t->is_volatile)
        return CAUSE_VOLATILE;
    if (t->after_volatile)
        return CAUSE_AFTER_VOLATILE;
    (*lookups)++;
    if (!cache_get(db, k->in[i].deep, e))
        return CAUSE_NO_ENTRY;
    if (plan_expired(t, e, now_wall()))
        return CAUSE_EXPIRED;
    if (!cache_output_present(db, st, e->digest))
        return CAUSE_NOT_STORED;
    return CAUSE_NONE;
}

static void decide(struct plan *p, struct keys *k, struct db *db, struct store *st, size_t t,
                   const bool *force)
{
    struct plan_node *n = &p->nodes[t];
    struct cache_entry e;
    n->cause = force && force[t] ? CAUSE_FORCED : run_cause(k, db, st, t, &e, &p->lookups);
    if (n->cause != CAUSE_NONE) {
        n->action = PLAN_RUN;
    } else {
        n->action = PLAN_HIT;
        n->hit = xmalloc(sizeof *n->hit);
        *n->hit = e;
    }
}

static int plan_walk(struct plan *p, struct keys *k, struct db *db, struct store *st,
                     const size_t *targets, size_t n_targets, const bool *force, struct err *e)
{
    const struct flow *f = k->flow;
    for (size_t i = 0; i < n_targets; i++)
        if (keys_deep(k, targets[i], e))
            return -1;
    bool *seen = xcalloc(f->n_tasks, sizeof *seen);
    size_t *work = xcalloc(f->n_tasks, sizeof *work);
    size_t top = 0;
    for (size_t i = 0; i < n_targets; i++) {
        p->nodes[targets[i]].target = true;
        if (!seen[targets[i]]) {
            seen[targets[i]] = true;
            work[top++] = targets[i];
        }
    }
    while (top > 0) {
        size_t t = work[--top];
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
                work[top++] = d;
            }
        }
    }
    free(seen);
    free(work);
    return 0;
}

int plan_for_targets(struct plan *p, struct keys *k, struct db *db, struct store *st,
                     const size_t *targets, size_t n_targets, const bool *force, struct err *e)
{
    memset(p, 0, sizeof *p);
    p->n = k->flow->n_tasks;
    p->nodes = xcalloc(p->n, sizeof *p->nodes);
    bool opened;
    db_read_begin(db, &opened);
    int rc = plan_walk(p, k, db, st, targets, n_targets, force, e);
    db_read_end(db, opened);
    return rc;
}

/* A hit whose bytes are damaged: it runs instead. */
static bool damaged(struct plan *p, struct db *db, struct store *st, size_t t)
{
    struct plan_node *n = &p->nodes[t];
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

void plan_check_inputs(struct plan *p, struct keys *k, struct db *db, struct store *st,
                       const bool *force)
{
    const struct flow *f = k->flow;
    bool *checked = xcalloc(f->n_tasks, sizeof *checked);
    size_t *work = xcalloc(f->n_tasks, sizeof *work);
    size_t top = 0;
    for (size_t t = 0; t < f->n_tasks; t++)
        if (p->nodes[t].action == PLAN_RUN)
            work[top++] = t;
    while (top > 0) {
        const struct task *task = &f->tasks[work[--top]];
        for (size_t j = 0; j < task->n_deps; j++) {
            size_t d = task->deps[j];
            if (p->nodes[d].action == PLAN_NONE) { /* upstream of a damaged hit */
                decide(p, k, db, st, d, force);
                if (p->nodes[d].action == PLAN_RUN) {
                    p->n_run++;
                    work[top++] = d;
                    continue;
                }
                p->n_hit++;
            }
            if (p->nodes[d].action == PLAN_HIT && !checked[d]) {
                checked[d] = true;
                if (damaged(p, db, st, d))
                    work[top++] = d;
            }
        }
    }
    free(checked);
    free(work);
}

void plan_free(struct plan *p)
{
    for (size_t i = 0; p->nodes && i < p->n; i++) {
        free(p->nodes[i].hit);
        free(p->nodes[i].damage);
    }
    free(p->nodes);
    memset(p, 0, sizeof *p);
}
