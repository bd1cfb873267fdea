/* script: key scripts for tests and screenshots. */
#include "script.h"

#include <curses.h>
#include <limits.h>
#include <signal.h>
#include <wchar.h>

#include "draw.h"

struct script {
    struct strv lines;
    size_t next;
    int w, h;
    double wait_until; /* > 0 while a wait command is in progress */
    bool in_step;      /* a command is running (the next line is the one after it) */
    size_t taken;      /* lines after it that a long reload took (`during-load`) */
};

int script_open(const char *path, struct script **out, struct err *e)
{
    char *text = file_read_all(path, NULL, e);
    if (!text)
        return -1;
    struct script *s = xcalloc(1, sizeof *s);
    s->w = 100;
    s->h = 30;
    for (char *l = text; *l;) {
        char *eol = strchr(l, '\n');
        size_t n = eol ? (size_t)(eol - l) : strlen(l);
        if (n && l[0] != '#')
            strv_push(&s->lines, xstrndup(l, n));
        l += n + (eol ? 1 : 0);
    }
    free(text);
    if (s->lines.n && sscanf(s->lines.v[0], "size %d %d", &s->w, &s->h) == 2)
        s->next = 1;
    *out = s;
    return 0;
}

int script_width(const struct script *s)
{
    return s->w;
}

int script_height(const struct script *s)
{
    return s->h;
}

void script_close(struct script *s)
{
    if (!s)
        return;
    strv_free(&s->lines);
    free(s);
}

static char *screen_text(bool bold_only);

char *script_screen_text(void)
{
    return screen_text(false);
}

/* The screen as text; bold_only: with every cell not drawn bold left blank. */
static char *screen_text(bool bold_only)
{
    struct sb b = {0};
    for (int y = 0; y < LINES; y++) {
        size_t start = b.len, last = b.len;
        for (int x = 0; x < COLS; x++) {
            cchar_t c;
            wchar_t wch[CCHARW_MAX + 1] = {0};
            attr_t attr;
            short pair;
            char mb[MB_LEN_MAX * (CCHARW_MAX + 1)] = " ";
            if (mvwin_wch(stdscr, y, x, &c) == OK &&
                getcchar(&c, wch, &attr, &pair, NULL) == OK && wch[0] &&
                (!bold_only || (attr & A_BOLD))) {
                mbstate_t st = {0};
                size_t n = wcrtomb(mb, wch[0], &st);
                mb[n == (size_t)-1 ? 0 : n] = 0;
            }
            sb_adds(&b, mb[0] ? mb : " ");
            if (strcmp(mb, " ") != 0)
                last = b.len;
        }
        b.len = last > start ? last : start;
        sb_addc(&b, '\n');
    }
    return sb_take(&b);
}

static int key_code(const char *name)
{
    static const struct {
        const char *name;
        int code;
    } keys[] = {{"Enter", '\n'},       {"Esc", 27},           {"Tab", '\t'},
                {"Up", KEY_UP},        {"Down", KEY_DOWN},    {"Left", KEY_LEFT},
                {"Right", KEY_RIGHT},  {"Home", KEY_HOME},    {"End", KEY_END},
                {"PgUp", KEY_PPAGE},   {"PgDn", KEY_NPAGE},   {"S-Left", KEY_SLEFT},
                {"S-Right", KEY_SRIGHT}, {"Backspace", KEY_BACKSPACE}, {"Space", ' '}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(name, keys[i].name) == 0)
            return keys[i].code;
    if (name[0] == '^' && name[1]) /* ^R: Ctrl-R */
        return name[1] & 0x1f;
    return (unsigned char)name[0];
}

int script_key_during_load(struct script *s)
{
    char arg[64];
    size_t k = s->in_step ? s->next + 1 + s->taken : s->next;
    if (k >= s->lines.n || sscanf(s->lines.v[k], "during-load %63s", arg) != 1)
        return -1;
    if (s->in_step)
        s->taken++;
    else
        s->next++;
    return key_code(arg);
}

void script_progress(const char *line)
{
    printf("--- progress: %s ---\n", line);
    fflush(stdout);
}

static void dump(const char *name, bool bold_only)
{
    char *text = screen_text(bold_only);
    printf("--- screen %s ---\n%s--- end ---\n", name, text);
    fflush(stdout);
    free(text);
}

/* A wait command: true once its condition holds (or it timed out). */
static bool waited(struct script *s, struct app *a, const char *line, bool holds, long ms)
{
    if (holds) {
        s->wait_until = 0;
        return true;
    }
    if (s->wait_until == 0)
        s->wait_until = now_mono() + ms / 1000.0;
    if (now_mono() < s->wait_until) {
        app_tick(a);
        napms(20);
        return false;
    }
    printf("--- timeout: %s ---\n", line);
    s->wait_until = 0;
    return true;
}

static bool screen_has(struct app *a, const char *text)
{
    draw_frame(a);
    char *screen = script_screen_text();
    bool has = strstr(screen, text) != NULL;
    free(screen);
    return has;
}

int script_step(struct script *s, struct app *a)
{
    if (s->next >= s->lines.n)
        return 1;
    const char *line = s->lines.v[s->next];
    char arg[512] = "";
    long ms = 20000;
    bool done = true;
    s->in_step = true;
    if (strncmp(line, "keys ", 5) == 0 || strncmp(line, "type ", 5) == 0) {
        for (const char *c = line + 5; *c; c++)
            app_key(a, (unsigned char)*c);
    } else if (sscanf(line, "key %511s", arg) == 1) { /* after "keys", which it would match */
        app_key(a, key_code(arg));
    } else if (strncmp(line, "wait-idle", 9) == 0 && (line[9] == 0 || line[9] == ' ')) {
        ms = line[9] ? atol(line + 10) : ms;
        app_tick(a);
        done = waited(s, a, line, app_idle(a), ms);
    } else if (strncmp(line, "wait-text ", 10) == 0) {
        snprintf(arg, sizeof arg, "%s", line + 10);
        char *sp = strrchr(arg, ' ');
        if (sp && sp[1] && strspn(sp + 1, "0123456789") == strlen(sp + 1)) {
            ms = atol(sp + 1);
            *sp = 0;
        }
        done = waited(s, a, line, screen_has(a, arg), ms);
    } else if (strncmp(line, "sh ", 3) == 0) {
        if (system(line + 3) != 0)
            printf("--- failed: %s ---\n", line);
    } else if (strcmp(line, "interrupt") == 0) {
        raise(SIGINT); /* what Ctrl-C does on a terminal */
    } else if (sscanf(line, "sleep %ld", &ms) == 1) {
        for (double until = now_mono() + ms / 1000.0; now_mono() < until; napms(20))
            app_tick(a);
    } else if (strcmp(line, "stats") == 0) {
        printf("--- stats: reloads %u layouts %u details %u ---\n", a->m.n_reloads,
               a->m.n_layouts, a->n_details);
    } else if (strncmp(line, "dump-bold", 9) == 0) {
        draw_frame(a);
        dump(line[9] == ' ' ? line + 10 : "", true);
    } else if (strncmp(line, "dump", 4) == 0) {
        draw_frame(a);
        dump(line[4] == ' ' ? line + 5 : "", false);
    } else {
        printf("--- unknown script line: %s ---\n", line);
    }
    s->in_step = false;
    if (done)
        s->next += 1 + s->taken;
    s->taken = 0;
    a->dirty = true;
    return a->quit;
}
