/* flowedit: the flow file as an editable JSON tree, edits as undoable steps. */
#include "flowedit.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fields.h"
#include "flow.h"

/* --- fields ----------------------------------------------------------------------------------- */

enum kind {
    K_STRING = FIELD_STRING,
    K_LIST = FIELD_LIST,
    K_BOOL = FIELD_BOOL,
    K_OBJECT = FIELD_OBJECT,
    K_LISTS = FIELD_LISTS,
    K_ANY = FIELD_ANY
};

struct field {
    const char *name;
    enum kind kind;
};

/* From the field table, in its order: the order a new field is placed among existing ones. */
static const struct field task_fields[] = {
#define X(id, name, shape, ...) {name, (enum kind)shape},
    TASK_FIELDS(X)
#undef X
};
static const struct field top_fields[] = {
#define X(id, name, shape) {name, (enum kind)shape},
    FLOW_FIELDS(X)
#undef X
};

static const struct field *field_of(const struct field *table, size_t n, const char *name,
                                    size_t *rank)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0) {
            if (rank)
                *rank = i;
            return &table[i];
        }
    if (rank)
        *rank = n;
    return NULL;
}

/* --- the document ----------------------------------------------------------------------------- */

enum where { IN_ROOT, IN_TASKS, IN_PARAMS };

/* One member of a container replaced: before/after are NULL when it was absent. */
struct change {
    enum where where;
    char *key;
    int index;
    cJSON *before, *after;
};

struct step {
    struct change *changes;
    size_t n, cap;
    char *what;
    long state_before, state_after;
};

struct steps {
    struct step *v;
    size_t n, cap;
};

struct flowedit {
    char *path;
    cJSON *root;
    char *text; /* flowedit_text(), until the next change */
    size_t text_len;
    char *error; /* the validator's message, or NULL */
    struct steps undo, redo;
    long state, saved_state, next_state;
    char *disk; /* the file's bytes as last read or written; NULL: not on disk */
    size_t disk_len;
    struct stat disk_st;
    char *last_what; /* what undo/redo last reverted */
};

static cJSON *container(const struct flowedit *d, enum where w)
{
    if (w == IN_ROOT)
        return d->root;
    return cJSON_GetObjectItemCaseSensitive(d->root, w == IN_TASKS ? "tasks" : "params");
}

static void changed(struct flowedit *d)
{
    free(d->text);
    d->text = NULL;
}

/* Inserts item (taken over) as member key at index (past the end: appended). Not
 * cJSON_InsertItemInArray(): Debian's cJSON 1.7.15 refuses every index but the ends. */
static void insert_member(cJSON *obj, const char *key, cJSON *item, int index)
{
    int n = cJSON_GetArraySize(obj);
    cJSON *c = index < n ? cJSON_GetArrayItem(obj, index) : NULL;
    cJSON_AddItemToObject(obj, key, item); /* gives it its key */
    for (int i = index; c && i < n; i++) { /* what was at index and after goes after it */
        cJSON *next = c->next;
        cJSON_AddItemToArray(obj, cJSON_DetachItemViaPointer(obj, c));
        c = next;
    }
}

static int member_index(const cJSON *obj, const char *key, cJSON **item)
{
    int i = 0;
    for (cJSON *c = obj ? obj->child : NULL; c; c = c->next, i++)
        if (c->string && strcmp(c->string, key) == 0) {
            *item = c;
            return i;
        }
    *item = NULL;
    return i;
}

static void apply_change(struct flowedit *d, const struct change *c, bool forward)
{
    cJSON *obj = container(d, c->where);
    const cJSON *from = forward ? c->before : c->after, *to = forward ? c->after : c->before;
    if (from) {
        cJSON *old = cJSON_GetArrayItem(obj, c->index);
        cJSON_Delete(cJSON_DetachItemViaPointer(obj, old));
    }
    if (to)
        insert_member(obj, c->key, cJSON_Duplicate(to, true), c->index);
    changed(d);
}

/* Replaces member key of a container with value (taken over; NULL removes it), at
 * index when it is new (< 0: at the end), and records the change in the step. */
static void put(struct flowedit *d, struct step *s, enum where w, const char *key, cJSON *value,
                int index)
{
    cJSON *obj = container(d, w), *old;
    int at = member_index(obj, key, &old);
    if (!old && index >= 0)
        at = index;
    xgrow(&s->changes, &s->cap, s->n + 1, sizeof *s->changes);
    struct change *c = &s->changes[s->n++];
    *c = (struct change){w, xstrdup(key), at, NULL, NULL};
    if (old)
        c->before = cJSON_DetachItemViaPointer(obj, old);
    if (value) {
        c->after = cJSON_Duplicate(value, true);
        insert_member(obj, key, value, at);
    }
    changed(d);
}

static void rollback(struct flowedit *d, struct step *s)
{
    for (size_t i = s->n; i-- > 0;)
        apply_change(d, &s->changes[i], false);
}

static void step_free(struct step *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->changes[i].key);
        cJSON_Delete(s->changes[i].before);
        cJSON_Delete(s->changes[i].after);
    }
    free(s->changes);
    free(s->what);
    memset(s, 0, sizeof *s);
}

static void steps_clear(struct steps *st)
{
    for (size_t i = 0; i < st->n; i++)
        step_free(&st->v[i]);
    free(st->v);
    memset(st, 0, sizeof *st);
}

static void steps_push(struct steps *st, struct step *s)
{
    xgrow(&st->v, &st->cap, st->n + 1, sizeof *st->v);
    st->v[st->n++] = *s;
    memset(s, 0, sizeof *s);
}

/* --- the text --------------------------------------------------------------------------------- */

/* A JSON string, escaped exactly as cJSON escapes it. */
static void render_string(struct sb *b, const char *s)
{
    sb_addc(b, '"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"':
            sb_adds(b, "\\\"");
            break;
        case '\\':
            sb_adds(b, "\\\\");
            break;
        case '\b':
            sb_adds(b, "\\b");
            break;
        case '\f':
            sb_adds(b, "\\f");
            break;
        case '\n':
            sb_adds(b, "\\n");
            break;
        case '\r':
            sb_adds(b, "\\r");
            break;
        case '\t':
            sb_adds(b, "\\t");
            break;
        default:
            if (*c < 0x20)
                sb_addf(b, "\\u%04x", *c);
            else
                sb_addc(b, (char)*c);
        }
    }
    sb_addc(b, '"');
}

static bool is_container(const cJSON *j)
{
    return cJSON_IsArray(j) || cJSON_IsObject(j);
}

static bool all_scalars(const cJSON *j)
{
    for (const cJSON *c = j->child; c; c = c->next)
        if (is_container(c))
            return false;
    return true;
}

static void render(struct sb *b, const cJSON *j, int depth)
{
    if (cJSON_IsString(j)) {
        render_string(b, j->valuestring);
    } else if (cJSON_IsArray(j) && all_scalars(j)) {
        sb_addc(b, '[');
        for (const cJSON *c = j->child; c; c = c->next) {
            sb_adds(b, c == j->child ? "" : ", ");
            render(b, c, depth);
        }
        sb_addc(b, ']');
    } else if (is_container(j)) {
        bool obj = cJSON_IsObject(j);
        if (!j->child) {
            sb_adds(b, obj ? "{}" : "[]");
            return;
        }
        sb_addc(b, obj ? '{' : '[');
        for (const cJSON *c = j->child; c; c = c->next) {
            sb_addf(b, "\n%*s", 2 * (depth + 1), "");
            if (obj) {
                render_string(b, c->string);
                sb_adds(b, ": ");
            }
            render(b, c, depth + 1);
            if (c->next)
                sb_addc(b, ',');
        }
        sb_addf(b, "\n%*s%c", 2 * depth, "", obj ? '}' : ']');
    } else {
        char *s = cJSON_PrintUnformatted(j);
        sb_adds(b, s ? s : "null");
        cJSON_free(s);
    }
}

const char *flowedit_text(struct flowedit *d, size_t *len)
{
    if (!d->text) {
        struct sb b = {0};
        render(&b, d->root, 0);
        sb_addc(&b, '\n');
        d->text_len = b.len;
        d->text = sb_take(&b);
    }
    if (len)
        *len = d->text_len;
    return d->text;
}

/* Runs the CLI's validator on the text; fills e and returns -1 when it is invalid. */
static int validate(struct flowedit *d, struct err *e)
{
    size_t len;
    const char *text = flowedit_text(d, &len);
    struct flow *f = NULL;
    int rc = flow_load_text(d->path, text, len, true, &f, e);
    flow_free(f);
    return rc;
}

static void revalidate(struct flowedit *d)
{
    struct err e;
    free(d->error);
    d->error = validate(d, &e) ? xstrdup(e.msg) : NULL;
}

/* --- opening, saving -------------------------------------------------------------------------- */

static bool same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Parses the file's bytes into a tree, or says what the CLI would say. */
static cJSON *parse(const char *path, const char *text, size_t len, struct err *e)
{
    const char *p = text;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        p += 3;
    char *copy = xstrndup(p, len - (size_t)(p - text));
    cJSON *root = flowfile_json(copy); /* numbers keep their text, as the CLI reads them */
    free(copy);
    if (cJSON_IsObject(root))
        return root;
    cJSON_Delete(root);
    struct rawflow *rf;
    if (flowfile_parse(path, text, len, true, &rf, e) == 0) {
        flowfile_free(rf);
        err_set(e, "%s: invalid JSON", path);
    }
    return NULL;
}

static void forget_disk(struct flowedit *d)
{
    free(d->disk);
    d->disk = NULL;
    d->disk_len = 0;
}

static int read_disk(struct flowedit *d, cJSON **root, struct err *e)
{
    size_t len;
    char *text = file_read_all(d->path, &len, e);
    if (!text)
        return -1;
    struct stat st;
    *root = stat(d->path, &st) == 0 ? parse(d->path, text, len, e) : NULL;
    if (!*root) {
        if (!e->msg[0])
            err_set(e, "%s: %s", d->path, strerror(errno));
        free(text);
        return -1;
    }
    forget_disk(d);
    d->disk = text;
    d->disk_len = len;
    d->disk_st = st;
    return 0;
}

int flowedit_open(const char *path, struct flowedit **out, struct err *e)
{
    struct flowedit *d = xcalloc(1, sizeof *d);
    d->path = xstrdup(path);
    e->msg[0] = 0;
    if (read_disk(d, &d->root, e)) {
        flowedit_free(d);
        *out = NULL;
        return -1;
    }
    revalidate(d);
    *out = d;
    return 0;
}

struct flowedit *flowedit_new(const char *path)
{
    struct flowedit *d = xcalloc(1, sizeof *d);
    d->path = xstrdup(path);
    d->root = cJSON_CreateObject();
    cJSON_AddObjectToObject(d->root, "tasks");
    d->saved_state = -1; /* not on disk: there is something to save */
    revalidate(d);
    return d;
}

void flowedit_free(struct flowedit *d)
{
    if (!d)
        return;
    steps_clear(&d->undo);
    steps_clear(&d->redo);
    cJSON_Delete(d->root);
    free(d->path);
    free(d->text);
    free(d->error);
    free(d->disk);
    free(d->last_what);
    free(d);
}

const char *flowedit_path(const struct flowedit *d)
{
    return d->path;
}

const char *flowedit_error(const struct flowedit *d)
{
    return d->error;
}

bool flowedit_dirty(const struct flowedit *d)
{
    return d->state != d->saved_state;
}

bool flowedit_disk_changed(struct flowedit *d)
{
    struct stat st;
    if (stat(d->path, &st) != 0)
        return d->disk != NULL;
    if (!d->disk)
        return true;
    if (same_stat(&st, &d->disk_st))
        return false;
    size_t len;
    char *now = file_read_all(d->path, &len, NULL);
    bool differs = !now || len != d->disk_len || memcmp(now, d->disk, len) != 0;
    free(now);
    if (!differs)
        d->disk_st = st; /* touched, not changed */
    return differs;
}

int flowedit_save(struct flowedit *d, const char *path, struct err *e)
{
    const char *to = path ? path : d->path;
    struct stat st;
    int mode = stat(to, &st) == 0 ? (int)(st.st_mode & 07777) : 0644;
    size_t len;
    const char *text = flowedit_text(d, &len);
    if (file_write_atomic(to, text, len, mode, e))
        return -1;
    if (to != d->path) {
        free(d->path);
        d->path = xstrdup(to);
    }
    forget_disk(d);
    d->disk = xstrndup(text, len);
    d->disk_len = len;
    if (stat(d->path, &d->disk_st) != 0)
        memset(&d->disk_st, 0, sizeof d->disk_st);
    d->saved_state = d->state;
    if (path)
        revalidate(d); /* messages name the file */
    return 0;
}

/* --- reading ---------------------------------------------------------------------------------- */

static cJSON *task_json(const struct flowedit *d, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(container(d, IN_TASKS), name);
}

bool flowedit_has_task(const struct flowedit *d, const char *task)
{
    return task_json(d, task) != NULL;
}

static void member_names(const cJSON *obj, struct strv *out)
{
    for (const cJSON *c = cJSON_IsObject(obj) ? obj->child : NULL; c; c = c->next)
        strv_push(out, xstrdup(c->string));
}

void flowedit_tasks(const struct flowedit *d, struct strv *out)
{
    member_names(container(d, IN_TASKS), out);
}

void flowedit_params(const struct flowedit *d, struct strv *out)
{
    member_names(container(d, IN_PARAMS), out);
}

void flowedit_fields(const struct flowedit *d, const char *task, struct strv *out)
{
    const struct field *table = task ? task_fields : top_fields;
    size_t n = task ? ARRAY_LEN(task_fields) : ARRAY_LEN(top_fields);
    for (size_t i = 0; i < n; i++)
        if (task || table[i].kind != K_ANY) /* params and tasks have their own edits */
            strv_push(out, xstrdup(table[i].name));
    const cJSON *obj = task ? task_json(d, task) : d->root;
    for (const cJSON *c = cJSON_IsObject(obj) ? obj->child : NULL; c; c = c->next) {
        if (!field_of(table, n, c->string, NULL))
            strv_push(out, xstrdup(c->string));
        if (task && cJSON_IsObject(c))
            for (const cJSON *k = c->child; k; k = k->next)
                strv_pushf(out, "%s.%s", c->string, k->string);
    }
}

/* Splits "TASK.FIELD..." at the longest task name before a dot: *task is NULL for a
 * top-level field. */
static const char *split_path(const struct flowedit *d, const char *path, char **task)
{
    *task = NULL;
    for (const char *dot = strrchr(path, '.'); dot;
         dot = memrchr(path, '.', (size_t)(dot - path))) {
        char *name = xstrndup(path, (size_t)(dot - path));
        if (task_json(d, name)) {
            *task = name;
            return dot + 1;
        }
        free(name);
        if (dot == path)
            break;
    }
    return path;
}

static char *scalar_text(const cJSON *j)
{
    char *s = flowfile_scalar_text(j);
    return s ? s : cJSON_PrintUnformatted(j);
}

/* A matrix as typed: "sample={params.samples}; lr=0.01, 0.1"; false when some value
 * is neither a string nor a list of scalars. */
static bool lists_text(const cJSON *j, struct sb *b)
{
    for (const cJSON *c = j->child; c; c = c->next) {
        if (!cJSON_IsString(c) && !(cJSON_IsArray(c) && all_scalars(c)))
            return false;
        sb_addf(b, "%s%s=", c == j->child ? "" : "; ", c->string);
        if (cJSON_IsString(c))
            sb_adds(b, c->valuestring);
        for (const cJSON *v = cJSON_IsArray(c) ? c->child : NULL; v; v = v->next) {
            char *t = scalar_text(v);
            sb_addf(b, "%s%s", v == c->child ? "" : ", ", t);
            free(t);
        }
    }
    return true;
}

/* A value as EDIT_SET takes it back. */
static char *value_text(const cJSON *j, enum kind kind)
{
    struct sb b = {0};
    if (cJSON_IsArray(j) && all_scalars(j) && kind == K_LIST) {
        for (const cJSON *c = j->child; c; c = c->next) {
            char *s = scalar_text(c);
            sb_addf(&b, "%s%s", c == j->child ? "" : ", ", s);
            free(s);
        }
        return sb_take(&b);
    }
    if (cJSON_IsObject(j) && all_scalars(j) && kind == K_OBJECT) {
        for (const cJSON *c = j->child; c; c = c->next) {
            char *s = scalar_text(c);
            sb_addf(&b, "%s%s=%s", c == j->child ? "" : "; ", c->string, s);
            free(s);
        }
        return sb_take(&b);
    }
    if (cJSON_IsObject(j) && kind == K_LISTS && lists_text(j, &b))
        return sb_take(&b);
    sb_free(&b);
    if (cJSON_IsString(j) || cJSON_IsBool(j))
        return flowfile_scalar_text(j);
    char *s = cJSON_PrintUnformatted(j);
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}

char *flowedit_get(const struct flowedit *d, const char *path)
{
    char *task;
    const char *rest = split_path(d, path, &task);
    const cJSON *obj = task ? task_json(d, task) : d->root;
    const struct field *table = task ? task_fields : top_fields;
    size_t n = task ? ARRAY_LEN(task_fields) : ARRAY_LEN(top_fields);
    free(task);
    char *first = xstrndup(rest, strcspn(rest, "."));
    const struct field *f = field_of(table, n, first, NULL);
    enum kind kind = f ? f->kind : K_ANY;
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, first);
    for (const char *p = rest + strlen(first); j && *p == '.'; p += strcspn(p + 1, ".") + 1) {
        char *key = xstrndup(p + 1, strcspn(p + 1, "."));
        j = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
        kind = K_ANY;
        free(key);
    }
    free(first);
    return j ? value_text(j, kind) : NULL;
}

char *flowedit_param(const struct flowedit *d, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(container(d, IN_PARAMS), name);
    return j ? scalar_text(j) : NULL;
}

/* --- edits ------------------------------------------------------------------------------------ */

struct editing {
    struct flowedit *d;
    struct step *s;
    struct err *e;
};

static int no_task(struct editing *x, const char *name)
{
    struct strv names = {0};
    flowedit_tasks(x->d, &names);
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < names.n; i++) {
        size_t dist = edit_distance(name, names.v[i]);
        if (dist < best_d) {
            best_d = dist;
            best = names.v[i];
        }
    }
    if (best && best_d <= strlen(name) / 3 + 1)
        err_set(x->e, "%s: no task named \"%s\" (did you mean \"%s\"?)", x->d->path, name, best);
    else
        err_set(x->e, "%s: no task named \"%s\"", x->d->path, name);
    strv_free(&names);
    return -1;
}

/* The task's JSON to change (a copy the caller puts back or frees), or NULL. */
static cJSON *task_copy(struct editing *x, const char *name)
{
    const cJSON *t = task_json(x->d, name);
    if (!t) {
        no_task(x, name);
        return NULL;
    }
    return cJSON_Duplicate(t, true);
}

static void put_task(struct editing *x, const char *name, cJSON *task)
{
    put(x->d, x->s, IN_TASKS, name, task, -1);
}

/* Where a new member key goes among obj's: before the first member the table puts
 * after it (members it does not know come last). */
static int canonical_index(const cJSON *obj, const struct field *table, size_t n, const char *key)
{
    size_t rank, r;
    field_of(table, n, key, &rank);
    int at = 0;
    for (const cJSON *c = obj->child; c; c = c->next, at++) {
        field_of(table, n, c->string, &r);
        if (r > rank)
            break;
    }
    return at;
}

/* Makes sure the "tasks" or "params" object exists. */
static void ensure_container(struct editing *x, enum where w)
{
    const char *key = w == IN_TASKS ? "tasks" : "params";
    if (cJSON_IsObject(container(x->d, w)))
        return;
    put(x->d, x->s, IN_ROOT, key, cJSON_CreateObject(),
        canonical_index(x->d->root, top_fields, ARRAY_LEN(top_fields), key));
}

/* Sets obj[key] = value (taken over; NULL removes it), a new key placed by the table's
 * order. */
static void object_set(cJSON *obj, const char *key, cJSON *value, const struct field *table,
                       size_t n)
{
    cJSON *old;
    int at = member_index(obj, key, &old);
    if (old)
        cJSON_Delete(cJSON_DetachItemViaPointer(obj, old));
    if (value)
        insert_member(obj, key, value, old ? at : canonical_index(obj, table, n, key));
}

static cJSON *json_or_string(const char *text)
{
    cJSON *j = flowfile_json(text); /* the whole text: "5abc" is a string, not 5 */
    return j ? j : cJSON_CreateString(text);
}

static char *trimmed(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/* "K=V; K=V" as an object of strings. */
static cJSON *parse_pairs(struct editing *x, const char *what, const char *field, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ";");
        char *item = trimmed(p, n);
        char *eq = strchr(item, '=');
        if (item[0] && (!eq || eq == item)) {
            err_set(x->e, "%s: %s: %s: \"%s\" is not NAME=VALUE (pairs are separated by ';')",
                    x->d->path, what, field, item);
            free(item);
            cJSON_Delete(o);
            return NULL;
        }
        if (item[0]) {
            *eq = 0;
            char *k = trimmed(item, strlen(item)), *v = trimmed(eq + 1, strlen(eq + 1));
            cJSON_DeleteItemFromObjectCaseSensitive(o, k);
            cJSON_AddStringToObject(o, k, v);
            free(k);
            free(v);
        }
        free(item);
        p += n + (p[n] == ';');
    }
    return o;
}

/* "VAR=A, B; VAR={params.X}" as a matrix: each value a list (see flowfile_list_value())
 * or, when it is one {...} reference, that string. */
static cJSON *parse_lists(struct editing *x, const char *what, const char *field,
                          const char *text)
{
    cJSON *pairs = parse_pairs(x, what, field, text);
    for (cJSON *c = pairs ? pairs->child : NULL, *next; c; c = next) {
        next = c->next;
        const char *v = c->valuestring;
        if (v[0] == '{' && v[strlen(v) - 1] == '}' && !strchr(v + 1, '{'))
            continue;
        cJSON *list = flowfile_list_value(v);
        if (!list) {
            err_set(x->e, "%s: %s: %s: %s has no values (give A, B or {params.NAME})",
                    x->d->path, what, field, c->string);
            cJSON_Delete(pairs);
            return NULL;
        }
        char *key = xstrdup(c->string);
        cJSON_ReplaceItemInObjectCaseSensitive(pairs, key, list);
        free(key);
    }
    return pairs;
}

static cJSON *parse_list(const char *text)
{
    cJSON *a = cJSON_CreateArray();
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ",");
        char *item = trimmed(p, n);
        if (item[0])
            cJSON_AddItemToArray(a, cJSON_CreateString(item));
        free(item);
        p += n + (p[n] == ',');
    }
    return a;
}

static cJSON *parse_value(struct editing *x, const char *what, const char *field, enum kind kind,
                          const char *text)
{
    switch (kind) {
    case K_STRING:
        return cJSON_CreateString(text);
    case K_LIST:
        return parse_list(text);
    case K_BOOL:
        return strcmp(text, "true") == 0    ? cJSON_CreateTrue()
               : strcmp(text, "false") == 0 ? cJSON_CreateFalse()
                                            : cJSON_CreateString(text);
    case K_OBJECT:
        return parse_pairs(x, what, field, text);
    case K_LISTS:
        return parse_lists(x, what, field, text);
    case K_ANY:
        break;
    }
    return json_or_string(text);
}

/* `matrix.sample` set to "A, B" (or "{params.NAME}"): one variable of an object of
 * lists, read as the whole field's text "sample=A, B" is. */
static int set_one_list(struct editing *x, cJSON *obj, const char *what, const char *field,
                        const char *var, const char *value)
{
    char *text = xasprintf("%s=%s", var, value);
    cJSON *one = parse_lists(x, what, field, text);
    free(text);
    if (!one)
        return -1;
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(one, var);
    cJSON_Delete(one);
    if (!v)
        return err_set(x->e, "%s: %s: %s: \"%s\" is not a variable name", x->d->path, what,
                       field, var);
    object_set(obj, var, v, NULL, 0);
    return 0;
}

/* Sets (value != NULL) or removes a field of obj, possibly deep ("env.K"); what names
 * obj in messages ("task train"). */
static int set_in(struct editing *x, cJSON *obj, const char *what, const char *path,
                  const struct field *table, size_t n, const char *value)
{
    size_t len = strcspn(path, ".");
    char *key = xstrndup(path, len);
    const struct field *f = field_of(table, n, key, NULL);
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, key);
    int rc = 0;
    if (!key[0] || (path[len] == '.' && !path[len + 1])) {
        rc = err_set(x->e, "%s: %s: \"%s\" is not a field name", x->d->path, what, path);
    } else if (!value && !cur) {
        rc = err_set(x->e, "%s: %s has no field \"%s\"", x->d->path, what, key);
    } else if (path[len] == '.') {
        if (!cur) {
            cur = cJSON_CreateObject();
            object_set(obj, key, cur, table, n);
        }
        if (!cJSON_IsObject(cur))
            rc = err_set(x->e, "%s: %s: \"%s\" is not an object", x->d->path, what, key);
        else if (f && f->kind == K_OBJECT && value && !strchr(path + len + 1, '.'))
            object_set(cur, path + len + 1, cJSON_CreateString(value), NULL, 0);
        else if (f && f->kind == K_LISTS && value && !strchr(path + len + 1, '.'))
            rc = set_one_list(x, cur, what, key, path + len + 1, value);
        else
            rc = set_in(x, cur, what, path + len + 1, NULL, 0, value);
        if (rc == 0 && !cur->child)
            object_set(obj, key, NULL, table, n); /* "env" without variables goes */
    } else if (!value) {
        object_set(obj, key, NULL, table, n);
    } else {
        cJSON *v = parse_value(x, what, key, f ? f->kind : K_ANY, value);
        rc = v ? 0 : -1;
        if (v)
            object_set(obj, key, v, table, n);
    }
    free(key);
    return rc;
}

static int edit_task_field(struct editing *x, const char *task, const char *field,
                           const char *value)
{
    cJSON *t = task_copy(x, task);
    if (!t)
        return -1;
    char *what = xasprintf("task %s", task);
    int rc = set_in(x, t, what, field, task_fields, ARRAY_LEN(task_fields), value);
    free(what);
    if (rc == 0)
        put_task(x, task, t);
    else
        cJSON_Delete(t);
    return rc;
}

static int edit_top_field(struct editing *x, const char *path, const char *value)
{
    char *first = xstrndup(path, strcspn(path, "."));
    const struct field *f = field_of(top_fields, ARRAY_LEN(top_fields), first, NULL);
    int rc;
    if (f && f->kind == K_ANY) {
        rc = err_set(x->e, "%s: %s are edited with %s", x->d->path, first,
                     strcmp(first, "params") == 0 ? "param and unparam"
                                                  : "add, rm, rename and set TASK.FIELD");
        free(first);
        return rc;
    }
    /* Edit a copy of the member inside a holder object, then put it back. */
    cJSON *holder = cJSON_CreateObject();
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(x->d->root, first);
    if (cur)
        cJSON_AddItemToObject(holder, first, cJSON_Duplicate(cur, true));
    rc = set_in(x, holder, "the flow", path, top_fields, ARRAY_LEN(top_fields), value);
    if (rc == 0)
        put(x->d, x->s, IN_ROOT, first, cJSON_DetachItemFromObjectCaseSensitive(holder, first),
            canonical_index(x->d->root, top_fields, ARRAY_LEN(top_fields), first));
    cJSON_Delete(holder);
    free(first);
    return rc;
}

/* SET and UNSET (value NULL): "TASK.FIELD", or a top-level field ("name", "x-meta.k"). */
static int edit_field(struct editing *x, const char *path, const char *value)
{
    char *task;
    const char *field = split_path(x->d, path, &task);
    if (task) {
        int rc = edit_task_field(x, task, field, value);
        free(task);
        return rc;
    }
    if (strchr(path, '.') && strncmp(path, "x-", 2) != 0) { /* "trian.run": no such task */
        char *name = xstrndup(path, (size_t)(strrchr(path, '.') - path));
        no_task(x, name);
        free(name);
        return -1;
    }
    return edit_top_field(x, path, value);
}

/* --- tasks and edges -------------------------------------------------------------------------- */

/* "a", "a and b", "a, b and c" */
static char *name_list(const struct strv *names)
{
    struct sb b = {0};
    for (size_t i = 0; i < names->n; i++)
        sb_addf(&b, "%s%s", i == 0 ? "" : i + 1 == names->n ? " and " : ", ", names->v[i]);
    return sb_take(&b);
}

static bool after_has(const cJSON *task, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(task, "after"))
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return true;
    }
    return false;
}

/* Removes name from the task's `after` (and `after` itself when it empties). */
static void after_remove(cJSON *task, const char *name)
{
    cJSON *after = cJSON_GetObjectItemCaseSensitive(task, "after");
    for (cJSON *it = after ? after->child : NULL, *next; it; it = next) {
        next = it->next;
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(after, it));
    }
    if (after && !after->child)
        object_set(task, "after", NULL, NULL, 0);
}

static int edit_add(struct editing *x, const char *name)
{
    ensure_container(x, IN_TASKS);
    if (task_json(x->d, name))
        return err_set(x->e, "%s: task %s already exists", x->d->path, name);
    put_task(x, name, cJSON_CreateObject());
    return 0;
}

static int edit_remove(struct editing *x, const char *name, bool force)
{
    if (!task_json(x->d, name))
        return no_task(x, name);
    struct strv users = {0};
    for (const cJSON *t = container(x->d, IN_TASKS)->child; t; t = t->next)
        if (after_has(t, name))
            strv_push(&users, xstrdup(t->string));
    int rc = 0;
    if (users.n && !force) {
        char *list = name_list(&users);
        rc = err_set(x->e, "%s: task %s: %s %s after it", x->d->path, name, list,
                     users.n == 1 ? "comes" : "come");
        free(list);
    }
    for (size_t i = 0; rc == 0 && i < users.n; i++) {
        cJSON *t = task_copy(x, users.v[i]);
        after_remove(t, name);
        put_task(x, users.v[i], t);
    }
    if (rc == 0)
        put_task(x, name, NULL);
    strv_free(&users);
    return rc;
}

/* Replaces $IN_old and ${IN_old} (not $IN_older) by the new variable, in place. */
static bool rename_var(cJSON *str, const char *old_var, const char *new_var)
{
    if (!cJSON_IsString(str))
        return false;
    const char *s = str->valuestring;
    size_t n = strlen(old_var);
    struct sb b = {0};
    bool any = false;
    while (*s) {
        bool brace = s[0] == '$' && s[1] == '{';
        const char *v = s + 1 + brace;
        bool hit = s[0] == '$' && strncmp(v, old_var, n) == 0 &&
                   (brace ? v[n] == '}' : !(isalnum((unsigned char)v[n]) || v[n] == '_'));
        if (hit) {
            sb_addf(&b, brace ? "${%s" : "$%s", new_var);
            s = v + n;
            any = true;
        } else {
            sb_addc(&b, *s++);
        }
    }
    if (any)
        cJSON_SetValuestring(str, b.buf ? b.buf : "");
    sb_free(&b);
    return any;
}

/* The task's references to old (in `after`, and $IN_old in `run` and `env`) renamed. */
static bool rename_refs(cJSON *t, const char *old, const char *new_name, const char *old_var,
                        const char *new_var)
{
    bool any = false;
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(t, "after"))
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, old) == 0) {
            cJSON_SetValuestring(it, new_name);
            any = true;
        }
    }
    any = rename_var(cJSON_GetObjectItemCaseSensitive(t, "run"), old_var, new_var) || any;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(t, "env"))
    {
        any = rename_var(it, old_var, new_var) || any;
    }
    return any;
}

static int edit_rename(struct editing *x, const char *old, const char *new_name)
{
    cJSON *t = task_copy(x, old);
    if (!t)
        return -1;
    if (strcmp(old, new_name) == 0) {
        cJSON_Delete(t);
        return 0;
    }
    if (task_json(x->d, new_name)) {
        cJSON_Delete(t);
        return err_set(x->e, "%s: task %s already exists", x->d->path, new_name);
    }
    cJSON *dummy;
    int at = member_index(container(x->d, IN_TASKS), old, &dummy);
    put_task(x, old, NULL);
    put(x->d, x->s, IN_TASKS, new_name, t, at);
    char *old_var = flow_var_name(old), *new_var = flow_var_name(new_name);
    struct strv names = {0};
    flowedit_tasks(x->d, &names);
    for (size_t i = 0; i < names.n; i++) {
        cJSON *u = cJSON_Duplicate(task_json(x->d, names.v[i]), true);
        if (rename_refs(u, old, new_name, old_var, new_var))
            put_task(x, names.v[i], u);
        else
            cJSON_Delete(u);
    }
    strv_free(&names);
    free(old_var);
    free(new_var);
    return 0;
}

static int edit_connect(struct editing *x, const char *up, const char *down, bool connect)
{
    if (!task_json(x->d, up))
        return no_task(x, up);
    cJSON *t = task_copy(x, down);
    if (!t)
        return -1;
    int rc = 0;
    if (connect && after_has(t, up)) {
        rc = err_set(x->e, "%s: task %s already comes after %s", x->d->path, down, up);
    } else if (!connect && !after_has(t, up)) {
        rc = err_set(x->e, "%s: task %s does not come after %s", x->d->path, down, up);
    } else if (!connect) {
        after_remove(t, up);
    } else {
        cJSON *after = cJSON_GetObjectItemCaseSensitive(t, "after");
        if (!cJSON_IsArray(after)) {
            after = cJSON_CreateArray();
            object_set(t, "after", after, task_fields, ARRAY_LEN(task_fields));
        }
        cJSON_AddItemToArray(after, cJSON_CreateString(up));
    }
    if (rc == 0)
        put_task(x, down, t);
    else
        cJSON_Delete(t);
    return rc;
}

static int edit_param(struct editing *x, const char *name, const char *value)
{
    ensure_container(x, IN_PARAMS);
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(container(x->d, IN_PARAMS), name);
    if (!value && !cur)
        return err_set(x->e, "%s: no parameter named %s", x->d->path, name);
    cJSON *v = NULL;
    if (value && (cJSON_IsArray(cur) || (value[0] == '[' && value[strlen(value) - 1] == ']'))) {
        /* a list: A,B or [A, B] */
        v = flowfile_list_value(value);
        if (!v)
            return err_set(x->e, "%s: parameter %s is a list: give it as A,B,C or [A, B, C]",
                           x->d->path, name);
    } else if (value) {
        v = flowfile_param_value(value); /* as `-p NAME=VALUE` takes it */
    }
    put(x->d, x->s, IN_PARAMS, name, v, -1);
    return 0;
}

static int edit_one(struct editing *x, const struct edit *ed)
{
    if (!ed->a || !ed->a[0] ||
        ((ed->op == EDIT_RENAME || ed->op == EDIT_CONNECT || ed->op == EDIT_DISCONNECT) &&
         (!ed->b || !ed->b[0])) ||
        ((ed->op == EDIT_SET || ed->op == EDIT_PARAM) && !ed->value))
        return err_set(x->e, "%s: an edit is missing a name or a value", x->d->path);
    switch (ed->op) {
    case EDIT_ADD:
        return edit_add(x, ed->a);
    case EDIT_REMOVE:
        return edit_remove(x, ed->a, ed->force);
    case EDIT_RENAME:
        return edit_rename(x, ed->a, ed->b);
    case EDIT_SET:
        return edit_field(x, ed->a, ed->value);
    case EDIT_UNSET:
        return edit_field(x, ed->a, NULL);
    case EDIT_CONNECT:
    case EDIT_DISCONNECT:
        return edit_connect(x, ed->a, ed->b, ed->op == EDIT_CONNECT);
    case EDIT_PARAM:
        return edit_param(x, ed->a, ed->value);
    case EDIT_UNPARAM:
        return edit_param(x, ed->a, NULL);
    }
    return err_set(x->e, "%s: unknown edit", x->d->path);
}

static char *describe(const struct edit *edits, size_t n)
{
    static const char *const verbs[] = {"add",     "rm",         "rename", "set",    "unset",
                                        "connect", "disconnect", "param",  "unparam"};
    const struct edit *ed = &edits[0];
    struct sb b = {0};
    sb_addf(&b, "%s%s %s", verbs[ed->op], ed->op == EDIT_REMOVE && ed->force ? "!" : "", ed->a);
    if (ed->op == EDIT_RENAME || ed->op == EDIT_CONNECT || ed->op == EDIT_DISCONNECT)
        sb_addf(&b, " %s", ed->b);
    if (n > 1)
        sb_addf(&b, " and %zu more change%s", n - 1, n > 2 ? "s" : "");
    return sb_take(&b);
}

/* Applies the edits to the document, recording them in s; on failure nothing changed. */
static int apply_all(struct flowedit *d, struct step *s, const struct edit *edits, size_t n,
                     struct err *e)
{
    struct editing x = {d, s, e};
    for (size_t i = 0; i < n; i++) {
        if (edit_one(&x, &edits[i])) {
            rollback(d, s);
            step_free(s);
            return -1;
        }
    }
    return 0;
}

int flowedit_check(struct flowedit *d, const struct edit *edits, size_t n, struct err *e)
{
    struct step s = {0};
    if (apply_all(d, &s, edits, n, e))
        return -1;
    int rc = validate(d, e);
    rollback(d, &s);
    step_free(&s);
    return rc;
}

int flowedit_apply(struct flowedit *d, const struct edit *edits, size_t n, struct err *e)
{
    if (n == 0)
        return 0;
    struct step s = {0};
    if (apply_all(d, &s, edits, n, e))
        return -1;
    struct err v;
    bool valid = validate(d, &v) == 0;
    if (!valid && !d->error) { /* a valid flow stays valid */
        *e = v;
        rollback(d, &s);
        step_free(&s);
        return -1;
    }
    free(d->error);
    d->error = valid ? NULL : xstrdup(v.msg);
    s.what = describe(edits, n);
    s.state_before = d->state;
    s.state_after = d->state = ++d->next_state;
    steps_push(&d->undo, &s);
    steps_clear(&d->redo);
    return 0;
}

static const char *travel(struct flowedit *d, struct steps *from, struct steps *to, bool back)
{
    if (!from->n)
        return NULL;
    struct step *s = &from->v[--from->n];
    if (back) {
        rollback(d, s);
    } else {
        for (size_t i = 0; i < s->n; i++)
            apply_change(d, &s->changes[i], true);
    }
    d->state = back ? s->state_before : s->state_after;
    free(d->last_what);
    d->last_what = xstrdup(s->what);
    steps_push(to, s);
    revalidate(d);
    return d->last_what;
}

const char *flowedit_undo(struct flowedit *d)
{
    return travel(d, &d->undo, &d->redo, true);
}

const char *flowedit_redo(struct flowedit *d)
{
    return travel(d, &d->redo, &d->undo, false);
}
