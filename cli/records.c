/* records: opening a flow's history for the commands that read it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "runs.h"
#include "workspace.h"

int cli_records(const struct cli *c, struct records *r)
{
    char *root = workspace_store_path(c->flow);
    struct stat st;
    bool exists = stat(root, &st) == 0;
    struct err e;
    if (!exists)
        fprintf(stderr, "sluice: no store at %s: %s has never run\n", root, c->flow);
    free(root);
    if (!exists)
        return EXIT_USAGE;
    if (workspace_records(c->flow, r, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_store(const struct cli *c, const char *what, struct records *r)
{
    memset(r, 0, sizeof *r);
    char *root = workspace_store_path(c->flow);
    struct stat st;
    bool exists = stat(root, &st) == 0;
    if (!exists)
        printf("no store at %s: nothing to %s\n", root, what);
    free(root);
    struct err e;
    if (exists && workspace_records(c->flow, r, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    if (exists)
        cli_warn(store_warning(r->store));
    return EXIT_OK;
}

int cli_run_id(const struct cli *c, const struct records *r, const char *arg, int64_t *id)
{
    char *end;
    *id = 0;
    if (strncmp(arg, "last", 4) == 0) {
        long back = 0;
        if (arg[4] == '~')
            back = strtol(arg + 5, &end, 10);
        bool ok = (arg[4] == 0 || (arg[4] == '~' && *end == 0 && back >= 0));
        struct run_row *rows = NULL;
        size_t n = ok && r->flow_id ? runs_list(r->db, r->flow_id, (size_t)back + 1, &rows) : 0;
        if (n == (size_t)back + 1)
            *id = rows[back].id;
        runs_list_free(rows, n);
        if (!ok)
            return cli_usage_error(c, "a run is a number, \"last\" or \"last~N\", not \"%s\"",
                                   arg);
    } else {
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        if (*end || errno || v <= 0)
            return cli_usage_error(c, "a run is a number, \"last\" or \"last~N\", not \"%s\"",
                                   arg);
        *id = runs_flow(r->db, v) ? v : 0;
    }
    if (!*id) {
        fprintf(stderr, "sluice: no run %s in %s\n", arg, store_root(r->store));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}
