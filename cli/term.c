/* term: glyphs, colours and terminal detection for the CLI. */
#include "term.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct look {
    const char *state, *utf8, *ascii, *color;
};

static const struct look looks[] = {
    {"cached", "✓", "+", "\033[32m"},    {"hit", "✓", "+", "\033[32m"},
    {"ran", "✓", "+", "\033[32m"},       {"cutoff", "≡", "=", "\033[36m"},
    {"stale", "~", "~", "\033[33m"},     {"pending", "○", "o", "\033[34m"},
    {"queued", "○", "o", "\033[34m"},    {"running", "▶", ">", "\033[35m"},
    {"failed", "✗", "x", "\033[31m"},    {"blocked", "⊘", "!", "\033[31m"},
    {"cancelled", "⊘", "!", "\033[33m"}, {"skipped", "·", "-", "\033[2m"},
    {"expired", "◔", "e", "\033[33m"},     {"invalidated", "⊗", "i", "\033[35m"},
};

static const struct look *find(const char *state)
{
    for (size_t i = 0; i < sizeof looks / sizeof looks[0]; i++)
        if (strcmp(looks[i].state, state) == 0)
            return &looks[i];
    return NULL;
}

void term_detect(struct term *t, FILE *f)
{
    t->tty = isatty(fileno(f));
    const char *nc = getenv("NO_COLOR");
    const char *termname = getenv("TERM");
    t->color = t->tty && !(nc && nc[0]) && !(termname && strcmp(termname, "dumb") == 0);
    const char *cs = nl_langinfo(CODESET);
    t->utf8 = cs && strcmp(cs, "UTF-8") == 0;
    struct winsize ws;
    t->width = t->tty && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

const char *term_glyph(const struct term *t, const char *state)
{
    const struct look *l = find(state);
    if (!l)
        return "?";
    return t->utf8 ? l->utf8 : l->ascii;
}

const char *term_color(const struct term *t, const char *state)
{
    const struct look *l = find(state);
    return t->color && l ? l->color : "";
}

const char *term_reset(const struct term *t)
{
    return t->color ? "\033[0m" : "";
}
