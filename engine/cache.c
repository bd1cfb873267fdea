/* cache: the entries table. */
#include "cache.h"

#include <string.h>

int cache_get(struct db *db, const char *key, struct cache_entry *out)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT digest, size, created, task_run_id FROM entries WHERE key = ?");
    db_bind_text(st, 1, key);
    int found = 0;
    if (sqlite3_step(st) == SQLITE_ROW && strlen(db_col_text(st, 0)) == HASH_HEX - 1) {
        memcpy(out->digest, db_col_text(st, 0), HASH_HEX);
        out->size = (uint64_t)sqlite3_column_int64(st, 1);
        out->created = sqlite3_column_double(st, 2);
        out->task_run_id = sqlite3_column_int64(st, 3);
        found = 1;
    }
    db_done(st);
    return found;
}

int cache_put(struct db *db, const char *key, const char *kind, const char *task,
              const struct cache_entry *entry, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO entries(key, kind, digest, size, "
                                      "task, task_run_id, created) VALUES(?, ?, ?, ?, ?, ?, ?)");
    db_bind_text(st, 1, key);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, entry->digest);
    sqlite3_bind_int64(st, 4, (int64_t)entry->size);
    db_bind_text(st, 5, task);
    if (entry->task_run_id)
        sqlite3_bind_int64(st, 6, entry->task_run_id);
    sqlite3_bind_double(st, 7, entry->created);
    return db_exec_stmt(db, st, e);
}

int cache_put_output(struct db *db, const struct output *o, struct err *e)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR IGNORE INTO outputs(digest, manifest, size, "
                                      "created) VALUES(?, ?, ?, ?)");
    db_bind_text(st, 1, o->digest);
    db_bind_text(st, 2, o->manifest);
    sqlite3_bind_int64(st, 3, (int64_t)o->size);
    sqlite3_bind_double(st, 4, now_wall());
    return db_exec_stmt(db, st, e);
}

char *cache_manifest(struct db *db, const char *digest)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT manifest FROM outputs WHERE digest = ?");
    db_bind_text(st, 1, digest);
    char *m = sqlite3_step(st) == SQLITE_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
    db_done(st);
    return m;
}

bool cache_output_present(struct db *db, struct store *st, const char *digest)
{
    if (store_has_output(st, digest, NULL))
        return true;
    char *m = cache_manifest(db, digest);
    bool ok = m && store_has_output(st, digest, m);
    free(m);
    return ok;
}

char *cache_output_view(struct db *db, struct store *st, const char *digest, struct err *e)
{
    char *view = store_view(st, digest, NULL, NULL);
    if (view)
        return view;
    char *m = cache_manifest(db, digest);
    view = store_view(st, digest, m, e);
    free(m);
    return view;
}
