/* matrix: a flow file's "matrix" tasks expanded into instances (see matrix.h). */
#include "matrix.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "template.h"

struct mvar {
    char *name;
    struct strv values; /* substitution texts, in list order */
};

/* One matrix task: its variables, and where its instances are in the new task array. */
struct mtask {
    const char *base;
    bool subflow; /* a sub-flow node: "base/inner" names a task inside each instance */
    struct mvar *vars;
    size_t n_vars;
    size_t n_inst;
    size_t first;
};

struct expansion {
    const cJSON *params;
    const char *path;
    struct err *e;
    struct mtask *m;
    size_t n_m;
    struct rawtask *out;
    size_t n_out;
    long *owner;    /* per new task: its mtask, or -1 */
    size_t *points; /* per new task: n_vars value indices (instances only) */
    size_t *point_at;
};

/* --- list parameters used as scalars ---------------------------------------------------- */

static int scalar_use(struct expansion *x, const struct rawtask *t, const char *field,
                      const char *tpl)
{
    if (!tpl)
        return 0;
    struct strv names = {0};
    template_params(tpl, &names);
    int rc = 0;
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(x->params, names.v[i]);
        if (cJSON_IsArray(p))
            rc = err_set(x->e,
                         "%s:%d:%d: task %s: %s: parameter %s is a list, not one value (give "
                         "it to \"matrix\": {\"%s\": \"{params.%s}\"} and write {matrix.%s})",
                         x->path, t->line, t->col, t->name, field, names.v[i], names.v[i],
                         names.v[i], names.v[i]);
    }
    strv_free(&names);
    return rc;
}

static int check_scalar_uses(struct expansion *x, const struct rawtask *t)
{
    int rc = scalar_use(x, t, "run", t->run) || scalar_use(x, t, "publish", t->publish);
    for (size_t i = 0; rc == 0 && i < t->code.n; i++)
        rc = scalar_use(x, t, "code", t->code.v[i]);
    for (size_t i = 0; rc == 0 && i < t->files.n; i++)
        rc = scalar_use(x, t, "files", t->files.v[i]);
    for (size_t i = 0; rc == 0 && i < t->n_env; i++)
        rc = scalar_use(x, t, "env", t->env[i].value);
    for (size_t i = 0; rc == 0 && i < t->n_with; i++)
        rc = scalar_use(x, t, "with", t->with[i].value);
    for (size_t i = 0; rc == 0 && i < t->outputs.n; i++)
        rc = scalar_use(x, t, "outputs", t->outputs.v[i]);
    for (size_t i = 0; rc == 0 && i < t->n_exec_opts; i++)
        rc = scalar_use(x, t, t->exec_opts[i].key, t->exec_opts[i].value);
    return rc;
}

/* --- reading a task's "matrix" ------------------------------------------------------------ */

#define VALUE_MAX 128 /* bytes, like a task name */
#define LABEL_MAX 255 /* an instance's values joined: a gather's directory entry (NAME_MAX) */

static bool ascii_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A value becomes part of task names, $IN_ variables, gather entries and publish paths:
 * NULL when it is fit for all of them, else why not. */
static const char *value_problem(const char *s)
{
    if (!s[0])
        return "is empty";
    if (s[0] == '.')
        return "starts with '.' (as a directory entry of a gather it would be hidden, or "
               "be . or ..)";
    if (strlen(s) > VALUE_MAX)
        return "is longer than 128 bytes";
    for (const char *c = s; *c; c++)
        if (!ascii_alnum(*c) && !strchr("_-.+", *c))
            return "may use only letters, digits, '_', '-', '.' and '+' (it becomes part of a "
                   "task name)";
    return NULL;
}

static bool var_name_ok(const char *s)
{
    if (!s[0])
        return false;
    for (const char *c = s; *c; c++)
        if (!ascii_alnum(*c) && *c != '_')
            return false;
    return true;
}

/* The list a variable ranges over: a literal list, or a "{params.NAME}" parameter. */
static const cJSON *var_list(struct expansion *x, const struct rawtask *t, const cJSON *v)
{
    if (cJSON_IsArray(v))
        return v;
    size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    if (n > 9 && strncmp(v->valuestring, "{params.", 8) == 0 && v->valuestring[n - 1] == '}') {
        char *name = xstrndup(v->valuestring + 8, n - 9);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(x->params, name);
        if (!p)
            err_set(x->e, "%s:%d:%d: task %s: matrix variable %s: unknown parameter {params.%s}",
                    x->path, t->line, t->col, t->name, v->string, name);
        free(name);
        return p;
    }
    err_set(x->e,
            "%s:%d:%d: task %s: matrix variable %s must be a list or \"{params.NAME}\"",
            x->path, t->line, t->col, t->name, v->string);
    return NULL;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_values(struct expansion *x, const struct rawtask *t, const cJSON *list,
                       struct mvar *mv)
{
    if (cJSON_IsArray(list) && !list->child)
        return err_set(x->e, "%s:%d:%d: task %s: matrix variable %s is an empty list", x->path,
                       t->line, t->col, t->name, mv->name);
    const cJSON *it;
    if (!cJSON_IsArray(list)) {
        strv_push(&mv->values, flowfile_scalar_text(list));
    } else {
        cJSON_ArrayForEach(it, list)
        {
            char *s = flowfile_scalar_text(it);
            if (!s)
                return err_set(x->e,
                               "%s:%d:%d: task %s: matrix variable %s: values must be strings, "
                               "numbers or booleans",
                               x->path, t->line, t->col, t->name, mv->name);
            strv_push(&mv->values, s);
        }
    }
    for (size_t i = 0; i < mv->values.n; i++) {
        const char *why = value_problem(mv->values.v[i]);
        if (why)
            return err_set(x->e, "%s:%d:%d: task %s: matrix variable %s: value \"%.40s%s\" %s",
                           x->path, t->line, t->col, t->name, mv->name, mv->values.v[i],
                           strlen(mv->values.v[i]) > 40 ? "..." : "", why);
    }
    char **sorted = xcalloc(mv->values.n + 1, sizeof *sorted);
    memcpy(sorted, mv->values.v, mv->values.n * sizeof *sorted);
    sort_array(sorted, mv->values.n, sizeof *sorted, cmp_strp);
    int rc = 0;
    for (size_t i = 1; i < mv->values.n && rc == 0; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            rc = err_set(x->e,
                         "%s:%d:%d: task %s: matrix variable %s lists %s twice (instance "
                         "names would repeat)",
                         x->path, t->line, t->col, t->name, mv->name, sorted[i]);
    free(sorted);
    return rc;
}

/* The longest instance label (each variable's longest value, joined) must fit in a
 * directory entry. */
static int check_label_length(struct expansion *x, const struct rawtask *t,
                              const struct mtask *m)
{
    size_t len = m->n_vars ? m->n_vars - 1 : 0;
    for (size_t j = 0; j < m->n_vars; j++) {
        size_t longest = 0;
        for (size_t i = 0; i < m->vars[j].values.n; i++)
            if (strlen(m->vars[j].values.v[i]) > longest)
                longest = strlen(m->vars[j].values.v[i]);
        len += longest;
    }
    if (len > LABEL_MAX)
        return err_set(x->e,
                       "%s:%d:%d: task %s: matrix: an instance's values joined would be %zu "
                       "bytes, more than %d (they name its directory in a gather)",
                       x->path, t->line, t->col, t->name, len, LABEL_MAX);
    return 0;
}

static int read_matrix(struct expansion *x, const struct rawtask *t, struct mtask *m)
{
    m->base = t->name;
    m->subflow = t->subflow != NULL;
    cJSON *j = flowfile_json(t->matrix);
    int rc = 0;
    m->vars = xcalloc((size_t)cJSON_GetArraySize(j) + 1, sizeof *m->vars);
    m->n_inst = 1;
    const cJSON *v;
    cJSON_ArrayForEach(v, j)
    {
        if (rc)
            break;
        struct mvar *mv = &m->vars[m->n_vars++];
        mv->name = xstrdup(v->string);
        if (!var_name_ok(mv->name)) {
            rc = err_set(x->e,
                         "%s:%d:%d: task %s: matrix variable \"%s\": names may use only "
                         "letters, digits and _",
                         x->path, t->line, t->col, t->name, mv->name);
            break;
        }
        const cJSON *list = var_list(x, t, v);
        rc = list ? read_values(x, t, list, mv) : -1;
        m->n_inst *= mv->values.n;
    }
    if (rc == 0)
        rc = check_label_length(x, t, m);
    cJSON_Delete(j);
    return rc;
}

/* --- instances ----------------------------------------------------------------------------- */

static const char *var_value(const struct mtask *m, const size_t *point, const char *name)
{
    for (size_t i = 0; m && i < m->n_vars; i++)
        if (strcmp(m->vars[i].name, name) == 0)
            return m->vars[i].values.v[point[i]];
    return NULL;
}

/* tpl with every {matrix.VAR} replaced (m NULL: the task has no matrix). */
static int subst(struct expansion *x, const struct rawtask *t, const struct mtask *m,
                 const size_t *point, const char *field, const char *tpl, char **out)
{
    struct sb b = {0};
    const char *s = tpl;
    for (const char *at; (at = strstr(s, "{matrix.")) != NULL;) {
        const char *end = strchr(at, '}');
        if (!end)
            break;
        char *name = xstrndup(at + 8, (size_t)(end - at - 8));
        const char *val = var_value(m, point, name);
        if (!val) {
            if (m)
                err_set(x->e, "%s:%d:%d: task %s: %s: unknown matrix variable {matrix.%s}",
                        x->path, t->line, t->col, t->name, field, name);
            else
                err_set(x->e, "%s:%d:%d: task %s: %s: {matrix.%s} but the task has no \"matrix\"",
                        x->path, t->line, t->col, t->name, field, name);
            free(name);
            sb_free(&b);
            return -1;
        }
        free(name);
        sb_add(&b, s, (size_t)(at - s));
        sb_adds(&b, val);
        s = end + 1;
    }
    sb_adds(&b, s);
    *out = b.buf ? b.buf : xstrdup("");
    return 0;
}

static int subst_fields(struct expansion *x, const struct rawtask *rt, const struct mtask *m,
                        const size_t *point, struct rawtask *t)
{
    int rc = rt->run ? subst(x, rt, m, point, "run", rt->run, &t->run) : 0;
    if (rc == 0 && rt->publish)
        rc = subst(x, rt, m, point, "publish", rt->publish, &t->publish);
    for (size_t i = 0; rc == 0 && i < rt->code.n; i++) {
        char *s;
        if ((rc = subst(x, rt, m, point, "code", rt->code.v[i], &s)) == 0)
            strv_push(&t->code, s);
    }
    for (size_t i = 0; rc == 0 && i < rt->files.n; i++) {
        char *s;
        if ((rc = subst(x, rt, m, point, "files", rt->files.v[i], &s)) == 0)
            strv_push(&t->files, s);
    }
    for (size_t i = 0; rc == 0 && i < rt->outputs.n; i++) {
        char *s;
        if ((rc = subst(x, rt, m, point, "outputs", rt->outputs.v[i], &s)) == 0)
            strv_push(&t->outputs, s);
    }
    if (rt->n_env)
        t->env = xcalloc(rt->n_env, sizeof *t->env);
    for (size_t i = 0; rc == 0 && i < rt->n_env; i++) {
        t->env[i].key = xstrdup(rt->env[i].key);
        rc = subst(x, rt, m, point, "env", rt->env[i].value, &t->env[i].value);
        t->n_env++;
    }
    if (rt->n_with)
        t->with = xcalloc(rt->n_with, sizeof *t->with);
    for (size_t i = 0; rc == 0 && i < rt->n_with; i++) {
        t->with[i].key = xstrdup(rt->with[i].key);
        rc = subst(x, rt, m, point, "with", rt->with[i].value, &t->with[i].value);
        t->n_with++;
    }
    return rc;
}

static struct kv *kv_dup(const struct kv *kv, size_t n)
{
    struct kv *c = n ? xcalloc(n, sizeof *c) : NULL;
    for (size_t i = 0; i < n; i++)
        c[i] = (struct kv){xstrdup(kv[i].key), xstrdup(kv[i].value)};
    return c;
}

static char *instance_label(const struct mtask *m, const size_t *point)
{
    struct sb b = {0};
    for (size_t i = 0; i < m->n_vars; i++)
        sb_addf(&b, "%s%s", i ? "," : "", m->vars[i].values.v[point[i]]);
    return b.buf;
}

/* Fills t (zeroed) as the instance of rt at point. */
static int make_instance(struct expansion *x, const struct rawtask *rt, const struct mtask *m,
                         const size_t *point, struct rawtask *t)
{
    char *label = instance_label(m, point);
    t->name = xasprintf("%s@%s", rt->name, label);
    free(label);
    t->line = rt->line;
    t->col = rt->col;
    t->keep = rt->keep;
    t->expire = rt->expire;
    t->is_volatile = rt->is_volatile;
    t->publish_link = rt->publish_link;
    t->output = rt->output;
    t->cpus = rt->cpus;
    t->subflow = rt->subflow ? xstrdup(rt->subflow) : NULL;
    t->executor = rt->executor ? xstrdup(rt->executor) : NULL;
    t->exec_opts = kv_dup(rt->exec_opts, rt->n_exec_opts);
    t->n_exec_opts = rt->n_exec_opts;
    for (size_t i = 0; i < rt->after.n; i++)
        strv_push(&t->after, xstrdup(rt->after.v[i]));
    return subst_fields(x, rt, m, point, t);
}

static bool mentions_matrix(const struct rawtask *rt)
{
    bool any = (rt->run && strstr(rt->run, "{matrix.")) ||
               (rt->publish && strstr(rt->publish, "{matrix."));
    for (size_t i = 0; !any && i < rt->code.n; i++)
        any = strstr(rt->code.v[i], "{matrix.") != NULL;
    for (size_t i = 0; !any && i < rt->files.n; i++)
        any = strstr(rt->files.v[i], "{matrix.") != NULL;
    for (size_t i = 0; !any && i < rt->outputs.n; i++)
        any = strstr(rt->outputs.v[i], "{matrix.") != NULL;
    for (size_t i = 0; !any && i < rt->n_env; i++)
        any = strstr(rt->env[i].value, "{matrix.") != NULL;
    for (size_t i = 0; !any && i < rt->n_with; i++)
        any = strstr(rt->with[i].value, "{matrix.") != NULL;
    return any;
}

/* A task without "matrix" may not use {matrix.*}. */
static int check_plain(struct expansion *x, const struct rawtask *rt)
{
    if (!mentions_matrix(rt))
        return 0;
    struct rawtask tmp = {0};
    int rc = subst_fields(x, rt, NULL, NULL, &tmp);
    rawtask_free(&tmp);
    return rc;
}

/* A task without matrix moves as it is. */
static int move_plain(struct expansion *x, struct rawtask *rt, struct rawtask *t)
{
    (void)x; /* checked by matrix_expand() */
    *t = *rt;
    memset(rt, 0, sizeof *rt);
    return 0;
}

/* --- edges --------------------------------------------------------------------------------- */

static long find_mtask(const struct expansion *x, const char *name)
{
    for (size_t i = 0; i < x->n_m; i++)
        if (strcmp(x->m[i].base, name) == 0)
            return (long)i;
    return -1;
}

static long value_index(const struct mvar *v, const char *value)
{
    for (size_t i = 0; i < v->values.n; i++)
        if (strcmp(v->values.v[i], value) == 0)
            return (long)i;
    return -1;
}

/* The one instance of u with t's values (t has every variable of u), or -1. */
static long paired(const struct mtask *u, const struct mtask *m, const size_t *point)
{
    size_t idx = 0;
    for (size_t j = 0; j < u->n_vars; j++) {
        long v = value_index(&u->vars[j], var_value(m, point, u->vars[j].name));
        if (v < 0)
            return -1;
        idx = idx * u->vars[j].values.n + (size_t)v;
    }
    return (long)idx;
}

static bool agrees(const struct expansion *x, const struct mtask *u, size_t inst,
                   const struct mtask *m, const size_t *point)
{
    const size_t *up = &x->points[x->point_at[u->first + inst]];
    for (size_t j = 0; m && j < u->n_vars; j++) {
        const char *mine = var_value(m, point, u->vars[j].name);
        if (mine && strcmp(mine, u->vars[j].values.v[up[j]]) != 0)
            return false;
    }
    return true;
}

static bool has_all_vars(const struct mtask *u, const struct mtask *m)
{
    for (size_t j = 0; j < u->n_vars; j++) {
        bool found = false;
        for (size_t k = 0; m && k < m->n_vars && !found; k++)
            found = strcmp(m->vars[k].name, u->vars[j].name) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* An `after` entry split as BASE[@PATTERN][/INNER]: BASE a matrix task (or node) of
 * this file, PATTERN one value or '*' per variable, INNER a task of a sub-flow node. */
struct edge {
    const struct mtask *u;
    char *pattern; /* NULL: every instance; else per variable a value or "*" */
    const char *inner; /* "/clean" or "" (points into the name) */
};

/* Splits name; e->u NULL when it is not a matrix task's (the entry stays as written). */
static int parse_edge(struct expansion *x, const struct rawtask *t, const char *name,
                      struct edge *ed)
{
    memset(ed, 0, sizeof *ed);
    size_t head = strcspn(name, "/");
    ed->inner = name + head;
    size_t base = strcspn(name, "@/");
    char *b = xstrndup(name, base);
    long ui = find_mtask(x, b);
    free(b);
    if (ui < 0)
        return 0;
    if (ed->inner[0] && !x->m[ui].subflow)
        return err_set(x->e, "%s:%d:%d: task %s: \"after\" %s: %s is a task, not a sub-flow "
                       "node, so it has no inner tasks",
                       x->path, t->line, t->col, t->name, name, x->m[ui].base);
    if (name[base] != '@') {
        ed->u = &x->m[ui];
        return 0;
    }
    ed->pattern = xstrndup(name + base + 1, head - base - 1);
    if (!strchr(ed->pattern, '*')) { /* one instance, named as it is */
        free(ed->pattern);
        ed->pattern = NULL;
        return 0;
    }
    ed->u = &x->m[ui];
    struct strv parts = {0};
    for (const char *c = ed->pattern;; c++) {
        size_t n = strcspn(c, ",");
        strv_push(&parts, xstrndup(c, n));
        c += n;
        if (!*c)
            break;
    }
    int rc = 0;
    if (parts.n != ed->u->n_vars)
        rc = err_set(x->e,
                     "%s:%d:%d: task %s: \"after\" %s: %s has %zu matrix variable%s, the "
                     "pattern gives %zu",
                     x->path, t->line, t->col, t->name, name, ed->u->base, ed->u->n_vars,
                     ed->u->n_vars == 1 ? "" : "s", (size_t)parts.n);
    for (size_t j = 0; rc == 0 && j < parts.n; j++)
        if (strcmp(parts.v[j], "*") != 0 && value_index(&ed->u->vars[j], parts.v[j]) < 0)
            rc = err_set(x->e,
                         "%s:%d:%d: task %s: \"after\" %s: matrix variable %s of %s has no "
                         "value %s",
                         x->path, t->line, t->col, t->name, name, ed->u->vars[j].name,
                         ed->u->base, parts.v[j]);
    strv_free(&parts);
    return rc;
}

/* Whether instance inst of ed->u matches the pattern. */
static bool matches(const struct expansion *x, const struct edge *ed, size_t inst)
{
    if (!ed->pattern)
        return true;
    const size_t *up = &x->points[x->point_at[ed->u->first + inst]];
    const char *p = ed->pattern;
    for (size_t j = 0; j < ed->u->n_vars; j++) {
        size_t n = strcspn(p, ",");
        const char *v = ed->u->vars[j].values.v[up[j]];
        if (!(n == 1 && p[0] == '*') && (strlen(v) != n || strncmp(v, p, n) != 0))
            return false;
        p += n + (p[n] == ',');
    }
    return true;
}

static int rewrite_edge(struct expansion *x, size_t i, const char *name, struct strv *after,
                        struct strv *vars, bool *any)
{
    struct rawtask *t = &x->out[i];
    const struct mtask *m = x->owner[i] >= 0 ? &x->m[x->owner[i]] : NULL;
    const size_t *point = m ? &x->points[x->point_at[i]] : NULL;
    struct edge ed;
    int rc = parse_edge(x, t, name, &ed);
    if (rc == 0 && (!ed.u || ed.u == m)) {
        strv_push(after, xstrdup(name));
        strv_push(vars, xstrdup(""));
    } else if (rc == 0) {
        *any = true;
        const struct mtask *u = ed.u;
        char *var = flow_var_name(name);
        if (!ed.pattern && has_all_vars(u, m)) {
            long p = paired(u, m, point);
            if (p < 0)
                rc = err_set(x->e, "%s:%d:%d: task %s: \"after\" %s: %s has no instance "
                             "with the values of %s",
                             x->path, t->line, t->col, t->name, name, u->base, t->name);
            else {
                strv_pushf(after, "%s%s", x->out[u->first + (size_t)p].name, ed.inner);
                strv_push(vars, xstrdup(var));
            }
        } else {
            size_t n = 0;
            for (size_t inst = 0; inst < u->n_inst; inst++) {
                if (!matches(x, &ed, inst) || !agrees(x, u, inst, m, point))
                    continue;
                const char *iname = x->out[u->first + inst].name;
                strv_pushf(after, "%s%s", iname, ed.inner);
                strv_pushf(vars, "%s/%s", var, strchr(iname, '@') + 1);
                n++;
            }
            if (n == 0)
                rc = err_set(x->e, "%s:%d:%d: task %s: \"after\" %s matches no instance of %s",
                             x->path, t->line, t->col, t->name, name, u->base);
        }
        free(var);
    }
    free(ed.pattern);
    return rc;
}

static int rewrite_after(struct expansion *x, size_t i)
{
    struct rawtask *t = &x->out[i];
    struct strv after = {0}, vars = {0};
    bool any = false;
    int rc = 0;
    for (size_t k = 0; k < t->after.n && rc == 0; k++)
        rc = rewrite_edge(x, i, t->after.v[k], &after, &vars, &any);
    if (rc) {
        strv_free(&after);
        strv_free(&vars);
        return rc;
    }
    strv_free(&t->after);
    t->after = after;
    if (any)
        t->after_vars = vars;
    else
        strv_free(&vars);
    return 0;
}

/* --- the whole file ------------------------------------------------------------------------- */

static int expand_tasks(struct expansion *x, struct rawflow *rf)
{
    size_t n = 0, n_points = 0;
    for (size_t i = 0; i < rf->n_tasks; i++)
        n += rf->tasks[i].matrix ? 0 : 1;
    for (size_t i = 0; i < x->n_m; i++) {
        n += x->m[i].n_inst;
        n_points += x->m[i].n_inst * x->m[i].n_vars;
    }
    x->out = xcalloc(n + 1, sizeof *x->out);
    x->owner = xcalloc(n + 1, sizeof *x->owner);
    x->point_at = xcalloc(n + 1, sizeof *x->point_at);
    x->points = xcalloc(n_points + 1, sizeof *x->points);
    size_t mi = 0, pi = 0;
    int rc = 0;
    for (size_t i = 0; i < rf->n_tasks && rc == 0; i++) {
        struct rawtask *rt = &rf->tasks[i];
        if (!rt->matrix) {
            x->owner[x->n_out] = -1;
            rc = move_plain(x, rt, &x->out[x->n_out]);
            x->n_out++;
            continue;
        }
        struct mtask *m = &x->m[mi];
        m->first = x->n_out;
        for (size_t inst = 0; inst < m->n_inst && rc == 0; inst++) {
            size_t *point = &x->points[pi], rest = inst;
            for (size_t j = m->n_vars; j-- > 0;) {
                point[j] = rest % m->vars[j].values.n;
                rest /= m->vars[j].values.n;
            }
            x->owner[x->n_out] = (long)mi;
            x->point_at[x->n_out] = pi;
            pi += m->n_vars;
            rc = make_instance(x, rt, m, point, &x->out[x->n_out]);
            x->n_out++;
        }
        mi++;
    }
    for (size_t i = 0; i < x->n_out && rc == 0; i++)
        rc = rewrite_after(x, i);
    return rc;
}

static void expansion_free(struct expansion *x)
{
    for (size_t i = 0; i < x->n_m; i++) {
        for (size_t j = 0; j < x->m[i].n_vars; j++) {
            free(x->m[i].vars[j].name);
            strv_free(&x->m[i].vars[j].values);
        }
        free(x->m[i].vars);
    }
    free(x->m);
    for (size_t i = 0; i < x->n_out; i++)
        rawtask_free(&x->out[i]);
    free(x->out);
    free(x->owner);
    free(x->points);
    free(x->point_at);
}

static bool has_lists(const cJSON *params)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
    {
        if (cJSON_IsArray(it))
            return true;
    }
    return false;
}

int matrix_expand(struct rawflow *rf, const cJSON *params, const char *path, struct err *e)
{
    struct expansion x = {.params = params, .path = path, .e = e};
    bool lists = has_lists(params);
    int rc = 0;
    size_t n_m = 0;
    for (size_t i = 0; i < rf->n_tasks && rc == 0; i++) {
        n_m += rf->tasks[i].matrix ? 1 : 0;
        if (!rf->tasks[i].matrix)
            rc = check_plain(&x, &rf->tasks[i]);
        if (lists && rc == 0)
            rc = check_scalar_uses(&x, &rf->tasks[i]);
    }
    if (rc || n_m == 0)
        return rc;
    x.m = xcalloc(n_m, sizeof *x.m);
    for (size_t i = 0; i < rf->n_tasks && rc == 0; i++)
        if (rf->tasks[i].matrix)
            rc = read_matrix(&x, &rf->tasks[i], &x.m[x.n_m++]);
    if (rc == 0)
        rc = expand_tasks(&x, rf);
    if (rc == 0) {
        for (size_t i = 0; i < rf->n_tasks; i++)
            rawtask_free(&rf->tasks[i]);
        free(rf->tasks);
        rf->tasks = x.out;
        rf->n_tasks = x.n_out;
        x.out = NULL;
        x.n_out = 0;
    }
    expansion_free(&x);
    return rc;
}
