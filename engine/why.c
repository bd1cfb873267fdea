/* why: status reasons, followed upstream, with code diffs. */
#include "why.h"

#include "blobs.h"

#define DIFF_LINES 60
#define MAX_HOPS 16

static void add_cause(struct why *w, char *text)
{
    w->causes = xrealloc(w->causes, (w->n + 1) * sizeof *w->causes);
    memset(&w->causes[w->n], 0, sizeof *w->causes);
    w->causes[w->n++].text = text;
}

/* The upstream a reason like "upstream X is stale" is about, to follow to its own
 * causes. Other upstream reasons ("upstream X changed", "upstream X expired 3s ago")
 * already name the root cause. */
static long reason_upstream(const struct flow *f, const struct task *t, const char *reason)
{
    if (strncmp(reason, "upstream ", 9) != 0)
        return -1;
    for (size_t j = 0; j < t->n_deps; j++) {
        const char *name = f->tasks[t->deps[j]].name;
        size_t n = strlen(name);
        if (strncmp(reason + 9, name, n) == 0 && strncmp(reason + 9 + n, " is ", 4) == 0)
            return (long)t->deps[j];
    }
    return -1;
}

/* Which changed code file of task status s a reason like "code P changed" is about. */
static long reason_code(const struct task_status *s, const char *reason)
{
    for (size_t k = 0; s->changed && k < s->changed->paths.n; k++) {
        const char *p = s->changed->paths.v[k];
        size_t n = strlen(p);
        if (strncmp(reason, "code ", 5) == 0 && strncmp(reason + 5, p, n) == 0 &&
            strcmp(reason + 5 + n, " changed") == 0)
            return (long)k;
    }
    return -1;
}

/* Adds the diff of task t's changed code file k (if reason is about one) to c. */
static void add_diff(const struct workspace *ws, const struct task_status *st, size_t t,
                     const char *reason, struct why_cause *c)
{
    long k = c ? reason_code(&st[t], reason) : -1;
    if (k < 0)
        return;
    c->diffs = xrealloc(c->diffs, (c->n_diffs + 1) * sizeof *c->diffs);
    struct why_diff *d = &c->diffs[c->n_diffs++];
    memset(d, 0, sizeof *d);
    d->task = t;
    d->path = xstrdup(st[t].changed->paths.v[k]);
    d->old_blob = xstrdup(st[t].changed->from.v[k]);
    struct err e;
    char *abs = path_join(ws->flow->tasks[t].dir, d->path);
    if (blobs_diff(ws->store, ws->fp, d->path, d->old_blob, NULL, abs, DIFF_LINES, &d->diff,
                   &e))
        d->error = xstrdup(e.msg);
    free(abs);
}

/* Appends the root causes of task d's state to b ("; "-separated), following upstream
 * reasons, and their code diffs to c; names are given relative to the task asked
 * about. */
static void root_causes(const struct workspace *ws, const struct task_status *st, size_t d,
                        const char *via, bool *seen, int hops, struct sb *b,
                        struct why_cause *c)
{
    if (seen[d] || hops > MAX_HOPS)
        return;
    seen[d] = true;
    const struct task *t = &ws->flow->tasks[d];
    for (size_t i = 0; i < st[d].reasons.n; i++) {
        const char *r = st[d].reasons.v[i];
        long up = reason_upstream(ws->flow, t, r);
        if (up >= 0 && st[up].state != ST_CACHED) {
            root_causes(ws, st, (size_t)up, ws->flow->tasks[up].name, seen, hops + 1, b, c);
            continue;
        }
        if (b->len)
            sb_adds(b, "; ");
        if (via)
            sb_addf(b, "%s: ", via);
        sb_adds(b, r);
        add_diff(ws, st, d, r, c);
    }
}

/* Fills out's causes from the statuses st; with diffs, their code diffs too. */
static void explain(const struct workspace *ws, const struct task_status *st, size_t t,
                    bool diffs, struct why *out)
{
    const struct flow *f = ws->flow;
    out->state = st[t].state;
    bool *seen = xcalloc(f->n_tasks, sizeof *seen);
    for (size_t i = 0; i < st[t].reasons.n; i++) {
        const char *r = st[t].reasons.v[i];
        long up = reason_upstream(f, &f->tasks[t], r);
        add_cause(out, NULL);
        struct why_cause *c = &out->causes[out->n - 1];
        if (up < 0 || st[up].state == ST_CACHED) {
            c->text = xstrdup(r);
            add_diff(ws, st, t, r, diffs ? c : NULL);
            continue;
        }
        struct sb roots = {0};
        memset(seen, 0, f->n_tasks * sizeof *seen);
        root_causes(ws, st, (size_t)up, NULL, seen, 0, &roots, diffs ? c : NULL);
        c->text = roots.len ? xasprintf("%s (%s)", r, roots.buf) : xstrdup(r);
        sb_free(&roots);
    }
    free(seen);
}

int why_explain(struct workspace *ws, size_t t, struct why *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct task_status *st;
    if (status_compute(ws, &t, 1, &st, e))
        return -1;
    explain(ws, st, t, true, out);
    status_free(st, ws->flow->n_tasks);
    return 0;
}

char *why_causes_text(const struct workspace *ws, const struct task_status *st, size_t t)
{
    struct why w = {0};
    explain(ws, st, t, false, &w);
    struct sb b = {0};
    for (size_t i = 0; i < w.n; i++) {
        if (i)
            sb_adds(&b, "; ");
        sb_adds(&b, w.causes[i].text);
    }
    why_free(&w);
    return b.len ? sb_take(&b) : NULL;
}

void why_free(struct why *w)
{
    for (size_t i = 0; i < w->n; i++) {
        struct why_cause *c = &w->causes[i];
        for (size_t k = 0; k < c->n_diffs; k++) {
            free(c->diffs[k].path);
            free(c->diffs[k].old_blob);
            free(c->diffs[k].diff);
            free(c->diffs[k].error);
        }
        free(c->diffs);
        free(c->text);
    }
    free(w->causes);
    memset(w, 0, sizeof *w);
}
