/* keys: canonical encoding of task inputs, hashed. */
#include "keys.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pathset.h"

static void put_u64(struct sb *b, uint64_t v)
{
    unsigned char be[8];
    for (int i = 7; i >= 0; i--) {
        be[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    sb_add(b, be, 8);
}

static void put_str(struct sb *b, const char *s)
{
    size_t n = strlen(s);
    put_u64(b, n);
    sb_add(b, s, n);
}

static void put_field(struct sb *b, char tag, uint64_t count)
{
    sb_addc(b, tag);
    put_u64(b, count);
}

struct up {
    const char *var, *value;
};

static int cmp_up(const void *a, const void *b)
{
    return strcmp(((const struct up *)a)->var, ((const struct up *)b)->var);
}

/* Each field of the table that is part of the key has its part here; ups are the
 * upstreams' deep keys or output digests. */
struct part {
    const struct keys *k;
    const struct task *t;
    const struct task_inputs *in;
    const char *const *ups;
};

static void put_run(struct sb *b, const struct part *p)
{
    put_field(b, 'c', 1);
    put_str(b, p->t->run);
}

static void put_env(struct sb *b, const struct part *p)
{
    put_field(b, 'e', p->t->n_env); /* sorted by key at load */
    for (size_t j = 0; j < p->t->n_env; j++) {
        put_str(b, p->t->env[j].key);
        put_str(b, p->t->env[j].value);
    }
}

static void put_code(struct sb *b, const struct part *p)
{
    put_field(b, 'p', p->in->n_code); /* sorted by path at load */
    for (size_t j = 0; j < p->in->n_code; j++) {
        put_str(b, p->t->code.v[j]);
        put_str(b, p->in->code[j]->blob);
    }
}

static void put_files(struct sb *b, const struct part *p)
{
    put_field(b, 'f', p->in->n_files); /* sorted at gather() */
    for (size_t j = 0; j < p->in->n_files; j++) {
        put_str(b, p->in->files[j].path);
        put_str(b, p->in->files[j].digest);
    }
}

static void put_after(struct sb *b, const struct part *p)
{
    const struct task *t = p->t;
    struct up *u = xcalloc(t->n_deps, sizeof *u);
    char (*vars)[FLOW_VAR_MAX] = xcalloc(t->n_deps + 1, sizeof *vars);
    for (size_t j = 0; j < t->n_deps; j++)
        u[j] = (struct up){flow_dep_var(t, j, p->k->flow, vars[j], sizeof vars[j]), p->ups[j]};
    sort_array(u, t->n_deps, sizeof *u, cmp_up);
    put_field(b, 'u', t->n_deps);
    for (size_t j = 0; j < t->n_deps; j++) {
        put_str(b, u[j].var);
        put_str(b, u[j].value);
    }
    free(u);
    free(vars);
}

/* Only when declared, so that a task without outputs keeps the key it always had. */
static void put_outputs(struct sb *b, const struct part *p)
{
    if (!p->t->outputs.n)
        return;
    put_field(b, 'o', p->t->outputs.n); /* sorted at load */
    for (size_t j = 0; j < p->t->outputs.n; j++)
        put_str(b, p->t->outputs.v[j]);
}

/* In the order of the encoding (KEY_FORMAT_VERSION 1), not the table's: one per field
 * the table marks as part of the key. */
static const struct {
    enum task_field_id field;
    void (*put)(struct sb *, const struct part *);
} parts[] = {
    {TASK_FIELD_run, put_run},     {TASK_FIELD_env, put_env},     {TASK_FIELD_code, put_code},
    {TASK_FIELD_files, put_files}, {TASK_FIELD_after, put_after}, {TASK_FIELD_outputs, put_outputs},
};
_Static_assert(sizeof parts / sizeof parts[0] == TASK_FIELDS_KEYED,
               "every field of TASK_FIELDS marked as part of the key has one part here");

bool keys_encodes(enum task_field_id field)
{
    for (size_t i = 0; i < ARRAY_LEN(parts); i++)
        if (parts[i].field == field)
            return true;
    return false;
}

/* The one encoder behind both keys. */
static void encode(const struct keys *k, size_t i, const char *kind, const char *const *ups,
                   char out[HASH_HEX])
{
    struct part p = {k, &k->flow->tasks[i], &k->in[i], ups};
    struct sb b = {0};
    sb_add(&b, "sluice-key", 11);
    put_u64(&b, KEY_FORMAT_VERSION);
    put_str(&b, kind);
    for (size_t j = 0; j < ARRAY_LEN(parts); j++)
        parts[j].put(&b, &p);
    hash_bytes(b.buf, b.len, out);
    sb_free(&b);
}

void keys_init(struct keys *k, const struct flow *f, struct fingerprint *fp, struct db *db)
{
    k->flow = f;
    k->fp = fp;
    k->db = db;
    k->in = xcalloc(f->n_tasks, sizeof *k->in);
    size_t slots = 0;
    for (size_t i = 0; i < f->n_tasks; i++)
        slots += f->tasks[i].code.n;
    k->code_slots = xcalloc(slots, sizeof *k->code_slots);
    for (size_t i = 0, at = 0; i < f->n_tasks; at += f->tasks[i++].code.n)
        k->in[i].code = k->code_slots + at;
}

void keys_free(struct keys *k)
{
    if (!k->in)
        return;
    for (size_t i = 0; i < k->flow->n_tasks; i++) {
        for (size_t j = 0; j < k->in[i].n_files; j++)
            free(k->in[i].files[j].path);
        free(k->in[i].files);
    }
    free(k->in);
    free(k->code_slots);
    k->in = NULL;
    k->code_slots = NULL;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct file_fp *)a)->path, ((const struct file_fp *)b)->path);
}

/* The files one `files` entry names: itself, or for a glob or a directory every regular
 * file it matches (sorted by gather()), each at least one. */
static int files_of(const char *dir, const char *entry, struct strv *out, struct err *e)
{
    const char *stars = strstr(entry, "**");
    if (stars)
        return err_set(e, "files pattern %s: ** is not supported (name a directory to take "
                          "every file below it)",
                       entry);
    struct stat st;
    char *abs = path_join(dir, entry);
    bool is_dir = !pathset_is_glob(entry) && stat(abs, &st) == 0 && S_ISDIR(st.st_mode);
    free(abs);
    if (!pathset_is_glob(entry) && !is_dir) {
        strv_push(out, xstrdup(entry)); /* a file, as written: its digest says the rest */
        return 0;
    }
    size_t before = out->n;
    if (is_dir)
        pathset_dir_files(dir, entry, out);
    else
        pathset_glob(dir, entry, out);
    if (out->n == before)
        return err_set(e, is_dir ? "files directory %s holds no file"
                                 : "files pattern %s matches no file",
                       entry);
    for (size_t i = before; i < out->n; i++) {
        char *norm = path_normalize(out->v[i], true);
        free(out->v[i]);
        out->v[i] = norm;
    }
    return 0;
}

static int gather(struct keys *k, size_t i, struct err *e)
{
    const struct task *t = &k->flow->tasks[i];
    struct task_inputs *in = &k->in[i];
    in->n_code = 0;
    for (size_t j = 0; j < t->code.n; j++) {
        if (fingerprint_file(k->fp, t->dir, t->code.v[j], &in->code[j], e))
            return err_prefix(e, "%s: task %s", k->flow->path, t->name);
        in->n_code++;
    }
    struct strv paths = {0};
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < t->files.n; j++)
        rc = files_of(t->dir, t->files.v[j], &paths, e);
    in->files = paths.n ? xcalloc(paths.n, sizeof *in->files) : NULL;
    for (size_t j = 0; rc == 0 && j < paths.n; j++) {
        rc = filedigest_get(k->db, t->dir, paths.v[j], &in->files[j], e);
        if (rc)
            free(in->files[j].path);
        else
            in->n_files++;
    }
    strv_free(&paths);
    if (rc)
        return err_prefix(e, "%s: task %s", k->flow->path, t->name);
    sort_array(in->files, in->n_files, sizeof *in->files, cmp_file);
    return 0;
}

/* The `files` entries of task i name other files than when its key was computed (a
 * file added to a directory or matching a glob, or one removed): the first such. */
static char *files_renamed(const struct keys *k, size_t i)
{
    const struct task *t = &k->flow->tasks[i];
    const struct task_inputs *in = &k->in[i];
    struct strv paths = {0};
    struct err e;
    char *which = NULL;
    for (size_t j = 0; !which && j < t->files.n; j++)
        if (files_of(t->dir, t->files.v[j], &paths, &e))
            which = xstrdup(t->files.v[j]);
    strv_sort(&paths);
    for (size_t j = 0; !which && j < paths.n && j < in->n_files; j++)
        if (strcmp(paths.v[j], in->files[j].path) != 0)
            which = xstrdup(strcmp(paths.v[j], in->files[j].path) < 0 ? paths.v[j]
                                                                     : in->files[j].path);
    if (!which && paths.n != in->n_files)
        which = xstrdup(paths.n > in->n_files ? paths.v[in->n_files] : in->files[paths.n].path);
    strv_free(&paths);
    return which;
}

char *keys_changed_input(const struct keys *k, size_t i)
{
    const struct task *t = &k->flow->tasks[i];
    const struct task_inputs *in = &k->in[i];
    for (size_t j = 0; j < in->n_code; j++)
        if (!file_stamp_holds(in->code[j]->abs, &in->code[j]->stamp))
            return xstrdup(t->code.v[j]);
    for (size_t j = 0; j < in->n_files; j++) {
        char *abs = path_join(t->dir, in->files[j].path);
        bool holds = file_stamp_holds(abs, &in->files[j].stamp);
        free(abs);
        if (!holds)
            return xstrdup(in->files[j].path);
    }
    return files_renamed(k, i);
}

static int compute_one(struct keys *k, size_t i, struct err *e)
{
    const struct task *t = &k->flow->tasks[i];
    struct task_inputs *in = &k->in[i];
    if (gather(k, i, e))
        return -1;
    const char **ups = xcalloc(t->n_deps, sizeof *ups);
    for (size_t j = 0; j < t->n_deps; j++)
        ups[j] = k->in[t->deps[j]].deep;
    encode(k, i, "deep", ups, in->deep);
    free(ups);
    in->done = true;
    return 0;
}

/* Post-order walk with an explicit stack: a 100,000-task chain must not overflow. */
int keys_deep(struct keys *k, size_t i, struct err *e)
{
    if (k->in[i].done)
        return 0;
    /* Grown as needed: sized for the whole flow, each call would clear O(n) memory,
     * and status asks for every task in turn. */
    struct frame {
        size_t task, next;
    } *stack = NULL;
    size_t top = 0, cap = 0;
    xgrow(&stack, &cap, 16, sizeof *stack);
    stack[top++] = (struct frame){i, 0};
    int rc = 0;
    while (top > 0 && rc == 0) {
        struct frame *f = &stack[top - 1];
        const struct task *t = &k->flow->tasks[f->task];
        if (f->next < t->n_deps) {
            size_t d = t->deps[f->next++];
            if (!k->in[d].done) {
                xgrow(&stack, &cap, top + 1, sizeof *stack);
                stack[top++] = (struct frame){d, 0};
            }
            continue;
        }
        rc = compute_one(k, f->task, e);
        top--;
    }
    free(stack);
    return rc;
}

void keys_shallow(const struct keys *k, size_t i, const char *const *dep_digests,
                  char out[HASH_HEX])
{
    encode(k, i, "shallow", dep_digests, out);
}
