/* cmd_history: `sluice history` — the flow's runs, newest first. */
#include <cjson/cJSON.h>
#include <getopt.h>

#include "cli.h"
#include "flowfile.h"
#include "runs.h"
#include "term.h"
#include "workspace.h"

static cJSON *run_json(const struct run_row *r, bool with_task)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    cJSON_AddNumberToObject(o, "started", r->started);
    if (r->took >= 0)
        cJSON_AddNumberToObject(o, "duration", r->took);
    else
        cJSON_AddNullToObject(o, "duration");
    cJSON_AddStringToObject(o, "status", r->status);
    cJSON_AddItemToObject(o, "targets", cJSON_Parse(r->targets));
    cJSON_AddItemToObject(o, "params", flowfile_json(r->params));
    cJSON_AddNumberToObject(o, "ran", r->ran);
    cJSON_AddNumberToObject(o, "hit", r->hit);
    cJSON_AddNumberToObject(o, "hit_remote", r->hit_remote);
    cJSON_AddNumberToObject(o, "cutoff", r->cutoff);
    cJSON_AddNumberToObject(o, "failed", r->failed);
    cJSON_AddNumberToObject(o, "cancelled", r->cancelled);
    cJSON_AddNumberToObject(o, "blocked", r->blocked);
    cJSON_AddNumberToObject(o, "unpublished", r->unpublished);
    if (r->git_head[0])
        cJSON_AddStringToObject(o, "git_head", r->git_head);
    else
        cJSON_AddNullToObject(o, "git_head");
    cJSON_AddBoolToObject(o, "git_dirty", r->git_dirty);
    cJSON_AddNumberToObject(o, "jobs", r->jobs);
    if (r->replay_of)
        cJSON_AddNumberToObject(o, "replay_of", (double)r->replay_of);
    else
        cJSON_AddNullToObject(o, "replay_of");
    if (with_task) {
        cJSON_AddStringToObject(o, "task_decision", r->task_decision);
        if (r->task_cause && r->task_cause[0])
            cJSON_AddStringToObject(o, "task_cause", r->task_cause);
        else
            cJSON_AddNullToObject(o, "task_cause");
    }
    return o;
}

static void print_json(const struct run_row *rows, size_t n, bool with_task)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(runs, run_json(&rows[i], with_task));
    char *s = cJSON_Print(root);
    puts(s);
    free(s);
    cJSON_Delete(root);
}

static void print_table(const struct run_row *rows, size_t n, const char *task)
{
    struct term t;
    term_detect(&t, stdout);
    printf("%5s  %-12s  %-11s %7s  %4s %4s %4s %5s  %-8s  %s\n", "run", "started", "status",
           "took", "ran", "hit", "cut", "fail", "git", task ? task : "targets");
    bool dirty = false;
    for (size_t i = 0; i < n; i++) {
        const struct run_row *r = &rows[i];
        char at[32], took[32] = "-", git[16] = "-";
        fmt_time(at, sizeof at, r->started);
        if (r->took >= 0)
            fmt_duration(took, sizeof took, r->took);
        if (r->git_head[0])
            snprintf(git, sizeof git, "%.7s%s", r->git_head, r->git_dirty ? "+" : "");
        dirty = dirty || r->git_dirty;
        const char *look = strcmp(r->status, "ok") == 0 ? "ran" : r->status;
        char *last = task ? xstrdup(r->task_decision) : runs_targets_text(r->targets);
        printf("%5lld  %-12s  %s%-11s%s %7s  %4d %4d %4d %5d  %-8s  %s", (long long)r->id, at,
               term_color(&t, look), r->status, term_reset(&t), took, r->ran, r->hit, r->cutoff,
               r->failed + r->blocked + r->cancelled, git, last);
        if (r->replay_of)
            printf("  (replay of run %lld)", (long long)r->replay_of);
        if (r->unpublished)
            printf("  (%d unpublished)", r->unpublished);
        if (r->hit_remote)
            printf("  (%d cached (remote))", r->hit_remote);
        if (task && r->task_cause && r->task_cause[0])
            printf("  %s", r->task_cause);
        putchar('\n');
        free(last);
    }
    if (dirty)
        printf("git: + the run used code that was not committed (kept in the store)\n");
}

int cmd_history(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'J'},
                                          {"task", required_argument, NULL, 't'},
                                          {NULL, 0, NULL, 0}};
    bool json = false;
    const char *task = NULL;
    long limit = 20;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
        char *end;
        if (ch == 'J') {
            json = true;
        } else if (ch == 't') {
            task = optarg;
        } else if (ch == 'n') {
            limit = strtol(optarg, &end, 10);
            if (*end || limit < 1)
                return cli_usage_error(c, "-n wants a number of runs, not \"%s\"", optarg);
        } else if (ch == ':') {
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        } else {
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct records r;
    int code = cli_records(c, &r);
    if (code != EXIT_OK)
        return code;
    struct run_row *rows = NULL;
    size_t n = !r.flow_id ? 0
               : task     ? runs_list_task(r.db, r.flow_id, task, (size_t)limit, &rows)
                          : runs_list(r.db, r.flow_id, (size_t)limit, &rows);
    if (json)
        print_json(rows, n, task != NULL);
    else if (n)
        print_table(rows, n, task);
    else
        printf("no runs%s%s yet\n", task ? " of task " : "", task ? task : "");
    runs_list_free(rows, n);
    records_close(&r);
    return EXIT_OK;
}
