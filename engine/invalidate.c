/* invalidate: moving entries aside and back. */
#include "invalidate.h"

#include <cjson/cJSON.h>
#include <pwd.h>
#include <unistd.h>

#include "cache.h"
#include "history.h"

size_t *invalidate_select(const struct workspace *ws, size_t task, enum invalidate_scope scope,
                          size_t *n)
{
    return invalidate_select_all(ws, &task, 1, scope, n);
}

size_t *invalidate_select_all(const struct workspace *ws, const size_t *tasks, size_t n_tasks,
                              enum invalidate_scope scope, size_t *n)
{
    const struct flow *f = ws->flow;
    bool *mark = scope == INVALIDATE_TASK
                     ? xcalloc(f->n_tasks + 1, sizeof *mark)
                     : flow_closure(f, tasks, n_tasks, scope == INVALIDATE_DOWNSTREAM);
    for (size_t i = 0; i < n_tasks; i++)
        mark[tasks[i]] = true;
    size_t *out = xcalloc(f->n_tasks + 1, sizeof *out);
    *n = 0;
    for (size_t i = 0; i < n_tasks; i++) {
        out[(*n)++] = tasks[i];
        mark[tasks[i]] = false;
    }
    for (size_t k = 0; k < f->n_tasks; k++)
        if (mark[f->order[k]])
            out[(*n)++] = f->order[k];
    free(mark);
    return out;
}

static const char *user_name(void)
{
    const char *u = getenv("USER");
    if (u && u[0])
        return u;
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "unknown";
}

/* The task's current shallow key, when every upstream has a cached output. */
static bool current_shallow(struct workspace *ws, size_t t, char out[HASH_HEX])
{
    const struct task *task = &ws->flow->tasks[t];
    const char **digests = xcalloc(task->n_deps + 1, sizeof *digests);
    struct cache_entry *ups = xcalloc(task->n_deps + 1, sizeof *ups);
    bool ok = true;
    for (size_t j = 0; j < task->n_deps && ok; j++) {
        ok = cache_get(ws->db, ws->keys.in[task->deps[j]].deep, &ups[j]) == 1;
        digests[j] = ups[j].digest;
    }
    if (ok)
        keys_shallow(&ws->keys, t, digests, out);
    free(digests);
    free(ups);
    return ok;
}

/* The tasks of one invalidation, one row each (in task order, so the first task to
 * claim an entry decides whether it was selected), and the other invalidations in
 * force: every step below is then one statement over all of them, whatever N. */
static const char SQL_SCRATCH[] =
    "CREATE TEMP TABLE IF NOT EXISTS inv_sel(digest TEXT NOT NULL, deep TEXT NOT NULL, "
    "shallow TEXT NOT NULL, task TEXT NOT NULL, direct INTEGER NOT NULL);"
    "CREATE TEMP TABLE IF NOT EXISTS inv_force(id INTEGER PRIMARY KEY);"
    "DELETE FROM inv_sel; DELETE FROM inv_force;";
static const char SQL_SEL_ADD[] =
    "INSERT INTO inv_sel(digest, deep, shallow, task, direct) VALUES(?, ?, ?, ?, ?)";
static const char SQL_FORCE[] =
    "INSERT INTO inv_force(id) SELECT id FROM invalidations WHERE undone IS NULL AND id <> ?1";
/* invalidation ?1's entries (r) that another invalidation in force holds out too (ie) */
#define HELD_ELSEWHERE                                                                     \
    "invalidated_entries r CROSS JOIN inv_force f CROSS JOIN invalidated_entries ie WHERE "  \
    "r.invalidation_id = ?1 AND ie.invalidation_id = f.id AND ie.key = r.key"
/* An entry belongs to a row when it holds the row's output under its deep key, its
 * shallow key, or (selected tasks only: task is "" otherwise) another key of the task. */
#define SEL_MATCH(t) \
    t ".digest = s.digest AND (" t ".key = s.deep OR " t ".key = s.shallow OR " t ".task = s.task)"
static const char SQL_MOVE[] =
    "INSERT OR IGNORE INTO invalidated_entries(invalidation_id, key, kind, digest, size, task, "
    "task_run_id, created, expires, direct) SELECT ?1, e.key, e.kind, e.digest, e.size, e.task, "
    "e.task_run_id, e.created, e.expires, s.direct FROM inv_sel s CROSS JOIN entries e WHERE "
    SEL_MATCH("e") " ORDER BY s.rowid";
static const char SQL_COVER[] =
    "INSERT OR IGNORE INTO invalidated_entries(invalidation_id, key, kind, digest, size, task, "
    "task_run_id, created, expires, direct) SELECT ?1, ie.key, ie.kind, ie.digest, ie.size, "
    "ie.task, ie.task_run_id, ie.created, ie.expires, s.direct FROM inv_sel s CROSS JOIN "
    "inv_force f CROSS JOIN invalidated_entries ie INDEXED BY invalidated_by_digest WHERE "
    "ie.digest = s.digest AND ie.invalidation_id = f.id AND "
    "(ie.key = s.deep OR ie.key = s.shallow OR ie.task = s.task) ORDER BY s.rowid";
static const char SQL_DELETE[] =
    "DELETE FROM entries WHERE key IN (SELECT e.key FROM inv_sel s CROSS JOIN entries e "
    "WHERE " SEL_MATCH("e") ")";
static const char SQL_SELECTED[] =
    "SELECT count(*) FROM invalidated_entries WHERE invalidation_id = ?1 AND direct = 1";

/* The output the deep key stands for: its entry's, or, when an invalidation still in
 * force took the entry out, the one recorded there. */
static bool deep_digest(struct db *db, const char *deep, char digest[HASH_HEX])
{
    struct cache_entry ce;
    if (cache_get(db, deep, &ce) == 1) {
        memcpy(digest, ce.digest, HASH_HEX);
        return true;
    }
    sqlite3_stmt *st = db_prepare(db, "SELECT ie.digest FROM inv_force f CROSS JOIN "
                                      "invalidated_entries ie WHERE ie.invalidation_id = f.id "
                                      "AND ie.key = ?1 LIMIT 1");
    db_bind_text(st, 1, deep);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        snprintf(digest, HASH_HEX, "%s", (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    return found;
}

/* Adds task t to inv_sel: all its entries for a selected task (direct), only the deep
 * key's for one downstream of a selection. A task whose deep key stands for no output
 * (nothing cached, nor held out) adds nothing. */
static int select_task(struct workspace *ws, size_t t, bool direct, struct err *e)
{
    const char *deep = ws->keys.in[t].deep;
    char digest[HASH_HEX];
    if (!deep_digest(ws->db, deep, digest))
        return 0;
    char shallow[HASH_HEX] = "";
    if (direct)
        current_shallow(ws, t, shallow);
    sqlite3_stmt *st = db_prepare(ws->db, SQL_SEL_ADD);
    db_bind_text(st, 1, digest);
    db_bind_text(st, 2, deep);
    db_bind_text(st, 3, shallow);
    db_bind_text(st, 4, direct ? ws->flow->tasks[t].name : "");
    sqlite3_bind_int(st, 5, direct);
    return db_exec_stmt(ws->db, st, e);
}

/* Runs one of the set statements above for invalidation id; *changes gets its rows. */
static int run_set(struct db *db, const char *sql, int64_t id, size_t *changes, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, sql);
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, id);
    if (db_exec_stmt(db, st, e))
        return -1;
    *changes = (size_t)sqlite3_changes(db_handle(db));
    return 0;
}

/* Records the marked tasks' entries under invalidation id and takes them out of the
 * cache. Entries another invalidation in force already took out are recorded too, so
 * undoing that one leaves them out. *covered gets how many it records, *selected how
 * many of those belong to selected tasks. */
static int move_entries(struct workspace *ws, const char *mark, int64_t id, size_t *covered,
                        size_t *selected, struct err *e)
{
    size_t moved, held, removed;
    if (db_exec(ws->db, SQL_SCRATCH, e) || run_set(ws->db, SQL_FORCE, id, &held, e))
        return -1;
    for (size_t i = 0; i < ws->flow->n_tasks; i++)
        if (mark[i] && select_task(ws, i, mark[i] == 1, e))
            return -1;
    if (run_set(ws->db, SQL_MOVE, id, &moved, e) || run_set(ws->db, SQL_COVER, id, &held, e) ||
        run_set(ws->db, SQL_DELETE, id, &removed, e))
        return -1;
    *covered = moved + held;
    sqlite3_stmt *st = db_prepare(ws->db, SQL_SELECTED);
    sqlite3_bind_int64(st, 1, id);
    *selected = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return 0;
}

/* Marks the selected tasks (1) and everything downstream of them (2). */
static char *reach(const struct workspace *ws, const size_t *tasks, size_t n)
{
    const struct flow *f = ws->flow;
    char *mark = xcalloc(f->n_tasks, 1);
    for (size_t i = 0; i < n; i++)
        mark[tasks[i]] = 1;
    for (size_t k = 0; k < f->n_tasks; k++) {
        size_t i = f->order[k];
        for (size_t j = 0; j < f->tasks[i].n_deps && !mark[i]; j++)
            if (mark[f->tasks[i].deps[j]])
                mark[i] = 2;
    }
    return mark;
}

static char *task_list_json(const struct workspace *ws, const size_t *tasks, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(ws->flow->tasks[tasks[i]].name));
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

int invalidate_apply(struct workspace *ws, const size_t *tasks, size_t n, const char *reason,
                     int64_t *id, size_t *covered, struct err *e)
{
    *id = 0;
    *covered = 0;
    char *mark = reach(ws, tasks, n);
    for (size_t i = 0; i < ws->flow->n_tasks; i++)
        if (mark[i] && keys_deep(&ws->keys, i, e)) {
            free(mark);
            return -1;
        }
    if (db_begin(ws->db, e) ||
        history_flow_id(ws->db, ws->flow->abspath, ws->flow->name, true, &ws->flow_id, e))
        goto fail;
    sqlite3_stmt *st;
    char *list = task_list_json(ws, tasks, n);
    st = db_prepare(ws->db, "INSERT INTO invalidations(created, user, flow_id, "
                                          "tasks, reason) VALUES(?, ?, ?, ?, ?)");
    sqlite3_bind_double(st, 1, now_wall());
    db_bind_text(st, 2, user_name());
    sqlite3_bind_int64(st, 3, ws->flow_id);
    db_bind_text(st, 4, list);
    db_bind_text(st, 5, reason);
    int rc = db_exec_stmt(ws->db, st, e);
    free(list);
    if (rc)
        goto fail;
    *id = sqlite3_last_insert_rowid(db_handle(ws->db));
    size_t selected = 0;
    if (move_entries(ws, mark, *id, covered, &selected, e))
        goto fail;
    free(mark);
    if (selected == 0) { /* none of the selected tasks was cached: leave no record */
        db_rollback(ws->db);
        *id = 0;
        *covered = 0;
        return 0;
    }
    return db_commit(ws->db, e);
fail:
    free(mark);
    db_rollback(ws->db);
    *id = 0;
    return -1;
}

/* Counts the entries of invalidation id that another one in force also covers, and
 * names those invalidations ("2" or "2,5", oldest first). Wants inv_force filled. */
static void still_covered(struct db *db, int64_t id, struct invalidate_undo_result *r)
{
    sqlite3_stmt *st = db_prepare(
        db, "SELECT (SELECT count(DISTINCT r.key) FROM " HELD_ELSEWHERE "), (SELECT "
            "group_concat(inv, ',') FROM (SELECT DISTINCT ie.invalidation_id AS inv FROM "
            HELD_ELSEWHERE " ORDER BY 1))");
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->kept = (size_t)sqlite3_column_int64(st, 0);
        const unsigned char *by = sqlite3_column_text(st, 1);
        snprintf(r->kept_by, sizeof r->kept_by, "%s", by ? (const char *)by : "");
    }
    db_done(st);
}

static const char SQL_RESTORE[] =
    "INSERT OR REPLACE INTO entries(key, kind, digest, size, task, task_run_id, created, "
    "expires) SELECT key, kind, digest, size, task, task_run_id, created, expires FROM "
    "invalidated_entries r WHERE r.invalidation_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
    "inv_force f CROSS JOIN invalidated_entries ie WHERE ie.invalidation_id = f.id AND "
    "ie.key = r.key)";

int invalidate_undo(struct workspace *ws, int64_t id, struct invalidate_undo_result *r,
                    struct err *e)
{
    memset(r, 0, sizeof *r);
    if (db_begin(ws->db, e))
        return -1;
    sqlite3_stmt *st = db_prepare(ws->db, "SELECT undone FROM invalidations WHERE id = ?");
    sqlite3_bind_int64(st, 1, id);
    int found = sqlite3_step(st);
    bool undone = found == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    db_done(st);
    int rc = 0;
    if (found != SQLITE_ROW)
        rc = err_set(e, "no invalidation %lld", (long long)id);
    else if (undone)
        rc = err_set(e, "invalidation %lld was already undone", (long long)id);
    size_t held;
    if (rc == 0)
        rc = db_exec(ws->db, SQL_SCRATCH, e) || run_set(ws->db, SQL_FORCE, id, &held, e);
    if (rc == 0) {
        still_covered(ws->db, id, r);
        st = db_prepare(ws->db, SQL_RESTORE);
        sqlite3_bind_int64(st, 1, id);
        rc = db_exec_stmt(ws->db, st, e);
        r->restored = (size_t)sqlite3_changes(db_handle(ws->db));
    }
    if (rc == 0) {
        st = db_prepare(ws->db, "UPDATE invalidations SET undone = ? WHERE id = ?");
        sqlite3_bind_double(st, 1, now_wall());
        sqlite3_bind_int64(st, 2, id);
        rc = db_exec_stmt(ws->db, st, e);
    }
    if (rc) {
        db_rollback(ws->db);
        return -1;
    }
    return db_commit(ws->db, e);
}

int64_t invalidate_last(struct workspace *ws)
{
    sqlite3_stmt *st = db_prepare(ws->db, "SELECT max(id) FROM invalidations WHERE flow_id = ? "
                                          "AND undone IS NULL");
    sqlite3_bind_int64(st, 1, ws->flow_id);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return id;
}

int invalidate_lookup(struct db *db, const char *key, int64_t *id, double *when, bool *direct)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT i.id, i.created, ie.direct FROM "
                                      "invalidated_entries ie JOIN "
                                      "invalidations i ON i.id = ie.invalidation_id WHERE "
                                      "ie.key = ? AND i.undone IS NULL ORDER BY i.id DESC "
                                      "LIMIT 1");
    db_bind_text(st, 1, key);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        *id = sqlite3_column_int64(st, 0);
        *when = sqlite3_column_double(st, 1);
        *direct = sqlite3_column_int(st, 2) != 0;
    }
    db_done(st);
    return found;
}
