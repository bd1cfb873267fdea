/* db: connection, pragmas, migrations and the prepared-statement cache. */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testhook.h"

struct cached_stmt {
    const char *sql;
    sqlite3_stmt *st;
};

struct db {
    sqlite3 *h;
    char *path;
    bool read_only; /* the store cannot be written: opened as a read-only snapshot */
    dev_t dev;      /* the file opened, to tell when another takes its place */
    ino_t ino;
    struct cached_stmt *stmts;
    size_t n_stmts, cap_stmts;
};

/* Each entry migrates from version i to i+1. Never edit a released step: add one. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE flows(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL);"
    "CREATE TABLE runs("
    "  id INTEGER PRIMARY KEY,"
    "  flow_id INTEGER NOT NULL REFERENCES flows(id),"
    "  targets TEXT NOT NULL,"
    "  params TEXT NOT NULL,"
    "  git_head TEXT,"
    "  git_dirty INTEGER NOT NULL DEFAULT 0,"
    "  jobs INTEGER NOT NULL,"
    "  started REAL NOT NULL,"
    "  ended REAL,"
    "  status TEXT NOT NULL,"
    "  pid INTEGER NOT NULL,"
    "  replay_of INTEGER REFERENCES runs(id));"
    "CREATE TABLE task_runs("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  flow_id INTEGER NOT NULL REFERENCES flows(id),"
    "  task TEXT NOT NULL,"
    "  decision TEXT NOT NULL,"
    "  reason TEXT,"
    "  deep_key TEXT NOT NULL,"
    "  shallow_key TEXT,"
    "  source_id INTEGER REFERENCES task_runs(id),"
    "  command TEXT,"
    "  env TEXT,"
    "  params TEXT,"
    "  started REAL,"
    "  ended REAL,"
    "  exit_code INTEGER,"
    "  output_digest TEXT,"
    "  output_size INTEGER,"
    "  log_object TEXT);"
    "CREATE INDEX runs_by_flow ON runs(flow_id, id);"
    "CREATE INDEX task_runs_by_task ON task_runs(flow_id, task, id);"
    "CREATE INDEX task_runs_by_run ON task_runs(run_id);"
    "CREATE TABLE task_code("
    "  task_run_id INTEGER NOT NULL REFERENCES task_runs(id),"
    "  path TEXT NOT NULL, repo_path TEXT, blob_id TEXT NOT NULL,"
    "  PRIMARY KEY(task_run_id, path)) WITHOUT ROWID;"
    "CREATE TABLE task_files("
    "  task_run_id INTEGER NOT NULL REFERENCES task_runs(id),"
    "  path TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,"
    "  PRIMARY KEY(task_run_id, path)) WITHOUT ROWID;"
    "CREATE TABLE task_upstream("
    "  task_run_id INTEGER NOT NULL REFERENCES task_runs(id),"
    "  upstream TEXT NOT NULL, deep_key TEXT NOT NULL, output_digest TEXT,"
    "  PRIMARY KEY(task_run_id, upstream)) WITHOUT ROWID;"
    "CREATE TABLE events("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  seq INTEGER NOT NULL,"
    "  t REAL NOT NULL,"
    "  task TEXT,"
    "  state TEXT NOT NULL,"
    "  detail TEXT,"
    "  PRIMARY KEY(run_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE entries("
    "  key TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  task TEXT NOT NULL,"
    "  task_run_id INTEGER REFERENCES task_runs(id),"
    "  created REAL NOT NULL,"
    "  expires REAL) WITHOUT ROWID;"
    "CREATE INDEX entries_by_digest ON entries(digest);"
    "CREATE TABLE outputs("
    "  digest TEXT PRIMARY KEY,"
    "  manifest TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created REAL NOT NULL,"
    "  pinned INTEGER NOT NULL DEFAULT 0,"
    "  used REAL,"
    "  dropped REAL) WITHOUT ROWID;"
    "CREATE TABLE output_objects("
    "  object TEXT NOT NULL, output TEXT NOT NULL,"
    "  PRIMARY KEY(object, output)) WITHOUT ROWID;"
    "CREATE TABLE invalidations("
    "  id INTEGER PRIMARY KEY,"
    "  created REAL NOT NULL,"
    "  user TEXT NOT NULL,"
    "  flow_id INTEGER REFERENCES flows(id),"
    "  tasks TEXT NOT NULL,"
    "  reason TEXT,"
    "  undone REAL);"
    "CREATE TABLE invalidated_entries("
    "  invalidation_id INTEGER NOT NULL REFERENCES invalidations(id),"
    "  key TEXT NOT NULL, kind TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,"
    "  task TEXT NOT NULL, task_run_id INTEGER, created REAL NOT NULL, expires REAL,"
    "  direct INTEGER NOT NULL,"
    "  PRIMARY KEY(invalidation_id, key)) WITHOUT ROWID;"
    "CREATE INDEX invalidated_by_key ON invalidated_entries(key);"
    "CREATE TABLE publications("
    "  path TEXT PRIMARY KEY, digest TEXT NOT NULL, task TEXT NOT NULL,"
    "  published REAL NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE code_stat("
    "  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
    "  ino INTEGER NOT NULL, mode INTEGER NOT NULL, blob TEXT NOT NULL,"
    "  clean INTEGER NOT NULL, index_sig TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE file_stat("
    "  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
    "  ino INTEGER NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID;",
    /* 1 -> 2: what replay needs to rebuild a past run: each task's working directory
     * (relative to its flow's) and the variable each upstream was seen in. */
    "ALTER TABLE task_runs ADD COLUMN dir TEXT;"
    "ALTER TABLE task_upstream ADD COLUMN var TEXT;",
    /* 2 -> 3: claims of deep keys being computed (claims.h) */
    "CREATE TABLE claims("
    "  key TEXT PRIMARY KEY, task TEXT NOT NULL, run_id INTEGER NOT NULL,"
    "  pid INTEGER NOT NULL, started REAL NOT NULL) WITHOUT ROWID;",
    /* 3 -> 4: invalidations look up what others in force took out by output digest;
     * without an index each task scanned every invalidated entry. */
    "CREATE INDEX invalidated_by_digest ON invalidated_entries(digest);",
    /* 4 -> 5: who owns a publication (its top flow file) and what it left there (a
     * stamp of sizes, mtimes and inodes), so sluice replaces only its own, unchanged
     * or not, and two flows cannot publish to one path unnoticed. */
    "ALTER TABLE publications ADD COLUMN flow TEXT;"
    "ALTER TABLE publications ADD COLUMN stamp TEXT;",
    /* 5 -> 6: why each task run was planned to run, its root causes in words (as
     * `sluice why` gives them); NULL for hits and for task runs recorded before. */
    "ALTER TABLE task_runs ADD COLUMN cause TEXT;",
    /* 6 -> 7: the host of a claim's and a run's process: a pid says nothing about a
     * process on another machine sharing the store (claims.h). */
    "ALTER TABLE claims ADD COLUMN host TEXT;"
    "ALTER TABLE runs ADD COLUMN host TEXT;",
    /* 7 -> 8: what replay needs to run a task as the run did: its declared outputs (a
     * JSON list; NULL: none, or recorded before) and its cpus (NULL: 1). */
    "ALTER TABLE task_runs ADD COLUMN outputs TEXT;"
    "ALTER TABLE task_runs ADD COLUMN cpus INTEGER;",
    /* 8 -> 9: the stat caches hold ctime too: a same-size rewrite under a restored
     * mtime changes only ctime (git's ie_match_stat checks it for the same reason). */
    "ALTER TABLE code_stat ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT -1;"
    "ALTER TABLE file_stat ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT -1;",
};

/* How long a statement waits for another process's lock before giving up. */
static int busy_timeout_ms(void)
{
    return testhook("db-busy-timeout") ? 300 : 10000;
}

static int set_error(struct db *db, struct err *e, const char *what)
{
    /* SQLite calls a full disk met while making its WAL or index "disk I/O error". */
    if (sqlite3_errcode(db->h) == SQLITE_FULL || sqlite3_system_errno(db->h) == ENOSPC)
        return err_set(e, "%s: %s: the disk is full (no space left on device)", what, db->path);
    switch (sqlite3_errcode(db->h)) {
    case SQLITE_BUSY:
        return err_set(e, "%s: %s is locked by another program (gave up after %.1f s)", what,
                       db->path, busy_timeout_ms() / 1000.0);
    case SQLITE_READONLY:
        return err_set(e, "%s: %s is read-only", what, db->path);
    default:
        return err_set(e, "%s: %s", what, sqlite3_errmsg(db->h));
    }
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        return set_error(db, e, "database");
    return 0;
}

static int user_version(struct db *db, int *v, struct err *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return set_error(db, e, "database");
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : set_error(db, e, "database");
}

static int migrate(struct db *db, struct err *e)
{
    int v;
    if (user_version(db, &v, e))
        return -1;
    if (v == DB_SCHEMA_VERSION)
        return 0;
    if (v > DB_SCHEMA_VERSION)
        return err_set(e, "the store was written by a newer sluice (schema %d, this one knows %d)",
                       v, DB_SCHEMA_VERSION);
    if (db_exec(db, "BEGIN IMMEDIATE", e))
        return -1;
    /* Re-read under the write lock: another process may have migrated meanwhile. */
    if (user_version(db, &v, e)) {
        db_rollback(db);
        return -1;
    }
    for (; v < DB_SCHEMA_VERSION; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v + 1);
        if (db_exec(db, migrations[v], e) || db_exec(db, pragma, e)) {
            db_rollback(db);
            return err_prefix(e, "migrating the store's database to schema %d", v + 1);
        }
    }
    return db_exec(db, "COMMIT", e);
}

/* A path as an SQLite URI ("file:" plus the path with %, ? and # escaped). */
static char *uri_of(const char *path, const char *query)
{
    struct sb b = {0};
    sb_adds(&b, "file:");
    for (const char *p = path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            sb_addf(&b, "%%%02X", (unsigned char)*p);
        else
            sb_addc(&b, *p);
    }
    sb_addf(&b, "?%s", query);
    return sb_take(&b);
}

/* A store nobody may write (read-only mount, or another user's) is read as it is:
 * first normally, then (when SQLite cannot create its WAL index there) as immutable. */
static int open_read_only(struct db *db, struct err *e)
{
    static const char *const queries[] = {"mode=ro", "mode=ro&immutable=1"};
    for (size_t i = 0; i < ARRAY_LEN(queries); i++) {
        char *uri = uri_of(db->path, queries[i]);
        int rc = sqlite3_open_v2(uri, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                                                  SQLITE_OPEN_NOMUTEX, NULL);
        free(uri);
        int v;
        if (rc == SQLITE_OK && user_version(db, &v, NULL) == 0)
            return v >= 1 && v <= DB_SCHEMA_VERSION
                       ? 0
                       : err_set(e, "cannot read database %s: schema %d", db->path, v);
        sqlite3_close(db->h);
        db->h = NULL;
    }
    return err_set(e, "cannot read database %s", db->path);
}

static int open_read_write(struct db *db, struct err *e)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(db->path, &db->h, flags, NULL) != SQLITE_OK)
        return err_set(e, "cannot open database %s: %s", db->path,
                       db->h ? sqlite3_errmsg(db->h) : "out of memory");
    sqlite3_busy_timeout(db->h, busy_timeout_ms());
    /* The WAL outlives the command: checkpointing it at every close (two fsyncs and
     * the WAL made again by the next command) was 1.5 ms of a 12 ms no-op. SQLite's
     * auto-checkpoint (1,000 pages) still folds it into the database. Readers of a
     * read-only store find the WAL and its index there, so they see every commit. */
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;",
                e) ||
        migrate(db, e))
        return err_prefix(e, "%s", db->path);
    return 0;
}

/* SQLite gives the WAL and its index the database's mode when it makes them: a read
 * of a 0400 database leaves 0400 sidecars that would keep every later write failing
 * after the database is made writable again. Ours are made writable with it. */
static void fix_sidecars(const char *path)
{
    static const char *const suffixes[] = {"-wal", "-shm"};
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        char *p = xasprintf("%s%s", path, suffixes[i]);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            !(st.st_mode & S_IWUSR))
            chmod(p, 0600);
        free(p);
    }
}

int db_open(const char *path, struct db **out, struct err *e)
{
    *out = NULL;
    /* Create the file ourselves so its mode is 0600 whatever the umask. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    bool read_only = fd < 0 && (errno == EROFS || errno == EACCES) && access(path, R_OK) == 0;
    if (fd < 0 && !read_only)
        return err_set(e, "cannot open database %s: %s", path, strerror(errno));
    if (fd >= 0) {
        close(fd);
        fix_sidecars(path);
    }
    struct db *db = xcalloc(1, sizeof *db);
    db->path = xstrdup(path);
    db->read_only = read_only;
    if (read_only ? open_read_only(db, e) : open_read_write(db, e)) {
        db_close(db);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        db->dev = st.st_dev;
        db->ino = st.st_ino;
    }
    *out = db;
    return 0;
}

const char *db_file(const struct db *db)
{
    return db->path;
}

bool db_read_only(const struct db *db)
{
    return db->read_only;
}

bool db_replaced(const struct db *db)
{
    struct stat st;
    return stat(db->path, &st) != 0 || st.st_dev != db->dev || st.st_ino != db->ino;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n_stmts; i++)
        sqlite3_finalize(db->stmts[i].st);
    free(db->stmts);
    if (db->h)
        sqlite3_close(db->h);
    free(db->path);
    free(db);
}

sqlite3 *db_handle(struct db *db)
{
    return db->h;
}

sqlite3_stmt *db_prepare(struct db *db, const char *sql)
{
    for (size_t i = 0; i < db->n_stmts; i++) {
        if (db->stmts[i].sql == sql) {
            sqlite3_reset(db->stmts[i].st);
            sqlite3_clear_bindings(db->stmts[i].st);
            return db->stmts[i].st;
        }
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sluice: internal error preparing SQL: %s\n%s\n", sqlite3_errmsg(db->h),
                sql);
        abort();
    }
    xgrow(&db->stmts, &db->cap_stmts, db->n_stmts + 1, sizeof *db->stmts);
    db->stmts[db->n_stmts++] = (struct cached_stmt){sql, st};
    return st;
}

void db_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
}

int db_exec_stmt(struct db *db, sqlite3_stmt *st, struct err *e)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return set_error(db, e, "database");
    return 0;
}

int db_begin(struct db *db, struct err *e)
{
    return db_exec(db, "BEGIN IMMEDIATE", e);
}

void db_read_begin(struct db *db, bool *opened)
{
    *opened = sqlite3_get_autocommit(db->h) && db_exec(db, "BEGIN", NULL) == 0;
}

void db_read_end(struct db *db, bool opened)
{
    if (opened && !sqlite3_get_autocommit(db->h) && db_exec(db, "COMMIT", NULL) != 0)
        db_rollback(db);
}

int db_commit(struct db *db, struct err *e)
{
    return db_exec(db, "COMMIT", e);
}

void db_rollback(struct db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

bool db_in_transaction(struct db *db)
{
    return !sqlite3_get_autocommit(db->h);
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

const char *db_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

char *db_meta_get(struct db *db, const char *key)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT value FROM meta WHERE key = ?");
    db_bind_text(st, 1, key);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = xstrdup(db_col_text(st, 0));
    db_done(st);
    return v;
}

int db_meta_set(struct db *db, const char *key, const char *value, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    db_bind_text(st, 1, key);
    db_bind_text(st, 2, value);
    return db_exec_stmt(db, st, e);
}
