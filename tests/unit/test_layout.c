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

/* --- each edge's own route ---------------------------------------------------------------- */

static char *marked_picture(const char *spec, enum layout_dir dir, const char *node)
{
    struct tg g;
    parse(&g, spec);
    struct layout_graph lg = {g.n, g.width, (const size_t *const *)g.deps, g.nd};
    struct layout l;
    layout_compute(&lg, dir, &l);
    long mark = -1;
    for (size_t i = 0; i < g.n; i++)
        if (strcmp(g.names[i], node) == 0)
            mark = (long)i;
    char *text = layout_render_marked(&l, (const char *const *)g.names, true, mark);
    layout_free(&l);
    tg_free(&g);
    return text;
}

/* The middle task's edges: in from greet on the left, out to count; greet -> count on
 * the right shares greet's stem and count's arrowhead with them, and is not marked. */
TEST(layout_marks_one_nodes_edges_top_down)
{
    char *got = marked_picture("greet shout:greet count:greet,shout", LAYOUT_DOWN, "shout");
    CHECK_STR(got, "    +-------+\n"
                   "    | greet |\n"
                   "    +---+---+\n"
                   "    *****--+\n"
                   "    *      |\n"
                   "+-------+  |\n"
                   "| shout |  |\n"
                   "+---+---+  |\n"
                   "    *****--+\n"
                   "        *\n"
                   "    +-------+\n"
                   "    | count |\n"
                   "    +-------+\n");
    free(got);
}

TEST(layout_marks_one_nodes_edges_left_to_right)
{
    char *got = marked_picture("greet shout:greet count:greet,shout", LAYOUT_RIGHT, "greet");
    char *plain = picture("greet shout:greet count:greet,shout", LAYOUT_RIGHT, true);
    /* every edge is greet's but shout -> count: all edge cells but that one's are marked */
    CHECK(strchr(got, '*') != NULL);
    CHECK(strlen(got) == strlen(plain));
    size_t stars = 0;
    for (const char *p = got; *p; p++)
        stars += *p == '*';
    CHECK(stars > 4);
    free(got);
    free(plain);
}

/* Every route runs on edge cells, in straight pieces, from the cell beside its upstream
 * box to the arrowhead beside its downstream box; a node's in- and out-edges are its. */
static void check_routes(size_t *bad_piece, size_t *bad_cell, size_t *bad_end, struct layout *l,
                         const struct tg *g)
{
    for (size_t e = 0; e < l->n_edges; e++) {
        const struct layout_edge *ed = &l->edges[e];
        for (size_t k = 1; k < ed->n; k++) {
            struct layout_point p = l->points[ed->first + k - 1], q = l->points[ed->first + k];
            *bad_piece += p.x != q.x && p.y != q.y;
        }
        struct layout_point a = l->points[ed->first], z = l->points[ed->first + ed->n - 1];
        const struct layout_box *from = &l->boxes[ed->from], *to = &l->boxes[ed->to];
        bool down = l->dir == LAYOUT_DOWN;
        *bad_end += down ? a.y != from->y + from->h || a.x < from->x || a.x >= from->x + from->w
                         : a.x != from->x + from->w || a.y < from->y || a.y >= from->y + from->h;
        *bad_end += down ? z.y != to->y - 1 : z.x != to->x - 1;
        *bad_end += !(l->cells[(size_t)z.y * (size_t)l->width + (size_t)z.x] & LINE_ARROW);
        for (size_t k = 0; k < ed->n; k++) {
            struct layout_point p = l->points[ed->first + k];
            *bad_cell += l->cells[(size_t)p.y * (size_t)l->width + (size_t)p.x] == 0;
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        CHECK(l->in_at[i + 1] - l->in_at[i] == g->nd[i]);
        for (size_t k = l->in_at[i]; k < l->in_at[i + 1]; k++)
            CHECK(l->edges[k].to == i);
        for (size_t k = l->out_at[i]; k < l->out_at[i + 1]; k++)
            CHECK(l->edges[l->out[k]].from == i);
    }
    CHECK(l->out_at[g->n] == l->n_edges);
}

static void count_cell(void *ctx, int x, int y, uint8_t mask)
{
    size_t *c = ctx;
    (void)x, (void)y;
    c[0]++;
    c[1] += mask == 0;
}

TEST(layout_every_edge_has_its_own_route)
{
    struct tg g;
    parse(&g, "a b c:a,b d:a e:c,d f:e,b g:a h:g,f i:h j:i,a k:j l:k,c");
    struct layout_graph lg = {g.n, g.width, (const size_t *const *)g.deps, g.nd};
    for (int dir = 0; dir < 2; dir++) {
        struct layout l;
        layout_compute(&lg, (enum layout_dir)dir, &l);
        size_t piece = 0, cell = 0, end = 0;
        check_routes(&piece, &cell, &end, &l, &g);
        CHECK(piece == 0);
        CHECK(cell == 0);
        CHECK(end == 0);
        size_t c[2] = {0, 0};
        layout_node_edge_cells(&l, 0, count_cell, c); /* a: to c, d, g, j */
        CHECK(c[0] > 8);
        CHECK(c[1] == 0);
        layout_free(&l);
    }
    tg_free(&g);
}
