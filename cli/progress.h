/* progress: the run observer behind `sluice run`'s output. On a terminal, one live
 * line (done/total, what is running, how many wait in a scheduler's queue, elapsed)
 * plus a permanent line and the log tail for each failure; elsewhere, one plain line
 * per task event. */
#ifndef SLUICE_PROGRESS_H
#define SLUICE_PROGRESS_H

#include "runner.h"
#include "term.h"

struct progress {
    struct term term;
    bool *running; /* per task */
    bool *waiting; /* per task: submitted to a scheduler, not running yet */
    size_t n_tasks;
    double t0, last_draw;
    bool line_shown;
};

void progress_init(struct progress *p, size_t n_tasks);
void progress_free(struct progress *p);
struct run_observer progress_observer(struct progress *p);
/* Prints the final summary line. */
void progress_summary(struct progress *p, const struct run_summary *s);

#endif
