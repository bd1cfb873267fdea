/* cmd_replay: `sluice replay RUN` — run a past run again with the code it had. */
#include <getopt.h>

#include "cli.h"
#include "progress.h"
#include "replay.h"
#include "term.h"

struct replay_args {
    int jobs;
    bool verify;
    char **targets;
    size_t n_targets;
};

static int parse(struct cli *c, int argc, char **argv, struct replay_args *a)
{
    static const struct option opts[] = {{"jobs", required_argument, NULL, 'j'},
                                          {"verify", no_argument, NULL, 'V'},
                                          {NULL, 0, NULL, 0}};
    a->jobs = cli_default_jobs();
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":j:", opts, NULL)) != -1) {
        if (ch == 'j') {
            if (cli_jobs(c, optarg, &a->jobs) != EXIT_OK)
                return EXIT_USAGE;
        } else if (ch == 'V') {
            a->verify = true;
        } else if (ch == ':') {
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        } else {
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(c, "name the run to replay");
    a->targets = argv + optind + 1;
    a->n_targets = (size_t)(argc - optind - 1);
    return EXIT_OK;
}

/* Prints each task's verdict and the summary line; returns whether all are identical. */
static bool verify(struct replay *rp, int64_t new_run)
{
    struct term t;
    term_detect(&t, stdout);
    struct replay_check *checks;
    size_t n = replay_compare(rp, new_run, &checks), same = 0;
    struct sb bad = {0};
    for (size_t i = 0; i < n; i++) {
        const struct replay_check *c = &checks[i];
        const char *word = c->verdict == REPLAY_IDENTICAL ? "identical"
                           : c->verdict == REPLAY_DIFFERS ? "differs"
                                                          : "not run";
        const char *look = c->verdict == REPLAY_IDENTICAL ? "cached" : "failed";
        printf("%s%s %-9s%s %s", term_color(&t, look), term_glyph(&t, look), word,
               term_reset(&t), c->task);
        if (c->verdict == REPLAY_DIFFERS) {
            char a[32], b[32];
            fmt_size(a, sizeof a, c->recorded_size);
            fmt_size(b, sizeof b, c->now_size);
            printf("  (recorded %.12s, %s; now %.12s, %s)", c->recorded[0] ? c->recorded : "none",
                   a, c->now, b);
        }
        putchar('\n');
        if (c->verdict == REPLAY_IDENTICAL)
            same++;
        else
            sb_addf(&bad, "%s%s", bad.len ? ", " : "", c->task);
    }
    printf("replay of run %lld: %zu task%s identical", (long long)rp->of, same,
           same == 1 ? "" : "s");
    size_t differ = n - same;
    if (differ)
        printf(", %zu %s: %s", differ, differ == 1 ? "differs" : "differ", bad.buf);
    putchar('\n');
    sb_free(&bad);
    free(checks);
    return differ == 0;
}

int cmd_replay(struct cli *c, int argc, char **argv)
{
    struct replay_args a = {0};
    int code = parse(c, argc, argv, &a);
    if (code != EXIT_OK)
        return code;
    struct records r;
    if ((code = cli_records(c, &r)) != EXIT_OK)
        return code;
    int64_t id;
    struct replay *rp = NULL;
    struct err e;
    if ((code = cli_run_id(c, &r, argv[optind], &id)) == EXIT_OK &&
        replay_prepare(&r, id, a.targets, a.n_targets, &rp, &e)) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    }
    records_close(&r);
    if (code != EXIT_OK)
        return code;
    for (size_t i = 0; i < rp->notes.n; i++)
        fprintf(stderr, "sluice: note: %s\n", rp->notes.v[i]);
    struct progress prog;
    progress_init(&prog, rp->ws->flow->n_tasks);
    struct run_observer obs = progress_observer(&prog);
    struct run_opts o = {
        .jobs = a.jobs, .cancel = c->cancel, .observer = &obs, .claim_wait = cli_claim_wait()};
    struct run_summary sum;
    if (replay_run(rp, &o, &sum, &e)) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    } else {
        progress_summary(&prog, &sum);
        bool same = !a.verify || verify(rp, sum.run_id);
        code = strcmp(sum.status, "cancelled") == 0 ? EXIT_CANCELLED
               : strcmp(sum.status, "ok") != 0 || !same ? EXIT_TASK_FAILED
                                                        : EXIT_OK;
    }
    progress_free(&prog);
    replay_free(rp);
    return code;
}
