/* look: the table of states. */
#include "look.h"

#include <string.h>

#include "util.h"

static const struct look looks[] = {
    {"cached", "✓", "+", LC_GREEN, false},    {"hit", "✓", "+", LC_GREEN, false},
    {"not kept", "◇", "n", LC_GREEN, true},
    {"ran", "●", "*", LC_GREEN, false},       {"cutoff", "≡", "=", LC_CYAN, false},
    {"stale", "~", "~", LC_YELLOW, false},    {"pending", "○", "o", LC_BLUE, false},
    {"queued", "◌", "q", LC_BLUE, false},     {"submitted", "◌", "q", LC_BLUE, false},
    {"running", "▶", ">", LC_MAGENTA, false}, {"fetching", "↓", "v", LC_CYAN, false},
    {"failed", "✗", "x", LC_RED, false},      {"blocked", "⊘", "!", LC_RED, false},
    {"cancelled", "⊘", "!", LC_YELLOW, false}, {"skipped", "·", "-", LC_DEFAULT, true},
    {"expired", "◔", "e", LC_YELLOW, false},  {"invalidated", "⊗", "i", LC_MAGENTA, false},
};

static const struct look unknown = {"", "?", "?", LC_DEFAULT, false};

const struct look *look_of(const char *state)
{
    for (size_t i = 0; i < sizeof looks / sizeof looks[0]; i++)
        if (strcmp(looks[i].state, state) == 0)
            return &looks[i];
    return &unknown;
}

char *look_legend(bool ascii)
{
    struct sb b = {0};
    for (size_t i = 0; i < sizeof looks / sizeof looks[0]; i++) {
        const char *g = ascii ? looks[i].ascii : looks[i].utf8;
        bool again = false; /* submitted looks as queued: say it once */
        for (size_t k = 0; k < i; k++)
            again |= strcmp(g, ascii ? looks[k].ascii : looks[k].utf8) == 0 &&
                     strcmp(looks[i].state, "submitted") == 0;
        if (!again)
            sb_addf(&b, "%s%s %s", b.len ? "  " : "", g,
                    strcmp(looks[i].state, "cutoff") == 0 ? "cut off" : looks[i].state);
    }
    return sb_take(&b);
}

const char *look_glyph(const char *state, bool ascii)
{
    const struct look *l = look_of(state);
    return ascii ? l->ascii : l->utf8;
}
