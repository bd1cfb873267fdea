/* filedigest: content digests of `files`, trusting unchanged stat data. */
#include "filedigest.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static bool cached(struct db *db, const char *abs, const struct file_stamp *st,
                   char out[HASH_HEX])
{
    sqlite3_stmt *q = db_prepare(db, "SELECT size, mtime_ns, ino, digest, ctime_ns FROM file_stat "
                                     "WHERE path = ?");
    db_bind_text(q, 1, abs);
    bool hit = false;
    if (sqlite3_step(q) == SQLITE_ROW) {
        hit = sqlite3_column_int64(q, 0) == st->size && sqlite3_column_int64(q, 1) == st->mtime_ns &&
              sqlite3_column_int64(q, 2) == (int64_t)st->ino &&
              sqlite3_column_int64(q, 4) == st->ctime_ns &&
              strlen(db_col_text(q, 3)) == HASH_HEX - 1;
        if (hit)
            memcpy(out, db_col_text(q, 3), HASH_HEX);
    }
    db_done(q);
    return hit;
}

static void remember(struct db *db, const char *abs, const struct file_stamp *st,
                     const char *digest)
{
    if (file_stamp_racy(st, 2.0))
        return;
    sqlite3_stmt *q = db_prepare(db, "INSERT OR REPLACE INTO file_stat(path, size, mtime_ns, "
                                     "ino, digest, ctime_ns) VALUES(?, ?, ?, ?, ?, ?)");
    db_bind_text(q, 1, abs);
    sqlite3_bind_int64(q, 2, st->size);
    sqlite3_bind_int64(q, 3, st->mtime_ns);
    sqlite3_bind_int64(q, 4, (int64_t)st->ino);
    db_bind_text(q, 5, digest);
    sqlite3_bind_int64(q, 6, st->ctime_ns);
    db_exec_stmt(db, q, NULL); /* a read-only store just does not cache */
}

int filedigest_get(struct db *db, const char *dir, const char *path, struct file_fp *out,
                   struct err *e)
{
    char *abs = path_join(dir, path);
    struct stat st;
    int rc = 0;
    out->path = xstrdup(path);
    if (stat(abs, &st) != 0) {
        rc = err_set(e, "file %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = err_set(e, "file %s: not a regular file", path);
    } else {
        out->stamp = file_stamp_of(&st);
        if (db && cached(db, abs, &out->stamp, out->digest))
            out->size = (uint64_t)st.st_size;
        else if (hash_file(abs, out->digest, &out->size, e) != 0)
            rc = -1;
        else if (db)
            remember(db, abs, &out->stamp, out->digest);
    }
    free(abs);
    return rc;
}
