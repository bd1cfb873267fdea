/* fingerprint: git blob ids of code files, from caches when they can be trusted.
 *
 * Three levels, cheapest first:
 *  1. the store's code_stat table: a file whose stat data matches a row recorded
 *     against the same index takes the row's blob id (no libgit2 at all);
 *  2. the git index: a tracked file whose stat data matches its entry (and is not
 *     racily clean) takes the entry's blob id;
 *  3. hashing the file as `git hash-object --no-filters` would.
 * Using libgit2 at all costs ~9 ms on Debian (its TLS setup parses the system CA
 * bundle), so the repository is opened only when level 1 misses. Whether level 1 may
 * be used at all is decided by a snapshot of the repository kept in the store: the
 * work tree and HEAD it found for this directory, with the stat signatures of the
 * files that determine them (index, HEAD, the branch's ref, packed-refs; git
 * replaces each by rename, so any change shows) and the absence of a nearer .git.
 */
#include "fingerprint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include "gitlib.h"
#include <git2/sys/repository.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strmap.h"

/* What is known about the repository around dir, from libgit2 or the snapshot. */
struct repo_info {
    bool in_git;
    char *workdir; /* canonical, with trailing '/' */
    char *prefix;  /* dir relative to workdir ("" or "sub/dir/") */
    char head[BLOB_HEX];
    char *index_sig; /* stat signature of the index when it was read ("" outside git) */
    cJSON *sigs;     /* path -> signature, for the snapshot */
};

struct fingerprint {
    char *dir; /* absolute flow directory */
    struct db *db;
    struct repo_info info;
    bool trusted; /* info came from a valid snapshot: code_stat rows may be used */
    bool opened;  /* libgit2 was used; open_rc says how that went */
    int open_rc;
    struct err open_err;
    git_repository *repo;
    git_index *index;
    struct timespec index_mtime;
    struct strmap cache; /* absolute path -> struct entry */
    size_t hashed;
    size_t lookups;      /* code_stat rows asked for one at a time */
    bool rows_loaded;    /* ... then the work tree's rows were read at once into rows */
    struct strmap rows;  /* absolute path -> struct stat_row */
};

/* A code_stat row recorded against the index in use. */
struct stat_row {
    int64_t size, mtime_ns, ino, ctime_ns;
    int mode;
    bool clean;
    char blob[BLOB_HEX];
};

/* A code file's fingerprint and what fingerprint_save() needs to know of it. */
struct entry {
    struct code_fp c;
    bool fresh;      /* computed by levels 2-3 this time */
    bool from_index; /* ... from the index's stat data */
};

static int git_fail(struct err *e, const char *what)
{
    const git_error *ge = git_error_last();
    return err_set(e, "%s: %s", what, ge && ge->message ? ge->message : "libgit2 error");
}

/* "size:mtime_ns:ino", or "-" when the path does not exist. */
static char *stat_sig(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return xstrdup("-");
    return xasprintf("%lld:%lld:%llu", (long long)st.st_size,
                     (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                     (unsigned long long)st.st_ino);
}

static void add_sig(cJSON *sigs, const char *path)
{
    char *sig = stat_sig(path);
    cJSON_AddStringToObject(sigs, path, sig);
    free(sig);
}

/* Directories git would look for a repository in, from dir up to (not including)
 * `until` (NULL: up to /), each with "/.git" appended. */
static void discovery_paths(const char *dir, const char *until, cJSON *sigs)
{
    char *d = xstrdup(dir);
    size_t ul = until ? strlen(until) : 0;
    for (;;) {
        if (until && strlen(d) + 1 <= ul)
            break;
        char *git = xasprintf("%s/.git", strcmp(d, "/") == 0 ? "" : d);
        add_sig(sigs, git);
        free(git);
        char *slash = strrchr(d, '/');
        if (!slash || slash == d) {
            if (!until && strcmp(d, "/") != 0)
                add_sig(sigs, "/.git");
            break;
        }
        *slash = 0;
    }
    free(d);
}

/* --- level 2 and 3: libgit2 ---------------------------------------------------------------- */

static void compute_prefix(struct fingerprint *fp)
{
    char *wd = realpath(git_repository_workdir(fp->repo), NULL);
    if (!wd)
        wd = xstrdup(git_repository_workdir(fp->repo));
    size_t n = strlen(wd);
    while (n > 1 && wd[n - 1] == '/')
        wd[--n] = 0;
    fp->info.workdir = xasprintf("%s/", strcmp(wd, "/") == 0 ? "" : wd);
    size_t wl = strlen(fp->info.workdir);
    char *d = xasprintf("%s/", fp->dir);
    fp->info.prefix = xstrdup(strncmp(d, fp->info.workdir, wl) == 0 ? d + wl : "");
    free(d);
    free(wd);
}

/* Records the signatures of the files that decide HEAD, then resolves it. */
static void read_head(struct fingerprint *fp)
{
    const char *gitdir = git_repository_path(fp->repo);
    const char *common = git_repository_commondir(fp->repo);
    char *p = xasprintf("%sHEAD", gitdir);
    add_sig(fp->info.sigs, p);
    free(p);
    git_reference *ref = NULL;
    if (git_reference_lookup(&ref, fp->repo, "HEAD") == 0 &&
        git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC) {
        p = xasprintf("%s%s", common, git_reference_symbolic_target(ref));
        add_sig(fp->info.sigs, p);
        free(p);
    }
    git_reference_free(ref);
    p = xasprintf("%spacked-refs", common);
    add_sig(fp->info.sigs, p);
    free(p);
    git_oid head;
    if (git_reference_name_to_id(&head, fp->repo, "HEAD") == 0)
        git_oid_tostr(fp->info.head, sizeof fp->info.head, &head);
}

static int open_repo(struct fingerprint *fp, struct err *e)
{
    git_libgit2_init();
    /* Read-only use: a checkout owned by another uid (CI as root) must still work. */
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    struct repo_info *in = &fp->info;
    in->sigs = cJSON_CreateObject();
    int rc = git_repository_open_ext(&fp->repo, fp->dir, 0, NULL);
    if (rc == GIT_ENOTFOUND) {
        discovery_paths(fp->dir, NULL, in->sigs);
        in->index_sig = xstrdup("");
        return 0;
    }
    if (rc != 0)
        return git_fail(e, "opening the git repository");
    if (git_repository_is_bare(fp->repo)) {
        git_repository_free(fp->repo);
        fp->repo = NULL;
        discovery_paths(fp->dir, NULL, in->sigs);
        in->index_sig = xstrdup("");
        return 0;
    }
    in->in_git = true;
    compute_prefix(fp);
    discovery_paths(fp->dir, in->workdir, in->sigs);
    char *workgit = xasprintf("%s.git", in->workdir);
    add_sig(in->sigs, workgit);
    free(workgit);
    /* Signature first: if the index changes while it is read, the record is stale. */
    char *index_path = xasprintf("%sindex", git_repository_path(fp->repo));
    in->index_sig = stat_sig(index_path);
    cJSON_AddStringToObject(in->sigs, index_path, in->index_sig);
    struct stat st;
    if (stat(index_path, &st) == 0)
        fp->index_mtime = st.st_mtim;
    free(index_path);
    if (git_repository_index(&fp->index, fp->repo) != 0)
        return git_fail(e, "reading the git index");
    read_head(fp);
    return 0;
}

static void free_info(struct repo_info *in)
{
    free(in->workdir);
    free(in->prefix);
    free(in->index_sig);
    cJSON_Delete(in->sigs);
    memset(in, 0, sizeof *in);
}

/* Opens the repository with libgit2 (once). Its failure is reported to every caller. */
static int ready(struct fingerprint *fp, struct err *e)
{
    if (!fp->opened) {
        fp->opened = true;
        fp->trusted = false;
        free_info(&fp->info);
        fp->open_rc = open_repo(fp, &fp->open_err);
    }
    return fp->open_rc ? err_set(e, "%s", fp->open_err.msg) : 0;
}

/* --- the snapshot ---------------------------------------------------------------------------- */

static char *snapshot_key(const struct fingerprint *fp)
{
    return xasprintf("git_snapshot:%s", fp->dir);
}

/* Adopts the stored snapshot if every signature in it still matches. */
static bool load_snapshot(struct fingerprint *fp)
{
    char *key = snapshot_key(fp);
    char *text = db_meta_get(fp->db, key);
    free(key);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *sigs = cJSON_GetObjectItemCaseSensitive(j, "sigs");
    bool ok = cJSON_IsObject(sigs);
    const cJSON *it;
    cJSON_ArrayForEach(it, sigs)
    {
        char *now = stat_sig(it->string);
        ok = ok && cJSON_IsString(it) && strcmp(now, it->valuestring) == 0;
        free(now);
    }
    const cJSON *wd = cJSON_GetObjectItemCaseSensitive(j, "workdir");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(j, "prefix");
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(j, "head");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(j, "index");
    ok = ok && cJSON_IsString(head) && cJSON_IsString(index) && strlen(head->valuestring) < BLOB_HEX;
    if (ok) {
        struct repo_info *in = &fp->info;
        in->in_git = cJSON_IsString(wd);
        if (in->in_git && !cJSON_IsString(prefix))
            ok = false;
        else {
            in->workdir = in->in_git ? xstrdup(wd->valuestring) : NULL;
            in->prefix = in->in_git ? xstrdup(prefix->valuestring) : NULL;
            snprintf(in->head, sizeof in->head, "%s", head->valuestring);
            in->index_sig = xstrdup(index->valuestring);
        }
    }
    cJSON_Delete(j);
    return ok;
}

static void save_snapshot(struct fingerprint *fp)
{
    const struct repo_info *in = &fp->info;
    cJSON *j = cJSON_CreateObject();
    if (in->in_git) {
        cJSON_AddStringToObject(j, "workdir", in->workdir);
        cJSON_AddStringToObject(j, "prefix", in->prefix);
    }
    cJSON_AddStringToObject(j, "head", in->head);
    cJSON_AddStringToObject(j, "index", in->index_sig);
    cJSON_AddItemReferenceToObject(j, "sigs", in->sigs);
    char *text = cJSON_PrintUnformatted(j);
    char *key = snapshot_key(fp);
    db_meta_set(fp->db, key, text, NULL); /* a store we cannot write just caches nothing */
    free(key);
    free(text);
    cJSON_Delete(j);
}

/* --- level 1: the code_stat table ------------------------------------------------------------ */

static const char SQL_STAT_GET[] =
    "SELECT size, mtime_ns, ino, mode, blob, clean, ctime_ns FROM code_stat "
    "WHERE path = ? AND index_sig = ?";
static const char SQL_STAT_PUT[] =
    "INSERT OR REPLACE INTO code_stat(path, size, mtime_ns, ino, mode, blob, clean, index_sig, "
    "ctime_ns) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* Rows of the work tree's files (a range of the primary key), for flows with many. */
static const char SQL_STAT_RANGE[] =
    "SELECT size, mtime_ns, ino, mode, blob, clean, ctime_ns, path FROM code_stat "
    "WHERE path >= ? AND path < ? AND index_sig = ?";
/* Point queries until this many files were asked for, then one range query. */
#define STAT_BATCH_AFTER 64

/* The row q stands on, or false when its blob id is malformed. */
static bool row_of(sqlite3_stmt *q, struct stat_row *r)
{
    r->size = sqlite3_column_int64(q, 0);
    r->mtime_ns = sqlite3_column_int64(q, 1);
    r->ino = sqlite3_column_int64(q, 2);
    r->mode = sqlite3_column_int(q, 3);
    r->clean = sqlite3_column_int(q, 5) != 0;
    r->ctime_ns = sqlite3_column_int64(q, 6);
    const char *blob = db_col_text(q, 4);
    if (strlen(blob) != BLOB_HEX - 1)
        return false;
    memcpy(r->blob, blob, BLOB_HEX);
    return true;
}

static void load_rows(struct fingerprint *fp)
{
    fp->rows_loaded = true;
    /* Every path below the work tree: from "wd/" up to (not including) "wd0". */
    char *lo = fp->info.in_git ? xstrdup(fp->info.workdir) : xasprintf("%s/", fp->dir);
    char *hi = xstrdup(lo);
    hi[strlen(hi) - 1] = '/' + 1;
    sqlite3_stmt *q = db_prepare(fp->db, SQL_STAT_RANGE);
    db_bind_text(q, 1, lo);
    db_bind_text(q, 2, hi);
    db_bind_text(q, 3, fp->info.index_sig);
    struct stat_row r;
    while (sqlite3_step(q) == SQLITE_ROW)
        if (row_of(q, &r)) {
            struct stat_row *keep = xmalloc(sizeof *keep);
            *keep = r;
            strmap_put(&fp->rows, db_col_text(q, 7), keep);
        }
    db_done(q);
    free(lo);
    free(hi);
}

/* The row recorded for abs against the index in use, into *r. */
static bool find_row(struct fingerprint *fp, const char *abs, struct stat_row *r)
{
    if (!fp->rows_loaded && ++fp->lookups > STAT_BATCH_AFTER)
        load_rows(fp);
    if (fp->rows_loaded) {
        const struct stat_row *got = strmap_get(&fp->rows, abs);
        if (got)
            *r = *got;
        return got != NULL;
    }
    sqlite3_stmt *q = db_prepare(fp->db, SQL_STAT_GET);
    db_bind_text(q, 1, abs);
    db_bind_text(q, 2, fp->info.index_sig);
    bool found = sqlite3_step(q) == SQLITE_ROW && row_of(q, r);
    db_done(q);
    return found;
}

static bool from_table(struct fingerprint *fp, const char *abs, struct code_fp *c)
{
    const struct file_stamp *st = &c->stamp;
    struct stat_row r;
    bool hit = find_row(fp, abs, &r) && r.size == st->size && r.mtime_ns == st->mtime_ns &&
               r.ino == (int64_t)st->ino && r.mode == (int)(st->mode & 0111) &&
               r.ctime_ns == st->ctime_ns;
    if (hit) {
        memcpy(c->blob, r.blob, BLOB_HEX);
        c->clean = r.clean;
    }
    return hit;
}

static void save_rows(struct fingerprint *fp)
{
    for (size_t i = 0; i < fp->cache.cap; i++) {
        const struct entry *en = fp->cache.keys[i] ? fp->cache.vals[i] : NULL;
        if (!en || !en->fresh || !en->c.blob[0])
            continue;
        const struct code_fp *c = &en->c;
        const struct file_stamp *st = &c->stamp; /* taken before it was read */
        /* Hashed content is only trusted for files not written in the last seconds:
         * a same-size rewrite within one timestamp tick would otherwise look unchanged
         * (index-derived rows passed the same check against the index's mtime). */
        if (!en->from_index && file_stamp_racy(st, 2.0))
            continue;
        sqlite3_stmt *q = db_prepare(fp->db, SQL_STAT_PUT);
        db_bind_text(q, 1, c->abs);
        sqlite3_bind_int64(q, 2, st->size);
        sqlite3_bind_int64(q, 3, st->mtime_ns);
        sqlite3_bind_int64(q, 4, (int64_t)st->ino);
        sqlite3_bind_int(q, 5, (int)(st->mode & 0111));
        db_bind_text(q, 6, c->blob);
        sqlite3_bind_int(q, 7, c->clean);
        db_bind_text(q, 8, fp->info.index_sig);
        sqlite3_bind_int64(q, 9, st->ctime_ns);
        db_exec_stmt(fp->db, q, NULL);
    }
}

/* --- the interface ------------------------------------------------------------------------- */

int fingerprint_open(const char *dir, struct db *db, struct fingerprint **out, struct err *e)
{
    (void)e;
    struct fingerprint *fp = xcalloc(1, sizeof *fp);
    fp->dir = realpath(dir, NULL);
    if (!fp->dir)
        fp->dir = xstrdup(dir);
    fp->db = db;
    fp->trusted = db && load_snapshot(fp);
    if (!fp->trusted)
        free_info(&fp->info);
    *out = fp;
    return 0;
}

void fingerprint_save(struct fingerprint *fp)
{
    if (!fp->db || !fp->opened || fp->open_rc != 0)
        return;
    if (db_begin(fp->db, NULL) != 0)
        return;
    save_snapshot(fp);
    save_rows(fp);
    if (db_commit(fp->db, NULL) != 0)
        db_rollback(fp->db);
}

void fingerprint_close(struct fingerprint *fp)
{
    if (!fp)
        return;
    strmap_free(&fp->cache, free);
    strmap_free(&fp->rows, free);
    git_index_free(fp->index);
    git_repository_free(fp->repo);
    free_info(&fp->info);
    free(fp->dir);
    if (fp->opened)
        git_libgit2_shutdown();
    free(fp);
}

void fingerprint_settle(struct fingerprint *fp)
{
    if (!fp->index)
        return;
    git_index_free(fp->index);
    fp->index = NULL;
    git_repository__cleanup(fp->repo); /* the repository's own reference to the index */
    malloc_trim(0);                     /* its many small entries: give the pages back */
}

bool fingerprint_in_git(struct fingerprint *fp)
{
    return (fp->trusted || ready(fp, NULL) == 0) && fp->info.in_git;
}

const char *fingerprint_head(struct fingerprint *fp)
{
    if (!fp->trusted && ready(fp, NULL) != 0)
        return NULL;
    return fp->info.head[0] ? fp->info.head : NULL;
}

const char *fingerprint_workdir(struct fingerprint *fp)
{
    return (fp->trusted || ready(fp, NULL) == 0) ? fp->info.workdir : NULL;
}

size_t fingerprint_hashed(const struct fingerprint *fp)
{
    return fp->hashed;
}

bool fingerprint_used_git(const struct fingerprint *fp)
{
    return fp->opened;
}

/* git's ie_match_stat, reduced to the fields libgit2 keeps, plus the racy check. */
static bool index_matches(const struct fingerprint *fp, const git_index_entry *ie,
                          const struct stat *st)
{
    if (git_index_entry_stage(ie) != 0 || (ie->flags_extended & GIT_INDEX_ENTRY_INTENT_TO_ADD))
        return false;
    if ((ie->mode & 0170000) != 0100000)
        return false;
    if (ie->file_size != (uint32_t)st->st_size || ie->ino != (uint32_t)st->st_ino)
        return false;
    if (((ie->mode & 0111) != 0) != ((st->st_mode & 0111) != 0))
        return false;
    if (ie->mtime.seconds != (int32_t)st->st_mtim.tv_sec ||
        ie->mtime.nanoseconds != (uint32_t)st->st_mtim.tv_nsec)
        return false;
    /* A same-size rewrite under a restored mtime moves only ctime (git's trustctime). */
    if (ie->ctime.seconds != (int32_t)st->st_ctim.tv_sec ||
        ie->ctime.nanoseconds != (uint32_t)st->st_ctim.tv_nsec)
        return false;
    /* Racily clean: written in the same instant the index was, so the stat data cannot
     * prove the content unchanged. */
    if (st->st_mtim.tv_sec > fp->index_mtime.tv_sec ||
        (st->st_mtim.tv_sec == fp->index_mtime.tv_sec &&
         st->st_mtim.tv_nsec >= fp->index_mtime.tv_nsec))
        return false;
    return true;
}

/* A normalised absolute path's place in the work tree (a pointer into abs), or NULL
 * outside it. */
static const char *repo_relative(const struct fingerprint *fp, const char *abs)
{
    if (!fp->info.in_git)
        return NULL;
    size_t wl = strlen(fp->info.workdir);
    return strncmp(abs, fp->info.workdir, wl) == 0 ? abs + wl : NULL;
}

/* Levels 2 and 3; remembers the result for fingerprint_save(). */
static int from_git(struct fingerprint *fp, const char *abs, const struct stat *st,
                    struct entry *en, struct err *e)
{
    struct code_fp *c = &en->c;
    en->fresh = true;
    const git_index_entry *ie =
        fp->index && c->repo_path ? git_index_get_bypath(fp->index, c->repo_path, 0) : NULL;
    if (ie && index_matches(fp, ie, st)) {
        git_oid_tostr(c->blob, sizeof c->blob, &ie->id);
        c->clean = true;
        en->from_index = true;
        return 0;
    }
    git_oid oid;
    if (git_odb_hashfile(&oid, abs, GIT_OBJECT_BLOB) != 0)
        return git_fail(e, "hashing");
    git_oid_tostr(c->blob, sizeof c->blob, &oid);
    fp->hashed++;
    /* Same content as the index entry (e.g. only touched): its blob is stored. */
    c->clean = ie && git_oid_equal(&oid, &ie->id);
    return 0;
}

static int fingerprint_new(struct fingerprint *fp, const char *abs, const char *rel,
                           const struct code_fp **out, struct err *e)
{
    struct stat st;
    if (stat(abs, &st) != 0)
        return err_set(e, "code file %s: %s", rel, strerror(errno));
    if (!S_ISREG(st.st_mode)) /* /dev/zero or a FIFO would never end hashing */
        return err_set(e, "code file %s: not a regular file", rel);
    struct entry *en = xcalloc(1, sizeof *en);
    struct code_fp *c = &en->c;
    strmap_put(&fp->cache, abs, en);
    c->abs = strmap_key(&fp->cache, abs);
    c->stamp = file_stamp_of(&st);
    int rc = 0;
    if (!(fp->trusted && from_table(fp, abs, c))) {
        rc = ready(fp, e);
        if (rc == 0) {
            c->repo_path = repo_relative(fp, c->abs);
            rc = from_git(fp, abs, &st, en, e);
        }
    }
    if (rc != 0) {
        c->blob[0] = 0; /* stays cached as a failure marker; never returned */
        return err_prefix(e, "code file %s", rel);
    }
    if (!c->repo_path)
        c->repo_path = repo_relative(fp, c->abs);
    *out = c;
    return 0;
}

int fingerprint_file(struct fingerprint *fp, const char *dir, const char *rel,
                     const struct code_fp **out, struct err *e)
{
    char *joined = path_join(dir, rel);
    char *abs = path_normalize(joined, false);
    free(joined);
    if (!abs)
        return err_set(e, "code file %s: a path outside the file system", rel);
    struct entry *en = strmap_get(&fp->cache, abs);
    struct code_fp *c = en ? &en->c : NULL;
    int rc = 0;
    if (c && c->blob[0])
        *out = c;
    else if (c)
        rc = err_set(e, "code file %s could not be read", rel);
    else
        rc = fingerprint_new(fp, abs, rel, out, e);
    free(abs);
    return rc;
}

static int lookup_blob(struct fingerprint *fp, const char *id, const char *path, git_blob **out,
                       struct err *e)
{
    *out = NULL;
    if (ready(fp, e))
        return -1;
    if (!fp->repo)
        return err_set(e, "%s: not in a git repository, so blob %.12s was never kept", path, id);
    git_oid oid;
    if (git_oid_fromstr(&oid, id) != 0 || git_blob_lookup(out, fp->repo, &oid) != 0)
        return err_set(e, "%s: blob %s is not in the repository's object database", path, id);
    return 0;
}

int fingerprint_blob(struct fingerprint *fp, const char *id, const char *path, char **data,
                     size_t *len, struct err *e)
{
    git_blob *blob;
    if (lookup_blob(fp, id, path, &blob, e))
        return -1;
    *len = (size_t)git_blob_rawsize(blob);
    *data = xmalloc(*len + 1);
    memcpy(*data, git_blob_rawcontent(blob), *len);
    (*data)[*len] = 0;
    git_blob_free(blob);
    return 0;
}
