/* layout_bench: times layout_compute on generated DAGs (the same shapes as gen.py).
 *   layout-bench [N] [wide|chain|diamond]   (default: 2000 wide)
 * Prints the best and median of 7 runs, the picture's size and its crossings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "util.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2000;
    const char *shape = argc > 2 ? argv[2] : "wide";
    size_t width = (size_t)sqrt((double)n * 4);
    size_t **deps = xcalloc(n, sizeof *deps), *nd = xcalloc(n, sizeof *nd);
    int *w = xcalloc(n, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        deps[i] = xcalloc(2, sizeof **deps);
        w[i] = 8 + (int)(i % 7); /* "✓ t123 1.2s"-like labels of varied width */
        if (strcmp(shape, "chain") == 0) {
            if (i > 0)
                deps[i][nd[i]++] = i - 1;
        } else if (strcmp(shape, "diamond") == 0) {
            size_t top = i / 4 * 4, r = i % 4;
            if (r == 0 && i > 0)
                deps[i][nd[i]++] = top - 1;
            else if (r == 1 || r == 2)
                deps[i][nd[i]++] = top;
            else if (r == 3) {
                deps[i][nd[i]++] = top + 1;
                if (top + 2 < n)
                    deps[i][nd[i]++] = top + 2;
            }
        } else if (i >= width) {
            size_t layer = i / width, pos = i % width, base = (layer - 1) * width;
            deps[i][nd[i]++] = base + pos;
            if ((pos + 1) % width != pos)
                deps[i][nd[i]++] = base + (pos + 1) % width;
        }
    }
    struct layout_graph g = {n, w, (const size_t *const *)deps, nd};
    double t[7];
    struct layout l = {0};
    for (int r = 0; r < 7; r++) {
        layout_free(&l);
        double t0 = now_mono();
        layout_compute(&g, LAYOUT_DOWN, &l);
        t[r] = (now_mono() - t0) * 1000;
    }
    qsort(t, 7, sizeof *t, cmp_double);
    printf("layout of %zu nodes (%s): best %.1f ms, median %.1f ms; %d x %d cells, %zu "
           "crossings\n",
           n, shape, t[0], t[3], l.width, l.height, l.crossings);
    layout_free(&l);
    for (size_t i = 0; i < n; i++)
        free(deps[i]);
    free(deps);
    free(nd);
    free(w);
    return 0;
}
