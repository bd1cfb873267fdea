/* tasklist: filtering, moving and drawing the task list. */
#include "tasklist.h"

#include <curses.h>
#include <strings.h>

#include "look.h"

void tasklist_free(struct tasklist *l)
{
    sb_free(&l->text);
}

static bool name_matches(const char *name, const char *text)
{
    size_t n = strlen(text);
    for (; *name; name++)
        if (strncasecmp(name, text, n) == 0)
            return true;
    return n == 0;
}

static bool shows(const struct tasklist *l, const struct model *m, size_t i)
{
    if (l->state && strcmp(model_state(m, i), l->state) != 0)
        return false;
    return !l->text.len || name_matches(model_node_name(m, i), l->text.buf);
}

size_t tasklist_rows(const struct tasklist *l, const struct model *m, size_t **rows)
{
    size_t n = 0;
    *rows = xcalloc(m->view.n + 1, sizeof **rows);
    for (size_t i = 0; i < m->view.n; i++)
        if (shows(l, m, i))
            (*rows)[n++] = i;
    return n;
}

/* The state filters s goes through, what needs a look first. */
static const char *const cycle_order[] = {
    "failed",  "blocked", "cancelled", "running", "fetching", "queued", "stale",    "expired", "invalidated",
    "pending", "cached",  "not kept",  "ran",     "hit",    "cutoff",   "skipped"};
#define N_CYCLE (sizeof cycle_order / sizeof cycle_order[0])

void tasklist_cycle(struct tasklist *l, const struct model *m, int dir)
{
    size_t k = N_CYCLE; /* "every state" sits between the last and the first */
    for (size_t j = 0; l->state && j < N_CYCLE; j++)
        if (strcmp(cycle_order[j], l->state) == 0)
            k = j;
    for (size_t step = 1; step <= N_CYCLE; step++) {
        size_t j = (k + (dir > 0 ? step : (N_CYCLE + 1) * step - step)) % (N_CYCLE + 1);
        if (j == N_CYCLE)
            break;
        if (model_count_state(m, cycle_order[j])) {
            l->state = cycle_order[j];
            return;
        }
    }
    l->state = NULL;
}

/* The selection's row, or -1 when the list does not show it. */
static long row_of(const size_t *rows, size_t n, long sel)
{
    for (size_t r = 0; r < n; r++)
        if ((long)rows[r] == sel)
            return (long)r;
    return -1;
}

void tasklist_move(const struct tasklist *l, struct model *m, long delta)
{
    size_t *rows;
    size_t n = tasklist_rows(l, m, &rows);
    if (n) {
        long r = row_of(rows, n, m->sel);
        r = r < 0 ? 0 : r + delta;
        r = r < 0 ? 0 : r >= (long)n ? (long)n - 1 : r;
        m->sel = (long)rows[r];
    }
    free(rows);
}

void tasklist_sync(const struct tasklist *l, struct model *m)
{
    size_t *rows;
    size_t n = tasklist_rows(l, m, &rows);
    if (n && row_of(rows, n, m->sel) < 0)
        m->sel = (long)rows[0];
    free(rows);
}

int tasklist_width(int cols)
{
    int w = cols * 3 / 8; /* at 100 columns, room for the notes */
    return w < 26 ? 26 : w > 52 ? 52 : w;
}

static attr_t state_attr(const char *state)
{
    const struct look *lk = look_of(state);
    if (lk->dim)
        return A_DIM;
    return lk->color > 0 && has_colors() ? COLOR_PAIR(lk->color) : 0;
}

/* One row: "> ✗ t1000        failed  3s" (the note only where there is room). */
static void draw_row(const struct model *m, size_t i, bool sel, bool focused, int x, int y,
                     int w, unsigned spinner)
{
    static const char *const spin_utf8[] = {"◐", "◓", "◑", "◒"}, *const spin_ascii[] = {
                                                                     "|", "/", "-", "\\"};
    const char *state = model_state(m, i);
    const char *glyph = strcmp(state, "running") != 0 ? look_glyph(state, m->ascii)
                        : m->ascii                    ? spin_ascii[spinner % 4]
                                                      : spin_utf8[spinner % 4];
    char note[32] = "";
    if (w >= 34)
        model_note(m, i, note, sizeof note);
    int name_w = w - 4 - 12 - (note[0] ? 8 : 0);
    attr_t base = sel ? (focused ? A_REVERSE : A_BOLD) : 0;
    attrset(base);
    mvhline(y, x, ' ', w);
    mvaddstr(y, x, sel ? (m->ascii ? ">" : "▸") : " ");
    attrset(sel && focused ? base : state_attr(state) | A_BOLD);
    mvaddstr(y, x + 1, glyph);
    attrset(base);
    mvaddnstr(y, x + 3, model_node_name(m, i), name_w);
    attrset(base | (sel && focused ? 0 : state_attr(state)));
    mvaddnstr(y, x + 4 + name_w, strcmp(state, "cutoff") == 0 ? "cut off" : state, 11);
    attrset(base | A_DIM);
    if (note[0])
        mvaddnstr(y, x + w - 1 - (int)strlen(note), note, 8);
    attrset(0);
}

/* The second line: how many nodes are in each state, by glyph ("✗1 ✓77 ○1922"). */
static void draw_counts(const struct model *m, int x, int y, int w)
{
    struct sb b = {0};
    for (size_t k = 0; model_state_word(k); k++) {
        size_t c = model_count_state(m, model_state_word(k));
        size_t len = b.len;
        if (c)
            sb_addf(&b, "%s%s%zu", b.len ? " " : "", look_glyph(model_state_word(k), m->ascii),
                    c);
        if (b.len > len && layout_text_width(b.buf) > w - 1) { /* only whole counts */
            b.buf[b.len = len] = 0;
            break;
        }
    }
    attrset(A_DIM);
    mvaddstr(y, x + 1, b.buf ? b.buf : "");
    attrset(0);
    sb_free(&b);
}

void tasklist_draw(struct tasklist *l, const struct model *m, int x, int y, int w, int h,
                   unsigned spinner)
{
    size_t *rows;
    size_t n = tasklist_rows(l, m, &rows);
    struct sb title = {0};
    for (int words = 1; words >= 0 && (!title.len || layout_text_width(title.buf) > w); words--) {
        title.len = 0; /* too wide: without "tasks " */
        sb_addf(&title, " %s%zu of %zu", words ? "tasks " : "", n, m->view.n);
        if (l->state)
            sb_addf(&title, " %s %s", m->ascii ? "-" : "·",
                    strcmp(l->state, "cutoff") == 0 ? "cut off" : l->state);
        if (l->text.len)
            sb_addf(&title, " %s \"%s\"", m->ascii ? "-" : "·", l->text.buf);
    }
    attrset(l->focused ? A_REVERSE | A_BOLD : A_REVERSE);
    mvhline(y, x, ' ', w);
    mvaddnstr(y, x, title.buf, layout_text_width(title.buf) <= w ? -1 : w); /* w is in bytes */
    attrset(0);
    sb_free(&title);
    draw_counts(m, x, y + 1, w);
    int room = h - 2;
    long cur = row_of(rows, n, m->sel);
    if (cur >= 0 && cur < l->scroll)
        l->scroll = (int)cur;
    if (cur >= 0 && cur >= l->scroll + room)
        l->scroll = (int)cur - room + 1;
    if (l->scroll > (int)n - room)
        l->scroll = (int)n - room;
    l->scroll = l->scroll < 0 ? 0 : l->scroll;
    for (int r = 0; r < room && (size_t)(l->scroll + r) < n; r++) {
        size_t i = rows[l->scroll + r];
        draw_row(m, i, (long)i == m->sel, l->focused, x, y + 2 + r, w, spinner);
    }
    if (n == 0)
        mvaddnstr(y + 2, x + 1, "(no task matches)", w - 1);
    free(rows);
}
