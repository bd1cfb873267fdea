/* main: global options, the command table, help, signals. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SLUICE_VERSION "0.1.0"

static const struct command commands[] = {
    {"tui", "[FLOW] [--ascii] [--mouse] [--script FILE]",
     "the terminal UI: build the flow, see it live, run, invalidate, explain, browse history "
     "(the default)",
     "      --ascii         ASCII instead of box-drawing characters\n"
     "      --mouse         let a click select a task (also: the m key)\n"
     "      --script FILE   drive it from a key script, headless, printing screen dumps\n",
     "sluice\n  sluice tui examples/churn/flow.json", cmd_tui},
    {"run", "[TARGET...] [-j N] [--dry-run] [--force] [--publish-overwrite] [-p NAME=VALUE]... "
            "[--remote URL|off]",
     "run what the targets need (default: every sink), reusing cached results",
     "  -j, --jobs N        run at most N tasks at once on each executor (default: cores)\n"
     "  -n, --dry-run       print the plan (what would run, what is cached), run nothing\n"
     "      --force         run the targets even when cached (upstreams as usual)\n"
     "      --publish-overwrite\n"
     "                      let publishing replace what is at a publish path although\n"
     "                      sluice did not publish it (a file of yours, or another flow's)\n"
     "  -p, --param K=V     override a flow parameter for this run\n"
     "      --remote URL|off  the shared cache to use (else $SLUICE_REMOTE, sluice.conf)\n"
     "      --remote-read-only  only read from it (no uploads)\n",
     "sluice run report -j 4\n  sluice run --dry-run -p lr=0.2", cmd_run},
    {"status", "[TARGET...] [--json] [-p NAME=VALUE]...",
     "every task's state (cached, stale, pending, ...) and why; with targets, only what they need",
     "      --json          machine-readable output: {\"tasks\": [...]}\n"
     "  -p, --param K=V     evaluate with a parameter overridden\n",
     "sluice status\n  sluice status --json | jq '.tasks[] | select(.state != \"cached\")'",
     cmd_status},
    {"why", "TASK [--json] [-p NAME=VALUE]...",
     "explain a task's state down to root causes, with the diff of changed code",
     "      --json          machine-readable output\n"
     "  -p, --param K=V     evaluate with a parameter overridden\n",
     "sluice why train\n  sluice why report -p lr=0.2", cmd_why},
    {"dag", "[--ascii] [--dot | --mermaid] [--collapse] [--down | --right]",
     "draw the flow's DAG with every task's state",
     "      --ascii         ASCII instead of box-drawing characters\n"
     "      --dot           Graphviz DOT (sluice dag --dot | dot -Tsvg >dag.svg)\n"
     "      --mermaid       a Mermaid flowchart\n"
     "      --collapse      draw each sub-flow as one node\n"
     "      --down, --right the direction (default: whichever fits the terminal)\n",
     "sluice dag\n  sluice dag --dot | dot -Tpng >dag.png", cmd_dag},
    {"invalidate", "TASK [--downstream|--upstream] [--dry-run] [--reason TEXT] | --undo ID",
     "take tasks' cached results out of the cache (reversibly); they run again next time",
     "      --downstream    also every task downstream of TASK\n"
     "      --upstream      also every task upstream of TASK\n"
     "  -n, --dry-run       print the tasks it would invalidate, change nothing\n"
     "      --reason TEXT   recorded with the invalidation\n"
     "      --undo ID       put back what invalidation ID took out\n",
     "sluice invalidate train --downstream --reason 'bad labels'\n  sluice invalidate --undo 7",
     cmd_invalidate},
    {"history", "[-n N] [--task TASK] [--json]",
     "the flow's runs, newest first: status, counts, git HEAD, replays",
     "  -n N                the newest N runs (default 20)\n"
     "      --task TASK     only runs in which TASK took part, with what it did\n"
     "      --json          machine-readable output: {\"runs\": [...]}\n",
     "sluice history\n  sluice history --task train -n 5", cmd_history},
    {"show", "RUN [--json]",
     "one run in full: parameters, git HEAD, each task's decision, why it ran, keys, code, output",
     "      --json          machine-readable output\n"
     "  RUN is a run number, \"last\" or \"last~N\" (N runs before the last)\n",
     "sluice show 12\n  sluice show last --json | jq '.tasks[].decision'", cmd_show},
    {"log", "TASK [--run RUN] [--follow]",
     "a task's captured output (stdout and stderr), from its latest run or a given one",
     "      --run RUN       from that run instead of the latest\n"
     "  -F, --follow        follow the task while a run has it queued or running (a\n"
     "                      trailing -f means the same, as with tail -f)\n",
     "sluice log train\n  sluice log train -f", cmd_log},
    {"diff", "RUN1 RUN2 [--json]",
     "what differs between two runs: parameters, code (with diffs), files, keys, outputs",
     "      --json          machine-readable output\n",
     "sluice diff 11 12\n  sluice diff last~1 last", cmd_diff},
    {"replay", "RUN [TARGET...] [--verify] [-j N]",
     "run a past run again with its parameters and the code it had, in a scratch tree",
     "      --verify        compare every output with the recorded one; exit 1 if any differs\n"
     "  -j, --jobs N        run at most N tasks at once (default: number of cores)\n"
     "  TARGET...           only these tasks of the run (and what they need)\n",
     "sluice replay 12 --verify\n  sluice replay last train", cmd_replay},
    {"push", "[TARGET...] [--remote URL] [-p NAME=VALUE]...",
     "upload the cached results of the targets and their upstreams to the shared cache",
     "      --remote URL    the shared cache (else $SLUICE_REMOTE, sluice.conf)\n",
     "sluice push\n  sluice push train --remote http://cache:8080/team", cmd_push},
    {"pull", "[TARGET...] [--remote URL] [-p NAME=VALUE]...",
     "download the targets' cached results from the shared cache, running nothing",
     "      --remote URL    the shared cache (else $SLUICE_REMOTE, sluice.conf)\n",
     "sluice pull\n  sluice pull report", cmd_pull},
    {"gc", "[--keep-runs N] [--max-size SIZE] [--dry-run]",
     "free store space: unreferenced and expired outputs, then the least recently used",
     "      --keep-runs N   keep what the last N runs made (to replay them) and their logs\n"
     "      --max-size SIZE keep the store under SIZE (500M, 2G): least recently used go\n"
     "  -n, --dry-run       report what would go, delete nothing\n",
     "sluice gc --keep-runs 20 --max-size 10G", cmd_gc},
    {"verify", "[--repair]",
     "re-hash every stored object and check every cache entry against it",
     "      --repair        drop what is broken (its tasks run again), put back what a\n"
     "                      view still has; waits for no run: refuses while one goes\n",
     "sluice verify\n  sluice verify --repair", cmd_verify},
};

static void print_overview(FILE *out)
{
    fprintf(out, "sluice %s: cached flows for data and ML pipelines\n\n"
                 "usage: sluice [-C DIR] [-f FLOW] COMMAND [ARGS]\n\n"
                 "commands:\n",
            SLUICE_VERSION);
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nglobal options (any command):\n"
                 "  -C DIR              run as if started in DIR\n"
                 "  -f, --flow FLOW     the flow file (default: flow.json)\n"
                 "  -h, --help          help; `sluice COMMAND --help` for a command\n"
                 "\nexamples:\n"
                 "  sluice                        the TUI on ./flow.json\n"
                 "  sluice run -j 4               run the flow, four tasks at a time\n"
                 "  sluice run report -p lr=0.2   what report needs, with a parameter changed\n"
                 "  sluice status                 every task: cached, stale, pending... and why\n"
                 "  sluice why report             root causes, with diffs of changed code\n"
                 "  sluice -C examples/hello dag  the DAG of another directory's flow\n"
                 "\nexit codes: 0 ok, 1 a task failed (verify: the store is damaged), 2 usage or "
                 "flow error, 130 cancelled\n"
                 "environment: SLUICE_STORE (store location, default sluice.conf's store or "
                 ".sluice next to the flow),\n  SLUICE_REMOTE, SLUICE_REMOTE_READ_ONLY, "
                 "SLUICE_REMOTE_TIMEOUT, SLUICE_REMOTE_TOKEN (the shared cache),\n  SLUICE_PLUGIN_PATH (directories searched first for executor "
                 "plugins), NO_COLOR,\n  VISUAL or EDITOR (the editor the TUI's E key opens)\n");
}

static void print_command_help(const struct command *c)
{
    printf("usage: sluice %s %s\n\n%s\n\noptions:\n%s"
           "  -C DIR              run as if started in DIR\n"
           "  -f, --flow FLOW     the flow file (default: flow.json)\n"
           "\nexample:\n  %s\n",
           c->name, c->args, c->summary, c->help, c->example);
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sluice %s: ", c->cmd->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: sluice %s %s\n", c->cmd->name, c->cmd->args);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_json_params(const struct cli *c, int argc, char **argv, bool *json,
                    struct strv *params)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'J'},
                                          {"param", required_argument, NULL, 'p'},
                                          {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":p:", opts, NULL)) != -1) {
        if (ch == 'J')
            *json = true;
        else if (ch == 'p')
            strv_push(params, xstrdup(optarg));
        else if (ch == ':')
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    return EXIT_OK;
}

int cli_json_only(const struct cli *c, int argc, char **argv, bool *json)
{
    struct strv params = {0};
    int code = cli_json_params(c, argc, argv, json, &params);
    size_t n = params.n;
    strv_free(&params);
    if (code == EXIT_OK && n)
        return cli_usage_error(c, "-p does not apply: a run has the parameters it had");
    return code;
}

int cli_jobs(const struct cli *c, const char *arg, int *jobs)
{
    char *end;
    long j = strtol(arg, &end, 10);
    if (*end || j < 1 || j > 4096)
        return cli_usage_error(c, "-j wants a number of jobs from 1 to 4096, not \"%s\"", arg);
    *jobs = (int)j;
    return EXIT_OK;
}

int cli_default_jobs(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (int)cores : 1;
}

double cli_claim_wait(void)
{
    const char *v = getenv("SLUICE_CLAIM_WAIT");
    char *end;
    double s = v && v[0] ? strtod(v, &end) : 3600;
    return v && v[0] && (*end || s < 0) ? 3600 : s;
}

void cli_error(const char *msg)
{
    fprintf(stderr, "sluice: %s\n", msg);
}

void cli_warn(const char *msg)
{
    if (msg)
        fprintf(stderr, "sluice: warning: %s\n", msg);
}

static volatile sig_atomic_t cancel_requested;

static void on_signal(int sig)
{
    cancel_requested = sig;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() must wake up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Takes -C DIR, -f FLOW and --flow[=]FLOW out of argv, wherever they are (up to
 * "--"), so every command accepts them. Returns the new argc, or -1 on error. */
static int take_global_options(int argc, char **argv, const char **dir, const char **flow)
{
    int w = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                argv[w++] = argv[i++];
            break;
        }
        const char **slot = NULL;
        const char *val = NULL;
        if (strcmp(a, "-C") == 0)
            slot = dir;
        else if (strcmp(a, "-f") == 0 || strcmp(a, "--flow") == 0)
            slot = flow;
        else if (strncmp(a, "--flow=", 7) == 0)
            slot = flow, val = a + 7;
        else if (strncmp(a, "-C", 2) == 0)
            slot = dir, val = a + 2;
        if (!slot) {
            argv[w++] = argv[i];
            continue;
        }
        if (!val && slot == flow && i + 1 >= argc && w > 1 && strcmp(argv[1], "log") == 0) {
            argv[w++] = "--follow"; /* `sluice log TASK -f`, as with tail -f */
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice: %s needs a value\n", a);
                return -1;
            }
            val = argv[++i];
        }
        *slot = val;
    }
    argv[w] = NULL;
    return w;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* A fixed threshold: big blocks (a 100,000-task flow's arrays) are mapped and go
     * back to the system when freed. By default glibc raises the threshold past the
     * first big block freed, and later ones stay in the heap: 5 MB more at the peak. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    const char *dir = NULL, *flow = "flow.json";
    argc = take_global_options(argc, argv, &dir, &flow);
    if (argc < 0)
        return EXIT_USAGE;
    /* `sluice` alone, or `sluice FLOW.json`, opens the TUI on a terminal. */
    bool a_file = argc == 2 && argv[1][0] != '-' && access(argv[1], F_OK) == 0;
    if ((argc < 2 || a_file) && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        char *tui_argv[] = {"tui", a_file ? argv[1] : NULL, NULL};
        struct cli c = {.flow = flow, .cancel = &cancel_requested, .cmd = &commands[0]};
        if (dir && chdir(dir) != 0) {
            fprintf(stderr, "sluice: -C %s: %s\n", dir, strerror(errno));
            return EXIT_USAGE;
        }
        install_signals();
        return cmd_tui(&c, a_file ? 2 : 1, tui_argv);
    }
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        if (argc >= 3 && strcmp(argv[1], "help") == 0) {
            argv[1] = argv[2];
            argv[2] = "--help";
        } else {
            print_overview(stdout);
            return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return EXIT_OK;
    }
    const struct command *cmd = NULL;
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "sluice: unknown command \"%s\" (see sluice --help)\n", argv[1]);
        return EXIT_USAGE;
    }
    if (wants_help(argc - 1, argv + 1)) {
        print_command_help(cmd);
        return EXIT_OK;
    }
    if (dir && chdir(dir) != 0) {
        fprintf(stderr, "sluice: -C %s: %s\n", dir, strerror(errno));
        return EXIT_USAGE;
    }
    install_signals();
    struct cli c = {.flow = flow, .cancel = &cancel_requested, .cmd = cmd};
    return cmd->run(&c, argc - 1, argv + 1);
}
