/* flow: parsing and validation of flow files. */
#include "flow.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"

/* Fields a later version implements; until then they are refused, never ignored. */
static const char *const flow_fields[] = {"name", "description", "params", "tasks"};
static const char *const flow_fields_later[] = {"publish_root", "executor", "slurm"};
static const char *const task_fields[] = {"run", "after", "code", "files", "env", "description"};
static const char *const task_fields_later[] = {"keep",     "expire",   "volatile", "publish",
                                                "flow",     "with",     "executor", "slurm",
                                                "output"};

struct loader {
    const char *path; /* for messages */
    struct flow *f;
    struct err *e;
    struct strv *after; /* per task: `after` as written, until resolve_deps() */
    size_t cap_after;
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* The closest candidate within a small edit distance, or NULL. */
static const char *did_you_mean(const char *s, const char *const *list, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(s, list[i]);
        if (d < best_d) {
            best_d = d;
            best = list[i];
        }
    }
    return best && best_d <= strlen(s) / 3 + 1 ? best : NULL;
}

static int unknown_field(struct loader *L, const char *task, const char *field,
                         const char *const *known, size_t n_known,
                         const char *const *later, size_t n_later)
{
    char where[512] = "";
    if (task)
        snprintf(where, sizeof where, "task %s: ", task);
    if (in_list(field, later, n_later))
        return err_set(L->e, "%s: %sfield \"%s\" is not supported yet", L->path, where, field);
    const char *near = did_you_mean(field, known, n_known);
    if (!near)
        near = did_you_mean(field, later, n_later);
    if (near)
        return err_set(L->e, "%s: %sunknown field \"%s\" (did you mean \"%s\"?)", L->path, where,
                       field, near);
    return err_set(L->e, "%s: %sunknown field \"%s\"", L->path, where, field);
}

static bool is_extension(const char *field)
{
    return strncmp(field, "x-", 2) == 0;
}

/* --- syntax errors ------------------------------------------------------------------ */

static int syntax_error(struct loader *L, const char *buf, size_t len, const char *at)
{
    if (!at || at < buf || at > buf + len)
        at = buf + len;
    /* cJSON sometimes stops just past the culprit: step back over whitespace to it. */
    if (at < buf + len && isspace((unsigned char)*at)) {
        while (at > buf && isspace((unsigned char)at[-1]))
            at--;
        if (at > buf)
            at--;
    }
    long line = 1, col = 1;
    for (const char *p = buf; p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            col++;
        }
    }
    if (at >= buf + len)
        return err_set(L->e, "%s:%ld:%ld: invalid JSON: unexpected end of file", L->path, line,
                       col);
    if (isprint((unsigned char)*at))
        return err_set(L->e, "%s:%ld:%ld: invalid JSON near '%c'", L->path, line, col, *at);
    return err_set(L->e, "%s:%ld:%ld: invalid JSON", L->path, line, col);
}

/* --- small typed accessors ------------------------------------------------------------ */

static int want_string_array(struct loader *L, const char *task, const cJSON *j, const char *field,
                             struct strv *out)
{
    if (!cJSON_IsArray(j))
        return err_set(L->e, "%s: task %s: \"%s\" must be an array of strings", L->path, task,
                       field);
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        if (!cJSON_IsString(it))
            return err_set(L->e, "%s: task %s: \"%s\" must be an array of strings", L->path, task,
                           field);
        if (!it->valuestring[0])
            return err_set(L->e, "%s: task %s: \"%s\" has an empty string", L->path, task, field);
        strv_push(out, xstrdup(it->valuestring));
    }
    return 0;
}

/* Scalar JSON -> the text substituted for it. */
static char *scalar_text(const cJSON *j)
{
    if (cJSON_IsString(j))
        return xstrdup(j->valuestring);
    if (cJSON_IsBool(j))
        return xstrdup(cJSON_IsTrue(j) ? "true" : "false");
    if (cJSON_IsNumber(j))
        return cJSON_PrintUnformatted(j);
    return NULL;
}

/* --- parameters -------------------------------------------------------------------------- */

static int load_params(struct loader *L, const cJSON *params, cJSON *effective)
{
    if (!params)
        return 0;
    if (!cJSON_IsObject(params))
        return err_set(L->e, "%s: \"params\" must be an object", L->path);
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
    {
        if (cJSON_GetObjectItemCaseSensitive(effective, it->string))
            return err_set(L->e, "%s: parameter %s is defined twice", L->path, it->string);
        for (const char *c = it->string; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
                return err_set(L->e,
                               "%s: parameter \"%s\": names may use only letters, digits, _ and -",
                               L->path, it->string);
        if (!it->string[0])
            return err_set(L->e, "%s: a parameter has an empty name", L->path);
        if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it))
            return err_set(L->e, "%s: parameter %s must be a string, number or boolean", L->path,
                           it->string);
        cJSON_AddItemToObject(effective, it->string, cJSON_Duplicate(it, 1));
    }
    return 0;
}

/* `name=value`: the value is taken as JSON when it is a JSON scalar, else as a string. */
static int apply_override(struct loader *L, const char *ov, cJSON *effective)
{
    const char *eq = strchr(ov, '=');
    if (!eq || eq == ov)
        return err_set(L->e, "parameter override \"%s\" must look like name=value", ov);
    char *name = xstrndup(ov, (size_t)(eq - ov));
    if (!cJSON_GetObjectItemCaseSensitive(effective, name)) {
        err_set(L->e, "%s: no parameter named %s to override", L->path, name);
        free(name);
        return -1;
    }
    cJSON *v = cJSON_Parse(eq + 1);
    if (!v || !(cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsString(v))) {
        cJSON_Delete(v);
        v = cJSON_CreateString(eq + 1);
    }
    cJSON_ReplaceItemInObjectCaseSensitive(effective, name, v);
    free(name);
    return 0;
}

static void params_to_flow(struct flow *f, const cJSON *effective)
{
    size_t n = (size_t)cJSON_GetArraySize(effective);
    f->params = xcalloc(n, sizeof *f->params);
    const cJSON *it;
    cJSON_ArrayForEach(it, effective)
    {
        f->params[f->n_params].key = xstrdup(it->string);
        f->params[f->n_params].value = scalar_text(it);
        f->n_params++;
    }
    f->params_json = cJSON_PrintUnformatted(effective);
}

/* --- tasks ------------------------------------------------------------------------------- */

static bool valid_task_name(const char *s)
{
    if (!s[0] || s[0] == '.' || s[0] == '-' || strlen(s) > 128)
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
            return false;
    return true;
}

static char *in_var_name(const char *task)
{
    char *v = xasprintf("IN_%s", task);
    for (char *c = v + 3; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            *c = '_';
    return v;
}

static int load_env(struct loader *L, struct task *t, const cJSON *j)
{
    if (!cJSON_IsObject(j))
        return err_set(L->e, "%s: task %s: \"env\" must be an object of strings", L->path,
                       t->name);
    size_t n = (size_t)cJSON_GetArraySize(j);
    t->env = xcalloc(n, sizeof *t->env);
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        char *val = scalar_text(it);
        if (!val)
            return err_set(L->e, "%s: task %s: env %s must be a string, number or boolean",
                           L->path, t->name, it->string);
        bool ok = it->string[0] && !isdigit((unsigned char)it->string[0]);
        for (const char *c = it->string; *c; c++)
            ok = ok && (isalnum((unsigned char)*c) || *c == '_');
        if (!ok || strcmp(it->string, "OUT") == 0 || strncmp(it->string, "IN_", 3) == 0) {
            free(val);
            return err_set(L->e, "%s: task %s: env \"%s\" is not a usable variable name%s",
                           L->path, t->name, it->string,
                           ok ? " (OUT and IN_* are set by sluice)" : "");
        }
        t->env[t->n_env].key = xstrdup(it->string);
        t->env[t->n_env].value = val;
        t->n_env++;
    }
    return 0;
}

static int load_task(struct loader *L, const cJSON *j, struct task *t, struct strv *after)
{
    if (!cJSON_IsObject(j))
        return err_set(L->e, "%s: task %s: must be an object", L->path, t->name);
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        const cJSON *dup = cJSON_GetObjectItemCaseSensitive(j, it->string);
        if (dup != it)
            return err_set(L->e, "%s: task %s: field \"%s\" appears twice", L->path, t->name,
                           it->string);
        const char *k = it->string;
        int rc = 0;
        if (strcmp(k, "run") == 0) {
            if (!cJSON_IsString(it) || !it->valuestring[0])
                rc = err_set(L->e, "%s: task %s: \"run\" must be a non-empty string", L->path,
                             t->name);
            else
                t->run = xstrdup(it->valuestring);
        } else if (strcmp(k, "after") == 0) {
            rc = want_string_array(L, t->name, it, "after", after);
        } else if (strcmp(k, "code") == 0) {
            rc = want_string_array(L, t->name, it, "code", &t->code);
        } else if (strcmp(k, "files") == 0) {
            rc = want_string_array(L, t->name, it, "files", &t->files);
        } else if (strcmp(k, "env") == 0) {
            rc = load_env(L, t, it);
        } else if (strcmp(k, "description") == 0) {
            if (!cJSON_IsString(it))
                rc = err_set(L->e, "%s: task %s: \"description\" must be a string", L->path,
                             t->name);
        } else if (!is_extension(k)) {
            rc = unknown_field(L, t->name, k, task_fields, ARRAY_LEN(task_fields),
                               task_fields_later, ARRAY_LEN(task_fields_later));
        }
        if (rc)
            return rc;
    }
    if (!t->run)
        return err_set(L->e, "%s: task %s: missing \"run\" (the command to execute)", L->path,
                       t->name);
    return 0;
}

/* --- reading the document ----------------------------------------------------------------
 *
 * The top-level object is read member by member and the "tasks" object task by task.
 * cJSON parses every key and value (and says where each ends); this code only steps
 * over whitespace and the punctuation between them. So only one task's tree exists
 * at a time: cJSON's tree of a whole 100,000-task flow would be four times its size. */

struct reader {
    struct loader *L;
    const char *buf, *p, *end; /* *end == 0 */
    cJSON *top;                /* every top-level member but "tasks" */
    bool tasks_seen;
    size_t cap_tasks;
};

static void skip_ws(struct reader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n')
        r->p++;
}

static int fail_at(struct reader *r, const char *at)
{
    return syntax_error(r->L, r->buf, (size_t)(r->end - r->buf), at);
}

static cJSON *read_value(struct reader *r)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(r->p, (size_t)(r->end - r->p), &end, 0);
    if (!v) {
        fail_at(r, end);
        return NULL;
    }
    r->p = end;
    return v;
}

/* Reads `"key":` and returns the key (caller frees), leaving r->p at the value. */
static char *read_key(struct reader *r)
{
    skip_ws(r);
    if (*r->p != '"') {
        fail_at(r, r->p);
        return NULL;
    }
    cJSON *k = read_value(r);
    if (!k)
        return NULL;
    char *key = xstrdup(k->valuestring);
    cJSON_Delete(k);
    skip_ws(r);
    if (*r->p != ':') {
        free(key);
        fail_at(r, r->p);
        return NULL;
    }
    r->p++;
    skip_ws(r);
    return key;
}

/* Calls member() for each member of the object at r->p; member() consumes the value. */
static int read_object(struct reader *r, int (*member)(struct reader *, const char *))
{
    skip_ws(r);
    if (*r->p != '{')
        return fail_at(r, r->p);
    r->p++;
    skip_ws(r);
    if (*r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        char *key = read_key(r);
        if (!key)
            return -1;
        int rc = member(r, key);
        free(key);
        if (rc)
            return -1;
        skip_ws(r);
        if (*r->p == ',')
            r->p++;
        else if (*r->p == '}')
            return r->p++, 0;
        else
            return fail_at(r, r->p);
    }
}

static int task_member(struct reader *r, const char *name)
{
    struct loader *L = r->L;
    struct flow *f = L->f;
    cJSON *j = read_value(r);
    if (!j)
        return -1;
    xgrow(&f->tasks, &r->cap_tasks, f->n_tasks + 1, sizeof *f->tasks);
    xgrow(&L->after, &L->cap_after, f->n_tasks + 1, sizeof *L->after);
    memset(&L->after[f->n_tasks], 0, sizeof *L->after);
    struct task *t = &f->tasks[f->n_tasks++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    int rc = 0;
    if (!valid_task_name(t->name))
        rc = err_set(L->e,
                     "%s: task \"%s\": names may use letters, digits, '_', '-' and '.', "
                     "and may not start with '.' or '-'",
                     L->path, t->name);
    if (rc == 0) {
        t->in_var = in_var_name(t->name);
        rc = load_task(L, j, t, &L->after[f->n_tasks - 1]);
    }
    cJSON_Delete(j);
    return rc;
}

static int top_member(struct reader *r, const char *key)
{
    struct loader *L = r->L;
    if (strcmp(key, "tasks") == 0) {
        if (r->tasks_seen)
            return err_set(L->e, "%s: field \"tasks\" appears twice", L->path);
        r->tasks_seen = true;
        if (*r->p == '{')
            return read_object(r, task_member);
        cJSON *v = read_value(r);
        cJSON_Delete(v);
        return v ? err_set(L->e, "%s: \"tasks\" must be an object mapping names to tasks",
                           L->path)
                 : -1;
    }
    cJSON *v = read_value(r);
    if (!v)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(r->top, key)) {
        cJSON_Delete(v);
        return err_set(L->e, "%s: field \"%s\" appears twice", L->path, key);
    }
    cJSON_AddItemToObject(r->top, key, v);
    return 0;
}

static int read_document(struct reader *r)
{
    if (strncmp(r->p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        r->p += 3;
    skip_ws(r);
    if (*r->p != '{') {
        cJSON *v = read_value(r);
        cJSON_Delete(v);
        return v ? err_set(r->L->e, "%s: the top level must be an object with \"tasks\"",
                           r->L->path)
                 : -1;
    }
    if (read_object(r, top_member))
        return -1;
    skip_ws(r);
    return r->p == r->end ? 0 : fail_at(r, r->p);
}

/* --- graph ------------------------------------------------------------------------------- */

static int cmp_task_idx(const void *a, const void *b, void *ctx)
{
    const struct flow *f = ctx;
    return strcmp(f->tasks[*(const size_t *)a].name, f->tasks[*(const size_t *)b].name);
}

/* Task indices sorted by name, for O(log n) lookups while resolving `after`. */
static size_t *sorted_indices(const struct flow *f)
{
    size_t *idx = xcalloc(f->n_tasks, sizeof *idx);
    for (size_t i = 0; i < f->n_tasks; i++)
        idx[i] = i;
    qsort_r(idx, f->n_tasks, sizeof *idx, cmp_task_idx, (void *)f);
    return idx;
}

static long find_sorted(const struct flow *f, const size_t *sorted, const char *name)
{
    size_t lo = 0, hi = f->n_tasks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(f->tasks[sorted[mid]].name, name);
        if (c == 0)
            return (long)sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int unknown_after(struct loader *L, const struct task *t, const char *name)
{
    const struct flow *f = L->f;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < f->n_tasks && f->n_tasks < 5000; i++) {
        size_t d = edit_distance(name, f->tasks[i].name);
        if (d < best_d) {
            best_d = d;
            best = f->tasks[i].name;
        }
    }
    if (best && best_d <= strlen(name) / 3 + 1)
        return err_set(L->e, "%s: task %s: \"after\" names unknown task \"%s\" (did you mean \"%s\"?)",
                       L->path, t->name, name, best);
    return err_set(L->e, "%s: task %s: \"after\" names unknown task \"%s\"", L->path, t->name,
                   name);
}

static int resolve_deps(struct loader *L)
{
    struct flow *f = L->f;
    size_t *sorted = sorted_indices(f);
    int rc = 0;
    for (size_t i = 1; i < f->n_tasks && rc == 0; i++)
        if (strcmp(f->tasks[sorted[i]].name, f->tasks[sorted[i - 1]].name) == 0)
            rc = err_set(L->e, "%s: task %s is defined twice", L->path, f->tasks[sorted[i]].name);
    for (size_t i = 0; i < f->n_tasks && rc == 0; i++) {
        struct task *t = &f->tasks[i];
        const struct strv *after = &L->after[i];
        t->deps = after->n ? xcalloc(after->n, sizeof *t->deps) : NULL;
        for (size_t k = 0; k < after->n && rc == 0; k++) {
            long d = find_sorted(f, sorted, after->v[k]);
            if (d < 0) {
                rc = unknown_after(L, t, after->v[k]);
                break;
            }
            for (size_t m = 0; m < t->n_deps; m++)
                if (t->deps[m] == (size_t)d)
                    rc = err_set(L->e, "%s: task %s: \"after\" lists %s twice", L->path, t->name,
                                 after->v[k]);
            t->deps[t->n_deps++] = (size_t)d;
        }
    }
    free(sorted);
    return rc;
}

static int check_in_vars(struct loader *L)
{
    struct flow *f = L->f;
    struct strv vars = {0};
    for (size_t i = 0; i < f->n_tasks; i++)
        strv_pushf(&vars, "%s\t%s", f->tasks[i].in_var, f->tasks[i].name);
    strv_sort(&vars);
    int rc = 0;
    for (size_t i = 1; i < vars.n && rc == 0; i++) {
        char *a = vars.v[i - 1], *b = vars.v[i];
        size_t la = strcspn(a, "\t"), lb = strcspn(b, "\t");
        if (la == lb && memcmp(a, b, la) == 0)
            rc = err_set(L->e, "%s: tasks %s and %s would both be passed as %.*s", L->path,
                         a + la + 1, b + lb + 1, (int)la, a);
    }
    strv_free(&vars);
    return rc;
}

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
    err_set(L->e, "%s: cycle: %s", L->path, b.buf);
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
    size_t *n_down = xcalloc(n, sizeof *n_down);
    for (size_t i = 0; i < n; i++) {
        indeg[i] = f->tasks[i].n_deps;
        for (size_t k = 0; k < f->tasks[i].n_deps; k++)
            n_down[f->tasks[i].deps[k]]++;
    }
    /* Downstream adjacency in CSR form. */
    size_t *off = xcalloc(n + 1, sizeof *off);
    for (size_t i = 0; i < n; i++)
        off[i + 1] = off[i] + n_down[i];
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
    free(n_down);
    free(off);
    free(down);
    free(fill);
    return rc;
}

/* --- substitution and code expansion ------------------------------------------------------ */

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static char *glob_escape(const char *s)
{
    struct sb b = {0};
    for (; *s; s++) {
        if (strchr("*?[]\\", *s))
            sb_addc(&b, '\\');
        sb_addc(&b, *s);
    }
    return sb_take(&b);
}

static void add_dir_files(const char *dir, const char *rel, struct strv *out)
{
    char *abs = path_join(dir, rel);
    DIR *d = opendir(abs);
    free(abs);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, ".git") == 0 ||
            strcmp(n, ".sluice") == 0)
            continue;
        char *child = xasprintf("%s/%s", rel, n);
        char *child_abs = path_join(dir, child);
        struct stat st;
        if (stat(child_abs, &st) == 0 && S_ISDIR(st.st_mode))
            add_dir_files(dir, child, out);
        else if (S_ISREG(st.st_mode))
            strv_push(out, xstrdup(child));
        free(child);
        free(child_abs);
    }
    closedir(d);
}

/* Adds the files matching one code pattern (relative to dir) to out. */
static int expand_code(struct loader *L, const struct task *t, const char *pattern,
                       struct strv *out)
{
    const char *dir = L->f->dir;
    size_t before = out->n;
    if (has_glob(pattern)) {
        char *edir = glob_escape(dir);
        char *full = pattern[0] == '/' ? xstrdup(pattern) : xasprintf("%s/%s", edir, pattern);
        glob_t g;
        int rc = glob(full, 0, NULL, &g);
        if (rc == 0) {
            size_t dl = strlen(dir);
            for (size_t i = 0; i < g.gl_pathc; i++) {
                const char *m = g.gl_pathv[i];
                struct stat st;
                if (stat(m, &st) != 0 || !S_ISREG(st.st_mode))
                    continue;
                if (pattern[0] != '/' && strncmp(m, dir, dl) == 0 && m[dl] == '/')
                    m += dl + 1;
                strv_push(out, xstrdup(m));
            }
        }
        globfree(&g);
        free(edir);
        free(full);
    } else {
        char *abs = path_join(dir, pattern);
        struct stat st;
        int rc = stat(abs, &st);
        free(abs);
        if (rc != 0)
            return err_set(L->e, "%s: task %s: code file %s: %s", L->path, t->name, pattern,
                           strerror(errno));
        if (S_ISDIR(st.st_mode))
            add_dir_files(dir, pattern, out);
        else
            strv_push(out, xstrdup(pattern));
    }
    if (out->n == before)
        return err_set(L->e, "%s: task %s: code pattern %s matches no file", L->path, t->name,
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

static int expand_one(struct loader *L, const struct task *t, const struct template_vars *v,
                      const char *field, char **s)
{
    char *out;
    if (template_expand(*s, v, &out, L->e))
        return err_prefix(L->e, "%s: task %s: %s", L->path, t->name, field);
    free(*s);
    *s = out;
    return 0;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static int substitute_task(struct loader *L, struct task *t, const struct template_vars *base)
{
    struct template_vars v = *base;
    v.task = t->name;
    template_params(t->run, &t->params);
    for (size_t i = 0; i < t->code.n; i++)
        template_params(t->code.v[i], &t->params);
    for (size_t i = 0; i < t->files.n; i++)
        template_params(t->files.v[i], &t->params);
    for (size_t i = 0; i < t->n_env; i++)
        template_params(t->env[i].value, &t->params);
    strv_sort(&t->params);

    if (expand_one(L, t, &v, "run", &t->run))
        return -1;
    for (size_t i = 0; i < t->files.n; i++)
        if (expand_one(L, t, &v, "files", &t->files.v[i]))
            return -1;
    for (size_t i = 0; i < t->n_env; i++)
        if (expand_one(L, t, &v, "env", &t->env[i].value))
            return -1;
    if (t->n_env > 1)
        sort_array(t->env, t->n_env, sizeof *t->env, cmp_kv);
    struct strv matched = {0};
    for (size_t i = 0; i < t->code.n; i++) {
        char *pat = xstrdup(t->code.v[i]);
        int rc = expand_one(L, t, &v, "code", &pat);
        if (rc == 0)
            rc = expand_code(L, t, pat, &matched);
        free(pat);
        if (rc) {
            strv_free(&matched);
            return -1;
        }
    }
    strv_uniq(&matched);
    strv_free(&t->code);
    t->code = matched;
    return 0;
}

static int substitute_all(struct loader *L)
{
    struct flow *f = L->f;
    const char **names = xcalloc(f->n_params, sizeof *names);
    const char **values = xcalloc(f->n_params, sizeof *values);
    for (size_t i = 0; i < f->n_params; i++) {
        names[i] = f->params[i].key;
        values[i] = f->params[i].value;
    }
    struct template_vars v = {.param_names = names,
                              .param_values = values,
                              .n_params = f->n_params,
                              .flow = f->name};
    int rc = 0;
    for (size_t i = 0; i < f->n_tasks && rc == 0; i++)
        rc = substitute_task(L, &f->tasks[i], &v);
    free(names);
    free(values);
    return rc;
}

/* --- top level --------------------------------------------------------------------------- */

static char *default_name(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    return xstrdup(slash && slash[1] ? slash + 1 : "flow");
}

/* Checks the top-level fields (tasks were read already), then the graph. */
static int load_root(struct loader *L, const struct reader *r, const struct strv *overrides)
{
    struct flow *f = L->f;
    const cJSON *root = r->top;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (!in_list(it->string, flow_fields, ARRAY_LEN(flow_fields)) && !is_extension(it->string))
            return unknown_field(L, NULL, it->string, flow_fields, ARRAY_LEN(flow_fields),
                                 flow_fields_later, ARRAY_LEN(flow_fields_later));
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (name && (!cJSON_IsString(name) || !name->valuestring[0]))
        return err_set(L->e, "%s: \"name\" must be a non-empty string", L->path);
    f->name = name ? xstrdup(name->valuestring) : default_name(f->dir);
    if (!r->tasks_seen)
        return err_set(L->e, "%s: missing \"tasks\"", L->path);
    if (f->n_tasks == 0)
        return err_set(L->e, "%s: \"tasks\" is empty", L->path);

    cJSON *effective = cJSON_CreateObject();
    int rc = load_params(L, cJSON_GetObjectItemCaseSensitive(root, "params"), effective);
    for (size_t i = 0; rc == 0 && overrides && i < overrides->n; i++)
        rc = apply_override(L, overrides->v[i], effective);
    if (rc == 0)
        params_to_flow(f, effective);
    cJSON_Delete(effective);
    if (rc || resolve_deps(L) || check_in_vars(L) || order_tasks(L))
        return -1;
    return substitute_all(L);
}

static char *absolute_path(const char *path, struct err *e)
{
    char *abs = realpath(path, NULL);
    if (!abs)
        err_set(e, "%s: %s", path, strerror(errno));
    return abs;
}

int flow_load(const char *path, const struct strv *overrides, struct flow **out, struct err *e)
{
    *out = NULL;
    size_t len;
    char *buf = file_read_all(path, &len, e);
    if (!buf)
        return -1;
    struct flow *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    f->abspath = absolute_path(path, e);
    struct loader L = {.path = path, .f = f, .e = e};
    int rc = -1;
    if (f->abspath) {
        f->dir = xstrdup(f->abspath);
        *strrchr(f->dir, '/') = 0;
        if (!f->dir[0])
            strcpy(f->dir, "/");
        struct reader r = {.L = &L, .buf = buf, .p = buf, .end = buf + len,
                           .top = cJSON_CreateObject()};
        rc = read_document(&r);
        free(buf); /* everything read was copied */
        buf = NULL;
        if (rc == 0)
            rc = load_root(&L, &r, overrides);
        cJSON_Delete(r.top);
        for (size_t i = 0; i < f->n_tasks; i++)
            strv_free(&L.after[i]);
        free(L.after);
    }
    free(buf);
    if (rc) {
        flow_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

void flow_free(struct flow *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_tasks; i++) {
        struct task *t = &f->tasks[i];
        free(t->name);
        free(t->in_var);
        free(t->run);
        free(t->deps);
        strv_free(&t->code);
        strv_free(&t->files);
        for (size_t k = 0; k < t->n_env; k++) {
            free(t->env[k].key);
            free(t->env[k].value);
        }
        free(t->env);
        strv_free(&t->params);
    }
    free(f->tasks);
    for (size_t i = 0; i < f->n_params; i++) {
        free(f->params[i].key);
        free(f->params[i].value);
    }
    free(f->params);
    free(f->params_json);
    free(f->order);
    free(f->name);
    free(f->path);
    free(f->abspath);
    free(f->dir);
    free(f);
}

long flow_find(const struct flow *f, const char *name)
{
    for (size_t i = 0; i < f->n_tasks; i++)
        if (strcmp(f->tasks[i].name, name) == 0)
            return (long)i;
    return -1;
}

size_t *flow_sinks(const struct flow *f, size_t *n)
{
    bool *has_down = xcalloc(f->n_tasks, sizeof *has_down);
    for (size_t i = 0; i < f->n_tasks; i++)
        for (size_t k = 0; k < f->tasks[i].n_deps; k++)
            has_down[f->tasks[i].deps[k]] = true;
    size_t *s = xcalloc(f->n_tasks, sizeof *s);
    *n = 0;
    for (size_t i = 0; i < f->n_tasks; i++)
        if (!has_down[i])
            s[(*n)++] = i;
    free(has_down);
    return s;
}

const char *flow_param(const struct flow *f, const char *name)
{
    for (size_t i = 0; i < f->n_params; i++)
        if (strcmp(f->params[i].key, name) == 0)
            return f->params[i].value;
    return NULL;
}

char *flow_env_json(const struct task *t)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < t->n_env; i++)
        cJSON_AddStringToObject(o, t->env[i].key, t->env[i].value);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
