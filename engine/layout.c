/* layout: layering, crossing reduction, coordinates and edge routing.
 *
 * Everything is computed in an abstract space: the layer axis v (down in a top-down
 * picture, right in a left-to-right one) and the order axis u across it; only at the
 * end are cells transposed into screen x/y. */
#include "layout.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SWEEPS 24
#define PLACE_PASSES 8

/* Abstract direction bits, mapped to LINE_* at the end. */
enum { V_PLUS = 1, V_MINUS = 2, U_PLUS = 4, U_MINUS = 8, ARROW = 16 };

struct vnode {
    int layer;
    int size;  /* extent along u */
    int thick; /* extent along v */
    long real; /* index of the node, or -1 for a dummy */
    int pos;   /* index in its layer */
    int u;     /* start along u */
    double key;
};

struct seg {
    size_t up, down;
    int track; /* -1: straight */
    int np;    /* its route, once routed: np points (v[k], u[k]) */
    int v[4], u[4];
};

struct lay {
    const struct layout_graph *g;
    enum layout_dir dir;
    struct vnode *v;
    size_t nv, cap_v;
    struct seg *s;
    size_t ns, cap_s;
    size_t n_edges;   /* of the graph */
    size_t *edge_seg; /* per edge of the graph (in node order): its first seg; then ns */
    int n_layers;
    size_t **layer;   /* per layer: vnodes in order */
    size_t *layer_n;  /* per layer: how many */
    size_t *up_off, *up, *down_off, *down; /* neighbours (CSR) */
    int *V, *thick, *channel;              /* per layer: start along v, band, channel after */
};

/* --- layers and dummies ------------------------------------------------------------------- */

static void assign_layers(struct lay *L, int *layer)
{
    const struct layout_graph *g = L->g;
    size_t *indeg = xcalloc(g->n + 1, sizeof *indeg);
    size_t *down_n = xcalloc(g->n + 1, sizeof *down_n);
    for (size_t i = 0; i < g->n; i++) {
        indeg[i] = g->n_deps[i];
        for (size_t k = 0; k < g->n_deps[i]; k++)
            down_n[g->deps[i][k]]++;
    }
    size_t *off = xcalloc(g->n + 1, sizeof *off);
    for (size_t i = 0; i < g->n; i++)
        off[i + 1] = off[i] + down_n[i];
    size_t *down = xcalloc(off[g->n] + 1, sizeof *down), *fill = xcalloc(g->n + 1, sizeof *fill);
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < g->n_deps[i]; k++) {
            size_t d = g->deps[i][k];
            down[off[d] + fill[d]++] = i;
        }
    size_t *queue = xcalloc(g->n + 1, sizeof *queue), head = 0, tail = 0;
    for (size_t i = 0; i < g->n; i++)
        if (indeg[i] == 0)
            queue[tail++] = i;
    while (head < tail) {
        size_t i = queue[head++];
        for (size_t k = off[i]; k < off[i + 1]; k++) {
            size_t j = down[k];
            if (layer[j] < layer[i] + 1)
                layer[j] = layer[i] + 1;
            if (--indeg[j] == 0)
                queue[tail++] = j;
        }
    }
    free(indeg);
    free(down_n);
    free(off);
    free(down);
    free(fill);
    free(queue);
}

static size_t add_vnode(struct lay *L, int layer, int size, int thick, long real)
{
    xgrow(&L->v, &L->cap_v, L->nv + 1, sizeof *L->v);
    L->v[L->nv] = (struct vnode){.layer = layer, .size = size, .thick = thick, .real = real};
    if (layer + 1 > L->n_layers)
        L->n_layers = layer + 1;
    return L->nv++;
}

static void add_seg(struct lay *L, size_t up, size_t down)
{
    xgrow(&L->s, &L->cap_s, L->ns + 1, sizeof *L->s);
    L->s[L->ns++] = (struct seg){up, down, -1, 0, {0}, {0}};
}

static void build_vnodes(struct lay *L, const int *layer)
{
    const struct layout_graph *g = L->g;
    bool down = L->dir == LAYOUT_DOWN;
    for (size_t i = 0; i < g->n; i++)
        add_vnode(L, layer[i], down ? g->width[i] : 3, down ? 3 : g->width[i], (long)i);
    L->n_edges = 0;
    for (size_t i = 0; i < g->n; i++)
        L->n_edges += g->n_deps[i];
    L->edge_seg = xcalloc(L->n_edges + 1, sizeof *L->edge_seg);
    size_t edges = 0;
    for (size_t i = 0; i < g->n; i++) {
        for (size_t k = 0; k < g->n_deps[i]; k++) {
            size_t prev = g->deps[i][k];
            L->edge_seg[edges++] = L->ns;
            for (int l = layer[prev] + 1; l < layer[i]; l++) {
                size_t d = add_vnode(L, l, 1, 1, -1);
                add_seg(L, prev, d);
                prev = d;
            }
            add_seg(L, prev, i);
        }
    }
    L->edge_seg[edges] = L->ns;
}

static void build_neighbours(struct lay *L)
{
    L->up_off = xcalloc(L->nv + 1, sizeof *L->up_off);
    L->down_off = xcalloc(L->nv + 1, sizeof *L->down_off);
    for (size_t i = 0; i < L->ns; i++) {
        L->up_off[L->s[i].down + 1]++;
        L->down_off[L->s[i].up + 1]++;
    }
    for (size_t i = 0; i < L->nv; i++) {
        L->up_off[i + 1] += L->up_off[i];
        L->down_off[i + 1] += L->down_off[i];
    }
    L->up = xcalloc(L->ns + 1, sizeof *L->up);
    L->down = xcalloc(L->ns + 1, sizeof *L->down);
    size_t *fu = xcalloc(L->nv + 1, sizeof *fu), *fd = xcalloc(L->nv + 1, sizeof *fd);
    for (size_t i = 0; i < L->ns; i++) {
        size_t a = L->s[i].up, b = L->s[i].down;
        L->up[L->up_off[b] + fu[b]++] = a;
        L->down[L->down_off[a] + fd[a]++] = b;
    }
    free(fu);
    free(fd);
}

static void build_layers(struct lay *L)
{
    L->layer_n = xcalloc((size_t)L->n_layers + 1, sizeof *L->layer_n);
    L->layer = xcalloc((size_t)L->n_layers + 1, sizeof *L->layer);
    for (size_t i = 0; i < L->nv; i++)
        L->layer_n[L->v[i].layer]++;
    for (int l = 0; l < L->n_layers; l++)
        L->layer[l] = xcalloc(L->layer_n[l] + 1, sizeof **L->layer);
    size_t *fill = xcalloc((size_t)L->n_layers + 1, sizeof *fill);
    for (size_t i = 0; i < L->nv; i++) {
        int l = L->v[i].layer;
        L->v[i].pos = (int)fill[l];
        L->layer[l][fill[l]++] = i;
    }
    free(fill);
}

/* --- crossing reduction --------------------------------------------------------------------- */

struct pair {
    int a, b;
};

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    return p->a != q->a ? (p->a > q->a) - (p->a < q->a) : (p->b > q->b) - (p->b < q->b);
}

/* Crossings between layer l and l+1: inversions of the lower ends, counted with a
 * Fenwick tree after sorting by the upper ends. */
static size_t crossings_between(const struct lay *L, int l, struct pair *buf, size_t *tree)
{
    size_t n = 0;
    for (size_t i = 0; i < L->layer_n[l]; i++) {
        size_t a = L->layer[l][i];
        for (size_t k = L->down_off[a]; k < L->down_off[a + 1]; k++)
            buf[n++] = (struct pair){L->v[a].pos, L->v[L->down[k]].pos};
    }
    sort_array(buf, n, sizeof *buf, cmp_pair);
    size_t m = L->layer_n[l + 1] + 1, count = 0;
    memset(tree, 0, (m + 1) * sizeof *tree);
    for (size_t i = 0; i < n; i++) {
        /* earlier pairs with a lower end strictly greater than this one's */
        size_t b = (size_t)buf[i].b + 1, le = 0;
        for (size_t j = b; j > 0; j -= j & -j)
            le += tree[j];
        count += i - le;
        for (size_t j = b; j <= m; j += j & -j)
            tree[j]++;
    }
    return count;
}

static size_t crossings(const struct lay *L, struct pair *buf, size_t *tree)
{
    size_t total = 0;
    for (int l = 0; l + 1 < L->n_layers; l++)
        total += crossings_between(L, l, buf, tree);
    return total;
}

static int cmp_key(const void *x, const void *y, void *ctx)
{
    const struct vnode *v = ctx;
    const struct vnode *a = &v[*(const size_t *)x], *b = &v[*(const size_t *)y];
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

static int cmp_int(const void *x, const void *y)
{
    return (*(const int *)x > *(const int *)y) - (*(const int *)x < *(const int *)y);
}

/* Orders layer l by the median position of each node's neighbours on one side. */
static void median_sort(struct lay *L, int l, const size_t *off, const size_t *adj, int *buf)
{
    for (size_t i = 0; i < L->layer_n[l]; i++) {
        struct vnode *v = &L->v[L->layer[l][i]];
        size_t a = L->layer[l][i], n = 0;
        for (size_t k = off[a]; k < off[a + 1]; k++)
            buf[n++] = L->v[adj[k]].pos;
        if (n == 0) {
            v->key = v->pos;
            continue;
        }
        sort_array(buf, n, sizeof *buf, cmp_int);
        v->key = n % 2 ? buf[n / 2] : (buf[n / 2 - 1] + buf[n / 2]) / 2.0;
    }
    qsort_r(L->layer[l], L->layer_n[l], sizeof *L->layer[l], cmp_key, L->v);
    for (size_t i = 0; i < L->layer_n[l]; i++)
        L->v[L->layer[l][i]].pos = (int)i;
}

static void reduce_crossings(struct lay *L, size_t *best_crossings)
{
    size_t max_layer = 0, max_deg = 0;
    for (int l = 0; l < L->n_layers; l++)
        if (L->layer_n[l] > max_layer)
            max_layer = L->layer_n[l];
    for (size_t i = 0; i < L->nv; i++) {
        size_t d = L->up_off[i + 1] - L->up_off[i] + L->down_off[i + 1] - L->down_off[i];
        if (d > max_deg)
            max_deg = d;
    }
    struct pair *buf = xcalloc(L->ns + 1, sizeof *buf);
    size_t *tree = xcalloc(max_layer + 3, sizeof *tree);
    int *mbuf = xcalloc(max_deg + 1, sizeof *mbuf);
    int *best = xcalloc(L->nv + 1, sizeof *best);
    size_t best_c = crossings(L, buf, tree);
    for (size_t i = 0; i < L->nv; i++)
        best[i] = L->v[i].pos;
    for (int sweep = 0; sweep < SWEEPS && best_c > 0; sweep++) {
        if (sweep % 2 == 0)
            for (int l = 1; l < L->n_layers; l++)
                median_sort(L, l, L->up_off, L->up, mbuf);
        else
            for (int l = L->n_layers - 2; l >= 0; l--)
                median_sort(L, l, L->down_off, L->down, mbuf);
        size_t c = crossings(L, buf, tree);
        if (c < best_c) {
            best_c = c;
            for (size_t i = 0; i < L->nv; i++)
                best[i] = L->v[i].pos;
        }
    }
    for (size_t i = 0; i < L->nv; i++) {
        L->v[i].pos = best[i];
        L->layer[L->v[i].layer][best[i]] = i;
    }
    *best_crossings = best_c;
    free(buf);
    free(tree);
    free(mbuf);
    free(best);
}

/* --- coordinates along u ------------------------------------------------------------------------ */

static int center(const struct vnode *v)
{
    return v->u + v->size / 2;
}

/* Where each node of layer l would like to start: centred on its neighbours. */
static void desired(const struct lay *L, int l, const size_t *off, const size_t *adj, int *want)
{
    for (size_t i = 0; i < L->layer_n[l]; i++) {
        size_t a = L->layer[l][i];
        const struct vnode *v = &L->v[a];
        long sum = 0, n = 0;
        for (size_t k = off[a]; k < off[a + 1]; k++, n++)
            sum += center(&L->v[adj[k]]);
        want[i] = n ? (int)(sum / n) - v->size / 2 : v->u;
    }
}

/* Places layer l as close to `want` as the order and gaps allow: the mean of a
 * left-to-right and a right-to-left greedy placement (both keep the gaps, so their
 * mean does too). */
static void place_layer(struct lay *L, int l, const int *want, int gap, int *a, int *b)
{
    size_t n = L->layer_n[l];
    for (size_t i = 0; i < n; i++) {
        a[i] = want[i];
        int after_prev = i > 0 ? a[i - 1] + L->v[L->layer[l][i - 1]].size + gap : a[i];
        a[i] = a[i] > after_prev ? a[i] : after_prev;
    }
    for (size_t i = n; i-- > 0;) {
        b[i] = want[i];
        int before_next = i + 1 < n ? b[i + 1] - gap - L->v[L->layer[l][i]].size : b[i];
        b[i] = b[i] < before_next ? b[i] : before_next;
    }
    for (size_t i = 0; i < n; i++) {
        long s = (long)a[i] + b[i]; /* floor(s / 2), negative s included */
        L->v[L->layer[l][i]].u = (int)(s >= 0 ? s / 2 : -((1 - s) / 2));
    }
}

static void assign_u(struct lay *L)
{
    int gap = L->dir == LAYOUT_DOWN ? 2 : 1;
    size_t max_layer = 1;
    for (int l = 0; l < L->n_layers; l++)
        if (L->layer_n[l] > max_layer)
            max_layer = L->layer_n[l];
    int *want = xcalloc(max_layer, sizeof *want), *a = xcalloc(max_layer, sizeof *a);
    int *b = xcalloc(max_layer, sizeof *b);
    for (int l = 0; l < L->n_layers; l++) {
        int u = 0;
        for (size_t i = 0; i < L->layer_n[l]; i++) {
            L->v[L->layer[l][i]].u = u;
            u += L->v[L->layer[l][i]].size + gap;
        }
    }
    for (int pass = 0; pass < PLACE_PASSES; pass++) {
        bool downward = pass % 2 == 0;
        for (int k = 0; k < L->n_layers; k++) {
            int l = downward ? k : L->n_layers - 1 - k;
            if (downward)
                desired(L, l, L->up_off, L->up, want);
            else
                desired(L, l, L->down_off, L->down, want);
            place_layer(L, l, want, gap, a, b);
        }
    }
    int min_u = 0;
    for (size_t i = 0; i < L->nv; i++)
        if (i == 0 || L->v[i].u < min_u)
            min_u = L->v[i].u;
    for (size_t i = 0; i < L->nv; i++)
        L->v[i].u -= min_u;
    free(want);
    free(a);
    free(b);
}

/* --- tracks and v ------------------------------------------------------------------------------------ */

struct group {
    size_t up; /* the source: all its bends in a channel share one track */
    int lo, hi;
    int track;
};

static int cmp_group(const void *x, const void *y)
{
    const struct group *a = x, *b = y;
    if (a->lo != b->lo)
        return (a->lo > b->lo) - (a->lo < b->lo);
    return (a->up > b->up) - (a->up < b->up);
}

/* Lines crossed needlessly when g's bend runs above h's: g's run passes h's source
 * column (which comes down to h's lower row), and h's run passes g's target columns
 * (which go down from g's upper row). */
static int cost_above(const struct lay *L, const struct group *g, const struct group *h)
{
    int c = 0, s = center(&L->v[h->up]);
    c += s > g->lo && s < g->hi;
    for (size_t k = L->down_off[g->up]; k < L->down_off[g->up + 1]; k++) {
        int t = center(&L->v[L->down[k]]);
        c += t > h->lo && t < h->hi;
    }
    return c;
}

/* Two bends whose runs overlap (or touch) and which of them is better drawn above. */
struct clash {
    size_t other;
    int above; /* 1: this one above the other; -1: the other above; 0: either */
};

struct clashes {
    struct clash *v;
    size_t *off; /* group i's clashes are v[off[i] .. off[i+1]) */
};

/* Bends into the same single target may share a row: their lines merge on the way. */
static bool merge(const struct lay *L, const struct group *g, const struct group *h)
{
    size_t a = g->up, b = h->up;
    return L->down_off[a + 1] - L->down_off[a] == 1 && L->down_off[b + 1] - L->down_off[b] == 1 &&
           L->down[L->down_off[a]] == L->down[L->down_off[b]];
}

static void find_clashes(const struct lay *L, const struct group *gr, size_t n, struct clashes *c)
{
    size_t *count = xcalloc(n + 1, sizeof *count), total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n && gr[j].lo <= gr[i].hi + 1; j++) {
                if (merge(L, &gr[i], &gr[j]))
                    continue;
                if (pass == 0) {
                    count[i]++, count[j]++, total += 2;
                    continue;
                }
                int ij = cost_above(L, &gr[i], &gr[j]), ji = cost_above(L, &gr[j], &gr[i]);
                int a = ij < ji ? 1 : ji < ij ? -1 : 0;
                c->v[count[i]++] = (struct clash){j, a};
                c->v[count[j]++] = (struct clash){i, -a};
            }
        if (pass == 0) {
            c->v = xcalloc(total + 1, sizeof *c->v);
            c->off = xcalloc(n + 1, sizeof *c->off);
            for (size_t i = 0; i < n; i++)
                c->off[i + 1] = c->off[i] + count[i];
            for (size_t i = 0; i < n; i++)
                count[i] = c->off[i];
        }
    }
    free(count);
}

/* Places group i on the highest free row below every placed bend that is better
 * above it and not on the row of any placed bend it overlaps. */
static int place_group(struct group *gr, size_t i, const struct clashes *c, const bool *placed)
{
    int t = 0;
    for (size_t k = c->off[i]; k < c->off[i + 1]; k++)
        if (placed[c->v[k].other] && c->v[k].above < 0 && gr[c->v[k].other].track >= t)
            t = gr[c->v[k].other].track + 1;
    for (bool taken = true; taken; t += taken) {
        taken = false;
        for (size_t k = c->off[i]; k < c->off[i + 1] && !taken; k++)
            taken = placed[c->v[k].other] && gr[c->v[k].other].track == t;
    }
    return t;
}

/* Gives each bending edge of channel l a row, ordering overlapping bends so that
 * as few lines cross as the nodes' order allows; returns how many rows it needs. */
static int assign_tracks(struct lay *L, int l)
{
    struct group *gr = xcalloc(L->ns + 1, sizeof *gr);
    size_t n = 0;
    for (size_t i = 0; i < L->layer_n[l]; i++) {
        size_t a = L->layer[l][i];
        int lo = center(&L->v[a]), hi = lo;
        bool bends = false;
        for (size_t k = L->down_off[a]; k < L->down_off[a + 1]; k++) {
            int c = center(&L->v[L->down[k]]);
            bends = bends || c != center(&L->v[a]);
            lo = c < lo ? c : lo;
            hi = c > hi ? c : hi;
        }
        if (bends)
            gr[n++] = (struct group){a, lo, hi, -1};
    }
    sort_array(gr, n, sizeof *gr, cmp_group);
    struct clashes c;
    find_clashes(L, gr, n, &c);
    /* Leftmost first among those whose better-above bends are all placed (Kahn's
     * order); on a cycle of preferences, the leftmost unplaced one. */
    size_t *waiting = xcalloc(n + 1, sizeof *waiting);
    for (size_t i = 0; i < n; i++)
        for (size_t k = c.off[i]; k < c.off[i + 1]; k++)
            waiting[i] += c.v[k].above < 0;
    bool *placed = xcalloc(n + 1, sizeof *placed);
    int tracks = 0;
    for (size_t done = 0, first = 0; done < n; done++) {
        while (placed[first])
            first++;
        size_t i = first;
        while (i < n && (placed[i] || waiting[i]))
            i++;
        i = i < n ? i : first;
        gr[i].track = place_group(gr, i, &c, placed);
        placed[i] = true;
        for (size_t k = c.off[i]; k < c.off[i + 1]; k++)
            if (c.v[k].above > 0 && waiting[c.v[k].other])
                waiting[c.v[k].other]--;
        tracks = gr[i].track + 1 > tracks ? gr[i].track + 1 : tracks;
    }
    for (size_t k = 0; k < L->ns; k++) {
        struct seg *s = &L->s[k];
        if (L->v[s->up].layer != l || center(&L->v[s->up]) == center(&L->v[s->down]))
            continue;
        for (size_t i = 0; i < n; i++)
            if (gr[i].up == s->up)
                s->track = gr[i].track;
    }
    free(gr);
    free(c.v);
    free(c.off);
    free(waiting);
    free(placed);
    return tracks;
}

/* Left to right, an edge leaves its box for one cell before it may turn. */
static int lead(const struct lay *L)
{
    return L->dir == LAYOUT_RIGHT;
}

static void assign_v(struct lay *L)
{
    L->V = xcalloc((size_t)L->n_layers + 1, sizeof *L->V);
    L->thick = xcalloc((size_t)L->n_layers + 1, sizeof *L->thick);
    L->channel = xcalloc((size_t)L->n_layers + 1, sizeof *L->channel);
    for (size_t i = 0; i < L->nv; i++)
        if (L->v[i].thick > L->thick[L->v[i].layer])
            L->thick[L->v[i].layer] = L->v[i].thick;
    for (int l = 0; l + 1 < L->n_layers; l++) {
        int tracks = assign_tracks(L, l);
        L->channel[l] = lead(L) + (tracks > 1 ? tracks : 1) + 1;
    }
    for (int l = 1; l < L->n_layers; l++)
        L->V[l] = L->V[l - 1] + L->thick[l - 1] + L->channel[l - 1];
}

/* --- edges on the grid ------------------------------------------------------------------------------- */

struct grid {
    uint8_t *cells;
    int vn, un; /* extent along v and u */
};

static void mark(struct grid *g, int v, int u, uint8_t bits)
{
    if (v >= 0 && v < g->vn && u >= 0 && u < g->un)
        g->cells[(size_t)v * (size_t)g->un + (size_t)u] |= bits;
}

/* Draws an axis-parallel line between two cells (inclusive). */
static void line(struct grid *g, int v0, int u0, int v1, int u1)
{
    while (v0 != v1 || u0 != u1) {
        int dv = (v1 > v0) - (v1 < v0), du = dv ? 0 : (u1 > u0) - (u1 < u0);
        mark(g, v0, u0, dv > 0 ? V_PLUS : dv < 0 ? V_MINUS : du > 0 ? U_PLUS : U_MINUS);
        v0 += dv;
        u0 += du;
        mark(g, v0, u0, dv > 0 ? V_MINUS : dv < 0 ? V_PLUS : du > 0 ? U_MINUS : U_PLUS);
    }
}

static void route(struct lay *L, struct grid *g)
{
    for (size_t i = 0; i < L->ns; i++) {
        struct seg *s = &L->s[i];
        const struct vnode *a = &L->v[s->up], *b = &L->v[s->down];
        int l = a->layer, us = center(a), ut = center(b);
        /* A real box ends where it ends; a dummy's line fills its band from its start. */
        int v_from = a->real >= 0 ? L->V[l] + a->thick : L->V[l];
        int v_to = L->V[l + 1] - 1; /* the channel's last row: the arrowhead */
        int v_turn = L->V[l] + L->thick[l] + lead(L) + (s->track < 0 ? 0 : s->track);
        mark(g, v_from, us, V_MINUS); /* joins the box (or the line above) */
        s->np = 0;
        s->v[s->np] = v_from, s->u[s->np++] = us;
        if (us != ut) {
            s->v[s->np] = v_turn, s->u[s->np++] = us;
            s->v[s->np] = v_turn, s->u[s->np++] = ut;
        }
        s->v[s->np] = v_to, s->u[s->np++] = ut;
        if (us == ut) {
            line(g, v_from, us, v_to, us);
        } else {
            line(g, v_from, us, v_turn, us);
            line(g, v_turn, us, v_turn, ut);
            line(g, v_turn, ut, v_to, ut);
        }
        mark(g, v_to, ut, b->real >= 0 ? ARROW : V_PLUS);
    }
}

/* --- the result --------------------------------------------------------------------------------------- */

static uint8_t to_screen(uint8_t m, enum layout_dir dir)
{
    uint8_t out = m & ARROW ? LINE_ARROW : 0;
    if (dir == LAYOUT_DOWN) {
        out |= (m & V_PLUS ? LINE_DOWN : 0) | (m & V_MINUS ? LINE_UP : 0) |
               (m & U_PLUS ? LINE_RIGHT : 0) | (m & U_MINUS ? LINE_LEFT : 0);
    } else {
        out |= (m & V_PLUS ? LINE_RIGHT : 0) | (m & V_MINUS ? LINE_LEFT : 0) |
               (m & U_PLUS ? LINE_DOWN : 0) | (m & U_MINUS ? LINE_UP : 0);
    }
    return out;
}

static void finish(struct lay *L, const struct grid *g, struct layout *out)
{
    bool down = L->dir == LAYOUT_DOWN;
    out->width = down ? g->un : g->vn;
    out->height = down ? g->vn : g->un;
    out->cells = xcalloc((size_t)out->width * (size_t)out->height + 1, 1);
    for (int v = 0; v < g->vn; v++)
        for (int u = 0; u < g->un; u++) {
            uint8_t m = g->cells[(size_t)v * (size_t)g->un + (size_t)u];
            if (!m)
                continue;
            int x = down ? u : v, y = down ? v : u;
            out->cells[(size_t)y * (size_t)out->width + (size_t)x] = to_screen(m, L->dir);
        }
    for (size_t i = 0; i < L->g->n; i++) {
        const struct vnode *v = &L->v[i];
        int band = L->V[v->layer];
        out->boxes[i] = down ? (struct layout_box){v->u, band, L->g->width[i], 3}
                             : (struct layout_box){band, v->u, L->g->width[i], 3};
        out->layer[i] = v->layer;
    }
}

/* Each edge of the graph: its segs' routes joined, in screen coordinates. */
static void finish_edges(struct lay *L, struct layout *out)
{
    const struct layout_graph *g = L->g;
    bool down = L->dir == LAYOUT_DOWN;
    size_t n_edges = L->n_edges;
    out->n_edges = n_edges;
    out->edges = xcalloc(n_edges + 1, sizeof *out->edges);
    out->in_at = xcalloc(g->n + 1, sizeof *out->in_at);
    out->out_at = xcalloc(g->n + 2, sizeof *out->out_at);
    out->out = xcalloc(n_edges + 1, sizeof *out->out);
    out->points = xcalloc(4 * L->ns + 1, sizeof *out->points);
    size_t e = 0;
    for (size_t i = 0; i < g->n; i++) {
        out->in_at[i] = e;
        for (size_t k = 0; k < g->n_deps[i]; k++, e++) {
            struct layout_edge *ed = &out->edges[e];
            *ed = (struct layout_edge){g->deps[i][k], i, out->n_points, 0};
            for (size_t s = L->edge_seg[e]; s < L->edge_seg[e + 1]; s++)
                for (int p = 0; p < L->s[s].np; p++) {
                    int v = L->s[s].v[p], u = L->s[s].u[p];
                    out->points[out->n_points++] =
                        down ? (struct layout_point){u, v} : (struct layout_point){v, u};
                }
            ed->n = out->n_points - ed->first;
            out->out_at[ed->from + 2]++;
        }
    }
    out->in_at[g->n] = e;
    /* out-edges by node, counted at [from + 2], summed into starts at [from + 1], then
     * filled, which moves each start to [from] */
    for (size_t i = 0; i < g->n; i++)
        out->out_at[i + 2] += out->out_at[i + 1];
    for (size_t k = 0; k < n_edges; k++)
        out->out[out->out_at[out->edges[k].from + 1]++] = k;
}

static void free_lay(struct lay *L)
{
    free(L->edge_seg);
    for (int l = 0; l < L->n_layers; l++)
        free(L->layer[l]);
    free(L->layer);
    free(L->layer_n);
    free(L->v);
    free(L->s);
    free(L->up_off);
    free(L->up);
    free(L->down_off);
    free(L->down);
    free(L->V);
    free(L->thick);
    free(L->channel);
}

int layout_compute(const struct layout_graph *g, enum layout_dir dir, struct layout *out)
{
    memset(out, 0, sizeof *out);
    out->dir = dir;
    out->n = g->n;
    out->boxes = xcalloc(g->n + 1, sizeof *out->boxes);
    out->layer = xcalloc(g->n + 1, sizeof *out->layer);
    if (g->n == 0) {
        out->cells = xcalloc(1, 1);
        out->in_at = xcalloc(1, sizeof *out->in_at);
        out->out_at = xcalloc(2, sizeof *out->out_at);
        return 0;
    }
    struct lay L = {.g = g, .dir = dir};
    assign_layers(&L, out->layer);
    build_vnodes(&L, out->layer);
    build_neighbours(&L);
    build_layers(&L);
    reduce_crossings(&L, &out->crossings);
    assign_u(&L);
    assign_v(&L);
    struct grid grid = {0};
    for (size_t i = 0; i < L.nv; i++)
        if (L.v[i].u + L.v[i].size > grid.un)
            grid.un = L.v[i].u + L.v[i].size;
    grid.vn = L.V[L.n_layers - 1] + L.thick[L.n_layers - 1];
    grid.cells = xcalloc((size_t)grid.vn * (size_t)grid.un + 1, 1);
    route(&L, &grid);
    finish(&L, &grid, out);
    finish_edges(&L, out);
    free(grid.cells);
    free_lay(&L);
    return 0;
}

enum layout_dir layout_choose(const struct layout_graph *g, int term_w, int term_h)
{
    int *layer = xcalloc(g->n + 1, sizeof *layer);
    struct lay L = {.g = g};
    assign_layers(&L, layer);
    int layers = 0;
    for (size_t i = 0; i < g->n; i++)
        layers = layer[i] + 1 > layers ? layer[i] + 1 : layers;
    long *span = xcalloc((size_t)layers + 1, sizeof *span);  /* sum of widths per layer */
    long *count = xcalloc((size_t)layers + 1, sizeof *count);
    long *widest = xcalloc((size_t)layers + 1, sizeof *widest);
    for (size_t i = 0; i < g->n; i++) {
        span[layer[i]] += g->width[i] + 2;
        count[layer[i]]++;
        widest[layer[i]] = g->width[i] > widest[layer[i]] ? g->width[i] : widest[layer[i]];
    }
    long td_w = 0, lr_h = 0, lr_w = 0;
    for (int l = 0; l < layers; l++) {
        td_w = span[l] > td_w ? span[l] : td_w;
        lr_h = count[l] * 4 > lr_h ? count[l] * 4 : lr_h;
        lr_w += widest[l] + 3;
    }
    long td_h = (long)layers * 5;
    double td = (double)td_w / term_w > (double)td_h / term_h ? (double)td_w / term_w
                                                              : (double)td_h / term_h;
    double lr = (double)lr_w / term_w > (double)lr_h / term_h ? (double)lr_w / term_w
                                                              : (double)lr_h / term_h;
    free(layer);
    free(span);
    free(count);
    free(widest);
    return lr < td ? LAYOUT_RIGHT : LAYOUT_DOWN;
}

void layout_free(struct layout *l)
{
    free(l->boxes);
    free(l->layer);
    free(l->cells);
    free(l->edges);
    free(l->in_at);
    free(l->out_at);
    free(l->out);
    free(l->points);
    memset(l, 0, sizeof *l);
}

/* --- one node's edges ------------------------------------------------------------------------- */

static void visit(const struct layout *l, int x, int y,
                  void (*fn)(void *ctx, int x, int y, uint8_t mask), void *ctx)
{
    if (x >= 0 && y >= 0 && x < l->width && y < l->height)
        fn(ctx, x, y, l->cells[(size_t)y * (size_t)l->width + (size_t)x]);
}

/* Every cell of an edge's route, a joint of two pieces once. */
static void walk_edge(const struct layout *l, const struct layout_edge *e,
                      void (*fn)(void *ctx, int x, int y, uint8_t mask), void *ctx)
{
    if (e->n == 0)
        return;
    struct layout_point p = l->points[e->first];
    visit(l, p.x, p.y, fn, ctx);
    for (size_t k = 1; k < e->n; k++) {
        struct layout_point q = l->points[e->first + k];
        int dx = (q.x > p.x) - (q.x < p.x), dy = (q.y > p.y) - (q.y < p.y);
        int steps = abs(q.x - p.x) > abs(q.y - p.y) ? abs(q.x - p.x) : abs(q.y - p.y);
        for (int s = 1; s <= steps; s++)
            visit(l, p.x + s * dx, p.y + s * dy, fn, ctx);
        p = q;
    }
}

void layout_node_edge_cells(const struct layout *l, size_t i,
                            void (*fn)(void *ctx, int x, int y, uint8_t mask), void *ctx)
{
    if (i >= l->n)
        return;
    for (size_t k = l->in_at[i]; k < l->in_at[i + 1]; k++)
        walk_edge(l, &l->edges[k], fn, ctx);
    for (size_t k = l->out_at[i]; k < l->out_at[i + 1]; k++)
        walk_edge(l, &l->edges[l->out[k]], fn, ctx);
}

/* --- text ----------------------------------------------------------------------------------------------- */

int layout_text_width(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

const char *layout_glyph(uint8_t mask, enum layout_dir dir, bool ascii)
{
    if (mask & LINE_ARROW)
        return dir == LAYOUT_DOWN ? (ascii ? "v" : "▼") : (ascii ? ">" : "▶");
    static const char *const utf8[16] = {"",  "│", "│", "│", "─", "╯", "╮", "┤",
                                         "─", "╰", "╭", "├", "─", "┴", "┬", "┼"};
    static const char *const asc[16] = {"",  "|", "|", "|", "-", "+", "+", "+",
                                        "-", "+", "+", "+", "-", "+", "+", "+"};
    return (ascii ? asc : utf8)[mask & 15];
}

struct canvas {
    const char **cell; /* per cell: a glyph (static) or NULL */
    char **own;        /* per cell: an owned fragment of label text, or NULL */
    int w, h;
};

static void put(struct canvas *c, int x, int y, const char *glyph)
{
    if (x >= 0 && x < c->w && y >= 0 && y < c->h)
        c->cell[(size_t)y * (size_t)c->w + (size_t)x] = glyph;
}

static uint8_t cell_at(const struct layout *l, int x, int y)
{
    if (x < 0 || x >= l->width || y < 0 || y >= l->height)
        return 0;
    return l->cells[(size_t)y * (size_t)l->width + (size_t)x];
}

static void draw_box(struct canvas *c, const struct layout *l, const struct layout_box *b,
                     const char *label, bool ascii)
{
    const char *h = ascii ? "-" : "─", *v = ascii ? "|" : "│";
    const char *tl = ascii ? "+" : "╭", *tr = ascii ? "+" : "╮";
    const char *bl = ascii ? "+" : "╰", *br = ascii ? "+" : "╯";
    for (int x = b->x + 1; x < b->x + b->w - 1; x++) {
        bool out_down = cell_at(l, x, b->y + b->h) & LINE_UP;
        put(c, x, b->y, h);
        put(c, x, b->y + b->h - 1, out_down ? (ascii ? "+" : "┬") : h);
    }
    bool out_right = cell_at(l, b->x + b->w, b->y + 1) & LINE_LEFT;
    put(c, b->x, b->y, tl);
    put(c, b->x + b->w - 1, b->y, tr);
    put(c, b->x, b->y + b->h - 1, bl);
    put(c, b->x + b->w - 1, b->y + b->h - 1, br);
    put(c, b->x, b->y + 1, v);
    put(c, b->x + b->w - 1, b->y + 1, out_right ? (ascii ? "+" : "├") : v);
    /* The label, one code point per cell, padded with spaces. */
    const char *s = label ? label : "";
    for (int x = b->x + 1; x < b->x + b->w - 1; x++) {
        bool pad = x == b->x + 1 || !*s;
        size_t n = 1;
        if (!pad)
            while ((((unsigned char)s[n]) & 0xC0) == 0x80)
                n++;
        size_t idx = (size_t)(b->y + 1) * (size_t)c->w + (size_t)x;
        if (x >= 0 && x < c->w && b->y + 1 < c->h) {
            free(c->own[idx]);
            c->own[idx] = pad ? NULL : xstrndup(s, n);
            c->cell[idx] = pad ? " " : NULL;
        }
        if (!pad)
            s += n;
    }
}

static void mark_star(void *ctx, int x, int y, uint8_t mask)
{
    struct canvas *c = ctx;
    (void)mask;
    put(c, x, y, "*");
}

char *layout_render(const struct layout *l, const char *const *labels, bool ascii)
{
    return layout_render_marked(l, labels, ascii, -1);
}

char *layout_render_marked(const struct layout *l, const char *const *labels, bool ascii,
                           long mark)
{
    struct canvas c = {.w = l->width, .h = l->height};
    size_t cells = (size_t)l->width * (size_t)l->height + 1;
    c.cell = xcalloc(cells, sizeof *c.cell);
    c.own = xcalloc(cells, sizeof *c.own);
    for (int y = 0; y < l->height; y++)
        for (int x = 0; x < l->width; x++)
            put(&c, x, y, layout_glyph(cell_at(l, x, y), l->dir, ascii));
    if (mark >= 0)
        layout_node_edge_cells(l, (size_t)mark, mark_star, &c);
    for (size_t i = 0; i < l->n; i++)
        draw_box(&c, l, &l->boxes[i], labels[i], ascii);
    struct sb out = {0};
    for (int y = 0; y < l->height; y++) {
        size_t start = out.len, last = out.len;
        for (int x = 0; x < l->width; x++) {
            size_t idx = (size_t)y * (size_t)l->width + (size_t)x;
            const char *g = c.own[idx] ? c.own[idx] : c.cell[idx];
            if (!g || !*g)
                g = " ";
            sb_adds(&out, g);
            if (strcmp(g, " ") != 0)
                last = out.len;
        }
        out.len = last > start ? last : start; /* no trailing spaces */
        sb_addc(&out, '\n');
    }
    for (size_t i = 0; i < cells; i++)
        free(c.own[i]);
    free(c.own);
    free(c.cell);
    return sb_take(&out);
}

/* --- moving between boxes ---------------------------------------------------------------------- */

/* Twice the centre of box i along the screen axis (vertical when vert). */
static int centre2(const struct layout *l, size_t i, bool vert)
{
    const struct layout_box *b = &l->boxes[i];
    return vert ? 2 * b->y + b->h : 2 * b->x + b->w;
}

/* Among boxes beyond `from` in direction (dx, dy) (their centre past its centre) and
 * in layer `layer` (-1: any), the one nearest along the direction, then across. */
static long nearest(const struct layout *l, size_t from, int dx, int dy, long layer)
{
    bool vert = dy != 0;
    int sign = vert ? dy : dx, a0 = centre2(l, from, vert), c0 = centre2(l, from, !vert);
    long best = -1;
    long best_a = 0, best_c = 0;
    for (size_t i = 0; i < l->n; i++) {
        long a = (long)(centre2(l, i, vert) - a0) * sign;
        if (i == from || a <= 0 || (layer >= 0 && l->layer[i] != layer))
            continue;
        long c = labs((long)(centre2(l, i, !vert) - c0));
        if (best < 0 || a < best_a || (a == best_a && c < best_c)) {
            best = (long)i;
            best_a = a;
            best_c = c;
        }
    }
    return best;
}

/* The nearest layer beyond `from` in direction sign along the layers' axis: its box
 * nearest across. */
static long next_layer(const struct layout *l, size_t from, int sign)
{
    long want = -1;
    for (size_t i = 0; i < l->n; i++) {
        long d = (long)(l->layer[i] - l->layer[from]) * sign;
        if (d > 0 && (want < 0 || d < labs(want - l->layer[from])))
            want = l->layer[i];
    }
    if (want < 0)
        return -1;
    bool vert = l->dir == LAYOUT_RIGHT; /* across the layers' axis */
    int c0 = centre2(l, from, vert);
    long best = -1, best_c = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->layer[i] != want)
            continue;
        long c = labs((long)(centre2(l, i, vert) - c0));
        if (best < 0 || c < best_c) {
            best = (long)i;
            best_c = c;
        }
    }
    return best;
}

long layout_step(const struct layout *l, size_t from, int dx, int dy)
{
    if (from >= l->n)
        return -1;
    bool along = l->dir == LAYOUT_DOWN ? dy != 0 : dx != 0;
    if (along)
        return next_layer(l, from, dy + dx);
    long in_layer = nearest(l, from, dx, dy, l->layer[from]);
    return in_layer >= 0 ? in_layer : nearest(l, from, dx, dy, -1);
}
