/* panes: the text the TUI's panes show, built from the engine as plain lines (no
 * curses): a task's details, why it is in its state, its log, the run history, the
 * difference between two runs. */
#ifndef SLUICE_PANES_H
#define SLUICE_PANES_H

#include "app.h"

/* What a kind of pane is, for the code that draws it and dispatches its keys (one row
 * per enum pane, instead of switches over it). */
struct pane_ops {
    int context;       /* where its keys are looked up (actions.h): C_DETAIL, C_PANE, C_HISTORY */
    bool beside_graph; /* half the screen, the graph in sight above it */
    bool diff_colors;  /* lines starting with + - @ in colour */
    bool rows;         /* its lines are rows to select (the history's runs) */
};
/* The ops of a pane; NULL for PANE_NONE. */
const struct pane_ops *pane_ops(enum pane p);

void pane_detail(const struct app *a, struct strv *lines);
void pane_why(const struct app *a, struct strv *lines);
/* The task's output: its live log while it runs (then returns true), else the stored one. */
bool pane_log(const struct app *a, size_t task, struct strv *lines);
/* The runs of the flow, newest first (a->runs gets their ids, in the lines' order). */
void pane_history(struct app *a, struct strv *lines);
/* The first failed task of a run, its exit code and the line of its log that says what
 * went wrong ("train exited 3: ValueError: bad lr"), or NULL. Caller frees. */
char *pane_failure(const struct app *a, int64_t run);
/* What differs between two runs (parameters, code with diffs, files, keys, outputs). */
void pane_diff(const struct app *a, int64_t from, int64_t to, struct strv *lines);

#endif
