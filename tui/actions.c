/* actions: the table's handlers. Each does one thing to the app and marks it dirty. */
#include <curses.h>

#include "actions.h"
#include "panes.h"

typedef void (*handler)(struct app *a);

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

/* Moves along the graph; with nothing further that way, pans the picture instead
 * (in the key's screen direction). */
static void step(struct app *a, int dv, int du, int dx, int dy)
{
    if (!model_move(&a->m, dv, du))
        pan(a, dx * 10, dy * 5);
}

static void act_UP(struct app *a)
{
    bool down = a->m.dir == LAYOUT_DOWN;
    step(a, -1, 0, down ? 0 : -1, down ? -1 : 0);
}

static void act_DOWN(struct app *a)
{
    bool down = a->m.dir == LAYOUT_DOWN;
    step(a, 1, 0, down ? 0 : 1, down ? 1 : 0);
}

static void act_LEFT(struct app *a)
{
    bool down = a->m.dir == LAYOUT_DOWN;
    step(a, 0, -1, down ? -1 : 0, down ? 0 : -1);
}

static void act_RIGHT(struct app *a)
{
    bool down = a->m.dir == LAYOUT_DOWN;
    step(a, 0, 1, down ? 1 : 0, down ? 0 : 1);
}

static void act_FIRST(struct app *a)
{
    if (a->m.view.n)
        a->m.sel = 0;
}

static void act_LAST(struct app *a)
{
    if (a->m.view.n)
        a->m.sel = (long)a->m.view.n - 1;
}

static void act_PAN_LEFT(struct app *a)
{
    pan(a, -20, 0);
}

static void act_PAN_RIGHT(struct app *a)
{
    pan(a, 20, 0);
}

static void act_PAN_UP(struct app *a)
{
    pan(a, 0, -10);
}

static void act_PAN_DOWN(struct app *a)
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

static void act_DETAIL(struct app *a)
{
    if (!have_selection(a))
        return;
    const struct view_node *v = &a->m.view.nodes[a->m.sel];
    if (v->task < 0) {
        set_collapsed(a, v->group, false);
        return;
    }
    struct strv lines = {0};
    pane_detail(a, &lines);
    app_pane(a, PANE_DETAIL, "details", &lines);
}

static void act_WHY(struct app *a)
{
    if (!have_selection(a))
        return;
    struct strv lines = {0};
    pane_why(a, &lines);
    app_pane(a, PANE_WHY, "why", &lines);
}

static void act_LOG(struct app *a)
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
    a->pane_scroll = a->lines.n > 0 ? (int)a->lines.n - 1 : 0;
}

static void act_HISTORY(struct app *a)
{
    if (!a->m.ws)
        return;
    struct strv lines = {0};
    pane_history(a, &lines);
    app_pane(a, PANE_HISTORY, "history: Enter shows a run, space marks it, d diffs, p replays",
             &lines);
    a->run_sel = a->n_runs ? 0 : -1;
}

static void act_HELP(struct app *a)
{
    struct strv lines = {0};
    actions_help(&lines);
    app_pane(a, PANE_HELP, "keys (j/k scroll, Esc closes)", &lines);
}

static void act_BACK(struct app *a)
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

static void act_STEP_BACK(struct app *a)
{
    step_time(a, -1);
}

static void act_STEP_FORWARD(struct app *a)
{
    step_time(a, 1);
}

static void act_PLAY(struct app *a)
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

static void act_SLOWER(struct app *a)
{
    change_speed(a, false);
}

static void act_FASTER(struct app *a)
{
    change_speed(a, true);
}

static void act_REPLAY(struct app *a)
{
    if (showing_past(a))
        app_replay(a, a->m.past_run);
}

/* --- running ---------------------------------------------------------------------------------- */

static void start(struct app *a, const char *target)
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

static void act_RUN(struct app *a)
{
    if (have_selection(a))
        start(a, a->m.ws->flow->tasks[selected_task(a)].name);
}

static void act_RUN_ALL(struct app *a)
{
    if (a->m.ws)
        start(a, NULL);
}

static void act_CANCEL(struct app *a)
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
    app_reload(a);
}

static void ask_invalidate(struct app *a, enum invalidate_scope scope)
{
    if (!have_selection(a))
        return;
    free(a->pending);
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
    sb_adds(&q, "? (y/n)");
    free(a->question);
    a->question = sb_take(&q);
    a->on_yes = do_invalidate;
    a->prompt = PROMPT_CONFIRM;
}

static void act_INVALIDATE(struct app *a)
{
    ask_invalidate(a, INVALIDATE_TASK);
}

static void act_INVALIDATE_DOWN(struct app *a)
{
    ask_invalidate(a, INVALIDATE_DOWNSTREAM);
}

static void act_INVALIDATE_UP(struct app *a)
{
    ask_invalidate(a, INVALIDATE_UPSTREAM);
}

static void act_UNDO(struct app *a)
{
    if (!a->m.ws)
        return;
    int64_t id = invalidate_last(a->m.ws);
    size_t restored;
    struct err e;
    if (!id)
        app_message(a, "no invalidation to undo");
    else if (invalidate_undo(a->m.ws, id, &restored, &e))
        app_message(a, "%s", e.msg);
    else
        app_message(a, "undid invalidation %lld", (long long)id);
    app_reload(a);
}

/* --- finding and shaping --------------------------------------------------------------------- */

static void act_SEARCH(struct app *a)
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

static void act_NEXT(struct app *a)
{
    jump(a, 1);
}

static void act_PREV(struct app *a)
{
    jump(a, -1);
}

static void act_FOCUS(struct app *a)
{
    if (!have_selection(a))
        return;
    size_t task = selected_task(a);
    a->m.focus = (long)task;
    model_relayout(&a->m);
    model_select_task(&a->m, task);
    app_message(a, "focus on %s (Esc shows everything)", a->m.ws->flow->tasks[task].name);
}

static void act_EXPAND(struct app *a)
{
    if (have_selection(a) && a->m.view.nodes[a->m.sel].task < 0)
        set_collapsed(a, a->m.view.nodes[a->m.sel].group, false);
}

static void act_COLLAPSE(struct app *a)
{
    if (!have_selection(a))
        return;
    int g = a->m.ws->flow->tasks[selected_task(a)].group;
    if (g < 0)
        app_message(a, "not in a sub-flow");
    else
        set_collapsed(a, g, true);
}

static void act_DIRECTION(struct app *a)
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

static void act_MOUSE(struct app *a)
{
    a->mouse = !a->mouse;
    mousemask(a->mouse ? BUTTON1_CLICKED | BUTTON1_PRESSED : 0, NULL);
    app_message(a, "mouse %s", a->mouse ? "on: a click selects" : "off");
}

static void act_COMMAND(struct app *a)
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

static void act_QUIT(struct app *a)
{
    if (!child_running(&a->child)) {
        a->quit = true;
        return;
    }
    free(a->question);
    a->question = xstrdup("a run started here is going: cancel it and quit? (y/n)");
    a->on_yes = quit_now;
    a->prompt = PROMPT_CONFIRM;
}

/* --- the table ---------------------------------------------------------------------------------- */

struct entry {
    const char *name;
    int key, ckey;
    const char *help;
    bool footer;
    handler fn;
};

static const struct entry table[] = {
#define X(id, name, key, ckey, help, footer) {name, key, ckey, help, footer, act_##id},
    TUI_ACTIONS(X)
#undef X
};

bool actions_key(struct app *a, int key)
{
    for (size_t i = 0; i < ACT_COUNT; i++) {
        if ((table[i].key && key == table[i].key) || (table[i].ckey && key == table[i].ckey) ||
            (i == ACT_DETAIL && key == '\r')) {
            table[i].fn(a);
            a->dirty = true;
            return true;
        }
    }
    return false;
}

bool actions_command(struct app *a, const char *name)
{
    for (size_t i = 0; i < ACT_COUNT; i++) {
        if (strcmp(name, table[i].name) == 0) {
            table[i].fn(a);
            a->dirty = true;
            return true;
        }
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
        strv_pushf(lines, "  %-12s %-22s %s", k, table[i].name, table[i].help);
    }
    strv_push(lines, xstrdup(""));
    strv_push(lines, xstrdup("  In a pane: Up/Down/PgUp/PgDn scroll, Esc or q closes it."));
    strv_push(lines, xstrdup("  `:` takes an action's name (Tab completes): :run-all, :why..."));
}

char *actions_footer(int width)
{
    struct sb b = {0};
    for (size_t i = 0; i < ACT_COUNT; i++) {
        if (!table[i].footer)
            continue;
        char k[32];
        key_text(&table[i], k, sizeof k);
        size_t before = b.len;
        sb_addf(&b, "%s%s %s", b.len ? "  " : "", k, table[i].name);
        if ((int)b.len > width) {
            b.len = before;
            b.buf[b.len] = 0;
            break;
        }
    }
    return sb_take(&b);
}

void actions_complete(const char *prefix, struct strv *out)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (strncmp(table[i].name, prefix, strlen(prefix)) == 0)
            strv_push(out, xstrdup(table[i].name));
}
