/* actions: the table's handlers. Each does one thing to the app and marks it dirty. */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions.h"
#include "group.h"
#include "panes.h"

/* Every handler takes the `:` line's arguments (none from a key); most ignore them. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
typedef void (*handler)(struct app *a, const struct strv *args);

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

static void act_UP(struct app *a, const struct strv *args)
{
    step(a, 0, -1);
}

static void act_DOWN(struct app *a, const struct strv *args)
{
    step(a, 0, 1);
}

static void act_LEFT(struct app *a, const struct strv *args)
{
    step(a, -1, 0);
}

static void act_RIGHT(struct app *a, const struct strv *args)
{
    step(a, 1, 0);
}

static void act_UPSTREAM(struct app *a, const struct strv *args)
{
    if (!model_move(&a->m, -1, 0))
        app_message(a, "no upstream task");
}

static void act_DOWNSTREAM(struct app *a, const struct strv *args)
{
    if (!model_move(&a->m, 1, 0))
        app_message(a, "no downstream task");
}

static void act_SIBLING(struct app *a, const struct strv *args)
{
    model_sibling(&a->m);
}

static void act_FIRST(struct app *a, const struct strv *args)
{
    if (a->m.view.n)
        a->m.sel = 0;
}

static void act_LAST(struct app *a, const struct strv *args)
{
    if (a->m.view.n)
        a->m.sel = (long)a->m.view.n - 1;
}

static void act_PAN_LEFT(struct app *a, const struct strv *args)
{
    pan(a, -20, 0);
}

static void act_PAN_RIGHT(struct app *a, const struct strv *args)
{
    pan(a, 20, 0);
}

static void act_PAN_UP(struct app *a, const struct strv *args)
{
    pan(a, 0, -10);
}

static void act_PAN_DOWN(struct app *a, const struct strv *args)
{
    pan(a, 0, 10);
}

/* --- panes ------------------------------------------------------------------------------------ */

static void set_collapsed(struct app *a, int group, bool collapsed)
{
    size_t task = selected_task(a);
    a->m.collapsed[group] = collapsed;
    model_relayout(&a->m);
    model_select_task(&a->m, task);
}

static void act_DETAIL(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return;
    const struct view_node *v = &a->m.view.nodes[a->m.sel];
    if (group_expand(&a->m, (size_t)a->m.sel))
        return;
    if (v->task < 0) {
        set_collapsed(a, v->group, false);
        return;
    }
    struct strv lines = {0};
    pane_detail(a, &lines);
    app_pane(a, PANE_DETAIL, "details", &lines);
}

static void act_WHY(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return;
    struct strv lines = {0};
    pane_why(a, &lines);
    app_pane(a, PANE_WHY, "why", &lines);
}

static void act_LOG(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return;
    struct strv lines = {0};
    a->log_task = selected_task(a);
    bool live = pane_log(a, a->log_task, &lines);
    char *title = xasprintf("log of %s%s", a->m.ws->flow->tasks[a->log_task].name,
                            live ? " (running: following)" : "");
    app_pane(a, PANE_LOG, title, &lines);
    free(title);
    a->pane_follow = live;
    app_scroll_end(a);
}

static void act_HISTORY(struct app *a, const struct strv *args)
{
    if (!a->m.ws)
        return;
    struct strv lines = {0};
    pane_history(a, &lines);
    app_pane(a, PANE_HISTORY, "history: Enter shows a run, space marks it, d diffs, p replays",
             &lines);
    a->run_sel = a->n_runs ? 0 : -1;
}

static void act_HELP(struct app *a, const struct strv *args)
{
    struct strv lines = {0};
    actions_help(&lines);
    app_pane(a, PANE_HELP, "keys (j/k scroll, Esc closes)", &lines);
}

static void act_BACK(struct app *a, const struct strv *args)
{
    if (a->pane != PANE_NONE) {
        app_close_pane(a);
    } else if (a->m.past_run) {
        model_leave_past(&a->m);
        a->playing = false;
        app_message(a, "back to the present");
    } else if (a->m.focus >= 0) {
        size_t task = selected_task(a);
        a->m.focus = -1;
        model_relayout(&a->m);
        model_select_task(&a->m, task);
    }
    for (size_t i = 0; i < a->m.view.n; i++)
        a->m.marked[i] = false;
}

/* --- past runs ------------------------------------------------------------------------------- */

static bool showing_past(struct app *a)
{
    if (a->m.past_run)
        return true;
    app_message(a, "no past run shown: H lists them, Enter shows one");
    return false;
}

static void step_time(struct app *a, long delta)
{
    if (!showing_past(a))
        return;
    a->playing = false;
    model_seek(&a->m, (long)a->m.past_at + delta);
}

static void act_STEP_BACK(struct app *a, const struct strv *args)
{
    step_time(a, -1);
}

static void act_STEP_FORWARD(struct app *a, const struct strv *args)
{
    step_time(a, 1);
}

static void act_PLAY(struct app *a, const struct strv *args)
{
    if (!showing_past(a))
        return;
    a->playing = !a->playing;
    if (a->playing && a->m.past_at >= a->m.n_past)
        model_seek(&a->m, 0); /* from the start again */
    a->next_step_at = now_mono();
    app_message(a, "%s at %dx", a->playing ? "playing" : "paused", a->speed);
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

static void act_SLOWER(struct app *a, const struct strv *args)
{
    change_speed(a, false);
}

static void act_FASTER(struct app *a, const struct strv *args)
{
    change_speed(a, true);
}

static void act_REPLAY(struct app *a, const struct strv *args)
{
    if (showing_past(a))
        app_replay(a, a->m.past_run);
}

/* --- running ---------------------------------------------------------------------------------- */

static void start_now(struct app *a, const char *target)
{
    struct err e;
    if (a->m.run_going && a->child.pid <= 0)
        app_message(a, "a run started elsewhere is going; this one waits for nothing else");
    const char *args[] = {"run", target, NULL};
    if (child_start(&a->child, a->m.flow_path, args, &e))
        app_message(a, "%s", e.msg);
    else
        app_message(a, "running %s", target ? target : "the flow");
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

static void act_RUN(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return;
    if (group_is(&a->m, (size_t)a->m.sel)) /* a matrix task's base name: every instance */
        start(a, model_node_name(&a->m, (size_t)a->m.sel));
    else
        start(a, a->m.ws->flow->tasks[selected_task(a)].name);
}

static void act_RUN_ALL(struct app *a, const struct strv *args)
{
    if (a->m.ws)
        start(a, NULL);
}

static void act_CANCEL(struct app *a, const struct strv *args)
{
    if (!child_running(&a->child)) {
        app_message(a, "no run started here is going");
        return;
    }
    child_cancel(&a->child);
    app_message(a, "cancelling the run...");
}

/* --- invalidation ---------------------------------------------------------------------------- */

static void do_invalidate(struct app *a)
{
    int64_t id;
    size_t removed;
    struct err e;
    if (invalidate_apply(a->m.ws, a->pending, a->n_pending, "from the TUI", &id, &removed, &e))
        app_message(a, "%s", e.msg);
    else if (!removed)
        app_message(a, "nothing to invalidate: not cached");
    else
        app_message(a, "invalidation %lld: %zu task%s (u undoes it)", (long long)id, a->n_pending,
                    a->n_pending == 1 ? "" : "s");
    if (removed)
        app_push_undo(a, id);
    app_reload(a);
}

static void ask_invalidate(struct app *a, enum invalidate_scope scope)
{
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

static void act_INVALIDATE(struct app *a, const struct strv *args)
{
    ask_invalidate(a, INVALIDATE_TASK);
}

static void act_INVALIDATE_DOWN(struct app *a, const struct strv *args)
{
    ask_invalidate(a, INVALIDATE_DOWNSTREAM);
}

static void act_INVALIDATE_UP(struct app *a, const struct strv *args)
{
    ask_invalidate(a, INVALIDATE_UPSTREAM);
}

static void undo_invalidation(struct app *a, int64_t id)
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
    app_reload(a);
}

/* Undoes what was done last here: an edit or an invalidation; with nothing done here,
 * the store's last invalidation. */
static void act_UNDO(struct app *a, const struct strv *args)
{
    while (a->n_marks) {
        int64_t mark = a->undo_marks[--a->n_marks];
        const char *what = mark ? NULL : model_undo(&a->m);
        if (what) {
            app_message(a, "undid %s (^R redoes it)", what);
            return;
        }
        if (mark && a->m.ws) {
            undo_invalidation(a, mark);
            return;
        }
    }
    int64_t id = a->m.ws ? invalidate_last(a->m.ws) : 0;
    if (id)
        undo_invalidation(a, id);
    else
        app_message(a, "nothing to undo");
}

static void act_REDO(struct app *a, const struct strv *args)
{
    const char *what = model_redo(&a->m);
    if (what) {
        app_push_undo(a, 0);
        app_message(a, "redid %s", what);
    } else {
        app_message(a, "nothing to redo");
    }
}

/* --- finding and shaping --------------------------------------------------------------------- */

static void act_SEARCH(struct app *a, const struct strv *args)
{
    a->prompt = PROMPT_SEARCH;
    sb_free(&a->input);
    sb_adds(&a->input, "");
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

static void act_NEXT(struct app *a, const struct strv *args)
{
    jump(a, 1);
}

static void act_PREV(struct app *a, const struct strv *args)
{
    jump(a, -1);
}

static void act_FOCUS(struct app *a, const struct strv *args)
{
    if (!have_selection(a))
        return;
    size_t task = selected_task(a);
    a->m.focus = (long)task;
    model_relayout(&a->m);
    model_select_task(&a->m, task);
    app_message(a, "focus on %s (Esc shows everything)", a->m.ws->flow->tasks[task].name);
}

static void act_EXPAND(struct app *a, const struct strv *args)
{
    if (!have_selection(a) || group_expand(&a->m, (size_t)a->m.sel))
        return;
    if (a->m.view.nodes[a->m.sel].task < 0)
        set_collapsed(a, a->m.view.nodes[a->m.sel].group, false);
}

static void act_COLLAPSE(struct app *a, const struct strv *args)
{
    if (have_selection(a) && !group_collapse_around(&a->m, (size_t)a->m.sel))
        app_message(a, "not in a sub-flow or an expanded matrix task");
}

static void act_DIRECTION(struct app *a, const struct strv *args)
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
    long sel = m->sel;
    model_relayout(m);
    m->sel = sel;
    app_message(a, "%s", m->dir_auto ? "direction: automatic"
                         : m->dir == LAYOUT_DOWN ? "direction: top-down"
                                                 : "direction: left to right");
}

static void act_MOUSE(struct app *a, const struct strv *args)
{
    a->mouse = !a->mouse;
    mousemask(a->mouse ? BUTTON1_CLICKED | BUTTON1_PRESSED : 0, NULL);
    app_message(a, "mouse %s", a->mouse ? "on: a click selects" : "off");
}

static void act_COMMAND(struct app *a, const struct strv *args)
{
    a->prompt = PROMPT_COMMAND;
    sb_free(&a->input);
    sb_adds(&a->input, "");
}

static void quit_now(struct app *a)
{
    if (child_running(&a->child))
        child_stop(&a->child, 10.0);
    a->quit = true;
}

static void act_QUIT(struct app *a, const struct strv *args)
{
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
    int g = v->task >= 0 ? f->tasks[v->task].group : f->groups[v->group].parent;
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

static void act_ADD(struct app *a, const struct strv *args)
{
    if (!editable(a))
        return;
    if (args->n >= 2) {
        struct edit ed[] = {{.op = EDIT_ADD, .a = args->v[0]},
                            {.op = EDIT_SET, .a = NULL, .value = args->v[1]}};
        char *run = xasprintf("%s.run", args->v[0]);
        ed[1].a = run;
        if (app_edit(a, ed, 2, args->v[0]))
            app_message(a, "added %s", args->v[0]);
        free(run);
        return;
    }
    /* The new task comes after the one selected: upstream picked on the graph. */
    const char *after = a->m.ws && a->m.sel >= 0 ? model_node_name(&a->m, (size_t)a->m.sel) : NULL;
    struct form f;
    form_open_add(&f, args->n ? args->v[0] : NULL,
                  after && flowedit_has_task(a->m.doc, after) ? after : NULL);
    app_form(a, &f);
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

static void act_EDIT(struct app *a, const struct strv *args)
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
}

static void connect(struct app *a, const char *up, const char *down, bool on)
{
    struct edit ed = {.op = on ? EDIT_CONNECT : EDIT_DISCONNECT, .a = up, .b = down};
    if (app_edit(a, &ed, 1, down))
        app_message(a, on ? "%s now comes after %s" : "%s no longer comes after %s", down, up);
}

static void act_CONNECT(struct app *a, const struct strv *args)
{
    if (args->n == 2) {
        connect(a, args->v[0], args->v[1], true);
        return;
    }
    char *up = task_arg(a, args);
    if (!up)
        return;
    free(a->connect_from);
    a->connect_from = up;
}

static void act_DISCONNECT(struct app *a, const struct strv *args)
{
    if (args->n == 2)
        connect(a, args->v[0], args->v[1], false);
    else
        usage(a, "disconnect");
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

static void act_REMOVE(struct app *a, const struct strv *args)
{
    char *name = task_arg(a, args);
    if (!name)
        return;
    struct edit ed = {.op = EDIT_REMOVE, .a = name};
    struct err e;
    if (flowedit_check(a->m.doc, &ed, 1, &e)) {
        bool exists = flowedit_has_task(a->m.doc, name);
        app_message(a, "%s%s%s%s", e.msg, exists ? " (:rm! " : "", exists ? name : "",
                    exists ? " removes it anyway)" : "");
        free(name);
        return;
    }
    for (size_t i = 0; i < a->m.view.n; i++)
        a->m.marked[i] = strcmp(model_node_name(&a->m, i), name) == 0;
    app_ask(a, remove_pending, "remove %s from %s? (y/n)", name, a->m.flow_path);
    free(a->pending_name);
    a->pending_name = name;
}

static void act_REMOVE_ANYWAY(struct app *a, const struct strv *args)
{
    char *name = task_arg(a, args);
    if (name)
        remove_task(a, name, true);
    free(name);
}

static void act_RENAME(struct app *a, const struct strv *args)
{
    if (args->n == 0) {
        act_EDIT(a, args);
        if (a->form)
            a->form->focus = 0;
        return;
    }
    char *was = args->n == 2 ? xstrdup(args->v[0]) : task_arg(a, &(struct strv){0});
    const char *new_name = args->v[args->n - 1];
    if (!was)
        return;
    struct edit ed = {.op = EDIT_RENAME, .a = was, .b = new_name};
    if (app_edit(a, &ed, 1, new_name))
        app_message(a, "renamed %s to %s, and every after and $IN_ that named it", was, new_name);
    free(was);
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

static void act_SET(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_SET, 2, "set");
}

static void act_UNSET(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_UNSET, 1, "unset");
}

static void act_PARAM(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_PARAM, 2, "param");
}

static void act_UNPARAM(struct app *a, const struct strv *args)
{
    field_edit(a, args, EDIT_UNPARAM, 1, "unparam");
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

static void act_EDITOR(struct app *a, const struct strv *args)
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
            return;
        }
    } else {
        return;
    }
    int rc = run_editor(dir, file);
    app_reload(a);
    if (rc == 0)
        app_message(a, "edited %s", file);
    else
        app_message(a, "the editor exited with status %d", rc);
    free(code);
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

static void act_SAVE(struct app *a, const struct strv *args)
{
    if (!editable(a))
        return;
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
}

/* --- the table ---------------------------------------------------------------------------------- */

struct entry {
    const char *name;
    int key, ckey;
    const char *usage, *help;
    bool footer;
    handler fn;
};

static const struct entry table[] = {
#define X(id, name, key, ckey, usage, help, footer)                                                \
    {name, key, ckey, usage, help, footer, act_##id},
    TUI_ACTIONS(X)
#undef X
};

static void run_entry(struct app *a, size_t i, const struct strv *args)
{
    table[i].fn(a, args);
    a->dirty = true;
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
        a->dirty = true;
        return true;
    }
    for (size_t i = 0; i < ACT_COUNT; i++) {
        if ((table[i].key && key == table[i].key) || (table[i].ckey && key == table[i].ckey) ||
            (i == ACT_DETAIL && key == '\r')) {
            run_entry(a, i, &(struct strv){0});
            return true;
        }
    }
    return false;
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
        if (strlen(table[i].name) != n || strncmp(p, table[i].name, n) != 0)
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
                                            : "";
    snprintf(buf, n, "%s%s%s", k, k[0] && ck[0] && e->ckey != KEY_ENTER ? " " : "",
             e->ckey == KEY_ENTER ? "" : ck);
}

void actions_help(struct strv *lines)
{
    for (size_t i = 0; i < ACT_COUNT; i++) {
        char k[32];
        key_text(&table[i], k, sizeof k);
        char *cmd =
            xasprintf("%s%s%s", table[i].name, table[i].usage[0] ? " " : "", table[i].usage);
        strv_pushf(lines, "  %-12s %-27s %s", k, cmd, table[i].help);
        free(cmd);
    }
    strv_push(lines, xstrdup(""));
    strv_push(lines, xstrdup("  In a pane: Up/Down/PgUp/PgDn scroll, Esc or q closes it."));
    strv_push(lines, xstrdup("  Ctrl-C: as q (at a prompt, question or form: as Esc)."));
    strv_push(lines, xstrdup("  `:` takes an action and its arguments (Tab completes names, "
                             "fields, paths):"));
    strv_push(lines, xstrdup("  :add train python3 train.py, :set train.expire 24h, "
                             ":connect load train, :save"));
    strv_push(lines, xstrdup("  Edits are checked as the CLI checks the file; one that "
                             "breaks the flow is refused."));
    strv_push(lines, xstrdup("  In a form: Up/Down move, Tab completes, Enter applies, Esc "
                             "cancels."));
}

/* "K name" for action i. */
static void hint(size_t i, char *buf, size_t n)
{
    char k[32];
    key_text(&table[i], k, sizeof k);
    snprintf(buf, n, "%s %s", k, table[i].name);
}

char *actions_footer(int width)
{
    /* `? help` (and `q quit` when it fits) always show, at the end: the rest fill the
     * room before them, the first of the table first. */
    char help[48], quit[48];
    hint(ACT_HELP, help, sizeof help);
    hint(ACT_QUIT, quit, sizeof quit);
    char *tail = xasprintf("%s  %s", help, quit);
    if ((int)strlen(tail) > width) {
        free(tail);
        tail = xstrdup(help);
    }
    int room = width - (int)strlen(tail) - 2;
    struct sb b = {0};
    for (size_t i = 0; i < ACT_COUNT; i++) {
        if (!table[i].footer || i == ACT_HELP || i == ACT_QUIT)
            continue;
        char h[80];
        hint(i, h, sizeof h);
        if ((int)(b.len + (b.len ? 2 : 0) + strlen(h)) > room)
            break;
        sb_addf(&b, "%s%s", b.len ? "  " : "", h);
    }
    sb_addf(&b, "%s%s", b.len ? "  " : "", tail);
    free(tail);
    return sb_take(&b);
}

void actions_names(struct strv *out)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        strv_push(out, xstrdup(table[i].name));
}

const char *actions_usage(const char *name)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].usage;
    return NULL;
}
