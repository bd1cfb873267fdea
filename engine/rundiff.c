/* rundiff: comparing two runs' records. */
#include "rundiff.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "blobs.h"
#include "flowfile.h"
#include "runs.h"
#include "strmap.h"

static char *scalar(const cJSON *j)
{
    if (!j)
        return xstrdup("(none)");
    char *s = flowfile_scalar_text(j);
    return s ? s : cJSON_PrintUnformatted(j);
}

static void diff_params(const char *a_json, const char *b_json, struct strv *out)
{
    cJSON *a = flowfile_json(a_json), *b = flowfile_json(b_json); /* numbers as recorded */
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        char *old = scalar(it);
        char *now = scalar(cJSON_GetObjectItemCaseSensitive(b, it->string));
        if (strcmp(old, now) != 0)
            strv_pushf(out, "%s: %s -> %s", it->string, old, now);
        free(old);
        free(now);
    }
    cJSON_ArrayForEach(it, b)
    {
        if (cJSON_GetObjectItemCaseSensitive(a, it->string))
            continue;
        char *now = scalar(it);
        strv_pushf(out, "%s: (none) -> %s", it->string, now);
        free(now);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* Appends task to a comma-separated list, once. */
static void add_task(char **list, const char *task)
{
    size_t n = strlen(task);
    for (const char *p = *list; p; p = strstr(p, ", ") ? strstr(p, ", ") + 2 : NULL)
        if (strncmp(p, task, n) == 0 && (p[n] == ',' || !p[n]))
            return;
    char *old = *list;
    *list = xasprintf("%s, %s", old, task);
    free(old);
}

static struct rundiff_code *find_code(struct rundiff *d, const char *path, const char *old_blob,
                                      const char *new_blob)
{
    for (size_t i = 0; i < d->n_code; i++)
        if (!strcmp(d->code[i].path, path) && !strcmp(d->code[i].old_blob, old_blob) &&
            !strcmp(d->code[i].new_blob, new_blob))
            return &d->code[i];
    return NULL;
}

/* Code files whose blob differs between the two records of one task (a file only one
 * of them uses counts as changed from or to nothing). */
static void diff_code(struct rundiff *d, const struct task_record *a, const struct task_record *b)
{
    for (size_t i = 0; i < a->code_paths.n + b->code_paths.n; i++) {
        bool in_a = i < a->code_paths.n;
        const char *path = in_a ? a->code_paths.v[i] : b->code_paths.v[i - a->code_paths.n];
        const char *old = "", *now = "";
        for (size_t k = 0; k < a->code_paths.n; k++)
            if (!strcmp(a->code_paths.v[k], path))
                old = a->code_blobs.v[k];
        for (size_t k = 0; k < b->code_paths.n; k++)
            if (!strcmp(b->code_paths.v[k], path))
                now = b->code_blobs.v[k];
        if (!strcmp(old, now) || (!in_a && old[0]))
            continue; /* unchanged, or seen from a's side already */
        struct rundiff_code *c = find_code(d, path, old, now);
        if (c) {
            add_task(&c->tasks, b->task);
            continue;
        }
        d->code = xrealloc(d->code, (d->n_code + 1) * sizeof *d->code);
        d->code[d->n_code++] = (struct rundiff_code){.path = xstrdup(path),
                                                     .tasks = xstrdup(b->task),
                                                     .old_blob = xstrdup(old),
                                                     .new_blob = xstrdup(now)};
    }
}

static void diff_files(struct rundiff *d, const struct task_record *a, const struct task_record *b)
{
    for (size_t i = 0; i < b->file_paths.n; i++) {
        for (size_t k = 0; k < a->file_paths.n; k++) {
            if (strcmp(a->file_paths.v[k], b->file_paths.v[i]) != 0 ||
                strcmp(a->file_digests.v[k], b->file_digests.v[i]) == 0)
                continue;
            struct rundiff_file *f = NULL;
            for (size_t j = 0; j < d->n_files && !f; j++)
                if (!strcmp(d->files[j].path, b->file_paths.v[i]) &&
                    !strcmp(d->files[j].new_digest, b->file_digests.v[i]))
                    f = &d->files[j];
            if (f) {
                add_task(&f->tasks, b->task);
                continue;
            }
            d->files = xrealloc(d->files, (d->n_files + 1) * sizeof *d->files);
            d->files[d->n_files++] = (struct rundiff_file){
                .path = xstrdup(b->file_paths.v[i]),
                .tasks = xstrdup(b->task),
                .old_digest = xstrdup(a->file_digests.v[k]),
                .new_digest = xstrdup(b->file_digests.v[i]),
                .old_size = a->file_sizes[k],
                .new_size = b->file_sizes[i]};
        }
    }
}

static void diff_task(struct rundiff *d, const struct task_record *a, const struct task_record *b)
{
    diff_code(d, a, b);
    diff_files(d, a, b);
    if (strcmp(a->deep_key, b->deep_key) != 0)
        strv_push(&d->keys_changed, xstrdup(b->task));
    d->outputs = xrealloc(d->outputs, (d->n_outputs + 1) * sizeof *d->outputs);
    d->outputs[d->n_outputs++] = (struct rundiff_output){.task = xstrdup(b->task),
                                                         .old_digest = xstrdup(a->output_digest),
                                                         .new_digest = xstrdup(b->output_digest),
                                                         .old_size = a->output_size,
                                                         .new_size = b->output_size};
}

/* The diffs of changed code, read from the repository of run b's flow. */
static void add_diffs(struct rundiff *d, const struct records *rec, size_t diff_lines)
{
    if (!d->n_code)
        return;
    sqlite3_stmt *st = db_prepare(rec->db, "SELECT f.path FROM runs r JOIN flows f ON f.id = "
                                      "r.flow_id WHERE r.id = ?");
    sqlite3_bind_int64(st, 1, d->b);
    char *dir = sqlite3_step(st) == SQLITE_ROW ? xstrdup(db_col_text(st, 0)) : xstrdup("/");
    db_done(st);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0;
    struct fingerprint *fp;
    struct err e;
    fingerprint_open(dir, NULL, &fp, &e);
    for (size_t i = 0; i < d->n_code; i++) {
        struct rundiff_code *c = &d->code[i];
        if (!c->old_blob[0] || !c->new_blob[0])
            c->diff_error = xstrdup(c->old_blob[0] ? "not used in the second run"
                                                   : "not used in the first run");
        else if (blobs_diff(rec->store, fp, c->path, c->old_blob, c->new_blob, NULL, diff_lines,
                            &c->diff, &e))
            c->diff_error = xstrdup(e.msg);
    }
    fingerprint_close(fp);
    free(dir);
}

int rundiff_compute(const struct records *rec, int64_t a, int64_t b, size_t diff_lines,
                    struct rundiff *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->a = a;
    out->b = b;
    struct run_row ra, rb;
    if (!runs_get(rec->db, a, &ra))
        return err_set(e, "there is no run %lld", (long long)a);
    if (!runs_get(rec->db, b, &rb)) {
        run_row_free(&ra);
        return err_set(e, "there is no run %lld", (long long)b);
    }
    diff_params(ra.params, rb.params, &out->params);
    struct task_record *ta, *tb;
    size_t na = runs_tasks(rec->db, a, &ta), nb = runs_tasks(rec->db, b, &tb);
    struct strmap in_a = {0}, in_b = {0};
    for (size_t i = 0; i < na; i++)
        strmap_put(&in_a, ta[i].task, &ta[i]);
    for (size_t i = 0; i < nb; i++) {
        strmap_put(&in_b, tb[i].task, &tb[i]);
        const struct task_record *old = strmap_get(&in_a, tb[i].task);
        if (old)
            diff_task(out, old, &tb[i]);
        else
            strv_push(&out->only_b, xstrdup(tb[i].task));
    }
    for (size_t i = 0; i < na; i++)
        if (!strmap_get(&in_b, ta[i].task))
            strv_push(&out->only_a, xstrdup(ta[i].task));
    add_diffs(out, rec, diff_lines);
    strmap_free(&in_a, NULL);
    strmap_free(&in_b, NULL);
    task_records_free(ta, na);
    task_records_free(tb, nb);
    run_row_free(&ra);
    run_row_free(&rb);
    return 0;
}

void rundiff_free(struct rundiff *d)
{
    strv_free(&d->params);
    for (size_t i = 0; i < d->n_code; i++) {
        free(d->code[i].path);
        free(d->code[i].tasks);
        free(d->code[i].old_blob);
        free(d->code[i].new_blob);
        free(d->code[i].diff);
        free(d->code[i].diff_error);
    }
    free(d->code);
    for (size_t i = 0; i < d->n_files; i++) {
        free(d->files[i].path);
        free(d->files[i].tasks);
        free(d->files[i].old_digest);
        free(d->files[i].new_digest);
    }
    free(d->files);
    strv_free(&d->keys_changed);
    for (size_t i = 0; i < d->n_outputs; i++) {
        free(d->outputs[i].task);
        free(d->outputs[i].old_digest);
        free(d->outputs[i].new_digest);
    }
    free(d->outputs);
    strv_free(&d->only_a);
    strv_free(&d->only_b);
    memset(d, 0, sizeof *d);
}

static const char *or_none(const char *id)
{
    return id[0] ? id : "(none)";
}

static void diff_text_lines(const char *diff, struct strv *lines)
{
    for (const char *l = diff; l && *l;) {
        size_t n = strcspn(l, "\n");
        strv_pushf(lines, "    %.*s", (int)n, l);
        l += n + (l[n] ? 1 : 0);
    }
}

void rundiff_lines(const struct rundiff *d, struct strv *lines)
{
    strv_pushf(lines, "run %lld -> run %lld", (long long)d->a, (long long)d->b);
    if (d->params.n)
        strv_push(lines, xstrdup("params:"));
    for (size_t i = 0; i < d->params.n; i++)
        strv_pushf(lines, "  %s", d->params.v[i]);
    if (d->n_code)
        strv_push(lines, xstrdup("code:"));
    for (size_t i = 0; i < d->n_code; i++) {
        const struct rundiff_code *c = &d->code[i];
        strv_pushf(lines, "  %s (%s): %.12s -> %.12s", c->path, c->tasks, or_none(c->old_blob),
                   or_none(c->new_blob));
        if (c->diff_error)
            strv_pushf(lines, "    (no diff: %s)", c->diff_error);
        diff_text_lines(c->diff, lines);
    }
    if (d->n_files)
        strv_push(lines, xstrdup("files:"));
    for (size_t i = 0; i < d->n_files; i++) {
        const struct rundiff_file *f = &d->files[i];
        char a[32], b[32];
        fmt_size(a, sizeof a, f->old_size);
        fmt_size(b, sizeof b, f->new_size);
        strv_pushf(lines, "  %s (%s): %.12s -> %.12s (%s -> %s)", f->path, f->tasks,
                   f->old_digest, f->new_digest, a, b);
    }
    if (d->keys_changed.n) {
        struct sb b = {0};
        for (size_t i = 0; i < d->keys_changed.n; i++)
            sb_addf(&b, "%s %s", i ? "," : "", d->keys_changed.v[i]);
        strv_pushf(lines, "keys changed:%s", b.buf);
        sb_free(&b);
    }
    size_t differ = 0;
    for (size_t i = 0; i < d->n_outputs; i++)
        differ += strcmp(d->outputs[i].old_digest, d->outputs[i].new_digest) != 0;
    strv_pushf(lines, "outputs: %zu identical, %zu differ%s", d->n_outputs - differ, differ,
               differ ? ":" : "");
    for (size_t i = 0; i < d->n_outputs; i++) {
        const struct rundiff_output *o = &d->outputs[i];
        if (!strcmp(o->old_digest, o->new_digest))
            continue;
        char a[32] = "none", b[32] = "none";
        if (o->old_digest[0])
            fmt_size(a, sizeof a, o->old_size);
        if (o->new_digest[0])
            fmt_size(b, sizeof b, o->new_size);
        strv_pushf(lines, "  %s: %.12s -> %.12s (%s -> %s)", o->task, or_none(o->old_digest),
                   or_none(o->new_digest), a, b);
    }
    for (size_t i = 0; i < d->only_a.n; i++)
        strv_pushf(lines, "only in run %lld: %s", (long long)d->a, d->only_a.v[i]);
    for (size_t i = 0; i < d->only_b.n; i++)
        strv_pushf(lines, "only in run %lld: %s", (long long)d->b, d->only_b.v[i]);
}
