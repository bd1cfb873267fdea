/* tasklist: the list of tasks beside the graph (Tab opens it and moves the keys there).
 *
 * It lists every node of the graph's view, in the view's order, with its state glyph,
 * name, state word and note, filtered by a name fragment (typed after `/`, applied as
 * it is typed) and by one state word (s cycles through the states present); the header
 * counts what is shown. Its cursor is the model's selection, so the graph and the list
 * always agree. The struct is plain state the app owns; tasklist_draw() is the only
 * function that touches curses. */
#ifndef SLUICE_TASKLIST_H
#define SLUICE_TASKLIST_H

#include <stdbool.h>

#include "model.h"

struct tasklist {
    bool open;
    bool focused;   /* keys go to the list (else to the graph) */
    struct sb text; /* the name filter ("" or empty: none) */
    const char *state; /* the state filter (a model_state_word()), or NULL: every state */
    int scroll;        /* the first row in sight */
};

void tasklist_free(struct tasklist *l);
/* The view nodes the filters let through, in view order (caller frees *rows). */
size_t tasklist_rows(const struct tasklist *l, const struct model *m, size_t **rows);
/* The next (dir 1) or previous (-1) state filter among the states some node shows now,
 * "every state" between the last and the first. */
void tasklist_cycle(struct tasklist *l, const struct model *m, int dir);
/* Moves the selection delta rows along the list (clamped); from a selection the list
 * does not show, to its first row. */
void tasklist_move(const struct tasklist *l, struct model *m, long delta);
/* After the filters change: a selection the list does not show moves to its first row. */
void tasklist_sync(const struct tasklist *l, struct model *m);
/* The columns it takes on a screen this wide. */
int tasklist_width(int cols);
/* Draws it in the screen rectangle (x, y, w, h), scrolled to keep the cursor in sight. */
void tasklist_draw(struct tasklist *l, const struct model *m, int x, int y, int w, int h,
                   unsigned spinner);

#endif
