/* actions: every TUI command, defined once.
 *
 * The table gives each action its keys, its name and arguments (what the `:` command
 * line takes, and what completes there), its help text (the `?` overlay is generated
 * from it) and whether the footer shows it. Handlers are in actions.c; nothing else
 * maps keys or commands to behaviour. */
#ifndef SLUICE_ACTIONS_H
#define SLUICE_ACTIONS_H

#include <stdbool.h>

#include "app.h"

#define CTRL(c) ((c) & 0x1f)

/* Where an action's key works: the views (contexts) of the TUI. A key is looked up
 * among the rows of the views active now, the most specific first: a row without
 * C_GRAPH (the history's `d`, the list's `j`) wins over a graph row with the same key. */
#define C_GRAPH 1    /* the graph has the keys (with the details pane open or not) */
#define C_PAST 2     /* the graph shows a past run: its timeline */
#define C_DETAIL 4   /* the details pane is open below the graph */
#define C_LIST 8     /* the task list has the keys */
#define C_PANE 16    /* a text pane: why, log, help, a run diff */
#define C_HISTORY 32 /* the history list */
#define C_FORM 64    /* a form (form.c reads its keys: its rows say what they do) */
#define C_BROKEN 128 /* the flow cannot be used: the error screen */
#define C_SEL (C_GRAPH | C_LIST) /* acts on the selection, from the graph or the list */
#define C_ALL (C_GRAPH | C_LIST | C_PANE | C_HISTORY | C_BROKEN)

/* X(id, name, contexts, key, curses key or 0, arguments on the `:` line, help, in footer)
 * An action given fewer arguments than its usage names takes them from the selection
 * or asks for them (a form, a prompt); a last argument ending in "..." takes the rest
 * of the line as it is. */
#define TUI_ACTIONS(X)                                                                             \
    X(UP, "up", C_GRAPH, 'k', KEY_UP, "", "the nearest task above on screen", false)               \
    X(DOWN, "down", C_GRAPH, 'j', KEY_DOWN, "", "the nearest task below on screen", false)         \
    X(LEFT, "left", C_GRAPH, 'h', KEY_LEFT, "", "the nearest task to the left on screen", false)   \
    X(RIGHT, "right", C_GRAPH, 'l', KEY_RIGHT, "", "the nearest task to the right on screen",      \
      false)                                                                                       \
    X(UPSTREAM, "upstream", C_GRAPH, 'K', 0, "", "follow an edge to an upstream task", false)      \
    X(DOWNSTREAM, "downstream", C_GRAPH, 'J', 0, "", "follow an edge to a downstream task", false) \
    X(SIBLING, "sibling", C_GRAPH, '}', 0, "", "the next task of its layer (cycles)", false)       \
    X(FIRST, "first", C_GRAPH, 'g', KEY_HOME, "", "the first task", false)                         \
    X(LAST, "last", C_GRAPH, 'G', KEY_END, "", "the last task", false)                             \
    X(DETAIL, "detail", C_SEL, '\n', KEY_ENTER, "", "details (on a sub-flow or matrix: expand)",   \
      true)                                                                                        \
    X(LIST, "list", C_GRAPH, '\t', 0, "", "the task list beside the graph, with the keys", true)   \
    X(RUN, "run", C_SEL, 'r', 0, "TASK OPTIONS...",                                                \
      "run it and what it needs (-p NAME=VALUE, quoted as in sh)", true)                         \
    X(RUN_ALL, "run-all", C_SEL, 'R', 0, "OPTIONS...", "run the whole flow (-p NAME=VALUE...)",    \
      true)                                                                                        \
    X(CANCEL, "cancel", C_ALL, 'C', 0, "", "cancel the run started here", false)                   \
    X(INVALIDATE, "invalidate", C_SEL, 'i', 0, "TASK",                                             \
      "invalidate the task (shows what, asks first)", true)                                        \
    X(INVALIDATE_DOWN, "invalidate-downstream", C_SEL, 'I', 0, "TASK",                             \
      "invalidate it and all downstream", false)                                                   \
    X(INVALIDATE_UP, "invalidate-upstream", C_SEL, 'U', 0, "TASK",                                 \
      "invalidate it and all upstream", false)                                                     \
    X(UNDO, "undo", C_SEL | C_BROKEN, 'u', 0, "", "undo the last edit or invalidation", false)     \
    X(REDO, "redo", C_SEL | C_BROKEN, CTRL('r'), 0, "", "redo the edit undone", false)             \
    X(WHY, "why", C_SEL, 'w', 0, "", "why it is in its state, with code diffs", true)              \
    X(LOG, "log", C_SEL, 'L', 0, "", "its output (follows while it runs)", true)                   \
    X(HISTORY, "history", C_SEL, 'H', 0, "", "past runs", true)                                    \
    X(STEP_BACK, "step-back", C_PAST, ',', KEY_LEFT, "", "one event back", true)                   \
    X(STEP_FORWARD, "step-forward", C_PAST, '.', KEY_RIGHT, "", "one event on", true)              \
    X(PLAY, "play", C_PAST, ' ', 0, "", "play or pause its events", true)                          \
    X(SLOWER, "slower", C_PAST, '[', 0, "", "play at half the speed", false)                       \
    X(FASTER, "faster", C_PAST, ']', 0, "", "play at twice the speed", false)                      \
    X(TO_FAILURE, "to-failure", C_PAST, 'F', 0, "", "the moment its first task failed", true)      \
    X(REPLAY, "replay", C_PAST, 'p', 0, "", "replay the past run shown, with the code it had",     \
      true)                                                                                        \
    X(SEARCH, "search", C_GRAPH, '/', 0, "", "find a task by name", true)                          \
    X(JUMP, "jump", C_SEL | C_PANE | C_HISTORY, 't', 0, "STATE",                                   \
      "next failed task (else running, stale, the list's state)", true)                 \
    X(JUMP_BACK, "jump-back", C_SEL | C_PANE | C_HISTORY, 'T', 0, "STATE",                         \
      "the same, backwards", false)                                                                \
    X(NEXT, "next", C_SEL, 'n', 0, "", "the next match", false)                                    \
    X(PREV, "previous", C_SEL, 'N', 0, "", "the previous match", false)                            \
    X(FOCUS, "focus", C_SEL, 'f', 0, "",                                                             \
      "only its ancestors and descendants (on a matrix box: all its instances)", false)             \
    X(EXPAND, "expand", C_SEL, '+', 0, "", "expand the sub-flow or matrix task", false)            \
    X(COLLAPSE, "collapse", C_SEL, '-', 0, "", "fold the sub-flow or matrix task it is in", false) \
    X(DIRECTION, "direction", C_GRAPH, 'd', 0, "", "top-down, left-to-right or automatic", false)  \
    X(PAN_LEFT, "pan-left", C_GRAPH, '<', KEY_SLEFT, "", "scroll the picture left", false)         \
    X(PAN_RIGHT, "pan-right", C_GRAPH, '>', KEY_SRIGHT, "", "scroll the picture right", false)     \
    X(PAN_UP, "pan-up", C_GRAPH, 0, KEY_PPAGE, "", "scroll the picture up", false)                 \
    X(PAN_DOWN, "pan-down", C_GRAPH, 0, KEY_NPAGE, "", "scroll the picture down", false)           \
    X(MOUSE, "mouse", C_ALL, 'm', 0, "", "mouse on or off (a click selects)", false)               \
    X(RELOAD, "reload", C_ALL, CTRL('l'), 0, "", "read the flow and the store again, redraw", false) \
    X(ADD, "add", C_SEL, 'a', 0, "NAME COMMAND...",                                                \
      "add a task (a form asks for what is missing)",                                              \
      false)                                                                                       \
    X(EDIT, "edit", C_SEL, 'e', 0, "TASK", "edit the task's fields in a form", false)              \
    X(CONNECT, "connect", C_SEL, 'c', 0, "UP DOWN", "DOWN comes after UP (c, select DOWN, Enter)", \
      false)                                                                                       \
    X(DISCONNECT, "disconnect", C_SEL, 0, 0, "UP DOWN", "DOWN no longer comes after UP", false)    \
    X(REMOVE, "rm", C_SEL, 'x', 0, "TASK", "remove the task (asks; refused while others need it)", \
      false)                                                                                       \
    X(REMOVE_ANYWAY, "rm!", C_SEL, 0, 0, "TASK", "remove it even so: it leaves their after lists", \
      false)                                                                                       \
    X(RENAME, "rename", C_SEL, 0, 0, "TASK NAME",                                                  \
      "rename it, with every after and $IN_ naming it",                                            \
      false)                                                                                       \
    X(SET, "set", C_SEL | C_BROKEN, 0, 0, "TASK.FIELD VALUE...",                                   \
      "set a field (lists: a, b; env: K=V; K=V)",                                                  \
      false)                                                                                       \
    X(UNSET, "unset", C_SEL | C_BROKEN, 0, 0, "TASK.FIELD", "remove a field", false)               \
    X(PARAM, "param", C_SEL | C_BROKEN, 0, 0, "PARAM VALUE...",                                    \
      "set a parameter (a new one is added)",                                                      \
      false)                                                                                       \
    X(UNPARAM, "unparam", C_SEL | C_BROKEN, 0, 0, "PARAM", "remove a parameter", false)            \
    X(EDITOR, "editor", C_SEL | C_BROKEN, 'E', 0, "",                                              \
      "open its first code file in $EDITOR", false)                                                \
    X(SAVE, "save", C_GRAPH | C_BROKEN, 's', 0, "FILE",                                            \
      "save the flow file (to FILE: save as)", false)                                              \
    X(PAGE_UP, "page-up", C_PANE | C_DETAIL, 0, KEY_PPAGE, "", "scroll the pane up a page", false) \
    X(PAGE_DOWN, "page-down", C_PANE | C_DETAIL, 0, KEY_NPAGE, "", "scroll the pane down a page",  \
      false)                                                                                       \
    X(SCROLL_UP, "scroll-up", C_PANE, 'k', KEY_UP, "", "scroll up a line", true)                   \
    X(SCROLL_DOWN, "scroll-down", C_PANE, 'j', KEY_DOWN, "", "scroll down a line", true)           \
    X(TOP, "top", C_PANE, 'g', KEY_HOME, "", "scroll to the start", false)                         \
    X(END, "end", C_PANE, 'G', KEY_END, "", "scroll to the end, a full page in sight", true)       \
    X(FIND, "find", C_PANE, '/', 0, "", "find text in the pane (as you type)", true)               \
    X(FIND_NEXT, "find-next", C_PANE, 'n', 0, "", "the next line holding it", false)               \
    X(FIND_PREV, "find-previous", C_PANE, 'N', 0, "", "the previous line holding it", false)       \
    X(CLOSE, "close", C_PANE | C_HISTORY | C_DETAIL, 'q', 27, "",                                  \
      "close the pane (a run diff: back to the history)", true)                                    \
    X(NEWER, "newer", C_HISTORY, 'k', KEY_UP, "", "the newer run", false)                          \
    X(OLDER, "older", C_HISTORY, 'j', KEY_DOWN, "", "the older run", false)                        \
    X(NEWER_PAGE, "newer-page", C_HISTORY, 0, KEY_PPAGE, "", "a page of newer runs", false)        \
    X(OLDER_PAGE, "older-page", C_HISTORY, 0, KEY_NPAGE, "", "a page of older runs", false)        \
    X(NEWEST, "newest", C_HISTORY, 'g', KEY_HOME, "", "the newest run", false)                     \
    X(OLDEST, "oldest", C_HISTORY, 'G', KEY_END, "", "the oldest run", false)                      \
    X(SHOW_RUN, "show-run", C_HISTORY, '\n', KEY_ENTER, "", "draw the run on the graph", true)     \
    X(MARK_RUN, "mark-run", C_HISTORY, ' ', 0, "", "mark the run (for d)", true)                   \
    X(DIFF_RUNS, "diff-runs", C_HISTORY, 'd', 0, "",                                               \
      "what differs from the marked run (or the one before)", true)                                \
    X(REPLAY_RUN, "replay-run", C_HISTORY, 'p', 0, "", "replay the run, with the code it had",     \
      true)                                                                                        \
    X(LIST_UP, "list-up", C_LIST, 'k', KEY_UP, "", "the task above in the list", false)            \
    X(LIST_DOWN, "list-down", C_LIST, 'j', KEY_DOWN, "", "the task below in the list", false)      \
    X(LIST_PAGE_UP, "list-page-up", C_LIST, 0, KEY_PPAGE, "", "a page up the list", false)         \
    X(LIST_PAGE_DOWN, "list-page-down", C_LIST, 0, KEY_NPAGE, "", "a page down the list", false)   \
    X(LIST_FIRST, "list-first", C_LIST, 'g', KEY_HOME, "", "the first task in the list", false)    \
    X(LIST_LAST, "list-last", C_LIST, 'G', KEY_END, "", "the last task in the list", false)        \
    X(FILTER, "filter", C_LIST, '/', 0, "TEXT", "show only names with TEXT (as you type)", true)   \
    X(STATE, "state", C_LIST, 's', 0, "STATE",                                                     \
      "show only one state: the next one present (failed first)", true)                            \
    X(STATE_BACK, "state-back", C_LIST, 'S', 0, "", "the previous state filter", false)            \
    X(GRAPH, "graph", C_LIST, '\t', 0, "", "the keys back to the graph (the list stays)", true)    \
    X(CLOSE_LIST, "close-list", C_LIST, 'q', 27, "", "drop the filters; then close the list",      \
      true)                                                                                        \
    X(APPLY, "apply", C_FORM, '\n', 0, "", "apply the form", true)                                 \
    X(CANCEL_FORM, "cancel-form", C_FORM, 27, 0, "", "close the form, changing nothing", true)     \
    X(NEXT_FIELD, "next-field", C_FORM, 0, KEY_DOWN, "", "the next field (also Tab)", true)        \
    X(PREV_FIELD, "previous-field", C_FORM, 0, KEY_UP, "", "the previous field", true)             \
    X(COMPLETE, "complete", C_FORM, '\t', 0, "", "complete the field (names, paths, fields)",      \
      true)                                                                                        \
    X(BACK, "back", C_GRAPH, 27, 0, "", "close the pane, leave focus, back to the present", false) \
    X(COMMAND, "command", C_ALL, ':', 0, "", "type an action with its arguments (Tab completes)",  \
      true)                                                                                        \
    X(HELP, "help", C_ALL, '?', 0, "", "the keys of this view, then every other", true)            \
    X(QUIT, "quit", C_GRAPH | C_BROKEN, 'q', 0, "",                                                \
      "quit (asks if a run started here goes or if unsaved)",                                      \
      true)

enum action {
#define X(id, name, ctx, key, ckey, usage, help, footer) ACT_##id,
    TUI_ACTIONS(X)
#undef X
        ACT_COUNT
};

/* The contexts active now (C_* bits): what the keys reach. */
int actions_context(const struct app *a);
/* Handles a key in the views active now; false when no action there has it. */
bool actions_key(struct app *a, int key);
/* Runs a `:` line: an action's name and its arguments; false when there is no such
 * action. */
bool actions_command(struct app *a, const char *line);
/* The help overlay's lines, none wider than width (descriptions wrap under themselves):
 * the keys of the views active now, then every other; the
 * footer's hints for them (always ending with `? help` and what q does there). */
void actions_help(int ctx, bool ascii, int width, struct strv *lines);
char *actions_footer(int ctx, int width);
/* Every action's name that `:` runs, in table order; an action's usage ("TASK.FIELD
 * VALUE...") and help, or NULL when there is no such action. */
void actions_names(struct strv *out);
const char *actions_usage(const char *name);
const char *actions_describe(const char *name);

#endif
