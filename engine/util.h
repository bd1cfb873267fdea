/* util: the small pieces every module uses.
 *
 * - Allocation: x*() never return NULL; on exhaustion they print one line and abort.
 * - struct err: errors are values. A failing function returns -1 (or NULL) and fills
 *   the caller's struct err with a one-line message; only main() prints it.
 * - struct sb: a growable NUL-terminated byte buffer; sb_free() releases it.
 * - struct strv: a growable NULL-terminated vector of owned strings.
 */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct err {
    char msg[2048];
};

/* Sets e->msg (if e is not NULL) and returns -1, so callers can `return err_set(...)`. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "prefix: " to an existing message. Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a, b and c joined: what xasprintf("%s%s%s") gives, without the formatting's cost. */
char *xstrcat3(const char *a, const char *b, const char *c);
/* qsort that accepts an empty (possibly NULL) array, which qsort itself does not. */
void sort_array(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* Grows *p (holding *cap elements of size sz) so it can hold at least `need`. */
void xgrow(void *pp, size_t *cap, size_t need, size_t sz);

struct sb {
    char *buf;
    size_t len, cap;
};
void sb_add(struct sb *b, const void *data, size_t n);
void sb_adds(struct sb *b, const char *s);
void sb_addc(struct sb *b, char c);
void sb_addf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct sb *b, const char *fmt, va_list ap);
/* Returns the buffer (always NUL-terminated, never NULL) and resets b; caller frees. */
char *sb_take(struct sb *b);
void sb_free(struct sb *b);

struct strv { /* 16 bytes: a flow holds several per task */
    char **v;
    uint32_t n, cap;
};
void strv_push(struct strv *s, char *owned);
void strv_pushf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_sort(struct strv *s);
bool strv_has(const struct strv *s, const char *str);
void strv_free(struct strv *s);

/* Wall-clock seconds since the epoch, with sub-second precision. */
double now_wall(void);
/* Monotonic seconds, for durations. */
double now_mono(void);

/* What stat says of a file's content: equal stamps, the same bytes as far as stat can
 * tell. ctime moves on every write, even one that then restores mtime. */
struct file_stamp {
    int64_t size, mtime_ns, ctime_ns;
    uint64_t ino;
    uint32_t mode;
    double taken; /* wall clock of the stat */
};
struct stat;
struct file_stamp file_stamp_of(const struct stat *st);
/* Whether path (stat'ed now) still has this stamp. */
bool file_stamp_holds(const char *path, const struct file_stamp *s);
/* Written too recently for its stamp to prove it unchanged later: a same-size rewrite
 * within one timestamp tick would keep it (mtime or ctime within `seconds` of the stat). */
bool file_stamp_racy(const struct file_stamp *s, double seconds);

/* Reads a whole regular file into a NUL-terminated buffer (a device or a FIFO is refused,
 * never waited on). Returns NULL and fills e on error. */
char *file_read_all(const char *path, size_t *len, struct err *e);
/* The same, refusing a file of more than max bytes ("PATH: 3.0 GB, more than the 256 MB it
 * may be") before reading any of it. */
char *file_read_bounded(const char *path, size_t max, size_t *len, struct err *e);
/* Writes data to path atomically (temp file in the same directory, fsync, rename). */
int file_write_atomic(const char *path, const void *data, size_t len, int mode, struct err *e);
/* mkdir -p with the given mode for created directories. */
int mkdir_p(const char *path, int mode, struct err *e);
/* rm -rf; makes read-only directories writable first. Missing path is not an error. */
int remove_tree(const char *path, struct err *e);
/* Joins a directory and a relative path; an absolute `rel` is returned as is. */
char *path_join(const char *dir, const char *rel);
/* An absolute path for p: relative ones are joined to the current directory and
 * normalised lexically (symlinks are not resolved). Caller frees. */
char *path_absolute(const char *p);
/* Lexically normalises a path ("./a//b/../c" -> "a/c"). A relative path that climbs
 * above its start ("../x") keeps its leading ".." when allow_up, else NULL is returned.
 * Caller frees. */
char *path_normalize(const char *p, bool allow_up);
/* The relative path from directory `from` to `to` (both absolute): "sub/x", "../y",
 * or "." when they are the same. Caller frees. */
char *path_relative(const char *from, const char *to);
/* Levenshtein distance, for did-you-mean suggestions. */
size_t edit_distance(const char *a, const char *b);
/* Formats a duration in seconds as "45ms", "0.4s", "12s", "3m05s", "2h10m". */
void fmt_duration(char *buf, size_t n, double secs);
/* How many bytes of s the next line of a text wrapped at room columns takes: all of
 * s if it fits, else up to its last space within room (room itself when one word is
 * wider). Bytes count as columns. */
int text_break(const char *s, int room);
/* Formats a wall-clock time as "14:02" today, else "Nov 24 14:02". */
void fmt_time(char *buf, size_t n, double when);
/* Formats a byte count as "512 B", "1.5 KB", "12 MB". */
void fmt_size(char *buf, size_t n, uint64_t bytes);

#endif
