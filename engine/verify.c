/* verify: re-hash the store and compare it with the cache index. */
#include "verify.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strmap.h"

/* What an object file turned out to be. */
enum object_state { OBJ_OK = 1, OBJ_DAMAGED };

struct verify {
    struct store *st;
    struct db *db;
    bool repair;
    struct verify_report *r;
    struct strmap objects; /* object name -> (uintptr_t) enum object_state */
    struct strv damaged;   /* damaged objects' and logs' paths, deleted last by repair */
    struct strv damaged_names; /* ... and what to call them: "object 3fa1c0..." */
    struct err *e;
};

static void problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct verify *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct sb b = {0};
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    strv_push(&v->r->problems, sb_take(&b));
}

static void repaired(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void repaired(struct verify *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct sb b = {0};
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    strv_push(&v->r->repairs, sb_take(&b));
}

/* Hashes a regular file without following a symlink; false when it cannot be read. */
static bool hash_regular(const char *path, char digest[HASH_HEX], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = hash_fd(fd, digest, size, NULL) == 0;
    close(fd);
    return ok;
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return s[n] == 0 || s[n] == '.';
}

/* --- objects and logs ----------------------------------------------------------------------- */

/* Checks one file of objects/ or logs/: name is its full name ("<digest>[.x]"). */
static void check_stored_file(struct verify *v, const char *path, const char *name, bool is_log)
{
    struct stat s;
    if (lstat(path, &s) != 0)
        return;
    const char *kind = is_log ? "log" : "object";
    char digest[HASH_HEX];
    uint64_t size = 0;
    bool ok = S_ISREG(s.st_mode) && hash_regular(path, digest, &size) &&
              strncmp(digest, name, HASH_HEX - 1) == 0;
    if (S_ISREG(s.st_mode)) {
        v->r->bytes += size;
        is_log ? v->r->logs++ : v->r->objects++;
    }
    if (!is_log)
        strmap_put(&v->objects, name, (void *)(uintptr_t)(ok ? OBJ_OK : OBJ_DAMAGED));
    if (ok)
        return;
    problem(v, "%s %.12s: %s", kind, name,
            S_ISREG(s.st_mode) ? "its bytes do not match its name" : "not a regular file");
    strv_push(&v->damaged, xstrdup(path));
    strv_pushf(&v->damaged_names, "%s %.12s", kind, name);
}

/* Whether the file at path is now a good stored file: one put back from a view
 * (restore_from_view() renames it over the damaged one). */
static bool now_intact(const char *path)
{
    const char *name = strrchr(path, '/');
    char *full = name && name - path >= 2 ? xasprintf("%.2s%s", name - 2, name + 1) : NULL;
    char digest[HASH_HEX];
    uint64_t size;
    bool ok = full && hash_regular(path, digest, &size) && strncmp(digest, full, HASH_HEX - 1) == 0;
    free(full);
    return ok;
}

/* Deletes what check_stored_file() found damaged (never following a symlink), unless
 * it was put back meanwhile. */
static void delete_damaged(struct verify *v)
{
    for (size_t i = 0; i < v->damaged.n; i++) {
        if (now_intact(v->damaged.v[i]))
            continue;
        if (remove_tree(v->damaged.v[i], NULL) == 0)
            repaired(v, "deleted the damaged %s", v->damaged_names.v[i]);
        else
            v->r->unrepaired++;
    }
}

/* Walks dir/ab/cdef... (objects/ or logs/); leftover temporary files of an interrupted
 * commit are not objects yet and are left to gc. */
struct fanout {
    struct verify *v;
    bool is_log;
};

static void check_fanout_file(void *ctx, const char *path, const char *name)
{
    const struct fanout *c = ctx;
    bool named = is_hex(name, HASH_HEX - 1);
    const char *suffix = named ? name + HASH_HEX - 1 : "";
    if (named && (!suffix[0] || (!c->is_log && strcmp(suffix, ".x") == 0)))
        check_stored_file(c->v, path, name, c->is_log);
}

/* What a fanout entry that should be a directory is instead. */
static const char *non_dir_kind(mode_t mode)
{
    return S_ISLNK(mode) ? "a symbolic link" : S_ISREG(mode) ? "a file" : "not a directory";
}

/* A which/xx that is not a real directory (a symbolic link to a user's directory, say)
 * is never walked nor written through: repair deletes it at once (never following it),
 * so objects put back from views land in a directory of the store's own. */
static void check_fanout_dirs(struct verify *v, const char *which, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        struct stat s;
        char *sub = path_join(dir, de->d_name);
        if (strlen(de->d_name) == 2 && is_hex(de->d_name, 2) && lstat(sub, &s) == 0 &&
            !S_ISDIR(s.st_mode)) {
            problem(v, "%s/%s: not a directory (%s)", which, de->d_name, non_dir_kind(s.st_mode));
            if (!v->repair)
                v->r->unrepaired++;
            else if (remove_tree(sub, NULL) == 0)
                repaired(v, "deleted the damaged %s/%s", which, de->d_name);
            else
                v->r->unrepaired++;
        }
        free(sub);
    }
    if (d)
        closedir(d);
}

static void check_fanout(struct verify *v, const char *which, bool is_log)
{
    char *dir = store_dir(v->st, which);
    struct fanout c = {v, is_log};
    check_fanout_dirs(v, which, dir);
    store_fanout_each(dir, check_fanout_file, &c);
    free(dir);
}

/* --- outputs -------------------------------------------------------------------------------- */

struct output_check {
    struct verify *v;
    const char *digest;
    const char *tasks; /* "task a", "tasks a, b" or "no entry" */
    char *view;        /* its view directory, or NULL when not built */
    bool lost;         /* some file's bytes are gone: the output must be recomputed */
    bool view_damaged;
};

/* Whether the directory holding path is a real directory (made if missing), never a
 * symbolic link. */
static bool real_fanout_dir(const char *path)
{
    char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
    struct stat s;
    bool ok = (mkdir(dir, 0700) == 0 || errno == EEXIST) && lstat(dir, &s) == 0 &&
              S_ISDIR(s.st_mode);
    free(dir);
    return ok;
}

/* An object that is missing while the view still holds its bytes is put back. */
static bool restore_from_view(struct output_check *c, const struct store_file *f,
                              const char *view_file)
{
    char digest[HASH_HEX];
    uint64_t size;
    if (!c->view || !hash_regular(view_file, digest, &size) || strcmp(digest, f->digest) != 0)
        return false;
    problem(c->v, "output %.12s (%s): %s: object %.12s is missing (its view still has it)",
            c->digest, c->tasks, f->path, f->digest);
    if (!c->v->repair)
        return true;
    char *obj = store_object_file(c->v->st, f->object);
    char *tmp = xasprintf("%s.%ld.tmp", obj, (long)getpid());
    if (real_fanout_dir(obj) && link(view_file, tmp) == 0 && rename(tmp, obj) == 0) {
        repaired(c->v, "put object %.12s back from its view", f->digest);
        strmap_put(&c->v->objects, f->object, (void *)(uintptr_t)OBJ_OK);
    } else {
        unlink(tmp);
        c->v->r->unrepaired++;
    }
    free(tmp);
    free(obj);
    return true;
}

static void check_output_file(void *arg, const struct store_file *f)
{
    struct output_check *c = arg;
    char *obj = store_object_file(c->v->st, f->object);
    char *view_file = c->view ? path_join(c->view, f->path) : NULL;
    uintptr_t state = (uintptr_t)strmap_get(&c->v->objects, f->object);
    struct stat s;
    bool present = state != 0 && lstat(obj, &s) == 0 && S_ISREG(s.st_mode);
    if (present && state == OBJ_OK && (uint64_t)s.st_size == f->size) {
        /* intact; its view is compared with the manifest as a whole (check_view()) */
    } else if (!present && restore_from_view(c, f, view_file)) {
        /* the view's copy is intact, so the output is too */
    } else {
        const char *what = !present                           ? "missing"
                           : (uint64_t)s.st_size < f->size ? "truncated"
                                                              : "damaged";
        problem(c->v, "output %.12s (%s): %s: object %.12s is %s", c->digest, c->tasks, f->path,
                f->digest, what);
        c->lost = true;
    }
    free(view_file);
    free(obj);
}

static char *output_tasks(struct db *db, const char *digest)
{
    sqlite3_stmt *q = db_prepare(db, "SELECT group_concat(task, ', '), count(*) FROM (SELECT "
                                     "DISTINCT task FROM entries WHERE digest = ?)");
    db_bind_text(q, 1, digest);
    char *s = NULL;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 1) > 0)
        s = xasprintf("task%s %s", sqlite3_column_int(q, 1) > 1 ? "s" : "", db_col_text(q, 0));
    db_done(q);
    return s ? s : xstrdup("no entry");
}

/* Forgets an output whose bytes are lost: its entries, its row, its view. */
static int drop_output(struct verify *v, const char *digest, const char *tasks)
{
    static const char *const sql[] = {"DELETE FROM entries WHERE digest = ?",
                                      "DELETE FROM output_objects WHERE output = ?",
                                      "DELETE FROM outputs WHERE digest = ?"};
    int entries = 0;
    for (size_t i = 0; i < ARRAY_LEN(sql); i++) {
        sqlite3_stmt *q = db_prepare(v->db, sql[i]);
        db_bind_text(q, 1, digest);
        if (db_exec_stmt(v->db, q, v->e))
            return -1;
        if (i == 0)
            entries = sqlite3_changes(db_handle(v->db));
    }
    char *view = store_view_path(v->st, digest);
    remove_tree(view, NULL);
    free(view);
    repaired(v, "dropped output %.12s (%s) and its %d cache entr%s: it is computed again", digest,
             tasks, entries, entries == 1 ? "y" : "ies");
    return 0;
}

/* A view must hold exactly its manifest: every file the stored object itself, nothing
 * missing, nothing extra (store_view_check()). */
#define VIEW_PROBLEMS_MAX 20

static void check_view(struct output_check *c, const char *manifest)
{
    struct strv diffs = {0};
    if (store_view_check(c->v->st, c->digest, manifest, VIEW_PROBLEMS_MAX, &diffs) == 0 &&
        diffs.n > 0) {
        c->view_damaged = true;
        for (size_t i = 0; i < diffs.n; i++)
            problem(c->v, "output %.12s (%s): its view differs from its manifest: %s",
                    c->digest, c->tasks, diffs.v[i]);
    }
    strv_free(&diffs);
}

/* Replaces a view that differs from its manifest with one built from the objects. */
static bool rebuild_view(struct verify *v, const char *digest, const char *manifest)
{
    struct err e;
    char *view = store_view(v->st, digest, manifest, &e);
    free(view);
    return view != NULL;
}

static int check_output(struct verify *v, const char *digest, const char *manifest)
{
    v->r->outputs++;
    char actual[HASH_HEX];
    hash_bytes(manifest, strlen(manifest), actual);
    struct output_check c = {.v = v, .digest = digest, .tasks = output_tasks(v->db, digest)};
    c.view = store_view_path(v->st, digest);
    struct stat s;
    bool has_view = lstat(c.view, &s) == 0;
    if (!has_view || !S_ISDIR(s.st_mode)) {
        free(c.view);
        c.view = NULL;
    }
    if (strcmp(actual, digest) != 0 || store_manifest_each(manifest, check_output_file, &c)) {
        problem(v, "output %.12s (%s): its manifest is corrupt", digest, c.tasks);
        c.lost = true;
    } else if (has_view && !c.lost) {
        check_view(&c, manifest);
    }
    int rc = 0;
    if (c.lost && v->repair) {
        rc = drop_output(v, digest, c.tasks);
    } else if (c.lost) {
        v->r->unrepaired++;
    } else if (c.view_damaged && v->repair && rebuild_view(v, digest, manifest)) {
        repaired(v, "rebuilt the view of output %.12s from its objects", digest);
    } else if (c.view_damaged) {
        v->r->unrepaired++;
    }
    free((char *)c.tasks);
    free(c.view);
    return rc;
}

static int check_outputs(struct verify *v)
{
    sqlite3_stmt *q =
        db_prepare(v->db, "SELECT digest, manifest FROM outputs WHERE dropped IS NULL");
    struct strv digests = {0}, manifests = {0};
    while (sqlite3_step(q) == SQLITE_ROW) {
        strv_push(&digests, xstrdup(db_col_text(q, 0)));
        strv_push(&manifests, xstrdup(db_col_text(q, 1)));
    }
    db_done(q);
    int rc = 0;
    for (size_t i = 0; i < digests.n && rc == 0; i++)
        rc = check_output(v, digests.v[i], manifests.v[i]);
    strv_free(&digests);
    strv_free(&manifests);
    return rc;
}

/* --- entries and the database ------------------------------------------------------------------ */

static void count_entries(struct verify *v)
{
    sqlite3_stmt *q = db_prepare(v->db, "SELECT count(*) FROM entries");
    if (sqlite3_step(q) == SQLITE_ROW)
        v->r->entries = (size_t)sqlite3_column_int64(q, 0);
    db_done(q);
}

/* Repair deletes the entries found wrong (their tasks run again). */
static int delete_entries(struct verify *v, const struct strv *keys)
{
    int rc = 0;
    for (size_t i = 0; i < keys->n && rc == 0; i++) {
        if (!v->repair) {
            v->r->unrepaired++;
            continue;
        }
        sqlite3_stmt *q = db_prepare(v->db, "DELETE FROM entries WHERE key = ?");
        db_bind_text(q, 1, keys->v[i]);
        rc = db_exec_stmt(v->db, q, v->e);
        if (rc == 0)
            repaired(v, "deleted cache entry %.12s", keys->v[i]);
    }
    return rc;
}

static int check_entries(struct verify *v)
{
    sqlite3_stmt *q = db_prepare(v->db, "SELECT key, task, digest FROM entries e WHERE NOT EXISTS (SELECT 1 "
                          "FROM outputs o WHERE o.digest = e.digest)");
    struct strv keys = {0};
    while (sqlite3_step(q) == SQLITE_ROW) {
        problem(v, "cache entry %.12s (task %s) names an unknown output %.12s", db_col_text(q, 0),
                db_col_text(q, 1), db_col_text(q, 2));
        strv_push(&keys, xstrdup(db_col_text(q, 0)));
    }
    db_done(q);
    int rc = delete_entries(v, &keys);
    strv_free(&keys);
    return rc;
}

/* Why an entry disagrees with what the history recorded for the task run that made
 * it, or NULL: that run's output, task and key (its deep key for "deep" and "alias"
 * entries, its shallow key for "shallow" ones) must be the entry's. */
static const char *entry_disagreement(sqlite3_stmt *q)
{
    const char *kind = db_col_text(q, 1), *digest = db_col_text(q, 3);
    if (sqlite3_column_type(q, 4) == SQLITE_NULL)
        return "records no task run";
    if (sqlite3_column_type(q, 5) == SQLITE_NULL)
        return "names a task run the history does not have";
    if (strcmp(db_col_text(q, 8), digest) != 0)
        return "names another output than its task run made";
    if (strcmp(db_col_text(q, 5), db_col_text(q, 2)) != 0)
        return "names a run of another task";
    const char *key = db_col_text(q, 0);
    bool shallow = strcmp(kind, "shallow") == 0;
    if (strcmp(shallow ? db_col_text(q, 7) : db_col_text(q, 6), key) != 0)
        return "has another key than its task run";
    return NULL;
}

/* Every entry must agree with the task run that produced it; one that does not (the
 * database was edited) is a wrong hit waiting to happen: repair deletes it, so its
 * task runs again. */
static int check_provenance(struct verify *v)
{
    sqlite3_stmt *q = db_prepare(
        v->db, "SELECT e.key, e.kind, e.task, e.digest, e.task_run_id, t.task, t.deep_key, "
               "t.shallow_key, t.output_digest FROM entries e LEFT JOIN task_runs t ON "
               "t.id = e.task_run_id WHERE EXISTS (SELECT 1 FROM outputs o WHERE "
               "o.digest = e.digest)");
    struct strv keys = {0};
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *why = entry_disagreement(q);
        if (!why)
            continue;
        if (sqlite3_column_type(q, 4) == SQLITE_NULL)
            problem(v, "cache entry %.12s (task %s, %s) %s", db_col_text(q, 0),
                    db_col_text(q, 2), db_col_text(q, 1), why);
        else
            problem(v, "cache entry %.12s (task %s, %s) %s (task run %lld made %.12s, it names "
                       "%.12s)",
                    db_col_text(q, 0), db_col_text(q, 2), db_col_text(q, 1), why,
                    (long long)sqlite3_column_int64(q, 4), db_col_text(q, 8), db_col_text(q, 3));
        strv_push(&keys, xstrdup(db_col_text(q, 0)));
    }
    db_done(q);
    int rc = delete_entries(v, &keys);
    strv_free(&keys);
    return rc;
}

static void check_database(struct verify *v)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db_handle(v->db), "PRAGMA quick_check", -1, &q, NULL) != SQLITE_OK) {
        problem(v, "database: %s", sqlite3_errmsg(db_handle(v->db)));
        v->r->unrepaired++;
        return;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *msg = db_col_text(q, 0);
        if (strcmp(msg, "ok") != 0) {
            problem(v, "database: %s", msg);
            v->r->unrepaired++;
        }
    }
    sqlite3_finalize(q);
}

static int take_lock(struct verify *v)
{
    if (!v->repair && db_read_only(v->db))
        return 0; /* a read-only store: nothing can change under us */
    int rc = store_lock(v->st, v->repair, !v->repair, v->e);
    if (rc > 0)
        return err_prefix(v->e, "verify --repair changes nothing while a run uses the store; "
                                "run it again when the run ends");
    return rc;
}

int verify_store(struct store *st, struct db *db, bool repair, struct verify_report *r,
                 struct err *e)
{
    memset(r, 0, sizeof *r);
    struct verify v = {.st = st, .db = db, .repair = repair, .r = r, .e = e};
    if (take_lock(&v))
        return -1;
    check_database(&v);
    count_entries(&v);
    check_fanout(&v, "objects", false);
    check_fanout(&v, "logs", true);
    int rc = repair ? db_begin(db, e) : 0;
    if (rc == 0)
        rc = check_outputs(&v);
    if (rc == 0)
        rc = check_entries(&v);
    if (rc == 0)
        rc = check_provenance(&v);
    if (repair && rc == 0)
        rc = db_commit(db, e);
    else if (repair)
        db_rollback(db);
    if (repair && rc == 0)
        delete_damaged(&v);
    else
        r->unrepaired += v.damaged.n;
    strv_free(&v.damaged);
    strv_free(&v.damaged_names);
    strmap_free(&v.objects, NULL);
    return rc;
}

void verify_report_free(struct verify_report *r)
{
    strv_free(&r->problems);
    strv_free(&r->repairs);
}
