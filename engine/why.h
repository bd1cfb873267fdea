/* why: the root causes of one task's state.
 *
 * Starts from status (the same plan, the same comparisons with the history) and goes
 * further: a stale upstream is followed to its own root causes ("upstream features is
 * stale (code tasks/features.py changed)"), and every changed code file among the
 * root causes, the task's own or an upstream's, comes with the unified diff between
 * the recorded version and the current one. Reads only.
 */
#ifndef SLUICE_WHY_H
#define SLUICE_WHY_H

#include "status.h"

/* A changed code file behind a cause: the task's own, or an upstream root cause's. */
struct why_diff {
    size_t task;           /* the task whose code it is */
    char *path, *old_blob; /* as the task names it; the blob it had */
    char *diff;            /* the unified diff, or NULL */
    char *error;           /* why there is no diff, or NULL */
};

struct why_cause {
    char *text;
    struct why_diff *diffs;
    size_t n_diffs;
};

struct why {
    enum node_state state;
    struct why_cause *causes;
    size_t n;
};

int why_explain(struct workspace *ws, size_t t, struct why *out, struct err *e);
void why_free(struct why *w);
/* Task t's root causes from statuses already computed (status_compute() or
 * status_of_plan()), worded as why_explain() words them, "; "-separated, without diffs;
 * NULL when there are none. Caller frees. */
char *why_causes_text(const struct workspace *ws, const struct task_status *st, size_t t);

#endif
