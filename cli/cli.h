/* cli: the `sluice` commands. Each command parses its own options, calls the engine
 * and prints; nothing here decides what is cached or how tasks run. Exit codes:
 * 0 ok, 1 a task failed, 2 usage or flow error, 130 cancelled (Ctrl-C). */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <signal.h>
#include <stdbool.h>

#include "util.h"

enum { EXIT_OK = 0, EXIT_TASK_FAILED = 1, EXIT_USAGE = 2, EXIT_CANCELLED = 130 };

struct cli {
    const char *flow; /* -f FLOW, default flow.json */
    volatile sig_atomic_t *cancel; /* the signal caught (SIGINT, SIGTERM, SIGHUP), or 0 */
    const struct command *cmd;
};

struct command {
    const char *name;
    const char *args;    /* synopsis after the name */
    const char *summary; /* one line */
    const char *help;    /* options, one per line */
    const char *example;
    int (*run)(struct cli *c, int argc, char **argv);
};

int cmd_run(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_invalidate(struct cli *c, int argc, char **argv);
int cmd_why(struct cli *c, int argc, char **argv);
int cmd_gc(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_dag(struct cli *c, int argc, char **argv);
int cmd_tui(struct cli *c, int argc, char **argv);
int cmd_history(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_log(struct cli *c, int argc, char **argv);
int cmd_diff(struct cli *c, int argc, char **argv);
int cmd_replay(struct cli *c, int argc, char **argv);
int cmd_push(struct cli *c, int argc, char **argv);
int cmd_pull(struct cli *c, int argc, char **argv);

/* Prints "sluice CMD: usage..." to stderr and returns EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses the options of commands that take only --json and -p NAME=VALUE; optind
 * is left at the first operand. Returns EXIT_OK or (after a message) EXIT_USAGE. */
int cli_json_params(const struct cli *c, int argc, char **argv, bool *json,
                    struct strv *params);
/* Parses the options of commands that take only --json (history reads). */
int cli_json_only(const struct cli *c, int argc, char **argv, bool *json);
/* Parses -j's value into *jobs (1 to 4096). */
int cli_jobs(const struct cli *c, const char *arg, int *jobs);
/* The default for -j: the number of cores. */
int cli_default_jobs(void);
/* How long a task (of a run or a replay) waits for another run computing the same key
 * before it fails: $SLUICE_CLAIM_WAIT seconds (0: for ever), an hour by default. */
double cli_claim_wait(void);
/* Prints "sluice: msg" to stderr. */
void cli_error(const char *msg);
/* Prints "sluice: warning: msg" to stderr, unless msg is NULL. */
void cli_warn(const char *msg);

struct records;
/* Opens the flow's store and history without reading the flow file (so past runs stay
 * readable while it is broken). Prints the error and returns EXIT_USAGE on failure. */
int cli_records(const struct cli *c, struct records *r);
/* Opens the flow's store for a command that works on the store itself (gc, verify),
 * warning about a store on a network file system. Without a store yet, prints "no
 * store at DIR: nothing to WHAT" and returns EXIT_OK with r->store NULL. Prints the
 * error and returns EXIT_USAGE on failure. */
int cli_store(const struct cli *c, const char *what, struct records *r);
/* Parses a run: its number, or "last" (the flow's newest run), "last~N" (N before it).
 * Prints the error and returns EXIT_USAGE when there is no such run. */
int cli_run_id(const struct cli *c, const struct records *r, const char *arg, int64_t *id);

#endif
