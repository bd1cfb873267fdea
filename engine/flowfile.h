/* flowfile: read one flow file (JSON) into a raw, unresolved description.
 *
 * flowfile_read() checks syntax (errors `flow.json:LINE:COL: msg`), field names
 * (unknown ones get a did-you-mean; `x-*` and `description` are allowed) and field
 * types and values (`flow.json: task X: msg`), but resolves nothing: `after` names,
 * parameters, globs, sub-flows and which executor an options object is for (any
 * other object-valued field is kept as one) are flow.c's business. The file is read task by
 * task, so a huge flow never exists as one JSON tree. The caller owns the result.
 */
#ifndef SLUICE_FLOWFILE_H
#define SLUICE_FLOWFILE_H

#include <stdbool.h>

#include "util.h"

struct kv {
    char *key;
    char *value;
};

/* Frees n pairs and the array. */
void kv_free(struct kv *kv, size_t n);

enum keep_mode { KEEP_ALL, KEEP_NONE };

struct rawtask {
    char *name;
    int line, col;   /* where its definition starts in the file */
    char *run;       /* templates, unsubstituted */
    struct strv after;
    struct strv code;
    struct strv files;
    struct strv outputs; /* paths under $OUT the command must leave */
    struct kv *env;
    size_t n_env;
    double expire; /* seconds; 0: never */
    char *publish;
    char *subflow;   /* "flow": the sub-flow file (relative to this file's directory) */
    struct kv *with; /* "with": the sub-flow's parameters (templates) */
    size_t n_with;
    char *executor;       /* "executor", or NULL */
    struct kv *exec_opts; /* other object-valued fields: name -> the object as JSON */
    size_t n_exec_opts;
    char *matrix;  /* "matrix" as compact JSON, or NULL (matrix.c expands it) */
    struct strv after_vars; /* empty, or per `after` entry the IN_ variable matrix.c chose */
    /* the small fields last, together: no padding between pointers */
    enum keep_mode keep;
    int cpus;             /* "cpus": 1..FLOWFILE_MAX_CPUS, or 0 when not given */
    bool is_volatile;
    bool publish_link; /* "publish_mode": "link" */
    bool output;     /* "output": true: this flow's output when used as a sub-flow */
};

#define FLOWFILE_MAX_CPUS 4096

struct cJSON;

struct rawflow {
    char *path; /* as given, for messages */
    char *name; /* NULL when the file has none */
    struct cJSON *params; /* object of scalars and lists of scalars, in file order */
    char *publish_root; /* NULL when not set */
    char *executor;     /* the file's default "executor", or NULL */
    struct kv *exec_opts; /* other object-valued fields: name -> the object as JSON */
    size_t n_exec_opts;
    struct rawtask *tasks;
    size_t n_tasks;
};

/* A bigger flow file is refused before it is read: parsed, it would take ten times that. */
#define FLOWFILE_MAX_BYTES ((size_t)256 << 20)

int flowfile_read(const char *path, struct rawflow **out, struct err *e);
/* The same on text already in memory (NUL-terminated at text[len]) that stands for the
 * file at path; with allow_empty, a flow without tasks is not an error (one being built). */
int flowfile_parse(const char *path, const char *text, size_t len, bool allow_empty,
                   struct rawflow **out, struct err *e);
void flowfile_free(struct rawflow *rf);
/* Releases what a task owns (used when its fields have been moved elsewhere). */
void rawtask_free(struct rawtask *t);

/* Fails with "PATH: [task TASK: ]unknown field "F" (did you mean "G"?)", suggesting the
 * known fields and `also` (may be NULL). */
int flowfile_unknown_field(const char *path, const char *task, const char *field,
                           const char *also, struct err *e);
/* The known field (of a task, or of the flow) or `also` that field is a typo of, or NULL. */
const char *flowfile_near_field(const char *field, bool task, const char *also);

/* Parses "90s", "15m", "24h", "30d": digits (a fraction allowed: "1.5h") and a unit,
 * more than 0. Returns 0, -1 when it is no such duration, or 1 (with *seconds set)
 * when it is longer than FLOWFILE_MAX_DURATION (100 years). */
#define FLOWFILE_MAX_DURATION (100 * 365.25 * 86400)
int flowfile_duration(const char *text, double *seconds);
/* Numbers keep their text. cJSON holds a number as a double (9007199254740993 would be
 * 9007199254740992, 1e400 null), so every number this module reads (params, env, with,
 * executor options, all of a flow file) is a cJSON raw item holding the number exactly
 * as written, which must be a JSON number (01, 1. and .5 are not). Printing such a
 * tree prints the text back; flowfile_is_number() says whether an item is a number. */
bool flowfile_is_number(const struct cJSON *j);
/* Whether s is exactly one JSON number (no space around it). */
bool flowfile_number_literal(const char *s);
/* Parses JSON text (a record sluice wrote, like a run's params) the same way, numbers
 * as raw items with their text; NULL when it is not exactly one JSON value. */
struct cJSON *flowfile_json(const char *text);
/* A parameter's value typed by someone (`-p NAME=VALUE`, the TUI's :param), its text
 * kept exactly: a number when all of it is one JSON number, true or false, a JSON
 * string literal ("\"x\"" is x), anything else the string as typed ("5abc"). */
struct cJSON *flowfile_param_value(const char *text);
/* A list parameter's value: a JSON list of scalars, `[A, B]`, or values separated by
 * commas (`A,B`; spaces after a comma are dropped), each as flowfile_param_value()
 * takes it; NULL when it is none of these or empty. Caller frees. */
struct cJSON *flowfile_list_value(const char *text);
/* The text a scalar JSON value substitutes as (strings raw, numbers as written,
 * true, false), or NULL. Caller frees. */
char *flowfile_scalar_text(const struct cJSON *j);

#endif
