/* model: workspace + states + live run + graph layout + selection. */
#include "model.h"

#include <ctype.h>
#include <unistd.h>

#include "group.h"
#include "history.h"
#include "look.h"
#include "runs.h"

#define NOTE_W 7 /* columns reserved in every box for its note ("12m05s", "1.2 MB") */
#define UNIFORM_MAX 16 /* names up to this wide share one box width */

static const char *const live_words[] = {"",       "queued", "running",   "ran",     "hit",
                                         "cutoff", "failed", "cancelled", "blocked", "fetching"};

static enum live live_from_word(const char *w)
{
    for (size_t i = 1; i < sizeof live_words / sizeof live_words[0]; i++)
        if (strcmp(w, live_words[i]) == 0)
            return (enum live)i;
    return LIVE_NONE;
}

static void free_live(struct model *m, size_t n)
{
    for (size_t i = 0; m->live_log && i < n; i++) {
        free(m->live_log[i]);
        free(m->live_job[i]);
        free(m->live_wait[i]);
    }
    free(m->live_log);
    free(m->live_job);
    free(m->live_wait);
    free(m->live);
    free(m->started);
    free(m->submitted);
    free(m->duration);
    m->live_log = m->live_job = m->live_wait = NULL;
    m->live = NULL;
    m->started = m->submitted = m->duration = NULL;
}

static void free_past(struct model *m)
{
    free(m->past);
    free(m->past_live);
    free(m->past_in_run);
    m->past = NULL;
    m->past_live = NULL;
    m->past_in_run = NULL;
    m->n_past = m->past_at = m->cap_past = 0;
    m->past_run = 0;
}

static void free_picture(struct model *m)
{
    for (size_t i = 0; m->labels && i < m->view.n; i++)
        free(m->labels[i]);
    free(m->labels);
    free(m->marked);
    m->labels = NULL;
    m->marked = NULL;
    layout_free(&m->layout);
    graphview_free(&m->view);
}

static size_t n_tasks(const struct model *m)
{
    return m->ws ? m->ws->flow->n_tasks : 0;
}

/* How long each task took the last time it ran in this flow (for the notes). */
static void put_duration(void *ctx, const char *task, double seconds)
{
    struct model *m = ctx;
    long t = flow_find(m->ws->flow, task);
    if (t >= 0)
        m->duration[t] = seconds;
}

static void load_durations(struct model *m)
{
    for (size_t i = 0; i < n_tasks(m); i++)
        m->duration[i] = -1;
    if (m->ws->flow_id)
        runs_last_durations(m->ws->db, m->ws->flow_id, put_duration, m);
}

static void keep_collapsed(struct model *m, const bool *old, size_t old_n)
{
    size_t n = m->ws ? m->ws->flow->n_groups : 0;
    m->collapsed = xcalloc(n + 1, sizeof *m->collapsed);
    for (size_t g = 0; g < n; g++)
        m->collapsed[g] = old && old_n == n ? old[g] : true; /* sub-flows start collapsed */
}

/* The newest run of this flow, or 0. */
static int64_t newest_run(struct model *m)
{
    if (!m->ws->flow_id)
        history_flow_id(m->ws->db, m->ws->flow->abspath, m->ws->flow->name, false,
                        &m->ws->flow_id, NULL);
    return m->ws->flow_id ? runs_newest(m->ws->db, m->ws->flow_id) : 0;
}

/* Reads the flow file when it is not read yet, or when it changed on disk and nothing
 * here is unsaved (the file is the source of truth). */
static int sync_doc(struct model *m, struct err *e)
{
    m->missing = false;
    m->disk_conflict = false;
    if (m->doc && flowedit_disk_changed(m->doc)) {
        if (flowedit_dirty(m->doc)) {
            m->disk_conflict = true;
            return 0;
        }
        flowedit_free(m->doc);
        m->doc = NULL;
    }
    if (m->doc)
        return 0;
    m->missing = access(m->flow_path, F_OK) != 0;
    return flowedit_open(m->flow_path, &m->doc, e);
}

/* Opens the workspace of the flow as edited, and computes its states. */
static int open_doc(struct model *m, struct err *e)
{
    size_t len;
    const char *text = flowedit_text(m->doc, &len);
    return workspace_open_text(m->flow_path, text, len, &m->ws, e) ||
           status_compute_watched(m->ws, m->ws->flow->targets, m->ws->flow->n_targets, m->watch,
                                  &m->st, e);
}

/* Tells the watcher a reload's stage; true when it says stop. */
static bool told_stop(const struct model *m, const char *what, size_t total)
{
    return m->watch && m->watch->step && m->watch->step(m->watch->ctx, what, 0, total);
}

void model_reload(struct model *m)
{
    m->n_reloads++;
    if (told_stop(m, "reading", 0))
        return; /* the model stays as it was */
    char *sel_name = NULL;
    if (m->ws && m->sel >= 0)
        sel_name = xstrdup(m->ws->flow->tasks[model_task(m, (size_t)m->sel)].name);
    size_t old_groups = m->ws ? m->ws->flow->n_groups : 0;
    bool *old_collapsed = m->collapsed;
    m->collapsed = NULL;
    free_picture(m);
    free_live(m, n_tasks(m));
    free_past(m);
    if (m->ws)
        status_free(m->st, m->ws->flow->n_tasks);
    m->st = NULL;
    workspace_close(m->ws);
    m->ws = NULL;
    free(m->error);
    m->error = NULL;
    struct err e;
    if (sync_doc(m, &e) || (told_stop(m, "loading the tasks", 0) && err_set(&e, "stopped")) ||
        open_doc(m, &e)) {
        m->error = xstrdup(e.msg);
        workspace_close(m->ws);
        m->ws = NULL;
    }
    keep_collapsed(m, old_collapsed, old_groups);
    free(old_collapsed);
    size_t n = n_tasks(m);
    m->live = xcalloc(n + 1, sizeof *m->live);
    m->started = xcalloc(n + 1, sizeof *m->started);
    m->duration = xcalloc(n + 1, sizeof *m->duration);
    m->live_log = xcalloc(n + 1, sizeof *m->live_log);
    m->live_job = xcalloc(n + 1, sizeof *m->live_job);
    m->live_wait = xcalloc(n + 1, sizeof *m->live_wait);
    m->submitted = xcalloc(n + 1, sizeof *m->submitted);
    m->run_id = 0;
    m->run_going = false;
    m->events_seen = 0;
    bool focus_ok = m->focus < (long)n;
    for (size_t k = 0; k < m->n_focus; k++)
        focus_ok = focus_ok && m->focus_set[k] < n;
    if (!focus_ok)
        model_set_focus(m, NULL, 0);
    if (m->ws) {
        load_durations(m);
        m->data_version = runs_data_version(m->ws->db);
        m->run_id = newest_run(m);
        m->run_going = m->run_id && runs_is_going(m->ws->db, m->run_id);
        model_poll(m); /* a run already going: watch it */
    }
    if (told_stop(m, "laying out", n)) {
        free(sel_name);
        return; /* no picture: the app quits */
    }
    model_relayout(m);
    long t = sel_name && m->ws ? flow_find(m->ws->flow, sel_name) : -1;
    if (t >= 0)
        model_select_task(m, (size_t)t);
    free(sel_name);
}

void model_set_focus(struct model *m, const size_t *tasks, size_t n)
{
    free(m->focus_set);
    m->focus_set = n ? xcalloc(n, sizeof *tasks) : NULL;
    if (n)
        memcpy(m->focus_set, tasks, n * sizeof *tasks);
    m->n_focus = n;
    m->focus = n ? (long)tasks[0] : -1;
}

void model_open(struct model *m, const char *flow_path, bool ascii, int term_w, int term_h,
                const struct status_watch *watch)
{
    memset(m, 0, sizeof *m);
    m->watch = watch;
    m->flow_path = xstrdup(flow_path);
    m->ascii = ascii;
    m->term_w = term_w;
    m->term_h = term_h;
    m->dir_auto = true;
    m->focus = -1;
    m->sel = -1;
    model_reload(m);
}

void model_close(struct model *m)
{
    flowedit_free(m->doc);
    free(m->focus_set);
    free_picture(m);
    free_live(m, n_tasks(m));
    free_past(m);
    if (m->ws)
        status_free(m->st, m->ws->flow->n_tasks);
    workspace_close(m->ws);
    free(m->collapsed);
    strmap_free(&m->open_matrix, NULL);
    free(m->error);
    free(m->flow_path);
    memset(m, 0, sizeof *m);
}

/* --- editing ------------------------------------------------------------------------------------ */

int model_edit(struct model *m, const struct edit *edits, size_t n, struct err *e)
{
    if (!m->doc)
        return err_set(e, "%s cannot be edited: %s", m->flow_path, m->error ? m->error : "");
    if (flowedit_apply(m->doc, edits, n, e))
        return -1;
    model_reload(m);
    return 0;
}

const char *model_undo(struct model *m)
{
    const char *what = m->doc ? flowedit_undo(m->doc) : NULL;
    if (what)
        model_reload(m);
    return what;
}

const char *model_redo(struct model *m)
{
    const char *what = m->doc ? flowedit_redo(m->doc) : NULL;
    if (what)
        model_reload(m);
    return what;
}

int model_save(struct model *m, const char *path, struct err *e)
{
    if (!m->doc)
        return err_set(e, "%s cannot be saved: %s", m->flow_path, m->error ? m->error : "");
    if (flowedit_save(m->doc, path, e))
        return -1;
    if (path) {
        free(m->flow_path);
        m->flow_path = xstrdup(path);
    }
    model_reload(m);
    return 0;
}

int model_create(struct model *m, struct err *e)
{
    flowedit_free(m->doc);
    m->doc = flowedit_new(m->flow_path);
    if (flowedit_save(m->doc, NULL, e)) {
        flowedit_free(m->doc);
        m->doc = NULL;
        return -1;
    }
    model_reload(m);
    return 0;
}

/* --- the run being watched ------------------------------------------------------------------ */

static void apply_event(struct model *m, size_t t, const char *state, double when,
                        const char *detail)
{
    if (strcmp(state, "submitted") == 0) { /* queued still, now in a scheduler's queue */
        m->live[t] = LIVE_QUEUED;
        m->submitted[t] = when;
        free(m->live_job[t]);
        m->live_job[t] = detail[0] ? xstrdup(detail) : NULL;
        return;
    }
    enum live l = live_from_word(state);
    if (l == LIVE_NONE)
        return;
    m->live[t] = l;
    free(m->live_wait[t]); /* another run computes it: said until the task moves on */
    m->live_wait[t] = l == LIVE_QUEUED && strncmp(detail, "waiting for run ", 16) == 0
                          ? xstrdup(detail)
                          : NULL;
    if (l == LIVE_RUNNING) {
        m->started[t] = when;
        free(m->live_log[t]);
        m->live_log[t] = detail[0] ? xstrdup(detail) : NULL;
    } else if (l == LIVE_RAN || l == LIVE_FAILED || l == LIVE_CANCELLED) {
        if (m->started[t] > 0)
            m->duration[t] = when - m->started[t];
    }
}

static void on_event(void *ctx, const char *task, const char *state, double t,
                     const char *detail)
{
    struct model *m = ctx;
    long i = task[0] ? flow_find(m->ws->flow, task) : -1;
    if (i >= 0)
        apply_event(m, (size_t)i, state, t, detail);
}

bool model_poll(struct model *m)
{
    if (!m->ws)
        return false;
    if (db_replaced(m->ws->db)) { /* the store was deleted (and maybe made anew) */
        model_reload(m);
        return true;
    }
    int64_t v = runs_data_version(m->ws->db);
    if (v == m->data_version && !m->run_going)
        return false;
    m->data_version = v;
    if (!m->run_going) {
        int64_t id = newest_run(m);
        if (id <= m->run_id) {
            /* Written from elsewhere, but no new run: an invalidation, gc or repair
             * changed what is cached. */
            model_reload(m);
            return true;
        }
        memset(m->live, 0, n_tasks(m) * sizeof *m->live);
        for (size_t t = 0; t < n_tasks(m); t++) {
            free(m->live_job[t]);
            free(m->live_wait[t]);
            m->live_job[t] = m->live_wait[t] = NULL;
        }
        m->run_id = id;
        m->run_going = true;
        m->events_seen = 0;
    }
    m->events_seen = runs_events(m->ws->db, m->run_id, m->events_seen, on_event, m);
    if (!runs_is_going(m->ws->db, m->run_id)) {
        int64_t ended = m->run_id;
        /* The run is over: the plan's states are the truth again. */
        model_reload(m);
        m->run_ended = ended;
    }
    return true;
}

/* --- a past run ---------------------------------------------------------------------------------- */

static void add_past(void *ctx, const char *task, const char *state, double t,
                     const char *detail)
{
    (void)detail;
    struct model *m = ctx;
    xgrow(&m->past, &m->cap_past, m->n_past + 1, sizeof *m->past);
    long i = task[0] ? flow_find(m->ws->flow, task) : -1;
    m->past[m->n_past++] = (struct past_event){i, i >= 0 ? live_from_word(state) : LIVE_NONE, t};
    if (i >= 0)
        m->past_in_run[i] = true;
}

int model_show_run(struct model *m, int64_t run)
{
    free_past(m);
    m->past_live = xcalloc(n_tasks(m) + 1, sizeof *m->past_live);
    m->past_in_run = xcalloc(n_tasks(m) + 1, sizeof *m->past_in_run);
    runs_events(m->ws->db, run, 0, add_past, m);
    m->past_run = run;
    model_seek(m, (long)m->n_past);
    int decided = 0;
    for (size_t t = 0; t < n_tasks(m); t++)
        decided += m->past_live[t] >= LIVE_RAN;
    return decided;
}

void model_seek(struct model *m, long at)
{
    m->past_at = at < 0 ? 0 : (size_t)at > m->n_past ? m->n_past : (size_t)at;
    memset(m->past_live, 0, n_tasks(m) * sizeof *m->past_live);
    for (size_t k = 0; k < m->past_at; k++)
        if (m->past[k].task >= 0 && m->past[k].state != LIVE_NONE)
            m->past_live[m->past[k].task] = m->past[k].state;
}

void model_leave_past(struct model *m)
{
    free_past(m);
}

void model_past_label(const struct model *m, char *buf, size_t n)
{
    if (!m->past_at) {
        snprintf(buf, n, "event 0/%zu: before it started", m->n_past);
        return;
    }
    const struct past_event *ev = &m->past[m->past_at - 1];
    char since[32];
    fmt_duration(since, sizeof since, ev->t - m->past[0].t);
    const char *what = ev->task >= 0 && ev->state != LIVE_NONE ? live_words[ev->state] : "";
    const char *name = ev->task >= 0 ? m->ws->flow->tasks[ev->task].name : "";
    snprintf(buf, n, "event %zu/%zu +%s%s%s%s%s", m->past_at, m->n_past, since,
             name[0] ? ": " : "", name, what[0] ? " " : "", what);
}

/* --- the picture --------------------------------------------------------------------------------- */

const char *model_node_name(const struct model *m, size_t i)
{
    const struct view_node *n = &m->view.nodes[i];
    if (group_is(m, i))
        return group_name(m, i);
    return n->task >= 0 ? m->ws->flow->tasks[n->task].name : m->ws->flow->groups[n->group].name;
}

/* Every matrix task's base name is a key of open_matrix (shown collapsed: NULL). */
static void note_matrix_bases(struct model *m)
{
    for (size_t i = 0; i < m->view.n; i++) {
        if (!group_is(m, i))
            continue;
        size_t inst;
        const char *first = m->ws->flow->tasks[m->view.nodes[i].first].name;
        char *base = xstrndup(first, graphview_matrix_base(first, &m->open_matrix, &inst));
        if (!strmap_key(&m->open_matrix, base))
            strmap_put(&m->open_matrix, base, NULL);
        free(base);
    }
}

static char *node_label(const struct model *m, size_t i)
{
    if (group_is(m, i))
        return group_label(m, i);
    if (m->view.nodes[i].task >= 0)
        return xstrdup(model_node_name(m, i));
    return xasprintf("%s %s (%zu)", m->ascii ? "+" : "▸", model_node_name(m, i),
                     m->view.nodes[i].members);
}

void model_relayout(struct model *m)
{
    m->n_layouts++;
    free_picture(m);
    if (!m->ws)
        return;
    graphview_build_matrix(m->ws->flow, m->collapsed, true, &m->open_matrix, m->focus_set,
                           m->n_focus, &m->view);
    note_matrix_bases(m);
    size_t n = m->view.n;
    m->labels = xcalloc(n + 1, sizeof *m->labels);
    m->marked = xcalloc(n + 1, sizeof *m->marked);
    int *width = xcalloc(n + 1, sizeof *width), *label_w = xcalloc(n + 1, sizeof *label_w);
    int common = 0;
    for (size_t i = 0; i < n; i++) {
        m->labels[i] = node_label(m, i);
        label_w[i] = layout_text_width(m->labels[i]);
        if (group_is(m, i)) { /* the counts go after the label, partly in the note's room */
            int extra = group_counts_room(m, i) - NOTE_W;
            label_w[i] += extra > 0 ? extra : 0;
        }
        common = label_w[i] > common && label_w[i] <= UNIFORM_MAX ? label_w[i] : common;
    }
    /* Short names share one box width so rows line up; borders, padding, glyph and the
     * note's room are fixed, so boxes never move as states change. */
    for (size_t i = 0; i < n; i++)
        width[i] = (label_w[i] > common ? label_w[i] : common) + 7 + NOTE_W;
    struct layout_graph g = {n, width, (const size_t *const *)m->view.deps, m->view.n_deps};
    if (m->dir_auto)
        m->dir = layout_choose(&g, m->term_w, m->term_h - 3);
    layout_compute(&g, m->dir, &m->layout);
    free(width);
    free(label_w);
    if (m->sel >= (long)n || (m->sel < 0 && n > 0))
        m->sel = n ? 0 : -1;
}

size_t model_task(const struct model *m, size_t i)
{
    const struct view_node *v = &m->view.nodes[i];
    if (group_is(m, i))
        return group_task(m, i);
    return v->task >= 0 ? (size_t)v->task : m->ws->flow->groups[v->group].output;
}

const char *model_task_state(const struct model *m, size_t t)
{
    if (m->past_run) {
        if (m->past_live[t] != LIVE_NONE)
            return live_words[m->past_live[t]];
        return m->past_in_run[t] ? "pending" : "skipped";
    }
    if (m->run_going && m->live[t] != LIVE_NONE)
        return live_words[m->live[t]];
    return state_name(m->st[t].state);
}

const char *model_state(const struct model *m, size_t i)
{
    const struct view_node *v = &m->view.nodes[i];
    if (v->task >= 0)
        return model_task_state(m, (size_t)v->task);
    if (group_is(m, i))
        return group_state(m, i);
    /* A collapsed sub-flow: running if any member runs, else its members' merged state. */
    const struct group *g = &m->ws->flow->groups[v->group];
    enum node_state merged = ST_CACHED;
    for (size_t t = g->first; t < g->end; t++) {
        if (strcmp(model_task_state(m, t), "running") == 0)
            return "running";
        merged = t == g->first ? m->st[t].state : status_merge(merged, m->st[t].state);
    }
    return m->past_run || m->run_going ? model_task_state(m, g->output) : state_name(merged);
}

void model_note(const struct model *m, size_t i, char *buf, size_t n)
{
    buf[0] = 0;
    if (m->view.nodes[i].task < 0)
        return;
    size_t t = (size_t)m->view.nodes[i].task;
    const char *job = m->run_going && m->live[t] == LIVE_QUEUED ? m->live_job[t] : NULL;
    if (m->run_going && m->live[t] == LIVE_RUNNING)
        fmt_duration(buf, n, now_wall() - m->started[t]);
    else if (job) /* in a scheduler's queue: its job number ("slurm job 42" -> "#42") */
        snprintf(buf, n, "#%s", strrchr(job, ' ') ? strrchr(job, ' ') + 1 : job);
    else if (m->run_going && m->live[t] == LIVE_QUEUED && m->live_wait[t])
        snprintf(buf, n, "waiting"); /* for another run; the details say which */
    else if (m->duration[t] >= 0 && !m->past_run &&
             (m->run_going || m->st[t].state != ST_CACHED))
        fmt_duration(buf, n, m->duration[t]);
    else if (m->st[t].entry && m->st[t].state == ST_CACHED && !m->past_run)
        fmt_size(buf, n, m->st[t].entry->size); /* only bytes that are there */
    if (strlen(buf) > NOTE_W)
        buf[NOTE_W] = 0;
}

/* Every state word a node can show, in the order counts list them. */
static const char *const state_order[] = {
    "running", "fetching", "queued", "cached", "not kept", "ran", "hit", "cutoff", "stale",
    "pending", "expired", "invalidated", "failed", "blocked", "cancelled", "skipped"};
#define N_STATES (sizeof state_order / sizeof state_order[0])

const char *model_state_word(size_t k)
{
    return k < N_STATES ? state_order[k] : NULL;
}

size_t model_count_state(const struct model *m, const char *state)
{
    size_t c = 0;
    for (size_t t = 0; t < n_tasks(m); t++)
        c += m->view.of_task[t] >= 0 && strcmp(model_task_state(m, t), state) == 0;
    return c;
}

char *model_counts(const struct model *m)
{
    const char *const *order = state_order;
    struct sb b = {0};
    for (size_t k = 0; k < N_STATES; k++) {
        size_t c = model_count_state(m, order[k]);
        if (c)
            sb_addf(&b, "%s%zu %s", b.len ? "  " : "", c,
                    strcmp(order[k], "cutoff") == 0 ? "cut off" : order[k]);
    }
    return sb_take(&b);
}

/* --- selection ---------------------------------------------------------------------------------- */

static int along_u(const struct model *m, size_t i)
{
    const struct layout_box *b = &m->layout.boxes[i];
    return m->layout.dir == LAYOUT_DOWN ? b->x + b->w / 2 : b->y + b->h / 2;
}

bool model_move(struct model *m, int dv, int du)
{
    if (m->sel < 0)
        return false;
    size_t s = (size_t)m->sel;
    long best = -1;
    int best_d = 0;
    for (size_t i = 0; i < m->view.n; i++) {
        bool ok;
        if (dv < 0 || dv > 0) {
            const size_t *deps = m->view.deps[dv < 0 ? s : i];
            size_t nd = m->view.n_deps[dv < 0 ? s : i], want = dv < 0 ? i : s;
            ok = false;
            for (size_t k = 0; k < nd && !ok; k++)
                ok = deps[k] == want;
        } else {
            ok = m->layout.layer[i] == m->layout.layer[s] && i != s &&
                 (du < 0 ? along_u(m, i) < along_u(m, s) : along_u(m, i) > along_u(m, s));
        }
        int d = abs(along_u(m, i) - along_u(m, s));
        if (ok && (best < 0 || d < best_d)) {
            best = (long)i;
            best_d = d;
        }
    }
    if (best >= 0)
        m->sel = best;
    return best >= 0;
}

bool model_step(struct model *m, int dx, int dy)
{
    long to = m->sel >= 0 ? layout_step(&m->layout, (size_t)m->sel, dx, dy) : -1;
    if (to >= 0)
        m->sel = to;
    return to >= 0;
}

void model_position(const struct model *m, char *buf, size_t n)
{
    buf[0] = 0;
    if (m->sel < 0 || (size_t)m->sel >= m->view.n)
        return;
    int layers = 0;
    for (size_t i = 0; i < m->view.n; i++)
        if (m->layout.layer[i] + 1 > layers)
            layers = m->layout.layer[i] + 1;
    snprintf(buf, n, "%s %s layer %d/%d", model_node_name(m, (size_t)m->sel),
             m->ascii ? "-" : "·", m->layout.layer[m->sel] + 1, layers);
}

void model_sibling(struct model *m)
{
    if (m->sel < 0)
        return;
    size_t s = (size_t)m->sel;
    long first = -1, next = -1;
    for (size_t i = 0; i < m->view.n; i++) {
        if (m->layout.layer[i] != m->layout.layer[s])
            continue;
        int u = along_u(m, i), us = along_u(m, s);
        if (first < 0 || u < along_u(m, (size_t)first))
            first = (long)i;
        if (u > us && (next < 0 || u < along_u(m, (size_t)next)))
            next = (long)i;
    }
    m->sel = next >= 0 ? next : first;
}

void model_select_task(struct model *m, size_t task)
{
    if (task < n_tasks(m) && m->view.of_task[task] >= 0)
        m->sel = m->view.of_task[task];
}

void model_select_name(struct model *m, const char *name)
{
    for (size_t i = 0; i < m->view.n; i++)
        if (strcmp(model_node_name(m, i), name) == 0)
            m->sel = (long)i;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return n == 0;
}

/* Whether a box standing for several tasks (a collapsed sub-flow or matrix task) has one
 * whose name contains text: `/map@B` finds the `map ×3` box that holds it. */
static bool member_matches(const struct model *m, size_t node, const char *text)
{
    if (m->view.nodes[node].members < 2)
        return false;
    for (size_t j = m->view.member_at[node]; j < m->view.member_at[node + 1]; j++)
        if (contains_ci(m->ws->flow->tasks[m->view.members[j]].name, text))
            return true;
    return false;
}

bool model_matches(const struct model *m, size_t i, const char *text)
{
    return text && text[0] &&
           (contains_ci(model_node_name(m, i), text) || member_matches(m, i, text));
}

size_t model_count_matches(const struct model *m, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < m->view.n; i++)
        n += model_matches(m, i, text);
    return n;
}

long model_search(const struct model *m, const char *text, int dir)
{
    size_t n = m->view.n;
    if (!n || !text[0])
        return -1;
    size_t start = m->sel >= 0 ? (size_t)m->sel : 0;
    for (size_t k = 1; k <= n; k++) {
        size_t i = (start + (dir > 0 ? k : n * k - k)) % n;
        if (model_matches(m, i, text))
            return (long)i;
    }
    return -1;
}

long model_find_state(const struct model *m, const char *state, int dir, size_t *count,
                      size_t *rank)
{
    size_t n = m->view.n, start = m->sel >= 0 ? (size_t)m->sel : n - 1;
    long found = -1;
    *count = *rank = 0;
    for (size_t k = 1; k <= n && found < 0; k++) {
        size_t i = (start + (dir > 0 ? k : n * k - k)) % n;
        if (strcmp(model_state(m, i), state) == 0)
            found = (long)i;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(model_state(m, i), state) == 0) {
            (*count)++;
            *rank += (long)i <= found;
        }
    return found;
}
