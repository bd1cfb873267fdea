/* cmd_invalidate: `sluice invalidate` — distrust cached results, reversibly. */
#include <getopt.h>

#include "cli.h"
#include "invalidate.h"
#include "workspace.h"

#define NAMES_SHOWN 10 /* a thousand names on one line say nothing */

static void print_tasks(const char *lead, const struct workspace *ws, const size_t *t, size_t n)
{
    printf("%s", lead);
    for (size_t i = 0; i < n && i < NAMES_SHOWN; i++)
        printf("%s%s", i ? ", " : "", ws->flow->tasks[t[i]].name);
    if (n > NAMES_SHOWN)
        printf(" and %zu more (%zu tasks)", n - NAMES_SHOWN, n);
    putchar('\n');
}

static int undo(struct workspace *ws, const char *arg)
{
    char *end;
    long long id = strtoll(arg, &end, 10);
    struct err e;
    struct invalidate_undo_result r;
    if (*end || id <= 0) {
        fprintf(stderr, "sluice invalidate: --undo wants an invalidation id, not \"%s\"\n", arg);
        return EXIT_USAGE;
    }
    if (invalidate_undo(ws, id, &r, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    printf("undid invalidation %lld: %zu cache entr%s restored", id, r.restored,
           r.restored == 1 ? "y" : "ies");
    if (r.kept) {
        bool several = strchr(r.kept_by, ',') != NULL;
        printf(", %zu stay%s out: invalidation%s %s still cover%s them", r.kept,
               r.kept == 1 ? "s" : "", several ? "s" : "", r.kept_by, several ? "" : "s");
    }
    putchar('\n');
    return EXIT_OK;
}

static int apply(struct workspace *ws, const char *name, enum invalidate_scope scope,
                 bool dry_run, const char *reason)
{
    size_t *found, n_found = flow_find_all(ws->flow, name, &found);
    if (n_found == 0) {
        struct err e;
        flow_no_task(ws->flow, name, &e);
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    size_t n;
    size_t *tasks = invalidate_select_all(ws, found, n_found, scope, &n);
    free(found);
    int code = EXIT_OK;
    if (dry_run) {
        print_tasks("would invalidate: ", ws, tasks, n);
    } else {
        int64_t id;
        size_t removed;
        struct err e;
        if (invalidate_apply(ws, tasks, n, reason, &id, &removed, &e)) {
            cli_error(e.msg);
            code = EXIT_USAGE;
        } else if (removed == 0) {
            print_tasks("nothing to invalidate (not cached): ", ws, tasks, n);
        } else {
            printf("invalidation %lld: ", (long long)id);
            print_tasks("", ws, tasks, n);
            printf("undo with: sluice invalidate --undo %lld\n", (long long)id);
        }
    }
    free(tasks);
    return code;
}

int cmd_invalidate(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"downstream", no_argument, NULL, 'D'},
                                          {"upstream", no_argument, NULL, 'U'},
                                          {"dry-run", no_argument, NULL, 'n'},
                                          {"undo", required_argument, NULL, 'u'},
                                          {"reason", required_argument, NULL, 'r'},
                                          {NULL, 0, NULL, 0}};
    enum invalidate_scope scope = INVALIDATE_TASK;
    bool dry_run = false;
    const char *undo_id = NULL, *reason = NULL;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":n", opts, NULL)) != -1) {
        switch (ch) {
        case 'D':
        case 'U':
            if (scope != INVALIDATE_TASK)
                return cli_usage_error(c, "--downstream and --upstream exclude each other");
            scope = ch == 'D' ? INVALIDATE_DOWNSTREAM : INVALIDATE_UPSTREAM;
            break;
        case 'n':
            dry_run = true;
            break;
        case 'u':
            undo_id = optarg;
            break;
        case 'r':
            reason = optarg;
            break;
        case ':':
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    int rest = argc - optind;
    if (undo_id ? rest != 0 : rest != 1)
        return cli_usage_error(c, undo_id ? "--undo takes no task" : "name one task");
    struct workspace *ws;
    struct err e;
    if (workspace_open(c->flow, NULL, &ws, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    cli_warn(store_warning(ws->store));
    int code = undo_id ? undo(ws, undo_id) : apply(ws, argv[optind], scope, dry_run, reason);
    workspace_close(ws);
    return code;
}
