/* panes: the text of the TUI's panes, from the engine (no curses). */
#include "panes.h"

#include <stdio.h>
#include <string.h>

#include "actions.h"
#include "cache.h"
#include "group.h"
#include "history.h"
#include "look.h"
#include "rundiff.h"
#include "runs.h"
#include "store.h"
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
    char *object = runs_last_log(m->ws->db, m->ws->flow_id, m->ws->flow->tasks[t].name);
    char *path = object ? store_log_file(m->ws->store, object) : NULL;
    char *text = path ? file_read_all(path, NULL, NULL) : NULL;
    free(object);
    free(path);
    return text;
}

static bool runs_locally(const struct task *task)
{
    return strcmp(task->executor, "local") == 0;
}

static void recent_runs(const struct model *m, size_t t, struct strv *lines)
{
    const struct task *task = &m->ws->flow->tasks[t];
    struct task_run_row *r;
    size_t n = runs_of_task(m->ws->db, m->ws->flow_id, task->name, 5, &r);
    if (n)
        strv_push(lines, xstrdup("last runs:"));
    for (size_t i = 0; i < n; i++) {
        char took[32] = "", at[32] = "";
        if (r[i].took >= 0)
            fmt_duration(took, sizeof took, r[i].took);
        if (r[i].started > 0)
            fmt_time(at, sizeof at, r[i].started);
        char *job = runs_locally(task) ? NULL : runs_job_of(m->ws->db, r[i].run_id, task->name);
        strv_pushf(lines, "  run %-5lld %-9s %-7s %-12s %s%s%s%s", (long long)r[i].run_id,
                   r[i].decision, took, at, r[i].cause[0] ? r[i].cause : r[i].reason,
                   job ? " [" : "", job ? job : "",
                   job ? "]" : "");
        free(job);
    }
    runs_of_task_free(r, n);
}

/* Where the task runs, and while a run goes, its job in the scheduler's queue. */
static void executor_lines(const struct model *m, size_t t, struct strv *lines)
{
    const struct task *task = &m->ws->flow->tasks[t];
    if (!runs_locally(task) || task->exec_options)
        strv_pushf(lines, "executor: %s%s%s", task->executor, task->exec_options ? " " : "",
                   task->exec_options ? task->exec_options : "");
    if (m->run_going && m->live[t] == LIVE_QUEUED && m->live_wait[t])
        strv_pushf(lines, "%s", m->live_wait[t]);
    const char *job = m->run_going ? m->live_job[t] : NULL;
    if (!job || (m->live[t] != LIVE_QUEUED && m->live[t] != LIVE_RUNNING))
        return;
    bool running = m->live[t] == LIVE_RUNNING;
    char since[32];
    fmt_duration(since, sizeof since, now_wall() - (running ? m->started[t] : m->submitted[t]));
    strv_pushf(lines, "%s: %s for %s", job, running ? "running" : "pending in the queue",
               since);
}

/* What the task did in the past run shown, and why it was planned to run. */
static void past_lines(const struct model *m, size_t t, struct strv *lines)
{
    struct task_record rec;
    if (!runs_task_in_run(m->ws->db, m->past_run, m->ws->flow->tasks[t].name, &rec)) {
        strv_pushf(lines, "in run %lld: not visited", (long long)m->past_run);
        return;
    }
    strv_pushf(lines, "in run %lld: %s", (long long)m->past_run, rec.decision);
    if (rec.cause[0])
        strv_pushf(lines, "  cause: %s", rec.cause);
    if (rec.reason[0] && strcmp(rec.reason, rec.cause) != 0)
        strv_pushf(lines, "  %s", rec.reason);
    task_record_free(&rec);
}

static void output_files(const struct model *m, size_t t, struct strv *lines)
{
    const struct cache_entry *e = m->st[t].entry;
    if (!e)
        return;
    char size[32];
    fmt_size(size, sizeof size, e->size);
    if (m->st[t].state != ST_CACHED) { /* its bytes are gone: no view to point at */
        strv_pushf(lines, "output: %s, digest %.12s..., not in the store", size, e->digest);
        return;
    }
    char *manifest = cache_manifest(m->ws->db, e->digest);
    struct strv files = {0};
    if (manifest)
        store_manifest_files(manifest, &files);
    free(manifest);
    strv_pushf(lines, "output: %zu file%s, %s in .sluice/views/%.12s...%s", (size_t)files.n,
               files.n == 1 ? "" : "s", size, e->digest, e->fetched ? ", cached (remote)" : "");
    for (size_t i = 0; i < files.n && i < FILES_SHOWN; i++)
        strv_pushf(lines, "  %s", files.v[i]);
    if (files.n > FILES_SHOWN)
        strv_pushf(lines, "  ... %zu more", (size_t)(files.n - FILES_SHOWN));
    strv_free(&files);
}

const struct pane_ops *pane_ops(enum pane p)
{
    static const struct pane_ops ops[] = {
        [PANE_DETAIL] = {.context = C_DETAIL, .beside_graph = true, .diff_colors = true},
        [PANE_WHY] = {.context = C_PANE, .beside_graph = true, .diff_colors = true},
        [PANE_LOG] = {.context = C_PANE, .beside_graph = true},
        [PANE_HISTORY] = {.context = C_HISTORY, .rows = true},
        [PANE_DIFF] = {.context = C_PANE, .diff_colors = true},
        [PANE_HELP] = {.context = C_PANE},
    };
    return p > PANE_NONE && p <= PANE_HELP ? &ops[p] : NULL;
}

void pane_detail(const struct app *a, struct strv *lines)
{
    const struct model *m = &a->m;
    if (!m->ws || m->sel < 0)
        return;
    size_t i = (size_t)m->sel, t = model_task(m, i);
    const struct task *task = &m->ws->flow->tasks[t];
    const char *state = model_state(m, i);
    strv_pushf(lines, "%s  %s %s%s%s%s", task->name, look_glyph(state, m->ascii), state,
               m->past_run ? "  (in the run shown; now " : "",
               m->past_run ? state_name(m->st[t].state) : "", m->past_run ? ")" : "");
    if (m->past_run)
        past_lines(m, t, lines);
    for (size_t r = 0; r < m->st[t].reasons.n && !m->past_run; r++)
        strv_pushf(lines, "  %s", m->st[t].reasons.v[r]);
    strv_pushf(lines, "key %.16s   command: %s", m->ws->keys.in[t].deep, task->run);
    executor_lines(m, t, lines);
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
    if (group_is(m, (size_t)m->sel)) { /* a collapsed matrix task: its worst instance */
        char counts[160];
        group_counts(m, (size_t)m->sel, 150, counts, sizeof counts);
        strv_pushf(lines, "%s: %s (+ shows every instance); the worst of them:",
                   m->labels[m->sel], counts);
    }
    struct why w;
    struct err e;
    if (why_explain(m->ws, t, &w, &e)) {
        strv_push(lines, xstrdup(e.msg));
        return;
    }
    const char *state = state_name(w.state);
    if (m->past_run) /* the boxes show the run; why is about now: say both */
        strv_pushf(lines, "in run %lld: %s %s; now:", (long long)m->past_run,
                   look_glyph(model_state(m, (size_t)m->sel), m->ascii),
                   model_state(m, (size_t)m->sel));
    strv_pushf(lines, "%s: %s %s", m->ws->flow->tasks[t].name, look_glyph(state, m->ascii),
               state);
    if (w.n == 0)
        strv_push(lines, xstrdup(w.state == ST_CACHED ? "  its output for these exact inputs "
                                                        "is in the store"
                                                      : "  it has never completed"));
    for (size_t i = 0; i < w.n; i++) {
        const struct why_cause *c = &w.causes[i];
        strv_pushf(lines, "  %s", c->text);
        for (size_t k = 0; k < c->n_diffs; k++) {
            if (c->diffs[k].error)
                strv_pushf(lines, "    (no diff of %s: %s)", c->diffs[k].path,
                           c->diffs[k].error);
            add_text_lines(lines, c->diffs[k].diff, "    ");
        }
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
    struct run_row *r;
    size_t n = runs_list(m->ws->db, m->ws->flow_id, 500, &r);
    free(a->runs);
    a->runs = xcalloc(n + 1, sizeof *a->runs);
    a->n_runs = n;
    strv_push(lines, xstrdup("   run    started        status       took     ran  hit  cut  "
                             "failed  blocked  git       targets"));
    for (size_t i = 0; i < n; i++) {
        a->runs[i] = r[i].id;
        char at[32], took[32] = "-", git[16] = "-";
        fmt_time(at, sizeof at, r[i].started);
        if (r[i].took >= 0)
            fmt_duration(took, sizeof took, r[i].took);
        if (r[i].git_head[0])
            snprintf(git, sizeof git, "%.7s%s", r[i].git_head, r[i].git_dirty ? "+" : "");
        char replay[48] = "";
        if (r[i].replay_of)
            snprintf(replay, sizeof replay, "  (replay of run %lld)", (long long)r[i].replay_of);
        char *targets = runs_targets_text(r[i].targets);
        strv_pushf(lines, " %c %-6lld %-14s %-12s %-8s %4d %4d %4d  %6d  %7d  %-8s  %s%s",
                   r[i].id == a->run_marked ? '*' : ' ', (long long)r[i].id, at, r[i].status,
                   took, r[i].ran, r[i].hit, r[i].cutoff, r[i].failed, r[i].blocked, git,
                   targets, replay);
        free(targets);
    }
    runs_list_free(r, n);
    if (n == 0)
        strv_push(lines, xstrdup("  (no runs yet: R runs the flow)"));
}

/* The line of a log that says what went wrong: the first naming an error, else the last
 * one with text (where tracebacks and most tools end with the reason). */
static char *error_line(const char *log)
{
    const char *last = NULL, *found = NULL;
    for (const char *l = log; *l && !found;) {
        size_t n = strcspn(l, "\n");
        char *line = xstrndup(l, n);
        if (line[strspn(line, " \t")])
            last = l;
        if (strcasestr(line, "error"))
            found = l;
        free(line);
        l += n + (l[n] ? 1 : 0);
    }
    const char *l = found ? found : last;
    return l ? xstrndup(l + strspn(l, " \t"), strcspn(l, "\n") - strspn(l, " \t")) : NULL;
}

char *pane_failure(const struct app *a, int64_t run)
{
    const struct model *m = &a->m;
    struct task_record *r;
    size_t n = runs_tasks(m->ws->db, run, &r), k = 0;
    while (k < n && strcmp(r[k].decision, "failed") != 0)
        k++;
    char *text = NULL;
    if (k < n) {
        char *path = r[k].log_object[0] ? store_log_file(m->ws->store, r[k].log_object) : NULL;
        char *log = path ? file_read_all(path, NULL, NULL) : NULL;
        char *line = log ? error_line(log) : NULL;
        struct sb b = {0};
        sb_adds(&b, r[k].task);
        if (r[k].has_exit)
            sb_addf(&b, " exited %d", r[k].exit_code);
        else
            sb_adds(&b, " failed");
        if (line)
            sb_addf(&b, ": %s", line);
        text = sb_take(&b);
        free(line);
        free(log);
        free(path);
    }
    task_records_free(r, n);
    return text;
}

void pane_diff(const struct app *a, int64_t from, int64_t to, struct strv *lines)
{
    const struct model *m = &a->m;
    struct records rec = {.flow_path = m->ws->flow->abspath,
                          .store = m->ws->store,
                          .db = m->ws->db,
                          .flow_id = m->ws->flow_id};
    struct rundiff d;
    struct err e;
    if (rundiff_compute(&rec, from, to, 40, &d, &e)) {
        strv_push(lines, xstrdup(e.msg));
        return;
    }
    rundiff_lines(&d, lines);
    rundiff_free(&d);
}
