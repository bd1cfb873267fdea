/* runs: reading the run history back. */
#include "runs.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "history.h"

int64_t runs_data_version(struct db *db)
{
    sqlite3_stmt *st = db_prepare(db, "PRAGMA data_version");
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return v;
}

#define RUN_COLUMNS                                                                        \
    "SELECT r.id, r.started, coalesce(r.ended - r.started, -1), r.status, r.targets, "     \
    " coalesce(sum(t.decision = 'ran'), 0), coalesce(sum(t.decision = 'hit'), 0), "        \
    " coalesce(sum(t.decision = 'cutoff'), 0), coalesce(sum(t.decision = 'failed'), 0), "  \
    " coalesce(sum(t.decision = 'cancelled'), 0), coalesce(sum(t.decision = 'blocked'), 0), " \
    " r.params, coalesce(r.git_head, ''), r.git_dirty, r.jobs, coalesce(r.replay_of, 0), " \
    " (SELECT count(*) FROM events e WHERE e.run_id = r.id AND e.state = 'publish failed'), " \
    " coalesce(sum(t.decision = 'hit' AND t.reason = '" HISTORY_FROM_REMOTE "'), 0) "      \
    "FROM runs r LEFT JOIN task_runs t ON t.run_id = r.id "

static void read_run(sqlite3_stmt *st, struct run_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->started = sqlite3_column_double(st, 1);
    r->took = sqlite3_column_double(st, 2);
    snprintf(r->status, sizeof r->status, "%s", db_col_text(st, 3));
    r->targets = xstrdup(db_col_text(st, 4));
    r->ran = sqlite3_column_int(st, 5);
    r->hit = sqlite3_column_int(st, 6);
    r->cutoff = sqlite3_column_int(st, 7);
    r->failed = sqlite3_column_int(st, 8);
    r->cancelled = sqlite3_column_int(st, 9);
    r->blocked = sqlite3_column_int(st, 10);
    r->params = xstrdup(db_col_text(st, 11));
    snprintf(r->git_head, sizeof r->git_head, "%s", db_col_text(st, 12));
    r->git_dirty = sqlite3_column_int(st, 13) != 0;
    r->jobs = sqlite3_column_int(st, 14);
    r->replay_of = sqlite3_column_int64(st, 15);
    r->unpublished = sqlite3_column_int(st, 16);
    r->hit_remote = sqlite3_column_int(st, 17);
}

static size_t read_runs(struct db *db, sqlite3_stmt *st, struct run_row **out, bool with_task)
{
    (void)db;
    size_t n = 0, cap = 0;
    *out = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        xgrow(out, &cap, n + 1, sizeof **out);
        read_run(st, &(*out)[n]);
        if (with_task) {
            snprintf((*out)[n].task_decision, sizeof (*out)[n].task_decision, "%s",
                     db_col_text(st, 19));
            (*out)[n].task_cause = xstrdup(db_col_text(st, 20));
        }
        n++;
    }
    db_done(st);
    return n;
}

size_t runs_list(struct db *db, int64_t flow_id, size_t limit, struct run_row **out)
{
    sqlite3_stmt *st = db_prepare(
        db, RUN_COLUMNS "WHERE r.flow_id = ? GROUP BY r.id ORDER BY r.id DESC LIMIT ?");
    sqlite3_bind_int64(st, 1, flow_id);
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    return read_runs(db, st, out, false);
}

size_t runs_list_task(struct db *db, int64_t flow_id, const char *task, size_t limit,
                      struct run_row **out)
{
    sqlite3_stmt *st = db_prepare(
        db, "SELECT * FROM (" RUN_COLUMNS "WHERE r.flow_id = ?1 GROUP BY r.id) AS x, "
            /* A matrix task's base name stands for all its instances (NAME@...). */
            "(SELECT run_id, CASE WHEN count(*) = 1 THEN max(decision) ELSE "
            "   count(*) || ' ' || group_concat(DISTINCT decision) END, "
            "   CASE WHEN count(*) = 1 THEN coalesce(max(cause), '') ELSE '' END "
            " FROM task_runs WHERE flow_id = ?1 AND (task = ?2 OR (instr(?2, '@') = 0 AND "
            "   substr(task, 1, length(?2) + 1) = ?2 || '@')) GROUP BY run_id) AS y "
            "WHERE x.id = y.run_id ORDER BY x.id DESC LIMIT ?3");
    sqlite3_bind_int64(st, 1, flow_id);
    db_bind_text(st, 2, task);
    sqlite3_bind_int64(st, 3, (int64_t)limit);
    return read_runs(db, st, out, true);
}

void run_row_free(struct run_row *r)
{
    free(r->targets);
    free(r->params);
    free(r->task_cause);
    r->targets = r->params = r->task_cause = NULL;
}

void runs_list_free(struct run_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_row_free(&rows[i]);
    free(rows);
}

char *runs_targets_text(const char *targets_json)
{
    cJSON *a = cJSON_Parse(targets_json);
    struct sb b = {0};
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (cJSON_IsString(it))
            sb_addf(&b, "%s%s", b.len ? ", " : "", it->valuestring);
    }
    cJSON_Delete(a);
    return sb_take(&b);
}

int64_t runs_flow(struct db *db, int64_t run_id)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT flow_id FROM runs WHERE id = ?");
    sqlite3_bind_int64(st, 1, run_id);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return id;
}

bool runs_get(struct db *db, int64_t run_id, struct run_row *out)
{
    sqlite3_stmt *st = db_prepare(db, RUN_COLUMNS "WHERE r.id = ? GROUP BY r.id");
    sqlite3_bind_int64(st, 1, run_id);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        read_run(st, out);
    db_done(st);
    return found;
}

static bool pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

int64_t runs_newest(struct db *db, int64_t flow_id)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT max(id) FROM runs WHERE flow_id = ?");
    sqlite3_bind_int64(st, 1, flow_id);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return id;
}

bool runs_is_going(struct db *db, int64_t run_id)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT status, pid FROM runs WHERE id = ?");
    sqlite3_bind_int64(st, 1, run_id);
    bool going = sqlite3_step(st) == SQLITE_ROW && strcmp(db_col_text(st, 0), "running") == 0 &&
                 pid_alive((pid_t)sqlite3_column_int64(st, 1));
    db_done(st);
    return going;
}

int64_t runs_events(struct db *db, int64_t run_id, int64_t after,
                    void (*fn)(void *ctx, const char *task, const char *state, double t,
                               const char *detail),
                    void *ctx)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT seq, task, state, t, detail FROM events "
                                      "WHERE run_id = ? AND seq > ? ORDER BY seq");
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, after);
    while (sqlite3_step(st) == SQLITE_ROW) {
        after = sqlite3_column_int64(st, 0);
        fn(ctx, db_col_text(st, 1), db_col_text(st, 2), sqlite3_column_double(st, 3),
           db_col_text(st, 4));
    }
    db_done(st);
    return after;
}

void runs_last_durations(struct db *db, int64_t flow_id,
                         void (*fn)(void *ctx, const char *task, double seconds), void *ctx)
{
    sqlite3_stmt *st = db_prepare(
        db, "SELECT task, ended - started FROM task_runs WHERE id IN (SELECT max(id) "
            "FROM task_runs WHERE flow_id = ? AND decision = 'ran' GROUP BY task)");
    sqlite3_bind_int64(st, 1, flow_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        fn(ctx, db_col_text(st, 0), sqlite3_column_double(st, 1));
    db_done(st);
}

size_t runs_of_task(struct db *db, int64_t flow_id, const char *task, size_t limit,
                    struct task_run_row **out)
{
    sqlite3_stmt *st = db_prepare(
        db, "SELECT run_id, decision, coalesce(started, 0), coalesce(ended - started, -1), "
            "coalesce(reason, ''), coalesce(cause, '') FROM task_runs "
            "WHERE flow_id = ? AND task = ? "
            "ORDER BY id DESC LIMIT ?");
    sqlite3_bind_int64(st, 1, flow_id);
    db_bind_text(st, 2, task);
    sqlite3_bind_int64(st, 3, (int64_t)limit);
    size_t n = 0, cap = 0;
    *out = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        xgrow(out, &cap, n + 1, sizeof **out);
        struct task_run_row *r = &(*out)[n++];
        r->run_id = sqlite3_column_int64(st, 0);
        snprintf(r->decision, sizeof r->decision, "%s", db_col_text(st, 1));
        r->started = sqlite3_column_double(st, 2);
        r->took = sqlite3_column_double(st, 3);
        r->reason = xstrdup(db_col_text(st, 4));
        r->cause = xstrdup(db_col_text(st, 5));
    }
    db_done(st);
    return n;
}

void runs_of_task_free(struct task_run_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].reason);
        free(rows[i].cause);
    }
    free(rows);
}

char *runs_job_of(struct db *db, int64_t run_id, const char *task)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT detail FROM events WHERE run_id = ? AND task = ? "
                                      "AND state = 'submitted' ORDER BY seq DESC LIMIT 1");
    sqlite3_bind_int64(st, 1, run_id);
    db_bind_text(st, 2, task);
    char *job = sqlite3_step(st) == SQLITE_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
    db_done(st);
    return job;
}

char *runs_last_log(struct db *db, int64_t flow_id, const char *task)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT log_object FROM task_runs WHERE flow_id = ? AND "
                                      "task = ? AND log_object IS NOT NULL ORDER BY id DESC "
                                      "LIMIT 1");
    sqlite3_bind_int64(st, 1, flow_id);
    db_bind_text(st, 2, task);
    char *log = sqlite3_step(st) == SQLITE_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
    db_done(st);
    return log;
}

/* --- task records ---------------------------------------------------------------------------- */

#define SQL_RECORD                                                                         \
    "SELECT id, run_id, task, decision, coalesce(reason, ''), deep_key, "                  \
    "coalesce(shallow_key, ''), coalesce(command, ''), coalesce(dir, ''), "                \
    "coalesce(env, '{}'), coalesce(params, '{}'), coalesce(started, 0), coalesce(ended, 0), " \
    "exit_code, coalesce(output_digest, ''), coalesce(output_size, 0), "                   \
    "coalesce(log_object, ''), coalesce(source_id, 0), coalesce(cause, ''), "                 \
    "coalesce(outputs, '[]'), coalesce(cpus, 1) FROM task_runs"

static void read_record(sqlite3_stmt *st, struct task_record *r)
{
    memset(r, 0, sizeof *r);
    r->id = r->producer_id = sqlite3_column_int64(st, 0);
    r->run_id = r->producer_run = sqlite3_column_int64(st, 1);
    r->task = xstrdup(db_col_text(st, 2));
    r->decision = xstrdup(db_col_text(st, 3));
    r->reason = xstrdup(db_col_text(st, 4));
    r->deep_key = xstrdup(db_col_text(st, 5));
    r->shallow_key = xstrdup(db_col_text(st, 6));
    r->command = xstrdup(db_col_text(st, 7));
    r->dir = xstrdup(db_col_text(st, 8));
    r->env_json = xstrdup(db_col_text(st, 9));
    r->params_json = xstrdup(db_col_text(st, 10));
    r->started = sqlite3_column_double(st, 11);
    r->ended = sqlite3_column_double(st, 12);
    r->has_exit = sqlite3_column_type(st, 13) != SQLITE_NULL;
    r->exit_code = sqlite3_column_int(st, 13);
    r->output_digest = xstrdup(db_col_text(st, 14));
    r->output_size = (uint64_t)sqlite3_column_int64(st, 15);
    r->log_object = xstrdup(db_col_text(st, 16));
    r->cause = xstrdup(db_col_text(st, 18));
    cJSON *outs = cJSON_Parse(db_col_text(st, 19));
    const cJSON *it;
    cJSON_ArrayForEach(it, outs)
    {
        if (cJSON_IsString(it))
            strv_push(&r->outputs, xstrdup(it->valuestring));
    }
    cJSON_Delete(outs);
    r->cpus = sqlite3_column_int(st, 20) > 0 ? sqlite3_column_int(st, 20) : 1;
}

static void read_inputs(struct db *db, struct task_record *r)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT path, blob_id FROM task_code WHERE task_run_id = ? "
                                      "ORDER BY path");
    sqlite3_bind_int64(st, 1, r->producer_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        strv_push(&r->code_paths, xstrdup(db_col_text(st, 0)));
        strv_push(&r->code_blobs, xstrdup(db_col_text(st, 1)));
    }
    db_done(st);
    st = db_prepare(db, "SELECT path, digest, size FROM task_files WHERE task_run_id = ? "
                        "ORDER BY path");
    sqlite3_bind_int64(st, 1, r->producer_id);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        strv_push(&r->file_paths, xstrdup(db_col_text(st, 0)));
        strv_push(&r->file_digests, xstrdup(db_col_text(st, 1)));
        xgrow(&r->file_sizes, &cap, r->file_paths.n, sizeof *r->file_sizes);
        r->file_sizes[r->file_paths.n - 1] = (uint64_t)sqlite3_column_int64(st, 2);
    }
    db_done(st);
    st = db_prepare(db, "SELECT upstream, coalesce(var, ''), deep_key, coalesce(output_digest, '') "
                        "FROM task_upstream WHERE task_run_id = ? ORDER BY upstream");
    sqlite3_bind_int64(st, 1, r->producer_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        strv_push(&r->up_names, xstrdup(db_col_text(st, 0)));
        strv_push(&r->up_vars, xstrdup(db_col_text(st, 1)));
        strv_push(&r->up_keys, xstrdup(db_col_text(st, 2)));
        strv_push(&r->up_digests, xstrdup(db_col_text(st, 3)));
    }
    db_done(st);
}

/* A hit's inputs are those of the task run that produced its output. */
static void follow_source(struct db *db, struct task_record *r, int64_t source)
{
    for (int depth = 0; source && depth < 16; depth++) {
        sqlite3_stmt *st = db_prepare(db, "SELECT id, coalesce(command, ''), coalesce(dir, ''), "
                                          "coalesce(env, '{}'), coalesce(params, '{}'), "
                                          "coalesce(source_id, 0), run_id FROM task_runs "
                                          "WHERE id = ?");
        sqlite3_bind_int64(st, 1, source);
        if (sqlite3_step(st) != SQLITE_ROW) {
            db_done(st);
            return;
        }
        r->producer_id = sqlite3_column_int64(st, 0);
        free(r->command);
        free(r->dir);
        free(r->env_json);
        free(r->params_json);
        r->command = xstrdup(db_col_text(st, 1));
        r->dir = xstrdup(db_col_text(st, 2));
        r->env_json = xstrdup(db_col_text(st, 3));
        r->params_json = xstrdup(db_col_text(st, 4));
        source = sqlite3_column_int64(st, 5);
        r->producer_run = sqlite3_column_int64(st, 6);
        db_done(st);
    }
}

/* Reads the rows a statement (over SQL_RECORD) gives, with their inputs. */
static size_t read_records(struct db *db, sqlite3_stmt *st, struct task_record **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    int64_t *sources = NULL;
    size_t cap_s = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        xgrow(out, &cap, n + 1, sizeof **out);
        xgrow(&sources, &cap_s, n + 1, sizeof *sources);
        read_record(st, &(*out)[n]);
        sources[n++] = sqlite3_column_int64(st, 17);
    }
    db_done(st);
    for (size_t i = 0; i < n; i++) {
        follow_source(db, &(*out)[i], sources[i]);
        read_inputs(db, &(*out)[i]);
    }
    free(sources);
    return n;
}

size_t runs_tasks(struct db *db, int64_t run_id, struct task_record **out)
{
    sqlite3_stmt *st = db_prepare(db, SQL_RECORD " WHERE run_id = ? ORDER BY id");
    sqlite3_bind_int64(st, 1, run_id);
    return read_records(db, st, out);
}

static bool read_one(struct db *db, sqlite3_stmt *st, struct task_record *out)
{
    struct task_record *r;
    size_t n = read_records(db, st, &r);
    if (n)
        *out = r[0];
    for (size_t i = 1; i < n; i++)
        task_record_free(&r[i]);
    free(r);
    return n > 0;
}

bool runs_task_by_key(struct db *db, int64_t run_id, const char *deep_key,
                      struct task_record *out)
{
    if (run_id) {
        sqlite3_stmt *st = db_prepare(db, SQL_RECORD " WHERE run_id = ? AND deep_key = ? "
                                                     "ORDER BY id DESC LIMIT 1");
        sqlite3_bind_int64(st, 1, run_id);
        db_bind_text(st, 2, deep_key);
        if (read_one(db, st, out))
            return true;
    }
    /* The cache knows which task run made the output of a key; an entry taken out
     * (invalidated) still names it; failing both, the history is searched. */
    static const char *const sql[] = {
        SQL_RECORD " WHERE id = (SELECT task_run_id FROM entries WHERE key = ?)",
        SQL_RECORD " WHERE id = (SELECT task_run_id FROM invalidated_entries WHERE key = ? "
                   "ORDER BY invalidation_id DESC LIMIT 1)",
        SQL_RECORD " WHERE deep_key = ? AND decision IN ('ran', 'cutoff') ORDER BY id DESC "
                   "LIMIT 1",
    };
    for (size_t i = 0; i < ARRAY_LEN(sql); i++) {
        sqlite3_stmt *st = db_prepare(db, sql[i]);
        db_bind_text(st, 1, deep_key);
        if (read_one(db, st, out))
            return true;
    }
    return false;
}

bool runs_task_in_run(struct db *db, int64_t run_id, const char *task, struct task_record *out)
{
    sqlite3_stmt *st =
        db_prepare(db, SQL_RECORD " WHERE run_id = ? AND task = ? ORDER BY id DESC LIMIT 1");
    sqlite3_bind_int64(st, 1, run_id);
    db_bind_text(st, 2, task);
    return read_one(db, st, out);
}

void task_record_free(struct task_record *r)
{
    free(r->task);
    free(r->decision);
    free(r->reason);
    free(r->cause);
    free(r->deep_key);
    free(r->shallow_key);
    free(r->command);
    free(r->dir);
    free(r->env_json);
    free(r->params_json);
    free(r->output_digest);
    free(r->log_object);
    strv_free(&r->code_paths);
    strv_free(&r->code_blobs);
    strv_free(&r->outputs);
    strv_free(&r->file_paths);
    strv_free(&r->file_digests);
    free(r->file_sizes);
    strv_free(&r->up_names);
    strv_free(&r->up_vars);
    strv_free(&r->up_keys);
    strv_free(&r->up_digests);
    memset(r, 0, sizeof *r);
}

void task_records_free(struct task_record *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        task_record_free(&r[i]);
    free(r);
}

void runs_task_event(struct db *db, int64_t run_id, const char *task, char state[16],
                     char **detail)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT state, coalesce(detail, '') FROM events WHERE "
                                      "run_id = ? AND task = ? AND state NOT IN "
                                      "('published', 'publish failed', 'dropped') ORDER BY seq DESC "
                                      "LIMIT 1");
    sqlite3_bind_int64(st, 1, run_id);
    db_bind_text(st, 2, task);
    state[0] = 0;
    if (detail)
        *detail = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(state, 16, "%s", db_col_text(st, 0));
        if (detail)
            *detail = xstrdup(db_col_text(st, 1));
    }
    db_done(st);
}

int64_t runs_task_going(struct db *db, int64_t flow_id, const char *task)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id FROM runs WHERE flow_id = ? AND status = "
                                      "'running' ORDER BY id DESC");
    sqlite3_bind_int64(st, 1, flow_id);
    struct strv ids = {0};
    while (sqlite3_step(st) == SQLITE_ROW)
        strv_pushf(&ids, "%lld", (long long)sqlite3_column_int64(st, 0));
    db_done(st);
    int64_t found = 0;
    for (size_t i = 0; i < ids.n && !found; i++) {
        int64_t id = strtoll(ids.v[i], NULL, 10);
        char state[16];
        runs_task_event(db, id, task, state, NULL);
        if ((strcmp(state, "queued") == 0 || strcmp(state, "running") == 0) &&
            runs_is_going(db, id))
            found = id;
    }
    strv_free(&ids);
    return found;
}
