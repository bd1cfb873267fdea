/* graphview: tasks -> nodes, edges -> merged edges. */
#include "graphview.h"

#include <stdint.h>
#include <string.h>

#include "strmap.h"

/* The outermost collapsed sub-flow containing task t, or -1. */
static int collapsed_group(const struct flow *f, const bool *collapsed, size_t t)
{
    int found = -1;
    for (int g = f->tasks[t].group; g >= 0 && collapsed; g = f->groups[g].parent)
        if (collapsed[g])
            found = g;
    return found;
}

/* Marks t and its ancestors (up) or descendants (down). */
static void reach(const struct flow *f, size_t focus, bool *keep)
{
    keep[focus] = true;
    bool *above = xcalloc(f->n_tasks, sizeof *above), *below = xcalloc(f->n_tasks, sizeof *below);
    above[focus] = below[focus] = true;
    for (size_t k = f->n_tasks; k-- > 0;) { /* downstream first: ancestors */
        size_t i = f->order[k];
        for (size_t j = 0; above[i] && j < f->tasks[i].n_deps; j++)
            above[f->tasks[i].deps[j]] = true;
    }
    for (size_t k = 0; k < f->n_tasks; k++) { /* upstream first: descendants */
        size_t i = f->order[k];
        for (size_t j = 0; !below[i] && j < f->tasks[i].n_deps; j++)
            below[i] = below[f->tasks[i].deps[j]];
    }
    for (size_t i = 0; i < f->n_tasks; i++)
        keep[i] = above[i] || below[i];
    free(above);
    free(below);
}

void graphview_build(const struct flow *f, const bool *collapsed, long focus,
                     struct graphview *out)
{
    graphview_build_matrix(f, collapsed, false, focus, out);
}

/* The node of t when it is a matrix instance (a '@' in its name: no task name has one)
 * and its base already has one; else -1 after noting the node it is about to get. */
static long matrix_node(struct strmap *bases, const struct task *t, size_t next)
{
    const char *at = strchr(t->local, '@');
    if (!at)
        return -2;
    char *base = xstrndup(t->name, (size_t)(at - t->name));
    void *v = strmap_get(bases, base);
    if (!v)
        strmap_put(bases, base, (void *)(uintptr_t)(next + 1));
    free(base);
    return v ? (long)((uintptr_t)v - 1) : -1;
}

void graphview_build_matrix(const struct flow *f, const bool *collapsed, bool collapse_matrix,
                            long focus, struct graphview *out)
{
    struct strmap bases = {0};
    memset(out, 0, sizeof *out);
    bool *keep = xcalloc(f->n_tasks, sizeof *keep);
    if (focus >= 0)
        reach(f, (size_t)focus, keep);
    else
        for (size_t i = 0; i < f->n_tasks; i++)
            keep[i] = true;
    out->of_task = xcalloc(f->n_tasks + 1, sizeof *out->of_task);
    out->nodes = xcalloc(f->n_tasks + 1, sizeof *out->nodes);
    long *of_group = xcalloc(f->n_groups + 1, sizeof *of_group);
    for (size_t g = 0; g < f->n_groups; g++)
        of_group[g] = -1;
    for (size_t t = 0; t < f->n_tasks; t++) {
        out->of_task[t] = -1;
        if (!keep[t])
            continue;
        int g = collapsed_group(f, collapsed, t);
        if (g >= 0 && of_group[g] >= 0) {
            out->of_task[t] = of_group[g];
            out->nodes[of_group[g]].members++;
            continue;
        }
        long mn = g < 0 && collapse_matrix ? matrix_node(&bases, &f->tasks[t], out->n) : -2;
        if (mn >= 0) {
            out->of_task[t] = mn;
            out->nodes[mn].members++;
            continue;
        }
        out->nodes[out->n] = (struct view_node){g >= 0 || mn == -1 ? -1 : (long)t, g, 1, -1};
        if (mn == -1)
            out->nodes[out->n].first = (long)t;
        if (g >= 0)
            of_group[g] = (long)out->n;
        out->of_task[t] = (long)out->n++;
    }
    out->deps = xcalloc(out->n + 1, sizeof *out->deps);
    out->n_deps = xcalloc(out->n + 1, sizeof *out->n_deps);
    size_t *cap = xcalloc(out->n + 1, sizeof *cap);
    for (size_t t = 0; t < f->n_tasks; t++) {
        long to = out->of_task[t];
        for (size_t j = 0; to >= 0 && j < f->tasks[t].n_deps; j++) {
            long from = out->of_task[f->tasks[t].deps[j]];
            bool dup = from < 0 || from == to;
            for (size_t k = 0; !dup && k < out->n_deps[to]; k++)
                dup = out->deps[to][k] == (size_t)from;
            if (dup)
                continue;
            xgrow(&out->deps[to], &cap[to], out->n_deps[to] + 1, sizeof **out->deps);
            out->deps[to][out->n_deps[to]++] = (size_t)from;
        }
    }
    free(cap);
    free(of_group);
    free(keep);
    strmap_free(&bases, NULL);
}

void graphview_free(struct graphview *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->deps[i]);
    free(v->deps);
    free(v->n_deps);
    free(v->nodes);
    free(v->of_task);
    memset(v, 0, sizeof *v);
}
