/* actions: the table's handlers. Each does one thing to the app and marks it dirty. */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions.h"
#include "group.h"
#include "draw.h"
#include "look.h"
#include "panes.h"
#include "words.h"

/* Every handler takes the `:` line's arguments (none from a key); most ignore them. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
/* A handler returns what the loop must redo (REACT_* bits, app.h). */
typedef unsigned (*handler)(struct app *a, const struct strv *args);

static bool have_selection(struct app *a)
{
    if (a->m.ws && a->m.sel >= 0)
        return true;
    app_message(a, a->m.ws ? "no task selected" : "the flow has an error: fix it first");
    return false;
}

static size_t selected_task(const struct app *a)
{
    return model_task(&a->m, (size_t)a->m.sel);
}

/* --- moving ---------------------------------------------------------------------------------- */

static void pan(struct app *a, int dx, int dy)
{
    a->scroll_x += dx;
    a->scroll_y += dy;
}

/* Moves to the nearest box in the key's screen direction; with nothing further that
 * way, pans the picture instead. */
static void step(struct app *a, int dx, int dy)
{
    if (!model_step(&a->m, dx, dy))
        pan(a, dx * 10, dy * 5);
}

static unsigned act_UP(struct app *a, const struct strv *args)
{
    step(a, 0, -1);
    return REACT_DRAW;
}

static unsigned act_DOWN(struct app *a, const struct strv *args)
{
    step(a, 0, 1);
    return REACT_DRAW;
}

static unsigned act_LEFT(struct app *a, const struct strv *args)
{
    step(a, -1, 0);
    return REACT_DRAW;
}

static unsigned act_RIGHT(struct app *a, const struct strv *args)
{
    step(a, 1, 0);
    return REACT_DRAW;
}

static unsigned act_UPSTREAM(struct app *a, const struct strv *args)
{
    if (!model_move(&a->m, -1, 0))
        app_message(a, "no upstream task");
    return REACT_DRAW;
}

static unsigned act_DOWNSTREAM(struct app *a, const struct strv *args)
{
    if (!model_move(&a->m, 1, 0))
        app_message(a, "no downstream task");
    return REACT_DRAW;
}

static unsigned act_SIBLING(struct app *a, const struct strv *args)
{
    model_sibling(&a->m);
    return REACT_DRAW;
}

static unsigned act_FIRST(struct app *a, const struct strv *args)
{
    if (a->m.view.n)
        a->m.sel = 0;
    return REACT_DRAW;
}

static unsigned act_LAST(struct app *a, const struct strv *args)
{
    if (a->m.view.n)
        a->m.sel = (long)a->m.view.n - 1;
    return REACT_DRAW;
}

/* The state t looks for: STATE when given, else the list's state filter, else the
 * first of failed, running, stale that some task is in (NULL: none is). */
static const char *jump_state(const struct app *a, const struct strv *args)
{
    if (args->n)
        return args->v[0];
    if (a->list.open && a->list.state)
        return a->list.state;
    static const char *const wanted[] = {"failed", "running", "stale"};
    for (size_t k = 0; k < 3; k++)
        if (model_count_state(&a->m, wanted[k]))
            return wanted[k];
    return NULL;
}

static void jump_to_state(struct app *a, const struct strv *args, int dir)
{
    const char *state = a->m.ws ? jump_state(a, args) : NULL;
    if (!state) {
        app_message(a, "no task is failed, running or stale");
        return;
    }
    size_t count, rank;
    long i = model_find_state(&a->m, state, dir, &count, &rank);
    if (i < 0) {
        app_message(a, "no task is %s", state);
        return;
    }
    a->m.sel = i;
    if (a->pane != PANE_NONE && a->pane != PANE_DETAIL)
        app_close_pane(a); /* from a pane or the history: to the graph, to show it */
    app_message(a, "%s: %zu of %zu %s (%s: the %s one)", model_node_name(&a->m, (size_t)i),
                rank, count, state, dir > 0 ? "t" : "T", dir > 0 ? "next" : "previous");
}

static unsigned act_JUMP(struct app *a, const struct strv *args)
{
    jump_to_state(a, args, 1);
    return REACT_DRAW;
}

static unsigned act_JUMP_BACK(struct app *a, const struct strv *args)
{
    jump_to_state(a, args, -1);
    return REACT_DRAW;
}

static unsigned act_LIST(struct app *a, const struct strv *args)
{
    if (!a->m.ws)
        return REACT_DRAW;
    a->list.focused = !a->list.open || !a->list.focused;
    a->list.open = true;
    return REACT_DRAW;
}

static unsigned act_PAN_LEFT(struct app *a, const struct strv *args)
{
    pan(a, -20, 0);
    return REACT_DRAW;
}

static unsigned act_PAN_RIGHT(struct app *a, const struct strv *args)
{
    pan(a, 20, 0);
    return REACT_DRAW;
}

static unsigned act_PAN_UP(struct app *a, const struct strv *args)
{
    pan(a, 0, -10);
    return REACT_DRAW;
}

static unsigned act_PAN_DOWN(struct app *a, const struct strv *args)
{
    pan(a, 0, 10);
    return REACT_DRAW;
}

/* --- panes ------------------------------------------------------------------------------------ */

/* The graph is laid out again by the loop (REACT_LAYOUT), the selected task kept. */
static unsigned set_collapsed(struct app *a, int group, bool collapsed)
{
    a->m.collapsed[group] = collapsed;
    return REACT_LAYOUT;
}

static unsigned act_DETAIL(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return REACT_DRAW;
    const struct view_node *v = &a->m.view.nodes[a->m.sel];
    if (group_expand(&a->m, (size_t)a->m.sel))
        return REACT_DRAW;
    if (v->task < 0)
        return set_collapsed(a, v->group, false);
    struct strv lines = {0};
    pane_detail(a, &lines);
    app_pane(a, PANE_DETAIL, "details", &lines);
    return REACT_DRAW;
}

static unsigned act_WHY(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return REACT_DRAW;
    struct strv lines = {0};
    pane_why(a, &lines);
    app_pane(a, PANE_WHY, "why", &lines);
    return REACT_DRAW;
}

static unsigned act_LOG(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return REACT_DRAW;
    struct strv lines = {0};
    a->log_task = selected_task(a);
    bool live = pane_log(a, a->log_task, &lines);
    char *title = xasprintf("log of %s%s", a->m.ws->flow->tasks[a->log_task].name,
                            live ? " (running: following)" : "");
    app_pane(a, PANE_LOG, title, &lines);
    free(title);
    a->pane_follow = live;
    app_scroll_end(a);
    return REACT_DRAW;
}

static unsigned act_HISTORY(struct app *a, const struct strv *args)
{
    if (a->m.ws)
        app_open_history(a, 0);
    return REACT_DRAW;
}

static unsigned act_HELP(struct app *a, const struct strv *args)
{
    struct strv lines = {0};
    actions_help(actions_context(a), a->m.ascii, COLS, &lines);
    app_pane(a, PANE_HELP, "keys (j/k scroll, Esc closes)", &lines);
    return REACT_DRAW;
}

static unsigned act_BACK(struct app *a, const struct strv *args)
{
    a->search_shown = false; /* n and N still find */
    if (a->pane != PANE_NONE) {
        app_close_pane(a);
    } else if (a->m.past_run) {
        model_leave_past(&a->m);
        a->playing = false;
        app_message(a, "back to the present");
    } else if (a->m.focus >= 0) {
        model_set_focus(&a->m, NULL, 0);
        return REACT_LAYOUT;
    }
    for (size_t i = 0; i < a->m.view.n; i++)
        a->m.marked[i] = false;
    return REACT_DRAW;
}

/* --- past runs ------------------------------------------------------------------------------- */

static bool showing_past(struct app *a)
{
    if (a->m.past_run)
        return true;
    app_message(a, "no past run shown: H lists them, Enter shows one");
    return false;
}

static unsigned step_time(struct app *a, long delta)
{
    if (!showing_past(a))
        return REACT_DRAW;
    a->playing = false;
    model_seek(&a->m, (long)a->m.past_at + delta);
    return REACT_PANE; /* the details say the state at the moment shown */
}

static unsigned act_STEP_BACK(struct app *a, const struct strv *args)
{
    return step_time(a, -1);
}

static unsigned act_STEP_FORWARD(struct app *a, const struct strv *args)
{
    return step_time(a, 1);
}

static unsigned act_PLAY(struct app *a, const struct strv *args)
{
    if (!showing_past(a))
        return REACT_DRAW;
    a->playing = !a->playing;
    if (a->playing && a->m.past_at >= a->m.n_past)
        model_seek(&a->m, 0); /* from the start again */
    a->next_step_at = now_mono();
    app_message(a, "%s at %dx", a->playing ? "playing" : "paused", a->speed);
    return REACT_DRAW;
}

static void change_speed(struct app *a, bool faster)
{
    if (!showing_past(a))
        return;
    int s = faster ? a->speed * 2 : a->speed / 2;
    a->speed = s < 1 ? 1 : s > 1024 ? 1024 : s;
    app_message(a, "%dx as fast as it happened (at most a second between two events)",
                a->speed);
}

static unsigned act_SLOWER(struct app *a, const struct strv *args)
{
    change_speed(a, false);
    return REACT_DRAW;
}

static unsigned act_FASTER(struct app *a, const struct strv *args)
{
    change_speed(a, true);
    return REACT_DRAW;
}

/* The timeline to the moment the run's first task failed, with that task selected. */
static unsigned act_TO_FAILURE(struct app *a, const struct strv *args)
{
    if (!showing_past(a))
        return REACT_DRAW;
    struct model *m = &a->m;
    size_t k = 0;
    while (k < m->n_past && !(m->past[k].state == LIVE_FAILED && m->past[k].task >= 0))
        k++;
    if (k == m->n_past) {
        app_message(a, "no task failed in run %lld", (long long)m->past_run);
        return REACT_DRAW;
    }
    a->playing = false;
    model_seek(m, (long)k + 1);
    model_select_task(m, (size_t)m->past[k].task);
    return REACT_PANE;
}

static unsigned act_REPLAY(struct app *a, const struct strv *args)
{
    if (showing_past(a))
        app_replay(a, a->m.past_run);
    return REACT_DRAW;
}

/* --- running ---------------------------------------------------------------------------------- */

#define MAX_RUN_PARAMS 5 /* what the child's argument vector has room for */

static void start_now(struct app *a, const char *target)
{
    struct err e;
    if (a->m.run_going && a->child.pid <= 0)
        app_message(a, "a run started elsewhere is going; this one waits for nothing else");
    const char *args[4 + 2 * MAX_RUN_PARAMS] = {"run"};
    size_t k = 1;
    for (size_t i = 0; i < a->run_params.n && i < MAX_RUN_PARAMS; i++) {
        args[k++] = "-p";
        args[k++] = a->run_params.v[i];
    }
    args[k++] = target;
    if (child_start(&a->child, a->m.flow_path, args, &e))
        app_message(a, "%s", e.msg);
    else
        app_message(a, "running %s%s%s", target ? target : "the flow",
                    a->run_params.n ? " with " : "", a->run_params.n ? "one-off parameters" : "");
}

static void save_and_run(struct app *a)
{
    struct err e;
    if (model_save(&a->m, NULL, &e))
        app_message(a, "%s", e.msg);
    else
        start_now(a, a->pending_name);
}

/* A run reads the flow file: unsaved edits are saved first (asking). */
static void start(struct app *a, const char *target)
{
    if (!a->m.doc || !flowedit_dirty(a->m.doc)) {
        start_now(a, target);
        return;
    }
    free(a->pending_name);
    a->pending_name = target ? xstrdup(target) : NULL;
    app_ask(a, save_and_run, "%s has unsaved edits: save them and run? (y/n)", a->m.flow_path);
}

/* `:run [TASK] -p NAME=VALUE...`: the one-off parameters the run gets (as `sluice run
 * -p`, kept in no file), the words quoted as in a shell (words.h); false after saying
 * why the options are not that. */
static bool parse_run_options(struct app *a, const char *options)
{
    strv_free(&a->run_params);
    struct strv w = {0};
    struct err e;
    if (words_split(options, &w, &e)) {
        app_message(a, "%s", e.msg);
        strv_free(&w);
        return false;
    }
    bool ok = w.n % 2 == 0 && w.n / 2 <= MAX_RUN_PARAMS;
    for (size_t i = 0; ok && i < w.n; i += 2)
        ok = strcmp(w.v[i], "-p") == 0 && strchr(w.v[i + 1], '=') && w.v[i + 1][0] != '=';
    for (size_t i = 1; ok && i < w.n; i += 2)
        strv_push(&a->run_params, xstrdup(w.v[i]));
    strv_free(&w);
    if (!ok)
        app_message(a, "a run takes up to %d -p NAME=VALUE (e.g. :run-all -p lr=0.05 -p "
                       "name=\"a b\")",
                    MAX_RUN_PARAMS);
    return ok;
}

static unsigned act_RUN(struct app *a, const struct strv *args)
{
    bool task_given = args->n && args->v[0][0] != '-';
    struct sb options = {0};
    for (size_t i = task_given; i < args->n; i++)
        sb_addf(&options, "%s%s", options.len ? " " : "", args->v[i]);
    bool ok = parse_run_options(a, options.buf ? options.buf : "");
    sb_free(&options);
    if (!ok)
        return REACT_DRAW;
    if (task_given && (!a->m.ws || flow_find(a->m.ws->flow, args->v[0]) < 0))
        app_message(a, "no task named \"%s\"", args->v[0]);
    else if (task_given)
        start(a, args->v[0]);
    else if (have_selection(a) && group_is(&a->m, (size_t)a->m.sel))
        start(a, model_node_name(&a->m, (size_t)a->m.sel)); /* a matrix task: every instance */
    else if (have_selection(a))
        start(a, a->m.ws->flow->tasks[selected_task(a)].name);
    return REACT_DRAW;
}

static unsigned act_RUN_ALL(struct app *a, const struct strv *args)
{
    if (a->m.ws && parse_run_options(a, args->n ? args->v[0] : ""))
        start(a, NULL);
    return REACT_DRAW;
}

static unsigned act_CANCEL(struct app *a, const struct strv *args)
{
    if (!child_running(&a->child)) {
        app_message(a, "no run started here is going");
        return REACT_DRAW;
    }
    child_cancel(&a->child);
    app_message(a, "cancelling the run...");
    return REACT_DRAW;
}

/* --- invalidation ---------------------------------------------------------------------------- */

static void do_invalidate(struct app *a)
{
    int64_t id;
    size_t removed;
    struct err e;
    int rc = invalidate_apply(a->m.ws, a->pending, a->n_pending, "from the TUI", &id, &removed, &e);
    if (removed)
        app_push_undo(a, id);
    app_reload(a);
    /* Say it in the words the boxes and the status bar use: how many are invalidated now
     * (tasks without a result, pending or failed, have none to take out). */
    size_t now = 0;
    for (size_t i = 0; !rc && a->m.ws && i < a->n_pending; i++)
        now += a->pending[i] < a->m.ws->flow->n_tasks &&
               a->m.st[a->pending[i]].state == ST_INVALIDATED;
    if (rc)
        app_message(a, "%s", e.msg);
    else if (!removed)
        app_message(a, "nothing to invalidate: not cached");
    else if (now == a->n_pending)
        app_message(a, "invalidation %lld: %zu invalidated (u undoes it)", (long long)id, now);
    else
        app_message(a, "invalidation %lld: %zu invalidated; %zu of the %zu had no result to take "
                       "out (u undoes it)",
                    (long long)id, now, a->n_pending - now, a->n_pending);
}

/* `:invalidate TASK` selects TASK first, so the preview shows on the graph. */
static void ask_invalidate(struct app *a, const struct strv *args, enum invalidate_scope scope)
{
    if (args->n && a->m.ws) {
        long t = flow_find(a->m.ws->flow, args->v[0]);
        if (t < 0) {
            app_message(a, "no task named \"%s\"", args->v[0]);
            return;
        }
        model_select_task(&a->m, (size_t)t);
    }
    if (!have_selection(a))
        return;
    free(a->pending);
    const struct graphview *view = &a->m.view;
    size_t sel = (size_t)a->m.sel;
    if (group_is(&a->m, sel)) /* a matrix task: every instance */
        a->pending = invalidate_select_all(a->m.ws, view->members + view->member_at[sel],
                                           view->member_at[sel + 1] - view->member_at[sel],
                                           scope, &a->n_pending);
    else
        a->pending = invalidate_select(a->m.ws, selected_task(a), scope, &a->n_pending);
    struct sb q = {0};
    sb_adds(&q, "invalidate ");
    for (size_t i = 0; i < a->n_pending; i++) {
        long v = a->m.view.of_task[a->pending[i]];
        if (v >= 0)
            a->m.marked[v] = true;
        if (i < 6)
            sb_addf(&q, "%s%s", i ? ", " : "", a->m.ws->flow->tasks[a->pending[i]].name);
    }
    if (a->n_pending > 6)
        sb_addf(&q, " and %zu more", a->n_pending - 6);
    app_ask(a, do_invalidate, "%s? (y/n)", q.buf);
    sb_free(&q);
}

static unsigned act_INVALIDATE(struct app *a, const struct strv *args)
{
    ask_invalidate(a, args, INVALIDATE_TASK);
    return REACT_DRAW;
}

static unsigned act_INVALIDATE_DOWN(struct app *a, const struct strv *args)
{
    ask_invalidate(a, args, INVALIDATE_DOWNSTREAM);
    return REACT_DRAW;
}

static unsigned act_INVALIDATE_UP(struct app *a, const struct strv *args)
{
    ask_invalidate(a, args, INVALIDATE_UPSTREAM);
    return REACT_DRAW;
}

static unsigned undo_invalidation(struct app *a, int64_t id)
{
    struct invalidate_undo_result r;
    struct err e;
    if (invalidate_undo(a->m.ws, id, &r, &e))
        app_message(a, "%s", e.msg);
    else if (r.kept)
        app_message(a, "undid invalidation %lld; %zu entr%s stay out (invalidation %s)",
                    (long long)id, r.kept, r.kept == 1 ? "y" : "ies", r.kept_by);
    else
        app_message(a, "undid invalidation %lld", (long long)id);
    return REACT_RELOAD;
}

/* Undoes what was done last here: an edit or an invalidation; with nothing done here,
 * the store's last invalidation. */
static unsigned act_UNDO(struct app *a, const struct strv *args)
{
    while (a->n_marks) {
        int64_t mark = a->undo_marks[--a->n_marks];
        const char *what = mark ? NULL : model_undo(&a->m);
        if (what) {
            app_message(a, "undid %s (^R redoes it)", what);
            return REACT_PANE;
        }
        if (mark && a->m.ws)
            return undo_invalidation(a, mark);
    }
    int64_t id = a->m.ws ? invalidate_last(a->m.ws) : 0;
    if (id)
        return undo_invalidation(a, id);
    app_message(a, "nothing to undo");
    return REACT_DRAW;
}

static unsigned act_REDO(struct app *a, const struct strv *args)
{
    const char *what = model_redo(&a->m);
    if (what) {
        app_push_undo(a, 0);
        app_message(a, "redid %s", what);
        return REACT_PANE;
    }
    app_message(a, "nothing to redo");
    return REACT_DRAW;
}

/* --- finding and shaping --------------------------------------------------------------------- */

static unsigned act_SEARCH(struct app *a, const struct strv *args)
{
    a->search_from = a->m.sel;
    a->prompt = PROMPT_SEARCH;
    sb_free(&a->input);
    sb_adds(&a->input, "");
    return REACT_DRAW;
}

static void jump(struct app *a, int dir)
{
    if (!a->search) {
        app_message(a, "no search yet: / searches");
        return;
    }
    long i = model_search(&a->m, a->search, dir);
    if (i < 0)
        app_message(a, "no task matches \"%s\"", a->search);
    else
        a->m.sel = i;
}

static unsigned act_NEXT(struct app *a, const struct strv *args)
{
    jump(a, 1);
    return REACT_DRAW;
}

static unsigned act_PREV(struct app *a, const struct strv *args)
{
    jump(a, -1);
    return REACT_DRAW;
}

static unsigned act_FOCUS(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return REACT_DRAW;
    size_t sel = (size_t)a->m.sel, task = selected_task(a);
    const struct graphview *v = &a->m.view;
    if (group_is(&a->m, sel)) { /* a matrix box: every instance, as the box stands for */
        size_t n = v->member_at[sel + 1] - v->member_at[sel];
        app_message(a, "focus on %s (%zu instances; Esc shows everything)",
                    model_node_name(&a->m, sel), n);
        model_set_focus(&a->m, v->members + v->member_at[sel], n);
    } else {
        app_message(a, "focus on %s (Esc shows everything)", a->m.ws->flow->tasks[task].name);
        model_set_focus(&a->m, &task, 1);
    }
    return REACT_LAYOUT;
}

static unsigned act_EXPAND(struct app *a, const struct strv *args)
{
    if (!have_selection(a) || group_expand(&a->m, (size_t)a->m.sel))
        return REACT_DRAW;
    if (a->m.view.nodes[a->m.sel].task < 0)
        return set_collapsed(a, a->m.view.nodes[a->m.sel].group, false);
    return REACT_DRAW;
}

static unsigned act_COLLAPSE(struct app *a, const struct strv *args)
{
    if (have_selection(a) && !group_collapse_around(&a->m, (size_t)a->m.sel))
        app_message(a, "not in a sub-flow or an expanded matrix task");
    return REACT_DRAW;
}

static unsigned act_DIRECTION(struct app *a, const struct strv *args)
{
    struct model *m = &a->m;
    if (m->dir_auto) {
        m->dir_auto = false;
        m->dir = LAYOUT_DOWN;
    } else if (m->dir == LAYOUT_DOWN) {
        m->dir = LAYOUT_RIGHT;
    } else {
        m->dir_auto = true;
    }
    app_message(a, "%s", m->dir_auto ? "direction: automatic"
                         : m->dir == LAYOUT_DOWN ? "direction: top-down"
                                                 : "direction: left to right");
    return REACT_LAYOUT;
}

static unsigned act_MOUSE(struct app *a, const struct strv *args)
{
    a->mouse = !a->mouse;
    mousemask(a->mouse ? BUTTON1_CLICKED | BUTTON1_PRESSED : 0, NULL);
    app_message(a, "mouse %s", a->mouse ? "on: a click selects" : "off");
    return REACT_DRAW;
}

static unsigned act_RELOAD(struct app *a, const struct strv *args)
{
    return REACT_RELOAD;
}

static unsigned act_COMMAND(struct app *a, const struct strv *args)
{
    a->prompt = PROMPT_COMMAND;
    sb_free(&a->input);
    sb_adds(&a->input, "");
    app_candidates(a);
    return REACT_DRAW;
}

static void quit_now(struct app *a)
{
    if (child_running(&a->child))
        child_stop(&a->child, 10.0);
    a->quit = true;
}

static unsigned act_QUIT(struct app *a, const struct strv *args)
{
    if (a->m.past_run || a->m.focus >= 0) { /* one level, as Esc */
        act_BACK(a, args);
        return REACT_DRAW;
    }
    bool running = child_running(&a->child);
    bool unsaved = a->m.doc && flowedit_dirty(a->m.doc);
    if (running && unsaved)
        app_ask(a, quit_now,
                "a run started here is going and %s has unsaved edits: cancel the run and "
                "quit without saving? (y/n)",
                a->m.flow_path);
    else if (running)
        app_ask(a, quit_now, "a run started here is going: cancel it and quit? (y/n)");
    else if (unsaved)
        app_ask(a, quit_now, "%s has unsaved edits: quit without saving them? (y/n; s saves)",
                a->m.flow_path);
    else
        a->quit = true;
    return REACT_DRAW;
}

/* --- building --------------------------------------------------------------------------------- */

/* The selected node's name in the flow file being edited (a task of a sub-flow is in
 * another file), or NULL after saying why. */
static const char *selected_in_file(struct app *a)
{
    if (!have_selection(a))
        return NULL;
    const struct view_node *v = &a->m.view.nodes[a->m.sel];
    const struct flow *f = a->m.ws->flow;
    int g = group_is(&a->m, (size_t)a->m.sel) ? group_defined_in(&a->m, (size_t)a->m.sel)
            : v->task >= 0                      ? f->tasks[v->task].group
                                                : f->groups[v->group].parent;
    if (g < 0)
        return model_node_name(&a->m, (size_t)a->m.sel);
    char *path = path_normalize(f->groups[g].path, false);
    app_message(a, "%s is defined in %s: open that file to edit it",
                model_node_name(&a->m, (size_t)a->m.sel), path ? path : f->groups[g].path);
    free(path);
    return NULL;
}

static bool editable(struct app *a)
{
    if (a->m.doc)
        return true;
    app_message(a, "%s cannot be edited: %s", a->m.flow_path, a->m.error ? a->m.error : "");
    return false;
}

static void usage(struct app *a, const char *name)
{
    app_message(a, "usage: %s %s", name, actions_usage(name));
}

static unsigned act_ADD(struct app *a, const struct strv *args)
{
    if (!editable(a))
        return REACT_DRAW;
    if (args->n >= 2) {
        struct edit ed[] = {{.op = EDIT_ADD, .a = args->v[0]},
                            {.op = EDIT_SET, .a = NULL, .value = args->v[1]}};
        char *run = xasprintf("%s.run", args->v[0]);
        ed[1].a = run;
        if (app_edit(a, ed, 2, args->v[0]))
            app_message(a, "added %s", args->v[0]);
        free(run);
        return REACT_DRAW;
    }
    /* The new task comes after the one selected: upstream picked on the graph. */
    const char *after = a->m.ws && a->m.sel >= 0 ? model_node_name(&a->m, (size_t)a->m.sel) : NULL;
    struct form f;
    form_open_add(&f, args->n ? args->v[0] : NULL,
                  after && flowedit_has_task(a->m.doc, after) ? after : NULL);
    app_form(a, &f);
    return REACT_DRAW;
}

/* The task an action is about: its argument, else the selection. A copy (an edit
 * frees the flow the selection's name is in); NULL after saying why there is none. */
static char *task_arg(struct app *a, const struct strv *args)
{
    if (!editable(a))
        return NULL;
    const char *name = args->n ? args->v[0] : selected_in_file(a);
    return name ? xstrdup(name) : NULL;
}

static unsigned act_EDIT(struct app *a, const struct strv *args)
{
    char *task = task_arg(a, args);
    if (task && !flowedit_has_task(a->m.doc, task)) {
        app_message(a, "%s: no task named \"%s\"", a->m.flow_path, task);
    } else if (task) {
        struct form f;
        form_open_edit(&f, a->m.doc, task);
        app_form(a, &f);
    }
    free(task);
    return REACT_DRAW;
}

static void connect(struct app *a, const char *up, const char *down, bool on)
{
    struct edit ed = {.op = on ? EDIT_CONNECT : EDIT_DISCONNECT, .a = up, .b = down};
    if (app_edit(a, &ed, 1, down))
        app_message(a, on ? "%s now comes after %s" : "%s no longer comes after %s", down, up);
}

static unsigned act_CONNECT(struct app *a, const struct strv *args)
{
    if (args->n == 2) {
        connect(a, args->v[0], args->v[1], true);
        return REACT_DRAW;
    }
    char *up = task_arg(a, args);
    if (!up)
        return REACT_DRAW;
    free(a->connect_from);
    a->connect_from = up;
    return REACT_DRAW;
}

static unsigned act_DISCONNECT(struct app *a, const struct strv *args)
{
    if (args->n == 2)
        connect(a, args->v[0], args->v[1], false);
    else
        usage(a, "disconnect");
    return REACT_DRAW;
}

static void remove_task(struct app *a, const char *name, bool anyway)
{
    struct edit ed = {.op = EDIT_REMOVE, .a = name, .force = anyway};
    if (app_edit(a, &ed, 1, NULL))
        app_message(a, "removed %s (u undoes it)", name);
}

static void remove_pending(struct app *a)
{
    remove_task(a, a->pending_name, false);
}

static unsigned act_REMOVE(struct app *a, const struct strv *args)
{
    char *name = task_arg(a, args);
    if (!name)
        return REACT_DRAW;
    struct edit ed = {.op = EDIT_REMOVE, .a = name};
    struct err e;
    if (flowedit_check(a->m.doc, &ed, 1, &e)) {
        bool exists = flowedit_has_task(a->m.doc, name);
        app_message(a, "%s%s%s%s", e.msg, exists ? " (:rm! " : "", exists ? name : "",
                    exists ? " removes it anyway)" : "");
        free(name);
        return REACT_DRAW;
    }
    for (size_t i = 0; i < a->m.view.n; i++)
        a->m.marked[i] = strcmp(model_node_name(&a->m, i), name) == 0;
    app_ask(a, remove_pending, "remove %s from %s? (y/n)", name, a->m.flow_path);
    free(a->pending_name);
    a->pending_name = name;
    return REACT_DRAW;
}

static unsigned act_REMOVE_ANYWAY(struct app *a, const struct strv *args)
{
    char *name = task_arg(a, args);
    if (name)
        remove_task(a, name, true);
    free(name);
    return REACT_DRAW;
}

static unsigned act_RENAME(struct app *a, const struct strv *args)
{
    if (args->n == 0) {
        act_EDIT(a, args);
        if (a->form)
            a->form->focus = 0;
        return REACT_DRAW;
    }
    char *was = args->n == 2 ? xstrdup(args->v[0]) : task_arg(a, &(struct strv){0});
    const char *new_name = args->v[args->n - 1];
    if (!was)
        return REACT_DRAW;
    struct edit ed = {.op = EDIT_RENAME, .a = was, .b = new_name};
    if (app_edit(a, &ed, 1, new_name))
        app_message(a, "renamed %s to %s, and every after and $IN_ that named it", was, new_name);
    free(was);
    return REACT_DRAW;
}

/* set/unset/param/unparam with their arguments: one edit. */
static void field_edit(struct app *a, const struct strv *args, enum edit_op op, size_t want,
                       const char *name)
{
    if (!editable(a))
        return;
    if (args->n < want) {
        char *cur = NULL;
        if (args->n == 1 && want == 2)
            cur = op == EDIT_PARAM ? flowedit_param(a->m.doc, args->v[0])
                                   : flowedit_get(a->m.doc, args->v[0]);
        if (cur)
            app_message(a, "%s = %s", args->v[0], cur);
        else
            usage(a, name);
        free(cur);
        return;
    }
    struct edit ed = {.op = op, .a = args->v[0], .value = want == 2 ? args->v[1] : NULL};
    char *task =
        op == EDIT_SET || op == EDIT_UNSET ? xstrndup(args->v[0], strcspn(args->v[0], ".")) : NULL;
    if (app_edit(a, &ed, 1, task))
        app_message(a, "%s %s%s%s", name, args->v[0], want == 2 ? " = " : "",
                    want == 2 ? args->v[1] : "");
    free(task);
}

static unsigned act_SET(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_SET, 2, "set");
    return REACT_DRAW;
}

static unsigned act_UNSET(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_UNSET, 1, "unset");
    return REACT_DRAW;
}

static unsigned act_PARAM(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_PARAM, 2, "param");
    return REACT_DRAW;
}

static unsigned act_UNPARAM(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_UNPARAM, 1, "unparam");
    return REACT_DRAW;
}

/* Runs $VISUAL or $EDITOR (default vi) on file in dir, with curses suspended. Like git,
 * the editor is a shell command, so "code --wait" or "sh script" work. */
static int run_editor(const char *dir, const char *file)
{
    const char *ed = getenv("VISUAL");
    if (!ed || !ed[0])
        ed = getenv("EDITOR");
    if (!ed || !ed[0])
        ed = "vi";
    char *cmd = xasprintf("%s \"$1\"", ed);
    def_prog_mode();
    endwin();
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int); /* Ctrl-C is the editor's, as with system() */
    sigaction(SIGQUIT, &ign, &old_quit);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        if (chdir(dir) == 0)
            execl("/bin/sh", "sh", "-c", cmd, "sh", file, (char *)NULL);
        _exit(127);
    }
    int status = -1;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    reset_prog_mode();
    clearok(curscr, TRUE);
    free(cmd);
    return pid < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The task's first code file as written (when it names a file), else the first one
 * its patterns match. Caller frees; NULL when it has none. */
static char *first_code_file(struct app *a, size_t task)
{
    const struct task *t = &a->m.ws->flow->tasks[task];
    char *path = t->group < 0 ? xasprintf("%s.code", t->name) : NULL;
    char *code = path ? flowedit_get(a->m.doc, path) : NULL;
    free(path);
    char *first = code ? xstrndup(code, strcspn(code, ",")) : NULL;
    free(code);
    if (first && !strpbrk(first, "*?[{")) {
        return first;
    }
    free(first);
    return t->code.n ? xstrdup(t->code.v[0]) : NULL;
}

static unsigned act_EDITOR(struct app *a, const struct strv *args)
{
    const char *dir, *file;
    char *code = NULL;
    if (!a->m.ws) { /* a broken flow: its file is what needs editing */
        dir = ".";
        file = a->m.flow_path;
    } else if (have_selection(a)) {
        size_t t = selected_task(a);
        dir = a->m.ws->flow->tasks[t].dir;
        file = code = first_code_file(a, t);
        if (!code) {
            app_message(a, "%s has no code files (e edits its fields)",
                        a->m.ws->flow->tasks[t].name);
            return REACT_DRAW;
        }
    } else {
        return REACT_DRAW;
    }
    int rc = run_editor(dir, file);
    if (rc == 0)
        app_message(a, "edited %s", file);
    else
        app_message(a, "the editor exited with status %d", rc);
    free(code);
    return REACT_RELOAD;
}

static void save_pending(struct app *a)
{
    struct err e;
    char *path = a->pending_name ? xstrdup(a->pending_name) : NULL;
    if (model_save(&a->m, path, &e))
        app_message(a, "%s", e.msg);
    else
        app_message(a, "saved %s", a->m.flow_path);
    free(path);
}

static unsigned act_SAVE(struct app *a, const struct strv *args)
{
    if (!editable(a))
        return REACT_DRAW;
    free(a->pending_name);
    a->pending_name = args->n ? xstrdup(args->v[0]) : NULL;
    bool elsewhere = args->n && strcmp(args->v[0], a->m.flow_path) != 0;
    if (!elsewhere && !flowedit_dirty(a->m.doc) && !flowedit_disk_changed(a->m.doc))
        app_message(a, "no unsaved edits: %s stays as it is", a->m.flow_path);
    else if (!elsewhere && flowedit_disk_changed(a->m.doc))
        app_ask(a, save_pending, "%s changed on disk since it was read: overwrite it? (y/n)",
                a->m.flow_path);
    else if (elsewhere && access(args->v[0], F_OK) == 0)
        app_ask(a, save_pending, "%s exists: overwrite it? (y/n)", args->v[0]);
    else
        save_pending(a);
    return REACT_DRAW;
}

/* --- the panes ------------------------------------------------------------------------------ */

static unsigned act_PAGE_UP(struct app *a, const struct strv *args)
{
    app_scroll(a, -draw_pane_rows(a));
    return REACT_DRAW;
}

static unsigned act_PAGE_DOWN(struct app *a, const struct strv *args)
{
    app_scroll(a, draw_pane_rows(a));
    return REACT_DRAW;
}

static unsigned act_SCROLL_UP(struct app *a, const struct strv *args)
{
    app_scroll(a, -1);
    return REACT_DRAW;
}

static unsigned act_SCROLL_DOWN(struct app *a, const struct strv *args)
{
    app_scroll(a, 1);
    return REACT_DRAW;
}

static unsigned act_TOP(struct app *a, const struct strv *args)
{
    app_scroll(a, -(int)a->lines.n);
    return REACT_DRAW;
}

static unsigned act_END(struct app *a, const struct strv *args)
{
    app_scroll(a, (int)a->lines.n);
    return REACT_DRAW;
}

static unsigned act_FIND(struct app *a, const struct strv *args)
{
    a->find_from = a->pane_scroll;
    a->prompt = PROMPT_FIND;
    sb_free(&a->input);
    sb_adds(&a->input, "");
    return REACT_DRAW;
}

static void find_again(struct app *a, int dir)
{
    if (!a->pane_search)
        app_message(a, "nothing found yet: / finds text in the pane");
    else if (!app_pane_find(a, a->pane_search, a->pane_scroll, dir))
        app_message(a, "no line holds \"%s\"", a->pane_search);
}

static unsigned act_FIND_NEXT(struct app *a, const struct strv *args)
{
    find_again(a, 1);
    return REACT_DRAW;
}

static unsigned act_FIND_PREV(struct app *a, const struct strv *args)
{
    find_again(a, -1);
    return REACT_DRAW;
}

/* One level: a run diff opened from the history goes back to it. */
static unsigned act_CLOSE(struct app *a, const struct strv *args)
{
    if (a->pane == PANE_DIFF && a->diff_from_history)
        app_open_history(a, a->run_sel);
    else
        app_close_pane(a);
    return REACT_DRAW;
}

/* --- the history ---------------------------------------------------------------------------- */

static bool have_run(struct app *a)
{
    if (a->pane == PANE_HISTORY && a->run_sel >= 0 && a->n_runs)
        return true;
    app_message(a, "no run here: R runs the flow");
    return false;
}

static unsigned act_NEWER(struct app *a, const struct strv *args)
{
    app_history_move(a, -1);
    return REACT_DRAW;
}

static unsigned act_OLDER(struct app *a, const struct strv *args)
{
    app_history_move(a, 1);
    return REACT_DRAW;
}

static unsigned act_NEWER_PAGE(struct app *a, const struct strv *args)
{
    app_history_move(a, -draw_pane_rows(a));
    return REACT_DRAW;
}

static unsigned act_OLDER_PAGE(struct app *a, const struct strv *args)
{
    app_history_move(a, draw_pane_rows(a));
    return REACT_DRAW;
}

static unsigned act_NEWEST(struct app *a, const struct strv *args)
{
    app_history_move(a, -(long)a->n_runs);
    return REACT_DRAW;
}

static unsigned act_OLDEST(struct app *a, const struct strv *args)
{
    app_history_move(a, (long)a->n_runs);
    return REACT_DRAW;
}

static unsigned act_SHOW_RUN(struct app *a, const struct strv *args)
{
    if (!have_run(a))
        return REACT_DRAW;
    int64_t run = a->runs[a->run_sel];
    app_close_pane(a);
    app_show_run(a, run);
    return REACT_DRAW;
}

static unsigned act_MARK_RUN(struct app *a, const struct strv *args)
{
    if (!have_run(a))
        return REACT_DRAW;
    int64_t run = a->runs[a->run_sel];
    a->run_marked = a->run_marked == run ? 0 : run;
    app_open_history(a, a->run_sel);
    return REACT_DRAW;
}

static unsigned act_DIFF_RUNS(struct app *a, const struct strv *args)
{
    if (!have_run(a))
        return REACT_DRAW;
    int64_t run = a->runs[a->run_sel];
    int64_t other = a->run_marked && a->run_marked != run ? a->run_marked
                    : a->run_sel + 1 < (long)a->n_runs ? a->runs[a->run_sel + 1]
                                                      : 0;
    if (!other) {
        app_message(a, "mark another run with space first");
        return REACT_DRAW;
    }
    app_diff(a, other < run ? other : run, other < run ? run : other);
    a->diff_from_history = true;
    return REACT_DRAW;
}

static unsigned act_REPLAY_RUN(struct app *a, const struct strv *args)
{
    if (!have_run(a))
        return REACT_DRAW;
    int64_t run = a->runs[a->run_sel];
    app_close_pane(a);
    app_replay(a, run);
    return REACT_DRAW;
}

/* --- the task list -------------------------------------------------------------------------- */

static long list_page(void)
{
    return LINES - 5 > 1 ? LINES - 5 : 1;
}

static unsigned act_LIST_UP(struct app *a, const struct strv *args)
{
    tasklist_move(&a->list, &a->m, -1);
    return REACT_DRAW;
}

static unsigned act_LIST_DOWN(struct app *a, const struct strv *args)
{
    tasklist_move(&a->list, &a->m, 1);
    return REACT_DRAW;
}

static unsigned act_LIST_PAGE_UP(struct app *a, const struct strv *args)
{
    tasklist_move(&a->list, &a->m, -list_page());
    return REACT_DRAW;
}

static unsigned act_LIST_PAGE_DOWN(struct app *a, const struct strv *args)
{
    tasklist_move(&a->list, &a->m, list_page());
    return REACT_DRAW;
}

static unsigned act_LIST_FIRST(struct app *a, const struct strv *args)
{
    tasklist_move(&a->list, &a->m, -(long)a->m.view.n);
    return REACT_DRAW;
}

static unsigned act_LIST_LAST(struct app *a, const struct strv *args)
{
    tasklist_move(&a->list, &a->m, (long)a->m.view.n);
    return REACT_DRAW;
}

static unsigned act_FILTER(struct app *a, const struct strv *args)
{
    if (!args->n) {
        a->prompt = PROMPT_FILTER; /* applied as it is typed (app.c) */
        return REACT_DRAW;
    }
    sb_free(&a->list.text);
    sb_adds(&a->list.text, args->v[0]);
    tasklist_sync(&a->list, &a->m);
    return REACT_DRAW;
}

static unsigned act_STATE(struct app *a, const struct strv *args)
{
    if (args->n) {
        const char *w = NULL;
        for (size_t k = 0; model_state_word(k); k++)
            if (strcmp(model_state_word(k), args->v[0]) == 0)
                w = model_state_word(k);
        if (!w) {
            app_message(a, "no state named \"%s\"", args->v[0]);
            return REACT_DRAW;
        }
        a->list.state = w;
    } else {
        tasklist_cycle(&a->list, &a->m, 1);
    }
    tasklist_sync(&a->list, &a->m);
    return REACT_DRAW;
}

static unsigned act_STATE_BACK(struct app *a, const struct strv *args)
{
    tasklist_cycle(&a->list, &a->m, -1);
    tasklist_sync(&a->list, &a->m);
    return REACT_DRAW;
}

static unsigned act_GRAPH(struct app *a, const struct strv *args)
{
    a->list.focused = false;
    return REACT_DRAW;
}

static unsigned act_CLOSE_LIST(struct app *a, const struct strv *args)
{
    if (a->list.text.len || a->list.state) {
        sb_free(&a->list.text);
        a->list.state = NULL;
    } else {
        a->list.open = a->list.focused = false;
    }
    return REACT_DRAW;
}

/* The form reads its own keys (form.c): its rows only say what they do. */
#define act_APPLY NULL
#define act_CANCEL_FORM NULL
#define act_NEXT_FIELD NULL
#define act_PREV_FIELD NULL
#define act_COMPLETE NULL

/* --- the table ---------------------------------------------------------------------------------- */

struct entry {
    const char *name;
    int ctx;
    int key, ckey;
    const char *usage, *help;
    bool footer;
    handler fn;
};

static const struct entry table[] = {
#define X(id, name, ctx, key, ckey, usage, help, footer)                                           \
    {name, ctx, key, ckey, usage, help, footer, act_##id},
    TUI_ACTIONS(X)
#undef X
};

int actions_context(const struct app *a)
{
    if (a->form)
        return C_FORM;
    const struct pane_ops *p = pane_ops(a->pane);
    if (!a->m.ws && !p)
        return C_BROKEN;
    if (p && !p->beside_graph)
        return p->context; /* the pane takes the screen: only its keys */
    int c = a->list.open && a->list.focused && a->m.ws ? C_LIST : C_GRAPH;
    if (a->m.past_run)
        c |= C_PAST;
    return p && p->context == C_DETAIL ? c | C_DETAIL : p ? p->context : c;
}

/* Whether row i is active in ctx, on the pass that looks at the views' own rows (0:
 * rows the graph does not have) or at the shared ones (1). */
static bool active(size_t i, int ctx, int pass)
{
    return (table[i].ctx & ctx) && !(table[i].ctx & C_GRAPH) == !pass;
}

static bool row_has_key(size_t i, int key)
{
    return (table[i].key && key == table[i].key) || (table[i].ckey && key == table[i].ckey);
}

/* The row a key runs in ctx, or -1. */
static long find_key(int ctx, int key)
{
    if (key == '\r' || key == KEY_ENTER)
        key = '\n';
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < ACT_COUNT; i++)
            if (active(i, ctx, pass) && row_has_key(i, key))
                return (long)i;
    return -1;
}

/* Runs row i's handler; what it asks to redo waits in a->react for app_key(), which
 * does it once however many handlers ran. */
static void run_entry(struct app *a, size_t i, const struct strv *args)
{
    if (table[i].fn)
        a->react |= table[i].fn(a, args);
}

/* `c` was pressed on a task: Enter (or c again) connects it to the selection. */
static bool connect_key(struct app *a, int key)
{
    if (key == 27) {
        free(a->connect_from);
        a->connect_from = NULL;
        app_message(a, "nothing connected");
        return true;
    }
    if (key != '\n' && key != '\r' && key != KEY_ENTER && key != 'c')
        return false;
    char *up = a->connect_from;
    a->connect_from = NULL;
    char *down = task_arg(a, &(struct strv){0});
    if (down)
        connect(a, up, down, true);
    free(up);
    free(down);
    return true;
}

bool actions_key(struct app *a, int key)
{
    if (a->connect_from && connect_key(a, key)) {
        a->react |= REACT_DRAW;
        return true;
    }
    long i = find_key(actions_context(a), key);
    if (i < 0 || !table[i].fn)
        return false;
    run_entry(a, (size_t)i, &(struct strv){0});
    return true;
}

/* Splits a `:` line's arguments as the usage says: words, and a last "..." argument
 * that takes the rest of the line. False when there are too many. */
static bool split_args(const char *usage, const char *line, struct strv *args)
{
    size_t n_tokens = 0;
    bool rest = strstr(usage, "...") != NULL;
    for (const char *u = usage; *u; n_tokens++) {
        u += strspn(u, " ");
        u += strcspn(u, " ");
        u += strspn(u, " ");
    }
    const char *p = line + strspn(line, " ");
    while (*p) {
        if (rest && args->n + 1 == n_tokens) {
            strv_push(args, xstrdup(p));
            return true;
        }
        if (args->n == n_tokens)
            return false;
        size_t n = strcspn(p, " ");
        strv_push(args, xstrndup(p, n));
        p += n;
        p += strspn(p, " ");
    }
    return true;
}

bool actions_command(struct app *a, const char *line)
{
    const char *p = line + strspn(line, " ");
    size_t n = strcspn(p, " ");
    for (size_t i = 0; i < ACT_COUNT; i++) {
        if (!table[i].fn || strlen(table[i].name) != n || strncmp(p, table[i].name, n) != 0)
            continue;
        struct strv args = {0};
        if (split_args(table[i].usage, p + n, &args))
            run_entry(a, i, &args);
        else if (table[i].usage[0])
            app_message(a, "usage: %s %s", table[i].name, table[i].usage);
        else
            app_message(a, "%s takes no arguments", table[i].name);
        strv_free(&args);
        return true;
    }
    return false;
}

static void key_text(const struct entry *e, char *buf, size_t n)
{
    char k[16] = "";
    if (e->key == '\n')
        snprintf(k, sizeof k, "Enter");
    else if (e->key == '\t')
        snprintf(k, sizeof k, "Tab");
    else if (e->key == ' ')
        snprintf(k, sizeof k, "space");
    else if (e->key == 27)
        snprintf(k, sizeof k, "Esc");
    else if (e->key > 0 && e->key < ' ')
        snprintf(k, sizeof k, "^%c", e->key + '@');
    else if (e->key)
        snprintf(k, sizeof k, "%c", e->key);
    const char *ck = e->ckey == KEY_UP      ? "Up"
                     : e->ckey == KEY_DOWN  ? "Down"
                     : e->ckey == KEY_LEFT  ? "Left"
                     : e->ckey == KEY_RIGHT ? "Right"
                     : e->ckey == KEY_HOME  ? "Home"
                     : e->ckey == KEY_END   ? "End"
                     : e->ckey == KEY_SLEFT ? "S-Left"
                     : e->ckey == KEY_SRIGHT ? "S-Right"
                     : e->ckey == KEY_PPAGE ? "PgUp"
                     : e->ckey == KEY_NPAGE ? "PgDn"
                     : e->ckey == 27        ? "Esc"
                                            : "";
    snprintf(buf, n, "%s%s%s", k, k[0] && ck[0] && e->ckey != KEY_ENTER ? " " : "",
             e->ckey == KEY_ENTER ? "" : ck);
}

/* Where a row works, for the help's "elsewhere" part. */
static const char *where(int ctx)
{
    return ctx & C_GRAPH     ? "graph"
           : ctx & C_BROKEN  ? "broken flow"
           : ctx & C_PAST    ? "past run"
           : ctx & C_LIST    ? "list"
           : ctx & C_HISTORY ? "history"
           : ctx & C_FORM    ? "form"
           : ctx & C_DETAIL  ? "details"
                             : "pane";
}

/* head then text, text broken between words so that no line is wider than width;
 * the lines after the first start under the text (or 4 columns in when head takes half
 * the width). */
static void push_wrapped(struct strv *lines, const char *head, const char *text, int width)
{
    int indent = (int)strlen(head) < width / 2 ? (int)strlen(head) : 4;
    int room = width - indent > 10 ? width - indent : 10;
    bool first = true;
    const char *p = text;
    do {
        int r = first ? width - (int)strlen(head) : room;
        int n = text_break(p, r > 10 ? r : 10);
        if (first)
            strv_pushf(lines, "%s%.*s", head, n, p);
        else
            strv_pushf(lines, "%*s%.*s", indent, "", n, p);
        first = false;
        p += n;
        p += strspn(p, " ");
    } while (*p);
}

static void help_line(size_t i, bool here, int width, struct strv *lines)
{
    char k[32];
    key_text(&table[i], k, sizeof k);
    char *cmd = xasprintf("%s%s%s", table[i].name, table[i].usage[0] ? " " : "", table[i].usage);
    char *head = xasprintf("  %-12s %-27s ", k, table[i].fn ? cmd : "");
    char *text = here ? xstrdup(table[i].help)
                      : xasprintf("[%s] %s", where(table[i].ctx), table[i].help);
    push_wrapped(lines, head, text, width);
    free(text);
    free(head);
    free(cmd);
}

void actions_help(int ctx, bool ascii, int width, struct strv *lines)
{
    bool seen[ACT_COUNT] = {0};
    strv_push(lines, xstrdup("  Keys here:"));
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < ACT_COUNT; i++)
            if (!seen[i] && active(i, ctx, pass)) {
                seen[i] = true;
                help_line(i, true, width, lines);
            }
    strv_push(lines, xstrdup(""));
    strv_push(lines, xstrdup("  Elsewhere ([where] they work):"));
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (!seen[i])
            help_line(i, false, width, lines);
    strv_push(lines, xstrdup(""));
    char *legend = look_legend(ascii);
    /* a few states a line, broken between two of them ("  ") */
    for (const char *p = legend, *label = "States:"; *p; label = "") {
        const char *end = p, *sep;
        while ((sep = strstr(end, "  ")) && sep - p < 60)
            end = sep + 2;
        size_t n = sep && end > p ? (size_t)(end - p - 2) : strlen(p);
        char *head = xasprintf("  %-8s", label), *part = xstrndup(p, n);
        push_wrapped(lines, head, part, width);
        free(head);
        free(part);
        p += n;
        p += strspn(p, " ");
    }
    free(legend);
    char *past = xasprintf("On a past run: %s ran, %s hit (its result was in the store), %s cut "
                           "off (ran, and came out as before).",
                           look_glyph("ran", ascii), look_glyph("hit", ascii),
                           look_glyph("cutoff", ascii));
    static const char *const tail[] = {
        "Ctrl-C: as q (at a prompt, question or form: as Esc).",
        "`:` takes an action and its arguments (Tab completes names, fields, paths):",
        ":add train python3 train.py, :set train.expire 24h, :connect load train, :save",
        ":run and :run-all options are quoted as in a shell: -p name=\"a b\", -p k='x y'.",
        "Edits are checked as the CLI checks the file; one that breaks the flow is refused.",
    };
    push_wrapped(lines, "  ", past, width);
    free(past);
    for (size_t k = 0; k < sizeof tail / sizeof tail[0]; k++)
        push_wrapped(lines, "  ", tail[k], width);
}

/* "K name" for action i. */
static void hint(size_t i, char *buf, size_t n)
{
    char k[32];
    key_text(&table[i], k, sizeof k);
    snprintf(buf, n, "%s %s", k, table[i].name);
}

char *actions_footer(int ctx, int width)
{
    /* `? help` and what q does here always show, at the end (as much of them as fits):
     * the view's own keys fill the room before them, then the graph's. */
    long help = find_key(ctx, '?'), q = find_key(ctx, 'q');
    struct sb t = {0};
    char h[80];
    if (help >= 0) {
        hint((size_t)help, h, sizeof h);
        sb_adds(&t, h);
    }
    if (q >= 0) {
        hint((size_t)q, h, sizeof h);
        if ((int)(t.len + 2 + strlen(h)) <= width)
            sb_addf(&t, "%s%s", t.len ? "  " : "", h);
    }
    int room = width - (int)t.len - 2;
    struct sb b = {0};
    bool full = false;
    for (int pass = 0; pass < 2 && !full; pass++)
        for (size_t i = 0; i < ACT_COUNT && !full; i++) {
            if (!table[i].footer || !active(i, ctx, pass) || (long)i == help || (long)i == q)
                continue;
            hint(i, h, sizeof h);
            full = (int)(b.len + (b.len ? 2 : 0) + strlen(h)) > room;
            if (!full)
                sb_addf(&b, "%s%s", b.len ? "  " : "", h);
        }
    if (t.len)
        sb_addf(&b, "%s%s", b.len ? "  " : "", t.buf);
    sb_free(&t);
    return b.buf ? sb_take(&b) : xstrdup("");
}

void actions_names(struct strv *out)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (table[i].fn)
            strv_push(out, xstrdup(table[i].name));
}

const char *actions_usage(const char *name)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (table[i].fn && strcmp(table[i].name, name) == 0)
            return table[i].usage;
    return NULL;
}

const char *actions_describe(const char *name)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (table[i].fn && strcmp(table[i].name, name) == 0)
            return table[i].help;
    return NULL;
}
