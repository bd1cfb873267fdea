/* flow: a flow file (and the sub-flows it includes) as one validated, substituted DAG.
 *
 * flow_load() reads the file with flowfile_read(), includes every sub-flow (a task
 * with "flow": its tasks join the DAG as "<node>/<task>", run in the sub-flow's
 * directory with the parameters given by "with", and the node stands for the
 * sub-flow's output task), substitutes parameters, expands `code` globs, resolves
 * `after`, gives each task its executor and that executor's options (the task's own
 * "executor", else its file's, else the including flow's, else "local"; options
 * merged from the including flows' objects, its file's and its own, closest winning),
 * and orders the tasks topologically. It reports the first problem
 * (`flow.json:LINE:COL: msg`, `flow.json: task X: msg`, `flow.json: cycle: a -> b -> a`,
 * a sub-flow including itself, a publish path leaving the flow directory...). It
 * never runs anything and never touches a store. The caller owns the flow.
 */
#ifndef SLUICE_FLOW_H
#define SLUICE_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "flowfile.h"
#include "strmap.h"
#include "util.h"

struct task {
    char *name;            /* unique in the flow: "clean", or "prep/clean" in sub-flow prep */
    const char *local;     /* the name in its own flow file (points into name) */
    const char *dir;       /* its flow file's directory: working dir, base of code and files */
    const char *flow_name; /* its flow file's "name": {flow} */
    char *run;             /* the command, parameters substituted */
    size_t *deps;          /* `after`, resolved to indices into flow->tasks, in order */
    const char **dep_vars; /* see flow_dep_var(); NULL when every edge has its default */
    size_t n_deps;
    struct strv code;  /* matched code files, relative to dir, sorted, unique */
    struct strv files; /* external input files, substituted, as written */
    struct strv outputs; /* paths under $OUT it must leave: substituted, normalised, sorted */
    struct kv *env;    /* extra environment, substituted, sorted by key */
    size_t n_env;
    struct kv *params; /* the parameters its fields use, with their values */
    size_t n_params;
    double expire; /* seconds; 0: never */
    char *publish;            /* parameters substituted; {key}/{key:N} remain; or NULL */
    const char *publish_root; /* absolute: published paths must stay inside it */
    const char *path;         /* its flow file, as messages name it */
    const char *executor;     /* "local", "slurm"... */
    const char *exec_options; /* its options for that executor, a JSON object, or NULL */
    /* the small fields last, together: no padding between pointers */
    int cpus;                 /* cores it asks for ("cpus", default 1): not part of its key */
    enum keep_mode keep;
    int group;                /* the sub-flow it belongs to (index into groups), or -1 */
    bool publish_link;        /* publish hard links to the store's objects, not copies */
    bool is_volatile;
    bool after_volatile;      /* some task upstream of it is volatile */
};

/* A sub-flow node. Its tasks, and those of sub-flows nested in it, are
 * tasks[first..end). */
struct group {
    char *name; /* "prep", or "prep/inner" */
    char *path; /* its flow file (absolute) */
    int parent; /* the enclosing group, or -1 */
    size_t output;
    size_t first, end;
};

struct flow {
    char *path;    /* the flow file as given (for messages) */
    char *abspath; /* absolute path */
    char *dir;     /* absolute directory of the flow file */
    char *name;
    struct kv *params; /* the top flow's parameters: name -> text, in file order */
    size_t n_params;
    struct kv *exec_defaults; /* the top flow's executor objects: name -> JSON object */
    size_t n_exec_defaults;
    char *params_json; /* the same as a compact JSON object (overrides applied) */
    struct task *tasks;
    size_t n_tasks;
    size_t *order;   /* indices in topological order (upstream first) */
    size_t *targets; /* what `sluice run` builds by default: the top flow's sinks */
    size_t n_targets;
    struct group *groups;
    size_t n_groups;
    struct strmap strings; /* interned strings tasks point at */
    size_t *by_name;       /* task indices sorted by name (see flow_find) */
    /* Once loaded, every task's name, run, deps and code list live in these three
     * blocks (half a million small allocations for 100,000 tasks, otherwise). */
    size_t *pack_deps;
    char **pack_code;
    char *pack_text;
};

/* Parameter overrides (`name=value`, for the top flow) may be NULL. */
int flow_load(const char *path, const struct strv *overrides, struct flow **out, struct err *e);
/* The same with the top flow file's content given as text (NUL-terminated at
 * text[len]) instead of read from path, which need not exist yet (its directory must):
 * how a flow being edited is checked before it is saved. With allow_empty, a top flow
 * without tasks loads as an empty DAG. Messages are those flow_load() would give for
 * a file holding that text. */
int flow_load_text(const char *path, const char *text, size_t len, bool allow_empty,
                   struct flow **out, struct err *e);
void flow_free(struct flow *f);

/* A task given directly instead of read from a file (replay rebuilds past runs). */
struct task_spec {
    const char *name;
    const char *dir; /* its working directory, relative to the flow's dir */
    const char *run; /* substituted */
    const size_t *deps; /* indices into the spec's tasks */
    const char *const *vars; /* the IN_ variable of each upstream */
    size_t n_deps;
    const struct strv *code, *files; /* as recorded (may be NULL) */
    const struct kv *env, *params;
    size_t n_env, n_params;
    const struct strv *outputs; /* paths under $OUT it must leave (may be NULL) */
    int cpus;                   /* 0: 1 */
};

struct flow_spec {
    const char *path; /* the flow file it stands for (absolute) */
    const char *dir;  /* absolute: tasks' directories are relative to it */
    const char *name;
    const char *params_json;
    const struct task_spec *tasks;
    size_t n_tasks;
    const size_t *targets;
    size_t n_targets;
};

/* Builds a flow from specs (copied): every task keeps its output, publishes nothing,
 * belongs to no sub-flow, runs on the local executor with its cpus. Fails on a cycle. */
int flow_build(const struct flow_spec *spec, struct flow **out, struct err *e);
/* "IN_<name>" with every byte but [A-Za-z0-9_] as '_'. Caller frees. */
char *flow_var_name(const char *upstream);

/* Index of the task with this name, or -1. A sub-flow node's name finds its output. */
long flow_find(const struct flow *f, const char *name);
/* The tasks a name on the command line stands for: the task (or sub-flow node) of that
 * name, else every instance NAME@... of a matrix task (or every task of a matrix
 * sub-flow node's instances), else for "prep/clean" every prep@.../clean, in name order. Returns how many
 * (0: none, *out NULL); caller frees *out. */
size_t flow_find_all(const struct flow *f, const char *name, size_t **out);
/* A mark per task of f: the n tasks given and every task upstream of them (downstream,
 * when `downstream`). Caller frees. */
bool *flow_closure(const struct flow *f, const size_t *tasks, size_t n, bool downstream);
/* Fails with "PATH: no task named "NAME"", adding "(did you mean "T"?)" with the
 * task or sub-flow node whose name is nearest, when one is near enough. */
int flow_no_task(const struct flow *f, const char *name, struct err *e);
/* The variable task t sees its j-th upstream's output in: "IN_<name as written in
 * after>". Returns a flow-owned string, or buf filled. */
#define FLOW_VAR_MAX 160
const char *flow_dep_var(const struct task *t, size_t j, const struct flow *f, char *buf,
                         size_t n);
/* The value text of the top flow's parameter `name`, or NULL. */
const char *flow_param(const struct flow *f, const char *name);
/* A task's `env` (or `params`) as a compact JSON object. Caller frees. */
char *flow_kv_json(const struct kv *kv, size_t n);

#endif
