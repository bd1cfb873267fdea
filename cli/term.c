/* term: glyphs, colours and terminal detection for the CLI (states look as in the TUI). */
#include "term.h"

#include <langinfo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "look.h"
#include "util.h"

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

void term_put_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            fprintf(f, "^%c", c == 0x7f ? '?' : c + 0x40);
        else
            putc(c, f);
    }
}

void term_print(FILE *f, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    bool nl = b.len > 0 && b.buf[b.len - 1] == '\n';
    term_put_text(f, b.buf, b.len - nl);
    if (nl)
        putc('\n', f);
    sb_free(&b);
}
