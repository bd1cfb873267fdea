/* cmd_status: `sluice status` — every task's state and the reasons for it. */
#include <cjson/cJSON.h>
#include <getopt.h>

#include "cli.h"
#include "status.h"
#include "term.h"
#include "workspace.h"

/* `status TARGET...` shows the targets and what they need (shown: NULL for every task):
 * a task outside that has no state relative to them, and "skipped" would say what is false. */
static void print_json(const struct workspace *ws, const struct task_status *st, const bool *shown)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *flow = cJSON_AddObjectToObject(root, "flow");
    cJSON_AddStringToObject(flow, "name", ws->flow->name);
    cJSON_AddStringToObject(flow, "path", ws->flow->abspath);
    cJSON_AddStringToObject(flow, "store", store_root(ws->store));
    cJSON *tasks = cJSON_AddArrayToObject(root, "tasks");
    for (size_t i = 0; i < ws->flow->n_tasks; i++) {
        size_t t = ws->flow->order[i];
        if (shown && !shown[t])
            continue;
        const struct task *task = &ws->flow->tasks[t];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", task->name);
        cJSON_AddStringToObject(o, "state", state_name(st[t].state));
        cJSON *reasons = cJSON_AddArrayToObject(o, "reasons");
        for (size_t r = 0; r < st[t].reasons.n; r++)
            cJSON_AddItemToArray(reasons, cJSON_CreateString(st[t].reasons.v[r]));
        cJSON *after = cJSON_AddArrayToObject(o, "after");
        for (size_t d = 0; d < task->n_deps; d++)
            cJSON_AddItemToArray(after, cJSON_CreateString(ws->flow->tasks[task->deps[d]].name));
        cJSON_AddStringToObject(o, "deep_key", ws->keys.in[t].deep);
        if (st[t].entry) {
            cJSON_AddStringToObject(o, "output_digest", st[t].entry->digest);
            cJSON_AddNumberToObject(o, "output_size", (double)st[t].entry->size);
            cJSON_AddNumberToObject(o, "cached_at", st[t].entry->created);
            cJSON_AddBoolToObject(o, "in_store", st[t].state == ST_CACHED);
            cJSON_AddBoolToObject(o, "from_remote", st[t].entry->fetched);
        }
        cJSON_AddItemToArray(tasks, o);
    }
    char *s = cJSON_Print(root);
    puts(s);
    free(s);
    cJSON_Delete(root);
}

static void print_table(const struct workspace *ws, const struct task_status *st, const bool *shown)
{
    struct term t;
    term_detect(&t, stdout);
    size_t width = 4, counts[ST_N_STATES] = {0};
    int word_width = 8;
    for (size_t i = 0; i < ws->flow->n_tasks; i++)
        if ((int)strlen(state_name(st[i].state)) > word_width)
            word_width = (int)strlen(state_name(st[i].state));
    for (size_t i = 0; i < ws->flow->n_tasks; i++)
        if (strlen(ws->flow->tasks[i].name) > width)
            width = strlen(ws->flow->tasks[i].name);
    if (width > 40)
        width = 40;
    printf("flow %s (%s), store %s\n", ws->flow->name, ws->flow->path, store_root(ws->store));
    for (size_t i = 0; i < ws->flow->n_tasks; i++) {
        size_t k = ws->flow->order[i];
        if (shown && !shown[k])
            continue;
        const char *word = state_name(st[k].state);
        counts[st[k].state]++;
        printf("  %s%s %-*s%s %-*s", term_color(&t, word), term_glyph(&t, word), word_width, word,
               term_reset(&t), (int)width, ws->flow->tasks[k].name);
        if (st[k].state == ST_CACHED && st[k].entry) {
            char size[32];
            fmt_size(size, sizeof size, st[k].entry->size);
            printf("  %s%s", size, st[k].entry->fetched ? " (remote)" : "");
        }
        for (size_t r = 0; r < st[k].reasons.n; r++)
            term_print(stdout, "%s%s", r ? "; " : "  ", st[k].reasons.v[r]);
        putchar('\n');
    }
    const char *sep = "";
    for (int s = 0; s < ST_N_STATES; s++) {
        if (counts[s]) {
            printf("%s%zu %s", sep, counts[s], state_name((enum node_state)s));
            sep = "  ";
        }
    }
    putchar('\n');
}

int cmd_status(struct cli *c, int argc, char **argv)
{
    bool json = false;
    struct strv params = {0};
    int code = cli_json_params(c, argc, argv, &json, &params);
    struct workspace *ws = NULL;
    struct err e;
    if (code == EXIT_OK && workspace_open(c->flow, &params, &ws, &e) != 0) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    }
    size_t *targets = NULL, n_targets = 0;
    struct task_status *st = NULL;
    if (code == EXIT_OK &&
        (workspace_targets(ws, argv + optind, (size_t)(argc - optind), &targets, &n_targets,
                           &e) ||
         status_compute(ws, targets, n_targets, &st, &e))) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK) {
        bool *shown = argc > optind ? flow_closure(ws->flow, targets, n_targets, false) : NULL;
        if (json)
            print_json(ws, st, shown);
        else
            print_table(ws, st, shown);
        free(shown);
    }
    if (ws)
        status_free(st, ws->flow->n_tasks);
    free(targets);
    workspace_close(ws);
    strv_free(&params);
    return code;
}
