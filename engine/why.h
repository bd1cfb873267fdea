/* why: the root causes of one task's state.
 *
 * Starts from status (the same plan, the same comparisons with the history) and goes
 * further: a stale upstream is followed to its own root causes ("upstream features is
 * stale (code tasks/features.py changed)"), and a changed code file comes with the
 * unified diff between the recorded version and the current one. Reads only.
 */
#ifndef SLUICE_WHY_H
#define SLUICE_WHY_H

#include "status.h"

struct why_cause {
    char *text;
    char *path, *old_blob; /* a changed code file, else NULL */
    char *diff;            /* its diff, or NULL */
    char *diff_error;      /* why there is no diff, or NULL */
};

struct why {
    enum node_state state;
    struct why_cause *causes;
    size_t n;
};

int why_explain(struct workspace *ws, size_t t, struct why *out, struct err *e);
void why_free(struct why *w);

#endif
