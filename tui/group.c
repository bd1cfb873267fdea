/* group: collapsed matrix tasks' names, states and counts; opening and closing them. */
#include "group.h"

#include "look.h"

/* State words, the worst first: a group shows its worst instance's. */
static const char *const worst_first[] = {
    "failed", "blocked", "cancelled", "running", "fetching", "queued", "invalidated", "stale", "expired",
    "pending", "cutoff", "ran", "hit", "not kept", "cached", "skipped"};
#define N_WORDS (sizeof worst_first / sizeof worst_first[0])
/* The order counts are listed in (as the status bar's). */
static const char *const count_order[] = {
    "running", "fetching", "queued", "cached", "not kept", "ran", "hit", "cutoff", "stale",
    "pending",
    "expired", "invalidated", "failed", "blocked", "cancelled", "skipped"};

static size_t rank(const char *word)
{
    for (size_t k = 0; k < N_WORDS; k++)
        if (strcmp(word, worst_first[k]) == 0)
            return k;
    return N_WORDS;
}

bool group_is(const struct model *m, size_t i)
{
    return i < m->view.n && m->view.nodes[i].first >= 0;
}

static const char *first_name(const struct model *m, size_t i)
{
    return m->ws->flow->tasks[m->view.nodes[i].first].name;
}

static size_t base_len(const struct model *m, size_t i, size_t *inst)
{
    return graphview_matrix_base(first_name(m, i), &m->open_matrix, inst);
}

const char *group_name(const struct model *m, size_t i)
{
    size_t inst;
    char *base = xstrndup(first_name(m, i), base_len(m, i, &inst));
    const char *name = strmap_key(&m->open_matrix, base);
    free(base);
    return name ? name : "?";
}

char *group_label(const struct model *m, size_t i)
{
    return xasprintf("%s %s%zu", group_name(m, i), m->ascii ? "x" : "×",
                     m->view.nodes[i].instances);
}

int group_counts_room(const struct model *m, size_t i)
{
    int digits = 1;
    for (size_t n = m->view.nodes[i].instances; n >= 10; n /= 10)
        digits++;
    return 2 + 3 * (digits + 3); /* ": " and three states' "12 ✓ " */
}

/* Calls each(word, ctx) once per instance of node i with its state: its members' worst
 * (an instance of a matrix sub-flow node has several tasks, one after another). */
static void each_instance(const struct model *m, size_t i,
                          void (*each)(const char *word, size_t task, void *ctx), void *ctx)
{
    const struct graphview *v = &m->view;
    size_t inst, len = base_len(m, i, &inst);
    const char *prev = NULL, *word = NULL;
    size_t prev_len = 0, worst_task = 0;
    for (size_t k = v->member_at[i]; k < v->member_at[i + 1]; k++) {
        size_t t = v->members[k];
        const char *name = m->ws->flow->tasks[t].name;
        size_t il = len + strcspn(name + len, "/");
        if (prev && (il != prev_len || strncmp(prev, name, il) != 0)) {
            each(word, worst_task, ctx);
            word = NULL;
        }
        const char *w = model_task_state(m, t);
        if (!word || rank(w) < rank(word)) {
            word = w;
            worst_task = t;
        }
        prev = name;
        prev_len = il;
    }
    if (word)
        each(word, worst_task, ctx);
}

struct worst {
    const char *word;
    size_t task;
};

static void keep_worst(const char *word, size_t task, void *ctx)
{
    struct worst *w = ctx;
    if (!w->word || rank(word) < rank(w->word))
        *w = (struct worst){word, task};
}

const char *group_state(const struct model *m, size_t i)
{
    struct worst w = {0};
    each_instance(m, i, keep_worst, &w);
    return w.word ? w.word : "pending";
}

size_t group_task(const struct model *m, size_t i)
{
    struct worst w = {NULL, (size_t)m->view.nodes[i].first};
    each_instance(m, i, keep_worst, &w);
    return w.task;
}

static void count_word(const char *word, size_t task, void *ctx)
{
    (void)task;
    size_t *counts = ctx;
    counts[rank(word)]++;
}

void group_counts(const struct model *m, size_t i, int max_w, char *buf, size_t n)
{
    size_t counts[N_WORDS + 1] = {0};
    each_instance(m, i, count_word, counts);
    struct sb b = {0};
    for (size_t k = 0; k < sizeof count_order / sizeof count_order[0]; k++) {
        size_t c = counts[rank(count_order[k])];
        if (!c)
            continue;
        size_t at = b.len;
        sb_addf(&b, "%s%zu %s", at ? " " : "", c, look_glyph(count_order[k], m->ascii));
        if (layout_text_width(b.buf) > max_w) { /* no room: say there is more */
            b.len = at;
            b.buf[at] = 0;
            sb_adds(&b, m->ascii ? " ..." : " …");
            break;
        }
    }
    snprintf(buf, n, "%s", b.buf ? b.buf : "");
    sb_free(&b);
}

int group_defined_in(const struct model *m, size_t i)
{
    const struct flow *f = m->ws->flow;
    size_t inst, len = base_len(m, i, &inst);
    int g = f->tasks[m->view.nodes[i].first].group;
    while (g >= 0 && strlen(f->groups[g].name) > len) /* prep@A is inside matrix prep */
        g = f->groups[g].parent;
    return g;
}

static void relayout_selecting(struct model *m, size_t task)
{
    model_relayout(m);
    model_select_task(m, task);
}

bool group_expand(struct model *m, size_t i)
{
    if (!group_is(m, i))
        return false;
    size_t task = group_task(m, i);
    strmap_put(&m->open_matrix, group_name(m, i), (void *)1);
    relayout_selecting(m, task);
    return true;
}

/* The innermost open matrix task that t is an instance of: its base's length, or 0. */
static size_t open_base(const struct model *m, const char *name)
{
    size_t found = 0;
    for (const char *at = strchr(name, '@'); at; at = strchr(at + 1, '@')) {
        char *base = xstrndup(name, (size_t)(at - name));
        if (strmap_get(&m->open_matrix, base))
            found = (size_t)(at - name);
        free(base);
    }
    return found;
}

const char *group_collapse_around(struct model *m, size_t i)
{
    const struct flow *f = m->ws->flow;
    size_t task = group_is(m, i) ? (size_t)m->view.nodes[i].first : model_task(m, i);
    int g = f->tasks[task].group;
    while (g >= 0 && m->collapsed[g]) /* already one box */
        g = f->groups[g].parent;
    size_t len = open_base(m, f->tasks[task].name);
    if (g >= 0 && strlen(f->groups[g].name) > len) {
        m->collapsed[g] = true;
        relayout_selecting(m, task);
        return f->groups[g].name;
    }
    if (!len)
        return NULL;
    char *base = xstrndup(f->tasks[task].name, len);
    strmap_put(&m->open_matrix, base, NULL);
    const char *name = strmap_key(&m->open_matrix, base);
    free(base);
    relayout_selecting(m, task);
    return name;
}
