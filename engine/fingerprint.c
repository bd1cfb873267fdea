/* fingerprint: git blob ids of code files, from the index when it can be trusted. */
#include "fingerprint.h"

#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strmap.h"

struct fingerprint {
    /* The repository is opened on a background thread (libgit2's initialisation alone
     * takes milliseconds); every accessor waits for it through ready(). */
    pthread_t opener;
    bool opening;
    int open_rc;
    struct err open_err;
    char *dir;         /* absolute flow directory */
    git_repository *repo;
    git_index *index;
    char *workdir;     /* canonical, with trailing '/' */
    char *prefix;      /* dir relative to workdir ("" or "sub/dir/") */
    struct timespec index_mtime;
    char head[BLOB_HEX];
    bool has_head;
    struct strmap cache; /* rel path -> struct code_fp */
    size_t hashed;
};

static void free_fp(void *p)
{
    struct code_fp *c = p;
    if (c->repo_path != c->path)
        free((char *)c->repo_path);
    free(c);
}

static int git_fail(struct err *e, const char *what)
{
    const git_error *ge = git_error_last();
    return err_set(e, "%s: %s", what, ge && ge->message ? ge->message : "libgit2 error");
}

/* Opens the index and remembers its mtime for the racy-clean check. */
static int load_index(struct fingerprint *fp, struct err *e)
{
    if (git_repository_index(&fp->index, fp->repo) != 0)
        return git_fail(e, "reading the git index");
    char *path = xasprintf("%sindex", git_repository_path(fp->repo));
    struct stat st;
    if (stat(path, &st) == 0)
        fp->index_mtime = st.st_mtim;
    free(path);
    return 0;
}

static void compute_prefix(struct fingerprint *fp)
{
    char *wd = realpath(git_repository_workdir(fp->repo), NULL);
    if (!wd)
        wd = xstrdup(git_repository_workdir(fp->repo));
    size_t n = strlen(wd);
    while (n > 1 && wd[n - 1] == '/')
        wd[--n] = 0;
    fp->workdir = xasprintf("%s/", strcmp(wd, "/") == 0 ? "" : wd);
    size_t wl = strlen(fp->workdir);
    char *d = xasprintf("%s/", fp->dir);
    fp->prefix = xstrdup(strncmp(d, fp->workdir, wl) == 0 ? d + wl : "");
    free(d);
    free(wd);
}

static void close_repo(struct fingerprint *fp)
{
    git_index_free(fp->index);
    git_repository_free(fp->repo);
    fp->index = NULL;
    fp->repo = NULL;
}

static int open_repo(struct fingerprint *fp, struct err *e)
{
    git_libgit2_init();
    /* Read-only use: a checkout owned by another uid (CI as root) must still work. */
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    int rc = git_repository_open_ext(&fp->repo, fp->dir, 0, NULL);
    if (rc == GIT_ENOTFOUND)
        return 0;
    if (rc != 0)
        return git_fail(e, "opening the git repository");
    if (git_repository_is_bare(fp->repo)) {
        close_repo(fp);
        return 0;
    }
    compute_prefix(fp);
    if (load_index(fp, e)) {
        close_repo(fp);
        return -1;
    }
    git_oid head;
    if (git_reference_name_to_id(&head, fp->repo, "HEAD") == 0) {
        git_oid_tostr(fp->head, sizeof fp->head, &head);
        fp->has_head = true;
    }
    return 0;
}

static void *opener_main(void *arg)
{
    struct fingerprint *fp = arg;
    fp->open_rc = open_repo(fp, &fp->open_err);
    return NULL;
}

/* Waits for the repository to be open; its failure is reported to every caller. */
static int ready(struct fingerprint *fp, struct err *e)
{
    if (fp->opening) {
        pthread_join(fp->opener, NULL);
        fp->opening = false;
    }
    return fp->open_rc ? err_set(e, "%s", fp->open_err.msg) : 0;
}

int fingerprint_open(const char *dir, struct fingerprint **out, struct err *e)
{
    (void)e;
    struct fingerprint *fp = xcalloc(1, sizeof *fp);
    fp->dir = realpath(dir, NULL);
    if (!fp->dir)
        fp->dir = xstrdup(dir);
    fp->opening = pthread_create(&fp->opener, NULL, opener_main, fp) == 0;
    if (!fp->opening)
        fp->open_rc = open_repo(fp, &fp->open_err);
    *out = fp;
    return 0;
}

void fingerprint_close(struct fingerprint *fp)
{
    if (!fp)
        return;
    ready(fp, NULL);
    strmap_free(&fp->cache, free_fp);
    close_repo(fp);
    free(fp->dir);
    free(fp->workdir);
    free(fp->prefix);
    free(fp);
    git_libgit2_shutdown();
}

bool fingerprint_in_git(struct fingerprint *fp)
{
    return ready(fp, NULL) == 0 && fp->repo != NULL;
}

const char *fingerprint_head(struct fingerprint *fp)
{
    return ready(fp, NULL) == 0 && fp->has_head ? fp->head : NULL;
}

const char *fingerprint_workdir(struct fingerprint *fp)
{
    return ready(fp, NULL) == 0 ? fp->workdir : NULL;
}

size_t fingerprint_hashed(const struct fingerprint *fp)
{
    return fp->hashed;
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
    /* Racily clean: written in the same instant the index was, so the stat data cannot
     * prove the content unchanged. */
    if (st->st_mtim.tv_sec > fp->index_mtime.tv_sec ||
        (st->st_mtim.tv_sec == fp->index_mtime.tv_sec &&
         st->st_mtim.tv_nsec >= fp->index_mtime.tv_nsec))
        return false;
    return true;
}

/* rel's path in the work tree: rel itself when they coincide, else a new string. */
static const char *repo_relative(const struct fingerprint *fp, const char *rel)
{
    if (!fp->repo)
        return NULL;
    char *joined;
    if (rel[0] == '/') {
        size_t wl = strlen(fp->workdir);
        if (strncmp(rel, fp->workdir, wl) != 0)
            return NULL;
        joined = xstrdup(rel + wl);
    } else {
        joined = xasprintf("%s%s", fp->prefix, rel);
    }
    char *norm = path_normalize(joined, true);
    free(joined);
    if (strncmp(norm, "../", 3) == 0 || strcmp(norm, "..") == 0) {
        free(norm);
        return NULL;
    }
    if (strcmp(norm, rel) == 0) { /* the flow sits at the top of the work tree */
        free(norm);
        return rel;
    }
    return norm;
}

int fingerprint_file(struct fingerprint *fp, const char *rel, const struct code_fp **out,
                     struct err *e)
{
    struct code_fp *c = strmap_get(&fp->cache, rel);
    if (c && c->blob[0]) {
        *out = c;
        return 0;
    }
    if (c)
        return err_set(e, "code file %s could not be read", rel);
    if (ready(fp, e))
        return -1;
    char *abs = path_join(fp->dir, rel);
    struct stat st;
    if (stat(abs, &st) != 0) {
        err_set(e, "code file %s: %s", rel, strerror(errno));
        free(abs);
        return -1;
    }
    c = xcalloc(1, sizeof *c);
    strmap_put(&fp->cache, rel, c);
    c->path = strmap_key(&fp->cache, rel);
    c->repo_path = repo_relative(fp, c->path);
    const git_index_entry *ie =
        fp->index && c->repo_path ? git_index_get_bypath(fp->index, c->repo_path, 0) : NULL;
    if (ie && index_matches(fp, ie, &st)) {
        git_oid_tostr(c->blob, sizeof c->blob, &ie->id);
        c->clean = true;
    } else {
        git_oid oid;
        if (git_odb_hashfile(&oid, abs, GIT_OBJECT_BLOB) != 0) {
            free(abs);
            c->blob[0] = 0; /* stays cached as a failure marker; never returned */
            return git_fail(e, rel);
        }
        git_oid_tostr(c->blob, sizeof c->blob, &oid);
        fp->hashed++;
        /* Same content as the index entry (e.g. only touched): its blob is stored. */
        c->clean = ie && git_oid_equal(&oid, &ie->id);
    }
    free(abs);
    *out = c;
    return 0;
}
