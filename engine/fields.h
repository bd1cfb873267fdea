/* fields: the one table of the fields a flow file knows, tasks' and the flow's.
 *
 * TASK_FIELDS(X) names every task field once, in the README's order (which is also
 * the order flowedit places a new field among existing ones). A row is
 *   X(ID, "name", KIND, VALUES, "form label", WHERE, KEY)
 * KIND: the JSON shape a typed value becomes (flowedit; FIELD_LISTS: an object of
 * lists or "{params.X}", typed `VAR=A, B; VAR={params.X}`); VALUES: what completes a
 * value (the TUI); label: the TUI form's label, NULL when no form shows it; WHERE:
 * FIELD_TASK (a task with "run"), FIELD_NODE (a sub-flow node) or FIELD_BOTH; KEY:
 * whether the field is part of the task's key (keys.c encodes exactly those, and
 * fails to build when their count and its encoders' differ). Generated from it:
 * flowfile.c's readers (one read_ID() per row) and unknown-field suggestions,
 * flowedit.c's kinds and member order, the TUI's forms and value completion.
 * FLOW_FIELDS(X) does the same for the top level: X(ID, "name", KIND).
 * Adding a field is adding a row (and its read_ID() in flowfile.c). Pure data.
 */
#ifndef SLUICE_FIELDS_H
#define SLUICE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

enum field_kind { FIELD_STRING, FIELD_LIST, FIELD_BOOL, FIELD_OBJECT, FIELD_LISTS, FIELD_ANY };
enum field_values { VALUES_ANY, VALUES_TASKS, VALUES_PATHS, VALUES_KEEP, VALUES_BOOL };
enum field_where { FIELD_TASK = 1, FIELD_NODE = 2, FIELD_BOTH = 3 };

/* clang-format off */
#define TASK_FIELDS(X)                                                                           \
    X(run,          "run",          FIELD_STRING, VALUES_ANY,   "command",      FIELD_TASK, true)  \
    X(after,        "after",        FIELD_LIST,   VALUES_TASKS, "after",        FIELD_TASK, true)  \
    X(code,         "code",         FIELD_LIST,   VALUES_PATHS, "code",         FIELD_TASK, true)  \
    X(files,        "files",        FIELD_LIST,   VALUES_PATHS, "files",        FIELD_TASK, true)  \
    X(env,          "env",          FIELD_OBJECT, VALUES_ANY,   "env",          FIELD_TASK, true)  \
    X(keep,         "keep",         FIELD_STRING, VALUES_KEEP,  "keep",         FIELD_TASK, false) \
    X(expire,       "expire",       FIELD_STRING, VALUES_ANY,   "expire",       FIELD_TASK, false) \
    X(is_volatile,  "volatile",     FIELD_BOOL,   VALUES_BOOL,  "volatile",     FIELD_TASK, false) \
    X(publish,      "publish",      FIELD_STRING, VALUES_ANY,   "publish",      FIELD_TASK, false) \
    X(publish_mode, "publish_mode", FIELD_STRING, VALUES_ANY,   "publish mode", FIELD_TASK, false) \
    X(output,       "output",       FIELD_BOOL,   VALUES_BOOL,  NULL,           FIELD_TASK, false) \
    X(flow,         "flow",         FIELD_STRING, VALUES_PATHS, "flow",         FIELD_NODE, false) \
    X(with,         "with",         FIELD_OBJECT, VALUES_ANY,   "with",         FIELD_NODE, false) \
    X(executor,     "executor",     FIELD_STRING, VALUES_ANY,   "executor",     FIELD_TASK, false) \
    X(outputs,      "outputs",      FIELD_LIST,   VALUES_ANY,   "outputs",      FIELD_TASK, true)  \
    X(cpus,         "cpus",         FIELD_ANY,    VALUES_ANY,   "cpus",         FIELD_TASK, false) \
    X(matrix,       "matrix",       FIELD_LISTS,  VALUES_ANY,   "matrix",       FIELD_BOTH, false) \
    X(description,  "description",  FIELD_STRING, VALUES_ANY,   "description",  FIELD_BOTH, false)

#define FLOW_FIELDS(X)                                \
    X(name,         "name",         FIELD_STRING)     \
    X(description,  "description",  FIELD_STRING)     \
    X(params,       "params",       FIELD_ANY)        \
    X(tasks,        "tasks",        FIELD_ANY)        \
    X(publish_root, "publish_root", FIELD_STRING)     \
    X(executor,     "executor",     FIELD_STRING)
/* clang-format on */

enum task_field_id {
#define X(id, ...) TASK_FIELD_##id,
    TASK_FIELDS(X)
#undef X
    TASK_FIELD_COUNT
};

#define X(id, n, k, v, l, w, key) +((key) ? 1 : 0)
enum { TASK_FIELDS_KEYED = 0 TASK_FIELDS(X) };
#undef X

struct field_info {
    const char *name;
    enum field_kind kind;
    enum field_values values;
    const char *label; /* the TUI form's, or NULL */
    enum field_where where;
    bool in_key;
};

/* The rows, in table order (fields_task[TASK_FIELD_run] is "run"). */
extern const struct field_info fields_task[TASK_FIELD_COUNT];
extern const struct field_info fields_flow[];
extern const size_t fields_n_flow;

/* The row of a task (task) or top-level field of this name, or NULL. rank (may be
 * NULL) is set to its index, or to the table's length when there is none. */
const struct field_info *fields_find(const char *name, bool task, size_t *rank);

#endif
