/* replay: a past run rebuilt from its records, run in a scratch tree. */
#include "replay.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobs.h"
#include "runs.h"
#include "strmap.h"

/* One task of the rebuilt flow. */
struct node {
    struct task_record rec; /* with its producer's inputs */
    char *name;
    size_t *deps;
    char **vars;
};

struct builder {
    struct db *db;
    int64_t run_id;
    struct node *nodes;
    size_t n, cap;
    struct strmap by_key; /* deep key -> node index + 1 */
    struct strmap names;  /* names in use */
    struct err *e;
};

/* --- the tasks --------------------------------------------------------------------------------- */

/* Adds the task run (taken over) unless a node has its key already; returns its index. */
static size_t add_node(struct builder *b, struct task_record *rec)
{
    uintptr_t have = (uintptr_t)strmap_get(&b->by_key, rec->deep_key);
    if (have) {
        task_record_free(rec);
        return have - 1;
    }
    xgrow(&b->nodes, &b->cap, b->n + 1, sizeof *b->nodes);
    struct node *nd = &b->nodes[b->n];
    memset(nd, 0, sizeof *nd);
    nd->rec = *rec;
    /* Two different computations under one name (one came from another flow sharing
     * the store): tell them apart. */
    nd->name = strmap_get(&b->names, rec->task)
                   ? xasprintf("%s@%.8s", rec->task, rec->deep_key)
                   : xstrdup(rec->task);
    strmap_put(&b->names, nd->name, nd);
    strmap_put(&b->by_key, rec->deep_key, (void *)(uintptr_t)(b->n + 1));
    return b->n++;
}

static int link_upstreams(struct builder *b, size_t i)
{
    size_t n_up = b->nodes[i].rec.up_keys.n;
    size_t *deps = xcalloc(n_up + 1, sizeof *deps);
    char **vars = xcalloc(n_up + 1, sizeof *vars);
    for (size_t j = 0; j < n_up; j++) {
        const struct task_record *r = &b->nodes[i].rec;
        const char *key = r->up_keys.v[j];
        vars[j] = r->up_vars.v[j][0] ? xstrdup(r->up_vars.v[j]) : flow_var_name(r->up_names.v[j]);
        struct task_record up;
        if (strmap_get(&b->by_key, key)) {
            deps[j] = (uintptr_t)strmap_get(&b->by_key, key) - 1;
        } else if (runs_task_by_key(b->db, b->run_id, key, &up)) {
            deps[j] = add_node(b, &up); /* may move b->nodes */
        } else {
            for (size_t k = 0; k <= j; k++)
                free(vars[k]);
            free(vars);
            free(deps);
            return err_set(b->e, "task %s: no recorded run of its upstream %s (key %.12s)",
                           b->nodes[i].name, b->nodes[i].rec.up_names.v[j], key);
        }
    }
    b->nodes[i].deps = deps;
    b->nodes[i].vars = vars;
    return 0;
}

static int collect(struct builder *b, char *const *targets, size_t n_targets)
{
    for (size_t k = 0; k < n_targets; k++) {
        struct task_record rec;
        if (!runs_task_in_run(b->db, b->run_id, targets[k], &rec))
            return err_set(b->e, "run %lld has no task named \"%s\"", (long long)b->run_id,
                           targets[k]);
        add_node(b, &rec);
    }
    for (size_t i = 0; i < b->n; i++) { /* grows as upstreams are found */
        if (!b->nodes[i].rec.command[0])
            return err_set(b->e, "task %s: the inputs of the run that made its output were "
                                 "not recorded",
                           b->nodes[i].name);
        if (link_upstreams(b, i))
            return -1;
    }
    return 0;
}

static void free_nodes(struct builder *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct node *nd = &b->nodes[i];
        for (size_t j = 0; nd->vars && j < nd->rec.up_keys.n; j++)
            free(nd->vars[j]);
        free(nd->vars);
        free(nd->deps);
        free(nd->name);
        task_record_free(&nd->rec);
    }
    free(b->nodes);
    strmap_free(&b->by_key, NULL);
    strmap_free(&b->names, NULL);
}

/* --- the scratch tree --------------------------------------------------------------------------- */

enum need { NEED_DIR = 1, NEED_FILE = 2 };

struct tree {
    const char *src;   /* the mirrored directory: the repository's work tree, or the flow's */
    char *dst;         /* the scratch tree */
    char *store;       /* the store's real path: never mirrored */
    struct strmap need;    /* path relative to src -> enum need */
    struct strmap written; /* code path relative to src -> the blob written there */
    struct err *e;
};

/* Marks rel (relative to the tree's root) and every directory above it. */
static void need(struct tree *t, const char *rel, enum need what)
{
    char *p = xstrdup(rel);
    strmap_put(&t->need, p, (void *)(uintptr_t)what);
    for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
        *slash = 0;
        strmap_put(&t->need, p, (void *)(uintptr_t)NEED_DIR);
    }
    free(p);
}

/* Mirrors src/rel into dst/rel: directories on the way to what is needed are made,
 * everything else is a symlink to the original. */
static int mirror(struct tree *t, const char *rel)
{
    char *from = path_join(t->src, rel), *to = path_join(t->dst, rel);
    int rc = mkdir_p(to, 0755, t->e);
    DIR *d = rc == 0 ? opendir(from) : NULL;
    struct dirent *de;
    while (d && rc == 0 && (de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".git") ||
            !strcmp(name, ".sluice"))
            continue;
        char *sub = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
        char *src = path_join(t->src, sub), *dst = path_join(t->dst, sub);
        uintptr_t what = (uintptr_t)strmap_get(&t->need, sub);
        struct stat st;
        /* A needed directory is made for real even where the original is a symlink to
         * one: writing a code file through the link would write into the work tree. */
        bool is_dir = (what == NEED_DIR ? stat(src, &st) : lstat(src, &st)) == 0 &&
                      S_ISDIR(st.st_mode);
        if (t->store && strcmp(src, t->store) == 0)
            ; /* the store itself */
        else if (what == NEED_DIR && is_dir)
            rc = mirror(t, sub);
        else if (what != NEED_FILE && symlink(src, dst) != 0)
            rc = err_set(t->e, "replay tree: %s: %s", dst, strerror(errno));
        free(sub);
        free(src);
        free(dst);
    }
    if (d)
        closedir(d);
    free(from);
    free(to);
    return rc;
}

/* Whether dir, once symlinks are resolved, lies in the scratch tree. */
static bool inside_tree(const struct tree *t, const char *dir)
{
    char *real = realpath(dir, NULL), *root = realpath(t->dst, NULL);
    size_t n = root ? strlen(root) : 0;
    bool in = real && root && strncmp(real, root, n) == 0 && (real[n] == '/' || !real[n]);
    free(real);
    free(root);
    return in;
}

/* Writes the recorded version of a code file (mode as the work tree's copy has it). Two
 * tasks may share a file, but only in one version: one tree cannot hold two. */
static int write_code(struct tree *t, struct store *st, struct fingerprint *fp, const char *rel,
                      const char *blob, const char *shown)
{
    const char *had = strmap_get(&t->written, rel);
    if (had && strcmp(had, blob) == 0)
        return 0;
    if (had)
        return err_set(t->e, "code %s: the tasks ran with two versions of it (blobs %.12s and "
                             "%.12s); replay them one at a time (sluice replay RUN TASK)",
                       shown, had, blob);
    if ((uintptr_t)strmap_get(&t->need, rel) != NEED_FILE)
        return err_set(t->e, "code %s is also a directory", shown);
    char *data;
    size_t len;
    if (blobs_read(st, fp, blob, shown, &data, &len, t->e))
        return -1;
    char *src = path_join(t->src, rel), *dst = path_join(t->dst, rel);
    char *dir = xstrdup(dst);
    *strrchr(dir, '/') = 0;
    struct stat sb;
    int mode = stat(src, &sb) == 0 && (sb.st_mode & 0111) ? 0755 : 0644;
    int rc = mkdir_p(dir, 0755, t->e);
    if (rc == 0 && !inside_tree(t, dir))
        rc = err_set(t->e, "code %s: %s leads out of the replay tree", shown, dir);
    if (rc == 0)
        rc = file_write_atomic(dst, data, len, mode, t->e);
    if (rc == 0)
        strmap_put(&t->written, rel, xstrdup(blob));
    free(dir);
    free(src);
    free(dst);
    free(data);
    return rc;
}

/* A task's directory relative to the tree's root, or NULL when it is outside. */
static char *tree_rel(const struct tree *t, const char *flow_dir, const char *dir)
{
    char *abs = path_join(flow_dir, dir[0] ? dir : ".");
    char *norm = path_normalize(abs, false);
    char *rel = path_relative(t->src, norm);
    free(abs);
    free(norm);
    if (strcmp(rel, "..") == 0 || strncmp(rel, "../", 3) == 0) {
        free(rel);
        return NULL;
    }
    return rel;
}

/* A task's code path relative to the tree's root, or NULL when it is absolute or
 * leads out of the tree: replay never writes there (a history row may name any path),
 * and the task's command names such a file by its own path anyway. */
static char *code_rel(const char *task_dir, const char *path)
{
    if (path[0] == '/')
        return NULL;
    char *joined = path_join(task_dir, path);
    char *rel = path_normalize(joined, false);
    free(joined);
    if (rel && (rel[0] == '/' || strcmp(rel, "..") == 0 || strncmp(rel, "../", 3) == 0)) {
        free(rel);
        rel = NULL;
    }
    return rel;
}

static int build_tree(struct tree *t, struct builder *b, const char *flow_dir,
                      struct store *st, struct fingerprint *fp)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct task_record *r = &b->nodes[i].rec;
        char *dir = tree_rel(t, flow_dir, r->dir);
        if (!dir)
            return err_set(t->e, "task %s ran in %s, outside %s", b->nodes[i].name, r->dir,
                           t->src);
        if (strcmp(dir, ".") != 0)
            need(t, dir, NEED_DIR);
        for (size_t j = 0; j < r->code_paths.n; j++) {
            char *rel = code_rel(dir, r->code_paths.v[j]);
            if (rel)
                need(t, rel, NEED_FILE);
            free(rel);
        }
        free(dir);
    }
    int rc = mirror(t, "");
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        const struct task_record *r = &b->nodes[i].rec;
        char *dir = tree_rel(t, flow_dir, r->dir);
        char *abs = path_join(t->dst, dir);
        rc = mkdir_p(abs, 0755, t->e);
        for (size_t j = 0; rc == 0 && j < r->code_paths.n; j++) {
            char *rel = code_rel(dir, r->code_paths.v[j]);
            if (rel) /* outside the tree: read as it is now (note_changes() says so) */
                rc = write_code(t, st, fp, rel, r->code_blobs.v[j], r->code_paths.v[j]);
            if (rc)
                err_prefix(t->e, "task %s", b->nodes[i].name);
            free(rel);
        }
        free(abs);
        free(dir);
    }
    return rc;
}

/* --- the flow ------------------------------------------------------------------------------------ */

static struct kv *json_kv(const char *json, size_t *n)
{
    cJSON *o = cJSON_Parse(json);
    *n = (size_t)cJSON_GetArraySize(o);
    struct kv *kv = xcalloc(*n + 1, sizeof *kv);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        char *v = cJSON_IsString(it) ? xstrdup(it->valuestring) : cJSON_PrintUnformatted(it);
        kv[i++] = (struct kv){xstrdup(it->string), v};
    }
    *n = i;
    cJSON_Delete(o);
    return kv;
}

static int build_flow(struct builder *b, const struct flow_spec *base, size_t n_targets,
                      struct flow **out, struct err *e)
{
    struct task_spec *specs = xcalloc(b->n + 1, sizeof *specs);
    struct kv **envs = xcalloc(b->n + 1, sizeof *envs), **params = xcalloc(b->n + 1,
                                                                          sizeof *params);
    size_t *targets = xcalloc(n_targets + 1, sizeof *targets);
    for (size_t i = 0; i < n_targets; i++)
        targets[i] = i; /* the targets were added first */
    for (size_t i = 0; i < b->n; i++) {
        const struct node *nd = &b->nodes[i];
        struct task_spec *sp = &specs[i];
        sp->name = nd->name;
        sp->dir = nd->rec.dir[0] ? nd->rec.dir : ".";
        sp->run = nd->rec.command;
        sp->deps = nd->deps;
        sp->vars = (const char *const *)nd->vars;
        sp->n_deps = nd->rec.up_keys.n;
        sp->code = &nd->rec.code_paths;
        sp->files = &nd->rec.file_paths;
        sp->outputs = &nd->rec.outputs;
        sp->cpus = nd->rec.cpus;
        sp->env = envs[i] = json_kv(nd->rec.env_json, &sp->n_env);
        sp->params = params[i] = json_kv(nd->rec.params_json, &sp->n_params);
    }
    struct flow_spec spec = *base;
    spec.tasks = specs;
    spec.n_tasks = b->n;
    spec.targets = targets;
    spec.n_targets = n_targets;
    int rc = flow_build(&spec, out, e);
    for (size_t i = 0; i < b->n; i++) {
        kv_free(envs[i], specs[i].n_env);
        kv_free(params[i], specs[i].n_params);
    }
    free(envs);
    free(params);
    free(specs);
    free(targets);
    return rc;
}

/* --- preparing ------------------------------------------------------------------------------------ */

struct origin_run {
    char *flow_path, *flow_name;
    struct run_row row;
};

static int load_origin(struct db *db, int64_t run_id, struct origin_run *o, struct err *e)
{
    memset(o, 0, sizeof *o);
    if (!runs_get(db, run_id, &o->row))
        return err_set(e, "there is no run %lld", (long long)run_id);
    sqlite3_stmt *st = db_prepare(db, "SELECT f.path, f.name FROM runs r JOIN flows f ON "
                                      "f.id = r.flow_id WHERE r.id = ?");
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        o->flow_path = xstrdup(db_col_text(st, 0));
        o->flow_name = xstrdup(db_col_text(st, 1));
    }
    db_done(st);
    return o->flow_path ? 0 : err_set(e, "run %lld belongs to no flow", (long long)run_id);
}

static void free_origin(struct origin_run *o)
{
    free(o->flow_path);
    free(o->flow_name);
    run_row_free(&o->row);
}

/* The run's own targets, from its JSON array. */
static void run_targets(const struct origin_run *o, struct strv *out)
{
    cJSON *a = cJSON_Parse(o->row.targets);
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (cJSON_IsString(it))
            strv_push(out, xstrdup(it->valuestring));
    }
    cJSON_Delete(a);
}

/* Notes the `files`, and code files outside the work tree, whose content changed since
 * the run: the replay reads them as they are now. */
static void note_changes(struct replay *rp, const struct builder *b)
{
    const struct flow *f = rp->ws->flow;
    for (size_t i = 0; i < f->n_tasks; i++) {
        const struct task_inputs *in = &rp->ws->keys.in[i];
        const struct task_record *r = &b->nodes[i].rec;
        for (size_t j = 0; j < in->n_code; j++)
            for (size_t k = 0; k < r->code_paths.n; k++)
                if (strcmp(r->code_paths.v[k], f->tasks[i].code.v[j]) == 0 &&
                    strcmp(r->code_blobs.v[k], in->code[j]->blob) != 0)
                    strv_pushf(&rp->notes, "task %s: code %s, outside the work tree, changed "
                                           "since run %lld: the replay reads it as it is now",
                               f->tasks[i].name, r->code_paths.v[k], (long long)rp->of);
        for (size_t j = 0; j < in->n_files; j++) {
            for (size_t k = 0; k < r->file_paths.n; k++)
                if (strcmp(r->file_paths.v[k], in->files[j].path) == 0 &&
                    strcmp(r->file_digests.v[k], in->files[j].digest) != 0)
                    strv_pushf(&rp->notes, "task %s: file %s changed since run %lld: the "
                                           "replay reads it as it is now",
                               f->tasks[i].name, in->files[j].path, (long long)rp->of);
        }
    }
}

static int prepare(struct replay *rp, const struct records *rec, struct builder *b,
                   const struct origin_run *o, struct strv *targets, struct err *e)
{
    char *flow_dir = xstrdup(o->flow_path);
    *strrchr(flow_dir, '/') = 0;
    struct fingerprint *fp;
    fingerprint_open(flow_dir[0] ? flow_dir : "/", NULL, &fp, e);
    struct tree t = {.e = e};
    int rc = collect(b, targets->v, targets->n);
    struct stat st;
    if (rc == 0 && stat(flow_dir, &st) != 0)
        rc = err_set(e, "the flow's directory %s is gone", flow_dir);
    if (rc == 0) {
        /* The tree mirrors the repository's work tree (sub-flows and shared code may sit
         * anywhere in it), or outside git the flow's directory. */
        char *wd = xstrdup(fingerprint_in_git(fp) ? fingerprint_workdir(fp) : flow_dir);
        size_t wl = strlen(wd);
        if (wl > 1 && wd[wl - 1] == '/')
            wd[wl - 1] = 0;
        t.src = wd;
        char *tmp = store_dir(rec->store, "tmp");
        rp->scratch = xasprintf("%s/replay-%lld-%ld", tmp, (long long)rp->of, (long)getpid());
        free(tmp);
        remove_tree(rp->scratch, NULL);
        t.dst = xstrdup(rp->scratch);
        t.store = realpath(store_root(rec->store), NULL);
        rc = build_tree(&t, b, flow_dir, rec->store, fp);
        char *rel = path_relative(t.src, flow_dir);
        char *scratch_flow = path_join(rp->scratch, rel);
        struct flow_spec base = {.path = o->flow_path,
                                 .dir = scratch_flow,
                                 .name = o->flow_name,
                                 .params_json = o->row.params};
        struct flow *f = NULL;
        if (rc == 0)
            rc = build_flow(b, &base, targets->n, &f, e);
        if (rc == 0)
            rc = workspace_attach(f, store_root(rec->store), &rp->ws, e);
        free(scratch_flow);
        free(rel);
        free(wd);
        free(t.dst);
        free(t.store);
    }
    strmap_free(&t.need, NULL);
    strmap_free(&t.written, free);
    fingerprint_close(fp);
    free(flow_dir);
    return rc;
}

/* Computes every rebuilt task's key (fingerprinting the scratch tree) and keeps the
 * digests the run recorded. */
static int check_inputs(struct replay *rp, const struct builder *b, struct err *e)
{
    size_t n = rp->ws->flow->n_tasks;
    rp->recorded = xcalloc(n + 1, sizeof *rp->recorded);
    rp->recorded_size = xcalloc(n + 1, sizeof *rp->recorded_size);
    for (size_t i = 0; i < n; i++) {
        snprintf(rp->recorded[i], HASH_HEX, "%s", b->nodes[i].rec.output_digest);
        rp->recorded_size[i] = b->nodes[i].rec.output_size;
        if (keys_deep(&rp->ws->keys, i, e))
            return -1;
    }
    note_changes(rp, b);
    return 0;
}

int replay_prepare(const struct records *rec, int64_t run_id, char *const *targets,
                   size_t n_targets, struct replay **out, struct err *e)
{
    *out = NULL;
    struct replay *rp = xcalloc(1, sizeof *rp);
    rp->of = run_id;
    struct origin_run o;
    struct builder b = {.db = rec->db, .run_id = run_id, .e = e};
    struct strv names = {0};
    int rc = load_origin(rec->db, run_id, &o, e);
    if (rc == 0) {
        snprintf(rp->git_head, sizeof rp->git_head, "%s", o.row.git_head);
        rp->git_dirty = o.row.git_dirty;
        for (size_t i = 0; i < n_targets; i++)
            strv_push(&names, xstrdup(targets[i]));
        if (!n_targets)
            run_targets(&o, &names);
        rc = prepare(rp, rec, &b, &o, &names, e);
    }
    if (rc == 0)
        rc = check_inputs(rp, &b, e);
    free_nodes(&b);
    strv_free(&names);
    free_origin(&o);
    if (rc) {
        err_prefix(e, "cannot replay run %lld", (long long)run_id);
        replay_free(rp);
        return -1;
    }
    *out = rp;
    return 0;
}

/* --- running and comparing ------------------------------------------------------------------------ */

int replay_run(struct replay *rp, const struct run_opts *o, struct run_summary *sum,
               struct err *e)
{
    const struct flow *f = rp->ws->flow;
    bool *force = xcalloc(f->n_tasks + 1, sizeof *force);
    for (size_t i = 0; i < f->n_tasks; i++)
        force[i] = true;
    struct run_origin origin = {rp->of, rp->git_head[0] ? rp->git_head : NULL, rp->git_dirty};
    struct run_opts ro = *o;
    ro.targets = f->targets;
    ro.n_targets = f->n_targets;
    ro.force = force;
    ro.dry_run = false;
    ro.origin = &origin;
    int rc = runner_run(rp->ws, &ro, sum, NULL, e);
    free(force);
    return rc;
}

size_t replay_compare(struct replay *rp, int64_t new_run, struct replay_check **out)
{
    const struct flow *f = rp->ws->flow;
    struct task_record *recs;
    size_t n = runs_tasks(rp->ws->db, new_run, &recs);
    struct strmap by_name = {0};
    for (size_t i = 0; i < n; i++)
        strmap_put(&by_name, recs[i].task, &recs[i]);
    *out = xcalloc(f->n_tasks + 1, sizeof **out);
    for (size_t k = 0; k < f->n_tasks; k++) {
        size_t i = f->order[k];
        struct replay_check *c = &(*out)[k];
        const struct task_record *r = strmap_get(&by_name, f->tasks[i].name);
        c->task = f->tasks[i].name;
        c->recorded = rp->recorded[i];
        c->recorded_size = rp->recorded_size[i];
        c->verdict = REPLAY_NOT_RUN;
        if (r && r->output_digest[0] && strcmp(r->decision, "ran") == 0) {
            snprintf(c->now, sizeof c->now, "%s", r->output_digest);
            c->now_size = r->output_size;
            c->verdict = strcmp(c->now, c->recorded) == 0 ? REPLAY_IDENTICAL : REPLAY_DIFFERS;
        }
    }
    strmap_free(&by_name, NULL);
    task_records_free(recs, n);
    return f->n_tasks;
}

void replay_free(struct replay *rp)
{
    if (!rp)
        return;
    workspace_close(rp->ws);
    if (rp->scratch)
        remove_tree(rp->scratch, NULL);
    free(rp->scratch);
    strv_free(&rp->notes);
    free(rp->recorded);
    free(rp->recorded_size);
    free(rp);
}
