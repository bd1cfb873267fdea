/* cmd_share: `sluice push` and `sluice pull` — the shared remote cache, explicitly. */
#include <getopt.h>

#include "cli.h"
#include "progress.h"
#include "remotes.h"
#include "share.h"
#include "workspace.h"

struct share_args {
    const char *remote;
    struct strv params;
    char **targets;
    size_t n_targets;
};

static int parse(struct cli *c, int argc, char **argv, struct share_args *a)
{
    static const struct option opts[] = {{"remote", required_argument, NULL, 'R'},
                                         {"param", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":p:", opts, NULL)) != -1) {
        if (ch == 'R')
            a->remote = optarg;
        else if (ch == 'p')
            strv_push(&a->params, xstrdup(optarg));
        else if (ch == ':')
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    a->targets = argv + optind;
    a->n_targets = (size_t)(argc - optind);
    return EXIT_OK;
}

static int push(struct cli *c, struct workspace *ws, struct remote *r, const size_t *targets,
                size_t n)
{
    (void)c;
    size_t offered;
    struct err e;
    if (share_push(ws, remote_tier(r), targets, n, &offered, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    printf("pushing %zu cached result%s\n", offered, offered == 1 ? "" : "s");
    return EXIT_OK;
}

static int pull(struct cli *c, struct workspace *ws, struct remote *r, const size_t *targets,
                size_t n)
{
    struct progress prog;
    progress_init(&prog, ws->flow->n_tasks);
    struct run_observer obs = progress_observer(&prog);
    struct run_opts o = {.targets = targets,
                         .n_targets = n,
                         .jobs = 1,
                         .cancel = c->cancel,
                         .observer = &obs,
                         .tier = remote_tier(r),
                         .pull = true};
    struct run_summary sum;
    struct err e;
    int code = EXIT_OK;
    if (runner_run(ws, &o, &sum, NULL, &e) != 0) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    } else {
        progress_summary(&prog, &sum);
        if (sum.missing) {
            printf("%zu target%s neither cached here nor on the remote\n", sum.missing,
                   sum.missing == 1 ? " is" : "s are");
            code = EXIT_TASK_FAILED;
        }
    }
    progress_free(&prog);
    return code;
}

static int share(struct cli *c, int argc, char **argv, bool pushing)
{
    struct share_args a = {0};
    int code = parse(c, argc, argv, &a);
    struct workspace *ws = NULL;
    struct remote *r = NULL;
    size_t *targets = NULL, n = 0;
    struct err e;
    if (code == EXIT_OK && workspace_open(c->flow, &a.params, &ws, &e) != 0) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK)
        code = remotes_open(c->flow, a.remote, !pushing, c->cancel, &r);
    if (code == EXIT_OK && !r) {
        cli_error("no remote: set SLUICE_REMOTE, --remote or sluice.conf's remote");
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK && workspace_targets(ws, a.targets, a.n_targets, &targets, &n, &e)) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK)
        code = pushing ? push(c, ws, r, targets, n) : pull(c, ws, r, targets, n);
    remotes_close(r);
    free(targets);
    if (ws)
        workspace_close(ws);
    strv_free(&a.params);
    return code;
}

int cmd_push(struct cli *c, int argc, char **argv)
{
    return share(c, argc, argv, true);
}

int cmd_pull(struct cli *c, int argc, char **argv)
{
    return share(c, argc, argv, false);
}
