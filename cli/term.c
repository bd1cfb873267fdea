/* term: glyphs, colours and terminal detection for the CLI (states look as in the TUI). */
#include "term.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "look.h"

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
    return look_glyph(state, !t->utf8);
}

const char *term_color(const struct term *t, const char *state)
{
    static const char *const ansi[] = {"", "\033[31m", "\033[32m", "\033[33m",
                                       "\033[34m", "\033[35m", "\033[36m"};
    const struct look *l = look_of(state);
    if (!t->color)
        return "";
    if (l->dim)
        return "\033[2m";
    return l->color > 0 ? ansi[l->color] : "";
}

const char *term_reset(const struct term *t)
{
    return t->color ? "\033[0m" : "";
}
