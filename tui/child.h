/* child: runs started from the TUI, as `sluice run` child processes.
 *
 * A run started here is an ordinary run in another process, with its output sent to
 * /dev/null: the TUI follows it exactly as it follows a run started in another
 * terminal, through the store's database. Cancelling sends it SIGINT, which stops
 * its tasks cleanly and records them as cancelled. */
#ifndef SLUICE_CHILD_H
#define SLUICE_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

struct child {
    pid_t pid; /* 0 when none */
    int status;
};

/* Starts `sluice -f FLOW run [TARGET]` (no target: the flow's default targets). */
int child_start(struct child *c, const char *flow_path, const char *target, struct err *e);
/* True while it runs; reaps it when it has ended. */
bool child_running(struct child *c);
void child_cancel(struct child *c);
/* Cancels it and waits (up to timeout_s, then SIGKILL). */
void child_stop(struct child *c, double timeout_s);

#endif
