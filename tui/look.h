/* look: how each state looks, for every front end: a glyph (UTF-8 and ASCII) and one
 * of the eight basic colours. A state is never shown by colour alone. */
#ifndef SLUICE_LOOK_H
#define SLUICE_LOOK_H

#include <stdbool.h>

enum look_color { LC_DEFAULT = -1, LC_RED = 1, LC_GREEN, LC_YELLOW, LC_BLUE, LC_MAGENTA, LC_CYAN };

struct look {
    const char *state;
    const char *utf8, *ascii;
    int color; /* an LC_* value */
    bool dim;
};

/* The look of a state or decision word ("cached", "running", "cutoff"...); an unknown
 * word gets a neutral look. */
const struct look *look_of(const char *state);
const char *look_glyph(const char *state, bool ascii);
/* Every state with its glyph, "✓ cached  ✓ hit  ● ran ...", for a legend. Caller frees. */
char *look_legend(bool ascii);

#endif
