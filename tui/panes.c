/* panes: the text of the TUI's panes, from the engine (no curses). */
#include "panes.h"

#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "history.h"
#include "look.h"
#include "why.h"

#define LOG_TAIL 8
#define FILES_SHOWN 10

static void add_text_lines(struct strv *lines, const char *text, const char *indent)
{
    for (const char *l = text; l && *l;) {
        const char *eol = strchr(l, '\n');
        size_t n = eol ? (size_t)(eol - l) : strlen(l);
        strv_pushf(lines, "%s%.*s", indent, (int)n, l);
        l += n + (eol ? 1 : 0);
    }
}

/* The stored log of the task's last run that had one, or NULL. Caller frees. */
static char *last_log(const struct model *m, size_t t)
{
    sqlite3_stmt *st = db_prepare(m->ws->db, "SELECT log_object FROM task_runs WHERE flow_id = "
                                             "? AND task = ? AND log_object IS NOT NULL ORDER "
                                             "BY id DESC LIMIT 1");
    sqlite3_bind_int64(st, 1, m->ws->flow_id);
    db_bind_text(st, 2, m->ws->flow->tasks[t].name);
    char *path = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        path = store_log_file(m->ws->store, db_col_text(st, 0));
    db_done(st);
    char *text = path ? file_read_all(path, NULL, NULL) : NULL;
    free(path);
    return text;
}

static void recent_runs(const struct model *m, size_t t, struct strv *lines)
{
    sqlite3_stmt *st = db_prepare(
        m->ws->db, "SELECT run_id, decision, coalesce(ended - started, -1), coalesce(started, "
                   "0), coalesce(reason, '') FROM task_runs WHERE flow_id = ? AND task = ? "
                   "ORDER BY id DESC LIMIT 5");
    sqlite3_bind_int64(st, 1, m->ws->flow_id);
    db_bind_text(st, 2, m->ws->flow->tasks[t].name);
    bool any = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!any)
            strv_push(lines, xstrdup("last runs:"));
        any = true;
        char took[32] = "", at[32] = "";
        if (sqlite3_column_double(st, 2) >= 0)
            fmt_duration(took, sizeof took, sqlite3_column_double(st, 2));
        if (sqlite3_column_double(st, 3) > 0)
            fmt_time(at, sizeof at, sqlite3_column_double(st, 3));
        strv_pushf(lines, "  run %-5lld %-9s %-7s %-12s %s", sqlite3_column_int64(st, 0),
                   db_col_text(st, 1), took, at, db_col_text(st, 4));
    }
    db_done(st);
}

static void output_files(const struct model *m, size_t t, struct strv *lines)
{
    const struct cache_entry *e = m->st[t].entry;
    if (!e)
        return;
    char size[32];
    fmt_size(size, sizeof size, e->size);
    char *manifest = cache_manifest(m->ws->db, e->digest);
    size_t files = 0;
    struct strv names = {0};
    for (const char *l = manifest; l && *l;) {
        const char *eol = strchr(l, '\n');
        size_t n = eol ? (size_t)(eol - l) : strlen(l);
        if ((l[0] == 'f' || l[0] == 'x') && l[1] == ' ') {
            files++;
            const char *name = memrchr(l, ' ', n);
            if (name && names.n < FILES_SHOWN)
                strv_pushf(&names, "  %.*s", (int)(l + n - name - 1), name + 1);
        }
        l += n + (eol ? 1 : 0);
    }
    free(manifest);
    strv_pushf(lines, "output: %zu file%s, %s in .sluice/views/%.12s...", files,
               files == 1 ? "" : "s", size, e->digest);
    for (size_t i = 0; i < names.n; i++)
        strv_push(lines, xstrdup(names.v[i]));
    if (files > names.n)
        strv_pushf(lines, "  ... %zu more", files - names.n);
    strv_free(&names);
}

void pane_detail(const struct app *a, struct strv *lines)
{
    const struct model *m = &a->m;
    if (!m->ws || m->sel < 0)
        return;
    size_t i = (size_t)m->sel, t = model_task(m, i);
    const struct task *task = &m->ws->flow->tasks[t];
    const char *state = model_state(m, i);
    strv_pushf(lines, "%s  %s %s", task->name, look_glyph(state, m->ascii), state);
    for (size_t r = 0; r < m->st[t].reasons.n; r++)
        strv_pushf(lines, "  %s", m->st[t].reasons.v[r]);
    strv_pushf(lines, "key %.16s   command: %s", m->ws->keys.in[t].deep, task->run);
    output_files(m, t, lines);
    recent_runs(m, t, lines);
    char *log = last_log(m, t);
    if (log) {
        struct strv all = {0};
        add_text_lines(&all, log, "  | ");
        strv_push(lines, xstrdup("log (last lines; L shows it all):"));
        for (size_t k = all.n > LOG_TAIL ? all.n - LOG_TAIL : 0; k < all.n; k++)
            strv_push(lines, xstrdup(all.v[k]));
        strv_free(&all);
    }
    free(log);
}

void pane_why(const struct app *a, struct strv *lines)
{
    const struct model *m = &a->m;
    if (!m->ws || m->sel < 0)
        return;
    size_t t = model_task(m, (size_t)m->sel);
    struct why w;
    struct err e;
    if (why_explain(m->ws, t, &w, &e)) {
        strv_push(lines, xstrdup(e.msg));
        return;
    }
    const char *state = state_name(w.state);
    strv_pushf(lines, "%s: %s %s", m->ws->flow->tasks[t].name, look_glyph(state, m->ascii),
               state);
    if (w.n == 0)
        strv_push(lines, xstrdup(w.state == ST_CACHED ? "  its output for these exact inputs "
                                                        "is in the store"
                                                      : "  it has never completed"));
    for (size_t i = 0; i < w.n; i++) {
        strv_pushf(lines, "  %s", w.causes[i].text);
        if (w.causes[i].diff_error)
            strv_pushf(lines, "    (no diff: %s)", w.causes[i].diff_error);
        add_text_lines(lines, w.causes[i].diff, "    ");
    }
    why_free(&w);
}

bool pane_log(const struct app *a, size_t t, struct strv *lines)
{
    const struct model *m = &a->m;
    bool live = m->run_going && m->live[t] == LIVE_RUNNING && m->live_log[t];
    char *text = live ? file_read_all(m->live_log[t], NULL, NULL) : last_log(m, t);
    if (!text)
        strv_push(lines, xstrdup(live ? "(no output yet)" : "(no output recorded)"));
    add_text_lines(lines, text, "");
    free(text);
    return live;
}

void pane_history(struct app *a, struct strv *lines)
{
    struct model *m = &a->m;
    free(a->runs);
    a->runs = NULL;
    a->n_runs = 0;
    size_t cap = 0;
    sqlite3_stmt *st = db_prepare(
        m->ws->db,
        "SELECT r.id, r.started, coalesce(r.ended - r.started, -1), r.status, "
        " (SELECT count(*) FROM task_runs t WHERE t.run_id = r.id AND decision = 'ran'), "
        " (SELECT count(*) FROM task_runs t WHERE t.run_id = r.id AND decision = 'hit'), "
        " (SELECT count(*) FROM task_runs t WHERE t.run_id = r.id AND decision = 'cutoff'), "
        " (SELECT count(*) FROM task_runs t WHERE t.run_id = r.id AND decision = 'failed'), "
        " r.targets FROM runs r WHERE r.flow_id = ? ORDER BY r.id DESC LIMIT 500");
    sqlite3_bind_int64(st, 1, m->ws->flow_id);
    strv_push(lines, xstrdup("  run    started        status       took     ran  hit  cut  "
                             "failed  targets"));
    while (sqlite3_step(st) == SQLITE_ROW) {
        xgrow(&a->runs, &cap, a->n_runs + 1, sizeof *a->runs);
        a->runs[a->n_runs++] = sqlite3_column_int64(st, 0);
        char at[32], took[32] = "-";
        fmt_time(at, sizeof at, sqlite3_column_double(st, 1));
        if (sqlite3_column_double(st, 2) >= 0)
            fmt_duration(took, sizeof took, sqlite3_column_double(st, 2));
        strv_pushf(lines, "  %-6lld %-14s %-12s %-8s %4d %4d %4d  %6d  %s",
                   sqlite3_column_int64(st, 0), at, db_col_text(st, 3), took,
                   sqlite3_column_int(st, 4), sqlite3_column_int(st, 5),
                   sqlite3_column_int(st, 6), sqlite3_column_int(st, 7), db_col_text(st, 8));
    }
    db_done(st);
    if (a->n_runs == 0)
        strv_push(lines, xstrdup("  (no runs yet: R runs the flow)"));
}

int pane_show_run(struct app *a, int64_t run)
{
    struct model *m = &a->m;
    size_t n = m->ws->flow->n_tasks;
    for (size_t i = 0; m->past_decision && i < n; i++)
        free(m->past_decision[i]);
    free(m->past_decision);
    m->past_decision = xcalloc(n + 1, sizeof *m->past_decision);
    sqlite3_stmt *st = db_prepare(m->ws->db, "SELECT task, decision FROM task_runs WHERE run_id "
                                             "= ? ORDER BY id");
    sqlite3_bind_int64(st, 1, run);
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        long t = flow_find(m->ws->flow, db_col_text(st, 0));
        if (t >= 0) {
            free(m->past_decision[t]);
            m->past_decision[t] = xstrdup(db_col_text(st, 1));
            found++;
        }
    }
    db_done(st);
    m->past_run = run;
    return found;
}
