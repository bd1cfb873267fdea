/* progress: live run output for the CLI. */
#include "progress.h"

#include <string.h>
#include <time.h>

#define LOG_TAIL_LINES 20

void progress_init(struct progress *p, size_t n_tasks)
{
    memset(p, 0, sizeof *p);
    term_detect(&p->term, stdout);
    p->line_shown = p->term.tty; /* the remote's "fetching" line may be on it */
    p->running = xcalloc(n_tasks, sizeof *p->running);
    p->waiting = xcalloc(n_tasks, sizeof *p->waiting);
    p->n_tasks = n_tasks;
    p->t0 = now_wall();
}

void progress_free(struct progress *p)
{
    free(p->running);
    free(p->waiting);
}

static void clear_line(struct progress *p)
{
    if (p->line_shown)
        fputs("\r\033[K", stdout);
    p->line_shown = false;
}

static size_t done_count(const struct run_summary *s)
{
    return s->ran + s->hit + s->cutoff + s->failed + s->cancelled + s->blocked;
}

static void live_line(struct progress *p, const struct workspace *ws, const struct run_summary *s)
{
    char elapsed[32];
    fmt_duration(elapsed, sizeof elapsed, now_wall() - p->t0);
    struct sb b = {0};
    sb_addf(&b, "[%zu/%zu] %s", done_count(s), s->total, elapsed);
    size_t shown = 0, more = 0, waiting = 0;
    for (size_t t = 0; t < p->n_tasks; t++) {
        waiting += p->waiting[t];
        if (!p->running[t])
            continue;
        if (shown < 3)
            sb_addf(&b, "%s%s", shown++ ? ", " : "  running: ", ws->flow->tasks[t].name);
        else
            more++;
    }
    if (more)
        sb_addf(&b, " (+%zu)", more);
    if (waiting)
        sb_addf(&b, "  queued: %zu", waiting);
    clear_line(p);
    /* Never wrap: "\r\033[K" can only erase the line the cursor is on. */
    size_t max = p->term.width > 1 ? (size_t)p->term.width - 1 : 79;
    fwrite(b.buf, 1, b.len < max ? b.len : max, stdout);
    fflush(stdout);
    p->line_shown = true;
    p->last_draw = now_wall();
    sb_free(&b);
}

/* One line of a task's log, quoted so that it cannot drive the terminal: what follows
 * the last carriage return (what a terminal would show of a progress bar), other
 * control bytes in caret notation (ESC as ^[). */
static void quote_line(const char *l, size_t n)
{
    while (n > 0 && l[n - 1] == '\r')
        n--;
    for (size_t i = n; i > 0; i--)
        if (l[i - 1] == '\r') {
            l += i;
            n -= i;
            break;
        }
    fputs("    | ", stdout);
    term_put_text(stdout, l, n);
    putchar('\n');
}

static void log_tail(const struct workspace *ws, const char *digest)
{
    char *path = digest ? store_log_file(ws->store, digest) : NULL;
    if (!path)
        return;
    size_t len;
    char *text = file_read_all(path, &len, NULL);
    free(path);
    if (!text)
        return;
    size_t lines = 0;
    const char *start = text + len;
    while (start > text && lines <= LOG_TAIL_LINES)
        if (*--start == '\n' && start + 1 < text + len)
            lines++;
    if (lines > LOG_TAIL_LINES)
        start++;
    if (start > text)
        printf("    ...\n");
    const char *end = text + len;
    for (const char *l = start; l < end;) {
        const char *eol = memchr(l, '\n', (size_t)(end - l));
        size_t n = eol ? (size_t)(eol - l) : (size_t)(end - l);
        quote_line(l, n);
        l += n + (eol ? 1 : 0);
    }
    free(text);
}

static void plain_line(struct progress *p, const struct workspace *ws,
                       const struct run_event *ev)
{
    const char *word = ev->kind == TASK_QUEUED        ? "waiting"
                       : ev->kind == TASK_RUNNING     ? "running"
                       : ev->kind == TASK_SUBMITTED   ? "submitted"
                       : ev->kind == TASK_UNPUBLISHED ? "unpublished"
                                                      : decision_name(ev->decision);
    const struct term *t = &p->term;
    const char *look = ev->kind == TASK_UNPUBLISHED ? "failed"
                       : ev->kind == TASK_QUEUED    ? "queued"
                                                    : word;
    printf("%s%s %-9s%s %s", term_color(t, look), term_glyph(t, look), word, term_reset(t),
           ws->flow->tasks[ev->task].name);
    bool say = ev->kind == TASK_SUBMITTED || ev->kind == TASK_UNPUBLISHED ||
               ev->kind == TASK_QUEUED ||
               (ev->kind == TASK_DONE && ev->decision != DEC_RAN);
    if (ev->detail && say)
        printf("  (%s)", ev->detail);
    putchar('\n');
}

static void on_event(void *ctx, const struct workspace *ws, const struct run_event *ev)
{
    struct progress *p = ctx;
    if (ev->kind == TASK_SUBMITTED || ev->kind == TASK_RUNNING || ev->kind == TASK_DONE) {
        p->waiting[ev->task] = ev->kind == TASK_SUBMITTED;
        p->running[ev->task] = ev->kind == TASK_RUNNING;
    }
    /* Waiting for another run is said once in every mode: it may last. */
    bool waiting = ev->kind == TASK_QUEUED && ev->detail && strncmp(ev->detail, "waiting", 7) == 0;
    bool failure = waiting || ev->kind == TASK_UNPUBLISHED ||
                   (ev->kind == TASK_DONE &&
                    (ev->decision == DEC_FAILED || ev->decision == DEC_BLOCKED));
    if (ev->kind == RUN_TICK && (!p->term.tty || now_wall() - p->last_draw < 0.2))
        return;
    if (!p->term.tty) {
        if (waiting || ev->kind == TASK_SUBMITTED || ev->kind == TASK_RUNNING ||
            ev->kind == TASK_DONE || ev->kind == TASK_UNPUBLISHED)
            plain_line(p, ws, ev);
    } else if (failure) {
        clear_line(p);
        plain_line(p, ws, ev);
    }
    if (ev->kind == TASK_DONE && ev->decision == DEC_FAILED)
        log_tail(ws, ev->log_object);
    if (p->term.tty && ev->kind != RUN_FINISHED)
        live_line(p, ws, ev->progress);
    fflush(stdout);
}

struct run_observer progress_observer(struct progress *p)
{
    return (struct run_observer){.notify = on_event, .ctx = p};
}

void progress_summary(struct progress *p, const struct run_summary *s)
{
    clear_line(p);
    char took[32];
    fmt_duration(took, sizeof took, s->seconds);
    const struct term *t = &p->term;
    const char *word = strcmp(s->status, "ok") == 0 ? "ran" : s->status;
    printf("%s%s%s run %lld %s: ran %zu, hit %zu, cut off %zu, failed %zu", term_color(t, word),
           term_glyph(t, word), term_reset(t), (long long)s->run_id, s->status, s->ran, s->hit,
           s->cutoff, s->failed);
    if (s->blocked)
        printf(", blocked %zu", s->blocked);
    if (s->cancelled)
        printf(", cancelled %zu", s->cancelled);
    if (s->unpublished)
        printf(", unpublished %zu", s->unpublished);
    printf(" in %s\n", took);
    if (s->empty)
        printf("warning: %zu task%s succeeded with an empty $OUT: %s\n", s->empty,
               s->empty == 1 ? "" : "s", s->empty_names);
    if (s->uncached)
        printf("warning: the inputs of %s changed while %s ran, so %s not cached: the next run "
               "runs %s again\n",
               s->uncached_names, s->uncached == 1 ? "it" : "they",
               s->uncached == 1 ? "its result is" : "their results are",
               s->uncached == 1 ? "it" : "them");
    if (s->capped)
        printf("note: %s asked for more cpus than -j %d and ran with all %d job slot%s\n",
               s->capped_names, s->jobs, s->jobs, s->jobs == 1 ? "" : "s");
}
