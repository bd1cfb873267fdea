/* draw: turns the app into a screen. One function draws a whole frame (erase(),
 * everything, one doupdate()); nothing here changes the model. */
#ifndef SLUICE_DRAW_H
#define SLUICE_DRAW_H

#include "app.h"

/* Sets up the colour pairs (when color is true and the terminal has colours). */
void draw_init_colors(bool color);
void draw_frame(struct app *a);
/* How many lines of text the open pane shows (its title row left out). */
int draw_pane_rows(const struct app *a);
/* The view node drawn at screen cell (x, y), or -1. */
long draw_hit(const struct app *a, int x, int y);

#endif
