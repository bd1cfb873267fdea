/* cmd_why: `sluice why TASK` — the root causes of a task's state, with code diffs. */
#include <cjson/cJSON.h>
#include <getopt.h>

#include "cli.h"
#include "term.h"
#include "why.h"

static const char *state_sentence(enum node_state s)
{
    switch (s) {
    case ST_CACHED:
        return "its output for these exact inputs is in the store";
    case ST_PENDING:
        return "it has never completed in this flow";
    case ST_SKIPPED:
        return "nothing needs it: everything downstream is cached";
    default:
        return NULL;
    }
}

static void print_diff(const struct term *term, const char *diff)
{
    for (const char *l = diff; l && *l;) {
        const char *eol = strchr(l, '\n');
        size_t n = eol ? (size_t)(eol - l) : strlen(l);
        const char *color = !term->color ? ""
                            : l[0] == '+' && l[1] != '+' ? "\033[32m"
                            : l[0] == '-' && l[1] != '-' ? "\033[31m"
                            : l[0] == '@'                ? "\033[36m"
                                                         : "";
        printf("    %s", color);
        term_put_text(stdout, l, n);
        printf("%s\n", color[0] ? "\033[0m" : "");
        l += n + (eol ? 1 : 0);
    }
}

static void print_text(const struct workspace *ws, size_t t, const struct why *w)
{
    struct term term;
    term_detect(&term, stdout);
    const char *word = state_name(w->state);
    printf("%s: %s%s %s%s", ws->flow->tasks[t].name, term_color(&term, word),
           term_glyph(&term, word), word, term_reset(&term));
    const char *sentence = state_sentence(w->state);
    printf("%s%s\n", sentence && !w->n ? ": " : "", sentence && !w->n ? sentence : "");
    for (size_t i = 0; i < w->n; i++) {
        const struct why_cause *c = &w->causes[i];
        term_print(stdout, "  %s\n", c->text);
        for (size_t k = 0; k < c->n_diffs; k++) {
            if (c->diffs[k].error)
                term_print(stdout, "    (no diff of %s: %s)\n", c->diffs[k].path,
                           c->diffs[k].error);
            print_diff(&term, c->diffs[k].diff);
        }
    }
}

static void print_json(const struct workspace *ws, size_t t, const struct why *w)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "task", ws->flow->tasks[t].name);
    cJSON_AddStringToObject(o, "state", state_name(w->state));
    cJSON *causes = cJSON_AddArrayToObject(o, "causes");
    for (size_t i = 0; i < w->n; i++) {
        const struct why_cause *c = &w->causes[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "text", c->text);
        cJSON *diffs = c->n_diffs ? cJSON_AddArrayToObject(j, "diffs") : NULL;
        for (size_t k = 0; k < c->n_diffs; k++) {
            const struct why_diff *d = &c->diffs[k];
            cJSON *dj = cJSON_CreateObject();
            cJSON_AddStringToObject(dj, "task", ws->flow->tasks[d->task].name);
            cJSON_AddStringToObject(dj, "path", d->path);
            cJSON_AddStringToObject(dj, "old_blob", d->old_blob);
            if (d->diff)
                cJSON_AddStringToObject(dj, "diff", d->diff);
            if (d->error)
                cJSON_AddStringToObject(dj, "diff_error", d->error);
            cJSON_AddItemToArray(diffs, dj);
        }
        cJSON_AddItemToArray(causes, j);
    }
    char *s = cJSON_Print(o);
    puts(s);
    free(s);
    cJSON_Delete(o);
}

int cmd_why(struct cli *c, int argc, char **argv)
{
    bool json = false;
    struct strv params = {0};
    int code = cli_json_params(c, argc, argv, &json, &params);
    if (code == EXIT_OK && argc - optind != 1)
        code = cli_usage_error(c, "name one task");
    struct workspace *ws = NULL;
    struct err e;
    if (code == EXIT_OK && workspace_open(c->flow, &params, &ws, &e)) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    }
    size_t *found = NULL,
           n_found = code == EXIT_OK ? flow_find_all(ws->flow, argv[optind], &found) : 0;
    if (code == EXIT_OK && n_found == 0) {
        flow_no_task(ws->flow, argv[optind], &e);
        cli_error(e.msg);
        code = EXIT_USAGE;
    }
    /* A matrix task's base name explains each instance in turn. */
    for (size_t i = 0; code == EXIT_OK && i < n_found; i++) {
        struct why w = {0};
        if (why_explain(ws, found[i], &w, &e)) {
            cli_error(e.msg);
            code = EXIT_USAGE;
        } else if (json) {
            print_json(ws, found[i], &w);
        } else {
            print_text(ws, found[i], &w);
        }
        why_free(&w);
    }
    free(found);
    workspace_close(ws);
    strv_free(&params);
    return code;
}
