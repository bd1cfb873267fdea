/* watch: inotify, or stat polling. */
#include "watch.h"

#include <errno.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

static char *signature(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return xstrdup("-");
    return xasprintf("%lld:%lld:%ld:%llu", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
}

static void add_file(struct watch *w, const char *dir, const char *rel)
{
    char *joined = path_join(dir, rel);
    char *abs = path_normalize(joined, false);
    free(joined);
    if (!abs || strmap_key(&w->files, abs)) {
        free(abs);
        return;
    }
    strmap_put(&w->files, abs, w->fd < 0 ? signature(abs) : NULL);
    if (w->fd >= 0) {
        char *d = xstrdup(abs);
        *strrchr(d, '/') = 0;
        int wd = inotify_add_watch(w->fd, d[0] ? d : "/",
                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                       IN_ATTRIB | IN_MOVED_FROM);
        if (wd >= 0) {
            char key[32];
            snprintf(key, sizeof key, "%d", wd);
            free(strmap_put(&w->dirs, key, xstrdup(d)));
        }
        free(d);
    }
    free(abs);
}

void watch_init(struct watch *w, const char *flow_path, const struct workspace *ws)
{
    memset(w, 0, sizeof *w);
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    char *cwd = getcwd(NULL, 0);
    add_file(w, cwd ? cwd : ".", flow_path);
    free(cwd);
    if (!ws)
        return;
    const struct flow *f = ws->flow;
    add_file(w, "/", f->abspath);
    for (size_t g = 0; g < f->n_groups; g++)
        add_file(w, "/", f->groups[g].path);
    for (size_t t = 0; t < f->n_tasks; t++) {
        const struct task *task = &f->tasks[t];
        for (size_t j = 0; j < task->code.n; j++)
            add_file(w, task->dir, task->code.v[j]);
        for (size_t j = 0; j < task->files.n; j++)
            add_file(w, task->dir, task->files.v[j]);
    }
}

int watch_fd(const struct watch *w)
{
    return w->fd;
}

static bool poll_stats(struct watch *w)
{
    double now = now_mono();
    if (now < w->next_poll)
        return false;
    w->next_poll = now + 1.0;
    bool changed = false;
    for (size_t i = 0; i < w->files.cap; i++) {
        if (!w->files.keys[i])
            continue;
        char *sig = signature(w->files.keys[i]);
        if (strcmp(sig, w->files.vals[i]) != 0) {
            free(w->files.vals[i]);
            w->files.vals[i] = sig;
            changed = true;
        } else {
            free(sig);
        }
    }
    return changed;
}

bool watch_changed(struct watch *w)
{
    if (w->fd < 0)
        return poll_stats(w);
    bool changed = false;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            char key[32];
            snprintf(key, sizeof key, "%d", ev->wd);
            const char *dir = strmap_get(&w->dirs, key);
            if (dir && ev->len) {
                char *path = path_join(dir, ev->name);
                changed = changed || strmap_key(&w->files, path) != NULL;
                free(path);
            }
            p += sizeof *ev + ev->len;
        }
    }
    return changed;
}

void watch_free(struct watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    strmap_free(&w->files, free);
    strmap_free(&w->dirs, free);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}
