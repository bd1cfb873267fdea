/* executors: the executors one run uses, as a set.
 *
 * executors_open() loads the plugin of every executor the selected tasks name (once
 * each, see plugin.h) and has it check each task's options, so a missing plugin or a
 * bad option is reported, naming the flow file and the task, before anything runs or
 * is recorded. executors_start() initialises them with the flow's defaults;
 * executors_poll() collects reports from every executor that has jobs out, sharing
 * the wait among them, so no executor blocks another's. The runner owns the counts of
 * jobs out (`busy`) and the scheduling; this module never touches store or history.
 */
#ifndef SLUICE_EXECUTORS_H
#define SLUICE_EXECUTORS_H

#include <stdbool.h>

#include "flow.h"
#include "plugin.h"

struct executor {
    const char *name; /* interned in the flow */
    struct plugin plugin;
    void *ctx;   /* after executors_start() */
    size_t busy; /* jobs submitted and not yet reported done (kept by the caller) */
};

struct executors {
    struct executor *v;
    size_t n;
};

/* For every task t with use[t]: loads its executor and checks its options; of[t] is
 * set to the executor's index (others to -1). */
int executors_open(struct executors *xs, const struct flow *f, const bool *use, int *of,
                   struct err *e);
int executors_start(struct executors *xs, const struct flow *f, struct err *e);
/* Reports from the executors with jobs out, at most max; waits up to timeout_ms in all. */
int executors_poll(struct executors *xs, int timeout_ms, struct exec_report *out, int max);
/* Shuts down the started executors (stopping what still runs) and unloads them all. */
void executors_close(struct executors *xs);

#endif
