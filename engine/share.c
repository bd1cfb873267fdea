/* share: pushing local entries to a tier. */
#include "share.h"

#include "plan.h"

/* Marks t and everything upstream of it. */
static void mark_upstream(const struct flow *f, size_t t, bool *seen)
{
    size_t *work = xcalloc(f->n_tasks + 1, sizeof *work);
    size_t top = 0;
    if (!seen[t]) {
        seen[t] = true;
        work[top++] = t;
    }
    while (top > 0) {
        const struct task *task = &f->tasks[work[--top]];
        for (size_t j = 0; j < task->n_deps; j++)
            if (!seen[task->deps[j]]) {
                seen[task->deps[j]] = true;
                work[top++] = task->deps[j];
            }
    }
    free(work);
}

int share_push(struct workspace *ws, const struct cache_tier *tier, const size_t *targets,
               size_t n_targets, size_t *offered, struct err *e)
{
    const struct flow *f = ws->flow;
    *offered = 0;
    bool *seen = xcalloc(f->n_tasks + 1, sizeof *seen);
    int rc = 0;
    for (size_t i = 0; i < n_targets && rc == 0; i++) {
        rc = keys_deep(&ws->keys, targets[i], e);
        mark_upstream(f, targets[i], seen);
    }
    double now = now_wall();
    for (size_t t = 0; t < f->n_tasks && rc == 0; t++) {
        const struct task *task = &f->tasks[t];
        struct cache_entry ce;
        if (!seen[t] || task->is_volatile || task->after_volatile ||
            !cache_get(ws->db, ws->keys.in[t].deep, &ce) || plan_expired(task, &ce, now) ||
            !cache_output_present(ws->db, ws->store, ce.digest))
            continue;
        cache_offer(ws->db, ws->store, tier, ws->keys.in[t].deep, task->name, &ce);
        ++*offered;
    }
    free(seen);
    return rc;
}
