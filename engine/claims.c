/* claims: per-deep-key claims with owner pids. */
#include "claims.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static bool alive(pid_t pid)
{
    return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM;
}

int claims_take(struct db *db, const char *key, const char *task, int64_t run_id,
                int64_t *owner_run, struct err *e)
{
    sqlite3_stmt *q = db_prepare(db, "SELECT task, run_id, pid FROM claims WHERE key = ?");
    db_bind_text(q, 1, key);
    int held = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *owner_run = sqlite3_column_int64(q, 1);
        bool mine = *owner_run == run_id && strcmp(db_col_text(q, 0), task) == 0;
        if (mine) {
            db_done(q);
            return 1;
        }
        held = alive((pid_t)sqlite3_column_int64(q, 2));
    }
    db_done(q);
    if (held)
        return 0;
    q = db_prepare(db, "INSERT OR REPLACE INTO claims(key, task, run_id, pid, started) "
                       "VALUES(?, ?, ?, ?, ?)");
    db_bind_text(q, 1, key);
    db_bind_text(q, 2, task);
    sqlite3_bind_int64(q, 3, run_id);
    sqlite3_bind_int64(q, 4, (int64_t)getpid());
    sqlite3_bind_double(q, 5, now_wall());
    return db_exec_stmt(db, q, e) ? -1 : 1;
}

int claims_release(struct db *db, const char *key, int64_t run_id, struct err *e)
{
    sqlite3_stmt *q = db_prepare(db, "DELETE FROM claims WHERE key = ? AND run_id = ?");
    db_bind_text(q, 1, key);
    sqlite3_bind_int64(q, 2, run_id);
    return db_exec_stmt(db, q, e);
}

int claims_release_run(struct db *db, int64_t run_id, struct err *e)
{
    sqlite3_stmt *q = db_prepare(db, "DELETE FROM claims WHERE run_id = ?");
    sqlite3_bind_int64(q, 1, run_id);
    return db_exec_stmt(db, q, e);
}
