/* child: runs started from the TUI, as `sluice run` (or `sluice replay`) children.
 *
 * A run started here is an ordinary run in another process, with its output sent to
 * /dev/null and its errors to a file: the TUI follows it exactly as it follows a run
 * started in another terminal, through the store's database, and shows its error when
 * it could not start. Cancelling sends it SIGINT, which stops its tasks cleanly and
 * records them as cancelled. */
#ifndef SLUICE_CHILD_H
#define SLUICE_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

struct child {
    pid_t pid; /* 0 when none */
    int status;
    char *errors; /* a file its stderr goes to (removed by child_free) */
};

/* Starts `sluice -f FLOW ARGS...` (args: e.g. {"run", NULL} or {"replay", "12", NULL}). */
int child_start(struct child *c, const char *flow_path, const char *const *args, struct err *e);
/* When it ended failing before any run began (exit status 2): the last line it
 * printed, else NULL. Caller frees. */
char *child_failure(struct child *c);
void child_free(struct child *c);
/* True while it runs; reaps it when it has ended. */
bool child_running(struct child *c);
void child_cancel(struct child *c);
/* Cancels it and waits (up to timeout_s, then SIGKILL). */
void child_stop(struct child *c, double timeout_s);

#endif
