/* status: states from the plan, reasons from the history. */
#include "status.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <string.h>

#include "history.h"
#include "invalidate.h"
#include "plan.h"

const char *state_name(enum node_state s)
{
    static const char *const names[] = {"cached",  "not kept",    "stale",  "pending",
                                        "expired", "invalidated", "failed", "skipped"};
    static_assert(sizeof names / sizeof names[0] == ST_N_STATES, "a name for every state");
    return names[s];
}

enum node_state status_merge(enum node_state a, enum node_state b)
{
    static const enum node_state urgency[] = {ST_FAILED, ST_INVALIDATED, ST_EXPIRED, ST_STALE,
                                              ST_PENDING, ST_SKIPPED, ST_NOT_KEPT, ST_CACHED};
    for (size_t i = 0; i < ARRAY_LEN(urgency); i++)
        if (a == urgency[i] || b == urgency[i])
            return urgency[i];
    return a;
}

static void param_reasons(const struct task *t, const char *past_json, struct strv *reasons)
{
    cJSON *past = cJSON_Parse(past_json);
    for (size_t i = 0; i < t->n_params; i++) {
        const char *name = t->params[i].key, *now = t->params[i].value;
        const cJSON *old = past ? cJSON_GetObjectItemCaseSensitive(past, name) : NULL;
        if (!cJSON_IsString(old))
            strv_pushf(reasons, "param %s added", name);
        else if (strcmp(old->valuestring, now) != 0)
            strv_pushf(reasons, "param %s %s -> %s", name, old->valuestring, now);
    }
    cJSON_Delete(past);
}

/* Compares two sorted (path, id) lists and names what changed; changed paths and
 * their old ids go to changed/from when given. */
static void pair_reasons(const char *what, const struct strv *old_p, const struct strv *old_id,
                         const char *const *new_p, const char *const *new_id, size_t n_new,
                         struct strv *reasons, struct strv *changed, struct strv *from)
{
    size_t i = 0, j = 0;
    while (i < old_p->n || j < n_new) {
        int c = i == old_p->n ? 1 : j == n_new ? -1 : strcmp(old_p->v[i], new_p[j]);
        if (c < 0) {
            strv_pushf(reasons, "%s %s removed", what, old_p->v[i++]);
        } else if (c > 0) {
            strv_pushf(reasons, "%s %s added", what, new_p[j++]);
        } else {
            if (strcmp(old_id->v[i], new_id[j]) != 0) {
                strv_pushf(reasons, "%s %s changed", what, new_p[j]);
                if (changed) {
                    strv_push(changed, xstrdup(new_p[j]));
                    strv_push(from, xstrdup(old_id->v[i]));
                }
            }
            i++;
            j++;
        }
    }
}

/* "file x changed", with the sizes when they differ. */
static void file_reasons(const struct task_inputs *in, const struct past_inputs *p,
                         struct strv *reasons)
{
    for (size_t j = 0; j < in->n_files; j++) {
        const struct file_fp *f = &in->files[j];
        long k = -1;
        for (size_t i = 0; i < p->file_paths.n && k < 0; i++)
            if (strcmp(p->file_paths.v[i], f->path) == 0)
                k = (long)i;
        if (k < 0) {
            strv_pushf(reasons, "file %s added", f->path);
            continue;
        }
        if (strcmp(p->file_digests.v[k], f->digest) == 0)
            continue;
        uint64_t old = strtoull(p->file_sizes.n > (size_t)k ? p->file_sizes.v[k] : "0", NULL, 10);
        char a[32], b[32];
        fmt_size(a, sizeof a, old);
        fmt_size(b, sizeof b, f->size);
        if (old != f->size)
            strv_pushf(reasons, "file %s changed (size %s -> %s)", f->path, a, b);
        else
            strv_pushf(reasons, "file %s changed", f->path);
    }
    for (size_t i = 0; i < p->file_paths.n; i++) {
        bool still = false;
        for (size_t j = 0; j < in->n_files && !still; j++)
            still = strcmp(in->files[j].path, p->file_paths.v[i]) == 0;
        if (!still)
            strv_pushf(reasons, "file %s removed", p->file_paths.v[i]);
    }
}

static void input_reasons(struct workspace *ws, size_t t, const struct past_inputs *p,
                          struct task_status *s)
{
    struct strv *reasons = &s->reasons;
    const struct task *task = &ws->flow->tasks[t];
    const struct task_inputs *in = &ws->keys.in[t];
    size_t before = reasons->n;
    param_reasons(task, p->params_json, reasons);
    bool params_changed = reasons->n > before;
    if (!params_changed && strcmp(p->command, task->run) != 0)
        strv_push(reasons, xstrdup("command changed"));
    const char **paths = xcalloc(in->n_code + in->n_files + 1, sizeof *paths);
    const char **ids = xcalloc(in->n_code + in->n_files + 1, sizeof *ids);
    for (size_t i = 0; i < in->n_code; i++) {
        paths[i] = task->code.v[i];
        ids[i] = in->code[i]->blob;
    }
    struct changed_code changed = {0};
    pair_reasons("code", &p->code_paths, &p->code_blobs, paths, ids, in->n_code, reasons,
                 &changed.paths, &changed.from);
    if (changed.paths.n) {
        s->changed = xmalloc(sizeof *s->changed);
        *s->changed = changed;
    }
    file_reasons(in, p, reasons);
    free(paths);
    free(ids);
    char *env = flow_kv_json(task->env, task->n_env);
    if (!params_changed && strcmp(env, p->env_json[0] ? p->env_json : "{}") != 0)
        strv_push(reasons, xstrdup("env changed"));
    free(env);
}

/* The output digest the task read from upstream `name` in its past run, or "". */
static const char *past_digest(const struct past_inputs *p, const char *name)
{
    for (size_t k = 0; k < p->up_names.n && k < p->up_digests.n; k++)
        if (strcmp(p->up_names.v[k], name) == 0)
            return p->up_digests.v[k];
    return "";
}

/* Each upstream against the entry the task would read from it now (its output
 * digest), not merely its key: an upstream whose key changed but whose output is
 * the one the task last used did not change what the task computes. */
static void upstream_reasons(struct workspace *ws, size_t t, const struct past_inputs *p,
                             const struct task_status *st, struct strv *reasons)
{
    const struct task *task = &ws->flow->tasks[t];
    for (size_t j = 0; j < task->n_deps; j++) {
        size_t d = task->deps[j];
        const char *name = ws->flow->tasks[d].name;
        const char *old = NULL;
        for (size_t k = 0; k < p->up_names.n; k++)
            if (strcmp(p->up_names.v[k], name) == 0)
                old = p->up_keys.v[k];
        bool key_changed = old && strcmp(old, ws->keys.in[d].deep) != 0;
        const char *was = past_digest(p, name);
        const char *now = st[d].entry ? st[d].entry->digest : NULL;
        if (!old)
            strv_pushf(reasons, "upstream %s added", name);
        else if (st[d].state != ST_CACHED && st[d].state != ST_NOT_KEPT)
            strv_pushf(reasons, "upstream %s is %s", name, state_name(st[d].state));
        else if (was[0] && now && strcmp(was, now) == 0) {
            if (key_changed)
                strv_pushf(reasons, "upstream %s has new inputs but the same output", name);
        } else if (key_changed || (was[0] && now))
            strv_pushf(reasons, "upstream %s changed", name);
    }
    for (size_t k = 0; k < p->up_names.n; k++) {
        bool still = false;
        for (size_t j = 0; j < task->n_deps && !still; j++)
            still = strcmp(ws->flow->tasks[task->deps[j]].name, p->up_names.v[k]) == 0;
        if (!still)
            strv_pushf(reasons, "upstream %s removed", p->up_names.v[k]);
    }
}

/* "upstream fetch expired 3s ago", "upstream fetch has new output since this was made". */
static void inherited_reason(struct workspace *ws, const struct plan_node *pn,
                             struct task_status *st, struct task_status *s)
{
    assert(pn->cause_task >= 0);
    const struct task *up = &ws->flow->tasks[pn->cause_task];
    enum node_state up_state = st[pn->cause_task].state; /* upstream: known by now */
    struct cache_entry e;
    s->state = ST_STALE;
    if (pn->cause == CAUSE_UPSTREAM_CHANGED && up_state != ST_CACHED && up_state != ST_NOT_KEPT) {
        strv_pushf(&s->reasons, "upstream %s is %s", up->name, state_name(up_state));
    } else if (pn->cause == CAUSE_UPSTREAM_EXPIRED && cache_get(ws->db, ws->keys.in[pn->cause_task].deep, &e)) {
        char text[96];
        plan_expiry_text(up, &e, now_wall(), text, sizeof text);
        strv_pushf(&s->reasons, "upstream %s %s", up->name, text);
    } else if (pn->cause == CAUSE_UPSTREAM_EXPIRED) {
        strv_pushf(&s->reasons, "upstream %s expired", up->name);
    } else {
        strv_pushf(&s->reasons, "upstream %s has new output since this was made", up->name);
    }
}

/* A task the plan would run: failed, stale (with reasons) or pending. */
static void explain_run(struct workspace *ws, size_t t, const struct plan_node *pn,
                        struct task_status *st)
{
    struct task_status *s = &st[t];
    const struct task *task = &ws->flow->tasks[t];
    struct cache_entry e;
    if (pn->cause == CAUSE_FORCED || pn->cause == CAUSE_DAMAGED) { /* only a run's plan */
        s->state = ST_STALE;
        strv_push(&s->reasons, xstrdup(pn->cause == CAUSE_FORCED ? "forced (--force)"
                                                                  : pn->damage));
        return;
    }
    if (pn->cause == CAUSE_NOT_STORED && cache_get(ws->db, ws->keys.in[t].deep, &e)) {
        s->state = ST_NOT_KEPT; /* its key did not change: only its bytes are gone */
        s->entry = xmalloc(sizeof *s->entry);
        *s->entry = e;
        strv_push(&s->reasons,
                  xstrdup(cache_missing_reason(ws->db, e.digest, task->keep == KEEP_NONE)));
        return;
    }
    if (pn->cause == CAUSE_UPSTREAM_EXPIRED || pn->cause == CAUSE_UPSTREAM_CHANGED) {
        inherited_reason(ws, pn, st, s);
        return;
    }
    if (pn->cause == CAUSE_EXPIRED && cache_get(ws->db, ws->keys.in[t].deep, &e)) {
        char text[96];
        plan_expiry_text(task, &e, now_wall(), text, sizeof text);
        s->state = ST_EXPIRED;
        strv_push(&s->reasons, xstrdup(text));
        return;
    }
    int64_t inv_id;
    double inv_when;
    bool direct;
    if (pn->cause == CAUSE_NO_ENTRY &&
        invalidate_lookup(ws->db, ws->keys.in[t].deep, &inv_id, &inv_when, &direct)) {
        char at[32];
        fmt_time(at, sizeof at, inv_when);
        s->state = ST_INVALIDATED;
        strv_pushf(&s->reasons, "%sinvalidated at %s (id %lld)",
                   direct ? "" : "downstream of a task ", at, (long long)inv_id);
        return;
    }
    char last[16] = "";
    if (ws->flow_id)
        history_last_decision(ws->db, ws->flow_id, task->name, ws->keys.in[t].deep, last);
    if (strcmp(last, "failed") == 0) {
        s->state = ST_FAILED;
        strv_push(&s->reasons, xstrdup("its last run with these inputs failed"));
        return;
    }
    struct past_inputs p;
    if (!ws->flow_id || history_last_inputs(ws->db, ws->flow_id, task->name, &p) != 1) {
        s->state = ST_PENDING;
        return;
    }
    if (pn->cause == CAUSE_NO_ENTRY && strcmp(p.deep_key, ws->keys.in[t].deep) == 0) {
        /* It completed with this very key, and its entry is gone: an upstream gave
         * other bytes since (the entry was dropped for that), or gc took it. */
        upstream_reasons(ws, t, &p, st, &s->reasons);
        s->state = s->reasons.n == 0 && task->expire > 0 ? ST_EXPIRED : ST_STALE;
        if (s->reasons.n == 0)
            strv_push(&s->reasons, xstrdup(task->expire > 0 ? "gc removed its expired entry"
                                                            : "its entry was removed"));
        past_inputs_free(&p);
        return;
    }
    s->state = ST_STALE;
    if (pn->cause == CAUSE_VOLATILE)
        strv_push(&s->reasons, xstrdup("volatile: runs every time"));
    input_reasons(ws, t, &p, s);
    upstream_reasons(ws, t, &p, st, &s->reasons);
    if (s->reasons.n == 0 && pn->cause == CAUSE_AFTER_VOLATILE)
        strv_push(&s->reasons, xstrdup("downstream of a volatile task: runs unless cut off"));
    if (s->reasons.n == 0)
        strv_push(&s->reasons, xstrdup("its key changed (a newer key format)"));
    past_inputs_free(&p);
}

/* A task no demand reaches: its entry, if valid, says whether its bytes are there. */
static void unreached(struct workspace *ws, struct plan *plan, size_t t, struct task_status *s)
{
    const struct plan_valid *why;
    const struct cache_entry *e = plan_entry(plan, &ws->keys, ws->db, t, &why);
    const struct task *task = &ws->flow->tasks[t];
    if (e && cache_output_present(ws->db, ws->store, e->digest)) {
        s->state = ST_CACHED;
    } else if (e) {
        s->state = ST_NOT_KEPT;
        strv_pushf(&s->reasons, "%s; nothing needs it now",
                   cache_missing_reason(ws->db, e->digest, task->keep == KEEP_NONE));
    } else if (why->cause == CAUSE_EXPIRED) {
        char text[96];
        plan_expiry_text(task, why->entry, now_wall(), text, sizeof text);
        s->state = ST_EXPIRED;
        strv_pushf(&s->reasons, "%s; nothing needs it now", text);
        return;
    } else {
        s->state = ST_SKIPPED;
        strv_push(&s->reasons, xstrdup("not needed: everything downstream is cached"));
        return;
    }
    s->entry = xmalloc(sizeof *s->entry);
    *s->entry = *e;
}

#define WATCH_EVERY 512 /* tasks between two calls of a watcher */

/* Tells the watcher (if any) how far `what` got; true when it says stop. */
static bool watched_stop(const struct status_watch *w, const char *what, size_t done,
                         size_t total)
{
    return w && w->step && done % WATCH_EVERY == 0 && w->step(w->ctx, what, done, total);
}

/* NULL when the watcher stopped it. */
static struct task_status *explain_watched(struct workspace *ws, struct plan *plan,
                                           const struct status_watch *w)
{
    const struct flow *f = ws->flow;
    struct task_status *st = xcalloc(f->n_tasks, sizeof *st);
    for (size_t i = 0; i < f->n_tasks; i++) {
        if (watched_stop(w, "looking up results", i, f->n_tasks)) {
            status_free(st, f->n_tasks);
            return NULL;
        }
        size_t t = f->order[i];
        const struct plan_node *pn = &plan->nodes[t];
        struct task_status *s = &st[t];
        if (pn->action == PLAN_HIT) {
            s->state = ST_CACHED;
            s->entry = xmalloc(sizeof *s->entry);
            *s->entry = *pn->hit;
        } else if (pn->action == PLAN_RUN) {
            explain_run(ws, t, pn, st);
        } else if (!ws->keys.in[t].done) { /* a run's plan computes only the keys it needs */
            s->state = ST_SKIPPED;
        } else {
            unreached(ws, plan, t, s);
        }
    }
    return st;
}

static struct task_status *explain_plan(struct workspace *ws, struct plan *plan)
{
    return explain_watched(ws, plan, NULL);
}

static int compute(struct workspace *ws, const size_t *targets, size_t n_targets,
                   const struct status_watch *w, struct task_status **out, struct err *e)
{
    const struct flow *f = ws->flow;
    for (size_t t = 0; t < f->n_tasks; t++) {
        if (watched_stop(w, "computing keys", t, f->n_tasks))
            return err_set(e, "stopped");
        if (keys_deep(&ws->keys, t, e))
            return -1;
    }
    fingerprint_settle(ws->fp); /* every key is known */
    struct plan plan;
    if (plan_for_targets(&plan, &ws->keys, ws->db, ws->store, NULL, targets, n_targets, NULL, e))
        return -1;
    *out = explain_watched(ws, &plan, w);
    plan_free(&plan);
    return *out ? 0 : err_set(e, "stopped");
}

struct task_status *status_of_plan(struct workspace *ws, struct plan *p)
{
    bool opened;
    db_read_begin(ws->db, &opened);
    struct task_status *st = explain_plan(ws, p);
    db_read_end(ws->db, opened);
    return st;
}

int status_compute_watched(struct workspace *ws, const size_t *targets, size_t n_targets,
                           const struct status_watch *w, struct task_status **out,
                           struct err *e)
{
    bool opened; /* one snapshot, one lock, for the thousands of lookups */
    db_read_begin(ws->db, &opened);
    int rc = compute(ws, targets, n_targets, w, out, e);
    db_read_end(ws->db, opened);
    return rc;
}

int status_compute(struct workspace *ws, const size_t *targets, size_t n_targets,
                   struct task_status **out, struct err *e)
{
    return status_compute_watched(ws, targets, n_targets, NULL, out, e);
}

void status_free(struct task_status *st, size_t n)
{
    if (!st)
        return;
    for (size_t i = 0; i < n; i++) {
        strv_free(&st[i].reasons);
        if (st[i].changed) {
            strv_free(&st[i].changed->paths);
            strv_free(&st[i].changed->from);
            free(st[i].changed);
        }
        free(st[i].entry);
    }
    free(st);
}
