/* gc: deciding what is garbage, then deleting it. */
#include "gc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strmap.h"

/* A present output: its bytes are in the store. */
struct out {
    char *digest;
    double used;
    bool referenced; /* by an entry, or by a recent run kept for replay */
    bool entries;    /* by an entry: dropping it keeps its row (the key stays known) */
    bool drop;
};

struct gc {
    struct store *st;
    struct db *db;
    const struct gc_opts *o;
    struct gc_report *r;
    struct out *outs;
    size_t n_outs, cap_outs;
    struct strmap refs;  /* object name -> (uintptr_t) outputs kept that use it */
    struct strmap sizes; /* object name -> (uintptr_t) bytes + 1 */
    struct strmap kept;  /* digests of the outputs that stay */
    uint64_t kept_bytes; /* bytes of the objects that stay (while fitting the budget) */
    struct err *e;
};

int gc_parse_size(const char *text, uint64_t *bytes)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v < 0)
        return -1;
    static const char units[] = "BKMGT";
    const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : units;
    if (!u || (*end && end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2])))
        return -1;
    *bytes = (uint64_t)(v * pow(1024, (double)(u - units)));
    return 0;
}

static int expire_entries(struct gc *g)
{
    const char *sql = g->o->dry_run
                          ? "SELECT count(*) FROM entries WHERE expires IS NOT NULL AND expires < ?"
                          : "DELETE FROM entries WHERE expires IS NOT NULL AND expires < ?";
    sqlite3_stmt *st = db_prepare(g->db, sql);
    sqlite3_bind_double(st, 1, now_wall());
    int rc = sqlite3_step(st);
    g->r->expired_entries = g->o->dry_run ? (size_t)sqlite3_column_int64(st, 0)
                                          : (size_t)sqlite3_changes(db_handle(g->db));
    db_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : err_set(g->e, "gc: %s",
                                                               sqlite3_errmsg(db_handle(g->db)));
}

/* Present outputs, with what refers to them (expired entries excluded in a dry run). */
static void load_outputs(struct gc *g)
{
    sqlite3_stmt *st = db_prepare(
        g->db,
        "SELECT o.digest, coalesce(o.used, o.created), "
        " EXISTS(SELECT 1 FROM entries e WHERE e.digest = o.digest AND (e.expires IS NULL OR "
        "   e.expires >= ?1)), "
        " EXISTS(SELECT 1 FROM task_runs t WHERE t.output_digest = o.digest AND ?2 > 0 AND "
        "   t.run_id > (SELECT coalesce(max(id), 0) - ?2 FROM runs)) "
        "FROM outputs o WHERE o.dropped IS NULL ORDER BY 2");
    sqlite3_bind_double(st, 1, now_wall());
    sqlite3_bind_int64(st, 2, g->o->keep_runs);
    while (sqlite3_step(st) == SQLITE_ROW) {
        xgrow(&g->outs, &g->cap_outs, g->n_outs + 1, sizeof *g->outs);
        struct out *o = &g->outs[g->n_outs++];
        o->digest = xstrdup(db_col_text(st, 0));
        o->used = sqlite3_column_double(st, 1);
        o->entries = sqlite3_column_int(st, 2) != 0;
        o->referenced = o->entries || sqlite3_column_int(st, 3) != 0;
        o->drop = !o->referenced;
    }
    db_done(st);
}

/* Counts, per object, the kept outputs using it; an object no output keeps any more
 * leaves g->kept_bytes. */
static void count_refs(struct gc *g, const struct out *o, long delta)
{
    sqlite3_stmt *st = db_prepare(g->db, "SELECT object FROM output_objects WHERE output = ?");
    db_bind_text(st, 1, o->digest);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *obj = db_col_text(st, 0);
        long n = (long)(uintptr_t)strmap_get(&g->refs, obj) + delta;
        strmap_put(&g->refs, obj, (void *)(uintptr_t)n);
        uintptr_t size = (uintptr_t)strmap_get(&g->sizes, obj);
        if (n == 0 && size)
            g->kept_bytes -= size - 1;
    }
    db_done(st);
}

typedef void sized_fn(struct gc *g, const char *path, const char *name, uint64_t size);
struct sized {
    struct gc *g;
    sized_fn *fn;
};

static void sized_file(void *ctx, const char *path, const char *name)
{
    const struct sized *s = ctx;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        s->fn(s->g, path, name, (uint64_t)st.st_size);
}

/* Calls fn for every regular file two levels under dir (objects/ab/cdef, logs/ab/cdef)
 * with the name "abcdef" and its size. */
static void walk_fanout(const char *dir, sized_fn *fn, struct gc *g)
{
    struct sized s = {g, fn};
    store_fanout_each(dir, sized_file, &s);
}

static void note_size(struct gc *g, const char *path, const char *name, uint64_t size)
{
    (void)path;
    strmap_put(&g->sizes, name, (void *)(uintptr_t)(size + 1));
}

/* Drops least recently used outputs until what stays fits the budget. */
static void fit_budget(struct gc *g)
{
    if (!g->o->max_size)
        return;
    g->kept_bytes = 0;
    for (size_t i = 0; i < g->sizes.cap; i++)
        if (g->sizes.keys[i] && (uintptr_t)strmap_get(&g->refs, g->sizes.keys[i]) > 0)
            g->kept_bytes += (uintptr_t)g->sizes.vals[i] - 1;
    for (size_t i = 0; i < g->n_outs && g->kept_bytes > g->o->max_size; i++) {
        struct out *o = &g->outs[i]; /* sorted by last use, oldest first */
        if (o->drop)
            continue;
        o->drop = true;
        count_refs(g, o, -1);
    }
}

static void sweep_object(struct gc *g, const char *path, const char *name, uint64_t size)
{
    if ((uintptr_t)strmap_get(&g->refs, name) > 0) {
        g->r->kept_objects++;
        g->r->kept_bytes += size;
        return;
    }
    g->r->objects++;
    g->r->freed += size;
    if (!g->o->dry_run)
        unlink(path);
}

/* Logs still referenced by the history (by the last keep_runs runs, when given). */
static void sweep_log(struct gc *g, const char *path, const char *name, uint64_t size)
{
    sqlite3_stmt *st = db_prepare(
        g->db, "SELECT 1 FROM task_runs WHERE log_object = ? AND (?2 < 0 OR run_id > (SELECT "
               "coalesce(max(id), 0) - ?2 FROM runs)) LIMIT 1");
    db_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, g->o->keep_runs);
    bool used = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    if (used)
        return;
    g->r->logs++;
    g->r->freed += size;
    if (!g->o->dry_run)
        unlink(path);
}

/* Removes every entry of dir for which keep() is false. */
static size_t sweep_dir(struct gc *g, const char *dir, bool (*keep)(struct gc *, const char *))
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            (keep && keep(g, de->d_name)))
            continue;
        n++;
        if (!g->o->dry_run) {
            char *p = xasprintf("%s/%s", dir, de->d_name);
            remove_tree(p, NULL);
            free(p);
        }
    }
    closedir(d);
    return n;
}

static bool view_kept(struct gc *g, const char *name)
{
    return strmap_key(&g->kept, name) != NULL;
}

/* Records the drops: unreferenced outputs disappear, budget drops keep their row. */
static int record_drops(struct gc *g)
{
    for (size_t i = 0; i < g->n_outs; i++) {
        const struct out *o = &g->outs[i];
        if (!o->drop)
            continue;
        g->r->outputs++;
        if (g->o->dry_run)
            continue;
        const char *sql[] = {"DELETE FROM output_objects WHERE output = ?1",
                             "DELETE FROM outputs WHERE digest = ?1",
                             "UPDATE outputs SET dropped = ?2 WHERE digest = ?1"};
        for (int k = o->entries ? 2 : 0; k < (o->entries ? 3 : 2); k++) {
            sqlite3_stmt *st = db_prepare(g->db, sql[k]);
            db_bind_text(st, 1, o->digest);
            if (k == 2)
                sqlite3_bind_double(st, 2, now_wall());
            if (db_exec_stmt(g->db, st, g->e))
                return -1;
        }
    }
    return 0;
}

static void sweep(struct gc *g)
{
    for (size_t i = 0; i < g->n_outs; i++)
        if (!g->outs[i].drop)
            strmap_put(&g->kept, g->outs[i].digest, NULL);
    char *objects = store_dir(g->st, "objects"), *logs = store_dir(g->st, "logs");
    char *views = store_dir(g->st, "views"), *tmp = store_dir(g->st, "tmp");
    walk_fanout(objects, sweep_object, g);
    walk_fanout(logs, sweep_log, g);
    g->r->views = sweep_dir(g, views, view_kept);
    g->r->scratch = sweep_dir(g, tmp, NULL);
    free(objects);
    free(logs);
    free(views);
    free(tmp);
}

/* Forgets the stat-cache rows (filedigest.h) of store files that are gone: outputs
 * are checked through that cache before tasks read them. */
static int forget_stat_rows(struct gc *g)
{
    char *prefix = xasprintf("%s/", store_root(g->st));
    sqlite3_stmt *st =
        db_prepare(g->db, "SELECT path FROM file_stat WHERE substr(path, 1, length(?1)) = ?1");
    db_bind_text(st, 1, prefix);
    struct strv gone = {0};
    while (sqlite3_step(st) == SQLITE_ROW)
        if (access(db_col_text(st, 0), F_OK) != 0)
            strv_push(&gone, xstrdup(db_col_text(st, 0)));
    db_done(st);
    free(prefix);
    int rc = 0;
    for (size_t i = 0; i < gone.n && rc == 0; i++) {
        st = db_prepare(g->db, "DELETE FROM file_stat WHERE path = ?");
        db_bind_text(st, 1, gone.v[i]);
        rc = db_exec_stmt(g->db, st, g->e);
    }
    strv_free(&gone);
    return rc;
}

int gc_collect(struct store *st, struct db *db, const struct gc_opts *o, struct gc_report *r,
               struct err *e)
{
    memset(r, 0, sizeof *r);
    int locked = store_lock(st, true, false, e);
    if (locked > 0)
        return err_prefix(e, "gc changes nothing while a run uses the store; run it again "
                             "when the run ends");
    if (locked < 0)
        return -1;
    struct gc g = {.st = st, .db = db, .o = o, .r = r, .e = e};
    int rc = db_begin(db, e);
    if (rc == 0)
        rc = expire_entries(&g);
    if (rc == 0) {
        load_outputs(&g);
        for (size_t i = 0; i < g.n_outs; i++)
            if (!g.outs[i].drop)
                count_refs(&g, &g.outs[i], +1);
        char *objects = store_dir(st, "objects");
        walk_fanout(objects, note_size, &g);
        free(objects);
        fit_budget(&g);
        rc = record_drops(&g);
    }
    if (rc == 0) {
        sweep(&g);
        rc = o->dry_run ? 0 : forget_stat_rows(&g);
        if (rc == 0)
            rc = blobs_collect(st, db, o->keep_runs, o->dry_run, &r->blobs, e);
        r->freed += r->blobs.freed;
    }
    if (rc == 0 && !o->dry_run)
        rc = db_commit(db, e);
    else
        db_rollback(db);
    for (size_t i = 0; i < g.n_outs; i++)
        free(g.outs[i].digest);
    free(g.outs);
    strmap_free(&g.refs, NULL);
    strmap_free(&g.sizes, NULL);
    strmap_free(&g.kept, NULL);
    return rc;
}
