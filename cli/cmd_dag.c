/* cmd_dag: `sluice dag` — the flow's DAG with every task's state, as text, DOT or Mermaid. */
#include <assert.h>
#include <getopt.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "graphview.h"
#include "layout.h"
#include "status.h"
#include "term.h"

enum format { TEXT, DOT, MERMAID };

struct dag {
    const struct workspace *ws;
    const struct task_status *st;
    struct graphview view;
    enum node_state *state; /* per view node */
    size_t (*counts)[ST_N_STATES]; /* per view node: its tasks per state */
};

/* A collapsed matrix task's node is named by its base name. */
static const char *node_name(const struct dag *d, size_t i, char *buf, size_t len)
{
    const struct view_node *n = &d->view.nodes[i];
    if (n->first >= 0) {
        const char *name = d->ws->flow->tasks[n->first].name;
        snprintf(buf, len, "%.*s", (int)strcspn(name, "@"), name);
        return buf;
    }
    return n->task >= 0 ? d->ws->flow->tasks[n->task].name : d->ws->flow->groups[n->group].name;
}

static void node_states(struct dag *d)
{
    d->state = xcalloc(d->view.n + 1, sizeof *d->state);
    d->counts = xcalloc(d->view.n + 1, sizeof *d->counts);
    bool *seen = xcalloc(d->view.n + 1, sizeof *seen);
    for (size_t t = 0; t < d->ws->flow->n_tasks; t++) {
        long v = d->view.of_task[t];
        if (v < 0)
            continue;
        d->state[v] = seen[v] ? status_merge(d->state[v], d->st[t].state) : d->st[t].state;
        d->counts[v][d->st[t].state]++;
        seen[v] = true;
    }
    free(seen);
}

static char *label(const struct dag *d, size_t i, bool ascii)
{
    struct term t = {.utf8 = !ascii};
    const struct view_node *n = &d->view.nodes[i];
    const char *glyph = term_glyph(&t, state_name(d->state[i]));
    char buf[FLOW_VAR_MAX];
    const char *name = node_name(d, i, buf, sizeof buf);
    if (n->task >= 0)
        return xasprintf("%s %s", glyph, name);
    if (n->first < 0)
        return xasprintf("%s %s %s (%zu)", glyph, ascii ? ">" : "▸", name, n->members);
    /* "map ×3: 2 ✓ 1 ○" */
    struct sb b = {0};
    sb_addf(&b, "%s %s %s%zu:", glyph, name, ascii ? "x" : "×", n->instances);
    for (int s = 0; s < ST_N_STATES; s++)
        if (d->counts[i][s])
            sb_addf(&b, " %zu %s", d->counts[i][s], term_glyph(&t, state_name((enum node_state)s)));
    return b.buf;
}

static void print_text(const struct dag *d, bool ascii, int dir_opt)
{
    size_t n = d->view.n;
    char **labels = xcalloc(n + 1, sizeof *labels);
    int *width = xcalloc(n + 1, sizeof *width);
    for (size_t i = 0; i < n; i++) {
        labels[i] = label(d, i, ascii);
        width[i] = layout_text_width(labels[i]) + 4;
    }
    struct layout_graph g = {n, width, (const size_t *const *)d->view.deps, d->view.n_deps};
    struct winsize w = {.ws_col = 120, .ws_row = 50};
    if (isatty(STDOUT_FILENO))
        ioctl(STDOUT_FILENO, TIOCGWINSZ, &w);
    enum layout_dir dir = dir_opt >= 0 ? (enum layout_dir)dir_opt
                                       : layout_choose(&g, w.ws_col ? w.ws_col : 120,
                                                       w.ws_row ? w.ws_row : 50);
    struct layout l;
    layout_compute(&g, dir, &l);
    char *text = layout_render(&l, (const char *const *)labels, ascii);
    fputs(text, stdout);
    free(text);
    /* A legend of the states present. */
    struct term t = {.utf8 = !ascii};
    bool present[ST_N_STATES] = {0};
    for (size_t i = 0; i < n; i++)
        present[d->state[i]] = true;
    const char *sep = "";
    for (int s = 0; s < ST_N_STATES; s++)
        if (present[s]) {
            printf("%s%s %s", sep, term_glyph(&t, state_name((enum node_state)s)),
                   state_name((enum node_state)s));
            sep = "  ";
        }
    putchar('\n');
    layout_free(&l);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(width);
}

static const char *fill(enum node_state s)
{
    static const char *const colors[] = {"#d4edda", "#e2f0e5", "#fff3cd", "#dbe9f6",
                                         "#ffe8cc", "#eadcf5", "#f8d7da", "#eeeeee"};
    static_assert(sizeof colors / sizeof colors[0] == ST_N_STATES, "a colour for every state");
    return colors[s];
}

static void quoted(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static void print_dot(const struct dag *d)
{
    printf("digraph ");
    quoted(d->ws->flow->name);
    printf(" {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", "
           "fontname=\"monospace\"];\n");
    for (size_t i = 0; i < d->view.n; i++) {
        printf("  ");
        char buf[FLOW_VAR_MAX];
        quoted(node_name(d, i, buf, sizeof buf));
        char *lab = label(d, i, false);
        printf(" [label=");
        quoted(lab);
        printf(", tooltip=\"%s\", fillcolor=\"%s\"];\n", state_name(d->state[i]),
               fill(d->state[i]));
        free(lab);
    }
    for (size_t i = 0; i < d->view.n; i++)
        for (size_t k = 0; k < d->view.n_deps[i]; k++) {
            char from[FLOW_VAR_MAX], to[FLOW_VAR_MAX];
            printf("  ");
            quoted(node_name(d, d->view.deps[i][k], from, sizeof from));
            printf(" -> ");
            quoted(node_name(d, i, to, sizeof to));
            printf(";\n");
        }
    printf("}\n");
}

/* A state as a Mermaid class name: "not kept" -> "not_kept". */
static const char *class_name(enum node_state s)
{
    return s == ST_NOT_KEPT ? "not_kept" : state_name(s);
}

static void print_mermaid(const struct dag *d)
{
    printf("flowchart TD\n");
    for (size_t i = 0; i < d->view.n; i++) {
        char *lab = label(d, i, false);
        printf("  n%zu[\"", i);
        for (const char *c = lab; *c; c++)
            fputs(*c == '"' ? "#quot;" : (char[2]){*c, 0}, stdout);
        printf("\"]:::%s\n", class_name(d->state[i]));
        free(lab);
    }
    for (size_t i = 0; i < d->view.n; i++)
        for (size_t k = 0; k < d->view.n_deps[i]; k++)
            printf("  n%zu --> n%zu\n", d->view.deps[i][k], i);
    for (int s = 0; s < ST_N_STATES; s++)
        printf("  classDef %s fill:%s\n", class_name((enum node_state)s),
               fill((enum node_state)s));
}

int cmd_dag(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"ascii", no_argument, NULL, 'a'},
                                          {"dot", no_argument, NULL, 'D'},
                                          {"mermaid", no_argument, NULL, 'M'},
                                          {"collapse", no_argument, NULL, 'c'},
                                          {"down", no_argument, NULL, 'd'},
                                          {"right", no_argument, NULL, 'r'},
                                          {NULL, 0, NULL, 0}};
    enum format fmt = TEXT;
    bool ascii = false, collapse = false;
    int dir = -1;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            ascii = true;
            break;
        case 'D':
        case 'M':
            if (fmt != TEXT && fmt != (ch == 'D' ? DOT : MERMAID))
                return cli_usage_error(c, "--dot and --mermaid exclude each other: choose one");
            fmt = ch == 'D' ? DOT : MERMAID;
            break;
        case 'c':
            collapse = true;
            break;
        case 'd':
        case 'r':
            if (dir >= 0 && dir != (ch == 'd' ? LAYOUT_DOWN : LAYOUT_RIGHT))
                return cli_usage_error(c, "--down and --right exclude each other: choose one");
            dir = ch == 'd' ? LAYOUT_DOWN : LAYOUT_RIGHT;
            break;
        default:
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct term t;
    term_detect(&t, stdout);
    ascii = ascii || !t.utf8;
    struct workspace *ws;
    struct err e;
    if (workspace_open(c->flow, NULL, &ws, &e)) {
        cli_error(e.msg);
        return EXIT_USAGE;
    }
    struct dag d = {.ws = ws};
    struct task_status *st = NULL;
    int code = EXIT_OK;
    if (status_compute(ws, ws->flow->targets, ws->flow->n_targets, &st, &e)) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    } else {
        d.st = st;
        bool *collapsed = xcalloc(ws->flow->n_groups + 1, sizeof *collapsed);
        for (size_t g = 0; g < ws->flow->n_groups; g++)
            collapsed[g] = collapse;
        graphview_build_matrix(ws->flow, collapsed, collapse, NULL, NULL, 0, &d.view);
        free(collapsed);
        node_states(&d);
        if (fmt == DOT)
            print_dot(&d);
        else if (fmt == MERMAID)
            print_mermaid(&d);
        else
            print_text(&d, ascii, dir);
        graphview_free(&d.view);
        free(d.state);
        free(d.counts);
    }
    status_free(st, ws->flow->n_tasks);
    workspace_close(ws);
    return code;
}
