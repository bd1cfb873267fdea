/* form: the small forms that add a task and edit one, as data (draw.c draws them).
 *
 * A form is a few labelled one-line text fields, one of them focused, each standing
 * for a field of the flow file. form_key() edits the text (cursor, completion with
 * Tab) and says what a key asked for; form_edits() turns the fields into the edits
 * (struct edit) that adding the task or applying the changes means, so the form is
 * checked and applied like any `:` command. */
#ifndef SLUICE_FORM_H
#define SLUICE_FORM_H

#include <stdbool.h>

#include "complete.h"
#include "flowedit.h"

#define FORM_FIELDS (TASK_FIELD_COUNT + 1) /* the name and every field of the table */

enum form_kind { FORM_ADD, FORM_EDIT };

struct form_field {
    const char *label;
    const char *field; /* the task's field it edits ("run"); "" for the task's name */
    enum complete_kind complete;
    struct sb text;
    char *initial; /* FORM_EDIT: the value it had */
    size_t cursor; /* a byte offset into text */
};

struct form {
    enum form_kind kind;
    char *task; /* FORM_EDIT: the task being edited */
    struct form_field fields[FORM_FIELDS];
    size_t n, focus;
    char *verdict; /* the validator's message for the form as typed, or NULL: valid */
    char *hint;    /* completion candidates to show, or NULL */
};

/* A form adding a task, with its name and upstream filled in (either may be NULL). */
void form_open_add(struct form *f, const char *name, const char *after);
/* A form editing the task's fields (a sub-flow node: its name, flow and with). */
void form_open_edit(struct form *f, const struct flowedit *doc, const char *task);
void form_free(struct form *f);

enum form_result { FORM_KEEP, FORM_CHANGED, FORM_SUBMIT, FORM_CANCEL };
/* Handles a key; dir is the flow's directory (paths complete from there). */
enum form_result form_key(struct form *f, int key, const struct flowedit *doc, const char *dir);

/* The edits the form stands for, in out (at most FORM_FIELDS + 1); strings they point
 * to are kept in keep (free it after). Returns how many. */
size_t form_edits(const struct form *f, struct edit *out, struct strv *keep);
/* The name the task has once the form is applied. */
const char *form_task_name(const struct form *f);

#endif
