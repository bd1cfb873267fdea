/* flow: building the DAG from flow files: scopes, sub-flows, substitution, graph. */
#include "flow.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matrix.h"
#include "pathset.h"
#include "template.h"

#define MAX_DEPTH 32 /* sub-flows nested deeper than this are surely a mistake */

struct loader {
    struct flow *f;
    struct err *e;
    struct strv stack; /* absolute paths of the flow files being included */
    size_t cap_tasks, cap_groups;
    const char *text; /* the top flow file's content when given (else it is read) */
    size_t len;
    bool allow_empty; /* the top flow may have no tasks */
};

/* The absolute path of a flow file; one given as text need not exist yet, only its
 * directory. Caller frees; NULL with errno set. */
static char *flow_abspath(const char *path, bool may_be_missing)
{
    char *abs = realpath(path, NULL);
    if (abs || !may_be_missing || errno != ENOENT)
        return abs;
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash)
        slash[slash == dir] = 0;
    char *absdir = realpath(slash ? dir : ".", NULL);
    char *out = absdir && base[0] ? xasprintf("%s/%s", strcmp(absdir, "/") ? absdir : "", base)
                                  : NULL;
    free(absdir);
    free(dir);
    if (!out)
        errno = ENOENT;
    return out;
}

/* One flow file being loaded. */
struct scope {
    struct rawflow *rf;
    const char *path; /* for messages: as given, or relative to the top flow's directory */
    const char *dir, *flow_name, *publish_root;
    const char *prefix; /* "" or "prep/" */
    int group;
    bool pushed;        /* its path is on the loader's include stack */
    cJSON *params;      /* effective, typed */
    struct kv *subst;   /* the same as substitution text */
    size_t n_subst;
    long *index; /* per raw task: its task index (a sub-flow node: the node's output) */
    int *group_of; /* per raw task: its group when it is a sub-flow node, or NULL */
    const char *executor; /* its tasks' default executor */
    cJSON *exec_defaults; /* executor name -> default options, the including flows' merged in */
};

static const char *intern(struct flow *f, const char *s)
{
    const char *k = strmap_key(&f->strings, s);
    if (k)
        return k;
    strmap_put(&f->strings, s, NULL);
    return strmap_key(&f->strings, s);
}

static const char *intern_free(struct flow *f, char *s)
{
    const char *k = intern(f, s);
    free(s);
    return k;
}

/* "IN_" and name, with every byte but [A-Za-z0-9_] as '_'. */
/* "IN_<name>" with every byte but [A-Za-z0-9_] as '_', cut to fit in n bytes. */
static void in_var_into(const char *name, char *buf, size_t n)
{
    size_t at = 0;
    for (const char *c = "IN_"; *c && at + 1 < n; c++)
        buf[at++] = *c;
    for (const char *c = name; *c && at + 1 < n; c++)
        buf[at++] = isalnum((unsigned char)*c) || *c == '_' ? *c : '_';
    if (n)
        buf[at] = 0;
}

static char *in_var(const char *name)
{
    size_t n = strlen(name) + 4;
    char *v = xmalloc(n);
    in_var_into(name, v, n);
    return v;
}

const char *flow_dep_var(const struct task *t, size_t j, const struct flow *f, char *buf,
                         size_t n)
{
    if (t->dep_vars && t->dep_vars[j])
        return t->dep_vars[j];
    in_var_into(f->tasks[t->deps[j]].local, buf, n); /* once per edge and key: no malloc */
    return buf;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two upstreams whose names map to the same IN_ variable cannot be told apart. */
static int check_vars(struct loader *L, const struct scope *s, const struct rawtask *rt)
{
    size_t n = rt->after.n;
    char **vars = xcalloc(n + 1, sizeof *vars);
    for (size_t k = 0; k < n; k++) {
        const char *chosen = k < rt->after_vars.n ? rt->after_vars.v[k] : "";
        char *v = chosen[0] ? xstrdup(chosen) : in_var(rt->after.v[k]);
        vars[k] = xstrcat3(v, "\t", rt->after.v[k]);
        free(v);
    }
    sort_array(vars, n, sizeof *vars, cmp_str_ptr);
    int rc = 0;
    for (size_t k = 1; k < n && rc == 0; k++) {
        size_t la = strcspn(vars[k - 1], "\t"), lb = strcspn(vars[k], "\t");
        if (la == lb && strncmp(vars[k - 1], vars[k], la) == 0)
            rc = err_set(L->e, "%s: task %s: %s and %s would both be passed as %.*s", s->path,
                         rt->name, vars[k - 1] + la + 1, vars[k] + lb + 1, (int)la, vars[k]);
    }
    for (size_t k = 0; k < n; k++)
        free(vars[k]);
    free(vars);
    return rc;
}

/* --- parameters ----------------------------------------------------------------------------- */

/* `name=value`: the value as flowfile_param_value() takes it (a list's:
 * flowfile_list_value()). */
static int apply_override(struct loader *L, const struct scope *s, const char *ov)
{
    const char *eq = strchr(ov, '=');
    if (!eq || eq == ov)
        return err_set(L->e, "parameter override \"%s\" must look like name=value", ov);
    char *name = xstrndup(ov, (size_t)(eq - ov));
    if (!cJSON_GetObjectItemCaseSensitive(s->params, name)) {
        struct sb known = {0};
        const cJSON *it;
        cJSON_ArrayForEach(it, s->params)
        {
            sb_addf(&known, "%s%s", known.len ? ", " : "", it->string);
        }
        err_set(L->e, "%s: no parameter named %s (it has: %s)", s->path, name,
                known.len ? known.buf : "none");
        sb_free(&known);
        free(name);
        return -1;
    }
    cJSON *v = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(s->params, name))
                   ? flowfile_list_value(eq + 1)
                   : flowfile_param_value(eq + 1);
    if (!v) {
        err_set(L->e, "parameter %s is a list: give it as A,B,C, [A, B, C] or a JSON list of scalars",
                name);
        free(name);
        return -1;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(s->params, name, v);
    free(name);
    return 0;
}

static int scope_params(struct loader *L, struct scope *s, const struct strv *overrides)
{
    s->params = s->rf->params;
    s->rf->params = NULL;
    for (size_t i = 0; overrides && i < overrides->n; i++)
        if (apply_override(L, s, overrides->v[i]))
            return -1;
    s->subst = xcalloc((size_t)cJSON_GetArraySize(s->params) + 1, sizeof *s->subst);
    const cJSON *it;
    cJSON_ArrayForEach(it, s->params)
    {
        s->subst[s->n_subst].key = xstrdup(it->string);
        /* A list's text is never substituted: matrix.c refuses {params.LIST}. */
        s->subst[s->n_subst++].value =
            cJSON_IsArray(it) ? cJSON_PrintUnformatted(it) : flowfile_scalar_text(it);
        assert(s->subst[s->n_subst - 1].value); /* flowfile.c let only scalars and lists in */
    }
    return 0;
}

static void template_base(const struct scope *s, struct template_vars *v, const char **names,
                          const char **values)
{
    for (size_t i = 0; i < s->n_subst; i++) {
        names[i] = s->subst[i].key;
        values[i] = s->subst[i].value;
    }
    *v = (struct template_vars){.param_names = names,
                                .param_values = values,
                                .n_params = s->n_subst,
                                .flow = s->flow_name};
}

/* --- code globs -------------------------------------------------------------------------------- */

/* An `outputs` path: relative, staying under $OUT; normalised in place. */
static int check_output(struct loader *L, const struct scope *s, const struct task *t,
                        char **path)
{
    char *norm = (*path)[0] == '/' ? NULL : path_normalize(*path, false);
    if (!norm || !norm[0] || strcmp(norm, ".") == 0) {
        free(norm);
        return err_set(L->e, "%s: task %s: outputs path %s must be a path under $OUT (relative, "
                             "without ..)",
                       s->path, t->local, *path);
    }
    free(*path);
    *path = norm;
    return 0;
}

/* Adds the files matching one code pattern (relative to the task's dir) to out. */
static int expand_code(struct loader *L, const struct scope *s, const struct task *t,
                       const char *pattern, struct strv *out)
{
    const char *dir = t->dir;
    size_t before = out->n;
    const char *stars = strstr(pattern, "**");
    if (stars && stars == pattern)
        return err_set(L->e, "%s: task %s: code pattern %s: ** is not supported (name a "
                             "directory to take every file below it)",
                       s->path, t->local, pattern);
    if (stars)
        return err_set(L->e, "%s: task %s: code pattern %s: ** is not supported (name the "
                             "directory, %.*s, to take every file below it)",
                       s->path, t->local, pattern, (int)(stars - pattern), pattern);
    if (pathset_is_glob(pattern)) {
        pathset_glob(dir, pattern, out);
    } else {
        char *abs = path_join(dir, pattern);
        struct stat st;
        int rc = stat(abs, &st);
        free(abs);
        if (rc != 0)
            return err_set(L->e, "%s: task %s: code file %s: %s", s->path, t->local, pattern,
                           strerror(errno));
        if (S_ISDIR(st.st_mode))
            pathset_dir_files(dir, pattern, out);
        else if (S_ISREG(st.st_mode))
            strv_push(out, xstrdup(pattern));
        else /* /dev/zero or a FIFO would never end hashing */
            return err_set(L->e, "%s: task %s: code file %s: not a regular file", s->path,
                           t->local, pattern);
    }
    if (out->n == before)
        return err_set(L->e, "%s: task %s: code pattern %s matches no file", s->path, t->local,
                       pattern);
    for (size_t i = before; i < out->n; i++) {
        char *norm = path_normalize(out->v[i], true);
        free(out->v[i]);
        out->v[i] = norm;
    }
    return 0;
}

static void strv_uniq(struct strv *s)
{
    strv_sort(s);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (w > 0 && strcmp(s->v[w - 1], s->v[i]) == 0)
            free(s->v[i]);
        else
            s->v[w++] = s->v[i];
    }
    s->n = w;
    if (s->v)
        s->v[w] = NULL;
}

/* --- tasks ------------------------------------------------------------------------------------ */

static int expand_field(struct loader *L, const struct scope *s, const struct task *t,
                        const struct template_vars *v, const char *field, char **text)
{
    char *out;
    if (template_expand(*text, v, &out, L->e))
        return err_prefix(L->e, "%s: task %s: %s", s->path, t->local, field);
    free(*text);
    *text = out;
    return 0;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

/* Which parameters (with their values) a raw task's fields refer to. */
static void used_params(const struct scope *s, const struct rawtask *rt, struct task *t)
{
    struct strv names = {0};
    if (rt->run)
        template_params(rt->run, &names);
    for (size_t i = 0; i < rt->code.n; i++)
        template_params(rt->code.v[i], &names);
    for (size_t i = 0; i < rt->files.n; i++)
        template_params(rt->files.v[i], &names);
    for (size_t i = 0; i < rt->outputs.n; i++)
        template_params(rt->outputs.v[i], &names);
    for (size_t i = 0; i < rt->n_env; i++)
        template_params(rt->env[i].value, &names);
    if (rt->publish)
        template_params(rt->publish, &names);
    strv_sort(&names);
    t->params = names.n ? xcalloc(names.n, sizeof *t->params) : NULL;
    for (size_t i = 0; i < names.n; i++)
        for (size_t k = 0; k < s->n_subst; k++)
            if (strcmp(s->subst[k].key, names.v[i]) == 0) {
                t->params[t->n_params].key = xstrdup(names.v[i]);
                t->params[t->n_params++].value = xstrdup(s->subst[k].value);
            }
    assert(t->n_params <= names.n); /* an unknown one is refused when it is expanded */
    strv_free(&names);
}

/* A publish template may not leave its root (the flow's directory unless the flow sets
 * "publish_root"). Checked with a stand-in key, since {key} is only known later. */
static int check_publish(struct loader *L, const struct scope *s, const struct task *t,
                         const struct template_vars *base)
{
    struct template_vars v = *base;
    v.key = "0000000000000000000000000000000000000000000000000000000000000000";
    char *path;
    if (template_expand(t->publish, &v, &path, L->e))
        return err_prefix(L->e, "%s: task %s: publish", s->path, t->local);
    char *joined = path_join(t->dir, path);
    char *norm = path_normalize(joined, false);
    size_t rl = strlen(t->publish_root);
    bool inside = norm && strncmp(norm, t->publish_root, rl) == 0 && norm[rl] == '/' &&
                  norm[rl + 1] != 0;
    int rc = 0;
    if (!inside && s->rf->publish_root)
        rc = err_set(L->e, "%s: task %s: publish path %s is outside publish_root %s", s->path,
                     t->local, path, s->rf->publish_root);
    else if (!inside)
        rc = err_set(L->e,
                     "%s: task %s: publish path %s leaves the flow's directory (set "
                     "\"publish_root\" to allow it)",
                     s->path, t->local, path);
    free(norm);
    free(joined);
    free(path);
    return rc;
}

/* --- executors and their options ------------------------------------------------------------ */

/* Substitutes parameters in every string of an options object. */
static int expand_options(cJSON *node, const struct template_vars *v, struct err *e)
{
    for (cJSON *it = node->child; it; it = it->next) {
        if (cJSON_IsString(it)) {
            char *out;
            if (template_expand(it->valuestring, v, &out, e))
                return -1;
            cJSON *rep = cJSON_CreateString(out);
            free(out);
            if (it->string) /* the key stays the item's own */
                rep->string = xstrdup(it->string);
            cJSON_ReplaceItemViaPointer(node, it, rep);
            it = rep;
        } else if ((cJSON_IsArray(it) || cJSON_IsObject(it)) && expand_options(it, v, e)) {
            return -1;
        }
    }
    return 0;
}

/* Reads an options object (JSON text) with parameters substituted and merges it into
 * `into` key by key, its keys winning. */
static int merge_options(cJSON *into, const char *json, const struct template_vars *v,
                         struct err *e)
{
    cJSON *o = cJSON_Parse(json);
    int rc = expand_options(o, v, e);
    while (rc == 0 && o->child) {
        cJSON *it = cJSON_DetachItemViaPointer(o, o->child);
        cJSON_DeleteItemFromObjectCaseSensitive(into, it->string);
        cJSON_AddItemToObject(into, it->string, it);
    }
    cJSON_Delete(o);
    return rc;
}

static bool scope_runs_on(const struct scope *s, const char *executor)
{
    if (strcmp(s->executor, executor) == 0)
        return true;
    for (size_t i = 0; i < s->rf->n_tasks; i++)
        if (s->rf->tasks[i].executor && strcmp(s->rf->tasks[i].executor, executor) == 0)
            return true;
    return false;
}

/* The file's default executor, and its defaults merged over the including flow's. */
static int scope_executors(struct loader *L, struct scope *s, const struct scope *parent)
{
    struct rawflow *rf = s->rf;
    s->executor = rf->executor ? intern(L->f, rf->executor)
                  : parent     ? parent->executor
                               : intern(L->f, "local");
    s->exec_defaults = parent ? cJSON_Duplicate(parent->exec_defaults, 1) : cJSON_CreateObject();
    const char **names = xcalloc(s->n_subst + 1, sizeof *names);
    const char **values = xcalloc(s->n_subst + 1, sizeof *values);
    struct template_vars v;
    template_base(s, &v, names, values);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rf->n_exec_opts; i++) {
        const char *name = rf->exec_opts[i].key;
        if (!scope_runs_on(s, name)) {
            rc = flowfile_near_field(name, false, s->executor)
                     ? flowfile_unknown_field(s->path, NULL, name, s->executor, L->e)
                     : err_set(L->e,
                               "%s: unknown field \"%s\" (options for executor \"%s\"? no task "
                               "of this file runs on it)",
                               s->path, name, name);
            break;
        }
        cJSON *into = cJSON_GetObjectItemCaseSensitive(s->exec_defaults, name);
        if (!into)
            into = cJSON_AddObjectToObject(s->exec_defaults, name);
        if (merge_options(into, rf->exec_opts[i].value, &v, L->e))
            rc = err_prefix(L->e, "%s: \"%s\"", s->path, name);
    }
    free(names);
    free(values);
    return rc;
}

/* The task's executor, and its options: the file's defaults with its own merged in. */
static int task_executor(struct loader *L, const struct scope *s, const struct rawtask *rt,
                         struct task *t, const struct template_vars *v)
{
    t->executor = rt->executor ? intern(L->f, rt->executor) : s->executor;
    cJSON *opts =
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s->exec_defaults, t->executor), 1);
    if (!opts)
        opts = cJSON_CreateObject();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rt->n_exec_opts; i++) {
        const char *name = rt->exec_opts[i].key;
        if (strcmp(name, t->executor) != 0)
            rc = flowfile_near_field(name, true, t->executor)
                     ? flowfile_unknown_field(s->path, t->local, name, t->executor, L->e)
                     : err_set(L->e,
                               "%s: task %s: unknown field \"%s\" (the task runs on executor "
                               "\"%s\", so it takes no \"%s\" options)",
                               s->path, t->local, name, t->executor, name);
        else if (merge_options(opts, rt->exec_opts[i].value, v, L->e))
            rc = err_prefix(L->e, "%s: task %s: \"%s\"", s->path, t->local, name);
    }
    /* Another executor learns a task's cpus as its "cpus" option, unless it has its own
     * (Slurm: --cpus-per-task); the local one is given job slots instead (runner). */
    if (rc == 0 && rt->cpus && strcmp(t->executor, "local") != 0 &&
        !cJSON_GetObjectItemCaseSensitive(opts, "cpus")) {
        char n[16];
        snprintf(n, sizeof n, "%d", rt->cpus);
        cJSON_AddItemToObject(opts, "cpus", cJSON_CreateRaw(n));
    }
    if (rc == 0 && opts->child)
        t->exec_options = intern_free(L->f, cJSON_PrintUnformatted(opts));
    cJSON_Delete(opts);
    return rc;
}

/* Moves a raw task into the flow, substituting its fields. */
static int add_task(struct loader *L, struct scope *s, struct rawtask *rt)
{
    struct flow *f = L->f;
    xgrow(&f->tasks, &L->cap_tasks, f->n_tasks + 1, sizeof *f->tasks);
    struct task *t = &f->tasks[f->n_tasks++];
    memset(t, 0, sizeof *t);
    t->name = xstrcat3(s->prefix, rt->name, "");
    t->local = t->name + strlen(s->prefix);
    t->dir = s->dir;
    t->flow_name = s->flow_name;
    t->publish_root = s->publish_root;
    t->group = s->group;
    t->path = intern(f, s->path);
    t->keep = rt->keep;
    t->expire = rt->expire;
    t->is_volatile = rt->is_volatile;
    t->cpus = rt->cpus ? rt->cpus : 1;
    used_params(s, rt, t);
    t->run = rt->run;
    t->files = rt->files;
    t->outputs = rt->outputs;
    t->env = rt->env;
    t->n_env = rt->n_env;
    t->publish = rt->publish;
    t->publish_link = rt->publish_link;
    rt->run = rt->publish = NULL;
    rt->env = NULL;
    rt->n_env = 0;
    memset(&rt->files, 0, sizeof rt->files);
    memset(&rt->outputs, 0, sizeof rt->outputs);

    const char **names = xcalloc(s->n_subst + 1, sizeof *names);
    const char **values = xcalloc(s->n_subst + 1, sizeof *values);
    struct template_vars v;
    template_base(s, &v, names, values);
    v.task = t->local;
    int rc = expand_field(L, s, t, &v, "run", &t->run);
    if (rc == 0)
        rc = task_executor(L, s, rt, t, &v);
    for (size_t i = 0; rc == 0 && i < t->files.n; i++)
        rc = expand_field(L, s, t, &v, "files", &t->files.v[i]);
    for (size_t i = 0; rc == 0 && i < t->outputs.n; i++)
        rc = expand_field(L, s, t, &v, "outputs", &t->outputs.v[i]) ||
             check_output(L, s, t, &t->outputs.v[i]);
    if (rc == 0) {
        strv_sort(&t->outputs);
        strv_uniq(&t->outputs);
    }
    for (size_t i = 0; rc == 0 && i < t->n_env; i++)
        rc = expand_field(L, s, t, &v, "env", &t->env[i].value);
    sort_array(t->env, t->n_env, sizeof *t->env, cmp_kv);
    for (size_t i = 0; rc == 0 && i < rt->code.n; i++) {
        rc = expand_field(L, s, t, &v, "code", &rt->code.v[i]);
        if (rc == 0)
            rc = expand_code(L, s, t, rt->code.v[i], &t->code);
    }
    strv_uniq(&t->code);
    strv_free(&rt->code); /* expanded into t->code: the raw flow lives until its scope ends */
    if (rc == 0 && t->publish) {
        struct template_vars pv = v;
        pv.keep_key = true;
        pv.strict = true;
        rc = expand_field(L, s, t, &pv, "publish", &t->publish);
        pv.keep_key = false;
        if (rc == 0)
            rc = check_publish(L, s, t, &pv);
    }
    free(names);
    free(values);
    return rc;
}

/* --- resolving `after` within one scope ------------------------------------------------------------ */

static int cmp_local(const void *a, const void *b, void *ctx)
{
    const struct rawflow *rf = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(rf->tasks[i].name, rf->tasks[j].name);
    return c ? c : (i > j) - (i < j); /* a name defined twice: in file order */
}

static long find_local(const struct rawflow *rf, const size_t *sorted, const char *name)
{
    size_t lo = 0, hi = rf->n_tasks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(rf->tasks[sorted[mid]].name, name);
        if (c == 0)
            return (long)sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The nearest task inside the sub-flow node that "NODE/TASK" names (as NODE/...), or
 * NULL when NODE is no sub-flow node of the scope. Points into the flow. */
static const char *near_inner(struct loader *L, const struct scope *s, const size_t *sorted,
                              const char *name)
{
    const char *slash = strchr(name, '/');
    char *node = slash ? xstrndup(name, (size_t)(slash - name)) : NULL;
    long d = node ? find_local(s->rf, sorted, node) : -1;
    free(node);
    if (d < 0 || !s->rf->tasks[d].subflow)
        return NULL;
    const struct group *g = &L->f->groups[s->group_of[d]];
    size_t skip = strlen(s->prefix), best_d = (size_t)-1;
    const char *best = NULL;
    for (size_t i = g->first; i < g->end && g->end - g->first < 5000; i++) {
        size_t dist = edit_distance(name, L->f->tasks[i].name + skip);
        if (dist < best_d) {
            best_d = dist;
            best = L->f->tasks[i].name + skip;
        }
    }
    return best && best_d <= strlen(name) / 3 + 1 ? best : NULL;
}

static int unknown_after(struct loader *L, const struct scope *s, const size_t *sorted,
                         const char *task, const char *name)
{
    const struct rawflow *rf = s->rf;
    const char *inner = near_inner(L, s, sorted, name);
    if (inner)
        return err_set(L->e,
                       "%s: task %s: \"after\" names unknown task \"%s\" (did you mean \"%s\"?)",
                       s->path, task, name, inner);
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < rf->n_tasks && rf->n_tasks < 5000; i++) {
        if (strcmp(rf->tasks[i].name, task) == 0)
            continue; /* a task cannot come after itself */
        size_t d = edit_distance(name, rf->tasks[i].name);
        if (d < best_d) {
            best_d = d;
            best = rf->tasks[i].name;
        }
    }
    if (best && best_d <= strlen(name) / 3 + 1)
        return err_set(L->e,
                       "%s: task %s: \"after\" names unknown task \"%s\" (did you mean \"%s\"?)",
                       s->path, task, name, best);
    return err_set(L->e, "%s: task %s: \"after\" names unknown task \"%s\"", s->path, task,
                   name);
}

/* The task "NODE/TASK" (or a nested node "NODE/INNER", standing for its output) inside
 * the sub-flow node NODE of this scope, or -1. */
static long find_inner(struct loader *L, const struct scope *s, const size_t *sorted,
                       const char *name)
{
    const char *slash = strchr(name, '/');
    if (!slash || !slash[1])
        return -1;
    char *node = xstrndup(name, (size_t)(slash - name));
    long d = find_local(s->rf, sorted, node);
    free(node);
    if (d < 0 || !s->rf->tasks[d].subflow)
        return -1;
    const struct flow *f = L->f;
    const struct group *g = &f->groups[s->group_of[d]];
    char *full = xasprintf("%s%s", s->prefix, name);
    long found = -1;
    for (size_t i = g->first; i < g->end && found < 0; i++)
        if (strcmp(f->tasks[i].name, full) == 0)
            found = (long)i;
    for (size_t i = 0; i < f->n_groups && found < 0; i++)
        if (f->groups[i].first >= g->first && f->groups[i].end <= g->end &&
            strcmp(f->groups[i].name, full) == 0)
            found = (long)f->groups[i].output;
    free(full);
    return found;
}

static int resolve_one(struct loader *L, const struct scope *s, const size_t *sorted, size_t r)
{
    struct flow *f = L->f;
    const struct rawtask *rt = &s->rf->tasks[r];
    struct task *t = &f->tasks[s->index[r]];
    size_t n = rt->after.n;
    t->deps = n ? xcalloc(n, sizeof *t->deps) : NULL;
    for (size_t k = 0; k < n; k++) {
        const char *name = rt->after.v[k];
        long d = find_local(s->rf, sorted, name);
        long inner = d < 0 ? find_inner(L, s, sorted, name) : -1;
        if (d < 0 && inner < 0)
            return unknown_after(L, s, sorted, rt->name, name);
        size_t dep = d >= 0 ? (size_t)s->index[d] : (size_t)inner;
        for (size_t m = 0; m < t->n_deps; m++)
            if (t->deps[m] == dep)
                return err_set(L->e, "%s: task %s: \"after\" lists %s twice", s->path, rt->name,
                               name);
        /* Only edges named otherwise than their upstream (a sub-flow node, a matrix
         * instance) store a name. */
        const char *chosen = k < rt->after_vars.n ? rt->after_vars.v[k] : "";
        if (chosen[0] || strcmp(name, f->tasks[dep].local) != 0) {
            if (!t->dep_vars)
                t->dep_vars = xcalloc(n, sizeof *t->dep_vars);
            t->dep_vars[t->n_deps] = chosen[0] ? intern(f, chosen) : intern_free(f, in_var(name));
        }
        t->deps[t->n_deps++] = dep;
    }
    return check_vars(L, s, rt);
}

static int resolve_scope(struct loader *L, const struct scope *s)
{
    const struct rawflow *rf = s->rf;
    size_t *sorted = xcalloc(rf->n_tasks, sizeof *sorted);
    for (size_t i = 0; i < rf->n_tasks; i++)
        sorted[i] = i;
    qsort_r(sorted, rf->n_tasks, sizeof *sorted, cmp_local, (void *)rf);
    int rc = 0;
    for (size_t i = 1; i < rf->n_tasks && rc == 0; i++) {
        const struct rawtask *first = &rf->tasks[sorted[i - 1]], *again = &rf->tasks[sorted[i]];
        if (strcmp(first->name, again->name) == 0)
            rc = err_set(L->e, "%s:%d:%d: task %s is defined twice (first at line %d)",
                         s->path, again->line, again->col, again->name, first->line);
    }
    for (size_t i = 0; i < rf->n_tasks && rc == 0; i++)
        if (!rf->tasks[i].subflow)
            rc = resolve_one(L, s, sorted, i);
    free(sorted);
    return rc;
}

/* The scope's sinks: entries (tasks and sub-flow nodes) no task of the scope depends on. */
static size_t *scope_sinks(struct loader *L, const struct scope *s, size_t *n)
{
    const struct rawflow *rf = s->rf;
    long *raw_of = xcalloc(L->f->n_tasks, sizeof *raw_of); /* task index -> raw task */
    for (size_t i = 0; i < L->f->n_tasks; i++)
        raw_of[i] = -1;
    for (size_t i = 0; i < rf->n_tasks; i++)
        raw_of[s->index[i]] = (long)i;
    bool *used = xcalloc(rf->n_tasks, sizeof *used);
    for (size_t i = 0; i < rf->n_tasks; i++) {
        if (rf->tasks[i].subflow)
            continue;
        const struct task *t = &L->f->tasks[s->index[i]];
        for (size_t k = 0; k < t->n_deps; k++)
            if (raw_of[t->deps[k]] >= 0)
                used[raw_of[t->deps[k]]] = true;
    }
    free(raw_of);
    size_t *out = xcalloc(rf->n_tasks, sizeof *out);
    *n = 0;
    for (size_t i = 0; i < rf->n_tasks; i++)
        if (!used[i])
            out[(*n)++] = i;
    free(used);
    return out;
}

/* A sub-flow's output: its only sink, or the sink marked "output": true. */
static int scope_output(struct loader *L, const struct scope *s, long *out)
{
    size_t n;
    size_t *sinks = scope_sinks(L, s, &n);
    long found = -1;
    int marked = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->rf->tasks[sinks[i]].output) {
            found = s->index[sinks[i]];
            marked++;
        }
    }
    if (n == 1 && marked == 0)
        found = s->index[sinks[0]];
    free(sinks);
    if (marked > 1 || found < 0)
        return err_set(L->e,
                       "%s: a sub-flow needs one output: it has %zu final tasks; mark one with "
                       "\"output\": true",
                       s->path, n);
    *out = found;
    return 0;
}

/* --- scopes and sub-flows ------------------------------------------------------------------------ */

static int load_scope(struct loader *L, const struct scope *parent, const char *path,
                      const char *shown, const struct strv *overrides, const char *prefix,
                      int group, long *output);

static char *shown_path(const struct loader *L, const char *abs)
{
    const char *top = L->f->dir;
    size_t n = strlen(top);
    if (strncmp(abs, top, n) == 0 && abs[n] == '/')
        return xstrdup(abs + n + 1);
    return xstrdup(abs);
}

static int include_subflow(struct loader *L, struct scope *s, size_t r)
{
    struct flow *f = L->f;
    struct rawtask *rt = &s->rf->tasks[r];
    if (L->stack.n >= MAX_DEPTH)
        return err_set(L->e, "%s: task %s: sub-flows nest deeper than %d", s->path, rt->name,
                       MAX_DEPTH);
    const char **names = xcalloc(s->n_subst + 1, sizeof *names);
    const char **values = xcalloc(s->n_subst + 1, sizeof *values);
    struct template_vars v;
    template_base(s, &v, names, values);
    v.task = rt->name;
    struct strv overrides = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rt->n_with; i++) {
        char *val;
        if (template_expand(rt->with[i].value, &v, &val, L->e)) {
            rc = err_prefix(L->e, "%s: task %s: with", s->path, rt->name);
        } else {
            strv_pushf(&overrides, "%s=%s", rt->with[i].key, val);
            free(val);
        }
    }
    free(names);
    free(values);
    char *abs = path_join(s->dir, rt->subflow);
    char *shown = shown_path(L, abs);
    if (rc == 0) {
        xgrow(&f->groups, &L->cap_groups, f->n_groups + 1, sizeof *f->groups);
        int g = (int)f->n_groups++;
        struct group *gr = &f->groups[g];
        memset(gr, 0, sizeof *gr);
        gr->name = xasprintf("%s%s", s->prefix, rt->name);
        gr->path = xstrdup(abs);
        gr->parent = s->group;
        gr->first = f->n_tasks;
        char *child_prefix = xasprintf("%s/", gr->name);
        long out = -1;
        rc = load_scope(L, s, abs, shown, &overrides, child_prefix, g, &out);
        free(child_prefix);
        gr = &f->groups[g]; /* groups may have moved */
        gr->end = f->n_tasks;
        gr->output = (size_t)out;
        s->index[r] = out;
        if (!s->group_of)
            s->group_of = xcalloc(s->rf->n_tasks, sizeof *s->group_of);
        s->group_of[r] = g;
        if (rc)
            err_prefix(L->e, "%s: task %s", s->path, rt->name);
    }
    free(abs);
    free(shown);
    strv_free(&overrides);
    return rc;
}

static char *default_name(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    return xstrdup(slash && slash[1] ? slash + 1 : "flow");
}

static int open_scope(struct loader *L, struct scope *s, const char *path, const char *shown)
{
    bool top = L->stack.n == 0;
    int rc = top && L->text ? flowfile_parse(path, L->text, L->len, L->allow_empty, &s->rf, L->e)
                            : flowfile_read(path, &s->rf, L->e);
    if (rc) {
        /* flowfile names the file as given to it; show it as the user knows it. */
        if (strcmp(path, shown) != 0 && strncmp(L->e->msg, path, strlen(path)) == 0) {
            char *rest = xstrdup(L->e->msg + strlen(path));
            err_set(L->e, "%s%s", shown, rest);
            free(rest);
        }
        return -1;
    }
    char *abs = flow_abspath(path, top && L->text);
    if (!abs)
        return err_set(L->e, "%s: %s", shown, strerror(errno));
    for (size_t i = 0; i < L->stack.n; i++) {
        if (strcmp(L->stack.v[i], abs) == 0) {
            struct sb b = {0};
            for (size_t k = 0; k < L->stack.n; k++) {
                char *sp = shown_path(L, L->stack.v[k]);
                sb_addf(&b, "%s -> ", sp);
                free(sp);
            }
            sb_adds(&b, shown);
            err_set(L->e, "%s includes itself: %s", shown, b.buf);
            sb_free(&b);
            free(abs);
            return -1;
        }
    }
    strv_push(&L->stack, abs);
    s->pushed = true;
    char *dir = xstrdup(abs);
    *strrchr(dir, '/') = 0;
    s->dir = intern(L->f, dir[0] ? dir : "/");
    s->flow_name = s->rf->name ? intern(L->f, s->rf->name) : intern_free(L->f, default_name(s->dir));
    if (s->rf->publish_root) {
        char *root = path_join(s->dir, s->rf->publish_root);
        char *norm = path_normalize(root, false);
        s->publish_root = intern(L->f, norm ? norm : root);
        free(norm);
        free(root);
    } else {
        s->publish_root = s->dir;
    }
    free(dir);
    return 0;
}

static void close_scope(struct loader *L, struct scope *s)
{
    if (s->pushed) {
        free(L->stack.v[--L->stack.n]);
        L->stack.v[L->stack.n] = NULL;
    }
    flowfile_free(s->rf);
    cJSON_Delete(s->params);
    for (size_t i = 0; i < s->n_subst; i++) {
        free(s->subst[i].key);
        free(s->subst[i].value);
    }
    free(s->subst);
    free(s->index);
    free(s->group_of);
    cJSON_Delete(s->exec_defaults);
}

static void top_exec_defaults(struct flow *f, const cJSON *defaults)
{
    f->exec_defaults = xcalloc((size_t)cJSON_GetArraySize(defaults) + 1, sizeof *f->exec_defaults);
    const cJSON *it;
    cJSON_ArrayForEach(it, defaults)
    {
        f->exec_defaults[f->n_exec_defaults].key = xstrdup(it->string);
        f->exec_defaults[f->n_exec_defaults++].value = cJSON_PrintUnformatted(it);
    }
}

/* Loads one flow file: its own tasks, then its sub-flows, then its `after` edges. */
static int load_scope(struct loader *L, const struct scope *parent, const char *path,
                      const char *shown, const struct strv *overrides, const char *prefix,
                      int group, long *output)
{
    struct scope s = {.path = shown, .prefix = prefix, .group = group};
    int rc = open_scope(L, &s, path, shown);
    if (rc == 0)
        rc = scope_params(L, &s, overrides);
    if (rc == 0)
        rc = matrix_expand(s.rf, s.params, shown, L->e);
    if (rc == 0)
        rc = scope_executors(L, &s, parent);
    if (rc == 0) {
        /* One allocation of the right size: a doubling array of 100,000 tasks wastes
         * a third of it. */
        xgrow(&L->f->tasks, &L->cap_tasks, L->f->n_tasks + s.rf->n_tasks, sizeof *L->f->tasks);
        s.index = xcalloc(s.rf->n_tasks, sizeof *s.index);
        for (size_t i = 0; i < s.rf->n_tasks && rc == 0; i++) {
            s.index[i] = (long)L->f->n_tasks;
            if (!s.rf->tasks[i].subflow)
                rc = add_task(L, &s, &s.rf->tasks[i]);
        }
    }
    for (size_t i = 0; rc == 0 && i < s.rf->n_tasks; i++)
        if (s.rf->tasks[i].subflow)
            rc = include_subflow(L, &s, i);
    if (rc == 0)
        rc = resolve_scope(L, &s);
    if (rc == 0 && output)
        rc = scope_output(L, &s, output);
    if (rc == 0 && group < 0) {
        struct flow *f = L->f;
        f->name = xstrdup(s.flow_name);
        f->params_json = cJSON_PrintUnformatted(s.params);
        f->params = s.subst;
        f->n_params = s.n_subst;
        top_exec_defaults(f, s.exec_defaults);
        s.subst = NULL;
        s.n_subst = 0;
        size_t n;
        size_t *sinks = scope_sinks(L, &s, &n);
        f->targets = xcalloc(n + 1, sizeof *f->targets);
        for (size_t i = 0; i < n; i++)
            f->targets[f->n_targets++] = (size_t)s.index[sinks[i]];
        free(sinks);
    }
    close_scope(L, &s);
    return rc;
}

/* --- the whole graph ------------------------------------------------------------------------------ */

/* Finds a cycle among the tasks Kahn's algorithm could not order, and prints it. */
static int report_cycle(struct loader *L, const bool *done)
{
    struct flow *f = L->f;
    size_t start = 0;
    while (done[start])
        start++;
    /* Walk upstream along unfinished deps until a task repeats. */
    long *seen_at = xcalloc(f->n_tasks, sizeof *seen_at);
    size_t *path = xcalloc(f->n_tasks + 1, sizeof *path);
    size_t len = 0, cur = start;
    for (size_t i = 0; i < f->n_tasks; i++)
        seen_at[i] = -1;
    while (seen_at[cur] < 0) {
        seen_at[cur] = (long)len;
        path[len++] = cur;
        const struct task *t = &f->tasks[cur];
        for (size_t k = 0; k < t->n_deps; k++) {
            if (!done[t->deps[k]]) {
                cur = t->deps[k];
                break;
            }
        }
    }
    /* path[seen_at[cur]..len) walks upstream. Print it downstream, starting from the
     * member that comes first in the file: a -> b -> c -> a. */
    size_t first = (size_t)seen_at[cur], k = len - first, start_at = first;
    for (size_t i = first; i < len; i++)
        if (path[i] < path[start_at])
            start_at = i;
    struct sb b = {0};
    for (size_t step = 0; step <= k; step++) {
        size_t i = first + (start_at - first + k - step % k) % k;
        sb_addf(&b, step ? " -> %s" : "%s", f->tasks[path[i]].name);
    }
    err_set(L->e, "%s: cycle: %s", f->path, b.buf);
    sb_free(&b);
    free(seen_at);
    free(path);
    return -1;
}

static int order_tasks(struct loader *L)
{
    struct flow *f = L->f;
    size_t n = f->n_tasks;
    size_t *indeg = xcalloc(n, sizeof *indeg);
    size_t *off = xcalloc(n + 1, sizeof *off);
    for (size_t i = 0; i < n; i++) {
        indeg[i] = f->tasks[i].n_deps;
        for (size_t k = 0; k < f->tasks[i].n_deps; k++)
            off[f->tasks[i].deps[k] + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        off[i + 1] += off[i];
    size_t *down = xcalloc(off[n] + 1, sizeof *down);
    size_t *fill = xcalloc(n, sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < f->tasks[i].n_deps; k++) {
            size_t d = f->tasks[i].deps[k];
            down[off[d] + fill[d]++] = i;
        }
    f->order = xcalloc(n, sizeof *f->order);
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            f->order[tail++] = i;
    while (head < tail) {
        size_t t = f->order[head++];
        for (size_t k = off[t]; k < off[t + 1]; k++)
            if (--indeg[down[k]] == 0)
                f->order[tail++] = down[k];
    }
    int rc = 0;
    if (tail < n) {
        bool *done = xcalloc(n, sizeof *done);
        for (size_t i = 0; i < tail; i++)
            done[f->order[i]] = true;
        rc = report_cycle(L, done);
        free(done);
    }
    free(indeg);
    free(off);
    free(down);
    free(fill);
    return rc;
}

static int cmp_name(const void *a, const void *b, void *flow)
{
    const struct task *t = ((const struct flow *)flow)->tasks;
    return strcmp(t[*(const size_t *)a].name, t[*(const size_t *)b].name);
}

static void index_names(struct flow *f)
{
    f->by_name = xcalloc(f->n_tasks + 1, sizeof *f->by_name);
    for (size_t i = 0; i < f->n_tasks; i++)
        f->by_name[i] = i;
    qsort_r(f->by_name, f->n_tasks, sizeof *f->by_name, cmp_name, f);
}

/* Copies owned string s to *at (advancing it) and frees s. */
static char *pack_str(char **at, char *s)
{
    char *to = *at;
    *at = stpcpy(to, s) + 1;
    free(s);
    return to;
}

/* Moves every task's name, run, deps and code list into the flow's three pack blocks,
 * freeing the pieces: the flow is complete and nothing changes them after this. */
static void pack_tasks(struct flow *f)
{
    size_t n_deps = 0, n_code = 0, n_text = 0;
    for (size_t i = 0; i < f->n_tasks; i++) {
        const struct task *t = &f->tasks[i];
        n_deps += t->n_deps;
        n_code += t->code.n + 1;
        n_text += strlen(t->name) + 1 + (t->run ? strlen(t->run) + 1 : 0);
        for (size_t j = 0; j < t->code.n; j++)
            n_text += strlen(t->code.v[j]) + 1;
    }
    size_t *deps = f->pack_deps = xcalloc(n_deps + 1, sizeof *f->pack_deps);
    char **code = f->pack_code = xcalloc(n_code + 1, sizeof *f->pack_code);
    char *text = f->pack_text = xmalloc(n_text + 1);
    for (size_t i = 0; i < f->n_tasks; i++) {
        struct task *t = &f->tasks[i];
        if (t->n_deps)
            memcpy(deps, t->deps, t->n_deps * sizeof *deps);
        free(t->deps);
        t->deps = deps;
        deps += t->n_deps;
        size_t local = (size_t)(t->local - t->name);
        t->name = pack_str(&text, t->name);
        t->local = t->name + local;
        if (t->run)
            t->run = pack_str(&text, t->run);
        for (size_t j = 0; j < t->code.n; j++)
            code[j] = pack_str(&text, t->code.v[j]);
        free(t->code.v);
        t->code.v = code;
        t->code.cap = t->code.n + 1; /* never grown: it is not the strv's own */
        code += t->code.n + 1;
    }
}

static int load(struct loader *L, const char *path, const struct strv *overrides,
                struct flow **out)
{
    struct err *e = L->e;
    *out = NULL;
    struct flow *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    f->abspath = flow_abspath(path, L->text != NULL);
    L->f = f;
    int rc;
    if (!f->abspath) {
        rc = err_set(e, "%s: %s", path, strerror(errno));
    } else {
        f->dir = xstrdup(f->abspath);
        *strrchr(f->dir, '/') = 0;
        if (!f->dir[0])
            strcpy(f->dir, "/");
        rc = load_scope(L, NULL, path, path, overrides, "", -1, NULL);
    }
    strv_free(&L->stack);
    malloc_trim(0); /* the raw file's memory: give back what the freeing left in holes */
    if (rc == 0)
        rc = order_tasks(L);
    for (size_t i = 0; rc == 0 && i < f->n_tasks; i++) {
        struct task *t = &f->tasks[f->order[i]];
        for (size_t k = 0; k < t->n_deps; k++) {
            const struct task *up = &f->tasks[t->deps[k]];
            t->after_volatile = t->after_volatile || up->is_volatile || up->after_volatile;
        }
    }
    if (rc) {
        flow_free(f);
        return -1;
    }
    index_names(f);
    pack_tasks(f);
    *out = f;
    return 0;
}

static struct kv *kv_copy(const struct kv *kv, size_t n)
{
    struct kv *c = xcalloc(n + 1, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = (struct kv){xstrdup(kv[i].key), xstrdup(kv[i].value)};
    return c;
}

static void strv_copy(struct strv *to, const struct strv *from)
{
    for (size_t i = 0; from && i < from->n; i++)
        strv_push(to, xstrdup(from->v[i]));
}

static void build_task(struct flow *f, struct task *t, const struct task_spec *sp)
{
    t->name = xstrdup(sp->name);
    t->local = t->name;
    char *dir = path_join(f->dir, sp->dir);
    t->dir = intern_free(f, path_normalize(dir, false));
    free(dir);
    t->flow_name = intern(f, f->name);
    t->run = xstrdup(sp->run);
    t->deps = xcalloc(sp->n_deps + 1, sizeof *t->deps);
    memcpy(t->deps, sp->deps, sp->n_deps * sizeof *t->deps);
    t->n_deps = sp->n_deps;
    t->dep_vars = xcalloc(sp->n_deps + 1, sizeof *t->dep_vars);
    for (size_t j = 0; j < sp->n_deps; j++)
        t->dep_vars[j] = intern(f, sp->vars[j]);
    strv_copy(&t->code, sp->code);
    strv_copy(&t->files, sp->files);
    strv_copy(&t->outputs, sp->outputs);
    strv_sort(&t->outputs);
    t->cpus = sp->cpus > 0 ? sp->cpus : 1;
    t->env = kv_copy(sp->env, sp->n_env);
    t->n_env = sp->n_env;
    sort_array(t->env, t->n_env, sizeof *t->env, cmp_kv);
    t->params = kv_copy(sp->params, sp->n_params);
    t->n_params = sp->n_params;
    t->keep = KEEP_ALL;
    t->group = -1;
    t->path = intern(f, f->path);
    t->executor = intern(f, "local");
}

int flow_build(const struct flow_spec *spec, struct flow **out, struct err *e)
{
    struct flow *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(spec->path);
    f->abspath = xstrdup(spec->path);
    f->dir = path_normalize(spec->dir, false);
    f->name = xstrdup(spec->name);
    f->params_json = xstrdup(spec->params_json);
    f->tasks = xcalloc(spec->n_tasks + 1, sizeof *f->tasks);
    f->n_tasks = spec->n_tasks;
    for (size_t i = 0; i < spec->n_tasks; i++)
        build_task(f, &f->tasks[i], &spec->tasks[i]);
    f->targets = xcalloc(spec->n_targets + 1, sizeof *f->targets);
    memcpy(f->targets, spec->targets, spec->n_targets * sizeof *f->targets);
    f->n_targets = spec->n_targets;
    struct loader L = {.f = f, .e = e};
    if (order_tasks(&L)) {
        flow_free(f);
        return -1;
    }
    index_names(f);
    pack_tasks(f);
    *out = f;
    return 0;
}

char *flow_var_name(const char *upstream)
{
    return in_var(upstream);
}

int flow_load(const char *path, const struct strv *overrides, struct flow **out, struct err *e)
{
    struct loader L = {.e = e};
    return load(&L, path, overrides, out);
}

int flow_load_text(const char *path, const char *text, size_t len, bool allow_empty,
                   struct flow **out, struct err *e)
{
    struct loader L = {.e = e, .text = text, .len = len, .allow_empty = allow_empty};
    return load(&L, path, NULL, out);
}

void flow_free(struct flow *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_tasks; i++) {
        struct task *t = &f->tasks[i];
        if (!f->pack_text) { /* a flow that failed to load */
            free(t->name);
            free(t->run);
            free(t->deps);
            strv_free(&t->code);
        }
        free(t->dep_vars);
        strv_free(&t->files);
        strv_free(&t->outputs);
        kv_free(t->env, t->n_env);
        kv_free(t->params, t->n_params);
        free(t->publish);
    }
    free(f->tasks);
    for (size_t i = 0; i < f->n_groups; i++) {
        free(f->groups[i].name);
        free(f->groups[i].path);
    }
    free(f->groups);
    kv_free(f->params, f->n_params);
    kv_free(f->exec_defaults, f->n_exec_defaults);
    free(f->params_json);
    free(f->order);
    free(f->targets);
    strmap_free(&f->strings, NULL);
    free(f->by_name);
    free(f->pack_deps);
    free(f->pack_code);
    free(f->pack_text);
    free(f->name);
    free(f->path);
    free(f->abspath);
    free(f->dir);
    free(f);
}

long flow_find(const struct flow *f, const char *name)
{
    size_t lo = 0, hi = f->n_tasks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->tasks[f->by_name[mid]].name, name);
        if (c == 0)
            return (long)f->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t g = 0; g < f->n_groups; g++)
        if (strcmp(f->groups[g].name, name) == 0)
            return (long)f->groups[g].output;
    return -1;
}

/* Whether task name t is pattern with some components C written C@VALUES (the same
 * inner task of every instance of a matrix sub-flow node: prep/clean, prep@A/clean). */
static bool same_but_instances(const char *pattern, const char *t)
{
    while (*pattern) {
        size_t n = strcspn(pattern, "/"), m = strcspn(t, "/");
        if (strncmp(pattern, t, n) != 0 || (m != n && t[n] != '@'))
            return false;
        pattern += n + (pattern[n] == '/');
        t += m + (t[m] == '/');
        if (!*pattern != !*t)
            return false;
    }
    return !*t;
}

static size_t find_instances_inside(const struct flow *f, const char *name, size_t **out)
{
    size_t n = 0;
    if (!strchr(name, '/'))
        return 0;
    for (size_t i = 0; i < f->n_tasks; i++) {
        const size_t t = f->by_name[i];
        if (same_but_instances(name, f->tasks[t].name)) {
            *out = xrealloc(*out, (n + 1) * sizeof **out);
            (*out)[n++] = t;
        }
    }
    return n;
}

bool *flow_closure(const struct flow *f, const size_t *tasks, size_t n, bool downstream)
{
    bool *mark = xcalloc(f->n_tasks + 1, sizeof *mark);
    for (size_t i = 0; i < n; i++)
        mark[tasks[i]] = true;
    /* One pass in topological order (or its reverse) closes the set. */
    for (size_t k = 0; k < f->n_tasks; k++) {
        size_t i = f->order[downstream ? k : f->n_tasks - 1 - k];
        const struct task *t = &f->tasks[i];
        for (size_t j = 0; j < t->n_deps; j++) {
            if (downstream && mark[t->deps[j]])
                mark[i] = true;
            else if (!downstream && mark[i])
                mark[t->deps[j]] = true;
        }
    }
    return mark;
}

size_t flow_find_all(const struct flow *f, const char *name, size_t **out)
{
    long one = flow_find(f, name);
    if (one >= 0) {
        *out = xcalloc(1, sizeof **out);
        **out = (size_t)one;
        return 1;
    }
    char *prefix = xasprintf("%s@", name);
    size_t len = strlen(prefix), lo = 0, hi = f->n_tasks;
    while (lo < hi) { /* the first name not below prefix */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(f->tasks[f->by_name[mid]].name, prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    *out = NULL;
    for (size_t i = lo; i < f->n_tasks && strncmp(f->tasks[f->by_name[i]].name, prefix, len) == 0;
         i++) {
        *out = xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = f->by_name[i];
    }
    free(prefix);
    return n ? n : find_instances_inside(f, name, out);
}

int flow_no_task(const struct flow *f, const char *name, struct err *e)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < f->n_tasks + f->n_groups; i++) {
        const char *cand = i < f->n_tasks ? f->tasks[i].name : f->groups[i - f->n_tasks].name;
        size_t d = edit_distance(name, cand);
        if (d < best_d || (d == best_d && strcmp(cand, best) < 0)) {
            best_d = d;
            best = cand;
        }
    }
    if (best && best_d <= strlen(name) / 3 + 1)
        return err_set(e, "%s: no task named \"%s\" (did you mean \"%s\"?)", f->path, name,
                       best);
    return err_set(e, "%s: no task named \"%s\"", f->path, name);
}

const char *flow_param(const struct flow *f, const char *name)
{
    for (size_t i = 0; i < f->n_params; i++)
        if (strcmp(f->params[i].key, name) == 0)
            return f->params[i].value;
    return NULL;
}

char *flow_kv_json(const struct kv *kv, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++)
        cJSON_AddStringToObject(o, kv[i].key, kv[i].value);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
