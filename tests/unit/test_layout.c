/* Layout: pictures compared with golden text files in tests/golden/ (regenerate one
 * with SLUICE_UPDATE_GOLDEN=1: a golden it rewrites fails the test; look at it before
 * committing and run again without the variable). */
#include <unistd.h>

#include "layout.h"
#include "t.h"
#include "util.h"

/* A graph from "name:dep,dep name ..." (deps must name earlier nodes). */
struct tg {
    size_t n;
    char *names[64];
    size_t *deps[64];
    size_t nd[64];
    int width[64];
};

static void parse(struct tg *g, const char *spec)
{
    memset(g, 0, sizeof *g);
    char *copy = xstrdup(spec), *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(tok, ':');
        if (colon)
            *colon = 0;
        size_t i = g->n++;
        g->names[i] = xstrdup(tok);
        g->width[i] = layout_text_width(tok) + 4;
        g->deps[i] = xcalloc(8, sizeof **g->deps);
        for (char *d = colon ? strtok(colon + 1, ",") : NULL; d; d = strtok(NULL, ","))
            for (size_t j = 0; j < i; j++)
                if (strcmp(g->names[j], d) == 0)
                    g->deps[i][g->nd[i]++] = j;
    }
    free(copy);
}

static void tg_free(struct tg *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->names[i]);
        free(g->deps[i]);
    }
}

static char *picture(const char *spec, enum layout_dir dir, bool ascii)
{
    struct tg g;
    parse(&g, spec);
    struct layout_graph lg = {g.n, g.width, (const size_t *const *)g.deps, g.nd};
    struct layout l;
    layout_compute(&lg, dir, &l);
    char *text = layout_render(&l, (const char *const *)g.names, ascii);
    layout_free(&l);
    tg_free(&g);
    return text;
}

static void check_golden(const char *name, const char *spec, enum layout_dir dir, bool ascii)
{
    char *got = picture(spec, dir, ascii);
    char *again = picture(spec, dir, ascii);
    CHECK_STR(again, got); /* deterministic */
    char *path = xasprintf("%s/tests/golden/%s.txt", getenv("SLUICE_SRC") ? getenv("SLUICE_SRC") : ".",
                           name);
    struct err e;
    char *want = file_read_all(path, NULL, &e);
    if (want && strcmp(want, got) == 0) {
        t_check();
    } else if (getenv("SLUICE_UPDATE_GOLDEN")) {
        /* Still a failure: a run that rewrites goldens proves nothing until it is looked
         * at and run again without the variable. */
        if (file_write_atomic(path, got, strlen(got), 0644, &e))
            t_fail(__FILE__, __LINE__, "%s", e.msg);
        else
            t_fail(__FILE__, __LINE__, "%s differed from %s: updated it (look at it, then "
                                       "run again without SLUICE_UPDATE_GOLDEN); got:\n%s",
                   name, path, got);
    } else {
        t_fail(__FILE__, __LINE__, "%s differs from %s; got:\n%s", name, path, got);
    }
    free(want);
    free(path);
    free(got);
    free(again);
}

TEST(layout_chain)
{
    check_golden("chain", "load features:load train:features report:train", LAYOUT_DOWN, false);
}

TEST(layout_diamond)
{
    check_golden("diamond", "a b:a c:a d:b,c", LAYOUT_DOWN, false);
}

TEST(layout_wide_fan)
{
    check_golden("wide_fan", "src t1:src t2:src t3:src t4:src t5:src sink:t1,t2,t3,t4,t5",
                 LAYOUT_DOWN, false);
}

TEST(layout_long_edges)
{
    check_golden("long_edges", "a b:a c:b d:c e:a,d f:b,e", LAYOUT_DOWN, false);
}

TEST(layout_subflow_collapsed_and_ascii)
{
    check_golden("subflow_ascii", "data >prep(3):data train:>prep(3) eval:>prep(3),train",
                 LAYOUT_DOWN, true);
}

TEST(layout_left_to_right)
{
    check_golden("left_to_right", "load features:load train:features evaluate:features,train "
                                  "report:evaluate",
                 LAYOUT_RIGHT, false);
}

TEST(layout_boxes_do_not_overlap_and_edges_stay_outside_boxes)
{
    struct tg g;
    parse(&g, "a b c:a,b d:a e:c,d f:e,b g:a h:g,f i:h j:i,a k:j l:k,c");
    struct layout_graph lg = {g.n, g.width, (const size_t *const *)g.deps, g.nd};
    for (int dir = 0; dir < 2; dir++) {
        struct layout l;
        layout_compute(&lg, (enum layout_dir)dir, &l);
        for (size_t i = 0; i < g.n; i++) {
            const struct layout_box *a = &l.boxes[i];
            for (size_t j = i + 1; j < g.n; j++) {
                const struct layout_box *b = &l.boxes[j];
                CHECK(a->x + a->w <= b->x || b->x + b->w <= a->x || a->y + a->h <= b->y ||
                      b->y + b->h <= a->y);
            }
            for (int y = a->y; y < a->y + a->h; y++)
                for (int x = a->x; x < a->x + a->w; x++)
                    CHECK(l.cells[(size_t)y * (size_t)l.width + (size_t)x] == 0);
            for (size_t k = 0; k < g.nd[i]; k++)
                CHECK(l.layer[g.deps[i][k]] < l.layer[i]);
        }
        layout_free(&l);
    }
    tg_free(&g);
}

/* From every box, the four screen directions reach every other box (a 300-node random
 * DAG with long edges and fans, in both directions), and each step goes the way its key
 * says on screen. */
static void check_reachable(size_t n, enum layout_dir dir)
{
    size_t **deps = xcalloc(n, sizeof *deps), *nd = xcalloc(n, sizeof *nd);
    int *width = xcalloc(n, sizeof *width);
    unsigned seed = 17;
    for (size_t i = 0; i < n; i++) {
        deps[i] = xcalloc(3, sizeof **deps);
        width[i] = 8 + (int)(i % 7) * 2;
        for (int k = 0; k < 3 && i > 0; k++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 3 == 0 && k > 0)
                continue;
            size_t d = (seed >> 8) % i;
            bool dup = false;
            for (size_t j = 0; j < nd[i]; j++)
                dup |= deps[i][j] == d;
            if (!dup)
                deps[i][nd[i]++] = d;
        }
    }
    struct layout_graph lg = {n, width, (const size_t *const *)deps, nd};
    struct layout l;
    REQUIRE(layout_compute(&lg, dir, &l) == 0);
    static const int dxy[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    size_t *queue = xcalloc(n, sizeof *queue), bad = 0, wrong_way = 0;
    char *seen = xcalloc(n, 1);
    for (size_t from = 0; from < n; from++) {
        memset(seen, 0, n);
        size_t head = 0, tail = 0;
        queue[tail++] = from;
        seen[from] = 1;
        while (head < tail) {
            size_t s = queue[head++];
            for (int k = 0; k < 4; k++) {
                long t = layout_step(&l, s, dxy[k][0], dxy[k][1]);
                if (t < 0)
                    continue;
                const struct layout_box *a = &l.boxes[s], *b = &l.boxes[t];
                long along = dxy[k][0] ? (2L * b->x + b->w) - (2L * a->x + a->w)
                                       : (2L * b->y + b->h) - (2L * a->y + a->h);
                if (along * (dxy[k][0] + dxy[k][1]) <= 0)
                    wrong_way++;
                if (!seen[t]) {
                    seen[t] = 1;
                    queue[tail++] = (size_t)t;
                }
            }
        }
        if (tail != n)
            bad++;
    }
    CHECK(bad == 0);
    CHECK(wrong_way == 0);
    layout_free(&l);
    for (size_t i = 0; i < n; i++)
        free(deps[i]);
    free(deps);
    free(nd);
    free(width);
    free(queue);
    free(seen);
}

TEST(layout_step_reaches_every_box_top_down)
{
    check_reachable(300, LAYOUT_DOWN);
}

TEST(layout_step_reaches_every_box_left_to_right)
{
    check_reachable(300, LAYOUT_RIGHT);
}
