/* publish: output -> user-chosen path. */
#include "publish.h"

#include <sys/stat.h>

#include "cache.h"
#include "template.h"

static char *destination(const struct workspace *ws, size_t t, struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    struct template_vars v = {.task = task->local, .flow = task->flow_name,
                              .key = ws->keys.in[t].deep, .strict = true};
    char *rel;
    if (template_expand(task->publish, &v, &rel, e))
        return NULL;
    char *joined = path_join(task->dir, rel);
    char *dest = path_normalize(joined, false);
    free(joined);
    free(rel);
    if (!dest)
        err_set(e, "task %s: publish path leaves the file system", task->name);
    return dest;
}

int publish_task(struct workspace *ws, size_t t, const char *digest, char **where,
                 struct err *e)
{
    const struct task *task = &ws->flow->tasks[t];
    *where = NULL;
    char *dest = destination(ws, t, e);
    if (!dest)
        return -1;
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
    return rc ? err_prefix(e, "task %s", task->name) : 0;
}
