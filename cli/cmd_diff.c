/* cmd_diff: `sluice diff RUN1 RUN2` — what differs between two runs. */
#include <cjson/cJSON.h>

#include "cli.h"
#include "rundiff.h"
#include "term.h"

#define DIFF_LINES 60

/* The lines rundiff gives, with diff lines coloured on a terminal. */
static void print_text(const struct rundiff *d)
{
    struct term t;
    term_detect(&t, stdout);
    struct strv lines = {0};
    rundiff_lines(d, &lines);
    for (size_t i = 0; i < lines.n; i++) {
        const char *l = lines.v[i];
        bool diff = strncmp(l, "    ", 4) == 0;
        const char *color = !t.color || !diff            ? ""
                            : l[4] == '+' && l[5] != '+' ? "\033[32m"
                            : l[4] == '-' && l[5] != '-' ? "\033[31m"
                            : l[4] == '@'                ? "\033[36m"
                                                         : "";
        printf("%s%s%s\n", color, l, color[0] ? "\033[0m" : "");
    }
    strv_free(&lines);
}

static cJSON *strv_json(const struct strv *s)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < s->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->v[i]));
    return a;
}

static void print_json(const struct rundiff *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "from", (double)d->a);
    cJSON_AddNumberToObject(o, "to", (double)d->b);
    cJSON_AddItemToObject(o, "params", strv_json(&d->params));
    cJSON *code = cJSON_AddArrayToObject(o, "code");
    for (size_t i = 0; i < d->n_code; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "path", d->code[i].path);
        cJSON_AddStringToObject(c, "tasks", d->code[i].tasks);
        cJSON_AddStringToObject(c, "old_blob", d->code[i].old_blob);
        cJSON_AddStringToObject(c, "new_blob", d->code[i].new_blob);
        if (d->code[i].diff)
            cJSON_AddStringToObject(c, "diff", d->code[i].diff);
        if (d->code[i].diff_error)
            cJSON_AddStringToObject(c, "diff_error", d->code[i].diff_error);
        cJSON_AddItemToArray(code, c);
    }
    cJSON *files = cJSON_AddArrayToObject(o, "files");
    for (size_t i = 0; i < d->n_files; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", d->files[i].path);
        cJSON_AddStringToObject(f, "tasks", d->files[i].tasks);
        cJSON_AddStringToObject(f, "old_digest", d->files[i].old_digest);
        cJSON_AddStringToObject(f, "new_digest", d->files[i].new_digest);
        cJSON_AddNumberToObject(f, "old_size", (double)d->files[i].old_size);
        cJSON_AddNumberToObject(f, "new_size", (double)d->files[i].new_size);
        cJSON_AddItemToArray(files, f);
    }
    cJSON_AddItemToObject(o, "keys_changed", strv_json(&d->keys_changed));
    cJSON *outs = cJSON_AddArrayToObject(o, "outputs");
    for (size_t i = 0; i < d->n_outputs; i++) {
        const struct rundiff_output *x = &d->outputs[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "task", x->task);
        cJSON_AddBoolToObject(j, "identical", strcmp(x->old_digest, x->new_digest) == 0);
        cJSON_AddStringToObject(j, "old_digest", x->old_digest);
        cJSON_AddStringToObject(j, "new_digest", x->new_digest);
        cJSON_AddNumberToObject(j, "old_size", (double)x->old_size);
        cJSON_AddNumberToObject(j, "new_size", (double)x->new_size);
        cJSON_AddItemToArray(outs, j);
    }
    cJSON_AddItemToObject(o, "only_in_from", strv_json(&d->only_a));
    cJSON_AddItemToObject(o, "only_in_to", strv_json(&d->only_b));
    char *s = cJSON_Print(o);
    puts(s);
    free(s);
    cJSON_Delete(o);
}

int cmd_diff(struct cli *c, int argc, char **argv)
{
    bool json = false;
    int code = cli_json_only(c, argc, argv, &json);
    if (code != EXIT_OK)
        return code;
    if (argc - optind != 2)
        return cli_usage_error(c, "name two runs");
    struct records r;
    if ((code = cli_records(c, &r)) != EXIT_OK)
        return code;
    int64_t a, b;
    struct rundiff d;
    struct err e;
    if ((code = cli_run_id(c, &r, argv[optind], &a)) == EXIT_OK &&
        (code = cli_run_id(c, &r, argv[optind + 1], &b)) == EXIT_OK) {
        if (rundiff_compute(&r, a, b, DIFF_LINES, &d, &e)) {
            cli_error(e.msg);
            code = EXIT_USAGE;
        } else {
            if (json)
                print_json(&d);
            else
                print_text(&d);
            rundiff_free(&d);
        }
    }
    records_close(&r);
    return code;
}
