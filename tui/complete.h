/* complete: Tab completion for the `:` line and the forms, as plain strings (no curses).
 *
 * Each candidate is the exact text that replaces the word being completed (a task
 * name followed by a space, "train." before a field, a directory ending in '/'), so
 * the caller only splices it in. The `:` line completes action names, then each
 * argument as the action's usage names it: TASK, UP and DOWN take task names,
 * TASK.FIELD a task and one of its fields, PARAM a parameter, FILE a path, STATE a
 * state word (`:jump failed`), and a
 * VALUE after a field or parameter is offered its current value to edit. */
#ifndef SLUICE_COMPLETE_H
#define SLUICE_COMPLETE_H

#include "fields.h"
#include "flowedit.h"

enum complete_kind {
    COMPLETE_NONE,
    COMPLETE_TASKS, /* task names, comma-separated lists allowed */
    COMPLETE_PATHS, /* paths under a directory, comma-separated lists allowed */
    COMPLETE_KEEP,  /* all, none */
    COMPLETE_BOOL,  /* true, false */
};

/* How a value of a field with these values completes (the field table's column). */
enum complete_kind complete_kind_of(enum field_values values);

/* Candidates for the last item of a field's text (after its last comma): *start is
 * where that item begins in text. dir is where paths are relative to. */
void complete_field(enum complete_kind kind, const struct flowedit *doc, const char *dir,
                    const char *text, size_t *start, struct strv *out);
/* Candidates for the last word of a `:` line (doc may be NULL); for the action's name,
 * the names it begins, then those with a part it begins ("run": show-run), and when
 * none does, those holding its letters in order (fuzzy: "ivd"). */
void complete_command(const struct flowedit *doc, const char *line, size_t *start,
                      struct strv *out);
/* The longest prefix every candidate shares. Caller frees. */
char *complete_common(const struct strv *candidates);

#endif
