/* app: the loop: keys, prompts, panes, file changes, database commits, ticks. */
#include "app.h"

#include <curses.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "actions.h"
#include "complete.h"
#include "draw.h"
#include "panes.h"
#include "runs.h"
#include "script.h"

#define TICK_MS 100      /* database polls, spinner, elapsed times: about 10 a second */
#define RELOAD_DELAY 0.15 /* after a file change, wait for the burst of writes to end */

void app_message(struct app *a, const char *fmt, ...)
{
    free(a->message);
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    a->message = sb_take(&b);
    a->dirty = true;
}

void app_pane(struct app *a, enum pane p, const char *title, struct strv *lines)
{
    strv_free(&a->lines);
    a->lines = *lines;
    memset(lines, 0, sizeof *lines);
    free(a->pane_title);
    a->pane_title = xstrdup(title);
    a->pane = p;
    a->n_details += p == PANE_DETAIL;
    a->pane_scroll = 0;
    a->pane_follow = false;
    a->diff_from_history = false;
    a->dirty = true;
}

void app_close_pane(struct app *a)
{
    a->pane = PANE_NONE;
    strv_free(&a->lines);
    a->dirty = true;
}

static void refresh_detail(struct app *a);

static void rewatch(struct app *a)
{
    if (a->watching)
        watch_free(&a->watch);
    a->watching = true;
    watch_init(&a->watch, a->m.flow_path, a->m.ws);
}

void app_reload(struct app *a)
{
    bool conflict = a->m.disk_conflict;
    model_reload(&a->m);
    if (a->m.disk_conflict && !conflict)
        app_message(a, "%s changed on disk: your unsaved edits stay (saving asks first)",
                    a->m.flow_path);
    rewatch(a);
    refresh_detail(a);
    a->dirty = true;
}

/* --- past runs ------------------------------------------------------------------------------------ */

void app_show_run(struct app *a, int64_t run)
{
    int n = model_show_run(&a->m, run);
    a->playing = false;
    a->speed = a->speed ? a->speed : 1;
    app_message(a, "run %lld decided %d task%s: Left/Right step through its events, space "
                   "plays them, p replays the run, Esc: back to now",
                (long long)run, n, n == 1 ? "" : "s");
}

void app_replay(struct app *a, int64_t run)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)run);
    const char *args[] = {"replay", id, NULL};
    struct err e;
    a->playing = false;
    if (child_start(&a->child, a->m.flow_path, args, &e)) {
        app_message(a, "%s", e.msg);
        return;
    }
    model_leave_past(&a->m);
    app_message(a, "replaying run %lld with the code it had...", (long long)run);
}

void app_diff(struct app *a, int64_t from, int64_t to)
{
    struct strv lines = {0};
    pane_diff(a, from, to, &lines);
    char *title = xasprintf("run %lld -> run %lld (Esc closes)", (long long)from, (long long)to);
    app_pane(a, PANE_DIFF, title, &lines);
    free(title);
}

/* Plays a past run's events at their own pace, `speed` times faster (but never more
 * than a second apart, so hour-long gaps do not stall it). */
static void play(struct app *a)
{
    struct model *m = &a->m;
    if (!a->playing || !m->past_run || now_mono() < a->next_step_at)
        return;
    if (m->past_at >= m->n_past) {
        a->playing = false;
        app_message(a, "end of run %lld", (long long)m->past_run);
        return;
    }
    model_seek(m, (long)m->past_at + 1);
    double gap = m->past_at < m->n_past ? m->past[m->past_at].t - m->past[m->past_at - 1].t : 0;
    gap /= a->speed;
    a->next_step_at = now_mono() + (gap > 1 ? 1 : gap < 0.05 ? 0.05 : gap);
    a->dirty = true;
}

/* The detail pane, if open, redone from the model (keeping its scroll). */
static void refresh_detail(struct app *a)
{
    if (a->pane != PANE_DETAIL)
        return;
    struct strv lines = {0};
    pane_detail(a, &lines);
    int scroll = a->pane_scroll;
    app_pane(a, PANE_DETAIL, "details", &lines);
    a->pane_scroll = scroll;
    a->dirty = true;
}

void app_ask(struct app *a, void (*on_yes)(struct app *a), const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    free(a->question);
    a->question = sb_take(&b);
    a->on_yes = on_yes;
    a->prompt = PROMPT_CONFIRM;
    a->dirty = true;
}

void app_push_undo(struct app *a, int64_t mark)
{
    xgrow(&a->undo_marks, &a->cap_marks, a->n_marks + 1, sizeof *a->undo_marks);
    a->undo_marks[a->n_marks++] = mark;
}

static int edit(struct app *a, const struct edit *edits, size_t n, const char *select,
                struct err *e)
{
    if (model_edit(&a->m, edits, n, e))
        return -1;
    a->react |= REACT_PANE;
    app_push_undo(a, 0);
    rewatch(a); /* code files may have come or gone */
    if (select)
        model_select_name(&a->m, select);
    a->dirty = true;
    return 0;
}

bool app_edit(struct app *a, const struct edit *edits, size_t n, const char *select)
{
    struct err e;
    if (edit(a, edits, n, select, &e) == 0)
        return true;
    app_message(a, "%s", e.msg);
    return false;
}

/* --- forms ---------------------------------------------------------------------------------------- */

static char *flow_dir(const struct app *a)
{
    if (a->m.ws)
        return xstrdup(a->m.ws->flow->dir);
    char *dir = xstrdup(a->m.flow_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0;
    else
        strcpy(dir, ".");
    return dir;
}

/* Checks the form as typed with the validator, so it says what is wrong at once. */
static void check_form(struct app *a)
{
    struct form *f = a->form;
    a->form_unchecked = false;
    free(f->verdict);
    f->verdict = NULL;
    struct edit edits[FORM_FIELDS + 1];
    struct strv keep = {0};
    size_t n = form_edits(f, edits, &keep);
    struct err e;
    if (!form_task_name(f)[0])
        f->verdict = xstrdup("a task needs a name");
    else if (n && flowedit_check(a->m.doc, edits, n, &e))
        f->verdict = xstrdup(e.msg);
    strv_free(&keep);
}

static void close_form(struct app *a)
{
    form_free(a->form);
    free(a->form);
    a->form = NULL;
    a->dirty = true;
}

void app_form(struct app *a, struct form *f)
{
    if (a->form)
        close_form(a);
    a->form = xmalloc(sizeof *a->form);
    *a->form = *f;
    memset(f, 0, sizeof *f);
    check_form(a);
    a->dirty = true;
}

static void submit_form(struct app *a)
{
    struct form *f = a->form;
    struct edit edits[FORM_FIELDS + 1];
    struct strv keep = {0};
    size_t n = form_edits(f, edits, &keep);
    char *name = xstrdup(form_task_name(f));
    bool adding = f->kind == FORM_ADD;
    struct err e;
    if (n == 0) {
        close_form(a);
        app_message(a, "nothing changed");
    } else if (edit(a, edits, n, name, &e)) {
        free(f->verdict);
        f->verdict = xstrdup(e.msg); /* the form stays open with the reason */
    } else {
        close_form(a);
        app_message(a, adding ? "added %s (s saves the flow file)" : "changed %s", name);
    }
    strv_free(&keep);
    free(name);
}

static void form_input(struct app *a, int key)
{
    char *dir = flow_dir(a);
    enum form_result r = form_key(a->form, key, a->m.doc, dir);
    free(dir);
    if (r == FORM_CANCEL) {
        close_form(a);
        app_message(a, "nothing changed");
    } else if (r == FORM_SUBMIT) {
        submit_form(a);
    } else if (r == FORM_CHANGED) {
        a->form_unchecked = true; /* checked once the keys typed so far are in */
    }
}

/* --- prompts -------------------------------------------------------------------------------------- */

static bool line_has(const char *line, const char *text)
{
    size_t n = strlen(text);
    for (; *line; line++)
        if (strncasecmp(line, text, n) == 0)
            return true;
    return false;
}

bool app_pane_find(struct app *a, const char *text, int from, int dir)
{
    int n = (int)a->lines.n;
    for (int k = 1; text[0] && k <= n; k++) {
        int i = ((from + dir * k) % n + n) % n;
        if (line_has(a->lines.v[i], text)) {
            a->pane_scroll = 0;
            app_scroll(a, i);
            return true;
        }
    }
    return false;
}

/* `/` as it is typed: on the graph the first task matching from where it began is
 * selected; in a pane, the first line holding the text comes to the top. */
static void find_as_typed(struct app *a)
{
    const char *text = a->input.buf ? a->input.buf : "";
    if (a->prompt == PROMPT_FIND) {
        a->pane_scroll = a->find_from;
        app_pane_find(a, text, a->find_from - 1, 1);
        return;
    }
    a->m.sel = a->search_from;
    if (a->m.sel >= 0 && model_matches(&a->m, (size_t)a->m.sel, text))
        return;
    long i = model_search(&a->m, text, 1);
    if (i >= 0)
        a->m.sel = i;
}

static void submit_prompt(struct app *a)
{
    enum prompt p = a->prompt;
    a->prompt = PROMPT_NONE;
    const char *text = a->input.buf ? a->input.buf : "";
    if (p == PROMPT_SEARCH && text[0]) {
        free(a->search);
        a->search = xstrdup(text);
        a->search_shown = true;
        if (!model_count_matches(&a->m, text))
            app_message(a, "no task matches \"%s\"", text);
    } else if (p == PROMPT_FIND && text[0]) {
        free(a->pane_search);
        a->pane_search = xstrdup(text);
        if (!app_pane_find(a, text, a->find_from - 1, 1))
            app_message(a, "no line holds \"%s\"", text);
    } else if (p == PROMPT_COMMAND && text[0] && !actions_command(a, text)) {
        app_message(a, "no action named \"%.*s\" (? lists them)", (int)strcspn(text, " "), text);
    }
    sb_free(&a->input);
}

void app_candidates(struct app *a)
{
    strv_free(&a->cands);
    a->cand_sel = -1;
    complete_command(a->m.doc, a->input.buf ? a->input.buf : "", &a->cand_start, &a->cands);
}

/* Puts text in place of the word being completed. */
static void splice(struct app *a, const char *text)
{
    char *line = xstrdup(a->input.buf ? a->input.buf : "");
    sb_free(&a->input);
    sb_add(&a->input, line, a->cand_start);
    sb_adds(&a->input, text);
    free(line);
}

/* Tab on the `:` line: completes what every candidate shares; when that adds nothing,
 * cycles through the candidates (the list above the line shows them). */
static void complete_input(struct app *a)
{
    if (!a->cands.n)
        return;
    const char *word = a->input.buf ? a->input.buf + a->cand_start : "";
    char *common = complete_common(&a->cands);
    bool grows = a->cand_sel < 0 && strlen(common) > strlen(word);
    if (grows || a->cands.n == 1) {
        splice(a, common);
        free(common);
        app_candidates(a); /* on to the next argument's */
        return;
    }
    free(common);
    a->cand_sel = (a->cand_sel + 1) % (long)a->cands.n;
    splice(a, a->cands.v[a->cand_sel]);
}

static bool is_enter(int key)
{
    return key == '\n' || key == '\r' || key == KEY_ENTER;
}

static bool is_backspace(int key)
{
    return key == KEY_BACKSPACE || key == 127 || key == 8;
}

/* `/` in the task list: the name filter, applied as it is typed; Enter keeps it, Esc
 * drops it. */
static void filter_key(struct app *a, int key)
{
    struct sb *t = &a->list.text;
    if (key == 27) {
        sb_free(t);
        a->prompt = PROMPT_NONE;
    } else if (is_enter(key)) {
        a->prompt = PROMPT_NONE;
    } else if (is_backspace(key)) {
        if (t->len)
            t->buf[--t->len] = 0;
    } else if (key >= ' ' && key < 256) {
        sb_addc(t, (char)key);
    }
    tasklist_sync(&a->list, &a->m);
}

static void prompt_key(struct app *a, int key)
{
    if (a->prompt == PROMPT_FILTER) {
        filter_key(a, key);
        return;
    }
    if (a->prompt == PROMPT_CONFIRM) {
        bool yes = key == 'y' || key == 'Y';
        a->prompt = PROMPT_NONE;
        for (size_t i = 0; i < a->m.view.n; i++)
            a->m.marked[i] = false;
        if (yes && a->on_yes)
            a->on_yes(a);
        else
            app_message(a, "nothing done");
        return;
    }
    if (key == 27) {
        if (a->prompt == PROMPT_SEARCH)
            a->m.sel = a->search_from;
        if (a->prompt == PROMPT_FIND)
            a->pane_scroll = a->find_from;
        a->prompt = PROMPT_NONE;
        sb_free(&a->input);
    } else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        submit_prompt(a);
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (a->input.len)
            a->input.buf[--a->input.len] = 0;
    } else if (key == '\t' && a->prompt == PROMPT_COMMAND) {
        complete_input(a);
        return;
    } else if (key >= ' ' && key < 256) {
        sb_addc(&a->input, (char)key);
    }
    if (a->prompt == PROMPT_COMMAND)
        app_candidates(a);
    if (a->prompt == PROMPT_SEARCH || a->prompt == PROMPT_FIND)
        find_as_typed(a);
}

/* --- panes ---------------------------------------------------------------------------------------- */

/* The last scroll position that still fills the pane. */
static int scroll_max(const struct app *a)
{
    int max = (int)a->lines.n - draw_pane_rows(a);
    return max > 0 ? max : 0;
}

void app_scroll(struct app *a, int delta)
{
    int max = scroll_max(a);
    a->pane_scroll += delta;
    a->pane_scroll = a->pane_scroll > max ? max : a->pane_scroll;
    a->pane_scroll = a->pane_scroll < 0 ? 0 : a->pane_scroll;
    a->pane_follow = a->pane == PANE_LOG && a->pane_scroll == max && a->pane_follow;
}

void app_scroll_end(struct app *a)
{
    a->pane_scroll = scroll_max(a);
}

/* Moves the history's selected run by delta (clamped), scrolling to keep it in sight
 * (line 0 is the list's header, run k is on line k + 1). */
void app_history_move(struct app *a, long delta)
{
    long n = (long)a->n_runs, rows = draw_pane_rows(a);
    a->run_sel += delta;
    a->run_sel = a->run_sel >= n ? n - 1 : a->run_sel;
    a->run_sel = a->run_sel < 0 ? 0 : a->run_sel;
    if (a->run_sel + 1 >= a->pane_scroll + rows)
        a->pane_scroll = (int)(a->run_sel + 2 - rows);
    if (a->run_sel < a->pane_scroll)
        a->pane_scroll = (int)a->run_sel;
    a->pane_scroll = a->pane_scroll < 0 ? 0 : a->pane_scroll;
}

void app_open_history(struct app *a, long sel)
{
    struct strv lines = {0};
    pane_history(a, &lines);
    app_pane(a, PANE_HISTORY, "history: Enter shows a run, space marks it, d diffs, p replays",
             &lines);
    a->run_sel = a->n_runs ? 0 : -1;
    if (a->n_runs)
        app_history_move(a, sel);
}

/* --- input ------------------------------------------------------------------------------------------ */

static unsigned resize(struct app *a)
{
    a->m.term_w = COLS;
    a->m.term_h = LINES;
    return a->m.dir_auto ? REACT_LAYOUT : REACT_DRAW; /* the direction may change */
}

void app_react(struct app *a, unsigned r)
{
    if (r & REACT_RELOAD) {
        app_reload(a); /* lays out and rebuilds the details itself */
    } else {
        if ((r & REACT_LAYOUT) && a->m.ws) {
            bool had = a->m.sel >= 0;
            size_t task = had ? model_task(&a->m, (size_t)a->m.sel) : 0;
            model_relayout(&a->m);
            if (had)
                model_select_task(&a->m, task);
        }
        if (r & REACT_PANE)
            refresh_detail(a);
    }
    if (r)
        a->dirty = true;
}

/* The task the selection stands for, or -1. */
static long selected_task(const struct app *a)
{
    return a->m.ws && a->m.sel >= 0 ? (long)model_task(&a->m, (size_t)a->m.sel) : -1;
}

static void mouse(struct app *a)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return;
    long i = draw_hit(a, ev.x, ev.y);
    if (i >= 0) {
        a->m.sel = i;
        a->dirty = true;
    }
}

void app_key(struct app *a, int key)
{
    long task = selected_task(a);
    a->react = REACT_DRAW;
    if (key == KEY_RESIZE) {
        a->react |= resize(a);
    } else if (key == KEY_MOUSE) {
        mouse(a);
    } else {
        free(a->message);
        a->message = NULL;
        if (a->prompt != PROMPT_NONE)
            prompt_key(a, key);
        else if (a->form)
            form_input(a, key);
        else if (!actions_key(a, key))
            app_message(a, "no action on that key here (? lists them)");
    }
    if (a->quit)
        return;
    if (selected_task(a) != task)
        a->react |= REACT_PANE; /* the details follow the selection */
    unsigned r = a->react;
    a->react = REACT_NONE;
    app_react(a, r);
}

void app_interrupt(struct app *a)
{
    if (a->prompt != PROMPT_NONE || a->form) {
        app_key(a, 27);
        return;
    }
    a->react = REACT_DRAW;
    actions_command(a, "quit");
    unsigned r = a->react;
    a->react = REACT_NONE;
    if (!a->quit)
        app_react(a, r);
}

/* --- time --------------------------------------------------------------------------------------------- */

static bool anything_running(const struct app *a)
{
    for (size_t i = 0; a->m.run_going && i < a->m.ws->flow->n_tasks; i++)
        if (a->m.live[i] == LIVE_RUNNING)
            return true;
    return false;
}

static void refresh_log(struct app *a)
{
    if (a->pane != PANE_LOG || !a->pane_follow)
        return;
    struct strv lines = {0};
    a->pane_follow = pane_log(a, a->log_task, &lines);
    strv_free(&a->lines);
    a->lines = lines;
    app_scroll_end(a);
    a->dirty = true;
}

/* Says how the run just watched ended, as `sluice run` does on its last line. */
static void report_run(struct app *a)
{
    struct run_row r;
    if (a->m.ws && runs_get(a->m.ws->db, a->m.run_ended, &r)) {
        char took[32] = "";
        if (r.took >= 0)
            fmt_duration(took, sizeof took, r.took);
        struct sb b = {0};
        sb_addf(&b, "run %lld %s in %s:", (long long)r.id, r.status, took);
        const int counts[] = {r.ran, r.hit, r.cutoff, r.failed, r.blocked, r.unpublished};
        const char *words[] = {"ran", "hit", "cut off", "failed", "blocked", "unpublished"};
        for (int i = 0; i < 6; i++)
            if (counts[i] || (i == 0 && !r.hit && !r.cutoff && !r.failed))
                sb_addf(&b, " %d %s", counts[i], words[i]);
        char *failure = r.failed ? pane_failure(a, r.id) : NULL;
        if (failure)
            sb_addf(&b, " %s %s (t goes to it)", a->m.ascii ? "-" : "·", failure);
        free(failure);
        app_message(a, "%s", b.buf);
        sb_free(&b);
        run_row_free(&r);
    }
    a->m.run_ended = 0;
}

void app_tick(struct app *a)
{
    if (a->watching && watch_changed(&a->watch))
        a->reload_at = now_mono() + RELOAD_DELAY;
    if (a->reload_at > 0 && now_mono() >= a->reload_at) {
        a->reload_at = 0;
        app_reload(a);
    }
    child_running(&a->child); /* reaps it when it has ended */
    char *failure = child_failure(&a->child);
    if (failure)
        app_message(a, "%s", failure);
    free(failure);
    play(a);
    int64_t seen = a->m.events_seen, run = a->m.run_id;
    if (model_poll(&a->m)) {
        a->dirty = true;
        rewatch(a);
        if (a->m.events_seen != seen || a->m.run_id != run)
            refresh_detail(a); /* a task's state and job as the run goes */
    }
    if (a->m.run_ended)
        report_run(a);
    if (anything_running(a)) {
        a->spinner++;
        a->dirty = true;
    }
    refresh_log(a);
}

bool app_idle(struct app *a)
{
    return !child_running(&a->child) && !a->m.run_going && a->reload_at == 0 && !a->playing;
}

/* --- the screen ------------------------------------------------------------------------------------------ */

static void open_screen(bool headless, int w, int h)
{
    if (headless) {
        char n[16];
        snprintf(n, sizeof n, "%d", w);
        setenv("COLUMNS", n, 1);
        snprintf(n, sizeof n, "%d", h);
        setenv("LINES", n, 1);
        FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
        if (!newterm("xterm-256color", out, in) && !newterm("vt100", out, in)) {
            fputs("sluice tui: no terminal description to draw with\n", stderr);
            exit(2);
        }
        resize_term(h, w);
    } else {
        initscr();
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    nodelay(stdscr, TRUE);
}

/* A long reload's step (status.h): says on the last line how far it got, ten times a
 * second at most, and lets q, Esc or Ctrl-C stop it, which quits (other keys typed
 * meanwhile are dropped). */
static int load_step(void *ctx, const char *what, size_t done, size_t total)
{
    struct app *a = ctx;
    int key = a->script ? script_key_during_load(a->script) : -1;
    for (int k; !a->script && (k = getch()) != ERR;)
        key = k == 'q' || k == 27 || k == 3 ? k : key;
    if (key == 'q' || key == 27 || key == 3 || (a->signalled && *a->signalled)) {
        a->quit = true;
        return 1;
    }
    if (!a->script && now_mono() - a->step_drawn < 0.1)
        return 0;
    a->step_drawn = now_mono();
    char line[256];
    if (total)
        snprintf(line, sizeof line, "%s: %s, %zu of %zu tasks (q or Esc: quit)",
                 a->m.flow_path, what, done, total);
    else
        snprintf(line, sizeof line, "%s: %s (q or Esc: quit)", a->m.flow_path, what);
    move(LINES - 1, 0);
    clrtoeol();
    attrset(A_BOLD);
    addnstr(line, COLS);
    attrset(0);
    wnoutrefresh(stdscr);
    doupdate();
    if (a->script)
        script_progress(line);
    return 0;
}

static void create_flow(struct app *a)
{
    struct err e;
    if (model_create(&a->m, &e))
        app_message(a, "%s", e.msg);
    else
        app_message(a, "created %s: a adds a task", a->m.flow_path);
    rewatch(a);
}

int tui_main(const struct tui_opts *o)
{
    struct script *sc = NULL;
    struct err e;
    if (o->script && script_open(o->script, &sc, &e) != 0) {
        fprintf(stderr, "sluice tui: %s\n", e.msg);
        return 2;
    }
    int w = sc ? script_width(sc) : 0, h = sc ? script_height(sc) : 0;
    open_screen(sc != NULL, w, h);
    const char *nc = getenv("NO_COLOR");
    draw_init_colors(!(nc && nc[0]));
    struct app a = {.mouse = o->mouse, .followed = -1, .speed = 1, .script = sc,
                    .signalled = o->signalled};
    a.load_watch = (struct status_watch){load_step, &a};
    if (a.mouse)
        mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    model_open(&a.m, o->flow_path, o->ascii, COLS, LINES, &a.load_watch);
    rewatch(&a);
    if (a.m.missing)
        app_ask(&a, create_flow, "%s does not exist: create it? (y/n)", a.m.flow_path);
    a.dirty = true;
    double next_tick = now_mono();
    while (!a.quit) {
        if (a.dirty) {
            if (a.form && a.form_unchecked)
                check_form(&a);
            draw_frame(&a);
            a.dirty = false;
        }
        if (sc) {
            if (script_step(sc, &a) != 0)
                break;
        } else {
            struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                  {.fd = a.watching ? watch_fd(&a.watch) : -1, .events = POLLIN}};
            int wait = (int)((next_tick - now_mono()) * 1000);
            poll(p, 2, wait < 0 ? 0 : wait);
            /* The terminal is gone (closed without a SIGHUP reaching us): nothing more
             * can come from it, and polling it again would spin. */
            if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))
                a.quit = true;
            int key;
            while ((key = getch()) != ERR)
                app_key(&a, key);
        }
        if (o->signalled && *o->signalled) {
            if (*o->signalled == SIGINT)
                app_interrupt(&a);
            else
                a.quit = true; /* the run started here is stopped below */
            *o->signalled = 0;
        }
        if (now_mono() >= next_tick) {
            app_tick(&a);
            next_tick = now_mono() + TICK_MS / 1000.0;
        }
    }
    if (child_running(&a.child))
        child_stop(&a.child, 10.0);
    child_free(&a.child);
    endwin();
    script_close(sc);
    if (a.watching)
        watch_free(&a.watch);
    model_close(&a.m);
    strv_free(&a.lines);
    sb_free(&a.input);
    strv_free(&a.cands);
    strv_free(&a.run_params);
    tasklist_free(&a.list);
    free(a.pane_title);
    free(a.search);
    free(a.pane_search);
    free(a.question);
    free(a.pending);
    free(a.pending_name);
    free(a.connect_from);
    free(a.undo_marks);
    if (a.form)
        close_form(&a);
    free(a.message);
    free(a.runs);
    return 0;
}
