/* executors: loading, checking and polling the executors of one run. */
#include "executors.h"

static long find(const struct executors *xs, const char *name)
{
    for (size_t i = 0; i < xs->n; i++)
        if (strcmp(xs->v[i].name, name) == 0)
            return (long)i;
    return -1;
}

static long load(struct executors *xs, const struct strv *dirs, const struct task *t,
                 struct err *e)
{
    long i = find(xs, t->executor);
    if (i >= 0)
        return i;
    struct plugin p;
    if (plugin_load(t->executor, dirs, &p, e))
        return err_prefix(e, "%s: task %s", t->path, t->local);
    xs->v = xrealloc(xs->v, (xs->n + 1) * sizeof *xs->v);
    xs->v[xs->n] = (struct executor){.name = t->executor, .plugin = p};
    return (long)xs->n++;
}

int executors_open(struct executors *xs, const struct flow *f, const bool *use, int *of,
                   struct err *e)
{
    memset(xs, 0, sizeof *xs);
    struct strv dirs = {0};
    plugin_dirs(&dirs);
    int rc = 0;
    for (size_t t = 0; t < f->n_tasks && rc == 0; t++) {
        of[t] = -1;
        if (!use[t])
            continue;
        const struct task *task = &f->tasks[t];
        long i = load(xs, &dirs, task, e);
        if (i < 0) {
            rc = -1;
            break;
        }
        of[t] = (int)i;
        char msg[1024] = "";
        if (xs->v[i].plugin.ops->check(task->exec_options, msg, sizeof msg) != 0)
            rc = err_set(e, "%s: task %s: \"%s\": %s", task->path, task->local, task->executor,
                         msg);
    }
    strv_free(&dirs);
    return rc;
}

int executors_start(struct executors *xs, const struct flow *f, struct err *e)
{
    for (size_t i = 0; i < xs->n; i++) {
        struct executor *x = &xs->v[i];
        const char *defaults = NULL;
        for (size_t k = 0; k < f->n_exec_defaults; k++)
            if (strcmp(f->exec_defaults[k].key, x->name) == 0)
                defaults = f->exec_defaults[k].value;
        char msg[1024] = "";
        x->ctx = x->plugin.ops->init(defaults, msg, sizeof msg);
        if (!x->ctx)
            return err_set(e, "executor \"%s\" (%s): %s", x->name, x->plugin.path, msg);
    }
    return 0;
}

int executors_poll(struct executors *xs, int timeout_ms, struct exec_report *out, int max)
{
    size_t busy = 0;
    for (size_t i = 0; i < xs->n; i++)
        busy += xs->v[i].busy > 0;
    int slice = busy > 1 ? timeout_ms / (int)busy : timeout_ms;
    int n = 0;
    for (size_t i = 0; i < xs->n && n < max; i++) {
        struct executor *x = &xs->v[i];
        if (x->busy == 0)
            continue;
        /* Once something came in, the others are only asked what they already have. */
        int got = x->plugin.ops->poll(x->ctx, n ? 0 : slice, out + n, max - n);
        if (got > 0)
            n += got;
    }
    return n;
}

void executors_close(struct executors *xs)
{
    for (size_t i = 0; i < xs->n; i++) {
        if (xs->v[i].ctx)
            xs->v[i].plugin.ops->shutdown(xs->v[i].ctx);
        plugin_close(&xs->v[i].plugin);
    }
    free(xs->v);
    memset(xs, 0, sizeof *xs);
}
