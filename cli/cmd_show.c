/* cmd_show: `sluice show RUN` — one run in full: parameters, code, every task. */
#include <cjson/cJSON.h>

#include "cli.h"
#include "flowfile.h"
#include "runs.h"
#include "term.h"
#include "workspace.h"

static cJSON *strv_pairs(const struct strv *a, const char *ka, const struct strv *b,
                         const char *kb)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < a->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, ka, a->v[i]);
        cJSON_AddStringToObject(o, kb, b->v[i]);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static void add_text_or_null(cJSON *o, const char *key, const char *s)
{
    if (s && s[0])
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

/* What became of the run's publications: events "published" (detail: the path) and
 * "publish failed" (detail: why), in order. */
struct publications {
    struct strv task, state, detail;
};

static void add_publication(void *ctx, const char *task, const char *state, double t,
                            const char *detail)
{
    (void)t;
    struct publications *p = ctx;
    if (strcmp(state, "published") != 0 && strcmp(state, "publish failed") != 0)
        return;
    strv_push(&p->task, xstrdup(task));
    strv_push(&p->state, xstrdup(state));
    strv_push(&p->detail, xstrdup(detail ? detail : ""));
}

static cJSON *task_json(const struct task_record *t, const struct publications *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->task);
    cJSON_AddStringToObject(o, "decision", t->decision);
    add_text_or_null(o, "reason", t->reason);
    add_text_or_null(o, "cause", t->cause);
    cJSON_AddStringToObject(o, "deep_key", t->deep_key);
    add_text_or_null(o, "shallow_key", t->shallow_key);
    cJSON_AddStringToObject(o, "command", t->command);
    if (t->started > 0)
        cJSON_AddNumberToObject(o, "started", t->started);
    if (t->ended > 0 && t->started > 0)
        cJSON_AddNumberToObject(o, "duration", t->ended - t->started);
    if (t->has_exit)
        cJSON_AddNumberToObject(o, "exit_code", t->exit_code);
    else
        cJSON_AddNullToObject(o, "exit_code");
    add_text_or_null(o, "output_digest", t->output_digest);
    if (t->output_digest[0])
        cJSON_AddNumberToObject(o, "output_size", (double)t->output_size);
    add_text_or_null(o, "log", t->log_object);
    if (t->producer_run != t->run_id)
        cJSON_AddNumberToObject(o, "output_from_run", (double)t->producer_run);
    cJSON_AddItemToObject(o, "code", strv_pairs(&t->code_paths, "path", &t->code_blobs, "blob"));
    cJSON *files = strv_pairs(&t->file_paths, "path", &t->file_digests, "digest");
    for (size_t i = 0; i < t->file_paths.n; i++)
        cJSON_AddNumberToObject(cJSON_GetArrayItem(files, (int)i), "size",
                                (double)t->file_sizes[i]);
    cJSON_AddItemToObject(o, "files", files);
    cJSON *ups = strv_pairs(&t->up_names, "name", &t->up_keys, "deep_key");
    for (size_t i = 0; i < t->up_names.n; i++)
        add_text_or_null(cJSON_GetArrayItem(ups, (int)i), "output_digest", t->up_digests.v[i]);
    cJSON_AddItemToObject(o, "upstream", ups);
    cJSON *pubs = cJSON_AddArrayToObject(o, "publications");
    for (size_t i = 0; i < p->task.n; i++) {
        if (strcmp(p->task.v[i], t->task) != 0)
            continue;
        cJSON *pub = cJSON_CreateObject();
        cJSON_AddStringToObject(pub, "event", p->state.v[i]);
        cJSON_AddStringToObject(pub, "detail", p->detail.v[i]);
        cJSON_AddItemToArray(pubs, pub);
    }
    return o;
}

static void print_json(const struct run_row *r, const struct task_record *t, size_t n,
                       const struct publications *p)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddNumberToObject(run, "id", (double)r->id);
    cJSON_AddStringToObject(run, "status", r->status);
    cJSON_AddNumberToObject(run, "started", r->started);
    if (r->took >= 0)
        cJSON_AddNumberToObject(run, "duration", r->took);
    cJSON_AddItemToObject(run, "targets", cJSON_Parse(r->targets));
    cJSON_AddItemToObject(run, "params", flowfile_json(r->params));
    add_text_or_null(run, "git_head", r->git_head);
    cJSON_AddBoolToObject(run, "git_dirty", r->git_dirty);
    cJSON_AddNumberToObject(run, "jobs", r->jobs);
    if (r->replay_of)
        cJSON_AddNumberToObject(run, "replay_of", (double)r->replay_of);
    cJSON *tasks = cJSON_AddArrayToObject(root, "tasks");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(tasks, task_json(&t[i], p));
    char *s = cJSON_Print(root);
    puts(s);
    free(s);
    cJSON_Delete(root);
}

static void print_run(const struct run_row *r, const char *flow)
{
    char at[32], took[32] = "not finished";
    fmt_time(at, sizeof at, r->started);
    if (r->took >= 0)
        fmt_duration(took, sizeof took, r->took);
    printf("run %lld of %s\n", (long long)r->id, flow);
    printf("  status   %s, started %s, took %s, -j %d\n", r->status, at, took, r->jobs);
    char *targets = runs_targets_text(r->targets);
    printf("  targets  %s\n", targets);
    free(targets);
    printf("  params   %s\n", r->params);
    if (r->git_head[0])
        printf("  git      %s%s\n", r->git_head,
               r->git_dirty ? " (with uncommitted code: its versions are in the store)" : "");
    if (r->replay_of)
        printf("  replay   of run %lld\n", (long long)r->replay_of);
}

static void print_task(const struct term *term, const struct task_record *t,
                       const struct publications *p)
{
    char took[32] = "";
    if (t->started > 0 && t->ended > 0)
        fmt_duration(took, sizeof took, t->ended - t->started);
    printf("\n%s%s %-9s%s %s", term_color(term, t->decision), term_glyph(term, t->decision),
           t->decision, term_reset(term), t->task);
    if (took[0])
        printf("  %s", took);
    if (t->has_exit)
        printf("  exit %d", t->exit_code);
    if (t->producer_run != t->run_id)
        printf("  (output made by run %lld)", (long long)t->producer_run);
    putchar('\n');
    if (t->cause[0])
        term_print(stdout, "    cause    %s\n", t->cause);
    if (t->reason[0] && strcmp(t->reason, t->cause) != 0)
        term_print(stdout, "    reason   %s\n", t->reason);
    printf("    command  %s\n", t->command);
    printf("    key      %s\n", t->deep_key);
    if (t->shallow_key[0])
        printf("    shallow  %s\n", t->shallow_key);
    if (t->output_digest[0]) {
        char size[32];
        fmt_size(size, sizeof size, t->output_size);
        printf("    output   %s  %s\n", t->output_digest, size);
    }
    for (size_t i = 0; i < t->code_paths.n; i++)
        term_print(stdout, "    code     %s  %.12s\n", t->code_paths.v[i], t->code_blobs.v[i]);
    for (size_t i = 0; i < t->file_paths.n; i++) {
        char size[32];
        fmt_size(size, sizeof size, t->file_sizes[i]);
        term_print(stdout, "    file     %s  %.12s  %s\n", t->file_paths.v[i],
                   t->file_digests.v[i], size);
    }
    for (size_t i = 0; i < t->up_names.n; i++)
        printf("    after    %s  key %.12s  output %.12s\n", t->up_names.v[i], t->up_keys.v[i],
               t->up_digests.v[i][0] ? t->up_digests.v[i] : "-");
    for (size_t i = 0; i < p->task.n; i++)
        if (strcmp(p->task.v[i], t->task) == 0)
            printf("    publish  %s%s\n", strcmp(p->state.v[i], "published") ? "failed: " : "",
                   p->detail.v[i]);
    if (t->log_object[0])
        printf("    log      sluice log %s --run %lld\n", t->task, (long long)t->run_id);
}

/* Publications of tasks the run did not visit (covered by a cached task downstream). */
static void print_covered(const struct task_record *t, size_t n, const struct publications *p)
{
    for (size_t i = 0; i < p->task.n; i++) {
        size_t j = 0;
        while (j < n && strcmp(t[j].task, p->task.v[i]) != 0)
            j++;
        if (j == n)
            printf("\n%s (not visited, covered by a cached task)\n    publish  %s%s\n",
                   p->task.v[i], strcmp(p->state.v[i], "published") ? "failed: " : "",
                   p->detail.v[i]);
    }
}

int cmd_show(struct cli *c, int argc, char **argv)
{
    bool json = false;
    int code = cli_json_only(c, argc, argv, &json);
    if (code != EXIT_OK)
        return code;
    if (argc - optind != 1)
        return cli_usage_error(c, "name one run");
    struct records r;
    if ((code = cli_records(c, &r)) != EXIT_OK)
        return code;
    int64_t id;
    struct run_row row;
    if ((code = cli_run_id(c, &r, argv[optind], &id)) == EXIT_OK && runs_get(r.db, id, &row)) {
        struct task_record *t;
        size_t n = runs_tasks(r.db, id, &t);
        struct publications pubs = {0};
        runs_events(r.db, id, 0, add_publication, &pubs);
        if (json) {
            print_json(&row, t, n, &pubs);
        } else {
            struct term term;
            term_detect(&term, stdout);
            print_run(&row, r.flow_path);
            for (size_t i = 0; i < n; i++)
                print_task(&term, &t[i], &pubs);
            print_covered(t, n, &pubs);
        }
        strv_free(&pubs.task);
        strv_free(&pubs.state);
        strv_free(&pubs.detail);
        task_records_free(t, n);
        run_row_free(&row);
    }
    records_close(&r);
    return code;
}
