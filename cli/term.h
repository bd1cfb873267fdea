/* term: how the CLI draws states on a terminal or a pipe.
 *
 * Every state is shown with a glyph and a word; colour is added only when stdout is a
 * terminal and NO_COLOR is unset; glyphs fall back to ASCII when the locale is not
 * UTF-8. */
#ifndef SLUICE_TERM_H
#define SLUICE_TERM_H

#include <stdbool.h>
#include <stdio.h>

struct term {
    bool tty;   /* stdout is a terminal */
    bool color; /* use ANSI colours */
    bool utf8;
    int width; /* columns of the terminal (80 when unknown) */
};

void term_detect(struct term *t, FILE *f);

/* Glyph and ANSI colour sequence for a state or decision word ("cached", "ran"...). */
const char *term_glyph(const struct term *t, const char *state);
const char *term_color(const struct term *t, const char *state);
const char *term_reset(const struct term *t);

/* Writes n bytes of text that came from files (names, reasons naming them, diffs, logs)
 * so that it cannot drive the terminal: control bytes but tab in caret notation (ESC as
 * ^[, DEL as ^?). */
void term_put_text(FILE *f, const char *s, size_t n);
/* printf, its result written so (a final newline kept as one). */
void term_print(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
