/* runs: reading the run history back. */
#include "runs.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

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
    " coalesce(sum(t.decision = 'cutoff'), 0), coalesce(sum(t.decision = 'failed'), 0) "   \
    "FROM runs r LEFT JOIN task_runs t ON t.run_id = r.id "

static void read_run(sqlite3_stmt *st, struct run_row *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->started = sqlite3_column_double(st, 1);
    r->took = sqlite3_column_double(st, 2);
    snprintf(r->status, sizeof r->status, "%s", db_col_text(st, 3));
    r->targets = xstrdup(db_col_text(st, 4));
    r->ran = sqlite3_column_int(st, 5);
    r->hit = sqlite3_column_int(st, 6);
    r->cutoff = sqlite3_column_int(st, 7);
    r->failed = sqlite3_column_int(st, 8);
}

size_t runs_list(struct db *db, int64_t flow_id, size_t limit, struct run_row **out)
{
    sqlite3_stmt *st = db_prepare(
        db, RUN_COLUMNS "WHERE r.flow_id = ? GROUP BY r.id ORDER BY r.id DESC LIMIT ?");
    sqlite3_bind_int64(st, 1, flow_id);
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    size_t n = 0, cap = 0;
    *out = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        xgrow(out, &cap, n + 1, sizeof **out);
        read_run(st, &(*out)[n++]);
    }
    db_done(st);
    return n;
}

void runs_list_free(struct run_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].targets);
    free(rows);
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

void runs_decisions(struct db *db, int64_t run_id,
                    void (*fn)(void *ctx, const char *task, const char *decision), void *ctx)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT task, decision FROM task_runs WHERE run_id = ? ORDER BY id");
    sqlite3_bind_int64(st, 1, run_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        fn(ctx, db_col_text(st, 0), db_col_text(st, 1));
    db_done(st);
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
            "coalesce(reason, '') FROM task_runs WHERE flow_id = ? AND task = ? "
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
    }
    db_done(st);
    return n;
}

void runs_of_task_free(struct task_run_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].reason);
    free(rows);
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
