/* model: what the TUI shows, without drawing it.
 *
 * It holds the open workspace and each task's state from status (the plan a run
 * would make), overlaid with the live state of a run in progress: this TUI's own or
 * one started elsewhere on the same store, read from the `events` table whenever
 * SQLite's data_version says another connection committed. It builds the graph view
 * (collapsed sub-flows, focus) and its layout, and keeps the selection. What it shows
 * is the flow file as edited here (m->doc): edits change the picture and the states at
 * once, before they are saved. No curses here: draw.c turns a model into a screen,
 * actions.c changes it.
 */
#ifndef SLUICE_MODEL_H
#define SLUICE_MODEL_H

#include <stdbool.h>
#include <sys/types.h>

#include "flowedit.h"
#include "graphview.h"
#include "layout.h"
#include "status.h"
#include "workspace.h"

/* A task's state in the run being watched (what the `events` table says). */
enum live {
    LIVE_NONE,
    LIVE_QUEUED,
    LIVE_RUNNING,
    LIVE_RAN,
    LIVE_HIT,
    LIVE_CUTOFF,
    LIVE_FAILED,
    LIVE_CANCELLED,
    LIVE_BLOCKED,
    LIVE_FETCHING, /* a remote hit whose bytes are being downloaded */
};

struct model {
    char *flow_path;
    struct flowedit *doc; /* the flow file being edited; NULL when it cannot be read */
    bool missing;         /* the flow file does not exist (yet) */
    bool disk_conflict;   /* it changed on disk while edits here were unsaved */
    struct workspace *ws;
    struct task_status *st; /* per task, from status_compute() */
    char *error;            /* why the flow could not be opened (then ws is NULL) */

    /* The watched run: this TUI's or another process's, while it goes and after. */
    int64_t run_id;
    bool run_going;
    int64_t events_seen;
    enum live *live;   /* per task */
    double *started;   /* per task: when it started running */
    double *duration;  /* per task: how long it ran (< 0: unknown) */
    char **live_log;   /* per task: its log file while it runs */
    char **live_job;   /* per task: its job in a scheduler's queue ("slurm job 42"), or NULL */
    char **live_wait;  /* per task: "waiting for run 3 (pid 42), which is computing it", or NULL */
    double *submitted; /* per task: when its executor queued it */
    int64_t data_version;
    int64_t run_ended; /* a watched run that just ended (the app reports it, then clears it) */

    /* The picture. */
    bool *collapsed; /* per sub-flow */
    struct strmap open_matrix; /* matrix tasks showing their instances (see group.h) */
    long focus;      /* a task index, or -1 */
    size_t *focus_set; /* the focus's tasks: focus, or every instance of a matrix box */
    size_t n_focus;
    bool dir_auto;
    enum layout_dir dir;
    struct graphview view;
    struct layout layout;
    char **labels; /* per view node */
    long sel;      /* selected view node, or -1 */
    bool *marked;  /* per view node: in an invalidation preview */

    /* Viewing a past run instead of the present (0: the present): its events, and the
     * moment shown, as how many of them had happened (n_past: the run as it ended). */
    int64_t past_run;
    struct past_event *past;
    size_t n_past, cap_past, past_at;
    enum live *past_live; /* per task: its state at that moment */
    bool *past_in_run;    /* per task: the run has it at all */

    bool ascii;
    int term_w, term_h;
    /* Told how far a long reload got, and asked whether to stop it (may be NULL); a
     * stopped reload leaves the model as a broken flow's, saying "stopped". */
    const struct status_watch *watch;
    /* How often the flow was re-read and the graph laid out (the script's `stats`). */
    unsigned n_reloads, n_layouts;
};

/* Opens the flow (a broken flow gives a model showing its error). */
void model_open(struct model *m, const char *flow_path, bool ascii, int term_w, int term_h,
                const struct status_watch *watch);
void model_close(struct model *m);
/* Re-reads the flow and recomputes every state (after an edit or a run). Keeps the
 * selection on the same task when it still exists. */
void model_reload(struct model *m);
/* Edits the flow (one undoable step; see flowedit_apply()) and recomputes everything. */
int model_edit(struct model *m, const struct edit *edits, size_t n, struct err *e);
/* Undoes (redoes) the last edit; returns what it was, or NULL when there was none. */
const char *model_undo(struct model *m);
const char *model_redo(struct model *m);
/* Saves the flow file (to path: save as, and edit that file from then on). */
int model_save(struct model *m, const char *path, struct err *e);
/* Creates the missing flow file as an empty flow. */
int model_create(struct model *m, struct err *e);

/* Reads what other connections committed (new runs, events). True when something
 * changed on screen. */
bool model_poll(struct model *m);
/* Shows only these tasks' ancestors and descendants (n 0: everything); the graph is
 * laid out again by the caller (model_relayout()). */
void model_set_focus(struct model *m, const size_t *tasks, size_t n);
/* Rebuilds the graph view and its layout (after collapsing, focusing, a resize). */
void model_relayout(struct model *m);

/* One event of a past run: a task's state changing (task -1: the run itself). */
struct past_event {
    long task;
    enum live state; /* LIVE_NONE for events that change no task's state */
    double t;
};

/* Shows a past run on the graph instead of the present, as it ended; returns how many
 * tasks it decided. (model_reload() or model_leave_past() return to the present.) */
int model_show_run(struct model *m, int64_t run);
/* Moves the moment shown to `at` events into the run (clamped to the run's events). */
void model_seek(struct model *m, long at);
void model_leave_past(struct model *m);
/* "event 5/23 +1.2s: train ran" for the moment shown. */
void model_past_label(const struct model *m, char *buf, size_t n);

/* The word for task t's state as shown now ("running", "cached"...). */
const char *model_task_state(const struct model *m, size_t t);
/* The word for view node i's state as shown now. */
const char *model_state(const struct model *m, size_t i);
/* The task a view node stands for (a collapsed sub-flow: its output task; a collapsed
 * matrix task: its worst instance). */
size_t model_task(const struct model *m, size_t i);
/* A short note for view node i: elapsed or run time, its job number while a scheduler
 * queues it ("#42"), or the output size. */
void model_note(const struct model *m, size_t i, char *buf, size_t n);
/* Counts of the tasks shown per state word, as "3 cached  1 stale  2 pending" (a
 * collapsed sub-flow or matrix task counts each of its tasks). */
char *model_counts(const struct model *m);
/* The k-th state word in that order (NULL past the last); how many tasks shown are in
 * it (each of a collapsed sub-flow's or matrix task's). */
const char *model_state_word(size_t k);
size_t model_count_state(const struct model *m, const char *state);

/* Moves the selection along the picture: to an upstream (dv < 0) or downstream
 * (dv > 0) neighbour, or to the previous/next node of the same layer (du); false
 * when there is none that way. */
bool model_move(struct model *m, int dv, int du);
/* Moves the selection to the nearest box in screen direction (dx, dy) (see
 * layout_step()); false when there is none that way. */
bool model_step(struct model *m, int dx, int dy);
/* Moves the selection to the next node of its layer, from the last back to the first. */
void model_sibling(struct model *m);
/* "train · layer 3/5": where the selection is ("" with none). */
void model_position(const struct model *m, char *buf, size_t n);
/* Selects the view node showing this task (expanding nothing). */
void model_select_task(struct model *m, size_t task);
/* Selects the task (or sub-flow node) with this name, when it is shown. */
void model_select_name(struct model *m, const char *name);
/* The name of view node i: its task's, its collapsed sub-flow's, or its collapsed
 * matrix task's base name. */
const char *model_node_name(const struct model *m, size_t i);
/* The next (dir 1) or previous (-1) node whose name contains text; -1 if none. */
long model_search(const struct model *m, const char *text, int dir);
/* Whether node i's name contains text (ignoring case; never for ""); how many do. */
bool model_matches(const struct model *m, size_t i, const char *text);
size_t model_count_matches(const struct model *m, const char *text);
/* The next (dir 1) or previous (-1) node after the selection, cycling, in this state
 * word ("failed"); -1 if none. count: how many nodes are in it; rank: the found one's
 * place among them, from 1, in view order. */
long model_find_state(const struct model *m, const char *state, int dir, size_t *count,
                      size_t *rank);

#endif
