/* layout: a DAG drawn on a character grid (layered, Sugiyama style).
 *
 * layout_compute() assigns layers (longest path from the sources), adds a dummy node
 * per layer a long edge crosses, orders each layer by median sweeps (keeping the order
 * with the fewest crossings), places boxes compactly near their neighbours, and routes
 * every edge on the cell grid: each cell gets direction bits (up, down, left, right)
 * and arrowheads mark where edges enter a box. Cells are shared by the edges that run
 * through them; each edge also keeps its own route (a polyline of cells), so one
 * node's edges can be picked out. Top-down or left-to-right; the same graph always
 * gives the same picture. Pure computation: drawing the cells is the
 * caller's (layout_render() for text, the TUI for the screen). Memory: owned by the
 * layout until layout_free().
 */
#ifndef SLUICE_LAYOUT_H
#define SLUICE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum layout_dir { LAYOUT_DOWN, LAYOUT_RIGHT };

struct layout_graph {
    size_t n;
    const int *width;            /* each node's box width in cells, borders included */
    const size_t *const *deps;   /* each node's upstream nodes */
    const size_t *n_deps;
};

struct layout_box {
    int x, y, w, h;
};

enum {
    LINE_UP = 1,
    LINE_DOWN = 2,
    LINE_LEFT = 4,
    LINE_RIGHT = 8,
    LINE_ARROW = 16, /* an arrowhead pointing into the next box (down, or right) */
};

struct layout_point {
    int x, y;
};

/* An edge of the graph (from an upstream node to the node after it) and its route:
 * points[first .. first + n) of the layout, consecutive points on one row or column,
 * from the cell just outside `from`'s box to the arrowhead cell outside `to`'s. */
struct layout_edge {
    size_t from, to;
    size_t first, n;
};

struct layout {
    enum layout_dir dir;
    int width, height;
    size_t n;
    struct layout_box *boxes; /* one per node */
    int *layer;               /* one per node */
    uint8_t *cells;           /* width * height direction masks */
    size_t crossings;         /* edge crossings of the chosen order */
    struct layout_edge *edges; /* in node order, each node's in-edges in its deps' order */
    size_t n_edges;
    size_t *in_at;            /* n + 1: node i's in-edges are edges[in_at[i] .. in_at[i + 1]) */
    size_t *out_at, *out;     /* n + 1, n_edges: its out-edges edges[out[out_at[i] ..]] */
    struct layout_point *points;
    size_t n_points;
};

int layout_compute(const struct layout_graph *g, enum layout_dir dir, struct layout *out);
/* Top-down or left-to-right, whichever needs less scrolling in a term_w x term_h view. */
enum layout_dir layout_choose(const struct layout_graph *g, int term_w, int term_h);
void layout_free(struct layout *l);

/* Calls fn for every cell of the routes of node i's in-edges and out-edges (a cell two
 * of them share comes once per edge), with its mask (as in `cells`). */
void layout_node_edge_cells(const struct layout *l, size_t i,
                            void (*fn)(void *ctx, int x, int y, uint8_t mask), void *ctx);

/* The glyph for a cell's mask ("" for an empty cell). */
const char *layout_glyph(uint8_t mask, enum layout_dir dir, bool ascii);
/* The picture as text: boxes with the given labels (each fits its box's width - 4
 * columns), edges in box-drawing characters or ASCII. Lines end in '\n' with trailing
 * spaces removed. Caller frees. */
char *layout_render(const struct layout *l, const char *const *labels, bool ascii);
/* The same, with the cells of node `mark`'s edges drawn as '*' (for tests). */
char *layout_render_marked(const struct layout *l, const char *const *labels, bool ascii,
                           long mark);
/* The box a key in screen direction (dx, dy) moves to from box `from` (one of dx, dy is
 * -1 or 1, the other 0), or -1 when there is none that way. Along the layers' axis
 * (down in a top-down picture, right in a left-to-right one) it goes to the nearest
 * layer that way, to its box nearest across; across, to the neighbour within the layer,
 * else to the nearest box on screen that way. So every box is reachable from every
 * other with the four directions. */
long layout_step(const struct layout *l, size_t from, int dx, int dy);
/* Display columns of a UTF-8 string (each code point one column). */
int layout_text_width(const char *s);

#endif
