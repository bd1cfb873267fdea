/* flow: load a flow file (JSON) into a validated, fully substituted DAG.
 *
 * flow_load() parses with cJSON, rejects anything it does not understand (unknown
 * fields with a did-you-mean, wrong types, unknown `after` names, cycles printed as
 * `a -> b -> a`, unknown {params.x}, code patterns matching nothing), substitutes
 * parameters and expands `code` globs, and orders the tasks topologically. It never
 * runs anything and never touches the store. Errors read `flow.json:LINE:COL: msg`
 * (syntax) or `flow.json: task X: msg` (semantics). The caller owns the flow and
 * releases it with flow_free().
 */
#ifndef SLUICE_FLOW_H
#define SLUICE_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct kv {
    char *key;
    char *value;
};

struct task {
    char *name;          /* unique within the flow */
    char *in_var;        /* "IN_<name>" with non-[A-Za-z0-9_] bytes as '_' */
    char *run;           /* the command, parameters substituted */
    size_t *deps;        /* `after`, resolved to indices into flow->tasks, in order */
    size_t n_deps;
    struct strv code;    /* matched code files, relative to the flow dir, sorted, unique */
    struct strv files;   /* external input files, substituted, as written */
    struct kv *env;      /* extra environment, substituted, sorted by key */
    size_t n_env;
    struct strv params;  /* names of the parameters this task's fields reference */
};

struct flow {
    char *path;    /* the flow file as given (for messages) */
    char *abspath; /* absolute path */
    char *dir;     /* absolute directory of the flow file: tasks run here */
    char *name;
    struct kv *params; /* name -> substitution text, in file order */
    size_t n_params;
    char *params_json; /* the effective parameters as a compact JSON object */
    struct task *tasks;
    size_t n_tasks;
    size_t *order; /* indices in topological order (upstream first) */
};

/* Parameter overrides (`name=value`), applied before substitution; unknown names are
 * an error. May be NULL. */
int flow_load(const char *path, const struct strv *overrides, struct flow **out, struct err *e);
void flow_free(struct flow *f);

/* Index of the task with this name, or -1. */
long flow_find(const struct flow *f, const char *name);
/* Tasks nobody depends on, in file order. Caller frees the array. */
size_t *flow_sinks(const struct flow *f, size_t *n);
/* The task's `env` as a compact JSON object (sorted keys). Caller frees. */
char *flow_env_json(const struct task *t);
/* The value text of parameter `name`, or NULL. */
const char *flow_param(const struct flow *f, const char *name);

#endif
