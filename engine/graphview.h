/* graphview: the graph a picture shows.
 *
 * One node per task, except that a collapsed sub-flow is one node standing for all
 * its tasks (and, when asked, a matrix task one node for all its instances TASK@...,
 * a matrix sub-flow node one for all its A@V/... tasks); with a focus task, only it
 * and its ancestors and descendants remain. Of a sub-flow and a matrix containing each
 * other, the outer one collapsed wins (`prep/map@A` in collapsed `prep` is `prep`).
 * Edges between the remaining nodes follow the flow's (merged, without self-loops).
 * Built from a flow without changing it; the caller frees it with graphview_free().
 */
#ifndef SLUICE_GRAPHVIEW_H
#define SLUICE_GRAPHVIEW_H

#include "flow.h"
#include "strmap.h"

struct view_node {
    long task;      /* a task's index, or -1 for a collapsed sub-flow */
    int group;      /* the collapsed sub-flow's index (else -1) */
    size_t members; /* tasks it stands for */
    long first;     /* a collapsed matrix task: its first instance (else -1) */
    size_t instances; /* a collapsed matrix task: how many instances it stands for */
};

struct graphview {
    size_t n;
    struct view_node *nodes;
    size_t **deps; /* per node: upstream nodes */
    size_t *n_deps;
    long *of_task; /* per task: its node, or -1 when hidden by the focus */
    size_t *member_at; /* per node (and one more): where its tasks start in members */
    size_t *members;   /* the shown tasks, node by node, each node's in task order */
};

/* collapsed: per group, whether it is shown as one node (NULL: none). focus: a task's
 * index, or -1 for the whole flow. */
void graphview_build(const struct flow *f, const bool *collapsed, long focus,
                     struct graphview *out);
/* The same, with every matrix task's instances as one node when collapse_matrix,
 * except for the matrix tasks whose base name (`map`, `prep`) open maps to non-NULL
 * (open may be NULL): those show their instances. The focus is a set of tasks (all the
 * instances of a matrix box): their ancestors and descendants (n_focus 0: the whole
 * flow). */
void graphview_build_matrix(const struct flow *f, const bool *collapsed, bool collapse_matrix,
                            const struct strmap *open, const size_t *focus, size_t n_focus,
                            struct graphview *out);
/* The base name of matrix task `name` as graphview_build_matrix() groups it: up to its
 * first '@' whose prefix open does not map (NULL: not a matrix instance, or every
 * prefix open), as a length; *inst gets the length of its instance's name (`map@A`,
 * `prep@A` of `prep@A/sort`). */
size_t graphview_matrix_base(const char *name, const struct strmap *open, size_t *inst);
void graphview_free(struct graphview *v);

#endif
