/* matrix: expands a flow file's "matrix" tasks into their instances, before anything
 * else reads its tasks (so keys, plans, history and the TUI only ever see ordinary tasks).
 *
 * A task with "matrix": {"sample": ["A", "B"], "lr": "{params.lrs}"} becomes one task per
 * point of the cross product (first variable outermost), named TASK@V1,V2 (values in the
 * order the variables are written), with {matrix.VAR} substituted in run, code, files,
 * env and publish. `after` naming a matrix task is rewritten: when the downstream task
 * has all of the upstream's variables it pairs with the one instance of the same values
 * ($IN_map); otherwise it gathers every instance that agrees on the variables they share,
 * each edge's variable being "IN_map/VALUES" (the runner makes $IN_map a directory of
 * them). A sub-flow node may have a matrix too (instances prep@A, whose `with` gets
 * {matrix.VAR}); `after` "prep/clean" is then paired or gathered as "prep@A/clean", and
 * "train@*,0.1" gathers only the matching instances. It also refuses list parameters
 * used as scalars. Errors name the file, line and task; nothing is printed.
 */
#ifndef SLUICE_MATRIX_H
#define SLUICE_MATRIX_H

#include "flowfile.h"
#include "util.h"

struct cJSON;

/* Expands rf's tasks in place. params: the file's parameters with overrides applied;
 * path: the file as messages name it. */
int matrix_expand(struct rawflow *rf, const struct cJSON *params, const char *path,
                  struct err *e);

#endif
