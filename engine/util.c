/* util: allocation, errors, buffers and small file-system helpers. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Puts a message into e: one too long for it keeps its start and its end (where the
 * reason is), with " [...] " between, never only the first part of a long path. */
static void err_put(struct err *e, const char *msg, size_t len)
{
    const size_t cap = sizeof e->msg - 1;
    if (len <= cap) {
        memcpy(e->msg, msg, len);
        e->msg[len] = 0;
        return;
    }
    static const char cut[] = " [...] ";
    const size_t head = cap / 4, tail = cap - head - (sizeof cut - 1);
    memcpy(e->msg, msg, head);
    memcpy(e->msg + head, cut, sizeof cut - 1);
    memcpy(e->msg + head + sizeof cut - 1, msg + len - tail, tail);
    e->msg[cap] = 0;
}

int err_set(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    err_put(e, b.buf ? b.buf : "", b.len);
    sb_free(&b);
    return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    sb_addf(&b, ": %s", e->msg);
    err_put(e, b.buf, b.len);
    sb_free(&b);
    return -1;
}

static void oom(void)
{
    fputs("sluice: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    return sb_take(&b);
}

char *xstrcat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *p = xmalloc(la + lb + lc + 1);
    memcpy(p, a, la);
    memcpy(p + la, b, lb);
    memcpy(p + la + lb, c, lc + 1);
    return p;
}

void sort_array(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

void xgrow(void *pp, size_t *cap, size_t need, size_t sz)
{
    void **p = pp;
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 4;
    while (c < need)
        c *= 2;
    if (need > *cap * 2 + 4) /* a bulk reservation, not growth: take exactly that */
        c = need;
    *p = xrealloc(*p, c * sz);
    *cap = c;
}

void sb_add(struct sb *b, const void *data, size_t n)
{
    xgrow(&b->buf, &b->cap, b->len + n + 1, 1);
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = 0;
}

void sb_adds(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

void sb_addc(struct sb *b, char c)
{
    sb_add(b, &c, 1);
}

void sb_vaddf(struct sb *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    xgrow(&b->buf, &b->cap, b->len + (size_t)n + 1, 1);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_addf(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(b, fmt, ap);
    va_end(ap);
}

char *sb_take(struct sb *b)
{
    /* Shrink to fit: taken strings live long (a big flow holds hundreds of thousands). */
    char *s = b->buf ? xrealloc(b->buf, b->len + 1) : xstrdup("");
    b->buf = NULL;
    b->len = b->cap = 0;
    return s;
}

void sb_free(struct sb *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}

void strv_push(struct strv *s, char *owned)
{
    if (s->n + 2 > s->cap) { /* most lists hold one or two: start small */
        size_t c = s->cap ? s->cap * 2 : 2;
        while (c < s->n + 2)
            c *= 2;
        s->v = xrealloc(s->v, c * sizeof *s->v);
        s->cap = c;
    }
    s->v[s->n++] = owned;
    s->v[s->n] = NULL;
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    strv_push(s, sb_take(&b));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct strv *s)
{
    sort_array(s->v, s->n, sizeof *s->v, cmp_str);
}

bool strv_has(const struct strv *s, const char *str)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], str) == 0)
            return true;
    return false;
}

void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

double now_wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int64_t timespec_ns(struct timespec ts)
{
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct file_stamp file_stamp_of(const struct stat *st)
{
    return (struct file_stamp){.size = (int64_t)st->st_size,
                               .mtime_ns = timespec_ns(st->st_mtim),
                               .ctime_ns = timespec_ns(st->st_ctim),
                               .ino = (uint64_t)st->st_ino,
                               .mode = (uint32_t)st->st_mode,
                               .taken = now_wall()};
}

bool file_stamp_holds(const char *path, const struct file_stamp *s)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    struct file_stamp now = file_stamp_of(&st);
    return now.size == s->size && now.mtime_ns == s->mtime_ns && now.ctime_ns == s->ctime_ns &&
           now.ino == s->ino && now.mode == s->mode;
}

bool file_stamp_racy(const struct file_stamp *s, double seconds)
{
    int64_t limit = (int64_t)((s->taken - seconds) * 1e9);
    return s->mtime_ns > limit || s->ctime_ns > limit;
}

char *file_read_all(const char *path, size_t *len, struct err *e)
{
    return file_read_bounded(path, SIZE_MAX, len, e);
}

char *file_read_bounded(const char *path, size_t max, size_t *len, struct err *e)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* Only regular files: a device or a FIFO (/dev/zero, a pipe) could be endless. One
     * allocation of the right size (big flow files matter). */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err_set(e, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > max) {
        char has[32], may[32];
        fmt_size(has, sizeof has, (uint64_t)st.st_size);
        fmt_size(may, sizeof may, max);
        err_set(e, "%s: %s, more than the %s it may be", path, has, may);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 2;
    char *buf = xmalloc(cap);
    size_t n = 0;
    for (;;) {
        if (n > max) { /* it grew while being read */
            err_set(e, "%s: grew past the size it may be while being read", path);
            close(fd);
            free(buf);
            return NULL;
        }
        if (n + 1 >= cap)
            buf = xrealloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err_set(e, "%s: %s", path, strerror(errno));
            close(fd);
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

int file_write_atomic(const char *path, const void *data, size_t len, int mode, struct err *e)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        err_set(e, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    return 0;
fail:
    err_set(e, "%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

int mkdir_p(const char *path, int mode, struct err *e)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
            err_set(e, "cannot create %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
        rc = err_set(e, "cannot create %s: %s", p, strerror(errno));
    free(p);
    return rc;
}

/* Removing a tree by *at() calls, so that no path is ever longer than one name: a tree
 * deeper than PATH_MAX goes as any other. A directory more than REMOVE_DEPTH levels
 * down is moved up into the root first (one open descriptor per level otherwise). */
#define REMOVE_DEPTH 128

struct remover {
    const char *top; /* the path removed, for messages */
    int root;        /* its descriptor */
    unsigned moved;  /* directories moved up into it */
};

static int remove_at(struct remover *r, int dfd, const char *name, int depth, struct err *e);

/* Removes everything in the open directory fd (deleting while reading is allowed). */
static int empty_dir(struct remover *r, int fd, int depth, struct err *e)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return err_set(e, "%s: %s", r->top, strerror(errno));
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            rc = remove_at(r, dirfd(d), de->d_name, depth + 1, e);
    closedir(d);
    return rc;
}

/* Moves the directory dfd/name up into the root, under a name not taken there. */
static int move_up(struct remover *r, int dfd, const char *name, struct err *e)
{
    for (;;) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, ".sluice-deep-%u", r->moved++);
        struct stat st;
        if (fstatat(r->root, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        if (renameat(dfd, name, r->root, tmp) == 0)
            return 0;
        return err_set(e, "cannot remove %s (deep below it): %s", r->top, strerror(errno));
    }
}

static int remove_at(struct remover *r, int dfd, const char *name, int depth, struct err *e)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : err_set(e, "%s: %s", r->top, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT)
            return err_set(e, "cannot remove %s (below it: %s): %s", r->top, name,
                           strerror(errno));
        return 0;
    }
    if (depth > REMOVE_DEPTH)
        return move_up(r, dfd, name, e);
    if ((st.st_mode & 0700) != 0700)
        fchmodat(dfd, name, (st.st_mode & 07777) | 0700, 0);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, "cannot remove %s (below it: %s): %s", r->top, name, strerror(errno));
    int rc = empty_dir(r, fd, depth, e);
    if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = err_set(e, "cannot remove %s (below it: %s): %s", r->top, name, strerror(errno));
    return rc;
}

int remove_tree(const char *path, struct err *e)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : err_set(e, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0 && errno != ENOENT)
            return err_set(e, "cannot remove %s: %s", path, strerror(errno));
        return 0;
    }
    if ((st.st_mode & 0700) != 0700)
        chmod(path, st.st_mode | 0700);
    struct remover r = {path, open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), 0};
    if (r.root < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    int rc = 0;
    /* Passes until nothing was moved up into the root during one. */
    for (unsigned before = ~0u; rc == 0 && before != r.moved;) {
        before = r.moved;
        int fd = dup(r.root);
        rc = fd < 0 ? err_set(e, "%s: %s", path, strerror(errno)) : 0;
        if (rc == 0 && lseek(fd, 0, SEEK_SET) == 0)
            rc = empty_dir(&r, fd, 0, e);
    }
    close(r.root);
    if (rc == 0 && rmdir(path) != 0 && errno != ENOENT)
        rc = err_set(e, "cannot remove %s: %s", path, strerror(errno));
    return rc;
}

char *path_join(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir || !dir[0])
        return xstrdup(rel);
    size_t n = strlen(dir), m = strlen(rel);
    bool slash = dir[n - 1] != '/';
    char *p = xmalloc(n + slash + m + 1);
    memcpy(p, dir, n);
    if (slash)
        p[n] = '/';
    memcpy(p + n + slash, rel, m + 1);
    return p;
}

char *path_absolute(const char *p)
{
    char *cwd = p[0] == '/' ? NULL : getcwd(NULL, 0);
    char *joined = path_join(cwd ? cwd : "/", p);
    char *abs = path_normalize(joined, false);
    free(joined);
    free(cwd);
    return abs;
}

char *path_normalize(const char *p, bool allow_up)
{
    /* Built in place, one buffer: a call per code file of a 100,000-task flow. */
    bool abs = p[0] == '/';
    char *o = xmalloc(strlen(p) + 2);
    size_t n = 0, base = abs ? 1 : 0, parts = 0, ups = 0; /* ups: leading ".." parts */
    if (abs)
        o[n++] = '/';
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        size_t len = strcspn(s, "/");
        if (len == 0)
            break;
        bool dot = len == 1 && s[0] == '.', dotdot = len == 2 && s[0] == '.' && s[1] == '.';
        if (dotdot && parts > ups) { /* drop the last part */
            while (n > base && o[n - 1] != '/')
                n--;
            n = n > base ? n - 1 : base;
            parts--;
        } else if (dotdot && !abs && !allow_up) {
            free(o);
            return NULL;
        } else if (!dot && !(dotdot && abs)) { /* ".." above / is / */
            if (parts++)
                o[n++] = '/';
            memcpy(o + n, s, len);
            n += len;
            ups += dotdot;
        }
        s += len;
    }
    if (n == 0)
        o[n++] = '.';
    o[n] = 0;
    return o;
}

/* Splits a normalised absolute path into its components. */
static void path_parts(const char *p, struct strv *out)
{
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        size_t n = strcspn(s, "/");
        if (n)
            strv_push(out, xstrndup(s, n));
        s += n;
    }
}

char *path_relative(const char *from, const char *to)
{
    char *f = path_normalize(from, false), *t = path_normalize(to, false);
    struct strv a = {0}, b = {0};
    path_parts(f, &a);
    path_parts(t, &b);
    size_t common = 0;
    while (common < a.n && common < b.n && strcmp(a.v[common], b.v[common]) == 0)
        common++;
    struct sb out = {0};
    for (size_t i = common; i < a.n; i++)
        sb_adds(&out, out.len ? "/.." : "..");
    for (size_t i = common; i < b.n; i++)
        sb_addf(&out, "%s%s", out.len ? "/" : "", b.v[i]);
    if (out.len == 0)
        sb_addc(&out, '.');
    strv_free(&a);
    strv_free(&b);
    free(f);
    free(t);
    return sb_take(&out);
}

size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xcalloc(lb + 1, sizeof *row);
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

int text_break(const char *s, int room)
{
    int n = (int)strlen(s);
    if (n <= room)
        return n;
    n = room;
    while (n > 0 && s[n] != ' ')
        n--;
    return n > 0 ? n : room;
}

void fmt_duration(char *buf, size_t n, double secs)
{
    if (secs < 0)
        secs = 0;
    if (secs < 0.1)
        snprintf(buf, n, "%.0fms", secs * 1000);
    else if (secs < 10)
        snprintf(buf, n, "%.1fs", secs);
    else if (secs < 60)
        snprintf(buf, n, "%.0fs", secs);
    else if (secs < 3600)
        snprintf(buf, n, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else if (secs < 86400 * 2)
        snprintf(buf, n, "%dh%02dm", (int)secs / 3600, ((int)secs % 3600) / 60);
    else
        snprintf(buf, n, "%dd", (int)(secs / 86400));
}

void fmt_size(char *buf, size_t n, uint64_t bytes)
{
    const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024 && u + 1 < ARRAY_LEN(units)) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, n, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void fmt_time(char *buf, size_t n, double when)
{
    time_t t = (time_t)when, now = time(NULL);
    struct tm tm, today;
    localtime_r(&t, &tm);
    localtime_r(&now, &today);
    bool same_day = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday;
    strftime(buf, n, same_day ? "%H:%M" : "%b %d %H:%M", &tm);
}
