/* claims: per-deep-key claims with owner pids. */
#include "claims.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* When process pid started (wall-clock seconds) and whether it is a zombie, from
 * /proc; false when it is gone or /proc cannot tell. */
/* /proc's start times count from boot, which /proc/stat gives in whole seconds. */
#define START_SLACK_S 2.0

static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    double btime = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lf", &btime) == 1)
            break;
    if (f)
        fclose(f);
    return btime;
}

static bool proc_start(pid_t pid, double *started, bool *zombie)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold anything */
    unsigned long long ticks = 0;
    char state = 0;
    /* After the name: state (field 3), ..., starttime (field 22). */
    if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                            "%*s %*s %*s %llu",
                     &state, &ticks) != 2)
        return false;
    *zombie = state == 'Z' || state == 'X';
    *started = boot_time() + (double)ticks / (double)sysconf(_SC_CLK_TCK);
    return true;
}

/* Whether the claim made at `claimed` by pid is still held: the process exists, is no
 * zombie, and started before the claim (a pid reused since is another program). Where
 * /proc does not answer, existence alone decides. */
static bool alive(pid_t pid, double claimed)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
        return false;
    double started;
    bool zombie;
    if (!proc_start(pid, &started, &zombie))
        return true;
    return !zombie && started <= claimed + START_SLACK_S;
}

void claims_host(char out[256])
{
    if (gethostname(out, 256) != 0)
        out[0] = 0;
    out[255] = 0;
}

bool claims_process_alive(const char *host, int64_t pid, double since)
{
    char here[256];
    claims_host(here);
    if (host && host[0] && strcmp(host, here) != 0)
        return true;
    return alive((pid_t)pid, since);
}

int claims_take(struct db *db, const char *key, const char *task, int64_t run_id,
                int64_t *owner_run, int64_t *owner_pid, struct err *e)
{
    sqlite3_stmt *q =
        db_prepare(db, "SELECT task, run_id, pid, started, host FROM claims WHERE key = ?");
    db_bind_text(q, 1, key);
    int held = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *owner_run = sqlite3_column_int64(q, 1);
        *owner_pid = sqlite3_column_int64(q, 2);
        bool mine = *owner_run == run_id && strcmp(db_col_text(q, 0), task) == 0;
        if (mine) {
            db_done(q);
            return 1;
        }
        /* Another task of this run holds it while the run lives, i.e. now. */
        held = *owner_run == run_id ||
               claims_process_alive(db_col_text(q, 4), *owner_pid, sqlite3_column_double(q, 3));
    }
    db_done(q);
    if (held)
        return 0;
    char host[256];
    claims_host(host);
    q = db_prepare(db, "INSERT OR REPLACE INTO claims(key, task, run_id, pid, started, host) "
                       "VALUES(?, ?, ?, ?, ?, ?)");
    db_bind_text(q, 1, key);
    db_bind_text(q, 2, task);
    sqlite3_bind_int64(q, 3, run_id);
    sqlite3_bind_int64(q, 4, (int64_t)getpid());
    sqlite3_bind_double(q, 5, now_wall());
    db_bind_text(q, 6, host);
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

bool claims_other_run_live(struct db *db, int64_t run_id)
{
    sqlite3_stmt *q =
        db_prepare(db, "SELECT pid, started, host FROM runs WHERE status = 'running' AND id != ?");
    sqlite3_bind_int64(q, 1, run_id);
    bool live = false;
    while (!live && sqlite3_step(q) == SQLITE_ROW)
        live = claims_process_alive(db_col_text(q, 2), sqlite3_column_int64(q, 0),
                                    sqlite3_column_double(q, 1));
    db_done(q);
    return live;
}
