/* graphview: the graph a picture shows.
 *
 * One node per task, except that a collapsed sub-flow is one node standing for all
 * its tasks (and, when asked, a matrix task one node for all its instances
 * TASK@...); with a focus task, only it and its ancestors and descendants remain.
 * Edges between the remaining nodes follow the flow's (merged, without self-loops).
 * Built from a flow without changing it; the caller frees it with graphview_free().
 */
#ifndef SLUICE_GRAPHVIEW_H
#define SLUICE_GRAPHVIEW_H

#include "flow.h"

struct view_node {
    long task;      /* a task's index, or -1 for a collapsed sub-flow */
    int group;      /* the collapsed sub-flow's index (else -1) */
    size_t members; /* tasks it stands for */
    long first;     /* a collapsed matrix task: its first instance (else -1) */
};

struct graphview {
    size_t n;
    struct view_node *nodes;
    size_t **deps; /* per node: upstream nodes */
    size_t *n_deps;
    long *of_task; /* per task: its node, or -1 when hidden by the focus */
};

/* collapsed: per group, whether it is shown as one node (NULL: none). focus: a task's
 * index, or -1 for the whole flow. */
void graphview_build(const struct flow *f, const bool *collapsed, long focus,
                     struct graphview *out);
/* The same, with every matrix task's instances as one node when collapse_matrix. */
void graphview_build_matrix(const struct flow *f, const bool *collapsed, bool collapse_matrix,
                            long focus, struct graphview *out);
void graphview_free(struct graphview *v);

#endif
