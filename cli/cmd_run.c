/* cmd_run: `sluice run` — plan, then execute what the targets need. */
#include <getopt.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "remotes.h"
#include "status.h"
#include "workspace.h"

struct run_args {
    int jobs;
    bool dry_run, force, publish_overwrite, remote_read_only;
    const char *remote; /* --remote, or NULL */
    struct strv params;
    char **targets;
    size_t n_targets;
};

static int parse(struct cli *c, int argc, char **argv, struct run_args *a)
{
    static const struct option opts[] = {{"jobs", required_argument, NULL, 'j'},
                                          {"dry-run", no_argument, NULL, 'n'},
                                          {"force", no_argument, NULL, 'F'},
                                          {"publish-overwrite", no_argument, NULL, 'O'},
                                          {"param", required_argument, NULL, 'p'},
                                          {"remote", required_argument, NULL, 'R'},
                                          {"remote-read-only", no_argument, NULL, 'W'},
                                          {NULL, 0, NULL, 0}};
    a->jobs = cli_default_jobs();
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":j:np:", opts, NULL)) != -1) {
        switch (ch) {
        case 'j':
            if (cli_jobs(c, optarg, &a->jobs) != EXIT_OK)
                return EXIT_USAGE;
            break;
        case 'n':
            a->dry_run = true;
            break;
        case 'F':
            a->force = true;
            break;
        case 'O':
            a->publish_overwrite = true;
            break;
        case 'p':
            strv_push(&a->params, xstrdup(optarg));
            break;
        case 'R':
            a->remote = optarg;
            break;
        case 'W':
            a->remote_read_only = true;
            break;
        case ':':
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    a->targets = argv + optind;
    a->n_targets = (size_t)(argc - optind);
    return EXIT_OK;
}

/* ", 4 cpus" for a task that asks for more than one (and what -j makes of it locally). */
static void print_cpus(const struct task *t, int jobs)
{
    if (t->cpus <= 1)
        return;
    bool local = !t->executor || strcmp(t->executor, "local") == 0;
    if (local && t->cpus > jobs)
        printf("  [%d cpus: more than -j %d, runs with all %d job slots]", t->cpus, jobs, jobs);
    else
        printf("  [%d cpus]", t->cpus);
}

static void print_plan(struct workspace *ws, const struct plan *plan, const size_t *targets,
                       size_t n_targets, int jobs)
{
    struct term t;
    term_detect(&t, stdout);
    struct task_status *st = NULL;
    struct err e;
    if (status_compute(ws, targets, n_targets, &st, &e) != 0)
        st = NULL;
    size_t runs = 0, hits = 0, remote = 0;
    for (size_t i = 0; i < ws->flow->n_tasks; i++) {
        size_t k = ws->flow->order[i];
        const struct plan_node *pn = &plan->nodes[k];
        if (pn->action == PLAN_NONE)
            continue;
        /* A remote hit's bytes are not here: "cached" would say they were. */
        bool far = pn->action == PLAN_HIT && pn->hit->remote;
        const char *word = far ? "remote" : pn->action == PLAN_HIT ? "cached" : "would run";
        const char *look = far ? "fetching" : pn->action == PLAN_HIT ? "cached" : "queued";
        printf("%s%s %-9s%s %s", term_color(&t, look), term_glyph(&t, look), word, term_reset(&t),
               ws->flow->tasks[k].name);
        if (far)
            printf("  (on the remote cache: a run downloads it)");
        remote += far;
        if (pn->action == PLAN_RUN) {
            runs++;
            if (pn->cause == CAUSE_FORCED)
                printf("  (forced)");
            else if (st && st[k].reasons.n) {
                printf("  (");
                for (size_t r = 0; r < st[k].reasons.n; r++)
                    printf("%s%s", r ? "; " : "", st[k].reasons.v[r]);
                printf(")");
            } else if (st)
                printf("  (%s)", state_name(st[k].state));
            print_cpus(&ws->flow->tasks[k], jobs);
        } else {
            hits++;
        }
        putchar('\n');
    }
    printf("%zu to run, %zu cached", runs, hits - remote);
    if (remote)
        printf(", %zu on the remote", remote);
    putchar('\n');
    status_free(st, ws->flow->n_tasks);
}

static int execute(struct cli *c, struct workspace *ws, const struct run_args *a,
                   struct remote *remote)
{
    size_t *targets, n_targets;
    struct err e;
    if (workspace_targets(ws, a->targets, a->n_targets, &targets, &n_targets, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    bool *force = NULL;
    if (a->force) {
        force = xcalloc(ws->flow->n_tasks, sizeof *force);
        for (size_t i = 0; i < n_targets; i++)
            force[targets[i]] = true;
    }
    struct progress prog;
    progress_init(&prog, ws->flow->n_tasks);
    struct run_observer obs = progress_observer(&prog);
    struct run_opts o = {.targets = targets,
                         .n_targets = n_targets,
                         .force = force,
                         .jobs = a->jobs,
                         .dry_run = a->dry_run,
                         .publish_overwrite = a->publish_overwrite,
                         .cancel = c->cancel,
                         .observer = &obs,
                         .claim_wait = cli_claim_wait(),
                         .tier = remote ? remote_tier(remote) : NULL};
    struct run_summary sum;
    struct plan plan = {0};
    int rc = runner_run(ws, &o, &sum, &plan, &e);
    int code = EXIT_OK;
    if (rc != 0) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    } else if (a->dry_run) {
        print_plan(ws, &plan, targets, n_targets, a->jobs);
    } else {
        progress_summary(&prog, &sum);
        if (strcmp(sum.status, "cancelled") == 0)
            code = EXIT_CANCELLED;
        else if (strcmp(sum.status, "ok") != 0)
            code = EXIT_TASK_FAILED;
    }
    plan_free(&plan);
    progress_free(&prog);
    free(force);
    free(targets);
    return code;
}

int cmd_run(struct cli *c, int argc, char **argv)
{
    struct run_args a = {0};
    int code = parse(c, argc, argv, &a);
    if (code == EXIT_OK) {
        struct workspace *ws;
        struct err e;
        if (workspace_open(c->flow, &a.params, &ws, &e) != 0) {
            cli_error(e.msg);
            code = EXIT_USAGE;
        } else {
            cli_warn(store_warning(ws->store));
            char *notice = workspace_notice(ws);
            if (notice)
                fprintf(stderr, "sluice: note: %s\n", notice);
            free(notice);
            struct remote *remote;
            code = remotes_open(c->flow, a.remote, a.remote_read_only, c->cancel, &remote);
            if (code == EXIT_OK)
                code = execute(c, ws, &a, remote);
            remotes_close(remote); /* after its uploads, under the store's lock */
            workspace_close(ws);
        }
    }
    strv_free(&a.params);
    return code;
}
