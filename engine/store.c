/* store: objects, manifests and views. */
#include "store.h"

#include "strmap.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/fs.h>

#include "testhook.h"

#define MANIFEST_HEADER "sluice-manifest 1\n"

/* The background fsync thread and its queue (all fields under mu). */
struct syncer {
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t mu;
    pthread_cond_t wake, progress;
    struct strv queue;     /* paths handed over, not yet taken by the thread */
    uint64_t submitted;    /* ticket of the newest batch handed over */
    uint64_t done;         /* every batch up to this ticket is durable */
    char error[512];       /* first fsync failure, if any */
};

struct store {
    char *root; /* as given (for messages) */
    char *objects, *views, *tmp, *logs;
    struct strv unsynced;   /* output objects written since the last store_sync_begin() */
    uint8_t fanout_ok[32]; /* bit per objects/xx directory known to exist */
    struct syncer sync;
    int lock_fd;
    char *warning; /* e.g. the store is on a network file system */
};

/* One entry of an output directory. */
struct item {
    char *path; /* relative, '/'-separated */
    char kind;  /* 'f' file, 'x' executable, 'd' directory, 'l' symlink */
    char digest[HASH_HEX];
    uint64_t size;
    char *target; /* symlinks */
};

static int mkdir_mode(const char *path, struct err *e)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return err_set(e, "cannot create %s: %s", path, strerror(errno));
    return 0;
}

/* File systems where SQLite's locking (and so its WAL mode) cannot be trusted, by
 * statfs f_type (linux/magic.h and the file systems' own sources). */
static const char *network_fs_name(const char *root)
{
    static const struct {
        unsigned long magic;
        const char *name;
    } kinds[] = {
        {0x6969, "nfs"},          {0x517B, "smb"},        {0xFF534D42, "cifs"},
        {0xFE534D42, "smb2"},     {0x65735546, "fuse"},   {0x00C36400, "ceph"},
        {0x5346414F, "afs"},      {0x6B414653, "afs"},    {0x73757245, "coda"},
        {0x01021997, "9p"},       {0x0BD00BD0, "lustre"}, {0x47504653, "gpfs"},
        {0x01161970, "gfs2"},     {0x7461636F, "ocfs2"},  {0x564C, "ncp"},
    };
    if (testhook("store-network-fs"))
        return "nfs";
    struct statfs fs;
    if (statfs(root, &fs) != 0)
        return NULL;
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
        if ((unsigned long)(unsigned int)fs.f_type == kinds[i].magic)
            return kinds[i].name;
    return NULL;
}

int store_open(const char *root, struct store **out, struct err *e)
{
    *out = NULL;
    if (mkdir_p(root, 0700, e))
        return -1;
    struct store *s = xcalloc(1, sizeof *s);
    /* Absolute: tasks see its paths ($OUT, $IN_x) from their own working directories. */
    s->root = realpath(root, NULL);
    if (!s->root)
        s->root = xstrdup(root);
    s->objects = path_join(s->root, "objects");
    s->views = path_join(s->root, "views");
    s->tmp = path_join(s->root, "tmp");
    s->logs = path_join(s->root, "logs");
    s->lock_fd = -1;
    pthread_mutex_init(&s->sync.mu, NULL);
    pthread_cond_init(&s->sync.wake, NULL);
    pthread_cond_init(&s->sync.progress, NULL);
    if (mkdir_mode(s->objects, e) || mkdir_mode(s->views, e) || mkdir_mode(s->tmp, e) ||
        mkdir_mode(s->logs, e)) {
        store_close(s);
        return -1;
    }
    const char *fs = network_fs_name(root);
    if (fs)
        s->warning = xasprintf("the store %s is on a network file system (%s), where SQLite's "
                               "locking cannot be trusted: never use it from two machines at "
                               "once, or set SLUICE_STORE to a local directory",
                               root, fs);
    /* Keep the store out of the user's `git status`. */
    char *ignore = path_join(s->root, ".gitignore");
    if (access(ignore, F_OK) != 0)
        file_write_atomic(ignore, "*\n", 2, 0644, NULL);
    free(ignore);
    *out = s;
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_sync(s, NULL);
    if (s->sync.started) {
        pthread_mutex_lock(&s->sync.mu);
        s->sync.stop = true;
        pthread_cond_signal(&s->sync.wake);
        pthread_mutex_unlock(&s->sync.mu);
        pthread_join(s->sync.thread, NULL);
    }
    pthread_mutex_destroy(&s->sync.mu);
    pthread_cond_destroy(&s->sync.wake);
    pthread_cond_destroy(&s->sync.progress);
    strv_free(&s->sync.queue);
    strv_free(&s->unsynced);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->root);
    free(s->objects);
    free(s->views);
    free(s->tmp);
    free(s->logs);
    free(s->warning);
    free(s);
}

const char *store_warning(const struct store *s)
{
    return s->warning;
}

bool store_full(const struct store *s)
{
    struct statvfs fs;
    return statvfs(s->root, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < 64 * 1024;
}

const char *store_root(const struct store *s)
{
    return s->root;
}

char *store_dir(const struct store *s, const char *which)
{
    return path_join(s->root, which);
}

int store_lock(struct store *s, bool exclusive, bool wait, struct err *e)
{
    if (s->lock_fd < 0) {
        char *p = path_join(s->root, "lock");
        s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        free(p);
        if (s->lock_fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM))
            return err_set(e, "the store %s is read-only (%s): this command writes to it",
                           s->root, strerror(errno));
        if (s->lock_fd < 0)
            return err_set(e, "%s: cannot create its lock: %s", s->root, strerror(errno));
    }
    int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
    while (flock(s->lock_fd, op) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK) {
            err_set(e, "%s is in use by a run", s->root);
            return 1;
        }
        return err_set(e, "%s: cannot lock: %s", s->root, strerror(errno));
    }
    if (exclusive)
        testhook("store-locked-exclusive"); /* gc or a repair holds the store */
    return 0;
}

char *store_db_path(const struct store *s)
{
    return path_join(s->root, "sluice.db");
}

static char *object_name(const struct store *s, const char *digest, bool exec)
{
    return xasprintf("%s/%.2s/%s%s", s->objects, digest, digest + 2, exec ? ".x" : "");
}

char *store_object_path(const struct store *s, const char *digest)
{
    for (int exec = 0; exec < 2; exec++) {
        char *p = object_name(s, digest, exec);
        if (access(p, F_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

/* --- scratch ----------------------------------------------------------------------------- */

static char *scratch_dir(const struct store *s, const char *deep_key)
{
    return xasprintf("%s/%.32s.out", s->tmp, deep_key);
}

/* Whether process pid (one of ours) has `want` ("OUT=...") in its environment. A
 * zombie's environment reads as empty. */
static bool has_env(pid_t pid, const char *want)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_uid != geteuid())
        return false;
    size_t len;
    char *env = file_read_all(path, &len, NULL);
    bool found = false;
    for (size_t off = 0; env && off < len && !found; off += strlen(env + off) + 1)
        found = strcmp(env + off, want) == 0;
    free(env);
    return found;
}

/* Kills the process groups of this user's processes whose environment has `want`;
 * returns how many processes it found. */
static size_t kill_holders(const char *want)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return 0;
    size_t found = 0;
    struct dirent *de;
    while ((de = readdir(proc))) {
        pid_t pid = (pid_t)atol(de->d_name);
        if (pid <= 1 || pid == getpid() || !has_env(pid, want))
            continue;
        found++;
        pid_t group = getpgid(pid);
        if (group > 1 && group != getpgrp())
            kill(-group, SIGKILL);
        else if (group > 1) /* in our own group (not started by an executor): just it */
            kill(pid, SIGKILL);
    }
    closedir(proc);
    return found;
}

/* A run killed with -9 leaves its tasks running (each in its own process group), still
 * writing into their $OUT: before a new attempt reuses that directory, they are
 * killed, found by their OUT= (or SLUICE_SCRATCH=) environment entry, and waited for (up to a second). */
static void stop_orphans(const char *dir)
{
    char *want = xasprintf("OUT=%s", dir), *scratch = xasprintf(STORE_SCRATCH_VAR "%s", dir);
    for (int tries = 0; tries < 100 && kill_holders(want) + kill_holders(scratch) > 0; tries++)
        usleep(10000);
    free(scratch);
    free(want);
}

int store_scratch(struct store *s, const char *deep_key, char **out_dir, struct err *e)
{
    char *dir = scratch_dir(s, deep_key);
    struct stat st;
    /* The test hook plays a cluster, whose orphans run where /proc cannot see them. */
    if (lstat(dir, &st) == 0 && testhook("scratch-orphans") != 1)
        stop_orphans(dir); /* left by a run that died: maybe with its task still going */
    if ((lstat(dir, &st) == 0 && remove_tree(dir, e) != 0) ||
        (mkdir(dir, 0755) != 0 && err_set(e, "%s: %s", dir, strerror(errno)))) {
        free(dir);
        return -1;
    }
    *out_dir = dir;
    return 0;
}

void store_scratch_drop(struct store *s, const char *deep_key)
{
    char *dir = scratch_dir(s, deep_key);
    remove_tree(dir, NULL);
    free(dir);
}

char *store_log_path(const struct store *s, int slot)
{
    return xasprintf("%s/log-%ld-%d", s->tmp, (long)getpid(), slot);
}

void store_clean_logs(struct store *s)
{
    DIR *d = opendir(s->tmp);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid;
        int slot, end = 0;
        if (sscanf(de->d_name, "log-%ld-%d%n", &pid, &slot, &end) != 2 ||
            de->d_name[end] != 0 || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* --- objects ----------------------------------------------------------------------------- */

/* An objects/xx or logs/xx that exists must be a real directory: one replaced by a
 * symbolic link is never written through (verify --repair deletes it). */
static int existing_fanout_dir(const char *dir, struct err *e)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return err_set(e, "%s: %s", dir, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return 0;
    return err_set(e, "%s is not a directory (%s): run sluice verify --repair", dir,
                   S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
}

static int ensure_fanout(struct store *s, const char *digest, bool durable, struct err *e)
{
    unsigned idx = (unsigned)strtoul((char[3]){digest[0], digest[1], 0}, NULL, 16);
    if (s->fanout_ok[idx / 8] & (1u << (idx % 8)))
        return 0;
    char *d = xasprintf("%s/%.2s", s->objects, digest);
    int rc = 0;
    if (mkdir(d, 0700) == 0) {
        if (durable)
            strv_push(&s->unsynced, xstrdup(s->objects));
    } else if (errno != EEXIST) {
        rc = err_set(e, "cannot create %s: %s", d, strerror(errno));
    } else {
        rc = existing_fanout_dir(d, e);
    }
    if (rc == 0)
        s->fanout_ok[idx / 8] |= (uint8_t)(1u << (idx % 8));
    free(d);
    return rc;
}

static bool same_size(const char *path, uint64_t size)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

static int copy_file(const char *from, const char *to, int mode, struct err *e)
{
    size_t len;
    char *data = file_read_all(from, &len, e);
    if (!data)
        return -1;
    int rc = file_write_atomic(to, data, len, mode, e);
    free(data);
    return rc;
}

/* Copies from's bytes to the new file `to` (which must not exist): a reflink where the
 * file system can share extents (FICLONE: btrfs, XFS, ...), else copy_file_range(),
 * else read and write; the copy is fsynced. Nothing is shared with `from` but
 * copy-on-write extents, so writing either never changes the other. */
static int clone_file(const char *from, const char *to, int mode, struct err *e)
{
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return err_set(e, "%s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out < 0) {
        int rc = err_set(e, "%s: %s", to, strerror(errno));
        close(in);
        return rc;
    }
    int rc = 0;
    if (ioctl(out, FICLONE, in) != 0) {
        ssize_t n;
        bool fallback = false;
        while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
            ;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            fallback = lseek(in, 0, SEEK_SET) == 0 && lseek(out, 0, SEEK_SET) == 0 &&
                       ftruncate(out, 0) == 0;
        else if (n < 0)
            rc = err_set(e, "copying %s to %s: %s", from, to, strerror(errno));
        char buf[1 << 16];
        while (fallback && rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
            ssize_t w = 0;
            for (ssize_t k = 0; n > 0 && k < n && w >= 0; k += w)
                w = write(out, buf + k, (size_t)(n - k));
            if ((n < 0 && errno != EINTR) || w < 0)
                rc = err_set(e, "copying %s to %s: %s", from, to, strerror(errno));
        }
    }
    if (rc == 0 && fsync(out) != 0 && errno != EINVAL)
        rc = err_set(e, "%s: %s", to, strerror(errno));
    fchmod(out, (mode_t)mode); /* exactly, whatever the umask */
    if (close(out) != 0 && rc == 0)
        rc = err_set(e, "%s: %s", to, strerror(errno));
    close(in);
    if (rc)
        unlink(to);
    return rc;
}

/* Whether a stored object still holds the bytes its name says. */
static bool object_intact(const char *obj, const char *digest)
{
    char actual[HASH_HEX];
    uint64_t size;
    return hash_file(obj, actual, &size, NULL) == 0 && strcmp(actual, digest) == 0;
}

/* Names `file` as the object obj, through a temporary name, so the object is never
 * partial under its final name (and replaces a damaged one). */
static int store_object(struct store *s, const char *file, const char *obj, bool exec,
                        bool durable, struct err *e)
{
    chmod(file, exec ? 0555 : 0444);
    char *tmp = xasprintf("%s.%ld.tmp", obj, (long)getpid());
    unlink(tmp);
    int rc = 0, fault;
    if (link(file, tmp) != 0 && copy_file(file, tmp, exec ? 0555 : 0444, e) != 0)
        rc = err_prefix(e, "storing %s", file);
    else if ((fault = testhook("store-object")) != 0)
        rc = err_set(e, "storing %s: %s", obj, strerror(fault));
    else if (rename(tmp, obj) != 0)
        rc = err_set(e, "storing %s: %s", obj, strerror(errno));
    if (rc)
        unlink(tmp);
    else if (durable)
        strv_push(&s->unsynced, xstrdup(obj));
    free(tmp);
    return rc;
}

/* Makes `file` (whose content has this digest) an object. With `keep`, file stays a
 * separate name for the same bytes (a hard link, or a copy where links fail); the
 * object is never partial under its final name. An object already stored is checked
 * before `file` is pointed at it: damaged bytes are replaced by file's, never
 * spread to a new output. */
static int adopt(struct store *s, const char *file, const char *digest, uint64_t size, bool exec,
                 bool durable, struct err *e)
{
    if (ensure_fanout(s, digest, durable, e))
        return -1;
    char *obj = object_name(s, digest, exec);
    int rc = 0;
    if (same_size(obj, size) && object_intact(obj, digest)) {
        /* Already stored: point `file` at the stored inode so views share it. */
        char *tmp = xasprintf("%s.lnk", file);
        if (link(obj, tmp) == 0 && rename(tmp, file) == 0) {
            /* done */
        } else {
            unlink(tmp);
        }
        free(tmp);
    } else {
        rc = store_object(s, file, obj, exec, durable, e);
    }
    free(obj);
    return rc;
}

bool store_has_object(const struct store *s, const char *object, uint64_t size)
{
    char *obj = store_object_file(s, object);
    bool has = same_size(obj, size);
    free(obj);
    return has;
}

int store_add_object(struct store *s, const char *object, uint64_t size, store_fill_fn fill,
                     void *ctx, struct err *e)
{
    char digest[HASH_HEX];
    size_t n = strcspn(object, ".");
    if (n != HASH_HEX - 1 || (object[n] && strcmp(object + n, ".x") != 0))
        return err_set(e, "not an object name: %.80s", object);
    memcpy(digest, object, n);
    digest[n] = 0;
    bool exec = object[n] != 0;
    char *obj = object_name(s, digest, exec);
    if (same_size(obj, size) && object_intact(obj, digest)) {
        free(obj);
        return 0;
    }
    static unsigned seq;
    char *tmp = xasprintf("%s/fetch-%ld-%u", s->tmp, (long)getpid(),
                          __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
    unlink(tmp);
    char got[HASH_HEX];
    uint64_t got_size = 0;
    int rc = fill(ctx, tmp, e);
    if (rc == 0 && hash_file(tmp, got, &got_size, e) != 0)
        rc = -1;
    if (rc == 0 && (strcmp(got, digest) != 0 || got_size != size))
        rc = err_set(e, "object %.12s: its bytes hash to %.12s (%llu bytes, %llu expected)",
                     digest, got, (unsigned long long)got_size, (unsigned long long)size);
    if (rc == 0)
        rc = ensure_fanout(s, digest, true, e);
    if (rc == 0)
        rc = store_object(s, tmp, obj, exec, true, e);
    unlink(tmp);
    free(tmp);
    free(obj);
    return rc;
}

int store_take_log(struct store *s, const char *log_path, char digest[HASH_HEX], struct err *e)
{
    digest[0] = 0;
    struct stat st;
    if (stat(log_path, &st) != 0 || st.st_size == 0)
        return 0;
    uint64_t size;
    if (hash_file(log_path, digest, &size, e))
        return -1;
    char *dir = xasprintf("%s/%.2s", s->logs, digest);
    char *dest = xasprintf("%s/%s", dir, digest + 2);
    int rc = 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        rc = err_set(e, "%s: %s", dir, strerror(errno));
    else if (existing_fanout_dir(dir, e))
        rc = -1;
    else if (rename(log_path, dest) != 0) /* the slot's next task starts a new file */
        rc = err_set(e, "%s: %s", dest, strerror(errno));
    if (rc)
        digest[0] = 0;
    else
        chmod(dest, 0444);
    free(dir);
    free(dest);
    return rc;
}

char *store_log_file(const struct store *s, const char *digest)
{
    char *p = xasprintf("%s/%.2s/%s", s->logs, digest, digest + 2);
    if (access(p, F_OK) == 0)
        return p;
    free(p);
    return NULL;
}

int store_log_check(const struct store *s, const char *digest, struct err *e)
{
    char *path = xasprintf("%s/%.2s/%s", s->logs, digest, digest + 2);
    char got[HASH_HEX];
    uint64_t size;
    int rc = hash_file(path, got, &size, e);
    if (rc == 0 && strcmp(got, digest) != 0)
        rc = err_set(e, "log %.12s is damaged: its bytes do not match its name (`sluice "
                        "verify --repair` removes it)", digest);
    free(path);
    return rc;
}

/* --- manifests ---------------------------------------------------------------------------- */

static void escape_path(struct sb *b, const char *p)
{
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == '%' || c == 0x7f)
            sb_addf(b, "%%%02x", c);
        else
            sb_addc(b, (char)c);
    }
}

/* The inverse of escape_path() on the n bytes at p (a field of a manifest line, not
 * NUL-terminated); NULL when an escape is cut short or not two hex digits (a damaged
 * manifest: "%4" at the end of a field must not take the delimiter as a digit). */
static char *unescape_path(const char *p, size_t n)
{
    struct sb b = {0};
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%') {
            sb_addc(&b, p[i]);
            continue;
        }
        if (i + 2 >= n || !isxdigit((unsigned char)p[i + 1]) ||
            !isxdigit((unsigned char)p[i + 2])) {
            sb_free(&b);
            return NULL;
        }
        char hex[3] = {p[i + 1], p[i + 2], 0};
        long c = strtol(hex, NULL, 16);
        assert(c >= 0 && c <= 0xff);
        sb_addc(&b, (char)c);
        i += 2;
    }
    return sb_take(&b);
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

static char *manifest_text(struct item *items, size_t n)
{
    sort_array(items, n, sizeof *items, cmp_item);
    struct sb b = {0};
    sb_adds(&b, MANIFEST_HEADER);
    for (size_t i = 0; i < n; i++) {
        const struct item *it = &items[i];
        sb_addc(&b, it->kind);
        sb_addc(&b, ' ');
        if (it->kind == 'f' || it->kind == 'x')
            sb_addf(&b, "%s %llu ", it->digest, (unsigned long long)it->size);
        else if (it->kind == 'l') {
            escape_path(&b, it->target);
            sb_addc(&b, ' ');
        }
        escape_path(&b, it->path);
        sb_addc(&b, '\n');
    }
    return sb_take(&b);
}

static void items_free(struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].path);
        free(items[i].target);
    }
    free(items);
}

/* Parses a manifest; returns the number of items (or -1 if malformed, *out NULL). */
static long manifest_parse(const char *text, struct item **out)
{
    *out = NULL;
    if (strncmp(text, MANIFEST_HEADER, strlen(MANIFEST_HEADER)) != 0)
        return -1;
    size_t n = 0, cap = 0;
    struct item *items = NULL;
    const char *p = text + strlen(MANIFEST_HEADER);
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (!eol)
            break;
        xgrow(&items, &cap, n + 1, sizeof *items);
        struct item *it = &items[n];
        memset(it, 0, sizeof *it);
        it->kind = p[0];
        const char *f = p + 2;
        if (it->kind == 'f' || it->kind == 'x') {
            unsigned long long size;
            if (eol - f < 66 || sscanf(f + 65, "%llu", &size) != 1)
                break;
            memcpy(it->digest, f, 64);
            it->digest[64] = 0;
            it->size = size;
            f = strchr(f + 65, ' ');
            if (!f || f > eol)
                break;
            f++;
        } else if (it->kind == 'l') {
            const char *sp = memchr(f, ' ', (size_t)(eol - f));
            if (!sp)
                break;
            it->target = unescape_path(f, (size_t)(sp - f));
            if (!it->target)
                break;
            f = sp + 1;
        } else if (it->kind != 'd') {
            break;
        }
        it->path = unescape_path(f, (size_t)(eol - f));
        if (!it->path) {
            free(it->target);
            break;
        }
        n++;
        p = eol + 1;
    }
    if (*p) { /* malformed: callers free only what a good parse returns */
        items_free(items, n);
        return -1;
    }
    *out = items;
    return (long)n;
}

/* --- ingest -------------------------------------------------------------------------------- */

struct walk {
    struct store *s;
    const char *root;
    struct item *items;
    size_t n, cap;
    uint64_t total;
    struct err *e;
};

/* Whether some proper prefix of path ("a" or "a/b" of "a/b/c") is one of links. */
static bool under_a_link(const struct strmap *links, const char *path)
{
    char *p = xstrdup(path);
    bool found = false;
    for (char *s = strchr(p, '/'); s && !found; s = strchr(s + 1, '/')) {
        *s = 0;
        found = strmap_get(links, p) != NULL;
        *s = '/';
    }
    free(p);
    return found;
}

/* Whether the symlink rel_path -> target, followed, stays inside the output: the
 * target is relative, walking it from the link's directory never goes above the
 * output, and never passes *through* another of the manifest's links (the kernel
 * would follow that one where a lexical reading does not: "d/up/.." is "d" only if
 * d/up is no link to ".."). Its last component may be a link: that one is checked
 * on its own, so a chain stays inside too. links NULL: a lexical reading only (a
 * task's own output, whose files are never made through its links). */
static bool link_stays_inside(const struct strmap *links, const char *rel_path,
                              const char *target)
{
    if (target[0] == '/')
        return false;
    const char *slash = strrchr(rel_path, '/');
    char *joined = slash ? xasprintf("%.*s/%s", (int)(slash - rel_path), rel_path, target)
                         : xstrdup(target);
    struct sb at = {0}; /* the walk so far, from the output's root */
    bool ok = true;
    for (const char *s = joined; *s && ok;) {
        size_t n = strcspn(s, "/");
        const char *next = s + n + strspn(s + n, "/");
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* nothing */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            char *up = at.len ? strrchr(at.buf, '/') : NULL;
            ok = at.len > 0;
            at.len = up ? (size_t)(up - at.buf) : 0;
            if (at.buf)
                at.buf[at.len] = 0;
        } else {
            sb_addf(&at, "%s%.*s", at.len ? "/" : "", (int)n, s);
            ok = !links || !*next || !strmap_get(links, at.buf);
        }
        s = next;
    }
    sb_free(&at);
    free(joined);
    return ok;
}

static bool is_hex_digest(const char *d)
{
    size_t i = 0;
    while (i < HASH_HEX - 1 && ((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
        i++;
    return i == HASH_HEX - 1 && d[i] == 0;
}

int store_manifest_check(const char *manifest, struct err *e)
{
    struct item *items;
    long n = manifest_parse(manifest, &items);
    if (n < 0)
        return err_set(e, "malformed manifest");
    struct strmap links = {0}, paths = {0};
    for (long i = 0; i < n; i++)
        if (items[i].kind == 'l')
            strmap_put(&links, items[i].path, (void *)1);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        const struct item *it = &items[i];
        if (strmap_put(&paths, it->path, (void *)1)) {
            rc = err_set(e, "manifest path %.80s appears twice", it->path);
            break;
        }
        if (under_a_link(&links, it->path)) {
            rc = err_set(e, "manifest path %.80s is under a symlink", it->path);
            break;
        }
        char *norm = it->path[0] && it->path[0] != '/' ? path_normalize(it->path, false) : NULL;
        if (!norm || strcmp(norm, it->path) != 0 || strcmp(norm, ".") == 0)
            rc = err_set(e, "manifest path \"%.80s\" is not inside the output", it->path);
        else if ((it->kind == 'f' || it->kind == 'x') && !is_hex_digest(it->digest))
            rc = err_set(e, "manifest path %.80s: not a SHA-256", it->path);
        else if (it->kind == 'l' && !link_stays_inside(&links, it->path, it->target))
            rc = err_set(e, "manifest symlink %.80s leaves the output", it->path);
        free(norm);
    }
    strmap_free(&links, NULL);
    strmap_free(&paths, NULL);
    items_free(items, (size_t)n);
    return rc;
}

static int walk_dir(struct walk *w, const char *rel);

/* Whether the file st describes is already the store's object for digest. */
static bool is_object(const struct store *s, const struct stat *st, const char *digest, bool exec)
{
    char *obj = object_name(s, digest, exec);
    struct stat ost;
    bool same = lstat(obj, &ost) == 0 && ost.st_dev == st->st_dev && ost.st_ino == st->st_ino;
    free(obj);
    return same;
}

/* Replaces the name path with a copy of its bytes that nothing else shares; the inode
 * it named (and every other name of it) is left as it was. */
static int privatize(const char *path, mode_t mode, struct err *e)
{
    char *tmp = xasprintf("%s.sluice-copy", path);
    unlink(tmp);
    int rc = clone_file(path, tmp, (int)mode, e);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = err_set(e, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int walk_entry(struct walk *w, const char *rel, const char *abs)
{
    struct stat st;
    if (lstat(abs, &st) != 0)
        return err_set(w->e, "%s: %s", abs, strerror(errno));
    xgrow(&w->items, &w->cap, w->n + 1, sizeof *w->items);
    struct item *it = &w->items[w->n];
    memset(it, 0, sizeof *it);
    if (S_ISDIR(st.st_mode)) {
        it->kind = 'd';
        it->path = xstrdup(rel);
        w->n++;
        return walk_dir(w, rel);
    }
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(abs, target, sizeof target - 1);
        if (n < 0)
            return err_set(w->e, "%s: %s", abs, strerror(errno));
        target[n] = 0;
        if (!link_stays_inside(NULL, rel, target))
            return err_set(w->e, "output %s is a symlink to %s, outside $OUT", rel, target);
        it->kind = 'l';
        it->path = xstrdup(rel);
        it->target = xstrdup(target);
        w->n++;
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return err_set(w->e, "output %s is not a regular file, directory or symlink", rel);
    it->kind = (st.st_mode & 0111) ? 'x' : 'f';
    it->path = xstrdup(rel);
    w->n++;
    if (hash_file(abs, it->digest, &it->size, w->e))
        return -1;
    if (st.st_nlink > 1 && !is_object(w->s, &st, it->digest, it->kind == 'x')) {
        /* Another name shares this inode (a hard link to a user's file): storing it as
         * is would chmod that file and tie it to the store. Store a private copy. */
        if (privatize(abs, st.st_mode & 0777, w->e) ||
            hash_file(abs, it->digest, &it->size, w->e))
            return err_prefix(w->e, "output %s", rel);
    }
    w->total += it->size;
    return adopt(w->s, abs, it->digest, it->size, it->kind == 'x', true, w->e);
}

static int walk_dir(struct walk *w, const char *rel)
{
    char *abs = rel[0] ? xasprintf("%s/%s", w->root, rel) : xstrdup(w->root);
    DIR *d = opendir(abs);
    if (!d) {
        err_set(w->e, "%s: %s", abs, strerror(errno));
        free(abs);
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *crel = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        char *cabs = xasprintf("%s/%s", abs, de->d_name);
        rc = walk_entry(w, crel, cabs);
        free(crel);
        free(cabs);
    }
    closedir(d);
    /* The root stays writable until it is renamed (rename needs to update ".."). */
    if (rc == 0 && rel[0])
        chmod(abs, 0555);
    free(abs);
    return rc;
}

static char *view_path(const struct store *s, const char *digest)
{
    return xasprintf("%s/%s", s->views, digest);
}

void output_free(struct output *o)
{
    free(o->manifest);
    o->manifest = NULL;
}

/* Whether path, the store's own, was something else than a directory (a symbolic link
 * to one of the user's, say) and is now gone: unlinked, never followed. */
static bool replace_non_dir(const char *path)
{
    struct stat st;
    return errno == ENOTDIR && lstat(path, &st) == 0 && !S_ISDIR(st.st_mode) &&
           unlink(path) == 0;
}

int store_ingest(struct store *s, const char *out_dir, struct output *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (lstat(out_dir, &st) != 0)
        return err_set(e, "the task removed $OUT (%s): nothing was stored", out_dir);
    if (S_ISLNK(st.st_mode))
        return err_set(e, "the task replaced $OUT with a symbolic link: nothing was stored "
                          "(write the output into $OUT instead)");
    if (!S_ISDIR(st.st_mode))
        return err_set(e, "the task replaced $OUT with a file: nothing was stored");
    struct walk w = {.s = s, .root = out_dir, .e = e};
    int rc = walk_dir(&w, "");
    if (rc == 0) {
        out->manifest = manifest_text(w.items, w.n);
        hash_bytes(out->manifest, strlen(out->manifest), out->digest);
        out->size = w.total;
        char *view = view_path(s, out->digest);
        int fault = testhook("store-view");
        if (fault)
            rc = err_set(e, "cannot move %s to %s: %s", out_dir, view, strerror(fault));
        else if (rename(out_dir, view) == 0 ||
                 (replace_non_dir(view) && rename(out_dir, view) == 0))
            chmod(view, 0555);
        else if (errno == EEXIST || errno == ENOTEMPTY)
            remove_tree(out_dir, NULL); /* the same output is already viewable */
        else
            rc = err_set(e, "cannot move %s to %s: %s", out_dir, view, strerror(errno));
        free(view);
    }
    items_free(w.items, w.n);
    return rc;
}

/* --- views --------------------------------------------------------------------------------- */

/* Comparing a view with its manifest: directory entries and inode numbers, never bytes. */
struct view_check {
    struct store *s;
    const char *dir; /* the view */
    const struct item *items;
    size_t n, seen;
    struct strv *problems; /* what differs, one line each */
    size_t max;            /* stop after this many */
};

static void view_differs(struct view_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void view_differs(struct view_check *c, const char *fmt, ...)
{
    if (c->problems->n >= c->max)
        return;
    va_list ap;
    va_start(ap, fmt);
    struct sb b = {0};
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    strv_push(c->problems, sb_take(&b));
}

static const struct item *view_item(const struct view_check *c, const char *rel)
{
    size_t lo = 0, hi = c->n; /* items are sorted by path (manifest_text()) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(rel, c->items[mid].path);
        if (cmp == 0)
            return &c->items[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* A file of the view must be the stored object itself (a hard link to it). Whether
 * that object still holds its bytes is the objects' check, not the view's. */
static void view_check_file(struct view_check *c, const struct item *it, const struct stat *st)
{
    if (!S_ISREG(st->st_mode)) {
        view_differs(c, "%s is not a regular file", it->path);
        return;
    }
    char *obj = object_name(c->s, it->digest, it->kind == 'x');
    struct stat os;
    if (lstat(obj, &os) != 0)
        view_differs(c, "%s: its object is missing", it->path);
    else if (os.st_ino != st->st_ino || os.st_dev != st->st_dev)
        view_differs(c, "%s was replaced (it is not the stored object)", it->path);
    free(obj);
}

static void view_walk(struct view_check *c, const char *rel);

static void view_check_entry(struct view_check *c, const char *rel)
{
    char *abs = path_join(c->dir, rel);
    const struct item *it = view_item(c, rel);
    struct stat st;
    if (lstat(abs, &st) != 0) {
        /* gone meanwhile: counted missing below */
    } else if (!it) {
        const char *what = S_ISDIR(st.st_mode)   ? "directory"
                           : S_ISLNK(st.st_mode) ? "symlink"
                                                 : "file";
        view_differs(c, "%s is not in its manifest (an extra %s)", rel, what);
    } else if (it->kind == 'd') {
        c->seen++;
        if (S_ISDIR(st.st_mode))
            view_walk(c, rel);
        else
            view_differs(c, "%s is not a directory", rel);
    } else if (it->kind == 'l') {
        c->seen++;
        char target[4096];
        ssize_t n = S_ISLNK(st.st_mode) ? readlink(abs, target, sizeof target - 1) : -1;
        if (n >= 0)
            target[n] = 0;
        if (n < 0 || strcmp(target, it->target) != 0)
            view_differs(c, "%s is not the symlink to %s its manifest lists", rel, it->target);
    } else {
        c->seen++;
        view_check_file(c, it, &st);
    }
    free(abs);
}

static void view_walk(struct view_check *c, const char *rel)
{
    char *abs = rel[0] ? path_join(c->dir, rel) : xstrdup(c->dir);
    DIR *d = opendir(abs);
    if (!d)
        view_differs(c, "%s: %s", rel[0] ? rel : ".", strerror(errno));
    struct dirent *de;
    while (d && c->problems->n < c->max && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *crel = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        view_check_entry(c, crel);
        free(crel);
    }
    if (d)
        closedir(d);
    free(abs);
}

/* Compares the view at dir (a real directory) with the parsed manifest. */
static void view_compare(struct store *s, const char *dir, const struct item *items, size_t n,
                         size_t max, struct strv *problems)
{
    struct view_check c = {.s = s, .dir = dir, .items = items, .n = n, .problems = problems,
                           .max = max};
    view_walk(&c, "");
    for (size_t i = 0; c.seen < n && i < n && problems->n < max; i++) {
        char *p = path_join(dir, items[i].path);
        struct stat st;
        if (lstat(p, &st) != 0)
            view_differs(&c, "%s is missing", items[i].path);
        free(p);
    }
}

int store_view_check(struct store *s, const char *digest, const char *text, size_t max,
                     struct strv *problems)
{
    assert(max > 0);
    char *view = view_path(s, digest);
    struct stat st;
    int rc = 0;
    struct item *items = NULL;
    long n = 0;
    if (lstat(view, &st) != 0) {
        rc = 1;
    } else if (!S_ISDIR(st.st_mode)) {
        strv_pushf(problems, "it is not a directory");
    } else if ((n = manifest_parse(text, &items)) < 0) {
        rc = -1;
    } else {
        view_compare(s, view, items, (size_t)n, max, problems);
    }
    if (n > 0)
        items_free(items, (size_t)n);
    free(view);
    return rc;
}

/* Whether the output's view is there and holds exactly its manifest. */
static bool view_matches(struct store *s, const char *digest, const char *text)
{
    struct strv problems = {0};
    bool ok = store_view_check(s, digest, text, 1, &problems) == 0 && problems.n == 0;
    strv_free(&problems);
    return ok;
}

bool store_has_output(struct store *s, const char *digest, const char *text)
{
    if (!text) {
        char *view = view_path(s, digest);
        struct stat st;
        bool ok = lstat(view, &st) == 0 && S_ISDIR(st.st_mode);
        free(view);
        return ok;
    }
    if (view_matches(s, digest, text))
        return true;
    /* A view that differs from its manifest is rebuilt from the objects when used. */
    struct item *items;
    long n = manifest_parse(text, &items);
    bool ok = n >= 0;
    for (long i = 0; ok && i < n; i++) {
        if (items[i].kind != 'f' && items[i].kind != 'x')
            continue;
        char *obj = object_name(s, items[i].digest, items[i].kind == 'x');
        ok = same_size(obj, items[i].size);
        free(obj);
    }
    if (n >= 0)
        items_free(items, (size_t)n);
    return ok;
}

/* A view's file: a hard link to its object (a copy where links fail). */
static int view_file(struct store *s, const struct item *it, const char *p, bool link_it,
                     struct err *e)
{
    (void)link_it; /* a view always links */
    char *obj = object_name(s, it->digest, it->kind == 'x');
    int rc = 0;
    if (!same_size(obj, it->size))
        rc = err_set(e, "object %s is missing or truncated", it->digest);
    else if (link(obj, p) != 0 && copy_file(obj, p, it->kind == 'x' ? 0555 : 0444, e) != 0)
        rc = -1;
    free(obj);
    return rc;
}

typedef int tree_file_fn(struct store *s, const struct item *it, const char *p, bool link_it,
                         struct err *e);

/* Makes a manifest's items under dir (existing, empty): directories, symlinks, and
 * files as make_file() makes them (a view's links, a publication's copies). */
static int make_tree(struct store *s, const char *dir, const struct item *items, size_t n,
                     tree_file_fn *make_file, bool link_it, struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        const struct item *it = &items[i];
        char *p = xasprintf("%s/%s", dir, it->path);
        int rc = 0;
        if (it->kind == 'd') {
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                rc = err_set(e, "%s: %s", p, strerror(errno));
        } else if (it->kind == 'l') {
            if (symlink(it->target, p) != 0)
                rc = err_set(e, "%s: %s", p, strerror(errno));
        } else {
            rc = make_file(s, it, p, link_it, e);
        }
        free(p);
        if (rc)
            return -1;
    }
    return 0;
}

/* Whether the directory dir holds exactly these items. */
static bool dir_matches(struct store *s, const char *dir, const struct item *items, size_t n)
{
    struct strv problems = {0};
    view_compare(s, dir, items, n, 1, &problems);
    bool ok = problems.n == 0;
    strv_free(&problems);
    return ok;
}

/* Makes a directory writable by its owner if it is one (never following a symlink):
 * moving a directory to another parent needs it. */
static void dir_writable(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        chmod(path, 0755);
}

/* Puts the freshly built view tmp at view, where something that differs from the
 * manifest may be. The path never goes missing: the two are swapped atomically
 * (RENAME_EXCHANGE), and when what was swapped out turns out to match (another run
 * rebuilt it meanwhile, and its tasks may be reading it) it is swapped back. Where
 * the file system cannot swap, the old one is moved aside first. What ends up at
 * tmp is the caller's to delete. */
static int place_view(struct store *s, const char *tmp, const char *view, const char *digest,
                      const struct item *items, size_t n, struct err *e)
{
    if (rename(tmp, view) == 0) {
        chmod(view, 0555);
        return 0;
    }
    if (errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR && errno != EISDIR)
        return err_set(e, "%s: %s", view, strerror(errno));
    dir_writable(view);
    int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, view, RENAME_EXCHANGE);
    if (rc == 0 && dir_matches(s, tmp, items, n))
        renameat2(AT_FDCWD, tmp, AT_FDCWD, view, RENAME_EXCHANGE);
    if (rc == 0) {
        chmod(view, 0555);
        return 0;
    }
    char *old = xasprintf("%s/view-old-%.16s-%ld", s->tmp, digest, (long)getpid());
    remove_tree(old, NULL);
    if (rename(view, old) == 0)
        remove_tree(old, NULL);
    else
        remove_tree(view, NULL);
    free(old);
    if (rename(tmp, view) == 0)
        chmod(view, 0555);
    else if (errno != EEXIST && errno != ENOTEMPTY) /* else another run's is there */
        return err_set(e, "%s: %s", view, strerror(errno));
    return 0;
}

char *store_view(struct store *s, const char *digest, const char *text, struct err *e)
{
    char *view = view_path(s, digest);
    struct stat st;
    bool exists = lstat(view, &st) == 0;
    if (exists && !text && S_ISDIR(st.st_mode))
        return view; /* nothing to check it against: the caller knows it is right */
    if (!text) {
        free(view);
        err_set(e, "output %.12s is not in the store", digest);
        return NULL;
    }
    /* Never hand out a view that differs from its manifest: rebuild it. */
    if (exists && view_matches(s, digest, text))
        return view;
    struct item *items;
    long n = manifest_parse(text, &items);
    if (n < 0) {
        free(view);
        err_set(e, "output %.12s: manifest is corrupt", digest);
        return NULL;
    }
    /* Items are sorted by path, so parents come before their children. */
    char *tmp = xasprintf("%s/view-%.16s-%ld", s->tmp, digest, (long)getpid());
    remove_tree(tmp, NULL);
    int rc = mkdir_mode(tmp, e);
    if (rc == 0)
        rc = make_tree(s, tmp, items, (size_t)n, view_file, true, e);
    for (long i = n - 1; rc == 0 && i >= 0; i--) { /* read-only, like an ingested view */
        if (items[i].kind == 'd') {
            char *p = path_join(tmp, items[i].path);
            chmod(p, 0555);
            free(p);
        }
    }
    if (rc == 0)
        rc = place_view(s, tmp, view, digest, items, (size_t)n, e);
    remove_tree(tmp, NULL);
    items_free(items, (size_t)n);
    free(tmp);
    if (rc) {
        free(view);
        return NULL;
    }
    return view;
}

/* --- durability ---------------------------------------------------------------------------- */

static int sync_path(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = 0, fault = testhook("store-fsync");
    if (fault || (fsync(fd) != 0 && errno != EINVAL)) {
        snprintf(err, errlen, "fsync %s: %s", path, strerror(fault ? fault : errno));
        rc = -1;
    }
    close(fd);
    return rc;
}

/* fsyncs a batch of files, then each directory holding one (where the renames that
 * named them live), each directory once. */
static void sync_batch(struct strv *paths, char *err, size_t errlen)
{
    strv_sort(paths);
    struct strv dirs = {0};
    for (size_t i = 0; i < paths->n; i++) {
        if (i > 0 && strcmp(paths->v[i], paths->v[i - 1]) == 0)
            continue;
        if (sync_path(paths->v[i], err, errlen) != 0)
            break;
        char *dir = xstrdup(paths->v[i]);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        if (strv_has(&dirs, dir))
            free(dir);
        else
            strv_push(&dirs, dir);
    }
    for (size_t i = 0; i < dirs.n && !err[0]; i++)
        sync_path(dirs.v[i], err, errlen);
    strv_free(&dirs);
}

static void *syncer_main(void *arg)
{
    struct syncer *y = arg;
    pthread_mutex_lock(&y->mu);
    for (;;) {
        while (!y->stop && y->done == y->submitted)
            pthread_cond_wait(&y->wake, &y->mu);
        if (y->done == y->submitted && y->stop)
            break;
        struct strv batch = y->queue;
        uint64_t ticket = y->submitted;
        memset(&y->queue, 0, sizeof y->queue);
        pthread_mutex_unlock(&y->mu);
        char err[512] = "";
        sync_batch(&batch, err, sizeof err);
        strv_free(&batch);
        pthread_mutex_lock(&y->mu);
        if (err[0] && !y->error[0])
            memcpy(y->error, err, sizeof err);
        y->done = ticket;
        pthread_cond_broadcast(&y->progress);
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

uint64_t store_sync_begin(struct store *s)
{
    struct syncer *y = &s->sync;
    pthread_mutex_lock(&y->mu);
    if (s->unsynced.n > 0) {
        if (!y->started)
            y->started = pthread_create(&y->thread, NULL, syncer_main, y) == 0;
        for (size_t i = 0; i < s->unsynced.n; i++)
            strv_push(&y->queue, s->unsynced.v[i]);
        free(s->unsynced.v);
        memset(&s->unsynced, 0, sizeof s->unsynced);
        y->submitted++;
        if (!y->started) { /* no thread could be started: sync here */
            sync_batch(&y->queue, y->error, sizeof y->error);
            strv_free(&y->queue);
            y->done = y->submitted;
        }
        pthread_cond_signal(&y->wake);
    }
    uint64_t ticket = y->submitted;
    pthread_mutex_unlock(&y->mu);
    return ticket;
}

int store_synced(struct store *s, uint64_t ticket, struct err *e)
{
    struct syncer *y = &s->sync;
    pthread_mutex_lock(&y->mu);
    int rc = y->error[0] ? err_set(e, "%s", y->error) : y->done >= ticket;
    pthread_mutex_unlock(&y->mu);
    return rc;
}

int store_sync(struct store *s, struct err *e)
{
    uint64_t ticket = store_sync_begin(s);
    struct syncer *y = &s->sync;
    pthread_mutex_lock(&y->mu);
    while (y->done < ticket && !y->error[0])
        pthread_cond_wait(&y->progress, &y->mu);
    int rc = y->error[0] ? err_set(e, "%s", y->error) : 0;
    pthread_mutex_unlock(&y->mu);
    return rc;
}

/* --- dropping and publishing ------------------------------------------------------------------- */

void store_manifest_files(const char *manifest, struct strv *paths)
{
    struct item *items;
    long n = manifest_parse(manifest, &items);
    for (long i = 0; i < n; i++)
        if (items[i].kind == 'f' || items[i].kind == 'x')
            strv_push(paths, xstrdup(items[i].path));
    if (n >= 0)
        items_free(items, (size_t)n);
}

int store_manifest_each(const char *manifest,
                        void (*fn)(void *ctx, const struct store_file *f), void *ctx)
{
    struct item *items;
    long n = manifest_parse(manifest, &items);
    for (long i = 0; i < n; i++) {
        if (items[i].kind != 'f' && items[i].kind != 'x')
            continue;
        char name[HASH_HEX + 2];
        snprintf(name, sizeof name, "%s%s", items[i].digest, items[i].kind == 'x' ? ".x" : "");
        struct store_file f = {.path = items[i].path,
                               .object = name,
                               .digest = items[i].digest,
                               .size = items[i].size};
        fn(ctx, &f);
    }
    if (n >= 0)
        items_free(items, (size_t)n);
    return n < 0 ? -1 : 0;
}

void store_fanout_each(const char *dir, void (*fn)(void *ctx, const char *path, const char *name),
                       void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strlen(de->d_name) != 2 || !isxdigit((unsigned char)de->d_name[0]) ||
            !isxdigit((unsigned char)de->d_name[1]))
            continue; /* never "..", which is the root */
        char *sub = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        DIR *sd = lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) ? opendir(sub) : NULL;
        struct dirent *f;
        while (sd && (f = readdir(sd))) {
            if (f->d_name[0] == '.')
                continue;
            char *path = xasprintf("%s/%s", sub, f->d_name);
            char *name = xasprintf("%s%s", de->d_name, f->d_name);
            fn(ctx, path, name);
            free(path);
            free(name);
        }
        if (sd)
            closedir(sd);
        free(sub);
    }
    if (d)
        closedir(d);
}

char *store_object_file(const struct store *s, const char *object)
{
    return xasprintf("%s/%.2s/%s", s->objects, object, object + 2);
}

char *store_view_path(const struct store *s, const char *digest)
{
    return view_path(s, digest);
}

struct drop_ctx {
    struct store *s;
    bool (*still_used)(void *ctx, const char *object);
    void *ctx;
};

static void drop_object(void *arg, const struct store_file *f)
{
    struct drop_ctx *d = arg;
    if (d->still_used(d->ctx, f->object))
        return;
    char *p = store_object_file(d->s, f->object);
    unlink(p);
    free(p);
}

int store_drop(struct store *s, const char *digest, const char *manifest,
               bool (*still_used)(void *ctx, const char *object), void *ctx, struct err *e)
{
    char *view = view_path(s, digest);
    int rc = remove_tree(view, e);
    free(view);
    struct drop_ctx d = {s, still_used, ctx};
    if (rc == 0)
        store_manifest_each(manifest, drop_object, &d);
    return rc;
}

/* Replaces dest with the fully built tmp, so readers see either version. */
static int swap_into_place(const char *tmp, const char *dest, struct err *e)
{
    struct stat st;
    char *old = NULL;
    if (lstat(dest, &st) == 0 && S_ISDIR(st.st_mode)) {
        old = xasprintf("%s.sluice-old.%ld", dest, (long)getpid());
        remove_tree(old, NULL);
        if (rename(dest, old) != 0) {
            free(old);
            return err_set(e, "%s: %s", dest, strerror(errno));
        }
    }
    int rc = rename(tmp, dest) == 0 ? 0 : err_set(e, "%s: %s", dest, strerror(errno));
    if (old) {
        if (rc) /* put the previous version back */
            rename(old, dest);
        else
            remove_tree(old, NULL);
        free(old);
    }
    return rc;
}

/* Makes the file path (new) hold the bytes of item it, checked against its digest:
 * a private copy (reflink where possible), or with `link` the object itself. Returns
 * 1 when the object is damaged or missing. */
static int publish_file(struct store *s, const struct item *it, const char *path, bool link_it,
                        struct err *e)
{
    char *obj = object_name(s, it->digest, it->kind == 'x');
    int rc = 0;
    char actual[HASH_HEX] = "";
    uint64_t size;
    if (!same_size(obj, it->size)) {
        rc = err_set(e, "object %.12s is missing or truncated (run sluice verify --repair)",
                     it->digest);
    } else if (link_it) {
        if (hash_file(obj, actual, &size, e))
            rc = -1;
        else if (strcmp(actual, it->digest) != 0)
            rc = 1;
        else if (link(obj, path) != 0)
            rc = clone_file(obj, path, it->kind == 'x' ? 0555 : 0444, e);
    } else {
        rc = clone_file(obj, path, it->kind == 'x' ? 0555 : 0444, e);
        if (rc == 0 && hash_file(path, actual, &size, e))
            rc = -1;
        else if (rc == 0 && strcmp(actual, it->digest) != 0)
            rc = 1;
    }
    if (rc == 1)
        err_set(e, "object %.12s is damaged (run sluice verify --repair)", it->digest);
    free(obj);
    return rc ? -1 : 0;
}


int store_publish(struct store *s, const char *digest, const char *manifest, const char *dest,
                  bool as_dir, bool link_it, store_placing_fn placing, void *ctx, struct err *e)
{
    struct item *items;
    long n = manifest_parse(manifest, &items);
    if (n < 0)
        return err_set(e, "output %.12s: manifest is corrupt", digest);
    char *parent = xstrdup(dest);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = 0;
    char *tmp = xasprintf("%s.sluice-tmp.%ld", dest, (long)getpid());
    remove_tree(tmp, NULL);
    int rc = mkdir_p(parent, 0755, e);
    struct stat st;
    if (rc == 0 && (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = err_set(e, "%s is not a directory", parent);
    bool single = !as_dir && n == 1 && (items[0].kind == 'f' || items[0].kind == 'x');
    if (rc == 0 && single) {
        rc = publish_file(s, &items[0], tmp, link_it, e);
    } else if (rc == 0) {
        rc = mkdir(tmp, 0755) == 0 ? make_tree(s, tmp, items, (size_t)n, publish_file, link_it, e)
                                   : err_set(e, "%s: %s", tmp, strerror(errno));
    }
    if (rc == 0 && placing)
        rc = placing(ctx, tmp, e) ? -1 : 0;
    if (rc == 0)
        rc = swap_into_place(tmp, dest, e);
    if (rc)
        remove_tree(tmp, NULL);
    items_free(items, (size_t)n);
    free(tmp);
    free(parent);
    if (rc)
        err_prefix(e, "publishing to %s", dest);
    return rc ? 1 : 0;
}

void store_manifest_paths(const char *manifest, struct strv *paths)
{
    struct item *items;
    long n = manifest_parse(manifest, &items);
    for (long i = 0; i < n; i++)
        strv_push(paths, xstrdup(items[i].path));
    if (n >= 0)
        items_free(items, (size_t)n);
}
