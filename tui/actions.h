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

/* X(id, name, key, curses key or 0, arguments on the `:` line, help, in footer)
 * An action given fewer arguments than its usage names takes them from the selection
 * or asks for them (a form, a prompt); a last argument ending in "..." takes the rest
 * of the line as it is. */
#define TUI_ACTIONS(X)                                                                             \
    X(UP, "up", 'k', KEY_UP, "", "the nearest task above on screen", false)                        \
    X(DOWN, "down", 'j', KEY_DOWN, "", "the nearest task below on screen", false)                  \
    X(LEFT, "left", 'h', KEY_LEFT, "", "the nearest task to the left on screen", false)            \
    X(RIGHT, "right", 'l', KEY_RIGHT, "", "the nearest task to the right on screen", false)        \
    X(UPSTREAM, "upstream", 'K', 0, "", "follow an edge to an upstream task", false)               \
    X(DOWNSTREAM, "downstream", 'J', 0, "", "follow an edge to a downstream task", false)          \
    X(SIBLING, "sibling", '}', 0, "", "the next task of its layer (cycles)", false)                \
    X(FIRST, "first", 'g', KEY_HOME, "", "the first task", false)                                  \
    X(LAST, "last", 'G', KEY_END, "", "the last task", false)                                      \
    X(DETAIL, "detail", '\n', KEY_ENTER, "", "details (on a sub-flow: expand it)", true)           \
    X(RUN, "run", 'r', 0, "", "run the selected task and what it needs", true)                     \
    X(RUN_ALL, "run-all", 'R', 0, "", "run the whole flow", true)                                  \
    X(CANCEL, "cancel", 'C', 0, "", "cancel the run started here", false)                          \
    X(INVALIDATE, "invalidate", 'i', 0, "", "invalidate the task (shows what, asks first)", true)  \
    X(INVALIDATE_DOWN, "invalidate-downstream", 'I', 0, "", "invalidate it and all downstream",    \
      false)                                                                                       \
    X(INVALIDATE_UP, "invalidate-upstream", 'U', 0, "", "invalidate it and all upstream", false)   \
    X(UNDO, "undo", 'u', 0, "", "undo the last edit or invalidation", false)                       \
    X(REDO, "redo", CTRL('r'), 0, "", "redo the edit undone", false)                               \
    X(WHY, "why", 'w', 0, "", "why it is in its state, with code diffs", true)                     \
    X(LOG, "log", 'L', 0, "", "its output (follows while it runs)", true)                          \
    X(HISTORY, "history", 'H', 0, "", "past runs: Enter shows one, space marks, d diffs, p replays", \
      true)                                                                                        \
    X(STEP_BACK, "step-back", ',', 0, "", "a past run: one event back (also Left)", false)         \
    X(STEP_FORWARD, "step-forward", '.', 0, "", "a past run: one event on (also Right)", false)    \
    X(PLAY, "play", ' ', 0, "", "a past run: play or pause its events", false)                     \
    X(SLOWER, "slower", '[', 0, "", "a past run: play at half the speed", false)                   \
    X(FASTER, "faster", ']', 0, "", "a past run: play at twice the speed", false)                  \
    X(REPLAY, "replay", 'p', 0, "", "replay the past run shown, with the code it had", false)      \
    X(SEARCH, "search", '/', 0, "", "find a task by name", true)                                   \
    X(NEXT, "next", 'n', 0, "", "the next match", false)                                           \
    X(PREV, "previous", 'N', 0, "", "the previous match", false)                                   \
    X(FOCUS, "focus", 'f', 0, "", "only its ancestors and descendants", false)                     \
    X(EXPAND, "expand", '+', 0, "", "expand the sub-flow or matrix task", false)                   \
    X(COLLAPSE, "collapse", '-', 0, "", "collapse the sub-flow or matrix task it is in", false)    \
    X(DIRECTION, "direction", 'd', 0, "", "top-down, left-to-right or automatic", false)           \
    X(PAN_LEFT, "pan-left", '<', KEY_SLEFT, "", "scroll the picture left", false)                  \
    X(PAN_RIGHT, "pan-right", '>', KEY_SRIGHT, "", "scroll the picture right", false)              \
    X(PAN_UP, "pan-up", 0, KEY_PPAGE, "", "scroll the picture up", false)                          \
    X(PAN_DOWN, "pan-down", 0, KEY_NPAGE, "", "scroll the picture down", false)                    \
    X(MOUSE, "mouse", 'm', 0, "", "mouse on or off (a click selects)", false)                      \
    X(ADD, "add", 'a', 0, "NAME COMMAND...", "add a task (a form asks for what is missing)",       \
      false)                                                                                       \
    X(EDIT, "edit", 'e', 0, "TASK", "edit the task's fields in a form", false)                     \
    X(CONNECT, "connect", 'c', 0, "UP DOWN", "DOWN comes after UP (c, select DOWN, Enter)", false) \
    X(DISCONNECT, "disconnect", 0, 0, "UP DOWN", "DOWN no longer comes after UP", false)           \
    X(REMOVE, "rm", 'x', 0, "TASK", "remove the task (asks; refused while others need it)", false) \
    X(REMOVE_ANYWAY, "rm!", 0, 0, "TASK", "remove it even so: it leaves their after lists", false) \
    X(RENAME, "rename", 0, 0, "TASK NAME", "rename it, with every after and $IN_ naming it",       \
      false)                                                                                       \
    X(SET, "set", 0, 0, "TASK.FIELD VALUE...", "set a field (lists: a, b; env: K=V; K=V)", false)  \
    X(UNSET, "unset", 0, 0, "TASK.FIELD", "remove a field", false)                                 \
    X(PARAM, "param", 0, 0, "PARAM VALUE...", "set a parameter (a new one is added)", false)       \
    X(UNPARAM, "unparam", 0, 0, "PARAM", "remove a parameter", false)                              \
    X(EDITOR, "editor", 'E', 0, "", "open its first code file in $EDITOR", false)                  \
    X(SAVE, "save", 's', 0, "FILE", "save the flow file (to FILE: save as)", false)                \
    X(BACK, "back", 27, 0, "", "close the pane, leave focus, back to the present", false)          \
    X(COMMAND, "command", ':', 0, "", "type an action with its arguments (Tab completes)", false)  \
    X(HELP, "help", '?', 0, "", "this help", true)                                                 \
    X(QUIT, "quit", 'q', 0, "", "quit (asks if a run started here goes or if unsaved)", true)

enum action {
#define X(id, name, key, ckey, usage, help, footer) ACT_##id,
    TUI_ACTIONS(X)
#undef X
        ACT_COUNT
};

/* Handles a key in the DAG view; false when no action has it. */
bool actions_key(struct app *a, int key);
/* Runs a `:` line: an action's name and its arguments; false when there is no such
 * action. */
bool actions_command(struct app *a, const char *line);
/* The help overlay's lines and the footer's hints. */
void actions_help(struct strv *lines);
char *actions_footer(int width);
/* Every action's name, in table order; an action's usage ("TASK.FIELD VALUE..."), or
 * NULL when there is no such action. */
void actions_names(struct strv *out);
const char *actions_usage(const char *name);

#endif
