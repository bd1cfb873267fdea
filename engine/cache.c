/* cache: the entries table. */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "filedigest.h"

/* Whether an entry agrees with what the history recorded for the task run that made
 * it (its output, its task, its key): one that does not was not written by sluice.
 * *hit: that task run is a hit (only a hit fetched from a remote enters an entry). */
static bool entry_agrees(struct db *db, const char *key, const char *task, const char *digest,
                         int64_t task_run_id, bool *hit)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT decision = 'hit' FROM task_runs WHERE id = ? AND "
                                      "output_digest = ? AND task = ? AND (deep_key = ? OR "
                                      "shallow_key = ?)");
    sqlite3_bind_int64(st, 1, task_run_id);
    db_bind_text(st, 2, digest);
    db_bind_text(st, 3, task);
    db_bind_text(st, 4, key);
    db_bind_text(st, 5, key);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    *hit = ok && sqlite3_column_int(st, 0);
    db_done(st);
    return ok;
}

int cache_get(struct db *db, const char *key, struct cache_entry *out)
{
    sqlite3_stmt *st = db_prepare(
        db, "SELECT digest, size, created, task_run_id, expires, task FROM entries WHERE key = ?");
    db_bind_text(st, 1, key);
    int found = 0;
    char task[256] = "";
    if (sqlite3_step(st) == SQLITE_ROW && strlen(db_col_text(st, 0)) == HASH_HEX - 1) {
        memcpy(out->digest, db_col_text(st, 0), HASH_HEX);
        out->size = (uint64_t)sqlite3_column_int64(st, 1);
        out->created = sqlite3_column_double(st, 2);
        out->task_run_id = sqlite3_column_int64(st, 3);
        out->expires = sqlite3_column_double(st, 4);
        snprintf(task, sizeof task, "%s", db_col_text(st, 5));
        found = 1;
    }
    db_done(st);
    /* An entry is only as good as the task run that made it: one that disagrees with
     * the history is no hit (its task runs again and replaces it). */
    out->remote = false;
    if (found && !entry_agrees(db, key, task, out->digest, out->task_run_id, &out->fetched))
        found = 0;
    return found;
}

int cache_put(struct db *db, const char *key, const char *kind, const char *task,
              const struct cache_entry *entry, struct err *e)
{
    sqlite3_stmt *st =
        db_prepare(db, "INSERT OR REPLACE INTO entries(key, kind, digest, size, task, "
                       "task_run_id, created, expires) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    db_bind_text(st, 1, key);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, entry->digest);
    sqlite3_bind_int64(st, 4, (int64_t)entry->size);
    db_bind_text(st, 5, task);
    if (entry->task_run_id)
        sqlite3_bind_int64(st, 6, entry->task_run_id);
    sqlite3_bind_double(st, 7, entry->created);
    if (entry->expires > 0)
        sqlite3_bind_double(st, 8, entry->expires);
    return db_exec_stmt(db, st, e);
}

int cache_forget(struct db *db, const char *key, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM entries WHERE key = ?");
    db_bind_text(st, 1, key);
    return db_exec_stmt(db, st, e);
}

struct put_objects {
    struct db *db;
    const char *output;
    int rc;
    struct err *e;
};

static void put_object(void *arg, const struct store_file *f)
{
    struct put_objects *p = arg;
    sqlite3_stmt *st =
        db_prepare(p->db, "INSERT OR IGNORE INTO output_objects(object, output) VALUES(?, ?)");
    db_bind_text(st, 1, f->object);
    db_bind_text(st, 2, p->output);
    if (p->rc == 0)
        p->rc = db_exec_stmt(p->db, st, p->e);
}

int cache_put_output(struct db *db, const struct output *o, bool pinned, struct err *e)
{
    sqlite3_stmt *st = db_prepare(
        db, "INSERT INTO outputs(digest, manifest, size, created, pinned) VALUES(?, ?, ?, ?, ?) "
            "ON CONFLICT(digest) DO UPDATE SET dropped = NULL, pinned = max(pinned, "
            "excluded.pinned)");
    db_bind_text(st, 1, o->digest);
    db_bind_text(st, 2, o->manifest);
    sqlite3_bind_int64(st, 3, (int64_t)o->size);
    sqlite3_bind_double(st, 4, now_wall());
    sqlite3_bind_int(st, 5, pinned);
    if (db_exec_stmt(db, st, e))
        return -1;
    struct put_objects p = {db, o->digest, 0, e};
    store_manifest_each(o->manifest, put_object, &p);
    return p.rc;
}

int cache_use_output(struct db *db, const char *digest, bool pin, struct err *e)
{
    /* To the hour is enough for gc's order, and it spares a no-op run a page write per
     * target. */
    sqlite3_stmt *st =
        db_prepare(db, "UPDATE outputs SET used = ?1, pinned = max(pinned, ?2) WHERE digest = ?3 "
                       "AND (used IS NULL OR used < ?1 - 3600 OR pinned < ?2)");
    sqlite3_bind_double(st, 1, now_wall());
    sqlite3_bind_int(st, 2, pin);
    db_bind_text(st, 3, digest);
    return db_exec_stmt(db, st, e);
}

struct still_used {
    struct db *db;
    const char *output;
};

static bool object_still_used(void *arg, const char *object)
{
    struct still_used *u = arg;
    sqlite3_stmt *st = db_prepare(u->db, "SELECT 1 FROM output_objects oo JOIN outputs o ON "
                                         "o.digest = oo.output WHERE oo.object = ? AND "
                                         "oo.output != ? AND o.dropped IS NULL LIMIT 1");
    db_bind_text(st, 1, object);
    db_bind_text(st, 2, u->output);
    bool used = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return used;
}

int cache_drop_output(struct db *db, struct store *store, const char *digest, bool *dropped,
                      struct err *e)
{
    *dropped = false;
    sqlite3_stmt *st = db_prepare(db, "SELECT manifest, pinned, dropped IS NOT NULL FROM "
                                      "outputs WHERE digest = ?");
    db_bind_text(st, 1, digest);
    char *manifest = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && !sqlite3_column_int(st, 1) &&
        !sqlite3_column_int(st, 2))
        manifest = xstrdup(db_col_text(st, 0));
    db_done(st);
    if (!manifest)
        return 0;
    /* Mark first: object_still_used() must not count this output. */
    st = db_prepare(db, "UPDATE outputs SET dropped = ? WHERE digest = ?");
    sqlite3_bind_double(st, 1, now_wall());
    db_bind_text(st, 2, digest);
    int rc = db_exec_stmt(db, st, e);
    struct still_used u = {db, digest};
    if (rc == 0)
        rc = store_drop(store, digest, manifest, object_still_used, &u, e);
    free(manifest);
    *dropped = rc == 0;
    return rc;
}

static char *col_or_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : xstrdup(db_col_text(st, i));
}

int cache_publication(struct db *db, const char *path, struct publication *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st =
        db_prepare(db, "SELECT digest, task, flow, stamp FROM publications WHERE path = ?");
    db_bind_text(st, 1, path);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(out->digest, HASH_HEX, "%s", db_col_text(st, 0));
        out->task = xstrdup(db_col_text(st, 1));
        out->flow = col_or_null(st, 2);
        out->stamp = col_or_null(st, 3);
    }
    db_done(st);
    return found;
}

void publication_free(struct publication *p)
{
    free(p->task);
    free(p->flow);
    free(p->stamp);
    memset(p, 0, sizeof *p);
}

int cache_record_publication(struct db *db, const char *path, const struct publication *p,
                             struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO publications(path, digest, task, "
                                      "flow, stamp, published) VALUES(?, ?, ?, ?, ?, ?)");
    db_bind_text(st, 1, path);
    db_bind_text(st, 2, p->digest);
    db_bind_text(st, 3, p->task);
    db_bind_text(st, 4, p->flow);
    db_bind_text(st, 5, p->stamp);
    sqlite3_bind_double(st, 6, now_wall());
    return db_exec_stmt(db, st, e);
}

char *cache_manifest_known(struct db *db, const char *digest)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT manifest FROM outputs WHERE digest = ?");
    db_bind_text(st, 1, digest);
    char *m = sqlite3_step(st) == SQLITE_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
    db_done(st);
    return m;
}

char *cache_manifest(struct db *db, const char *digest)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT manifest FROM outputs WHERE digest = ? AND dropped IS NULL");
    db_bind_text(st, 1, digest);
    char *m = sqlite3_step(st) == SQLITE_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
    db_done(st);
    return m;
}

bool cache_output_present(struct db *db, struct store *st, const char *digest)
{
    /* Without a manifest (a dropped output) nothing can be checked, or rebuilt. */
    char *m = cache_manifest(db, digest);
    bool ok = m && store_has_output(st, digest, m);
    free(m);
    return ok;
}

const char *cache_missing_reason(struct db *db, const char *digest, bool ephemeral)
{
    if (ephemeral)
        return "output was not kept";
    sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM outputs WHERE digest = ? AND dropped IS "
                                      "NOT NULL");
    db_bind_text(st, 1, digest);
    bool dropped = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return dropped ? "output was removed by gc" : "output is missing from the store";
}

char *cache_output_view(struct db *db, struct store *st, const char *digest, struct err *e)
{
    char *m = cache_manifest(db, digest);
    char *view = m ? store_view(st, digest, m, e) : NULL;
    if (!m)
        err_set(e, "output %.12s is not in the store", digest);
    free(m);
    return view;
}

/* --- checking bytes before they are used ------------------------------------------------- */

struct intact {
    struct db *db;
    struct store *st;
    char *why;
};

static void check_file(void *arg, const struct store_file *f)
{
    struct intact *c = arg;
    if (c->why)
        return;
    char *file = store_object_file(c->st, f->object);
    struct stat s;
    struct file_fp fp = {0};
    if (lstat(file, &s) != 0 || !S_ISREG(s.st_mode))
        c->why = xasprintf("%s is missing", f->path);
    else if ((uint64_t)s.st_size != f->size)
        c->why = xasprintf("%s is %s (%llu bytes, not %llu)", f->path,
                           (uint64_t)s.st_size < f->size ? "truncated" : "damaged",
                           (unsigned long long)s.st_size, (unsigned long long)f->size);
    else if (filedigest_get(c->db, NULL, file, &fp, NULL) != 0 ||
             strcmp(fp.digest, f->digest) != 0)
        c->why = xasprintf("%s is damaged (its content changed)", f->path);
    free(fp.path);
    free(file);
}

bool cache_output_intact(struct db *db, struct store *st, const char *digest, char **why)
{
    *why = NULL;
    char *manifest = cache_manifest(db, digest);
    if (!manifest) {
        *why = xstrdup("its output is not stored");
        return false;
    }
    /* A task reads the view only when it holds exactly these objects (store_view()
     * rebuilds it from them otherwise), so the objects are what must be intact. */
    struct intact c = {.db = db, .st = st};
    if (store_manifest_each(manifest, check_file, &c) != 0 && !c.why)
        c.why = xstrdup("its manifest is corrupt");
    free(manifest);
    *why = c.why;
    return c.why == NULL;
}

struct discard {
    struct store *st;
};

static void discard_object(void *arg, const struct store_file *f)
{
    struct discard *d = arg;
    char *obj = store_object_file(d->st, f->object);
    struct stat s;
    char actual[HASH_HEX];
    uint64_t size;
    if (lstat(obj, &s) == 0 && (!S_ISREG(s.st_mode) || (uint64_t)s.st_size != f->size ||
                                hash_file(obj, actual, &size, NULL) != 0 ||
                                strcmp(actual, f->digest) != 0))
        remove_tree(obj, NULL);
    free(obj);
}

int cache_discard_output(struct db *db, struct store *st, const char *digest, struct err *e)
{
    char *view = store_view_path(st, digest);
    int rc = remove_tree(view, e);
    free(view);
    char *manifest = cache_manifest(db, digest);
    struct discard d = {st};
    if (manifest)
        store_manifest_each(manifest, discard_object, &d);
    free(manifest);
    sqlite3_stmt *q = db_prepare(db, "UPDATE outputs SET dropped = ? WHERE digest = ?");
    sqlite3_bind_double(q, 1, now_wall());
    db_bind_text(q, 2, digest);
    return rc || db_exec_stmt(db, q, e) ? -1 : 0;
}

/* --- the tier behind the local cache ------------------------------------------------------- */

int cache_lookup(struct db *db, const struct cache_tier *tier, const char *key,
                 struct cache_entry *out)
{
    if (cache_get(db, key, out))
        return 1;
    return tier && tier->ops->lookup(tier->ctx, key, out) == 1;
}

#define FETCH_THREADS 8 /* objects downloaded at once */

/* One object to download: into tmp (by a fetch thread), then into the store. */
struct fetch_one {
    char *object, *digest, *tmp;
    uint64_t size;
    int rc;
    struct err e;
};

struct fetch_all {
    struct store *st;
    const struct cache_tier *tier;
    char *tmp_dir;
    struct fetch_one *v;
    size_t n, cap, next; /* next: the first one no thread has taken (under mu) */
    pthread_mutex_t mu;
};

static void want_file(void *arg, const struct store_file *f)
{
    struct fetch_all *a = arg;
    if (store_has_object(a->st, f->object, f->size))
        return; /* store_add_object() checks its bytes */
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].object, f->object) == 0)
            return;
    xgrow(&a->v, &a->cap, a->n + 1, sizeof *a->v);
    a->v[a->n++] = (struct fetch_one){.object = xstrdup(f->object),
                                      .digest = xstrdup(f->digest),
                                      .size = f->size};
}

static void *fetch_thread(void *arg)
{
    struct fetch_all *a = arg;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        size_t i = a->next < a->n ? a->next++ : a->n;
        pthread_mutex_unlock(&a->mu);
        if (i == a->n)
            return NULL;
        struct fetch_one *f = &a->v[i];
        f->tmp = xasprintf("%s/download-%ld-%zu", a->tmp_dir, (long)getpid(), i);
        unlink(f->tmp);
        f->rc = a->tier->ops->fetch(a->tier->ctx, f->digest, f->size, f->tmp, &f->e);
    }
}

/* Downloads every wanted object, FETCH_THREADS at a time. */
static void fetch_parallel(struct fetch_all *a)
{
    pthread_t t[FETCH_THREADS];
    size_t started = 0;
    for (; started < FETCH_THREADS && started < a->n; started++)
        if (pthread_create(&t[started], NULL, fetch_thread, a) != 0)
            break;
    if (started == 0)
        fetch_thread(a);
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}

static int fill_downloaded(void *arg, const char *path, struct err *e)
{
    struct fetch_one *f = arg;
    if (f->rc != 0)
        return err_set(e, "%s", f->e.msg);
    if (rename(f->tmp, path) != 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    return 0;
}

/* Whether every object of the manifest is in the store. */
struct all_there {
    struct store *st;
    bool there;
};

static void check_there(void *arg, const struct store_file *f)
{
    struct all_there *a = arg;
    a->there = a->there && store_has_object(a->st, f->object, f->size);
}

/* Why the objects of manifest m could not be had: the first failed download's reason. */
static const char *fetch_failure(const struct fetch_all *a, const char *m)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].rc != 0 && strstr(m, a->v[i].object))
            return a->v[i].e.msg;
    return "not all of its objects could be stored";
}

int cache_fetch_all(struct store *st, const struct cache_tier *tier, const char *const *digests,
                    size_t n, bool *ok, struct err *e)
{
    char **manifests = xcalloc(n + 1, sizeof *manifests);
    struct fetch_all a = {.st = st, .tier = tier, .tmp_dir = store_dir(st, "tmp")};
    pthread_mutex_init(&a.mu, NULL);
    for (size_t i = 0; i < n; i++) {
        manifests[i] = tier->ops->manifest(tier->ctx, digests[i]);
        if (manifests[i] && store_manifest_each(manifests[i], want_file, &a) != 0) {
            free(manifests[i]);
            manifests[i] = NULL;
        }
    }
    fetch_parallel(&a);
    struct err ae;
    for (size_t i = 0; i < a.n; i++) {
        struct fetch_one *f = &a.v[i];
        if (f->rc == 0 && store_add_object(st, f->object, f->size, fill_downloaded, f, &ae) != 0) {
            f->rc = -1;
            f->e = ae;
        }
        if (f->tmp)
            unlink(f->tmp);
    }
    int rc = store_sync(st, e); /* what was stored is durable before any entry names it */
    for (size_t i = 0; i < n; i++) {
        struct all_there t = {st, manifests[i] != NULL};
        if (manifests[i])
            store_manifest_each(manifests[i], check_there, &t);
        ok[i] = rc == 0 && t.there;
        if (!ok[i]) {
            const char *why = rc ? e->msg
                              : manifests[i] ? fetch_failure(&a, manifests[i])
                                             : "no manifest, or a malformed one";
            char *w = xasprintf("remote output %.12s cannot be used (%s): its task runs here",
                                digests[i], why);
            tier->ops->note(tier->ctx, w);
            free(w);
        }
        free(manifests[i]);
    }
    for (size_t i = 0; i < a.n; i++) {
        free(a.v[i].tmp);
        free(a.v[i].object);
        free(a.v[i].digest);
    }
    free(a.v);
    free(a.tmp_dir);
    free(manifests);
    pthread_mutex_destroy(&a.mu);
    return rc;
}

int cache_fetch(struct store *st, const struct cache_tier *tier, const char *digest,
                struct err *e)
{
    bool ok;
    int rc = cache_fetch_all(st, tier, &digest, 1, &ok, e);
    return rc == 0 && !ok ? err_set(e, "output %.12s could not be fetched", digest) : rc;
}

int cache_adopt(struct db *db, const struct cache_tier *tier, const char *digest, uint64_t size,
                bool pinned, struct err *e)
{
    struct output o = {.manifest = tier->ops->manifest(tier->ctx, digest), .size = size};
    if (!o.manifest)
        return err_set(e, "output %.12s: no manifest", digest);
    memcpy(o.digest, digest, HASH_HEX);
    int rc = cache_put_output(db, &o, pinned, e);
    output_free(&o);
    return rc;
}

struct offer_files {
    struct store *st;
    struct strv *files;
};

static void offer_file(void *arg, const struct store_file *f)
{
    struct offer_files *o = arg;
    strv_push(o->files, store_object_file(o->st, f->object));
}

void cache_offer(struct db *db, struct store *st, const struct cache_tier *tier,
                 const char *key, const char *task, const struct cache_entry *en)
{
    char *manifest = cache_manifest(db, en->digest);
    if (!manifest)
        return;
    struct strv files = {0};
    struct offer_files o = {st, &files};
    if (store_manifest_each(manifest, offer_file, &o) == 0)
        tier->ops->put(tier->ctx, key, task, en, manifest, &files);
    strv_free(&files);
    free(manifest);
}
