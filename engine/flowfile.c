/* flowfile: syntax, field names and field types of one flow file. */
#include "flowfile.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <string.h>

#include "fields.h"
#include "strmap.h"

struct reader {
    const char *path; /* for messages */
    struct err *e;
    struct rawflow *rf;
    size_t cap_tasks;
    const char *buf, *p, *end; /* *end == 0 */
    const char *key_at;        /* read_object(): where the member being read starts */
    const char *mark;          /* locate_next()'s last position, and its line and column */
    long mark_line, mark_col;
    cJSON *top;                /* every top-level member but "tasks" */
    bool tasks_seen;
    bool allow_empty; /* a flow without tasks is not an error */
    /* The first object read with a member twice, where that member is and where its
     * first occurrence was (dup_error() gives them). */
    const cJSON *dup_obj;
    const char *dup_at, *dup_first_at;
    struct reader_dup {
        const cJSON *obj;
        const char *at, *first_at;
    } params_dup; /* the same for "params", checked once the document is read */
    const char *params_at; /* where the value of "params" starts, or NULL */
};

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

/* The known field (or `also`) closest to field, if one is close enough. */
const char *flowfile_near_field(const char *field, bool task, const char *also)
{
    const char *cand[TASK_FIELD_COUNT + 16];
    size_t n = task ? (size_t)TASK_FIELD_COUNT : fields_n_flow;
    for (size_t i = 0; i < n; i++)
        cand[i] = (task ? fields_task : fields_flow)[i].name;
    if (also)
        cand[n++] = also;
    return did_you_mean(field, cand, n);
}

int flowfile_unknown_field(const char *path, const char *task, const char *field,
                           const char *also, struct err *e)
{
    char where[512] = "";
    if (task)
        snprintf(where, sizeof where, "task %s: ", task);
    const char *near = flowfile_near_field(field, task != NULL, also);
    if (near)
        return err_set(e, "%s: %sunknown field \"%s\" (did you mean \"%s\"?)", path, where,
                       field, near);
    return err_set(e, "%s: %sunknown field \"%s\"", path, where, field);
}

static bool is_extension(const char *field)
{
    return strncmp(field, "x-", 2) == 0;
}

/* --- syntax errors ------------------------------------------------------------------ */

/* Line and column (counting UTF-8 characters) of a position in the file. */
static void locate(const struct reader *r, const char *at, long *line, long *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = r->buf; p < at; p++) {
        if (*p == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

/* As locate(), for positions that only move forward (one task after another): it
 * scans from the last one, so that 100,000 tasks are not 100,000 scans of the file. */
static void locate_next(struct reader *r, const char *at, int *line, int *col)
{
    if (!r->mark || at < r->mark) {
        r->mark = r->buf;
        r->mark_line = r->mark_col = 1;
    }
    const char *nl;
    while ((nl = memchr(r->mark, '\n', (size_t)(at - r->mark)))) { /* fast: whole lines */
        r->mark_line++;
        r->mark_col = 1;
        r->mark = nl + 1;
    }
    for (; r->mark < at; r->mark++)
        r->mark_col += ((unsigned char)*r->mark & 0xC0) != 0x80;
    *line = (int)r->mark_line;
    *col = (int)r->mark_col;
}

static int syntax_error(struct reader *r, const char *at)
{
    const char *buf = r->buf;
    size_t len = (size_t)(r->end - r->buf);
    if (!at || at < buf || at > buf + len)
        at = buf + len;
    /* cJSON sometimes stops just past the culprit: step back over whitespace to it. */
    if (at < buf + len && isspace((unsigned char)*at)) {
        while (at > buf && isspace((unsigned char)at[-1]))
            at--;
        if (at > buf)
            at--;
    }
    long line, col;
    locate(r, at, &line, &col);
    if (at >= buf + len)
        return err_set(r->e, "%s:%ld:%ld: invalid JSON: unexpected end of file", r->path, line,
                       col);
    if (isprint((unsigned char)*at))
        return err_set(r->e, "%s:%ld:%ld: invalid JSON near '%c'", r->path, line, col, *at);
    return err_set(r->e, "%s:%ld:%ld: invalid JSON", r->path, line, col);
}

static int char_error(struct reader *r, const char *at, const char *what)
{
    long line, col;
    locate(r, at, &line, &col);
    return err_set(r->e, "%s:%ld:%ld: %s", r->path, line, col, what);
}

/* "what" about a member of obj that appears twice: with the place of the second and
 * the line of the first when read_container() saw them. */
static int dup_error(struct reader *r, const cJSON *obj, const char *what)
{
    const char *at = r->dup_at, *first_at = r->dup_first_at;
    if (r->params_dup.obj && r->params_dup.obj == obj) {
        at = r->params_dup.at;
        first_at = r->params_dup.first_at;
    } else if (!r->dup_obj || r->dup_obj != obj) {
        return err_set(r->e, "%s: %s", r->path, what);
    }
    long line, col, first, first_col;
    locate(r, at, &line, &col);
    locate(r, first_at, &first, &first_col);
    return err_set(r->e, "%s:%ld:%ld: %s (first at line %ld)", r->path, line, col, what, first);
}

/* Characters cJSON would accept but that have no place in a flow: a NUL, raw or
 * escaped as \u0000 (it would silently cut a command or a path short), and a raw
 * control character inside a string (invalid JSON). */
static int check_characters(struct reader *r)
{
    bool in_string = false;
    for (const char *p = r->buf; p < r->end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == 0)
            return char_error(r, p, "a NUL character is not allowed in a flow file");
        if (!in_string) {
            in_string = c == '"';
        } else if (c == '"') {
            in_string = false;
        } else if (c < 0x20) {
            return char_error(r, p, "invalid JSON: a control character inside a string "
                                    "(write it as an escape such as \\n or \\t)");
        } else if (c == '\\' && p + 1 < r->end) {
            if (r->end - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
                return char_error(r, p, "a NUL character is not allowed in a flow file");
            p++;
        }
    }
    return 0;
}

/* --- typed fields --------------------------------------------------------------------- */

bool flowfile_number_literal(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (isdigit((unsigned char)*s))
        while (isdigit((unsigned char)*s))
            s++;
    else
        return false;
    if (*s == '.') {
        if (!isdigit((unsigned char)*++s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == 0;
}

bool flowfile_is_number(const cJSON *j)
{
    /* Every number read through this module is a raw item holding its text. */
    assert(!cJSON_IsRaw(j) || (j->valuestring && flowfile_number_literal(j->valuestring)));
    return cJSON_IsRaw(j) || cJSON_IsNumber(j);
}

cJSON *flowfile_param_value(const char *text)
{
    if (flowfile_number_literal(text))
        return cJSON_CreateRaw(text);
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
        return cJSON_CreateBool(text[0] == 't');
    if (text[0] == '"') {
        cJSON *v = cJSON_ParseWithOpts(text, NULL, 1);
        if (cJSON_IsString(v))
            return v;
        cJSON_Delete(v);
    }
    return cJSON_CreateString(text);
}

/* "[A, B]" that is not JSON: the values between the brackets. */
static char *bracketed(const char *text)
{
    size_t n = strlen(text);
    return n >= 2 && text[0] == '[' && text[n - 1] == ']' ? xstrndup(text + 1, n - 2) : NULL;
}

cJSON *flowfile_list_value(const char *text)
{
    cJSON *j = text[0] == '[' ? flowfile_json(text) : NULL;
    if (j) {
        const cJSON *it;
        bool ok = cJSON_IsArray(j) && j->child;
        cJSON_ArrayForEach(it, j)
        {
            ok = ok && (cJSON_IsString(it) || flowfile_is_number(it) || cJSON_IsBool(it));
        }
        if (!ok)
            cJSON_Delete(j);
        return ok ? j : NULL;
    }
    char *inner = bracketed(text);
    if (inner) {
        j = inner[strspn(inner, " ")] ? flowfile_list_value(inner) : NULL;
        free(inner);
        return j;
    }
    if (!text[0])
        return NULL;
    j = cJSON_CreateArray();
    for (const char *p = text;;) {
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        char *one = xstrndup(p, n);
        cJSON_AddItemToArray(j, flowfile_param_value(one));
        free(one);
        p += strcspn(p, ",");
        if (!*p)
            break;
        p += 1 + strspn(p + 1, " ");
    }
    return j;
}

char *flowfile_scalar_text(const cJSON *j)
{
    if (cJSON_IsString(j))
        return xstrdup(j->valuestring);
    if (cJSON_IsBool(j))
        return xstrdup(cJSON_IsTrue(j) ? "true" : "false");
    if (flowfile_is_number(j))
        return cJSON_IsRaw(j) ? xstrdup(j->valuestring) : cJSON_PrintUnformatted(j);
    return NULL;
}

int flowfile_duration(const char *text, double *seconds)
{
    size_t whole = strspn(text, "0123456789"), frac = 0;
    if (whole > 0 && text[whole] == '.')
        frac = 1 + strspn(text + whole + 1, "0123456789");
    const char *unit = text + whole + frac;
    if (whole == 0 || frac == 1 || !unit[0] || unit[1])
        return -1;
    static const char units[] = "smhd";
    static const double scale[] = {1, 60, 3600, 86400};
    const char *u = strchr(units, unit[0]);
    if (!u)
        return -1;
    double v = strtod(text, NULL) * scale[u - units];
    if (!(v > 0))
        return -1;
    *seconds = v;
    return v > FLOWFILE_MAX_DURATION ? 1 : 0;
}

static int want_string_array(struct reader *r, const char *task, const cJSON *j,
                             const char *field, struct strv *out)
{
    if (!cJSON_IsArray(j))
        return err_set(r->e, "%s: task %s: \"%s\" must be an array of strings", r->path, task,
                       field);
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        if (!cJSON_IsString(it))
            return err_set(r->e, "%s: task %s: \"%s\" must be an array of strings", r->path,
                           task, field);
        if (!it->valuestring[0])
            return err_set(r->e, "%s: task %s: \"%s\" has an empty string", r->path, task,
                           field);
        strv_push(out, xstrdup(it->valuestring));
    }
    return 0;
}

static int want_string(struct reader *r, const char *task, const cJSON *j, const char *field,
                       char **out)
{
    if (!cJSON_IsString(j) || !j->valuestring[0])
        return err_set(r->e, "%s: task %s: \"%s\" must be a non-empty string", r->path, task,
                       field);
    *out = xstrdup(j->valuestring);
    return 0;
}

static int want_bool(struct reader *r, const char *task, const cJSON *j, const char *field,
                     bool *out)
{
    if (!cJSON_IsBool(j))
        return err_set(r->e, "%s: task %s: \"%s\" must be true or false", r->path, task, field);
    *out = cJSON_IsTrue(j);
    return 0;
}

static bool env_name_ok(const char *s)
{
    if (!s[0] || isdigit((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* An object of scalars ("env", "with") into a kv array. */
static int want_scalars(struct reader *r, const char *task, const cJSON *j, const char *field,
                        struct kv **out, size_t *n)
{
    if (!cJSON_IsObject(j))
        return err_set(r->e, "%s: task %s: \"%s\" must be an object", r->path, task, field);
    *out = xcalloc((size_t)cJSON_GetArraySize(j), sizeof **out);
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        char *val = flowfile_scalar_text(it);
        if (!val)
            return err_set(r->e, "%s: task %s: %s %s must be a string, number or boolean",
                           r->path, task, field, it->string);
        (*out)[*n].key = xstrdup(it->string);
        (*out)[(*n)++].value = val;
    }
    return 0;
}

static int check_env(struct reader *r, const struct rawtask *t)
{
    for (size_t i = 0; i < t->n_env; i++) {
        const char *k = t->env[i].key;
        bool ok = env_name_ok(k);
        if (!ok || strcmp(k, "OUT") == 0 || strncmp(k, "IN_", 3) == 0)
            return err_set(r->e, "%s: task %s: env \"%s\" is not a usable variable name%s",
                           r->path, t->name, k, ok ? " (OUT and IN_* are set by sluice)" : "");
    }
    return 0;
}

static int read_keep(struct reader *r, struct rawtask *t, const cJSON *j)
{
    if (cJSON_IsString(j) && strcmp(j->valuestring, "all") == 0)
        t->keep = KEEP_ALL;
    else if (cJSON_IsString(j) && strcmp(j->valuestring, "none") == 0)
        t->keep = KEEP_NONE;
    else
        return err_set(r->e, "%s: task %s: \"keep\" must be \"all\" or \"none\"", r->path,
                       t->name);
    return 0;
}

static int read_publish_mode(struct reader *r, struct rawtask *t, const cJSON *j)
{
    bool copy = cJSON_IsString(j) && strcmp(j->valuestring, "copy") == 0;
    t->publish_link = cJSON_IsString(j) && strcmp(j->valuestring, "link") == 0;
    if (!copy && !t->publish_link)
        return err_set(r->e, "%s: task %s: \"publish_mode\" must be \"copy\" or \"link\"",
                       r->path, t->name);
    return 0;
}

static int read_expire(struct reader *r, struct rawtask *t, const cJSON *j)
{
    int rc = cJSON_IsString(j) ? flowfile_duration(j->valuestring, &t->expire) : -1;
    if (rc < 0)
        return err_set(r->e,
                       "%s: task %s: \"expire\" must be a duration like \"90s\", \"15m\", "
                       "\"24h\" or \"30d\"",
                       r->path, t->name);
    if (rc > 0)
        return err_set(r->e, "%s: task %s: \"expire\" %s is more than 100 years", r->path,
                       t->name, j->valuestring);
    return 0;
}

static bool executor_name_ok(const char *s)
{
    if (!s[0] || strlen(s) > 64 || !islower((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

static int want_executor(struct reader *r, const char *task, const cJSON *j, char **out)
{
    char where[512] = "";
    if (task)
        snprintf(where, sizeof where, "task %s: ", task);
    if (!cJSON_IsString(j) || !executor_name_ok(j->valuestring))
        return err_set(r->e,
                       "%s: %s\"executor\" must be an executor's name, like \"local\" or "
                       "\"slurm\" (lower-case letters, digits, '-' and '_')",
                       r->path, where);
    *out = xstrdup(j->valuestring);
    return 0;
}

/* An object-valued field that is not a known one: options for an executor. */
static void stash_options(const cJSON *j, struct kv **opts, size_t *n)
{
    *opts = xrealloc(*opts, (*n + 1) * sizeof **opts);
    (*opts)[*n].key = xstrdup(j->string);
    (*opts)[(*n)++].value = cJSON_PrintUnformatted(j);
}

/* --- one reader per row of TASK_FIELDS ------------------------------------------------- */

typedef int field_reader(struct reader *r, struct rawtask *t, const cJSON *j);
#define X(id, ...) static field_reader read_##id;
TASK_FIELDS(X)
#undef X

static int read_run(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_string(r, t->name, j, "run", &t->run);
}

static int read_after(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_string_array(r, t->name, j, "after", &t->after);
}

static int read_code(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_string_array(r, t->name, j, "code", &t->code);
}

static int read_files(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_string_array(r, t->name, j, "files", &t->files);
}

static int read_outputs(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_string_array(r, t->name, j, "outputs", &t->outputs);
}

static int read_env(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_scalars(r, t->name, j, "env", &t->env, &t->n_env) || check_env(r, t);
}

static int read_is_volatile(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_bool(r, t->name, j, "volatile", &t->is_volatile);
}

static int read_publish(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_string(r, t->name, j, "publish", &t->publish);
}

static int read_output(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_bool(r, t->name, j, "output", &t->output);
}

static int read_flow(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_string(r, t->name, j, "flow", &t->subflow);
}

static int read_with(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_scalars(r, t->name, j, "with", &t->with, &t->n_with);
}

static int read_executor(struct reader *r, struct rawtask *t, const cJSON *j)
{
    return want_executor(r, t->name, j, &t->executor);
}

static int read_cpus(struct reader *r, struct rawtask *t, const cJSON *j)
{
    char *text = flowfile_is_number(j) ? flowfile_scalar_text(j) : NULL;
    char *end = NULL;
    long n = text ? strtol(text, &end, 10) : 0;
    bool ok = text && !*end && n >= 1 && n <= FLOWFILE_MAX_CPUS;
    free(text);
    if (!ok)
        return err_set(r->e, "%s: task %s: \"cpus\" must be a whole number from 1 to %d",
                       r->path, t->name, FLOWFILE_MAX_CPUS);
    t->cpus = (int)n;
    return 0;
}

static int read_description(struct reader *r, struct rawtask *t, const cJSON *j)
{
    if (!cJSON_IsString(j))
        return err_set(r->e, "%s: task %s: \"description\" must be a string", r->path, t->name);
    return 0;
}

static field_reader *const readers[TASK_FIELD_COUNT] = {
#define X(id, ...) read_##id,
    TASK_FIELDS(X)
#undef X
};

/* "matrix": an object of variables, each a non-empty list of scalars or a
 * "{params.NAME}" string; matrix.c checks the rest when it expands the task. */
static int read_matrix(struct reader *r, struct rawtask *t, const cJSON *j)
{
    if (!cJSON_IsObject(j) || !j->child)
        return err_set(r->e, "%s:%d:%d: task %s: \"matrix\" must be a non-empty object of "
                       "variables (\"sample\": [\"A\", \"B\"] or \"{params.samples}\")",
                       r->path, t->line, t->col, t->name);
    t->matrix = cJSON_PrintUnformatted(j);
    return 0;
}

/* One field of a task. */
static int task_field(struct reader *r, struct rawtask *t, const cJSON *it)
{
    const char *k = it->string;
    size_t i;
    if (fields_find(k, true, &i))
        return readers[i](r, t, it);
    if (is_extension(k))
        return 0;
    if (cJSON_IsObject(it) && !flowfile_near_field(k, true, NULL)) {
        /* Options for an executor: flow.c checks that it is the task's. */
        stash_options(it, &t->exec_opts, &t->n_exec_opts);
        return 0;
    }
    return flowfile_unknown_field(r->path, t->name, k, NULL, r->e);
}

static int check_task(struct reader *r, const struct rawtask *t, const cJSON *j)
{
    if (t->subflow) {
        const cJSON *it;
        cJSON_ArrayForEach(it, j)
        {
            const struct field_info *f = fields_find(it->string, true, NULL);
            if (!(f && (f->where & FIELD_NODE)) && !is_extension(it->string))
                return err_set(r->e,
                               "%s: task %s: a sub-flow node takes only \"flow\", \"with\" and \"matrix\" "
                               "(\"%s\" belongs in the sub-flow's own tasks)",
                               r->path, t->name, it->string);
        }
        return 0;
    }
    if (t->with)
        return err_set(r->e, "%s: task %s: \"with\" only goes with \"flow\"", r->path, t->name);
    if (!t->run)
        return err_set(r->e, "%s: task %s: missing \"run\" (the command to execute)", r->path,
                       t->name);
    return 0;
}

static bool valid_task_name(const char *s)
{
    if (!s[0] || s[0] == '.' || s[0] == '-' || strlen(s) > 128)
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
            return false;
    return true;
}

static int read_task(struct reader *r, const cJSON *j, struct rawtask *t)
{
    if (!valid_task_name(t->name))
        return err_set(r->e,
                       "%s: task \"%s\": names may use letters, digits, '_', '-' and '.', "
                       "and may not start with '.' or '-'",
                       r->path, t->name);
    if (!cJSON_IsObject(j))
        return err_set(r->e, "%s: task %s: must be an object", r->path, t->name);
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        if (cJSON_GetObjectItemCaseSensitive(j, it->string) != it) {
            char *what = xasprintf("task %s: field \"%s\" appears twice", t->name, it->string);
            int rc = dup_error(r, j, what);
            free(what);
            return rc;
        }
        if (task_field(r, t, it))
            return -1;
    }
    return check_task(r, t, j);
}

/* --- reading the document ----------------------------------------------------------------
 *
 * The top-level object is read member by member and the "tasks" object task by task.
 * cJSON parses every key and value (and says where each ends); this code only steps
 * over whitespace and the punctuation between them. So only one task's tree exists
 * at a time: cJSON's tree of a whole 100,000-task flow would be four times its size. */

static void skip_ws(struct reader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n')
        r->p++;
}

static cJSON *read_value(struct reader *r)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(r->p, (size_t)(r->end - r->p), &end, 0);
    if (!v) {
        syntax_error(r, end);
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
        syntax_error(r, r->p);
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
        syntax_error(r, r->p);
        return NULL;
    }
    r->p++;
    skip_ws(r);
    return key;
}

#define MAX_NESTING 1000 /* cJSON's own limit */

static cJSON *read_exact(struct reader *r, int depth);

/* The object or array at r->p, each member read by read_exact(). */
static cJSON *read_container(struct reader *r, int depth)
{
    assert(*r->p == '{' || *r->p == '[');
    if (depth > MAX_NESTING) {
        char_error(r, r->p, "nested too deeply (JSON deeper than 1000 levels)");
        return NULL;
    }
    bool obj = *r->p == '{';
    char close = obj ? '}' : ']';
    cJSON *c = obj ? cJSON_CreateObject() : cJSON_CreateArray();
    r->p++;
    skip_ws(r);
    if (*r->p == close) {
        r->p++;
        return c;
    }
    /* where each member's key starts, for dup_error(): a map, as a linear look-up per
     * member made a 100,000-task flow take a minute to read */
    struct strmap keys = {0};
    for (;;) {
        skip_ws(r);
        const char *key_at = r->p;
        char *key = obj ? read_key(r) : NULL;
        cJSON *v = !obj || key ? read_exact(r, depth + 1) : NULL;
        if (!v) {
            free(key);
            break;
        }
        const char *first_at = obj ? strmap_get(&keys, key) : NULL;
        if (first_at && !r->dup_obj) {
            r->dup_obj = c;
            r->dup_at = key_at;
            r->dup_first_at = first_at;
        }
        if (obj && !first_at)
            strmap_put(&keys, key, (void *)key_at);
        if (obj)
            cJSON_AddItemToObject(c, key, v);
        else
            cJSON_AddItemToArray(c, v);
        free(key);
        skip_ws(r);
        if (*r->p == close) {
            r->p++;
            strmap_free(&keys, NULL);
            return c;
        }
        if (*r->p != ',') {
            syntax_error(r, r->p);
            break;
        }
        r->p++;
    }
    strmap_free(&keys, NULL);
    cJSON_Delete(c);
    return NULL;
}

/* The value at r->p, as read_value() reads it but for numbers: cJSON keeps only a
 * double (9007199254740993 would become 9007199254740992, 1e400 null), so a number
 * becomes a raw item holding its text exactly as written in the file (which must be
 * a JSON number: cJSON also takes 01 or 1.). */
static cJSON *read_exact(struct reader *r, int depth)
{
    skip_ws(r);
    if (*r->p == '{' || *r->p == '[')
        return read_container(r, depth);
    const char *start = r->p;
    cJSON *v = read_value(r);
    if (!v || !cJSON_IsNumber(v))
        return v;
    cJSON_Delete(v);
    assert(r->p > start);
    char *text = xstrndup(start, (size_t)(r->p - start));
    v = flowfile_number_literal(text) ? cJSON_CreateRaw(text) : NULL;
    if (!v) {
        char *what = xasprintf("invalid JSON: %s is not a number as JSON writes one", text);
        char_error(r, start, what);
        free(what);
    }
    free(text);
    return v;
}

/* Calls member() for each member of the object at r->p; member() consumes the value. */
static int read_object(struct reader *r, int (*member)(struct reader *, const char *))
{
    skip_ws(r);
    if (*r->p != '{')
        return syntax_error(r, r->p);
    r->p++;
    skip_ws(r);
    if (*r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        skip_ws(r);
        r->key_at = r->p;
        char *key = read_key(r);
        if (!key)
            return -1;
        int rc = member(r, key);
        free(key);
        if (rc)
            return -1;
        skip_ws(r);
        if (*r->p == ',') {
            r->p++;
        } else if (*r->p == '}') {
            r->p++;
            return 0;
        } else {
            return syntax_error(r, r->p);
        }
    }
}

static int task_member(struct reader *r, const char *name)
{
    struct rawflow *rf = r->rf;
    int line, col;
    locate_next(r, r->key_at, &line, &col);
    r->dup_obj = NULL;
    cJSON *j = read_exact(r, 1);
    if (!j)
        return -1;
    xgrow(&rf->tasks, &r->cap_tasks, rf->n_tasks + 1, sizeof *rf->tasks);
    struct rawtask *t = &rf->tasks[rf->n_tasks++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->line = line;
    t->col = col;
    int rc = read_task(r, j, t);
    cJSON_Delete(j);
    return rc;
}

static int top_member(struct reader *r, const char *key)
{
    if (strcmp(key, "tasks") == 0) {
        if (r->tasks_seen)
            return err_set(r->e, "%s: field \"tasks\" appears twice", r->path);
        r->tasks_seen = true;
        if (*r->p == '{')
            return read_object(r, task_member);
        cJSON *v = read_value(r);
        cJSON_Delete(v);
        return v ? err_set(r->e, "%s: \"tasks\" must be an object mapping names to tasks",
                           r->path)
                 : -1;
    }
    if (strcmp(key, "params") == 0) {
        r->dup_obj = NULL; /* read_params() reports its duplicates */
        r->params_at = r->p;
    }
    cJSON *v = read_exact(r, 1);
    if (!v)
        return -1;
    if (strcmp(key, "params") == 0 && r->dup_obj == v) {
        r->params_dup = (struct reader_dup){r->dup_obj, r->dup_at, r->dup_first_at};
        r->dup_obj = NULL;
    }
    if (cJSON_GetObjectItemCaseSensitive(r->top, key)) {
        cJSON_Delete(v);
        return err_set(r->e, "%s: field \"%s\" appears twice", r->path, key);
    }
    cJSON_AddItemToObject(r->top, key, v);
    return 0;
}

static int read_document(struct reader *r)
{
    if (check_characters(r))
        return -1;
    if (strncmp(r->p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        r->p += 3;
    skip_ws(r);
    if (*r->p != '{') {
        cJSON *v = read_value(r);
        cJSON_Delete(v);
        return v ? err_set(r->e, "%s: the top level must be an object with \"tasks\"", r->path)
                 : -1;
    }
    if (read_object(r, top_member))
        return -1;
    skip_ws(r);
    return r->p == r->end ? 0 : syntax_error(r, r->p);
}

/* --- top-level fields ----------------------------------------------------------------------- */

/* Where parameter `name` is written: its key "name" followed by ':' in the params
 * object (its values are scalars and lists, so no other key can match), else the
 * object's start. */
static const char *param_at(const struct reader *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = r->params_at; p && (p = strchr(p, '"')) != NULL && p < r->end; p++) {
        if (strncmp(p + 1, name, n) != 0 || p[n + 1] != '"')
            continue;
        const char *q = p + n + 2;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q == ':')
            return p;
    }
    return r->params_at ? r->params_at : r->buf;
}

static int read_params(struct reader *r, cJSON *params)
{
    if (!params) {
        r->rf->params = cJSON_CreateObject();
        return 0;
    }
    if (!cJSON_IsObject(params))
        return err_set(r->e, "%s: \"params\" must be an object", r->path);
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
    {
        if (cJSON_GetObjectItemCaseSensitive(params, it->string) != it) {
            char *what = xasprintf("parameter %s is defined twice", it->string);
            int rc = dup_error(r, params, what);
            free(what);
            return rc;
        }
        if (!it->string[0])
            return err_set(r->e, "%s: a parameter has an empty name", r->path);
        for (const char *c = it->string; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
                return err_set(r->e,
                               "%s: parameter \"%s\": names may use only letters, digits, _ "
                               "and -",
                               r->path, it->string);
        if (cJSON_IsArray(it)) {
            if (!it->child)
            {
                char *what = xasprintf("parameter %s is an empty list", it->string);
                int rc = char_error(r, param_at(r, it->string), what);
                free(what);
                return rc;
            }
            const cJSON *v;
            cJSON_ArrayForEach(v, it)
            {
                if (!cJSON_IsString(v) && !flowfile_is_number(v) && !cJSON_IsBool(v))
                    return err_set(r->e,
                                   "%s: parameter %s: a list holds only strings, numbers and "
                                   "booleans",
                                   r->path, it->string);
            }
            continue;
        }
        if (!cJSON_IsString(it) && !flowfile_is_number(it) && !cJSON_IsBool(it))
            return err_set(r->e, "%s: parameter %s must be a string, number, boolean or list",
                           r->path, it->string);
    }
    r->rf->params = cJSON_DetachItemViaPointer(r->top, params);
    return 0;
}

static int read_top(struct reader *r)
{
    struct rawflow *rf = r->rf;
    const cJSON *it;
    cJSON_ArrayForEach(it, r->top)
    {
        if (fields_find(it->string, false, NULL) || is_extension(it->string))
            continue;
        if (!cJSON_IsObject(it) || flowfile_near_field(it->string, false, NULL))
            return flowfile_unknown_field(r->path, NULL, it->string, NULL, r->e);
        stash_options(it, &rf->exec_opts, &rf->n_exec_opts);
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(r->top, "executor");
    if (ex && want_executor(r, NULL, ex, &rf->executor))
        return -1;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(r->top, "name");
    if (name && (!cJSON_IsString(name) || !name->valuestring[0]))
        return err_set(r->e, "%s: \"name\" must be a non-empty string", r->path);
    rf->name = name ? xstrdup(name->valuestring) : NULL;
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(r->top, "publish_root");
    if (root && (!cJSON_IsString(root) || !root->valuestring[0]))
        return err_set(r->e, "%s: \"publish_root\" must be a non-empty string", r->path);
    rf->publish_root = root ? xstrdup(root->valuestring) : NULL;
    if (!r->tasks_seen)
        return err_set(r->e, "%s: missing \"tasks\"", r->path);
    if (rf->n_tasks == 0 && !r->allow_empty)
        return err_set(r->e, "%s: \"tasks\" is empty", r->path);
    return read_params(r, cJSON_GetObjectItemCaseSensitive(r->top, "params"));
}

int flowfile_parse(const char *path, const char *text, size_t len, bool allow_empty,
                   struct rawflow **out, struct err *e)
{
    *out = NULL;
    struct rawflow *rf = xcalloc(1, sizeof *rf);
    rf->path = xstrdup(path);
    struct reader r = {.path = path, .e = e, .rf = rf, .buf = text, .p = text,
                       .end = text + len, .top = cJSON_CreateObject(),
                       .allow_empty = allow_empty};
    int rc = read_document(&r);
    if (rc == 0)
        rc = read_top(&r);
    cJSON_Delete(r.top);
    if (rc) {
        flowfile_free(rf);
        return -1;
    }
    if (rf->n_tasks) /* the doubling left up to half of it unused, beside the flow's copy */
        rf->tasks = xrealloc(rf->tasks, rf->n_tasks * sizeof *rf->tasks);
    *out = rf;
    return 0;
}

cJSON *flowfile_json(const char *text)
{
    assert(text);
    struct err e;
    struct reader r = {.path = "(json)", .e = &e, .buf = text, .p = text,
                       .end = text + strlen(text)};
    cJSON *v = read_exact(&r, 1);
    skip_ws(&r);
    if (v && r.p != r.end) {
        cJSON_Delete(v);
        v = NULL;
    }
    return v;
}

int flowfile_read(const char *path, struct rawflow **out, struct err *e)
{
    *out = NULL;
    size_t len;
    char *buf = file_read_bounded(path, FLOWFILE_MAX_BYTES, &len, e);
    if (!buf)
        return -1;
    int rc = flowfile_parse(path, buf, len, false, out, e);
    free(buf); /* everything kept was copied */
    return rc;
}

void kv_free(struct kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void rawtask_free(struct rawtask *t)
{
    free(t->name);
    free(t->run);
    strv_free(&t->after);
    strv_free(&t->code);
    strv_free(&t->files);
    strv_free(&t->outputs);
    kv_free(t->env, t->n_env);
    free(t->publish);
    free(t->subflow);
    kv_free(t->with, t->n_with);
    free(t->executor);
    kv_free(t->exec_opts, t->n_exec_opts);
    free(t->matrix);
    strv_free(&t->after_vars);
    memset(t, 0, sizeof *t);
}

void flowfile_free(struct rawflow *rf)
{
    if (!rf)
        return;
    for (size_t i = 0; i < rf->n_tasks; i++)
        rawtask_free(&rf->tasks[i]);
    free(rf->tasks);
    free(rf->path);
    free(rf->name);
    cJSON_Delete(rf->params);
    free(rf->publish_root);
    free(rf->executor);
    kv_free(rf->exec_opts, rf->n_exec_opts);
    free(rf);
}
