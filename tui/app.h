/* app: the TUI's state beyond the model (panes, prompts, the viewport) and its loop.
 *
 * tui_main() opens the curses screen (or, in script mode, a headless one that a key
 * script drives and dumps) and loops: wait for a key, a file change, a database commit,
 * a tick or Ctrl-C; let the model catch up; redraw once if anything changed. */
#ifndef SLUICE_APP_H
#define SLUICE_APP_H

#include <signal.h>
#include <stdbool.h>

#include "child.h"
#include "status.h"
#include "form.h"
#include "invalidate.h"
#include "model.h"
#include "tasklist.h"
#include "watch.h"

enum pane { PANE_NONE, PANE_DETAIL, PANE_WHY, PANE_LOG, PANE_HISTORY, PANE_DIFF, PANE_HELP };
enum prompt {
    PROMPT_NONE,
    PROMPT_SEARCH,  /* `/` on the graph: selects the first match as it is typed */
    PROMPT_COMMAND, /* `:` */
    PROMPT_CONFIRM, /* a yes/no question */
    PROMPT_FILTER,  /* `/` in the task list: its name filter */
    PROMPT_FIND,    /* `/` in a text pane: scrolls to the first line with the text */
};

/* What a key asks the loop to redo, as htop's handlers return it: bits, each costlier
 * than the one before; app_key() does the least that covers them, once. */
enum react {
    REACT_NONE = 0,
    REACT_DRAW = 1,   /* draw the frame again */
    REACT_PANE = 2,   /* what the details pane says changed: rebuild it (and draw) */
    REACT_LAYOUT = 4, /* the graph's shape changed: lay it out, keep the selected task */
    REACT_RELOAD = 8, /* the store or the flow changed: re-read both (all of the above) */
};

struct script;

struct app {
    struct model m;
    struct child child;
    struct watch watch;
    bool watching;
    double reload_at; /* a watched file changed: reload then (edits come in bursts) */

    enum pane pane;
    struct strv lines; /* the pane's text */
    char *pane_title;
    int pane_scroll;
    bool pane_follow; /* the log of a running task: stay at its end */
    size_t log_task;

    struct form *form;  /* the form being filled in, or NULL */
    bool form_unchecked; /* typed into since the validator last looked at it */
    char *connect_from; /* `c` was pressed on this task: Enter connects the selection */

    enum prompt prompt;
    struct sb input;
    char *search;
    long search_from;   /* the selection when `/` was pressed (Esc goes back to it) */
    bool search_shown;  /* the boxes matching the search are highlighted (until Esc) */
    char *pane_search;  /* the text `/` found in the pane (n, N find it again) */
    int find_from;      /* the pane's scroll when `/` was pressed there */
    struct strv cands;  /* the `:` line: candidates for the word being typed */
    size_t cand_start;  /* where that word begins */
    long cand_sel;      /* the candidate Tab put in (-1: none yet) */
    char *question; /* the confirmation's question */
    void (*on_yes)(struct app *a);
    size_t *pending; /* the tasks a confirmation is about */
    size_t n_pending;
    char *pending_name; /* the task (or the run's target) a question is about */
    struct strv run_params; /* the next run's one-off parameters (`:run -p NAME=VALUE`) */
    /* What u undoes, the last first: 0 for an edit, else an invalidation's id. */
    int64_t *undo_marks;
    size_t n_marks, cap_marks;

    struct tasklist list; /* beside the graph, when open */

    char *message; /* shown on the last line until the next key */
    int scroll_x, scroll_y;
    long followed; /* the selection the scroll position last followed */
    struct layout_box followed_box; /* where its box was then */
    int followed_w, followed_h;     /* and the size of the graph's window */
    bool mouse;
    bool quit;
    bool dirty;
    unsigned react; /* REACT_* asked for by the handlers of the key being handled */
    unsigned spinner;
    unsigned n_details; /* how often a details pane was built (the script's `stats`) */

    int64_t *runs; /* history: run ids, newest first */
    size_t n_runs;
    long run_sel;
    int64_t run_marked; /* history: the run marked for a diff (0: none) */
    bool diff_from_history; /* the diff pane was opened from the history: Esc goes back */

    struct script *script;                /* the key script driving it, or NULL */
    volatile sig_atomic_t *signalled;     /* see tui_opts */
    struct status_watch load_watch;       /* a long reload: load_step() */
    double step_drawn;                    /* when load_step() last drew */

    bool playing; /* a past run's events play */
    int speed;    /* how many times faster than they happened */
    double next_step_at;
};

struct tui_opts {
    const char *flow_path;
    bool ascii;
    bool mouse;
    const char *script; /* a key script: run headless and print screen dumps */
    /* The signal a handler caught, or 0: SIGINT (Ctrl-C) acts as app_interrupt(),
     * others (SIGTERM, SIGHUP) quit, stopping a run started here. May be NULL. */
    volatile sig_atomic_t *signalled;
};

int tui_main(const struct tui_opts *o);

/* Ctrl-C: dismisses an open prompt, question or form, else does what `q` does (asks
 * while a run started here goes or edits are unsaved, else quits). */
void app_interrupt(struct app *a);

/* For script.c: feed a key, let time pass, ask whether everything has settled. */
void app_key(struct app *a, int key);
void app_tick(struct app *a);
bool app_idle(struct app *a);

/* Does what r asks (enum react): re-reads, lays out, rebuilds the details pane, and
 * marks the frame to be drawn. */
void app_react(struct app *a, unsigned r);

/* Sets the status-bar message (printf-style). */
void app_message(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens a pane with the given title and lines (taken over). */
void app_pane(struct app *a, enum pane p, const char *title, struct strv *lines);
void app_close_pane(struct app *a);
/* Scrolls the pane to its end, keeping a full page of it in sight; by delta lines
 * (clamped to that end). */
void app_scroll_end(struct app *a);
void app_scroll(struct app *a, int delta);
/* Opens the history list with run k (0: the newest) selected; moves its selection. */
void app_open_history(struct app *a, long k);
void app_history_move(struct app *a, long delta);
/* Re-reads the flow and states (and the watched files). */
void app_reload(struct app *a);
/* Shows a past run on the graph, as it ended; replays it; diffs two runs in a pane. */
void app_show_run(struct app *a, int64_t run);
void app_replay(struct app *a, int64_t run);
void app_diff(struct app *a, int64_t from, int64_t to);
/* Asks a yes/no question on the last line; on_yes runs on y. */
void app_ask(struct app *a, void (*on_yes)(struct app *a), const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Applies edits to the flow (one step u undoes) and selects the task named select (may
 * be NULL); false after showing why they were refused. */
bool app_edit(struct app *a, const struct edit *edits, size_t n, const char *select);
/* Remembers what u undoes next: 0 an edit, else an invalidation's id. */
void app_push_undo(struct app *a, int64_t mark);
/* The next (dir 1) or previous (-1) line of the pane after line `from` holding text
 * (ignoring case), cycling; scrolls to it. False when no line does. */
bool app_pane_find(struct app *a, const char *text, int from, int dir);
/* Recomputes the `:` line's candidates (after it changed). */
void app_candidates(struct app *a);
/* Opens a form (taken over). */
void app_form(struct app *a, struct form *f);

#endif
