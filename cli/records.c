/* records: opening a flow's history for the commands that read it. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "runs.h"
#include "workspace.h"

/* The flow's store path into *root (caller frees) and whether it exists; EXIT_USAGE
 * (said) when sluice.conf cannot be read. */
static int find_store(const struct cli *c, char **root, bool *exists)
{
    struct err e;
    if (workspace_store_path(c->flow, root, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    struct stat st;
    *exists = stat(*root, &st) == 0;
    return EXIT_OK;
}

static int open_records(const struct cli *c, struct records *r)
{
    struct err e;
    if (workspace_records(c->flow, r, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_records(const struct cli *c, struct records *r)
{
    char *root;
    bool exists;
    if (find_store(c, &root, &exists))
        return EXIT_USAGE;
    if (!exists)
        fprintf(stderr, "sluice: no store at %s: %s has never run\n", root, c->flow);
    free(root);
    return exists ? open_records(c, r) : EXIT_USAGE;
}

int cli_store(const struct cli *c, const char *what, struct records *r)
{
    memset(r, 0, sizeof *r);
    char *root;
    bool exists;
    if (find_store(c, &root, &exists))
        return EXIT_USAGE;
    if (!exists)
        printf("no store at %s: nothing to %s\n", root, what);
    free(root);
    if (!exists)
        return EXIT_OK;
    int code = open_records(c, r);
    if (code == EXIT_OK)
        cli_warn(store_warning(r->store));
    return code;
}

/* "last" (0) or "last~N" (N): how many runs back, or -1 when arg is neither. */
static long runs_back(const char *arg)
{
    if (strcmp(arg, "last") == 0)
        return 0;
    if (strncmp(arg, "last~", 5) != 0 || !isdigit((unsigned char)arg[5]))
        return -1; /* also "last~-1", "last~" and "last~ 1" */
    char *end;
    errno = 0;
    long back = strtol(arg + 5, &end, 10);
    return *end || errno || back < 0 ? -1 : back;
}

int cli_run_id(const struct cli *c, const struct records *r, const char *arg, int64_t *id)
{
    *id = 0;
    if (strncmp(arg, "last", 4) == 0) {
        long back = runs_back(arg);
        if (back < 0)
            return cli_usage_error(c, "a run is a number, \"last\" or \"last~N\", not \"%s\"",
                                   arg);
        struct run_row *rows = NULL;
        size_t want = (size_t)back + 1;
        assert(want > 0);
        size_t n = r->flow_id ? runs_list(r->db, r->flow_id, want, &rows) : 0;
        assert(n <= want);
        if (n == want)
            *id = rows[back].id;
        runs_list_free(rows, n);
    } else {
        char *end;
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
