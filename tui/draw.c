/* draw: the screen as a function of the app: erase, draw everything, one doupdate(). */
#include "draw.h"

#include <curses.h>
#include <wchar.h>

#include "actions.h"
#include "group.h"
#include "look.h"
#include "panes.h"
#include "tasklist.h"

#define MIN_W 40
#define MIN_H 10

/* Quarter circles, not braille: Debian's default monospace font (DejaVu) has them. */
static const char *const spinner_utf8[] = {"◐", "◓", "◑", "◒"};
static const char *const spinner_ascii[] = {"|", "/", "-", "\\"};

void draw_init_colors(bool color)
{
    if (!color || !has_colors())
        return;
    start_color();
    use_default_colors();
    for (short c = 1; c <= 6; c++)
        init_pair(c, c, -1); /* LC_RED..LC_CYAN map onto COLOR_RED..COLOR_CYAN */
}

static attr_t state_attr(const char *state)
{
    const struct look *l = look_of(state);
    if (l->dim)
        return A_DIM;
    return l->color > 0 && has_colors() ? COLOR_PAIR(l->color) : 0;
}

/* The part of the picture on screen: rows [0, h) and columns [0, w) of the window. */
struct view {
    int x0, y0; /* picture coordinates of the window's top-left cell */
    int w, h;
    int sx;     /* the screen column of the window's left edge (the task list's width) */
};

/* Draws s at picture cell (px, py), character by character, so what lies outside the
 * window is clipped rather than wrapped onto the next line. */
static void put(const struct view *v, int px, int py, const char *s, attr_t attr)
{
    int x = px - v->x0, y = py - v->y0;
    if (y < 0 || y >= v->h || x >= v->w)
        return;
    attrset(attr);
    mbstate_t st = {0};
    for (size_t n; *s && x < v->w; s += n) {
        wchar_t wc;
        n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            n = 1; /* not valid in this locale: one column per byte */
            wc = '?';
            memset(&st, 0, sizeof st);
        }
        int cw = wcwidth(wc) > 0 ? wcwidth(wc) : 1;
        if (x >= 0 && x + cw <= v->w)
            mvaddnstr(y, v->sx + x, s, (int)n);
        x += cw;
    }
}

/* When the selection, its box or the window changed (a move, a search, a relayout, a
 * resize, a pane opening below), brings the selected box into the window: when any of
 * it is out of sight, the view centres on it. Otherwise the picture stays where panning
 * put it. */
static void follow_selection(struct app *a, struct view *v)
{
    const struct model *m = &a->m;
    const struct layout_box *b = m->sel >= 0 ? &m->layout.boxes[m->sel] : NULL;
    bool changed = b && (m->sel != a->followed || memcmp(b, &a->followed_box, sizeof *b) != 0 ||
                   v->w != a->followed_w || v->h != a->followed_h);
    if (changed) {
        a->followed = m->sel;
        a->followed_box = *b;
        a->followed_w = v->w;
        a->followed_h = v->h;
        bool narrow = m->layout.width < v->w; /* drawn centred, never scrolled sideways */
        if (!narrow && (b->x < a->scroll_x || b->x + b->w > a->scroll_x + v->w))
            a->scroll_x = b->x + b->w / 2 - v->w / 2;
        if (b->y < a->scroll_y || b->y + b->h > a->scroll_y + v->h)
            a->scroll_y = b->y + b->h / 2 - v->h / 2;
    }
    int max_x = m->layout.width - v->w, max_y = m->layout.height - v->h;
    a->scroll_x = a->scroll_x > max_x ? max_x : a->scroll_x;
    a->scroll_y = a->scroll_y > max_y ? max_y : a->scroll_y;
    a->scroll_x = a->scroll_x < 0 ? 0 : a->scroll_x;
    a->scroll_y = a->scroll_y < 0 ? 0 : a->scroll_y;
    /* A picture narrower than the window is centred. */
    v->x0 = m->layout.width < v->w ? -(v->w - m->layout.width) / 2 : a->scroll_x;
    v->y0 = a->scroll_y;
}

/* How the selected task's edges stand out: bold, and cyan where there are colours
 * (every other edge is drawn plain, arrowheads too, so bold alone says it). */
static attr_t edge_highlight(void)
{
    return A_BOLD | (has_colors() ? COLOR_PAIR(LC_CYAN) : 0);
}

static void draw_edges(const struct model *m, const struct view *v)
{
    const struct layout *l = &m->layout;
    for (int y = v->y0 < 0 ? 0 : v->y0; y < l->height && y < v->y0 + v->h; y++)
        for (int x = v->x0 < 0 ? 0 : v->x0; x < l->width && x < v->x0 + v->w; x++) {
            uint8_t c = l->cells[(size_t)y * (size_t)l->width + (size_t)x];
            if (c)
                put(v, x, y, layout_glyph(c, l->dir, m->ascii), 0);
        }
}

struct lit {
    const struct view *v;
    const struct layout *l;
    bool ascii;
};

static void light_cell(void *ctx, int x, int y, uint8_t mask)
{
    const struct lit *t = ctx;
    put(t->v, x, y, layout_glyph(mask, t->l->dir, t->ascii), edge_highlight());
}

/* The selected task's in- and out-edges, over the others (each edge has its own route
 * in the layout, so only the cells it runs through light up). */
static void draw_selected_edges(const struct model *m, const struct view *v)
{
    if (m->sel < 0)
        return;
    struct lit t = {v, &m->layout, m->ascii};
    layout_node_edge_cells(&m->layout, (size_t)m->sel, light_cell, &t);
}

static uint8_t cell(const struct layout *l, int x, int y)
{
    if (x < 0 || y < 0 || x >= l->width || y >= l->height)
        return 0;
    return l->cells[(size_t)y * (size_t)l->width + (size_t)x];
}

static bool box_in_sight(const struct layout_box *b, const struct view *v)
{
    return b->x + b->w > v->x0 && b->x < v->x0 + v->w && b->y + b->h > v->y0 &&
           b->y < v->y0 + v->h;
}

static void draw_box(const struct app *a, const struct view *v, size_t i)
{
    const struct model *m = &a->m;
    const struct layout_box *b = &m->layout.boxes[i];
    const char *state = model_state(m, i);
    bool sel = (long)i == m->sel,
         marked = m->marked[i] ||
                  (a->connect_from && strcmp(model_node_name(m, i), a->connect_from) == 0);
    attr_t border = marked ? (has_colors() ? COLOR_PAIR(LC_MAGENTA) : 0) | A_BOLD
                  : sel    ? state_attr(state) | A_BOLD
                           : state_attr(state);
    /* Border styles: plain, selected (heavy), marked for invalidation (double). */
    static const char *const frames[3][2][6] = {
        {{"─", "│", "╭", "╮", "╰", "╯"}, {"-", "|", "+", "+", "+", "+"}},
        {{"━", "┃", "┏", "┓", "┗", "┛"}, {"-", "|", "+", "+", "+", "+"}},
        {{"═", "║", "╔", "╗", "╚", "╝"}, {"=", "#", "#", "#", "#", "#"}},
    };
    bool asc = m->ascii;
    const char *const *f = frames[marked ? 2 : sel ? 1 : 0][asc];
    const char *h = f[0], *vl = f[1], *tl = f[2], *tr = f[3], *bl = f[4], *br = f[5];
    for (int x = b->x + 1; x < b->x + b->w - 1; x++) {
        bool down = cell(&m->layout, x, b->y + b->h) & LINE_UP;
        put(v, x, b->y, h, border);
        put(v, x, b->y + 2, down ? (asc ? "+" : marked ? "╤" : sel ? "┳" : "┬") : h, border);
    }
    bool right = cell(&m->layout, b->x + b->w, b->y + 1) & LINE_LEFT;
    put(v, b->x, b->y, tl, border);
    put(v, b->x + b->w - 1, b->y, tr, border);
    put(v, b->x, b->y + 2, bl, border);
    put(v, b->x + b->w - 1, b->y + 2, br, border);
    put(v, b->x, b->y + 1, vl, border);
    put(v, b->x + b->w - 1, b->y + 1, right ? (asc ? "+" : marked ? "╟" : sel ? "┣" : "├") : vl, border);
    /* " ✓ name      note " */
    const char *glyph = strcmp(state, "running") == 0
                            ? (asc ? spinner_ascii[a->spinner % 4] : spinner_utf8[a->spinner % 4])
                            : look_glyph(state, asc);
    const char *found = a->prompt == PROMPT_SEARCH ? a->input.buf
                        : a->search_shown          ? a->search
                                                   : NULL;
    attr_t label = (sel ? A_REVERSE | A_BOLD : 0) | (model_matches(m, i, found) ? A_UNDERLINE : 0);
    for (int x = b->x + 1; x < b->x + b->w - 1; x++)
        put(v, x, b->y + 1, " ", label);
    /* On the selected task's reversed bar a coloured glyph would be a coloured block. */
    put(v, b->x + 2, b->y + 1, glyph, sel ? label : state_attr(state) | A_BOLD);
    char name[256];
    snprintf(name, sizeof name, "%s", m->labels[i]);
    put(v, b->x + 4, b->y + 1, name, label);
    if (group_is(m, i)) { /* "map ×3: 2 ✓ 1 ○" */
        int at = b->x + 4 + layout_text_width(name);
        char counts[160];
        group_counts(m, i, b->x + b->w - 2 - (at + 2), counts, sizeof counts);
        put(v, at, b->y + 1, ":", label);
        put(v, at + 2, b->y + 1, counts, label);
        return;
    }
    char note[32];
    model_note(m, i, note, sizeof note);
    if (note[0])
        put(v, b->x + b->w - 2 - layout_text_width(note), b->y + 1, note, label | A_DIM);
}

/* The columns the task list takes (0 when it is closed). */
static int list_width(const struct app *a)
{
    return a->list.open && a->m.ws ? tasklist_width(COLS) : 0;
}

/* A form: a title, its fields, the verdict and the completion hint. */
static int form_height(const struct form *f)
{
    return (int)f->n + 3;
}

static int pane_height(const struct app *a, int rows)
{
    if (a->form)
        return form_height(a->form) < rows ? form_height(a->form) : rows;
    const struct pane_ops *p = pane_ops(a->pane);
    if (!p)
        return 0;
    /* Panes about the selected task leave the graph in sight; lists take the screen. */
    return !p->beside_graph ? rows : rows / 2 > 6 ? rows / 2 : 6;
}

static void draw_pane(const struct app *a, int top, int h)
{
    attrset(A_REVERSE | A_BOLD);
    mvhline(top, 0, ' ', COLS);
    mvaddnstr(top, 1, a->pane_title ? a->pane_title : "", COLS - 2);
    attrset(0);
    for (int row = 1; row < h; row++) {
        size_t k = (size_t)(a->pane_scroll + row - 1);
        if (k >= a->lines.n)
            break;
        const char *l = a->lines.v[k];
        const char *t = l + strspn(l, " ");
        bool diff = pane_ops(a->pane)->diff_colors;
        attr_t attr = !diff                      ? 0
                    : t[0] == '+' && t[1] != '+' ? (has_colors() ? COLOR_PAIR(LC_GREEN) : A_BOLD)
                    : t[0] == '-' && t[1] != '-' ? (has_colors() ? COLOR_PAIR(LC_RED) : A_DIM)
                    : t[0] == '@'                ? (has_colors() ? COLOR_PAIR(LC_CYAN) : 0)
                                                 : 0;
        if (pane_ops(a->pane)->rows && (long)k == a->run_sel + 1)
            attr = A_REVERSE;
        const char *found = a->prompt == PROMPT_FIND ? a->input.buf : a->pane_search;
        if (found && found[0] && strcasestr(l, found))
            attr |= A_BOLD | A_UNDERLINE;
        attrset(attr);
        mvaddnstr(top + row, 0, l, COLS);
    }
    attrset(0);
}

/* One field: its label, and its text scrolled so the cursor stays in sight. */
static void draw_field(const struct form_field *fl, bool focused, int row)
{
    const int label_w = 13;
    attrset(focused ? A_BOLD : A_DIM);
    mvprintw(row, 1, "%-*s", label_w - 1, fl->label);
    attrset(0);
    const char *text = fl->text.buf ? fl->text.buf : "";
    int room = COLS - label_w - 2;
    size_t from = focused && fl->cursor > (size_t)room ? fl->cursor - (size_t)room : 0;
    mvaddnstr(row, label_w, text + from, room);
    if (focused) {
        char c = fl->cursor < fl->text.len ? text[fl->cursor] : ' ';
        attrset(A_REVERSE);
        mvaddch(row, label_w + (int)(fl->cursor - from),
                (chtype)(unsigned char)(c < ' ' ? ' ' : c));
        attrset(0);
    }
}

static void draw_form(const struct app *a, int top, int h)
{
    const struct form *f = a->form;
    attrset(A_REVERSE | A_BOLD);
    mvhline(top, 0, ' ', COLS);
    char *title = f->kind == FORM_ADD ? xstrdup("add a task: Enter adds it")
                                      : xasprintf("edit %s: Enter applies", f->task);
    char *keys = xasprintf("%s, Esc cancels, Up/Down move, Tab completes", title);
    mvaddnstr(top, 1, keys, COLS - 2);
    free(keys);
    free(title);
    attrset(0);
    for (size_t i = 0; i < f->n && (int)i + 1 < h; i++)
        draw_field(&f->fields[i], i == f->focus, top + 1 + (int)i);
    int row = top + 1 + (int)f->n;
    if (row < top + h) {
        attrset(f->verdict ? (has_colors() ? COLOR_PAIR(LC_RED) : A_BOLD) : A_DIM);
        mvaddnstr(row, 1, f->verdict ? f->verdict : "valid", COLS - 2);
        attrset(0);
    }
    if (f->hint && row + 1 < top + h)
        mvaddnstr(row + 1, 1, f->hint, COLS - 2);
}

/* " chain │ 3 cached  1 stale │ ● run 4 going │ flow.json · store ./.sluice": what
 * matters most first, so a narrow terminal cuts off the least useful part. */
static void draw_status(const struct app *a, int row)
{
    const struct model *m = &a->m;
    struct sb b = {0};
    const char *bar = m->ascii ? "|" : "│", *dot = m->ascii ? "-" : "·";
    sb_addf(&b, " %s", m->ws ? m->ws->flow->name : "sluice");
    char *counts = model_counts(m);
    sb_addf(&b, " %s %s", bar, counts[0] || !m->ws ? counts : "no tasks");
    free(counts);
    if (m->past_run) {
        char at[160];
        model_past_label(m, at, sizeof at);
        sb_addf(&b, " %s run %lld %s%s %s %s", bar, (long long)m->past_run,
                a->playing ? (m->ascii ? "> " : "▶ ") : "", at, bar,
                m->past_at == m->n_past ? "as it ended" : "Esc: now");
    }
    else if (m->run_going)
        sb_addf(&b, " %s %s run %lld going", bar, a->m.ascii ? "*" : "●", (long long)m->run_id);
    if (m->focus >= 0)
        sb_addf(&b, " %s focus", bar);
    if (m->doc && flowedit_dirty(m->doc))
        sb_addf(&b, " %s unsaved%s", bar, m->disk_conflict ? " (changed on disk)" : "");
    if (m->ws)
        sb_addf(&b, " %s %s %s store %s", bar, m->ws->flow->path, dot, store_root(m->ws->store));
    attrset(A_REVERSE);
    mvhline(row, 0, ' ', COLS);
    mvaddnstr(row, 0, b.buf, COLS);
    attrset(0);
    sb_free(&b);
}

/* The last line: the prompt being typed, a question, the last message, or key hints. */
static void draw_bottom(const struct app *a, int row)
{
    move(row, 0);
    clrtoeol();
    if (a->prompt == PROMPT_FILTER) {
        mvaddch(row, 0, '/');
        addnstr(a->list.text.buf ? a->list.text.buf : "", COLS - 2);
        int room = COLS - 2 - (int)a->list.text.len;
        attrset(A_DIM);
        if (room > 0)
            addnstr("   (filters the list as you type; Enter keeps it, Esc drops it)", room);
        attrset(0);
        return;
    }
    if (a->prompt == PROMPT_SEARCH || a->prompt == PROMPT_COMMAND || a->prompt == PROMPT_FIND) {
        const char *text = a->input.buf ? a->input.buf : "";
        mvaddch(row, 0, a->prompt == PROMPT_COMMAND ? ':' : '/');
        addnstr(text, COLS - 2);
        char count[64] = "";
        if (a->prompt == PROMPT_SEARCH && text[0]) {
            size_t n = model_count_matches(&a->m, text);
            snprintf(count, sizeof count, "   %zu match%s", n, n == 1 ? "" : "es");
        } else if (a->prompt == PROMPT_FIND && text[0]) {
            size_t n = 0;
            for (size_t i = 0; i < a->lines.n; i++)
                n += strcasestr(a->lines.v[i], text) != NULL;
            snprintf(count, sizeof count, "   %zu line%s", n, n == 1 ? "" : "s");
        }
        int room = COLS - 2 - (int)strlen(text);
        attrset(A_DIM);
        if (room > 0)
            addnstr(count, room);
        attrset(0);
        return;
    }
    if (a->prompt == PROMPT_CONFIRM || a->message) {
        attrset(A_BOLD);
        mvaddnstr(row, 0, a->prompt == PROMPT_CONFIRM ? a->question : a->message, COLS);
        attrset(0);
        return;
    }
    if (a->connect_from) {
        attrset(A_BOLD);
        mvprintw(row, 0, "connect: select the task that comes after %s, then Enter (Esc: no)",
                 a->connect_from);
        attrset(0);
        return;
    }
    char pos[160] = "";
    if (pane_height(a, LINES - 2) < LINES - 2) /* the graph is in sight */
        model_position(&a->m, pos, sizeof pos);
    int pw = pos[0] ? layout_text_width(pos) : 0;
    if (pw > COLS / 2)
        pw = 0;
    char *hints = actions_footer(actions_context(a), COLS - 1 - (pw ? pw + 2 : 0));
    attrset(A_DIM);
    mvaddnstr(row, 0, hints, COLS);
    attrset(0);
    free(hints);
    if (pw)
        mvaddstr(row, COLS - 1 - pw, pos);
}

/* What a `:` candidate is: an action's usage and help, or a task's state. */
static void describe(const struct app *a, const char *cand, char *buf, size_t n)
{
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(cand, " "), cand);
    buf[0] = 0;
    if (a->cand_start == 0) {
        const char *help = actions_describe(name), *usage = actions_usage(name);
        if (help)
            snprintf(buf, n, "%s%s%s", usage && usage[0] ? usage : "",
                     usage && usage[0] ? ": " : "", help);
        return;
    }
    long t = a->m.ws ? flow_find(a->m.ws->flow, name) : -1;
    long v = t >= 0 ? a->m.view.of_task[t] : -1;
    if (v >= 0 && strcmp(model_node_name(&a->m, (size_t)v), name) == 0)
        snprintf(buf, n, "%s %s", look_glyph(model_state(&a->m, (size_t)v), a->m.ascii),
                 model_state(&a->m, (size_t)v));
}

/* The `:` line's candidates above it, with what each is; Tab cycles through them. */
static void draw_palette(const struct app *a)
{
    if (a->prompt != PROMPT_COMMAND || !a->cands.n)
        return;
    int max = LINES - 4 < 8 ? LINES - 4 : 8, n = (int)a->cands.n;
    int shown = n > max ? max - 1 : n, top = LINES - 2 - (n > max ? max : n);
    long first = a->cand_sel >= shown ? a->cand_sel - shown + 1 : 0;
    for (int r = 0; r < shown; r++) {
        long k = first + r;
        char desc[256];
        describe(a, a->cands.v[k], desc, sizeof desc);
        attrset(k == a->cand_sel ? A_REVERSE : 0);
        mvhline(top + r, 0, ' ', COLS);
        if (k == a->cand_sel)
            mvaddstr(top + r, 0, a->m.ascii ? ">" : "▸");
        mvaddnstr(top + r, 1, a->cands.v[k], COLS - 2);
        attrset(k == a->cand_sel ? A_REVERSE : A_DIM);
        if (COLS > 30)
            mvaddnstr(top + r, 24, desc, COLS - 25);
        attrset(0);
    }
    if (n > max) {
        mvhline(top + shown, 0, ' ', COLS);
        attrset(A_DIM);
        mvprintw(top + shown, 1, "... %d more (type to narrow, Tab cycles)", n - shown);
        attrset(0);
    }
}

/* Writes text from the top left, broken between words to fit the terminal's width. */
static void draw_wrapped(const char *text)
{
    int row = 0;
    const char *s = text;
    while (*s && row < LINES) {
        int n = text_break(s, COLS);
        mvaddnstr(row++, 0, s, n);
        s += n;
        while (*s == ' ')
            s++;
    }
}

void draw_frame(struct app *a)
{
    erase();
    if (COLS < MIN_W || LINES < MIN_H) {
        char msg[128];
        snprintf(msg, sizeof msg, "sluice: the terminal is too small (%dx%d; needs %dx%d)",
                 COLS, LINES, MIN_W, MIN_H);
        draw_wrapped(msg);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    int rows = LINES - 2, ph = pane_height(a, rows);
    if (!a->m.ws) {
        attrset(has_colors() ? COLOR_PAIR(LC_RED) : A_BOLD);
        mvaddstr(1, 2, "The flow cannot be used:");
        attrset(0);
        mvaddnstr(2, 4, a->m.error ? a->m.error : "", COLS - 6);
        mvaddnstr(4, 2,
                  a->m.doc ? "Fix it with : commands (:unset TASK.FIELD, :set ...), or in "
                             "$EDITOR (E)."
                           : "Fix the file and save it: this screen follows. E opens it in "
                             "$EDITOR.",
                  COLS - 4);
    } else if (a->m.ws->flow->n_tasks == 0 && ph < rows) {
        mvaddstr(1, 2, "No tasks yet.");
        mvaddnstr(2, 2,
                  "a adds one with a form; or type :add NAME COMMAND, then :connect UP "
                  "DOWN, :set TASK.FIELD VALUE, :save.",
                  COLS - 4);
    } else if (ph < rows) {
        int lw = list_width(a);
        struct view v = {.w = COLS - lw, .h = rows - ph, .sx = lw};
        if (lw) {
            tasklist_draw(&a->list, &a->m, 0, 0, lw - 1, rows - ph, a->spinner);
            attrset(A_DIM);
            for (int r = 0; r < rows - ph; r++)
                mvaddstr(r, lw - 1, a->m.ascii ? "|" : "│");
            attrset(0);
        }
        follow_selection(a, &v);
        draw_edges(&a->m, &v);
        draw_selected_edges(&a->m, &v);
        for (size_t i = 0; i < a->m.view.n; i++)
            if (box_in_sight(&a->m.layout.boxes[i], &v))
                draw_box(a, &v, i);
    }
    if (a->form)
        draw_form(a, rows - ph, ph);
    else if (ph)
        draw_pane(a, rows - ph, ph);
    draw_status(a, LINES - 2);
    draw_bottom(a, LINES - 1);
    draw_palette(a);
    wnoutrefresh(stdscr);
    doupdate();
}

int draw_pane_rows(const struct app *a)
{
    int h = pane_height(a, LINES - 2) - 1;
    return h > 1 ? h : 1;
}

long draw_hit(const struct app *a, int x, int y)
{
    const struct model *m = &a->m;
    int lw = list_width(a);
    if (x < lw)
        return -1;
    x -= lw;
    struct view v = {.w = COLS - lw, .h = LINES - 2 - pane_height(a, LINES - 2)};
    v.x0 = m->layout.width < v.w ? -(v.w - m->layout.width) / 2 : a->scroll_x;
    v.y0 = a->scroll_y;
    int px = x + v.x0, py = y + v.y0;
    for (size_t i = 0; i < m->view.n; i++) {
        const struct layout_box *b = &m->layout.boxes[i];
        if (px >= b->x && px < b->x + b->w && py >= b->y && py < b->y + b->h)
            return (long)i;
    }
    return -1;
}
