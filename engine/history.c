/* history: SQL for runs, task runs, inputs and events. */
#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "claims.h"

int history_flow_id(struct db *db, const char *path, const char *name, bool create, int64_t *id,
                    struct err *e)
{
    *id = 0;
    sqlite3_stmt *st = db_prepare(db, "SELECT id, name FROM flows WHERE path = ?");
    db_bind_text(st, 1, path);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        bool same = strcmp(db_col_text(st, 1), name) == 0;
        db_done(st);
        if (same)
            return 0;
        st = db_prepare(db, "UPDATE flows SET name = ? WHERE id = ?");
        db_bind_text(st, 1, name);
        sqlite3_bind_int64(st, 2, *id);
        return db_exec_stmt(db, st, e);
    }
    db_done(st);
    if (!create)
        return 0;
    st = db_prepare(db, "INSERT INTO flows(path, name) VALUES(?, ?)");
    db_bind_text(st, 1, path);
    db_bind_text(st, 2, name);
    if (db_exec_stmt(db, st, e))
        return -1;
    *id = sqlite3_last_insert_rowid(db_handle(db));
    return 0;
}

/* The largest run id the database holds. */
static int64_t max_run_id(struct db *db)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT coalesce(max(id), 0) FROM runs");
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return id;
}

/* A run id no run ever had: above the database's largest and the last one handed out,
 * which <database>.run-id keeps (under a lock) outside the database, so that neither
 * a run forgotten since nor rows lost with a deleted WAL (a second writer then sees
 * an older database) ever lets two runs share an id. */
static int next_run_id(struct db *db, int64_t *id, struct err *e)
{
    char *path = xasprintf("%s.run-id", db_file(db));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        int rc = err_set(e, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return rc;
    }
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    int64_t last = strtoll(buf, NULL, 10), top = max_run_id(db);
    *id = (last > top ? last : top) + 1;
    int len = snprintf(buf, sizeof buf, "%lld\n", (long long)*id);
    int rc = pwrite(fd, buf, (size_t)len, 0) == len && ftruncate(fd, len) == 0
                 ? 0
                 : err_set(e, "%s: %s", path, strerror(errno));
    close(fd); /* and the lock with it */
    free(path);
    return rc;
}

int history_run_begin(struct db *db, const struct run_info *r, int64_t *run_id, struct err *e)
{
    int64_t id = 0;
    if (next_run_id(db, &id, e))
        return -1;
    char host[256];
    claims_host(host);
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO runs(flow_id, targets, params, git_head, "
                                      "git_dirty, jobs, started, status, pid, replay_of, id, "
                                      "host) VALUES(?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?10, ?11)");
    sqlite3_bind_int64(st, 1, r->flow_id);
    db_bind_text(st, 2, r->targets_json);
    db_bind_text(st, 3, r->params_json);
    db_bind_text(st, 4, r->git_head);
    sqlite3_bind_int(st, 5, r->git_dirty);
    sqlite3_bind_int(st, 6, r->jobs);
    sqlite3_bind_double(st, 7, r->started);
    sqlite3_bind_int64(st, 8, (int64_t)getpid());
    if (r->replay_of)
        sqlite3_bind_int64(st, 9, r->replay_of);
    sqlite3_bind_int64(st, 10, id);
    db_bind_text(st, 11, host);
    if (db_exec_stmt(db, st, e))
        return -1;
    *run_id = id;
    return 0;
}

int history_run_end(struct db *db, int64_t run_id, const char *status, double ended,
                    struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE runs SET status = ?, ended = ? WHERE id = ?");
    db_bind_text(st, 1, status);
    sqlite3_bind_double(st, 2, ended);
    sqlite3_bind_int64(st, 3, run_id);
    return db_exec_stmt(db, st, e);
}

int history_run_dirty(struct db *db, int64_t run_id, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE runs SET git_dirty = 1 WHERE id = ?");
    sqlite3_bind_int64(st, 1, run_id);
    return db_exec_stmt(db, st, e);
}

int history_run_forget(struct db *db, int64_t run_id, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM events WHERE run_id = ?");
    sqlite3_bind_int64(st, 1, run_id);
    if (db_exec_stmt(db, st, e))
        return -1;
    st = db_prepare(db, "DELETE FROM runs WHERE id = ?");
    sqlite3_bind_int64(st, 1, run_id);
    return db_exec_stmt(db, st, e);
}

int history_reap_runs(struct db *db, struct err *e)
{
    char host[256];
    claims_host(host);
    sqlite3_stmt *st = db_prepare(db, "SELECT id, pid, host FROM runs WHERE status = 'running'");
    struct strv dead = {0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        pid_t pid = (pid_t)sqlite3_column_int64(st, 1);
        const char *on = db_col_text(st, 2); /* another host's runs are not for us to judge */
        if ((!on[0] || !strcmp(on, host)) && pid != getpid() && kill(pid, 0) != 0 &&
            errno == ESRCH)
            strv_pushf(&dead, "%lld", (long long)sqlite3_column_int64(st, 0));
    }
    db_done(st);
    int rc = 0;
    for (size_t i = 0; i < dead.n && rc == 0; i++) {
        st = db_prepare(db, "UPDATE runs SET status = 'interrupted' WHERE id = ?");
        sqlite3_bind_int64(st, 1, strtoll(dead.v[i], NULL, 10));
        rc = db_exec_stmt(db, st, e);
    }
    strv_free(&dead);
    return rc;
}

int history_event(struct db *db, int64_t run_id, int64_t seq, double t, const char *task,
                  const char *state, const char *detail, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO events(run_id, seq, t, task, state, detail) "
                                      "VALUES(?, ?, ?, ?, ?, ?)");
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_double(st, 3, t);
    db_bind_text(st, 4, task);
    db_bind_text(st, 5, state);
    db_bind_text(st, 6, detail);
    return db_exec_stmt(db, st, e);
}

static int insert_inputs(struct db *db, int64_t id, const struct task_run_info *tr, struct err *e)
{
    for (size_t i = 0; i < tr->n_code; i++) {
        sqlite3_stmt *st = db_prepare(db, "INSERT INTO task_code(task_run_id, path, repo_path, "
                                          "blob_id) VALUES(?, ?, ?, ?)");
        sqlite3_bind_int64(st, 1, id);
        db_bind_text(st, 2, tr->code_paths[i]);
        db_bind_text(st, 3, tr->code[i]->repo_path);
        db_bind_text(st, 4, tr->code[i]->blob);
        if (db_exec_stmt(db, st, e))
            return -1;
    }
    for (size_t i = 0; i < tr->n_files; i++) {
        sqlite3_stmt *st = db_prepare(db, "INSERT INTO task_files(task_run_id, path, digest, "
                                          "size) VALUES(?, ?, ?, ?)");
        sqlite3_bind_int64(st, 1, id);
        db_bind_text(st, 2, tr->files[i].path);
        db_bind_text(st, 3, tr->files[i].digest);
        sqlite3_bind_int64(st, 4, (int64_t)tr->files[i].size);
        if (db_exec_stmt(db, st, e))
            return -1;
    }
    for (size_t i = 0; i < tr->n_up; i++) {
        sqlite3_stmt *st = db_prepare(db, "INSERT INTO task_upstream(task_run_id, upstream, "
                                          "deep_key, output_digest, var) VALUES(?, ?, ?, ?, ?)");
        sqlite3_bind_int64(st, 1, id);
        db_bind_text(st, 2, tr->up_names[i]);
        db_bind_text(st, 3, tr->up_keys[i]);
        db_bind_text(st, 4, tr->up_digests ? tr->up_digests[i] : NULL);
        db_bind_text(st, 5, tr->up_vars[i]);
        if (db_exec_stmt(db, st, e))
            return -1;
    }
    return 0;
}

int history_task_run(struct db *db, const struct task_run_info *tr, int64_t *id, struct err *e)
{
    sqlite3_stmt *st = db_prepare(
        db, "INSERT INTO task_runs(run_id, flow_id, task, decision, reason, deep_key, "
            "shallow_key, source_id, command, env, params, started, ended, exit_code, "
            "output_digest, output_size, log_object, dir, cause, outputs, cpus) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    sqlite3_bind_int64(st, 1, tr->run_id);
    sqlite3_bind_int64(st, 2, tr->flow_id);
    db_bind_text(st, 3, tr->task);
    db_bind_text(st, 4, tr->decision);
    db_bind_text(st, 5, tr->reason);
    db_bind_text(st, 6, tr->deep_key);
    db_bind_text(st, 7, tr->shallow_key);
    if (tr->source_id)
        sqlite3_bind_int64(st, 8, tr->source_id);
    db_bind_text(st, 9, tr->command);
    db_bind_text(st, 10, tr->env_json);
    db_bind_text(st, 11, tr->params_json);
    if (tr->started > 0)
        sqlite3_bind_double(st, 12, tr->started);
    if (tr->ended > 0)
        sqlite3_bind_double(st, 13, tr->ended);
    if (tr->has_exit)
        sqlite3_bind_int(st, 14, tr->exit_code);
    db_bind_text(st, 15, tr->output_digest);
    if (tr->output_digest)
        sqlite3_bind_int64(st, 16, (int64_t)tr->output_size);
    db_bind_text(st, 17, tr->log_object);
    db_bind_text(st, 18, tr->dir);
    db_bind_text(st, 19, tr->cause);
    db_bind_text(st, 20, tr->outputs_json);
    if (tr->cpus > 1)
        sqlite3_bind_int(st, 21, tr->cpus);
    if (db_exec_stmt(db, st, e))
        return -1;
    int64_t rid = sqlite3_last_insert_rowid(db_handle(db));
    if (id)
        *id = rid;
    return insert_inputs(db, rid, tr, e);
}

static void load_pairs(struct db *db, const char *sql, int64_t id, struct strv *a, struct strv *b)
{
    sqlite3_stmt *st = db_prepare(db, sql);
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        strv_push(a, xstrdup(db_col_text(st, 0)));
        strv_push(b, xstrdup(db_col_text(st, 1)));
    }
    db_done(st);
}

static const char SQL_PAST[] =
    "SELECT id, run_id, deep_key, decision, coalesce(ended, started, 0), command, env, params, "
    "source_id FROM task_runs WHERE id = ?";

static int load_past(struct db *db, int64_t id, struct past_inputs *out, int depth)
{
    sqlite3_stmt *st = db_prepare(db, SQL_PAST);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        db_done(st);
        return 0;
    }
    int64_t source = sqlite3_column_int64(st, 8);
    if (source && depth < 8) {
        /* A hit: its inputs are those of the run that produced the output, but the
         * moment and key are the hit's own. */
        char decision[16], key[HASH_HEX];
        double when = sqlite3_column_double(st, 4);
        snprintf(decision, sizeof decision, "%s", db_col_text(st, 3));
        snprintf(key, sizeof key, "%s", db_col_text(st, 2));
        db_done(st);
        int found = load_past(db, source, out, depth + 1);
        if (found) {
            memcpy(out->decision, decision, sizeof decision);
            memcpy(out->deep_key, key, sizeof key);
            out->when = when;
        }
        return found;
    }
    out->task_run_id = sqlite3_column_int64(st, 0);
    out->run_id = sqlite3_column_int64(st, 1);
    snprintf(out->deep_key, sizeof out->deep_key, "%s", db_col_text(st, 2));
    snprintf(out->decision, sizeof out->decision, "%s", db_col_text(st, 3));
    out->when = sqlite3_column_double(st, 4);
    out->command = xstrdup(db_col_text(st, 5));
    out->env_json = xstrdup(db_col_text(st, 6));
    out->params_json = xstrdup(db_col_text(st, 7));
    db_done(st);
    load_pairs(db, "SELECT path, blob_id FROM task_code WHERE task_run_id = ? ORDER BY path",
               out->task_run_id, &out->code_paths, &out->code_blobs);
    load_pairs(db, "SELECT path, digest FROM task_files WHERE task_run_id = ? ORDER BY path",
               out->task_run_id, &out->file_paths, &out->file_digests);
    struct strv ignored = {0};
    load_pairs(db, "SELECT size, path FROM task_files WHERE task_run_id = ? ORDER BY path",
               out->task_run_id, &out->file_sizes, &ignored);
    strv_free(&ignored);
    load_pairs(db,
               "SELECT upstream, deep_key FROM task_upstream WHERE task_run_id = ? "
               "ORDER BY upstream",
               out->task_run_id, &out->up_names, &out->up_keys);
    struct strv names = {0};
    load_pairs(db,
               "SELECT upstream, coalesce(output_digest, '') FROM task_upstream "
               "WHERE task_run_id = ? ORDER BY upstream",
               out->task_run_id, &names, &out->up_digests);
    strv_free(&names);
    return 1;
}

int history_last_inputs(struct db *db, int64_t flow_id, const char *task, struct past_inputs *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = db_prepare(db, "SELECT id FROM task_runs WHERE flow_id = ? AND task = ? "
                                      "AND decision IN ('ran', 'hit', 'cutoff') "
                                      "ORDER BY id DESC LIMIT 1");
    sqlite3_bind_int64(st, 1, flow_id);
    db_bind_text(st, 2, task);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return id ? load_past(db, id, out, 0) : 0;
}

void past_inputs_free(struct past_inputs *p)
{
    free(p->command);
    free(p->env_json);
    free(p->params_json);
    strv_free(&p->code_paths);
    strv_free(&p->code_blobs);
    strv_free(&p->file_paths);
    strv_free(&p->file_digests);
    strv_free(&p->file_sizes);
    strv_free(&p->up_names);
    strv_free(&p->up_keys);
    strv_free(&p->up_digests);
    memset(p, 0, sizeof *p);
}

void history_last_decision(struct db *db, int64_t flow_id, const char *task, const char *deep_key,
                           char out[16])
{
    sqlite3_stmt *st = db_prepare(db, "SELECT decision FROM task_runs WHERE flow_id = ? AND "
                                      "task = ? AND deep_key = ? ORDER BY id DESC LIMIT 1");
    sqlite3_bind_int64(st, 1, flow_id);
    db_bind_text(st, 2, task);
    db_bind_text(st, 3, deep_key);
    out[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, 16, "%s", db_col_text(st, 0));
    db_done(st);
}
