/* blobs: code versions in the store (blobs/), with the repository as a fallback. */
#include "blobs.h"

#include <errno.h>
#include <fcntl.h>
#include "gitlib.h"
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strmap.h"

static char *blob_path(const struct store *st, const char *id)
{
    return xasprintf("%s/blobs/%.2s/%s", store_root(st), id, id + 2);
}

static bool valid_id(const char *id)
{
    size_t n = strspn(id, "0123456789abcdef");
    return n == BLOB_HEX - 1 && !id[n];
}

/* The git blob id of data. */
static void blob_id(const char *data, size_t len, char out[BLOB_HEX])
{
    git_libgit2_init();
    git_oid oid;
    if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) == 0)
        git_oid_tostr(out, BLOB_HEX, &oid);
    else
        out[0] = 0;
    git_libgit2_shutdown();
}

/* Copies the regular file from to the new file to (mode 0444, fsynced), a buffer at a
 * time: a code file may be far bigger than memory. */
static int copy_stream(const char *from, const char *to, struct err *e)
{
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (in < 0 || fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int rc = in < 0 ? err_set(e, "%s: %s", from, strerror(errno))
                        : err_set(e, "%s: not a regular file", from);
        if (in >= 0)
            close(in);
        return rc;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = out < 0 ? err_set(e, "%s: %s", to, strerror(errno)) : 0;
    char buf[1 << 16];
    ssize_t n = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        for (ssize_t k = 0, w = 0; n > 0 && k < n; k += w)
            if ((w = write(out, buf + k, (size_t)(n - k))) < 0)
                n = -1;
        if (n < 0)
            rc = err_set(e, "copying %s to %s: %s", from, to, strerror(errno));
    }
    if (rc == 0 && (fchmod(out, 0444) != 0 || fsync(out) != 0))
        rc = err_set(e, "%s: %s", to, strerror(errno));
    if (out >= 0 && close(out) != 0 && rc == 0)
        rc = err_set(e, "%s: %s", to, strerror(errno));
    close(in);
    return rc;
}

/* Whether the file at path holds the blob id. */
static bool file_is_blob(const char *path, const char *id)
{
    git_libgit2_init();
    git_oid oid;
    char now[BLOB_HEX] = "";
    if (git_odb_hashfile(&oid, path, GIT_OBJECT_BLOB) == 0)
        git_oid_tostr(now, BLOB_HEX, &oid);
    git_libgit2_shutdown();
    return strcmp(now, id) == 0;
}

int blobs_keep(struct store *st, const char *abs, const char *id, struct err *e)
{
    if (!valid_id(id))
        return err_set(e, "%s: not a blob id: %s", abs, id);
    char *path = blob_path(st, id);
    int rc = 0;
    if (access(path, F_OK) != 0) {
        /* Copied, then hashed, then named: never whole in memory, never half a blob. */
        char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
        char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
        rc = mkdir_p(dir, 0700, e) || copy_stream(abs, tmp, e);
        if (rc == 0 && !file_is_blob(tmp, id))
            rc = err_set(e, "code file %s changed while the run was starting", abs);
        if (rc == 0 && rename(tmp, path) != 0)
            rc = err_set(e, "%s: %s", path, strerror(errno));
        if (rc)
            unlink(tmp);
        free(tmp);
        free(dir);
    }
    free(path);
    return rc;
}

/* The store's copy of blob id, if it is there and intact. */
static char *read_kept(struct store *st, const char *id, size_t *len)
{
    char *path = blob_path(st, id);
    char *data = file_read_all(path, len, NULL);
    free(path);
    char now[BLOB_HEX];
    if (data && (blob_id(data, *len, now), strcmp(now, id) != 0)) {
        free(data);
        data = NULL;
    }
    return data;
}

int blobs_read(struct store *st, struct fingerprint *fp, const char *id, const char *path,
               char **data, size_t *len, struct err *e)
{
    *data = valid_id(id) ? read_kept(st, id, len) : NULL;
    if (*data)
        return 0;
    struct err ge;
    if (fp && fingerprint_blob(fp, id, path, data, len, &ge) == 0)
        return 0;
    return err_set(e, "%s: blob %s is neither in the store nor in the repository's object "
                      "database",
                   path, id);
}

static char *trim_lines(const char *text, size_t len, size_t max_lines)
{
    size_t lines = 0, i = 0;
    for (; i < len && lines < max_lines; i++)
        if (text[i] == '\n')
            lines++;
    if (i >= len)
        return xstrndup(text, len);
    size_t rest = 0;
    for (size_t k = i; k < len; k++)
        rest += text[k] == '\n';
    return xasprintf("%.*s... (%zu more lines)\n", (int)i, text, rest);
}

int blobs_diff(struct store *st, struct fingerprint *fp, const char *path, const char *old_id,
               const char *new_id, const char *abs, size_t max_lines, char **out,
               struct err *e)
{
    *out = NULL;
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    if (blobs_read(st, fp, old_id, path, &a, &alen, e))
        return -1;
    if (new_id && blobs_read(st, fp, new_id, path, &b, &blen, e)) {
        free(a);
        return -1;
    }
    if (!new_id)
        b = file_read_all(abs, &blen, NULL); /* a deleted file diffs against nothing */
    git_libgit2_init();
    git_patch *patch = NULL;
    git_buf buf = {0};
    int rc = git_patch_from_buffers(&patch, a, alen, path, b ? b : "", b ? blen : 0, path, NULL);
    if (rc == 0)
        rc = git_patch_to_buf(&buf, patch);
    if (rc == 0)
        *out = trim_lines(buf.ptr ? buf.ptr : "", buf.size, max_lines);
    else
        err_set(e, "diffing %s: %s", path,
                git_error_last() ? git_error_last()->message : "libgit2 error");
    git_buf_dispose(&buf);
    git_patch_free(patch);
    git_libgit2_shutdown();
    free(a);
    free(b);
    return rc ? -1 : 0;
}

/* --- gc ------------------------------------------------------------------------------------------ */

/* Every version a kept run may need for a replay: its tasks' code, that of the task
 * runs its hits reused, and that of the task runs that made its upstreams' outputs. */
static const char SQL_NEEDED[] =
    "WITH RECURSIVE need(id) AS ("
    "  SELECT id FROM task_runs WHERE run_id > (SELECT coalesce(max(id), 0) - ?1 FROM runs)"
    "  UNION SELECT t.source_id FROM task_runs t JOIN need n ON t.id = n.id"
    "    WHERE t.source_id IS NOT NULL"
    "  UNION SELECT e.task_run_id FROM need n JOIN task_upstream u ON u.task_run_id = n.id"
    "    JOIN entries e ON e.key = u.deep_key WHERE e.task_run_id IS NOT NULL)"
    "SELECT DISTINCT c.blob_id, f.path FROM need n JOIN task_code c ON c.task_run_id = n.id"
    "  JOIN task_runs t ON t.id = n.id JOIN flows f ON f.id = t.flow_id";
static const char SQL_ALL[] =
    "SELECT DISTINCT c.blob_id, f.path FROM task_code c JOIN task_runs t ON t.id = "
    "c.task_run_id JOIN flows f ON f.id = t.flow_id";

struct collect {
    struct store *st;
    bool dry_run;
    struct strmap needed; /* blob id -> NULL */
    struct strmap repos;  /* flow directory -> struct fingerprint */
    struct blobs_report *r;
};

static struct fingerprint *repo_of(struct collect *c, const char *flow_path)
{
    char *dir = xstrdup(flow_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0;
    struct fingerprint *fp = strmap_get(&c->repos, dir);
    if (!fp) {
        fingerprint_open(dir, NULL, &fp, NULL);
        strmap_put(&c->repos, dir, fp);
    }
    free(dir);
    return fp;
}

/* Copies a committed version the store lacks in from its repository. */
static void secure(struct collect *c, const char *id, const char *flow_path)
{
    char *path = blob_path(c->st, id);
    bool have = access(path, F_OK) == 0;
    char *data;
    size_t len;
    if (!have && fingerprint_blob(repo_of(c, flow_path), id, id, &data, &len, NULL) == 0) {
        char *dir = xstrdup(path);
        *strrchr(dir, '/') = 0;
        if (c->dry_run || (mkdir_p(dir, 0700, NULL) == 0 &&
                           file_write_atomic(path, data, len, 0444, NULL) == 0))
            c->r->copied++;
        free(dir);
        free(data);
    } else if (!have) {
        c->r->missing++;
    }
    free(path);
}

static void sweep_blob(void *ctx, const char *path, const char *id)
{
    struct collect *c = ctx;
    struct stat st;
    if (!strmap_key(&c->needed, id) && lstat(path, &st) == 0) {
        c->r->deleted++;
        c->r->freed += (uint64_t)st.st_size;
        if (!c->dry_run)
            unlink(path);
    }
}

static void sweep(struct collect *c)
{
    char *root = xasprintf("%s/blobs", store_root(c->st));
    store_fanout_each(root, sweep_blob, c);
    free(root);
}

static void close_repo(void *fp)
{
    fingerprint_close(fp);
}

int blobs_collect(struct store *st, struct db *db, long keep_runs, bool dry_run,
                  struct blobs_report *r, struct err *e)
{
    (void)e;
    memset(r, 0, sizeof *r);
    struct collect c = {.st = st, .dry_run = dry_run, .r = r};
    sqlite3_stmt *q = db_prepare(db, keep_runs >= 0 ? SQL_NEEDED : SQL_ALL);
    if (keep_runs >= 0)
        sqlite3_bind_int64(q, 1, keep_runs);
    struct strv ids = {0}, flows = {0};
    while (sqlite3_step(q) == SQLITE_ROW) {
        strv_push(&ids, xstrdup(db_col_text(q, 0)));
        strv_push(&flows, xstrdup(db_col_text(q, 1)));
    }
    db_done(q);
    for (size_t i = 0; i < ids.n; i++) {
        if (strmap_key(&c.needed, ids.v[i]))
            continue;
        strmap_put(&c.needed, ids.v[i], NULL);
        if (keep_runs >= 0)
            secure(&c, ids.v[i], flows.v[i]);
    }
    sweep(&c);
    strv_free(&ids);
    strv_free(&flows);
    strmap_free(&c.needed, NULL);
    strmap_free(&c.repos, close_repo);
    return 0;
}
