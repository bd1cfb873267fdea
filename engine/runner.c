/* runner: the scheduling loop, early cutoff, storing outputs and recording history. */
#include "runner.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobs.h"
#include "cache.h"
#include "execdir.h"
#include "executors.h"
#include "claims.h"
#include "history.h"
#include "publish.h"
#include "status.h"
#include "strmap.h"
#include "testhook.h"
#include "why.h"

extern char **environ;

#define POLL_BATCH 16
#define POLL_MS 200   /* also how quickly a cancel flag set outside poll() is noticed */
#define COMMIT_MS 50  /* at most this long between a change and its commit */
#define SYNC_POLL_MS 2 /* poll interval while outputs wait to become durable */
#define CLAIM_POLL_MS 100 /* how often a task waiting for another run's claim looks again */

struct rnode {
    enum decision decision;
    size_t waiting; /* upstreams still to finish before this task can start */
    char digest[HASH_HEX];
    uint64_t size;
    char shallow[HASH_HEX];
    char *view;
    double started, ended;
    bool running;     /* in its executor's hands (possibly still queued there) */
    bool is_virtual;  /* cut off on a digest whose bytes are gone: run it if needed */
    size_t consumers; /* tasks of this run still to read its output */
    bool holds_inputs; /* virtual: keeps its inputs until no reader can revive it */
    size_t twin; /* keep: none: the next task of the flow with its deep key (a cycle) */
    int slot;         /* job slot while running: picks the reusable log file */
    size_t weight;    /* job slots it holds while running (its cpus on the local executor) */
    uint64_t sync_ticket; /* its cache entries wait until the store reaches this */
    bool unkeyed;         /* made from other inputs than its keys say: no entry at all */
    bool deep_unkeyed;    /* ... or an upstream was: its shallow key alone is true */
    bool claimed;         /* its deep key is claimed by this run (claims.h) */
    int64_t waiting_for;  /* parked: the run computing the same key (0: not parked) */
    double waiting_since; /* when it was first parked for that run */
    char *out_dir;
    int64_t task_run_id;
};

/* Tasks ready to start on one executor, first in first out. */
struct queue {
    size_t *v;
    size_t head, tail, cap;
};

struct run {
    struct workspace *ws;
    const struct flow *f;
    const struct run_opts *o;
    struct executors ex;
    int *ex_of;          /* per task: its executor (index into ex.v), -1 if it does not run */
    struct queue *ready; /* per executor */
    size_t n_queues, n_slots;
    struct plan plan;
    char **causes; /* per task planned to run: its root causes (plan_causes()), or NULL */
    struct rnode *nodes;
    size_t *down_off, *down; /* downstream adjacency (CSR) */
    size_t running;
    int64_t run_id, seq;
    struct run_summary sum;
    struct strv base_env;
    char **slot_logs; /* one log path per job slot: `jobs` slots per executor */
    size_t *unsynced;  /* tasks whose output is stored but not yet durable */
    size_t n_unsynced;
    size_t *offers;    /* tasks entered in this round, to hand the tier once committed */
    size_t n_offers, cap_offers;
    size_t *parked;    /* ready tasks whose key another run (or task) is computing */
    size_t n_parked;
    bool *slot_busy;
    bool cancelling;
    double t0, last_commit;
    struct err *e;
};

const char *decision_name(enum decision d)
{
    static const char *const names[] = {"none",   "ran",       "hit",    "cutoff",
                                        "failed", "cancelled", "blocked"};
    return names[d];
}

/* Why task t runs, in words. */
static const char *cause_text(const struct run *r, size_t t)
{
    struct cache_entry ce;
    switch (r->plan.nodes[t].cause) {
    case CAUSE_FORCED:
        return "forced";
    case CAUSE_NO_ENTRY:
        return "no cache entry for its key";
    case CAUSE_NOT_STORED:
        return cache_missing_reason(
            r->ws->db, cache_get(r->ws->db, r->ws->keys.in[t].deep, &ce) ? ce.digest : "",
            r->f->tasks[t].keep == KEEP_NONE);
    case CAUSE_EXPIRED:
        return "its cached output expired";
    case CAUSE_VOLATILE:
        return "volatile: runs every time";
    case CAUSE_AFTER_VOLATILE:
        return "downstream of a volatile task";
    case CAUSE_DAMAGED:
        return r->plan.nodes[t].damage;
    case CAUSE_UPSTREAM_EXPIRED:
        return "an upstream it was built from expired";
    case CAUSE_UPSTREAM_CHANGED:
        return "an upstream it was built from has new output";
    default:
        return NULL;
    }
}

/* Why task t runs, as recorded. */
static const char *run_reason(const struct run *r, size_t t)
{
    if (r->o->origin)
        return "replay";
    return r->causes && r->causes[t] ? r->causes[t] : cause_text(r, t);
}

/* Why each task the plan runs does: its root causes as `sluice why` words them (the
 * same comparisons with the history), or when it never ran, that it is new. */
static void plan_causes(struct run *r)
{
    r->causes = xcalloc(r->f->n_tasks + 1, sizeof *r->causes);
    size_t first = 0; /* a no-op runs nothing: the flow's status would check every view */
    while (first < r->f->n_tasks && r->plan.nodes[first].action != PLAN_RUN)
        first++;
    if (first == r->f->n_tasks)
        return;
    struct task_status *st = status_of_plan(r->ws, &r->plan);
    for (size_t t = 0; t < r->f->n_tasks; t++) {
        if (r->plan.nodes[t].action != PLAN_RUN)
            continue;
        char *c = why_causes_text(r->ws, st, t);
        if (!c && st[t].state == ST_PENDING)
            c = xstrdup("new: it never ran in this flow");
        r->causes[t] = c ? c : xstrdup(cause_text(r, t));
    }
    status_free(st, r->f->n_tasks);
}

static void set_cause(struct run *r, size_t t, char *cause)
{
    if (r->causes) {
        free(r->causes[t]);
        r->causes[t] = cause;
    } else {
        free(cause);
    }
}

static bool planned_to_run(const struct run *r, size_t t)
{
    return r->plan.nodes[t].action == PLAN_RUN;
}

/* --- events and records ------------------------------------------------------------------- */

static void notify_log(struct run *r, enum run_event_kind kind, size_t task, enum decision d,
                       const char *detail, const char *log_object)
{
    struct run_event ev = {.kind = kind,
                           .t = now_wall(),
                           .task = task,
                           .decision = d,
                           .detail = detail,
                           .log_object = log_object,
                           .progress = &r->sum};
    if (r->run_id && kind != RUN_TICK) {
        static const char *const states[] = {
            [RUN_STARTED] = "started",          [TASK_QUEUED] = "queued",
            [TASK_SUBMITTED] = "submitted",     [TASK_RUNNING] = "running",
            [TASK_UNPUBLISHED] = "publish failed", [RUN_FINISHED] = "finished"};
        const char *state = kind == TASK_DONE ? decision_name(d) : states[kind];
        const char *name = kind == RUN_STARTED || kind == RUN_FINISHED ? NULL
                                                                       : r->f->tasks[task].name;
        history_event(r->ws->db, r->run_id, ++r->seq, ev.t, name, state, detail, NULL);
    }
    if (r->o->observer)
        r->o->observer->notify(r->o->observer->ctx, r->ws, &ev);
}

static void notify(struct run *r, enum run_event_kind kind, size_t task, enum decision d,
                   const char *detail)
{
    notify_log(r, kind, task, d, detail, NULL);
}

static int record(struct run *r, size_t t, enum decision d, const char *reason, bool has_exit,
                  int exit_code, const char *log_object)
{
    const struct task *task = &r->f->tasks[t];
    const struct task_inputs *in = &r->ws->keys.in[t];
    struct rnode *n = &r->nodes[t];
    const char **names = xcalloc(task->n_deps, sizeof *names);
    const char **vars = xcalloc(task->n_deps, sizeof *vars);
    char (*var_buf)[FLOW_VAR_MAX] = xcalloc(task->n_deps + 1, sizeof *var_buf);
    const char **keys = xcalloc(task->n_deps, sizeof *keys);
    const char **digests = xcalloc(task->n_deps, sizeof *digests);
    for (size_t j = 0; j < task->n_deps; j++) {
        size_t up = task->deps[j];
        names[j] = r->f->tasks[up].name;
        vars[j] = flow_dep_var(task, j, r->f, var_buf[j], sizeof var_buf[j]);
        keys[j] = r->ws->keys.in[up].deep;
        digests[j] = r->nodes[up].digest[0] ? r->nodes[up].digest : NULL;
    }
    bool is_hit = d == DEC_HIT;
    char *env = flow_kv_json(task->env, task->n_env);
    char *params = flow_kv_json(task->params, task->n_params);
    char *outputs = NULL;
    if (task->outputs.n) {
        cJSON *a = cJSON_CreateStringArray((const char *const *)task->outputs.v,
                                           (int)task->outputs.n);
        outputs = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
    }
    char *dir = path_relative(r->f->dir, task->dir);
    struct task_run_info tr = {
        .run_id = r->run_id,
        .flow_id = r->ws->flow_id,
        .task = task->name,
        .decision = decision_name(d),
        .reason = reason,
        .cause = r->causes && planned_to_run(r, t) ? r->causes[t] : NULL,
        .deep_key = in->deep,
        .shallow_key = n->shallow[0] ? n->shallow : NULL,
        .source_id = is_hit ? r->plan.nodes[t].hit->task_run_id : 0,
        .command = task->run,
        .dir = dir,
        .env_json = env,
        .params_json = params,
        .outputs_json = outputs,
        .cpus = task->cpus,
        .started = n->started,
        .ended = n->ended,
        .has_exit = has_exit,
        .exit_code = exit_code,
        .output_digest = n->digest[0] ? n->digest : NULL,
        .output_size = n->size,
        .log_object = log_object,
        .code_paths = (const char *const *)task->code.v,
        .code = is_hit ? NULL : in->code,
        .n_code = is_hit ? 0 : in->n_code,
        .files = is_hit ? NULL : in->files,
        .n_files = is_hit ? 0 : in->n_files,
        .up_names = names,
        .up_vars = vars,
        .up_keys = keys,
        .up_digests = digests,
        .n_up = is_hit ? 0 : task->n_deps,
    };
    int rc = history_task_run(r->ws->db, &tr, &n->task_run_id, r->e);
    free(env);
    free(params);
    free(outputs);
    free(dir);
    free(names);
    free(vars);
    free(var_buf);
    free(keys);
    free(digests);
    return rc;
}

/* --- graph bookkeeping --------------------------------------------------------------------- */

static void build_downstream(struct run *r)
{
    size_t n = r->f->n_tasks;
    r->down_off = xcalloc(n + 1, sizeof *r->down_off);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r->f->tasks[i].n_deps; j++)
            r->down_off[r->f->tasks[i].deps[j] + 1]++;
    for (size_t i = 0; i < n; i++)
        r->down_off[i + 1] += r->down_off[i];
    r->down = xcalloc(r->down_off[n] + 1, sizeof *r->down);
    size_t *fill = xcalloc(n, sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r->f->tasks[i].n_deps; j++) {
            size_t d = r->f->tasks[i].deps[j];
            r->down[r->down_off[d] + fill[d]++] = i;
        }
    free(fill);
}

static void push_ready(struct run *r, size_t t)
{
    struct queue *q = &r->ready[r->ex_of[t]];
    xgrow(&q->v, &q->cap, q->tail + 1, sizeof *q->v); /* revivals queue tasks again */
    q->v[q->tail++] = t;
}

static void release_downstream(struct run *r, size_t t)
{
    for (size_t k = r->down_off[t]; k < r->down_off[t + 1]; k++) {
        size_t d = r->down[k];
        if (planned_to_run(r, d) && r->nodes[d].decision == DEC_NONE && r->nodes[d].waiting > 0 &&
            --r->nodes[d].waiting == 0)
            push_ready(r, d);
    }
}

static void count(struct run *r, enum decision d)
{
    switch (d) {
    case DEC_RAN:
        r->sum.ran++;
        break;
    case DEC_HIT:
        r->sum.hit++;
        break;
    case DEC_CUTOFF:
        r->sum.cutoff++;
        break;
    case DEC_FAILED:
        r->sum.failed++;
        break;
    case DEC_CANCELLED:
        r->sum.cancelled++;
        break;
    case DEC_BLOCKED:
        r->sum.blocked++;
        break;
    case DEC_NONE:
        break;
    }
}

/* Marks everything downstream of a failed task that was waiting to run as blocked. */
static int block_downstream(struct run *r, size_t failed)
{
    size_t *stack = xcalloc(r->f->n_tasks, sizeof *stack);
    size_t top = 0;
    stack[top++] = failed;
    char *reason = xasprintf("upstream %s failed", r->f->tasks[failed].name);
    int rc = 0;
    while (top > 0 && rc == 0) {
        size_t t = stack[--top];
        for (size_t k = r->down_off[t]; k < r->down_off[t + 1]; k++) {
            size_t d = r->down[k];
            if (!planned_to_run(r, d) || r->nodes[d].decision != DEC_NONE)
                continue;
            r->nodes[d].decision = DEC_BLOCKED;
            count(r, DEC_BLOCKED);
            rc = record(r, d, DEC_BLOCKED, reason, false, 0, NULL);
            notify(r, TASK_DONE, d, DEC_BLOCKED, reason);
            stack[top++] = d;
        }
    }
    free(reason);
    free(stack);
    return rc;
}

/* --- starting tasks ------------------------------------------------------------------------ */

static void inherit_environment(struct run *r)
{
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "OUT=", 4) == 0 || strncmp(*e, "IN_", 3) == 0 ||
            strncmp(*e, STORE_SCRATCH_VAR, strlen(STORE_SCRATCH_VAR)) == 0)
            continue;
        strv_push(&r->base_env, xstrdup(*e));
    }
}

static const char *upstream_view(struct run *r, size_t up)
{
    struct rnode *n = &r->nodes[up];
    if (!n->digest[0]) { /* never the views directory itself */
        err_set(r->e, "upstream %s has no output yet", r->f->tasks[up].name);
        return NULL;
    }
    if (!n->view)
        n->view = cache_output_view(r->ws->db, r->ws->store, n->digest, r->e);
    return n->view;
}

/* The scratch key of task t's gather directory. Caller frees. */
static char *gather_key(struct run *r, size_t t)
{
    return xasprintf("gather-%s", r->ws->keys.in[t].deep);
}

/* A gather edge ("IN_map/A,0.1"): $IN_map is a directory in the store's scratch space
 * holding one link per instance, to its (read-only) output. */
static int gather_link(struct run *r, size_t t, const char *v, const char *view, char **gather,
                       struct strv *env)
{
    if (!*gather) {
        char *key = gather_key(r, t);
        int rc = store_scratch(r->ws->store, key, gather, r->e);
        free(key);
        if (rc)
            return err_prefix(r->e, "task %s", r->f->tasks[t].name);
    }
    const char *slash = strchr(v, '/');
    char *sub = xasprintf("%s/%.*s", *gather, (int)(slash - v), v);
    int rc = 0;
    if (mkdir(sub, 0755) == 0)
        strv_pushf(env, "%.*s=%s", (int)(slash - v), v, sub);
    else if (errno != EEXIST)
        rc = err_set(r->e, "task %s: %s: %s", r->f->tasks[t].name, sub, strerror(errno));
    char *link = xasprintf("%s/%s", sub, slash + 1);
    if (rc == 0 && symlink(view, link) != 0)
        rc = err_set(r->e, "task %s: %s: %s", r->f->tasks[t].name, link, strerror(errno));
    free(link);
    free(sub);
    return rc;
}

/* Adds a name to a summary's list of them ("a, b, ..."), counting it. */
static void note_name(size_t *count, char *names, size_t size, const char *name)
{
    size_t len = strlen(names);
    if ((*count)++ == 0)
        snprintf(names, size, "%s", name);
    else if (len + strlen(name) + 6 < size)
        snprintf(names + len, size - len, ", %s", name);
    else if (!strstr(names, "..."))
        snprintf(names + len, size - len, ", ...");
}

/* The job slots task t takes while it runs: on the local executor its cpus, at most
 * all `jobs` of them; elsewhere one (a cluster places its cores itself). */
static size_t weight(const struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    if (strcmp(task->executor ? task->executor : "local", "local") != 0 || task->cpus <= 1)
        return 1;
    return (size_t)task->cpus < (size_t)r->o->jobs ? (size_t)task->cpus : (size_t)r->o->jobs;
}

/* Whether executor ex has the job slots task t needs free now. */
static bool fits(const struct run *r, size_t t)
{
    return r->ex.v[r->ex_of[t]].busy + weight(r, t) <= (size_t)r->o->jobs;
}

/* What the command sees as its cpus ({cpus}, $SLUICE_CPUS): the slots it holds
 * locally, what it asked for on another executor. */
static int cpus_given(const struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    int asked = task->cpus > 0 ? task->cpus : 1;
    bool local = strcmp(task->executor ? task->executor : "local", "local") == 0;
    return local ? (int)weight(r, t) : asked;
}

/* The command with {cpus} replaced by the cpus it is given. Caller frees. */
static char *command_for(const struct run *r, size_t t)
{
    char n[16];
    snprintf(n, sizeof n, "%d", cpus_given(r, t));
    struct sb b = {0};
    const char *p = r->f->tasks[t].run, *at;
    while ((at = strstr(p, "{cpus}"))) {
        sb_add(&b, p, (size_t)(at - p));
        sb_adds(&b, n);
        p = at + 6;
    }
    sb_adds(&b, p);
    return sb_take(&b);
}

static int job_env(struct run *r, size_t t, struct strv *env)
{
    const struct task *task = &r->f->tasks[t];
    struct execdir x = {0};
    const char *exe = task->executor ? task->executor : "local";
    const char *stable = getenv("SLUICE_STABLE_PATHS");
    /* A cluster's nodes do not see this host's /tmp. */
    if (stable && strcmp(stable, "1") == 0 && strcmp(exe, "local") == 0)
        execdir_make(&x, r->ws->keys.in[t].deep);
    for (size_t i = 0; i < r->base_env.n; i++) {
        const char *kv = r->base_env.v[i];
        bool overridden = false;
        for (size_t k = 0; k < task->n_env && !overridden; k++) {
            size_t kl = strlen(task->env[k].key);
            overridden = strncmp(kv, task->env[k].key, kl) == 0 && kv[kl] == '=';
        }
        if (!overridden)
            strv_push(env, xstrdup(kv));
    }
    for (size_t k = 0; k < task->n_env; k++)
        strv_pushf(env, "%s=%s", task->env[k].key, task->env[k].value);
    char *out = execdir_link(&x, "out", r->nodes[t].out_dir);
    strv_pushf(env, "OUT=%s", out);
    free(out);
    if (x.dir)
        strv_pushf(env, "%s%s", STORE_SCRATCH_VAR, r->nodes[t].out_dir);
    strv_pushf(env, "SLUICE_CPUS=%d", cpus_given(r, t));
    char *gather = NULL;
    int rc = 0;
    for (size_t j = 0; j < task->n_deps && rc == 0; j++) {
        const char *view = upstream_view(r, task->deps[j]);
        if (!view) {
            rc = err_prefix(r->e, "task %s", task->name);
            break;
        }
        char var[FLOW_VAR_MAX];
        const char *v = flow_dep_var(task, j, r->f, var, sizeof var);
        if (strchr(v, '/')) { /* a gather: its own scratch directory of links */
            rc = gather_link(r, t, v, view, &gather, env);
            continue;
        }
        char *what = xasprintf("in/%s", v + 3);
        char *seen = execdir_link(&x, what, view);
        strv_pushf(env, "%s=%s", v, seen);
        free(seen);
        free(what);
    }
    free(gather);
    execdir_free(&x);
    return rc;
}

static void fill_shallow(struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    const char **digests = xcalloc(task->n_deps, sizeof *digests);
    for (size_t j = 0; j < task->n_deps; j++)
        digests[j] = r->nodes[task->deps[j]].digest;
    keys_shallow(&r->ws->keys, t, digests, r->nodes[t].shallow);
    free(digests);
}

/* Whether the store must keep task t's output (a replay's outputs are only history). */
static bool keeps(const struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    return !r->o->origin && (task->keep == KEEP_ALL || task->publish);
}

/* A task's output now exists in the store: pin it if the task keeps it, publish it. */
static int output_ready(struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    struct rnode *n = &r->nodes[t];
    int rc = cache_use_output(r->ws->db, n->digest, keeps(r, t), r->e);
    if (rc == 0 && r->plan.nodes[t].target && !upstream_view(r, t))
        rc = -1; /* the user reads it: its view is rebuilt if it was altered */
    if (rc == 0 && task->publish) {
        char *where;
        rc = publish_task(r->ws, t, n->digest, r->o->publish_overwrite, &where, r->e);
        if (rc == 0 && where)
            history_event(r->ws->db, r->run_id, ++r->seq, now_wall(), task->name, "published",
                          where, NULL);
        free(where);
        if (rc == 1) { /* the run goes on (the output is stored) but it will fail */
            r->sum.unpublished++;
            notify(r, TASK_UNPUBLISHED, t, DEC_NONE, r->e->msg);
            rc = 0;
        }
    }
    return rc;
}

/* A publishing task the plan never reached (a cached downstream task covers it):
 * its deep key is known, so its entry says which output to keep published. Nothing
 * upstream of it is looked at (below an expiring task, only its upstreams' entries:
 * plan_entry()), and an entry without usable bytes is left alone. */
static int publish_covered(struct run *r, size_t t)
{
    const struct plan_valid *why;
    const struct cache_entry *ce = plan_entry(&r->plan, &r->ws->keys, r->ws->db, t, &why);
    if (!ce || !cache_output_present(r->ws->db, r->ws->store, ce->digest))
        return 0;
    memcpy(r->nodes[t].digest, ce->digest, HASH_HEX);
    return output_ready(r, t);
}

/* A publishing task no demand reached, whose publication is not in place (its path
 * moved, or it was removed) and whose bytes are gone or damaged, is planned to run:
 * publish_covered() can only publish intact bytes that are there. An expired one is
 * left alone, as publish_covered() leaves it. */
static bool usable(struct run *r, const char *digest)
{
    char *damage = NULL;
    bool ok = cache_output_present(r->ws->db, r->ws->store, digest) &&
              cache_output_intact(r->ws->db, r->ws->store, digest, &damage);
    free(damage);
    return ok;
}

static int demand_publications(struct run *r)
{
    for (size_t t = 0; t < r->f->n_tasks; t++) {
        if (!r->f->tasks[t].publish || r->plan.nodes[t].action != PLAN_NONE ||
            !r->ws->keys.in[t].done)
            continue;
        const struct plan_valid *why;
        const struct cache_entry *ce = plan_entry(&r->plan, &r->ws->keys, r->ws->db, t, &why);
        if (ce ? publish_in_place(r->ws, t, ce->digest) || usable(r, ce->digest)
               : why->cause == CAUSE_EXPIRED || why->cause == CAUSE_UPSTREAM_EXPIRED)
            continue;
        if (plan_demand(&r->plan, &r->ws->keys, r->ws->db, r->ws->store, t, r->o->force, r->e))
            return -1;
    }
    return 0;
}

/* Links each ephemeral task to the others with its deep key (two includes of one
 * sub-flow): they share one output. */
static void link_twins(struct run *r)
{
    struct strmap first = {0}; /* deep key -> index of its first task, plus one */
    for (size_t t = 0; t < r->f->n_tasks; t++) {
        r->nodes[t].twin = t;
        const char *deep = r->ws->keys.in[t].deep;
        if (r->f->tasks[t].keep != KEEP_NONE || !deep[0])
            continue;
        uintptr_t h = (uintptr_t)strmap_get(&first, deep);
        if (!h) {
            strmap_put(&first, deep, (void *)(uintptr_t)(t + 1));
            continue;
        }
        r->nodes[t].twin = r->nodes[h - 1].twin; /* into the cycle, after its first */
        r->nodes[h - 1].twin = t;
    }
    strmap_free(&first, NULL);
}

/* Whether another task with t's deep key may still read or hand on the output. */
static bool twin_pending(const struct run *r, size_t t)
{
    for (size_t u = r->nodes[t].twin; u != t; u = r->nodes[u].twin)
        if (r->nodes[u].consumers > 0 || r->plan.nodes[u].target || r->f->tasks[u].publish ||
            (planned_to_run(r, u) && r->nodes[u].decision == DEC_NONE))
            return true;
    return false;
}

/* An ephemeral output goes once every task of the run that reads it is done (that
 * of each task sharing its key too), unless another run is going on: its plan may
 * have found the output and a task of it may read it yet (the last run to read it
 * drops it). */
static int release_inputs(struct run *r, size_t t);

static int release_input(struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    struct rnode *n = &r->nodes[t];
    assert(n->consumers > 0);
    if (--n->consumers == 0 && n->holds_inputs) { /* no reader is left to revive it */
        n->holds_inputs = false;
        if (release_inputs(r, t))
            return -1;
    }
    if (n->consumers > 0 || task->keep != KEEP_NONE || task->publish ||
        r->plan.nodes[t].target || !n->digest[0] || n->is_virtual || twin_pending(r, t) ||
        claims_other_run_live(r->ws->db, r->run_id))
        return 0;
    bool dropped;
    if (cache_drop_output(r->ws->db, r->ws->store, n->digest, &dropped, r->e))
        return -1;
    if (dropped)
        history_event(r->ws->db, r->run_id, ++r->seq, now_wall(), task->name, "dropped",
                      "keep: none", NULL);
    return 0;
}

/* Task t of the plan is done reading its upstreams' outputs. */
static int release_inputs(struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < task->n_deps; j++)
        rc = release_input(r, task->deps[j]);
    return rc;
}

static int complete(struct run *r, size_t t, enum decision d, const char *reason, bool has_exit,
                    int exit_code, const char *log_object)
{
    r->nodes[t].decision = d;
    count(r, d);
    int rc = record(r, t, d, reason, has_exit, exit_code, log_object);
    if (rc == 0 && r->nodes[t].claimed && d != DEC_RAN) { /* a ran task's goes with its entry */
        r->nodes[t].claimed = false;
        rc = claims_release(r->ws->db, r->ws->keys.in[t].deep, r->run_id, r->e);
    }
    notify_log(r, TASK_DONE, t, d, reason, log_object);
    bool has_bytes = d == DEC_RAN || d == DEC_HIT || (d == DEC_CUTOFF && !r->nodes[t].is_virtual);
    if (rc == 0 && has_bytes)
        rc = output_ready(r, t);
    if (d == DEC_RAN || d == DEC_CUTOFF || d == DEC_HIT)
        release_downstream(r, t);
    else if (d == DEC_FAILED && rc == 0)
        rc = block_downstream(r, t);
    /* A virtual cutoff may be revived while a reader of it is to come, and then reads
     * its inputs: an ephemeral input that is a hit could not be computed again. */
    if (rc == 0 && planned_to_run(r, t)) {
        if (d == DEC_CUTOFF && r->nodes[t].is_virtual && r->nodes[t].consumers > 0)
            r->nodes[t].holds_inputs = true;
        else
            rc = release_inputs(r, t);
    }
    return rc;
}

/* created: when the output was made (an alias keeps its original's age, for expire). */
static int put_entry(struct run *r, size_t t, const char *key, const char *kind, double created)
{
    struct rnode *n = &r->nodes[t];
    double expire = r->f->tasks[t].expire;
    struct cache_entry ce = {.size = n->size,
                             .created = created,
                             .expires = expire > 0 ? created + expire : 0,
                             .task_run_id = n->task_run_id};
    memcpy(ce.digest, n->digest, HASH_HEX);
    return cache_put(r->ws->db, key, kind, r->f->tasks[t].name, &ce, r->e);
}

/* Whether an upstream of t was made from other inputs than its deep key says, so
 * that t's deep key (made of theirs) does not describe t's output either. */
static bool upstream_unkeyed(const struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    for (size_t j = 0; j < task->n_deps; j++)
        if (r->nodes[task->deps[j]].unkeyed || r->nodes[task->deps[j]].deep_unkeyed)
            return true;
    return false;
}

/* Task t's deep entry, written in this round, goes to the tier once it is committed
 * (an output the task keeps: `keep: none` leaves nothing to share). */
static void offer(struct run *r, size_t t)
{
    if (!r->o->tier || !keeps(r, t))
        return;
    xgrow(&r->offers, &r->cap_offers, r->n_offers + 1, sizeof *r->offers);
    r->offers[r->n_offers++] = t;
}

/* Early cutoff: the shallow key names an output made from identical inputs. Its
 * bytes may be gone (not kept): then the cutoff is virtual, and a downstream task that
 * does have to run makes this one run first (revive()). */
static int try_cutoff(struct run *r, size_t t, bool *cut)
{
    *cut = false;
    struct rnode *n = &r->nodes[t];
    const struct task *task = &r->f->tasks[t];
    fill_shallow(r, t);
    enum plan_cause cause = r->plan.nodes[t].cause;
    if (cause == CAUSE_FORCED || cause == CAUSE_NOT_STORED || cause == CAUSE_DAMAGED ||
        task->n_deps == 0 || task->is_volatile)
        return 0;
    struct cache_entry ce;
    if (!cache_get(r->ws->db, n->shallow, &ce) || plan_expired(task, &ce, now_wall()))
        return 0;
    bool present = cache_output_present(r->ws->db, r->ws->store, ce.digest);
    char *damage = NULL;
    if (present && !cache_output_intact(r->ws->db, r->ws->store, ce.digest, &damage)) {
        present = false;
        if (cache_discard_output(r->ws->db, r->ws->store, ce.digest, r->e)) {
            free(damage);
            return -1;
        }
    }
    free(damage);
    if (!present && (r->plan.nodes[t].target || task->publish))
        return 0;
    *cut = true;
    n->is_virtual = !present;
    memcpy(n->digest, ce.digest, HASH_HEX);
    n->size = ce.size;
    n->started = n->ended = now_wall();
    if (complete(r, t, DEC_CUTOFF, "upstream outputs unchanged", false, 0, NULL))
        return -1;
    n->deep_unkeyed = upstream_unkeyed(r, t);
    if (n->deep_unkeyed)
        return 0;
    if (put_entry(r, t, r->ws->keys.in[t].deep, "alias", ce.created))
        return -1;
    if (present) /* another machine's plan finds it by the new deep key */
        offer(r, t);
    return 0;
}

/* How many of t's upstreams this run still has to finish. */
static size_t pending_deps(const struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    size_t n = 0;
    for (size_t j = 0; j < task->n_deps; j++)
        n += planned_to_run(r, task->deps[j]) && r->nodes[task->deps[j]].decision == DEC_NONE;
    return n;
}

/* A task of this run whose bytes a downstream task needs and are not in the store (a
 * virtual cutoff, or an output deleted since) runs after all. Its downstream tasks
 * that have not started counted it as done: they wait for it again (a second
 * completion must not release them twice). */
static void revive(struct run *r, size_t t, size_t needed_by)
{
    struct rnode *n = &r->nodes[t];
    for (size_t k = r->down_off[t]; k < r->down_off[t + 1]; k++) {
        size_t d = r->down[k];
        if (planned_to_run(r, d) && r->nodes[d].decision == DEC_NONE && !r->nodes[d].running)
            r->nodes[d].waiting++;
    }
    const struct task *task = &r->f->tasks[t];
    if (n->holds_inputs) /* it completes, and releases them, once more */
        n->holds_inputs = false;
    else
        for (size_t j = 0; j < task->n_deps; j++)
            r->nodes[task->deps[j]].consumers++;
    bool was_virtual = n->is_virtual;
    size_t *counted = n->decision == DEC_RAN ? &r->sum.ran
                      : n->decision == DEC_HIT ? &r->sum.hit
                                               : &r->sum.cutoff;
    assert(*counted > 0);
    (*counted)--;
    n->is_virtual = false;
    n->decision = DEC_NONE;
    n->digest[0] = 0;
    free(n->view);
    n->view = NULL;
    free(n->out_dir); /* a task that ran has one: it gets a fresh $OUT */
    n->out_dir = NULL;
    r->plan.nodes[t].cause = CAUSE_NOT_STORED;
    set_cause(r, t, was_virtual ? xasprintf("not kept: its output was not kept and %s needs it",
                                            r->f->tasks[needed_by].name)
                                : xasprintf("its output left the store and %s needs it",
                                            r->f->tasks[needed_by].name));
    notify(r, TASK_QUEUED, t, DEC_NONE, run_reason(r, t));
    n->waiting = pending_deps(r, t); /* an upstream of it may be revived too */
    if (n->waiting == 0)
        push_ready(r, t);
}

/* Whether task d is done with an output whose bytes are no longer in the store
 * (deleted behind the run's back since it was made or found). */
static bool gone(struct run *r, size_t d)
{
    struct rnode *n = &r->nodes[d];
    enum decision dec = n->decision;
    if (!((dec == DEC_RAN || dec == DEC_HIT || dec == DEC_CUTOFF) && n->digest[0]))
        return false;
    if (!n->view) { /* its first reader: the view is checked (or rebuilt) once, for both */
        struct err e;
        n->view = cache_output_view(r->ws->db, r->ws->store, n->digest, &e);
        return n->view == NULL;
    }
    return !cache_output_present(r->ws->db, r->ws->store, n->digest);
}

/* Revives t's virtually cut-off upstreams; true when t must wait for them, or for
 * upstreams another task revived and that are not done yet (t was queued before);
 * it is queued again when they are. */
static bool needs_revival(struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    for (size_t j = 0; j < task->n_deps; j++) {
        size_t d = task->deps[j];
        if (r->nodes[d].is_virtual || (planned_to_run(r, d) && gone(r, d)))
            revive(r, d, t);
    }
    r->nodes[t].waiting = pending_deps(r, t);
    return r->nodes[t].waiting > 0;
}

/* A free job slot (its index into slot_busy and slot_logs) of executor ex, or -1. */
static int free_slot(struct run *r, int ex)
{
    assert(ex >= 0 && (size_t)ex < r->ex.n);
    for (int i = ex * r->o->jobs; i < (ex + 1) * r->o->jobs; i++)
        if (!r->slot_busy[i])
            return i;
    assert(!"no free job slot: at most `jobs` tasks run on each executor");
    return -1;
}

/* Whether the task's deep key now has a usable entry (another run, or another task
 * of this one, computed it meanwhile); if so, fills its plan node's hit. */
static bool computed_meanwhile(struct run *r, size_t t)
{
    struct plan_node *p = &r->plan.nodes[t];
    const struct task *task = &r->f->tasks[t];
    if (r->o->origin || p->cause == CAUSE_FORCED || p->cause == CAUSE_VOLATILE ||
        p->cause == CAUSE_AFTER_VOLATILE)
        return false;
    struct cache_entry ce, se;
    if (!cache_get(r->ws->db, r->ws->keys.in[t].deep, &ce) || plan_expired(task, &ce, now_wall()) ||
        !cache_output_present(r->ws->db, r->ws->store, ce.digest))
        return false;
    /* Below an expiring task a deep entry may be from other upstream bytes than this
     * run's: only one its shallow key agrees with will do. */
    if (plan_inherits_expiry(&r->plan, t) &&
        (!cache_get(r->ws->db, r->nodes[t].shallow, &se) || strcmp(se.digest, ce.digest) != 0))
        return false;
    if (!p->hit)
        p->hit = xmalloc(sizeof *p->hit);
    *p->hit = ce;
    return true;
}

/* Claims the task's key before it runs: 1 go on, 0 it waits for another run (parked)
 * or reuses what that run computed, -1 error. */
static int claim(struct run *r, size_t t)
{
    struct rnode *n = &r->nodes[t];
    int64_t owner = 0, owner_pid = 0;
    int got = claims_take(r->ws->db, r->ws->keys.in[t].deep, r->f->tasks[t].name, r->run_id,
                          &owner, &owner_pid, r->e);
    if (got < 0)
        return -1;
    if (got == 0) {
        if (n->waiting_for != owner) {
            char *why = owner == r->run_id
                            ? xstrdup("waiting: another task of this run computes the same")
                            : xasprintf("waiting for run %lld (pid %lld), which is computing it",
                                        (long long)owner, (long long)owner_pid);
            notify(r, TASK_QUEUED, t, DEC_NONE, why);
            free(why);
            n->waiting_since = now_wall();
        } else if (r->o->claim_wait > 0 && owner != r->run_id &&
                   now_wall() - n->waiting_since > r->o->claim_wait) {
            char *why = xasprintf("gave up after waiting %.0f s for run %lld (pid %lld), which "
                                  "is still computing it",
                                  now_wall() - n->waiting_since, (long long)owner,
                                  (long long)owner_pid);
            int rc = complete(r, t, DEC_FAILED, why, false, 0, NULL);
            free(why);
            n->waiting_for = 0;
            return rc ? -1 : 0;
        }
        n->waiting_for = owner;
        r->parked[r->n_parked++] = t;
        return 0;
    }
    n->claimed = true;
    int64_t waited_for = n->waiting_for;
    n->waiting_for = 0;
    if (!computed_meanwhile(r, t)) {
        /* What it waited for may have made its shallow key (after a volatile task the
         * deep key alone is never reused): early cutoff, as when it became ready. */
        bool cut = false;
        if (waited_for && try_cutoff(r, t, &cut))
            return -1;
        return cut ? 0 : 1;
    }
    memcpy(n->digest, r->plan.nodes[t].hit->digest, HASH_HEX);
    n->size = r->plan.nodes[t].hit->size;
    n->started = n->ended = now_wall();
    char *why = waited_for && waited_for != r->run_id
                    ? xasprintf("computed meanwhile by run %lld", (long long)waited_for)
                    : xstrdup("computed meanwhile");
    int rc = complete(r, t, DEC_HIT, why, false, 0, NULL);
    free(why);
    return rc ? -1 : 0;
}

/* Where cause c (of "; "-separated causes, each maybe with a parenthesis) has, at
 * the top level, "upstream NAME is WORD": the span of "is WORD", or false. */
static bool upstream_state_span(const char *c, const char *name, size_t *at, size_t *len)
{
    size_t n = strlen(name);
    int depth = 0;
    for (size_t i = 0; c[i]; i++) {
        depth += c[i] == '(' ? 1 : c[i] == ')' ? -1 : 0;
        bool starts = i == 0 || (depth == 0 && i >= 2 && c[i - 2] == ';' && c[i - 1] == ' ');
        if (!starts || strncmp(c + i, "upstream ", 9) != 0 || strncmp(c + i + 9, name, n) != 0 ||
            strncmp(c + i + 9 + n, " is ", 4) != 0)
            continue;
        *at = i + 9 + n + 1;
        *len = 3 + strcspn(c + *at + 3, " ;");
        return true;
    }
    return false;
}

/* Task t runs after all (no early cutoff): an upstream that ran in this run and made
 * other bytes than t last read is named for that ("upstream X output changed (...)"
 * rather than "upstream X is stale (...)"). */
static void note_new_upstream_outputs(struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    if (!r->causes || !r->causes[t] || !strstr(r->causes[t], "upstream ") || !r->ws->flow_id)
        return;
    struct past_inputs p;
    if (history_last_inputs(r->ws->db, r->ws->flow_id, task->name, &p) != 1)
        return;
    for (size_t j = 0; j < task->n_deps; j++) {
        size_t d = task->deps[j];
        const char *name = r->f->tasks[d].name;
        size_t at, len;
        if (r->nodes[d].decision != DEC_RAN ||
            !upstream_state_span(r->causes[t], name, &at, &len))
            continue;
        for (size_t k = 0; k < p.up_names.n && k < p.up_digests.n; k++)
            if (strcmp(p.up_names.v[k], name) == 0 && p.up_digests.v[k][0] &&
                strcmp(p.up_digests.v[k], r->nodes[d].digest) != 0)
                set_cause(r, t, xasprintf("%.*soutput changed%s", (int)at, r->causes[t],
                                          r->causes[t] + at + len));
    }
    past_inputs_free(&p);
}

static int start(struct run *r, size_t t)
{
    struct rnode *n = &r->nodes[t];
    const struct task *task = &r->f->tasks[t];
    if (needs_revival(r, t))
        return 0; /* queued again when they are done */
    for (size_t j = 0; j < task->n_deps; j++) {
        size_t d = task->deps[j];
        if (planned_to_run(r, d) || !gone(r, d))
            continue;
        /* A hit of the plan: its upstreams were never planned, so it cannot run here. */
        char *why = xasprintf("upstream %s's output left the store during the run (run again "
                              "to compute it)", r->f->tasks[d].name);
        int rc = complete(r, t, DEC_FAILED, why, false, 0, NULL);
        free(why);
        return rc;
    }
    int go = claim(r, t);
    if (go <= 0)
        return go;
    note_new_upstream_outputs(r, t);
    if (store_scratch(r->ws->store, r->ws->keys.in[t].deep, &n->out_dir, r->e))
        return err_prefix(r->e, "task %s", task->name);
    struct strv env = {0};
    if (job_env(r, t, &env)) {
        strv_free(&env);
        return -1;
    }
    struct executor *x = &r->ex.v[r->ex_of[t]];
    n->slot = free_slot(r, r->ex_of[t]);
    if (n->slot < 0) { /* never used as an index (even with NDEBUG) */
        strv_free(&env);
        return err_set(r->e, "task %s: executor %s has no free job slot", task->name, x->name);
    }
    char *command = command_for(r, t);
    struct exec_job job = {.id = t,
                           .task = task->name,
                           .command = command,
                           .env = (const char *const *)env.v,
                           .cwd = task->dir,
                           .out_dir = n->out_dir,
                           .log_path = r->slot_logs[n->slot],
                           .options_json = task->exec_options};
    char msg[512];
    n->started = now_wall();
    int rc = x->plugin.ops->submit(x->ctx, &job, msg, sizeof msg);
    strv_free(&env);
    free(command);
    if (rc < 0) {
        n->ended = now_wall();
        char *why = xasprintf("executor %s: %s", x->name, msg);
        rc = complete(r, t, DEC_FAILED, why, false, 0, NULL);
        free(why);
        return rc;
    }
    r->slot_busy[n->slot] = true;
    n->running = true;
    r->running++;
    n->weight = weight(r, t);
    x->busy += n->weight;
    if (task->cpus > r->o->jobs && cpus_given(r, t) < task->cpus)
        note_name(&r->sum.capped, r->sum.capped_names, sizeof r->sum.capped_names, task->name);
    testhook("task-started");
    if (rc == 1) /* running now; otherwise it is queued, and poll() says when it starts */
        notify(r, TASK_RUNNING, t, DEC_NONE, r->slot_logs[n->slot]); /* watchers tail it */
    return 0;
}

/* Parked tasks try again (while their executor has a free job slot): each is
 * started, reuses what the other run made, or stays parked. */
static int unpark(struct run *r)
{
    size_t n = r->n_parked;
    r->n_parked = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t t = r->parked[i];
        if (rc || r->cancelling || !fits(r, t))
            r->parked[r->n_parked++] = t;
        else
            rc = start(r, t);
    }
    return rc;
}

/* Starts what it can on each executor, up to `jobs` tasks each. A cutoff can release
 * tasks of any executor, so it goes round until nothing moves. */
static int schedule(struct run *r)
{
    if (r->n_parked && unpark(r))
        return -1;
    bool moved = true;
    while (moved && !r->cancelling) {
        moved = false;
        for (size_t e = 0; e < r->ex.n && !r->cancelling; e++) {
            struct queue *q = &r->ready[e];
            while (!r->cancelling && r->ex.v[e].busy < (size_t)r->o->jobs && q->head < q->tail) {
                size_t t = q->v[q->head];
                bool cut;
                /* Queued twice (a revival made it wait again, and it was queued again when
                 * that was done): only the entry that finds it waiting for nothing counts. */
                if (r->nodes[t].decision != DEC_NONE || r->nodes[t].running ||
                    r->nodes[t].waiting > 0) {
                    q->head++;
                    moved = true;
                    continue;
                }
                /* A task wanting more slots than are free waits at the head of the queue,
                 * so that tasks of one slot never starve it. */
                if (!fits(r, t))
                    break;
                q->head++;
                moved = true;
                if (try_cutoff(r, t, &cut))
                    return -1;
                if (!cut && start(r, t))
                    return -1;
            }
        }
    }
    return 0;
}

/* --- finishing tasks ----------------------------------------------------------------------- */

/* A task that ran with a key whose entry named other bytes (a forced re-run of a task
 * that is not deterministic, an expired one...): every deep-key entry downstream of
 * it in this flow was made from the old bytes, so it goes, before any of them is
 * used; early cutoff (shallow keys, over output digests) still finds what is the same. */
static int forget_downstream(struct run *r, size_t t)
{
    struct cache_entry old;
    if (r->o->origin || cache_get(r->ws->db, r->ws->keys.in[t].deep, &old) != 1 ||
        strcmp(old.digest, r->nodes[t].digest) == 0)
        return 0;
    size_t n = r->f->n_tasks, top = 0;
    bool *seen = xcalloc(n, sizeof *seen);
    size_t *stack = xcalloc(n + 1, sizeof *stack);
    stack[top++] = t;
    int rc = 0;
    while (top > 0 && rc == 0) {
        size_t u = stack[--top];
        for (size_t k = r->down_off[u]; k < r->down_off[u + 1]; k++) {
            size_t d = r->down[k];
            if (seen[d])
                continue;
            seen[d] = true;
            stack[top++] = d;
            struct err ke;
            if (keys_deep(&r->ws->keys, d, &ke) == 0) /* unkeyable: it has no entry to use */
                rc = cache_forget(r->ws->db, r->ws->keys.in[d].deep, r->e);
        }
    }
    free(seen);
    free(stack);
    return rc;
}

/* The first declared output the task's $OUT lacks, or NULL. */
static const char *missing_output(const struct run *r, size_t t)
{
    const struct task *task = &r->f->tasks[t];
    for (size_t i = 0; i < task->outputs.n; i++) {
        char *p = path_join(r->nodes[t].out_dir, task->outputs.v[i]);
        struct stat st;
        bool there = lstat(p, &st) == 0;
        free(p);
        if (!there)
            return task->outputs.v[i];
    }
    return NULL;
}

static bool dir_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)))
        empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* A task that succeeded with nothing in $OUT is named in the summary's warning. */
static void note_empty(struct run *r, size_t t)
{
    note_name(&r->sum.empty, r->sum.empty_names, sizeof r->sum.empty_names,
              r->f->tasks[t].name);
}

/* A task whose code or files changed while it ran (or since its key was computed) has
 * an output no key describes: it stays uncached and says so. Returns its reason. */
static char *ran_reason(struct run *r, size_t t)
{
    struct rnode *n = &r->nodes[t];
    n->deep_unkeyed = upstream_unkeyed(r, t);
    char *changed = keys_changed_input(&r->ws->keys, t);
    if (!changed)
        return xstrdup(run_reason(r, t));
    n->unkeyed = true;
    note_name(&r->sum.uncached, r->sum.uncached_names, sizeof r->sum.uncached_names,
              r->f->tasks[t].name);
    char *why = xasprintf("%s; %s changed while it ran, so its result is not cached",
                          run_reason(r, t), changed);
    free(changed);
    return why;
}

static int finish(struct run *r, const struct exec_report *res)
{
    size_t t = (size_t)res->id;
    struct rnode *n = &r->nodes[t];
    char *gkey = gather_key(r, t);
    store_scratch_drop(r->ws->store, gkey); /* nothing when it gathers nothing */
    free(gkey);
    execdir_remove(r->ws->keys.in[t].deep);
    n->running = false;
    r->running--;
    r->ex.v[r->ex_of[t]].busy -= n->weight;
    r->slot_busy[n->slot] = false;
    n->ended = now_wall();
    char logd[HASH_HEX];
    store_take_log(r->ws->store, r->slot_logs[n->slot], logd, NULL);
    const char *log = logd[0] ? logd : NULL;
    int rc;
    const char *missing = res->outcome == EXEC_OK ? missing_output(r, t) : NULL;
    if (missing) {
        char *why = xasprintf("declared output %s is missing from $OUT after the command exited 0",
                              missing);
        store_scratch_drop(r->ws->store, r->ws->keys.in[t].deep);
        rc = complete(r, t, DEC_FAILED, why, true, res->exit_code, log);
        free(why);
    } else if (res->outcome == EXEC_OK) {
        struct err ie;
        struct output out;
        if (dir_empty(n->out_dir))
            note_empty(r, t);
        if (store_ingest(r->ws->store, n->out_dir, &out, &ie) != 0) {
            store_scratch_drop(r->ws->store, r->ws->keys.in[t].deep); /* may free the disk */
            char *why = xasprintf("storing its output failed: %s", ie.msg);
            rc = complete(r, t, DEC_FAILED, why, true, res->exit_code, log);
            free(why);
        } else if ((rc = cache_put_output(r->ws->db, &out, keeps(r, t), r->e)) == 0) {
            memcpy(n->digest, out.digest, HASH_HEX);
            n->size = out.size;
            char *why = ran_reason(r, t);
            /* an uncached output leaves the old key's entries downstream true */
            rc = (!n->unkeyed && forget_downstream(r, t)) ||
                 complete(r, t, DEC_RAN, why, true, 0, log);
            free(why);
            n->sync_ticket = 0;
            r->unsynced[r->n_unsynced++] = t; /* entries once durable: enter_durable() */
        }
        output_free(&out);
    } else {
        /* A full disk may also have kept the task from saying why it failed. */
        char *why = store_full(r->ws->store)
                        ? xasprintf("%s; the store's file system is full", res->reason)
                        : xstrdup(res->reason);
        /* Then free what it left, which may be what fills the disk the history needs. */
        store_scratch_drop(r->ws->store, r->ws->keys.in[t].deep);
        enum decision d = res->outcome == EXEC_CANCELLED ? DEC_CANCELLED : DEC_FAILED;
        rc = complete(r, t, d, why, res->exit_code >= 0, res->exit_code, log);
        free(why);
    }
    if (n->decision != DEC_RAN) /* a stored output's $OUT became its view */
        store_scratch_drop(r->ws->store, r->ws->keys.in[t].deep);
    return rc;
}

static int cancel_everything(struct run *r)
{
    r->cancelling = true;
    r->n_parked = 0;
    for (size_t t = 0; t < r->f->n_tasks; t++) {
        if (!r->nodes[t].running)
            continue;
        const struct executor *x = &r->ex.v[r->ex_of[t]];
        x->plugin.ops->cancel(x->ctx, t);
    }
    int rc = 0;
    for (size_t t = 0; t < r->f->n_tasks && rc == 0; t++)
        if (planned_to_run(r, t) && r->nodes[t].decision == DEC_NONE && !r->nodes[t].running)
            rc = complete(r, t, DEC_CANCELLED, "run cancelled before it started", false, 0, NULL);
    return rc;
}

/* --- the run -------------------------------------------------------------------------------- */

/* Enters the cache entries of every stored output that has become durable. */
static int enter_durable(struct run *r)
{
    uint64_t ticket = store_sync_begin(r->ws->store);
    size_t w = 0;
    int rc = 0;
    for (size_t i = 0; i < r->n_unsynced; i++) {
        size_t t = r->unsynced[i];
        struct rnode *n = &r->nodes[t];
        if (!n->sync_ticket)
            n->sync_ticket = ticket;
        int done = rc ? 0 : store_synced(r->ws->store, n->sync_ticket, r->e);
        if (done < 0)
            rc = -1;
        double when = now_wall();
        if (done > 0) {
            bool deep = !n->unkeyed && !n->deep_unkeyed, shallow = !n->unkeyed;
            if (r->o->origin) /* a replay writes no entries, but frees its claims */
                deep = shallow = false;
            rc = (deep && put_entry(r, t, r->ws->keys.in[t].deep, "deep", when)) ||
                 (shallow && put_entry(r, t, n->shallow, "shallow", when));
            if (rc == 0 && deep)
                offer(r, t);
            n->claimed = rc ? n->claimed : false;
            if (rc == 0)
                rc = claims_release(r->ws->db, r->ws->keys.in[t].deep, r->run_id, r->e);
            testhook("entry-put"); /* written, not yet committed */
        } else
            r->unsynced[w++] = t;
    }
    r->n_unsynced = w;
    return rc;
}

/* Hands the tier the entries of a committed round (their outputs are durable): the
 * deep key's, and the shallow key's only where a plan asks the tier for it (a task
 * downstream of an expiring one, plan.h): early cutoff asks only the local cache. */
static void offer_committed(struct run *r)
{
    for (size_t i = 0; i < r->n_offers; i++) {
        size_t t = r->offers[i];
        const char *keys[] = {r->ws->keys.in[t].deep,
                              plan_inherits_expiry(&r->plan, t) ? r->nodes[t].shallow : ""};
        for (size_t j = 0; j < ARRAY_LEN(keys); j++) {
            struct cache_entry ce;
            if (keys[j][0] && cache_get(r->ws->db, keys[j], &ce))
                cache_offer(r->ws->db, r->ws->store, r->o->tier, keys[j], r->f->tasks[t].name,
                            &ce);
        }
    }
    r->n_offers = 0;
}

static int commit_round(struct run *r)
{
    r->last_commit = now_mono();
    if (enter_durable(r)) {
        db_rollback(r->ws->db);
        r->n_offers = 0;
        return -1;
    }
    testhook("history-commit");
    int rc = db_commit(r->ws->db, r->e);
    if (rc == 0)
        offer_committed(r);
    r->n_offers = 0;
    return rc;
}

/* The end of a run: wait for the last outputs to become durable, enter them, commit. */
static int commit_final(struct run *r)
{
    if (store_sync(r->ws->store, r->e)) {
        db_rollback(r->ws->db);
        return -1;
    }
    if (claims_release_run(r->ws->db, r->run_id, r->e)) {
        db_rollback(r->ws->db);
        return -1;
    }
    return commit_round(r);
}

static char *targets_json(const struct run *r)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < r->o->n_targets; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(r->f->tasks[r->o->targets[i]].name));
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

static bool code_dirty(const struct run *r)
{
    for (size_t t = 0; t < r->f->n_tasks; t++) {
        const struct task_inputs *in = &r->ws->keys.in[t];
        for (size_t j = 0; in->done && j < in->n_code; j++)
            if (!in->code[j]->clean)
                return true;
    }
    return false;
}

/* Keeps a copy of uncommitted code a task runs with, so `why` can diff against it
 * and the run can be replayed. */
static int preserve_code(struct run *r, size_t t)
{
    const struct task_inputs *in = &r->ws->keys.in[t];
    for (size_t j = 0; j < in->n_code; j++)
        if (!in->code[j]->clean &&
            blobs_keep(r->ws->store, in->code[j]->abs, in->code[j]->blob, r->e))
            return err_prefix(r->e, "task %s", r->f->tasks[t].name);
    return 0;
}

/* Records the run as going, committed, before it plans: a run that drops an ephemeral
 * output first looks (in its write transaction) for other going runs, so from here on
 * nothing this run's plan finds can be dropped under it. A run that never starts is
 * forgotten again (forget_run()). */
static int announce_run(struct run *r)
{
    struct workspace *ws = r->ws;
    if (db_begin(ws->db, r->e) || history_reap_runs(ws->db, r->e) ||
        history_flow_id(ws->db, ws->flow->abspath, ws->flow->name, true, &ws->flow_id, r->e)) {
        db_rollback(ws->db);
        return -1;
    }
    char *targets = targets_json(r);
    const struct run_origin *origin = r->o->origin;
    struct run_info info = {.flow_id = ws->flow_id,
                            .targets_json = targets,
                            .params_json = r->f->params_json,
                            .git_head = origin ? origin->git_head : fingerprint_head(ws->fp),
                            .git_dirty = origin && origin->git_dirty, /* see begin_run() */
                            .jobs = r->o->jobs,
                            .started = r->t0,
                            .replay_of = origin ? origin->replay_of : 0};
    int rc = history_run_begin(ws->db, &info, &r->run_id, r->e);
    free(targets);
    if (rc == 0)
        rc = db_commit(ws->db, r->e);
    if (rc) {
        db_rollback(ws->db);
        r->run_id = 0;
    }
    return rc;
}

/* A run refused before anything ran leaves no trace in the history. */
static void forget_run(struct run *r)
{
    db_rollback(r->ws->db);
    if (r->run_id && db_begin(r->ws->db, NULL) == 0 &&
        history_run_forget(r->ws->db, r->run_id, NULL) == 0)
        db_commit(r->ws->db, NULL);
    db_rollback(r->ws->db);
    r->run_id = 0;
}

static int begin_run(struct run *r)
{
    struct workspace *ws = r->ws;
    const struct run_origin *origin = r->o->origin;
    int rc = db_begin(ws->db, r->e);
    if (rc == 0 && !origin && code_dirty(r)) /* the plan computed the keys it needed */
        rc = history_run_dirty(ws->db, r->run_id, r->e);
    r->sum.run_id = r->run_id;
    r->sum.jobs = r->o->jobs;
    notify(r, RUN_STARTED, 0, DEC_NONE, NULL);
    for (size_t i = 0; i < r->f->n_tasks && rc == 0; i++) {
        size_t t = r->f->order[i];
        struct plan_node *p = &r->plan.nodes[t];
        if (p->action == PLAN_HIT) {
            memcpy(r->nodes[t].digest, p->hit->digest, HASH_HEX);
            r->nodes[t].size = p->hit->size;
            r->nodes[t].decision = DEC_HIT;
            count(r, DEC_HIT);
            if (p->hit->remote) /* fetched: record its manifest, then its entry */
                rc = cache_adopt(ws->db, r->o->tier, p->hit->digest, p->hit->size, false, r->e);
            if (rc == 0)
                rc = record(r, t, DEC_HIT, p->hit->remote ? HISTORY_FROM_REMOTE : NULL, false, 0,
                            NULL);
            if (rc == 0 && p->hit->remote && !origin)
                rc = put_entry(r, t, ws->keys.in[t].deep, "deep", p->hit->created);
            notify(r, TASK_DONE, t, DEC_HIT, p->hit->remote ? HISTORY_FROM_REMOTE : NULL);
            if (rc == 0)
                rc = output_ready(r, t);
        } else if (p->action == PLAN_RUN) {
            rc = origin ? 0 : preserve_code(r, t);
            if (rc == 0 && p->cause == CAUSE_DAMAGED)
                rc = cache_discard_output(ws->db, ws->store, p->hit->digest, r->e);
            notify(r, TASK_QUEUED, t, DEC_NONE, run_reason(r, t));
        } else if (!origin && r->f->tasks[t].publish && r->ws->keys.in[t].done) {
            rc = publish_covered(r, t);
        }
    }
    return rc;
}

static void seed_ready(struct run *r)
{
    /* Room for each task once, and once more if revived (push_ready() grows it). */
    size_t *count = xcalloc(r->ex.n + 1, sizeof *count);
    for (size_t t = 0; t < r->f->n_tasks; t++)
        if (r->ex_of[t] >= 0)
            count[r->ex_of[t]]++;
    r->ready = xcalloc(r->ex.n + 1, sizeof *r->ready);
    r->n_queues = r->ex.n;
    for (size_t e = 0; e < r->ex.n; e++) {
        r->ready[e].cap = 2 * count[e] + 1;
        r->ready[e].v = xcalloc(r->ready[e].cap, sizeof *r->ready[e].v);
    }
    free(count);
    for (size_t i = 0; i < r->f->n_tasks; i++) {
        size_t t = r->f->order[i];
        if (!planned_to_run(r, t))
            continue;
        const struct task *task = &r->f->tasks[t];
        for (size_t j = 0; j < task->n_deps; j++) {
            r->nodes[task->deps[j]].consumers++;
            if (planned_to_run(r, task->deps[j]))
                r->nodes[t].waiting++;
        }
        if (r->nodes[t].waiting == 0)
            push_ready(r, t);
    }
}

/* What an executor says about a job: queued (with its name there), started, or done. */
static int on_report(struct run *r, const struct exec_report *rep)
{
    size_t t = (size_t)rep->id;
    if (t >= r->f->n_tasks || !r->nodes[t].running)
        return 0; /* not ours, or already over: nothing to do */
    switch (rep->kind) {
    case EXEC_QUEUED:
        notify(r, TASK_SUBMITTED, t, DEC_NONE, rep->handle);
        return 0;
    case EXEC_STARTED:
        r->nodes[t].started = now_wall();
        notify(r, TASK_RUNNING, t, DEC_NONE, r->slot_logs[r->nodes[t].slot]);
        return 0;
    case EXEC_DONE:
        return finish(r, rep);
    }
    return 0;
}

/* Commits when idle, and at most every COMMIT_MS while tasks complete quickly, so
 * watchers and crash recovery see results promptly without a commit per task. While
 * stored outputs wait to become durable, polls are short so their entries follow. */
static int loop(struct run *r)
{
    struct exec_report res[POLL_BATCH];
    bool idle = false;
    for (;;) {
        if (r->o->cancel && *r->o->cancel && !r->cancelling && cancel_everything(r))
            return -1;
        if (schedule(r))
            return -1;
        if (r->running == 0 && r->n_parked == 0)
            return 0;
        /* Only waiting for other runs: commit, so they can, then look again later. */
        bool only_parked = r->running == 0;
        double since = (now_mono() - r->last_commit) * 1000;
        if (db_in_transaction(r->ws->db) && (idle || only_parked || since >= COMMIT_MS) &&
            commit_round(r))
            return -1;
        int wait_ms = r->n_unsynced ? SYNC_POLL_MS
                      : db_in_transaction(r->ws->db) ? COMMIT_MS - (int)since
                      : r->n_parked                  ? CLAIM_POLL_MS
                                                     : POLL_MS;
        int n = 0;
        if (only_parked)
            poll(NULL, 0, wait_ms); /* a signal (cancel) ends it early */
        else
            n = executors_poll(&r->ex, wait_ms < 0 ? 0 : wait_ms, res, POLL_BATCH);
        idle = n <= 0;
        if (idle)
            notify(r, RUN_TICK, 0, DEC_NONE, NULL);
        if (!db_in_transaction(r->ws->db) && db_begin(r->ws->db, r->e))
            return -1;
        for (int i = 0; i < n; i++)
            if (on_report(r, &res[i]))
                return -1;
    }
}

static void free_run(struct run *r)
{
    for (size_t t = 0; r->nodes && t < r->f->n_tasks; t++) {
        free(r->nodes[t].view);
        free(r->nodes[t].out_dir);
    }
    for (size_t i = 0; i < r->n_slots; i++) {
        unlink(r->slot_logs[i]);
        free(r->slot_logs[i]);
    }
    for (size_t e = 0; e < r->n_queues; e++)
        free(r->ready[e].v);
    executors_close(&r->ex);
    free(r->ex_of);
    free(r->slot_logs);
    free(r->slot_busy);
    free(r->unsynced);
    free(r->offers);
    free(r->parked);
    free(r->nodes);
    free(r->down_off);
    free(r->down);
    free(r->ready);
    strv_free(&r->base_env);
    for (size_t t = 0; r->causes && t < r->f->n_tasks; t++)
        free(r->causes[t]);
    free(r->causes);
    plan_free(&r->plan);
}

static const char *final_status(const struct run *r)
{
    if (r->sum.cancelled)
        return "cancelled";
    return r->sum.failed || r->sum.blocked || r->sum.unpublished ? "failed" : "ok";
}

/* After a store or database failure: drop what was not committed, then (if the
 * database lets us) record the run as failed and free its claims for other runs. */
static void abandon(struct run *r)
{
    db_rollback(r->ws->db);
    if (db_begin(r->ws->db, NULL) == 0 && claims_release_run(r->ws->db, r->run_id, NULL) == 0 &&
        history_run_end(r->ws->db, r->run_id, "failed", now_wall(), NULL) == 0)
        db_commit(r->ws->db, NULL);
    db_rollback(r->ws->db);
}

static int execute(struct run *r)
{
    store_clean_logs(r->ws->store); /* under the shared lock runner_run() took */
    build_downstream(r);
    link_twins(r);
    inherit_environment(r);
    seed_ready(r);
    r->n_slots = r->ex.n * (size_t)r->o->jobs;
    r->slot_logs = xcalloc(r->n_slots + 1, sizeof *r->slot_logs);
    r->slot_busy = xcalloc(r->n_slots + 1, sizeof *r->slot_busy);
    r->unsynced = xcalloc(r->f->n_tasks, sizeof *r->unsynced);
    r->parked = xcalloc(r->f->n_tasks, sizeof *r->parked);
    for (size_t i = 0; i < r->n_slots; i++)
        r->slot_logs[i] = store_log_path(r->ws->store, (int)i);
    if (executors_start(&r->ex, r->f, r->e)) {
        forget_run(r); /* nothing ran, nothing to cancel */
        return -1;
    }
    int rc = begin_run(r);
    if (rc == 0)
        rc = loop(r);
    if (rc != 0) {
        cancel_everything(r);
        abandon(r);
    }
    executors_close(&r->ex); /* stops whatever still runs */
    for (size_t t = 0; rc != 0 && t < r->f->n_tasks; t++)
        if (r->nodes[t].running) /* stopped by the close: what they left is of no use */
            store_scratch_drop(r->ws->store, r->ws->keys.in[t].deep);
    r->sum.seconds = now_wall() - r->t0;
    r->sum.status = rc ? "failed" : final_status(r);
    if (rc == 0) {
        rc = history_run_end(r->ws->db, r->run_id, r->sum.status, now_wall(), r->e);
        notify(r, RUN_FINISHED, 0, DEC_NONE, r->sum.status);
        if (rc == 0)
            rc = commit_final(r);
        if (rc != 0)
            abandon(r);
    }
    return rc;
}

/* Loads the executors of the tasks that are to run, and has them check their options. */
static int open_executors(struct run *r)
{
    bool *use = xcalloc(r->f->n_tasks + 1, sizeof *use);
    for (size_t t = 0; t < r->f->n_tasks; t++)
        use[t] = planned_to_run(r, t);
    r->ex_of = xcalloc(r->f->n_tasks + 1, sizeof *r->ex_of);
    int rc = executors_open(&r->ex, r->f, use, r->ex_of, r->e);
    free(use);
    return rc;
}

/* The remote hits whose bytes plan_check_inputs() downloads are "fetching" in the
 * history until their "hit" event (or "queued", when a download fails), so the TUI and
 * `sluice log` can show what is being downloaded. */
static int announce_fetching(struct run *r)
{
    size_t n = 0;
    for (size_t t = 0; t < r->f->n_tasks; t++)
        n += r->plan.nodes[t].action == PLAN_HIT && r->plan.nodes[t].hit->remote;
    if (n == 0)
        return 0;
    int rc = db_begin(r->ws->db, r->e);
    double now = now_wall();
    for (size_t t = 0; t < r->f->n_tasks && rc == 0; t++)
        if (r->plan.nodes[t].action == PLAN_HIT && r->plan.nodes[t].hit->remote)
            rc = history_event(r->ws->db, r->run_id, ++r->seq, now, r->f->tasks[t].name,
                               "fetching", NULL, r->e);
    if (rc == 0)
        return db_commit(r->ws->db, r->e);
    db_rollback(r->ws->db);
    return rc;
}

int runner_run(struct workspace *ws, const struct run_opts *o, struct run_summary *sum,
               struct plan *plan_out, struct err *e)
{
    struct run r = {.ws = ws, .f = ws->flow, .o = o, .t0 = now_wall(), .e = e};
    memset(sum, 0, sizeof *sum);
    /* Shared: other runs may go on at the same time; gc and verify --repair wait for all
     * of them, and a run waits for them. Taken before planning, so that what the plan
     * sees in the store stays there until the run is over. */
    if (!o->dry_run && store_lock(ws->store, false, true, e))
        return -1;
    if (!o->dry_run && announce_run(&r))
        return -1;
    int rc = plan_for_targets(&r.plan, &ws->keys, ws->db, ws->store, o->tier, o->targets,
                              o->n_targets, o->force, e);
    if (rc == 0 && !o->origin && !o->pull)
        rc = demand_publications(&r);
    if (rc == 0 && o->pull) /* what is neither here nor there is not pulled */
        r.sum.missing = plan_drop_runs(&r.plan);
    if (rc == 0)
        rc = publish_check(ws, e); /* refuse before anything runs */
    if (rc == 0 && !o->dry_run && !o->origin) {
        rc = announce_fetching(&r);
        if (rc == 0)
            plan_check_inputs(&r.plan, &ws->keys, ws->db, ws->store, o->targets,
                              o->n_targets, o->force);
    }
    if (rc == 0 && o->pull) /* a target whose remote copy could not be fetched */
        r.sum.missing += plan_drop_runs(&r.plan);
    if (rc == 0 && !o->dry_run && !o->origin)
        plan_causes(&r);
    if (rc == 0 && !o->dry_run)
        testhook("run-planned");
    r.sum.total = r.plan.n_run + r.plan.n_hit;
    if (rc == 0)
        rc = open_executors(&r);
    if (rc == 0 && o->dry_run) {
        *sum = r.sum;
        if (plan_out) {
            *plan_out = r.plan;
            memset(&r.plan, 0, sizeof r.plan);
        }
    } else if (rc == 0) {
        r.nodes = xcalloc(ws->flow->n_tasks, sizeof *r.nodes);
        rc = execute(&r);
        *sum = r.sum;
    } else if (rc != 0) {
        forget_run(&r);
    }
    free_run(&r);
    return rc;
}
