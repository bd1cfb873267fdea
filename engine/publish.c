/* publish: output -> user-chosen path, replacing only what sluice published. */
#include "publish.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "template.h"
#include "testhook.h"

/* The absolute path the template names for task t; *rel gets it as written. */
static char *destination(const struct workspace *ws, size_t t, char **rel, struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    struct template_vars v = {
        .task = task->local, .flow = task->flow_name, .key = ws->keys.in[t].deep, .strict = true};
    if (template_expand(task->publish, &v, rel, e))
        return NULL;
    char *joined = path_join(task->dir, *rel);
    char *dest = path_normalize(joined, false);
    free(joined);
    if (!dest)
        err_set(e, "task %s: publish path leaves the file system", task->name);
    return dest;
}

/* path with its longest existing prefix resolved (symlinks followed): where a write
 * there really lands. Caller frees. */
static char *resolve_existing(const char *path)
{
    char *head = xstrdup(path);
    for (;;) {
        char *real = realpath(head, NULL);
        if (real) {
            const char *rest = path + strlen(head);
            char *r = rest[0] ? path_join(real, rest + 1) : xstrdup(real);
            free(real);
            free(head);
            return r;
        }
        char *slash = strrchr(head, '/');
        if (!slash || slash == head) {
            free(head);
            return xstrdup(path);
        }
        *slash = 0;
    }
}

/* Where publishing at dest (absolute, normalised) really writes: its directory with
 * symbolic links resolved, then its own name. dest itself is not followed: publishing
 * replaces whatever it is. Caller frees. */
static char *landing(const char *dest)
{
    const char *base = strrchr(dest, '/') + 1;
    char *dir = xstrndup(dest, (size_t)(base - 1 - dest));
    char *where = resolve_existing(dir[0] ? dir : "/");
    char *r = strcmp(where, "/") == 0 ? xasprintf("/%s", base) : xasprintf("%s/%s", where, base);
    free(where);
    free(dir);
    return r;
}

/* Whether path a is strictly below directory b. */
static bool is_below(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (n == 1 && b[0] == '/')
        return a[0] == '/' && a[1] != 0;
    return strncmp(a, b, n) == 0 && a[n] == '/';
}

/* What no publication may be, be inside or hold. */
struct guard {
    char *real;       /* resolved */
    char *shown;      /* as messages name it */
    const char *what; /* "the flow file", ... */
};

struct guards {
    struct guard *v;
    size_t n, cap;
};

static void guard_add(struct guards *g, const char *path, char *shown, const char *what)
{
    xgrow(&g->v, &g->cap, g->n + 1, sizeof *g->v);
    char *real = realpath(path, NULL);
    g->v[g->n++] = (struct guard){real ? real : xstrdup(path), shown, what};
}

/* The flow file and its sub-flows' files, the store, the repository's .git. */
static void guards_collect(struct workspace *ws, struct guards *g)
{
    const struct flow *f = ws->flow;
    guard_add(g, f->abspath, path_relative(f->dir, f->abspath), "the flow file");
    for (size_t i = 0; i < f->n_groups; i++)
        guard_add(g, f->groups[i].path, path_relative(f->dir, f->groups[i].path), "the flow file");
    guard_add(g, store_root(ws->store), xstrdup(store_root(ws->store)), "the store");
    const char *wd = ws->fp ? fingerprint_workdir(ws->fp) : NULL;
    if (wd) {
        char *git = path_join(wd, ".git");
        guard_add(g, git, xstrdup(git), "the git directory");
        free(git);
    }
}

static void guards_free(struct guards *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].real);
        free(g->v[i].shown);
    }
    free(g->v);
}

/* Refuses a landing that is, is inside or holds a guard, or lies in any .git. */
static int guard_check(const struct workspace *ws, const struct guards *g, size_t t,
                       const char *rel, const char *land, struct err *e)
{
    const char *task = ws->flow->tasks[t].name;
    for (size_t i = 0; i < g->n; i++) {
        const struct guard *d = &g->v[i];
        const char *how = strcmp(land, d->real) == 0 ? "is"
                          : is_below(land, d->real)  ? "is inside"
                          : is_below(d->real, land)  ? "holds"
                                                     : NULL;
        if (how)
            return err_set(e, "%s: task %s: publish path %s %s %s %s: refused", ws->flow->path,
                           task, rel, how, d->what, d->shown);
    }
    const char *git = strstr(land, "/.git");
    while (git && git[5] != '/' && git[5] != 0)
        git = strstr(git + 1, "/.git");
    if (git) {
        char *dir = xstrndup(land, (size_t)(git + 5 - land));
        err_set(e, "%s: task %s: publish path %s %s the git directory %s: refused", ws->flow->path,
                task, rel, git[5] ? "is inside" : "is", dir);
        free(dir);
        return -1;
    }
    return 0;
}

/* Where task t publishes, if it may: inside its publish root once symbolic links are
 * followed, clear of every guard. *land gets where it really writes; both NULL (and a
 * message) when refused. Caller frees both, and *rel. */
static char *checked_destination(struct workspace *ws, const struct guards *g, size_t t, char **rel,
                                 char **land, struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    *rel = NULL;
    *land = NULL;
    char *dest = destination(ws, t, rel, e);
    if (!dest)
        return NULL;
    char *where = landing(dest);
    char *root = realpath(task->publish_root, NULL);
    if (!root)
        root = xstrdup(task->publish_root);
    int rc = 0;
    if (!is_below(where, root))
        rc = err_set(e,
                     "%s: task %s: publish path %s leads outside the %s through a symbolic "
                     "link; refused",
                     ws->flow->path, task->name, *rel,
                     strcmp(task->publish_root, task->dir) ? "publish_root" : "flow's directory");
    if (rc == 0)
        rc = guard_check(ws, g, t, *rel, where, e);
    free(root);
    if (rc) {
        free(where);
        free(dest);
        return NULL;
    }
    *land = where;
    return dest;
}

/* One publishing task, for the overlap check. */
struct target {
    char *land, *rel;
    size_t t;
};

static int cmp_target(const void *a, const void *b)
{
    const struct target *x = a, *y = b;
    int c = strcmp(x->land, y->land);
    return c ? c : (x->t > y->t) - (x->t < y->t);
}

static const struct target *find_target(const struct target *v, size_t n, const char *land)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid].land, land);
        if (c == 0)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* No two tasks publish to one path, nor one inside another's publication. */
static int check_overlaps(const struct workspace *ws, struct target *v, size_t n, struct err *e)
{
    sort_array(v, n, sizeof *v, cmp_target);
    const struct task *tasks = ws->flow->tasks;
    for (size_t i = 0; i + 1 < n; i++)
        if (strcmp(v[i].land, v[i + 1].land) == 0)
            return err_set(e,
                           "%s: tasks %s and %s both publish to %s: refused (give each its "
                           "own path)",
                           ws->flow->path, tasks[v[i].t].name, tasks[v[i + 1].t].name, v[i].rel);
    for (size_t i = 0; i < n; i++) {
        char *up = xstrdup(v[i].land);
        char *slash;
        int rc = 0;
        while (rc == 0 && (slash = strrchr(up, '/')) && slash != up) {
            *slash = 0;
            const struct target *o = find_target(v, n, up);
            if (o)
                rc =
                    err_set(e,
                            "%s: task %s publishes %s inside %s, which task %s publishes: "
                            "refused",
                            ws->flow->path, tasks[v[i].t].name, v[i].rel, o->rel, tasks[o->t].name);
        }
        free(up);
        if (rc)
            return rc;
    }
    return 0;
}

int publish_check(struct workspace *ws, struct err *e)
{
    struct guards g = {0};
    guards_collect(ws, &g);
    struct target *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t t = 0; rc == 0 && t < ws->flow->n_tasks; t++) {
        if (!ws->flow->tasks[t].publish || !ws->keys.in[t].done)
            continue;
        char *rel, *land;
        char *dest = checked_destination(ws, &g, t, &rel, &land, e);
        if (!dest) {
            free(rel);
            rc = -1;
            break;
        }
        free(dest);
        xgrow(&v, &cap, n + 1, sizeof *v);
        v[n++] = (struct target){land, rel, t};
    }
    if (rc == 0)
        rc = check_overlaps(ws, v, n, e);
    for (size_t i = 0; i < n; i++) {
        free(v[i].land);
        free(v[i].rel);
    }
    free(v);
    guards_free(&g);
    return rc;
}

/* --- what is at a publication ------------------------------------------------------------ */

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Calls fn for path and everything below it (never following a symbolic link), in
 * name order, with each entry's path relative to the root ("" for the root). */
static void walk(const char *path, const char *rel,
                 void (*fn)(void *ctx, const char *rel, const struct stat *st), void *ctx)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    fn(ctx, rel, &st);
    if (!S_ISDIR(st.st_mode))
        return;
    struct dirent **names;
    int n = scandir(path, &names, NULL, by_name);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            char *child = path_join(path, name);
            char *crel = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
            walk(child, crel, fn, ctx);
            free(child);
            free(crel);
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
}

static void stamp_entry(void *ctx, const char *rel, const struct stat *st)
{
    struct sb *b = ctx;
    sb_addf(b, "%s %o %llu", rel, (unsigned)st->st_mode, (unsigned long long)st->st_ino);
    if (!S_ISDIR(st->st_mode))
        sb_addf(b, " %lld %lld.%09ld", (long long)st->st_size, (long long)st->st_mtim.tv_sec,
                st->st_mtim.tv_nsec);
    sb_addc(b, '\n');
}

/* A digest of what is at path now: every entry's name, type, mode, inode, size and
 * mtime (stats only). "" when nothing is there. */
static void stamp_of(const char *path, char out[HASH_HEX])
{
    struct sb b = {0};
    walk(path, "", stamp_entry, &b);
    if (b.len)
        hash_bytes(b.buf, b.len, out);
    else
        out[0] = 0;
    free(b.buf);
}

struct foreign {
    struct strv known; /* sorted */
    char *first;       /* the first entry not among them */
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_foreign(void *ctx, const char *rel, const struct stat *st)
{
    (void)st;
    struct foreign *f = ctx;
    if (f->first || !rel[0])
        return;
    if (!bsearch(&rel, f->known.v, f->known.n, sizeof *f->known.v, cmp_str))
        f->first = xstrdup(rel);
}

/* The first entry of the directory dest that the output `digest` (what sluice
 * published there) does not have, or NULL. */
static char *foreign_entry(struct workspace *ws, const char *dest, const char *digest)
{
    char *manifest = cache_manifest_known(ws->db, digest);
    if (!manifest)
        return xstrdup("?"); /* nothing says what was sluice's: none of it is */
    struct foreign f = {0};
    store_manifest_paths(manifest, &f.known);
    strv_sort(&f.known);
    walk(dest, "", find_foreign, &f);
    strv_free(&f.known);
    free(manifest);
    return f.first;
}

/* --- publishing ---------------------------------------------------------------------------- */

/* Whether the flow file `owner` still exists and is not the file `me` (by another
 * name: a symlinked directory, -C through a link). */
static bool other_flow(const char *owner, const char *me)
{
    if (strcmp(owner, me) == 0)
        return false;
    char *a = realpath(owner, NULL), *b = realpath(me, NULL);
    bool other = a && (!b || strcmp(a, b) != 0);
    free(a);
    free(b);
    return other;
}

#define TAKE_OVER "move it away, or run with --publish-overwrite to replace it"

/* Whether the output may replace what is at dest; a message when not. untouched: dest
 * is exactly what sluice left there (its stamp is the recorded one). */
static int may_replace(struct workspace *ws, size_t t, const char *dest, const char *rel,
                       const struct publication *old, bool known, bool untouched,
                       const char *digest, struct err *e)
{
    struct stat st;
    if (known && old->flow && strcmp(old->digest, digest) != 0 &&
        other_flow(old->flow, ws->flow->abspath)) {
        char *shown = path_relative(ws->flow->dir, old->flow);
        err_set(e,
                "publish path %s is published by task %s of %s: refused (two flows must not "
                "publish to one path; --publish-overwrite takes it over)",
                rel, old->task, shown);
        free(shown);
        return -1;
    }
    if (lstat(dest, &st) != 0)
        return 0;
    if (!known)
        return err_set(
            e, "publish path %s exists and sluice did not publish it: refused (" TAKE_OVER ")",
            rel);
    if (!S_ISDIR(st.st_mode) || untouched)
        return 0; /* its own file, maybe edited, or its own directory: published again */
    char *extra = foreign_entry(ws, dest, old->digest);
    if (!extra)
        return 0;
    char *shown = path_relative(ws->flow->tasks[t].dir, dest);
    int rc = strcmp(extra, "?") == 0
                 ? err_set(e,
                           "publish path %s changed since sluice published it, and what it "
                           "published there is no longer recorded: refused (" TAKE_OVER ")",
                           rel)
                 : err_set(e,
                           "publish path %s holds %s/%s, which sluice did not publish: "
                           "refused (" TAKE_OVER ")",
                           rel, shown, extra);
    free(shown);
    free(extra);
    return rc;
}

/* A publication about to be placed is announced first in <store>/publishing/<hash of
 * its path>: "digest\ntask\nflow\nstamp\n" (the stamp of the built tree, which the
 * rename keeps). The run records the publication in its next commit; a kill -9 before
 * that leaves the path holding exactly the announced stamp, which the next run takes
 * as sluice's own. A file, not a row: the run's transaction is not durable yet. */
static char *intent_file(const struct workspace *ws, const char *dest)
{
    char h[HASH_HEX];
    hash_bytes(dest, strlen(dest), h);
    return xasprintf("%s/publishing/%.32s", store_root(ws->store), h);
}

struct intent {
    const struct workspace *ws;
    const char *dest, *digest, *task, *flow;
};

static int record_intent(void *ctx, const char *built, struct err *e)
{
    struct intent *in = ctx;
    char stamp[HASH_HEX];
    stamp_of(built, stamp);
    char *dir = xasprintf("%s/publishing", store_root(in->ws->store));
    int rc = mkdir_p(dir, 0700, e);
    free(dir);
    char *path = intent_file(in->ws, in->dest);
    char *text = xasprintf("%s\n%s\n%s\n%s\n", in->digest, in->task, in->flow, stamp);
    if (rc == 0)
        rc = file_write_atomic(path, text, strlen(text), 0600, e);
    free(text);
    free(path);
    return rc;
}

/* When dest holds exactly what an announced publication meant to leave there (stamp)
 * and the database does not say so (a kill -9 cut it), it is recorded now. */
static int adopt_intent(struct workspace *ws, const char *dest, const char *stamp, struct err *e)
{
    char *path = intent_file(ws, dest);
    char *text = file_read_all(path, NULL, NULL);
    char *f[4] = {0};
    size_t n = 0;
    for (char *p = text; p && n < 4; n++) {
        f[n] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = 0;
    }
    int rc = 0;
    if (n == 4 && stamp[0] && strcmp(f[3], stamp) == 0 && strlen(f[0]) == HASH_HEX - 1) {
        struct publication old;
        bool known = cache_publication(ws->db, dest, &old);
        if (!known || !old.stamp || strcmp(old.stamp, stamp) != 0) {
            struct publication now = {.task = f[1], .flow = f[2], .stamp = f[3]};
            snprintf(now.digest, sizeof now.digest, "%s", f[0]);
            rc = cache_record_publication(ws->db, dest, &now, e);
        }
        if (known)
            publication_free(&old);
    } else if (text) {
        unlink(path); /* what it announced is not there: it never will be */
    }
    free(text);
    free(path);
    return rc;
}

/* Publishes at dest unless what is there is this output as sluice left it. */
static int publish_at(struct workspace *ws, size_t t, const char *digest, bool overwrite,
                      const char *dest, const char *rel, bool *done, struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    *done = false;
    char stamp[HASH_HEX];
    stamp_of(dest, stamp);
    if (adopt_intent(ws, dest, stamp, e))
        return -1;
    struct publication old;
    bool known = cache_publication(ws->db, dest, &old);
    int rc = 0;
    if (known && stamp[0] && strcmp(old.digest, digest) == 0 && old.stamp &&
        strcmp(old.stamp, stamp) == 0) {
        publication_free(&old);
        return 0; /* in place, untouched */
    }
    if (!overwrite &&
        (!known || !old.stamp || strcmp(old.stamp, stamp) != 0 || strcmp(old.digest, digest) != 0))
        rc = may_replace(ws, t, dest, rel, &old, known,
                         known && stamp[0] && old.stamp && strcmp(old.stamp, stamp) == 0, digest,
                         e)
                 ? 1
                 : 0;
    publication_free(&old);
    char *manifest = rc ? NULL : cache_manifest(ws->db, digest);
    if (rc == 0 && !manifest) {
        err_set(e, "output %.12s is not in the store", digest);
        rc = 1;
    }
    size_t n = strlen(task->publish);
    bool as_dir = n > 0 && task->publish[n - 1] == '/';
    struct intent in = {ws, dest, digest, task->name, ws->flow->abspath};
    if (rc == 0)
        rc = store_publish(ws->store, digest, manifest, dest, as_dir, task->publish_link,
                           record_intent, &in, e);
    free(manifest);
    if (rc == 0)
        testhook("publish-placed");
    if (rc == 0) {
        struct publication now = {.task = task->name, .flow = ws->flow->abspath, .stamp = stamp};
        snprintf(now.digest, sizeof now.digest, "%s", digest);
        stamp_of(dest, stamp);
        rc = cache_record_publication(ws->db, dest, &now, e);
        *done = rc == 0;
    }
    return rc;
}

int publish_task(struct workspace *ws, size_t t, const char *digest, bool overwrite, char **where,
                 struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    *where = NULL;
    struct guards g = {0};
    guards_collect(ws, &g);
    char *rel, *land;
    char *path = checked_destination(ws, &g, t, &rel, &land, e);
    guards_free(&g);
    free(path);
    if (!land) {
        free(rel);
        return 1;
    }
    /* The real place, so that one publication has one record whatever path led to it
     * (a symlinked directory, -C through a link). */
    char *dest = land;
    bool done;
    int rc = publish_at(ws, t, digest, overwrite, dest, rel, &done, e);
    free(rel);
    if (done)
        *where = dest;
    else
        free(dest);
    if (rc)
        err_prefix(e, "task %s", task->name);
    return rc;
}

bool publish_in_place(struct workspace *ws, size_t t, const char *digest)
{
    struct guards g = {0};
    guards_collect(ws, &g);
    char *rel, *land;
    struct err ignored;
    free(checked_destination(ws, &g, t, &rel, &land, &ignored));
    guards_free(&g);
    free(rel);
    if (!land)
        return false;
    struct publication old;
    bool known = cache_publication(ws->db, land, &old);
    char stamp[HASH_HEX];
    stamp_of(land, stamp);
    free(land);
    bool same = known && stamp[0] && strcmp(old.digest, digest) == 0 && old.stamp &&
                strcmp(old.stamp, stamp) == 0;
    if (known)
        publication_free(&old);
    return same;
}
