/* flowedit: a flow file as a document being edited (building flows in the TUI).
 *
 * The document is the file's JSON tree, so member order and keys sluice does not know
 * ("description", "x-*") survive. Edits are values (struct edit); flowedit_apply()
 * applies a batch as one undoable step after checking the result with the validator
 * the CLI uses (flow_load_text() on the text that would be saved): a refused batch
 * changes nothing and its message is the CLI's. An empty flow (no tasks) counts as
 * valid here, since every flow starts that way. flowedit_text() is the document in
 * sluice's layout (2-space indentation, one member per line, arrays of scalars on one
 * line), so a file sluice wrote reads back and writes out byte for byte. Saving is
 * atomic (temp file, fsync, rename); flowedit_disk_changed() tells whether the file
 * changed on disk since it was read or saved. Never prints; the caller owns the
 * document and frees it with flowedit_free().
 */
#ifndef SLUICE_FLOWEDIT_H
#define SLUICE_FLOWEDIT_H

#include <stdbool.h>

#include "util.h"

enum edit_op {
    EDIT_ADD,        /* a: a new task's name (the task starts empty: set its run) */
    EDIT_REMOVE,     /* a: the task; force: also when others come after it (they lose it) */
    EDIT_RENAME,     /* a: the task, b: its new name; every `after` and $IN_a follows */
    EDIT_SET,        /* a: "TASK.FIELD" (or a top-level field), value: as typed */
    EDIT_UNSET,      /* a: "TASK.FIELD" (or a top-level field) */
    EDIT_CONNECT,    /* a: the upstream, b: the task that comes after it */
    EDIT_DISCONNECT, /* a: the upstream, b: the task that comes after it */
    EDIT_PARAM,      /* a: the parameter, value: a JSON scalar, or else a string */
    EDIT_UNPARAM,    /* a: the parameter */
};

/* Values as typed for EDIT_SET: lists (`after`, `code`, `files`) are comma-separated,
 * `env` and `with` as a whole are "K=V; K=V", `env.K` and `with.K` take the text as
 * is, `matrix.VAR` a list "A, B" or "{params.NAME}", `volatile` and `output` take
 * true or false; a field sluice does not know takes
 * JSON when the text parses as JSON, else the text as a string. FIELD may go deeper
 * into an object ("env.K", "x-meta.owner"). */
struct edit {
    enum edit_op op;
    const char *a, *b, *value;
    bool force;
};

struct flowedit;

/* Reads the flow file at path. A file that is not a JSON object gives the CLI's
 * message (`flow.json:3:22: invalid JSON near '}'`); any other problem leaves a
 * document whose flowedit_error() says what is wrong. */
int flowedit_open(const char *path, struct flowedit **out, struct err *e);
/* A new empty flow, {"tasks": {}}, for a file that does not exist yet. */
struct flowedit *flowedit_new(const char *path);
void flowedit_free(struct flowedit *d);

const char *flowedit_path(const struct flowedit *d);
/* The document in sluice's layout, ending with a newline. Owned by d, valid until the
 * next change. */
const char *flowedit_text(struct flowedit *d, size_t *len);
/* The validator's message for the document as it is, or NULL when it is valid. */
const char *flowedit_error(const struct flowedit *d);

/* Applies a batch of edits as one step. Refused (-1, nothing changed, e filled) when
 * an edit cannot apply or when it would make a valid flow invalid. */
int flowedit_apply(struct flowedit *d, const struct edit *edits, size_t n, struct err *e);
/* What flowedit_apply() would say, changing nothing: 0 when the result is valid. */
int flowedit_check(struct flowedit *d, const struct edit *edits, size_t n, struct err *e);
/* Undoes (redoes) the last step and returns its description ("set train.run"), or
 * NULL when there is nothing to undo (redo). The returned text is owned by d. */
const char *flowedit_undo(struct flowedit *d);
const char *flowedit_redo(struct flowedit *d);

/* True when the document differs from what was last read or saved. */
bool flowedit_dirty(const struct flowedit *d);
/* True when the file on disk is no longer what was last read or saved (by content). */
bool flowedit_disk_changed(struct flowedit *d);
/* Writes the document to path (NULL: its own file), atomically. Saving elsewhere makes
 * that file the document's own. Check flowedit_disk_changed() first to warn. */
int flowedit_save(struct flowedit *d, const char *path, struct err *e);

/* Reading, for forms and completion. Names of the tasks and parameters in file order;
 * the fields EDIT_SET knows for a task (NULL: the top level) and those it has, with
 * "env.K" for each variable it sets. */
void flowedit_tasks(const struct flowedit *d, struct strv *out);
void flowedit_params(const struct flowedit *d, struct strv *out);
void flowedit_fields(const struct flowedit *d, const char *task, struct strv *out);
bool flowedit_has_task(const struct flowedit *d, const char *task);
/* A field's value as EDIT_SET takes it ("TASK.FIELD" or a top-level field), or a
 * parameter's as EDIT_PARAM does; NULL when it is not set. Caller frees. */
char *flowedit_get(const struct flowedit *d, const char *path);
char *flowedit_param(const struct flowedit *d, const char *name);

#endif
