/* actions: every TUI command, defined once.
 *
 * The table gives each action its keys, its name (what the `:` command line takes),
 * its help text (the `?` overlay is generated from it) and whether the footer shows
 * it. Handlers are in actions.c; nothing else maps keys to behaviour. */
#ifndef SLUICE_ACTIONS_H
#define SLUICE_ACTIONS_H

#include <stdbool.h>

#include "app.h"

/* X(id, name, key, curses key or 0, help, in footer) */
#define TUI_ACTIONS(X)                                                                          \
    X(UP, "up", 'k', KEY_UP, "select an upstream task", false)                                 \
    X(DOWN, "down", 'j', KEY_DOWN, "select a downstream task", false)                          \
    X(LEFT, "left", 'h', KEY_LEFT, "the previous task of its row", false)                      \
    X(RIGHT, "right", 'l', KEY_RIGHT, "the next task of its row", false)                       \
    X(FIRST, "first", 'g', KEY_HOME, "the first task", false)                                  \
    X(LAST, "last", 'G', KEY_END, "the last task", false)                                      \
    X(DETAIL, "detail", '\n', KEY_ENTER, "details (on a sub-flow: expand it)", true)           \
    X(RUN, "run", 'r', 0, "run the selected task and what it needs", true)                     \
    X(RUN_ALL, "run-all", 'R', 0, "run the whole flow", true)                                  \
    X(CANCEL, "cancel", 'c', 0, "cancel the run started here", false)                          \
    X(INVALIDATE, "invalidate", 'i', 0, "invalidate the task (shows what, asks first)", true)  \
    X(INVALIDATE_DOWN, "invalidate-downstream", 'I', 0, "invalidate it and all downstream",    \
      false)                                                                                   \
    X(INVALIDATE_UP, "invalidate-upstream", 'U', 0, "invalidate it and all upstream", false)   \
    X(UNDO, "undo", 'u', 0, "undo the last invalidation", false)                               \
    X(WHY, "why", 'w', 0, "why it is in its state, with code diffs", true)                     \
    X(LOG, "log", 'L', 0, "its output (follows while it runs)", true)                          \
    X(HISTORY, "history", 'H', 0, "past runs: Enter shows one, space marks, d diffs, p replays", \
      true)                                                                                    \
    X(STEP_BACK, "step-back", ',', 0, "a past run: one event back (also Left)", false)         \
    X(STEP_FORWARD, "step-forward", '.', 0, "a past run: one event on (also Right)", false)    \
    X(PLAY, "play", ' ', 0, "a past run: play or pause its events", false)                     \
    X(SLOWER, "slower", '[', 0, "a past run: play at half the speed", false)                   \
    X(FASTER, "faster", ']', 0, "a past run: play at twice the speed", false)                  \
    X(REPLAY, "replay", 'p', 0, "replay the past run shown, with the code it had", false)      \
    X(SEARCH, "search", '/', 0, "find a task by name", true)                                   \
    X(NEXT, "next", 'n', 0, "the next match", false)                                           \
    X(PREV, "previous", 'N', 0, "the previous match", false)                                   \
    X(FOCUS, "focus", 'f', 0, "only its ancestors and descendants", false)                     \
    X(EXPAND, "expand", '+', 0, "expand the sub-flow", false)                                  \
    X(COLLAPSE, "collapse", '-', 0, "collapse the sub-flow the task is in", false)             \
    X(DIRECTION, "direction", 'd', 0, "top-down, left-to-right or automatic", false)           \
    X(PAN_LEFT, "pan-left", '<', KEY_SLEFT, "scroll the picture left", false)                  \
    X(PAN_RIGHT, "pan-right", '>', KEY_SRIGHT, "scroll the picture right", false)              \
    X(PAN_UP, "pan-up", 0, KEY_PPAGE, "scroll the picture up", false)                          \
    X(PAN_DOWN, "pan-down", 0, KEY_NPAGE, "scroll the picture down", false)                    \
    X(MOUSE, "mouse", 'm', 0, "mouse on or off (a click selects)", false)                      \
    X(BACK, "back", 27, 0, "close the pane, leave focus, back to the present", false)          \
    X(COMMAND, "command", ':', 0, "type an action's name", false)                              \
    X(HELP, "help", '?', 0, "this help", true)                                                 \
    X(QUIT, "quit", 'q', 0, "quit (asks while a run started here goes)", true)

enum action {
#define X(id, name, key, ckey, help, footer) ACT_##id,
    TUI_ACTIONS(X)
#undef X
        ACT_COUNT
};

/* Handles a key in the DAG view; false when no action has it. */
bool actions_key(struct app *a, int key);
/* Runs the action named (from the `:` line); false when there is none. */
bool actions_command(struct app *a, const char *name);
/* The help overlay's lines and the footer's hints. */
void actions_help(struct strv *lines);
char *actions_footer(int width);
/* The names of the actions starting with prefix (for completion). Caller frees. */
void actions_complete(const char *prefix, struct strv *out);

#endif
