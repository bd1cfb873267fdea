/* publish: output -> user-chosen path. */
#include "publish.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "cache.h"
#include "template.h"

/* The absolute path the template names for task t; *rel gets it as written. */
static char *destination(const struct workspace *ws, size_t t, char **rel, struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    struct template_vars v = {.task = task->local, .flow = task->flow_name,
                              .key = ws->keys.in[t].deep, .strict = true};
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

/* The load-time check of the template is lexical; a symlinked directory on the way
 * could still lead out of the publish root. dest itself may be a symlink: publishing
 * replaces it, so only its directory counts. */
static bool lands_inside(const struct task *task, const char *dest)
{
    char *dir = xstrdup(dest);
    *strrchr(dir, '/') = 0;
    char *where = resolve_existing(dir[0] ? dir : "/");
    char *root = realpath(task->publish_root, NULL);
    if (!root)
        root = xstrdup(task->publish_root);
    size_t rl = strlen(root);
    bool inside = strncmp(where, root, rl) == 0 && (where[rl] == '/' || where[rl] == 0 ||
                                                     (rl == 1 && root[0] == '/'));
    free(root);
    free(where);
    free(dir);
    return inside;
}

/* Where task t publishes, if that is inside its publish root once symbolic links
 * are followed; else NULL and a message. Caller frees. */
static char *checked_destination(struct workspace *ws, size_t t, struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    char *rel = NULL;
    char *dest = destination(ws, t, &rel, e);
    if (dest && !lands_inside(task, dest)) {
        err_set(e, "%s: task %s: publish path %s leads outside the %s through a symbolic "
                   "link; refused",
                ws->flow->path, task->name, rel,
                strcmp(task->publish_root, task->dir) ? "publish_root" : "flow's directory");
        free(dest);
        dest = NULL;
    }
    free(rel);
    return dest;
}

int publish_check(struct workspace *ws, size_t t, struct err *e)
{
    char *dest = checked_destination(ws, t, e);
    free(dest);
    return dest ? 0 : -1;
}

int publish_task(struct workspace *ws, size_t t, const char *digest, char **where,
                 struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    *where = NULL;
    char *dest = checked_destination(ws, t, e);
    if (!dest)
        return 1;
    char last[HASH_HEX];
    cache_publication(ws->db, dest, last);
    struct stat st;
    if (strcmp(last, digest) == 0 && lstat(dest, &st) == 0) {
        free(dest);
        return 0;
    }
    char *manifest = cache_manifest(ws->db, digest);
    size_t n = strlen(task->publish);
    bool as_dir = n > 0 && task->publish[n - 1] == '/';
    int rc = manifest ? store_publish(ws->store, digest, manifest, dest, as_dir, e)
                      : err_set(e, "output %.12s is not in the store", digest);
    if (rc == 0)
        rc = cache_record_publication(ws->db, dest, digest, task->name, e);
    free(manifest);
    if (rc == 0)
        *where = dest;
    else
        free(dest);
    if (rc)
        err_prefix(e, "task %s", task->name);
    return rc;
}
