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

/* Marks the focus tasks and their ancestors (up) or descendants (down). */
static void reach(const struct flow *f, const size_t *focus, size_t n, bool *keep)
{
    bool *above = flow_closure(f, focus, n, false), *below = flow_closure(f, focus, n, true);
    for (size_t i = 0; i < f->n_tasks; i++)
        keep[i] = above[i] || below[i];
    free(above);
    free(below);
}

void graphview_build(const struct flow *f, const bool *collapsed, long focus,
                     struct graphview *out)
{
    size_t t = focus >= 0 ? (size_t)focus : 0;
    graphview_build_matrix(f, collapsed, false, NULL, &t, focus >= 0, out);
}

size_t graphview_matrix_base(const char *name, const struct strmap *open, size_t *inst)
{
    /* No task name has an '@' of its own: each one is where a matrix's values start. */
    for (const char *at = strchr(name, '@'); at; at = strchr(at + 1, '@')) {
        size_t len = (size_t)(at - name);
        char *base = xstrndup(name, len);
        bool is_open = open && strmap_get(open, base);
        free(base);
        if (!is_open) {
            *inst = len + strcspn(at, "/");
            return len;
        }
    }
    return 0;
}

/* The node of t's matrix task when it has one already (counting t's instance in), else
 * -1 after noting that the node about to be made (out->n) is it; -2: t is not grouped
 * as a matrix instance. A collapsed sub-flow g around the matrix wins. */
static long matrix_node(struct strmap *bases, const struct flow *f, int g, size_t t,
                        const struct strmap *open, struct graphview *out, size_t *last)
{
    const char *name = f->tasks[t].name;
    size_t inst, len = graphview_matrix_base(name, open, &inst);
    if (!len || (g >= 0 && strlen(f->groups[g].name) < len))
        return -2;
    char *base = xstrndup(name, len);
    void *v = strmap_get(bases, base);
    if (!v)
        strmap_put(bases, base, (void *)(uintptr_t)(out->n + 1));
    free(base);
    if (!v)
        return -1;
    long n = (long)((uintptr_t)v - 1);
    const char *prev = f->tasks[last[n]].name;
    if (strncmp(prev, name, inst) != 0 || (prev[inst] != 0 && prev[inst] != '/'))
        out->nodes[n].instances++;
    last[n] = t;
    return n;
}

static void add_edges(const struct flow *f, struct graphview *out)
{
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
}

/* members, node by node (a counting sort of the shown tasks by node). */
static void add_members(const struct flow *f, struct graphview *out)
{
    out->member_at = xcalloc(out->n + 2, sizeof *out->member_at);
    out->members = xcalloc(f->n_tasks + 1, sizeof *out->members);
    for (size_t t = 0; t < f->n_tasks; t++)
        if (out->of_task[t] >= 0)
            out->member_at[out->of_task[t] + 1]++;
    for (size_t i = 0; i < out->n; i++)
        out->member_at[i + 1] += out->member_at[i];
    size_t *fill = xcalloc(out->n + 1, sizeof *fill);
    for (size_t t = 0; t < f->n_tasks; t++) {
        long v = out->of_task[t];
        if (v >= 0)
            out->members[out->member_at[v] + fill[v]++] = t;
    }
    free(fill);
}

void graphview_build_matrix(const struct flow *f, const bool *collapsed, bool collapse_matrix,
                            const struct strmap *open, const size_t *focus, size_t n_focus,
                            struct graphview *out)
{
    struct strmap bases = {0};
    memset(out, 0, sizeof *out);
    bool *keep = xcalloc(f->n_tasks, sizeof *keep);
    if (n_focus)
        reach(f, focus, n_focus, keep);
    else
        for (size_t i = 0; i < f->n_tasks; i++)
            keep[i] = true;
    out->of_task = xcalloc(f->n_tasks + 1, sizeof *out->of_task);
    out->nodes = xcalloc(f->n_tasks + 1, sizeof *out->nodes);
    size_t *last = xcalloc(f->n_tasks + 1, sizeof *last); /* per matrix node: its last task */
    long *of_group = xcalloc(f->n_groups + 1, sizeof *of_group);
    for (size_t g = 0; g < f->n_groups; g++)
        of_group[g] = -1;
    for (size_t t = 0; t < f->n_tasks; t++) {
        out->of_task[t] = -1;
        if (!keep[t])
            continue;
        int g = collapsed_group(f, collapsed, t);
        long mn = collapse_matrix ? matrix_node(&bases, f, g, t, open, out, last) : -2;
        if (mn == -2 && g >= 0 && of_group[g] >= 0)
            mn = of_group[g];
        if (mn >= 0) {
            out->of_task[t] = mn;
            out->nodes[mn].members++;
            continue;
        }
        if (mn == -1) {
            out->nodes[out->n] = (struct view_node){-1, -1, 1, (long)t, 1};
            last[out->n] = t;
        } else {
            out->nodes[out->n] = (struct view_node){g >= 0 ? -1 : (long)t, g, 1, -1, 0};
            if (g >= 0)
                of_group[g] = (long)out->n;
        }
        out->of_task[t] = (long)out->n++;
    }
    add_edges(f, out);
    add_members(f, out);
    free(last);
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
    free(v->member_at);
    free(v->members);
    memset(v, 0, sizeof *v);
}
