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

/* The upstream a reason like "upstream X is stale" or "upstream X changed" is about. */
static long reason_upstream(const struct flow *f, const struct task *t, const char *reason)
{
    if (strncmp(reason, "upstream ", 9) != 0)
        return -1;
    for (size_t j = 0; j < t->n_deps; j++) {
        const char *name = f->tasks[t->deps[j]].name;
        size_t n = strlen(name);
        if (strncmp(reason + 9, name, n) == 0 && reason[9 + n] == ' ')
            return (long)t->deps[j];
    }
    return -1;
}

/* Appends the root causes of task d's state to b ("; "-separated), following upstream
 * reasons; names are given relative to the task asked about. */
static void root_causes(const struct workspace *ws, const struct task_status *st, size_t d,
                        const char *via, bool *seen, int hops, struct sb *b)
{
    if (seen[d] || hops > MAX_HOPS)
        return;
    seen[d] = true;
    const struct task *t = &ws->flow->tasks[d];
    for (size_t i = 0; i < st[d].reasons.n; i++) {
        const char *r = st[d].reasons.v[i];
        long up = reason_upstream(ws->flow, t, r);
        if (up >= 0 && st[up].state != ST_CACHED) {
            root_causes(ws, st, (size_t)up, ws->flow->tasks[up].name, seen, hops + 1, b);
            continue;
        }
        if (b->len)
            sb_adds(b, "; ");
        if (via)
            sb_addf(b, "%s: ", via);
        sb_adds(b, r);
    }
}

static void add_diffs(struct workspace *ws, size_t t, const struct task_status *s, struct why *w)
{
    const struct task *task = &ws->flow->tasks[t];
    for (size_t i = 0; i < w->n && s->changed; i++) {
        struct why_cause *c = &w->causes[i];
        for (size_t k = 0; k < s->changed->paths.n; k++) {
            char *want = xasprintf("code %s changed", s->changed->paths.v[k]);
            bool match = strcmp(c->text, want) == 0;
            free(want);
            if (!match)
                continue;
            c->path = xstrdup(s->changed->paths.v[k]);
            c->old_blob = xstrdup(s->changed->from.v[k]);
            struct err e;
            char *abs = path_join(task->dir, c->path);
            if (blobs_diff(ws->store, ws->fp, c->path, c->old_blob, NULL, abs, DIFF_LINES,
                           &c->diff, &e))
                c->diff_error = xstrdup(e.msg);
            free(abs);
        }
    }
}

int why_explain(struct workspace *ws, size_t t, struct why *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct task_status *st;
    if (status_compute(ws, &t, 1, &st, e))
        return -1;
    const struct flow *f = ws->flow;
    out->state = st[t].state;
    bool *seen = xcalloc(f->n_tasks, sizeof *seen);
    for (size_t i = 0; i < st[t].reasons.n; i++) {
        const char *r = st[t].reasons.v[i];
        long up = reason_upstream(f, &f->tasks[t], r);
        if (up < 0 || st[up].state == ST_CACHED) {
            add_cause(out, xstrdup(r));
            continue;
        }
        struct sb roots = {0};
        memset(seen, 0, f->n_tasks * sizeof *seen);
        root_causes(ws, st, (size_t)up, NULL, seen, 0, &roots);
        add_cause(out, roots.len ? xasprintf("%s (%s)", r, roots.buf) : xstrdup(r));
        sb_free(&roots);
    }
    free(seen);
    add_diffs(ws, t, &st[t], out);
    status_free(st, f->n_tasks);
    return 0;
}

void why_free(struct why *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->causes[i].text);
        free(w->causes[i].path);
        free(w->causes[i].old_blob);
        free(w->causes[i].diff);
        free(w->causes[i].diff_error);
    }
    free(w->causes);
    memset(w, 0, sizeof *w);
}
