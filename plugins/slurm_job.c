/* slurm_job: sbatch command lines, and reading squeue and scontrol output. */
#include "slurm_job.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum { O_CPUS, O_MEM, O_TIME, O_PARTITION, O_GRES, O_EXTRA, N_OPTS };
static const struct opt_spec specs[N_OPTS] = {
    {"cpus", OPT_COUNT},       {"mem", OPT_SIZE},    {"time", OPT_DURATION},
    {"partition", OPT_STRING}, {"gres", OPT_STRING}, {"extra", OPT_STRINGS},
};

/* sbatch options sluice sets itself: an "extra" one of these would break the job. */
static const char *const reserved[] = {"--wrap",   "--output", "-o",          "--error",
                                       "-e",       "--chdir",  "-D",          "--export",
                                       "--parsable", "--wait", "-W",          "--array",
                                       "-a",       "--open-mode", "--requeue", "--no-requeue",
                                       "--comment"};

static bool is_reserved(const char *arg)
{
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
        size_t n = strlen(reserved[i]);
        if (strncmp(arg, reserved[i], n) != 0)
            continue;
        bool is_long = reserved[i][1] == '-';
        if (arg[n] == 0 || (is_long && arg[n] == '=') || !is_long)
            return true;
    }
    return false;
}

static int check_extra(const struct opt_value *extra, char *err, size_t errlen)
{
    for (size_t i = 0; i < extra->n_strings; i++) {
        const char *a = extra->strings[i];
        if (a[0] != '-') {
            snprintf(err, errlen,
                     "\"extra\": \"%s\" is not an sbatch option (each entry is one option, "
                     "like \"--qos=high\")",
                     a);
            return -1;
        }
        if (is_reserved(a)) {
            snprintf(err, errlen,
                     "\"extra\": \"%s\" is set by sluice itself (it needs --output, --chdir, "
                     "--export and --wrap to run the task)",
                     a);
            return -1;
        }
    }
    return 0;
}

static int read_opts(const char *json, struct opt_value *v, char *err, size_t errlen)
{
    if (options_read(json, specs, N_OPTS, v, err, errlen))
        return -1;
    if (check_extra(&v[O_EXTRA], err, errlen)) {
        options_free(v, N_OPTS);
        return -1;
    }
    return 0;
}

int slurm_check(const char *options_json, char *err, size_t errlen)
{
    struct opt_value v[N_OPTS];
    if (read_opts(options_json, v, err, errlen))
        return -1;
    options_free(v, N_OPTS);
    return 0;
}

struct argv {
    char **v;
    size_t n, cap;
};

static void push(struct argv *a, char *owned)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? 2 * a->cap : 32;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        if (!a->v)
            abort();
    }
    if (!owned)
        abort();
    a->v[a->n++] = owned;
    a->v[a->n] = NULL;
}

static void pushf(struct argv *a, const char *fmt, const char *s)
{
    size_t n = strlen(fmt) + strlen(s) + 1;
    char *buf = malloc(n);
    if (!buf)
        abort();
    snprintf(buf, n, fmt, s);
    push(a, buf);
}

/* A path for --output: '%' is one of sbatch's replacement symbols there. */
static char *escape_percent(const char *s)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += s[i] == '%';
    char *out = malloc(n + extra + 1), *o = out;
    if (!out)
        abort();
    for (size_t i = 0; i < n; i++) {
        *o++ = s[i];
        if (s[i] == '%')
            *o++ = '%';
    }
    *o = 0;
    return out;
}

/* `exec /bin/sh -c '<command>'`, the command single-quoted for sh. */
static char *wrap_command(const char *cmd)
{
    size_t n = strlen(cmd), quotes = 0;
    for (size_t i = 0; i < n; i++)
        quotes += cmd[i] == '\'';
    const char *head = "exec /bin/sh -c '";
    char *out = malloc(strlen(head) + n + 3 * quotes + 2), *o = out;
    if (!out)
        abort();
    o = stpcpy(o, head);
    for (size_t i = 0; i < n; i++) {
        if (cmd[i] == '\'')
            o = stpcpy(o, "'\\''");
        else
            *o++ = cmd[i];
    }
    *o++ = '\'';
    *o = 0;
    return out;
}

static void push_time(struct argv *a, double seconds)
{
    long s = (long)ceil(seconds);
    char buf[64];
    snprintf(buf, sizeof buf, "--time=%ld-%02ld:%02ld:%02ld", s / 86400, s / 3600 % 24,
             s / 60 % 60, s % 60);
    push(a, strdup(buf));
}

int slurm_sbatch_argv(const struct exec_job *job, char ***argv, char *err, size_t errlen)
{
    struct opt_value v[N_OPTS];
    if (read_opts(job->options_json, v, err, errlen))
        return -1;
    struct argv a = {0};
    push(&a, strdup("sbatch"));
    push(&a, strdup("--parsable"));
    pushf(&a, "--job-name=sluice:%s", job->task);
    pushf(&a, "--chdir=%s", job->cwd);
    char *log = escape_percent(job->log_path);
    pushf(&a, "--output=%s", log);
    free(log);
    push(&a, strdup("--open-mode=truncate"));
    push(&a, strdup("--export=ALL"));
    push(&a, strdup("--no-requeue")); /* a second attempt would write into the same OUT */
    pushf(&a, "--comment=" SLURM_OUT_TAG "%s", job->out_dir);
    if (v[O_CPUS].set) {
        char buf[64];
        snprintf(buf, sizeof buf, "--cpus-per-task=%lld", v[O_CPUS].count);
        push(&a, strdup(buf));
    }
    if (v[O_MEM].set)
        pushf(&a, "--mem=%s", v[O_MEM].text);
    if (v[O_TIME].set)
        push_time(&a, v[O_TIME].seconds);
    if (v[O_PARTITION].set)
        pushf(&a, "--partition=%s", v[O_PARTITION].text);
    if (v[O_GRES].set)
        pushf(&a, "--gres=%s", v[O_GRES].text);
    for (size_t i = 0; i < v[O_EXTRA].n_strings; i++)
        push(&a, strdup(v[O_EXTRA].strings[i]));
    char *wrapped = wrap_command(job->command);
    pushf(&a, "--wrap=%s", wrapped);
    free(wrapped);
    options_free(v, N_OPTS);
    *argv = a.v;
    return 0;
}

size_t slurm_parse_holders(const char *out, const char *out_dir, long *ids, size_t max)
{
    size_t n = 0, tag = strlen(SLURM_OUT_TAG), dir = strlen(out_dir);
    for (const char *l = out; l && *l && n < max;) {
        const char *eol = strchr(l, '\n');
        size_t len = eol ? (size_t)(eol - l) : strlen(l);
        char *end;
        long id = strtol(l, &end, 10);
        if (id > 0 && *end == ' ' && (size_t)(end + 1 - l) + tag + dir == len &&
            strncmp(end + 1, SLURM_OUT_TAG, tag) == 0 && strncmp(end + 1 + tag, out_dir, dir) == 0)
            ids[n++] = id;
        l = eol ? eol + 1 : NULL;
    }
    return n;
}

void slurm_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

long slurm_parse_sbatch(const char *out)
{
    /* Warnings may come first; the id is the last line that starts with a digit. */
    long id = 0;
    for (const char *l = out; l && *l;) {
        char *end;
        long v = strtol(l, &end, 10);
        if (isdigit((unsigned char)*l) && v > 0 && (*end == '\n' || *end == ';' || !*end))
            id = v;
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
    return id;
}

enum slurm_phase slurm_phase(const char *state)
{
    static const char *const running[] = {"RUNNING",  "COMPLETING", "SUSPENDED", "STOPPED",
                                          "SIGNALING", "STAGE_OUT", "RESIZING"};
    static const char *const final[] = {"COMPLETED", "FAILED",   "TIMEOUT",   "CANCELLED",
                                        "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE",
                                        "PREEMPTED", "REVOKED"};
    for (size_t i = 0; i < sizeof running / sizeof *running; i++)
        if (strcmp(state, running[i]) == 0)
            return SLURM_RUNNING;
    for (size_t i = 0; i < sizeof final / sizeof *final; i++)
        if (strcmp(state, final[i]) == 0)
            return SLURM_FINAL;
    return SLURM_PENDING;
}

/* Copies the next '|'-separated field of *p into buf. */
static void field(const char **p, char *buf, size_t n)
{
    size_t len = strcspn(*p, "|\n");
    snprintf(buf, n, "%.*s", (int)len, *p);
    *p += len + ((*p)[len] == '|');
}

bool slurm_parse_squeue_line(const char *line, struct slurm_state *out)
{
    memset(out, 0, sizeof *out);
    char *end;
    out->job = strtol(line, &end, 10);
    if (!isdigit((unsigned char)*line) || *end != '|' || out->job <= 0)
        return false;
    const char *p = end + 1;
    field(&p, out->state, sizeof out->state);
    field(&p, out->reason, sizeof out->reason);
    field(&p, out->nodes, sizeof out->nodes);
    /* "CANCELLED by 0" in some versions: the state is the first word. */
    out->state[strcspn(out->state, " ")] = 0;
    return out->state[0] != 0;
}

/* The value of " KEY=" in a `scontrol -o` record, up to the next space. */
static bool value_of(const char *text, const char *key, char *buf, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
        if ((p == text || p[-1] == ' ') && p[kl] == '=') {
            const char *v = p + kl + 1;
            snprintf(buf, n, "%.*s", (int)strcspn(v, " \n"), v);
            return true;
        }
    }
    buf[0] = 0;
    return false;
}

bool slurm_parse_show(const char *text, struct slurm_final *out)
{
    memset(out, 0, sizeof *out);
    char id[32], code[32];
    if (!value_of(text, "JobId", id, sizeof id) ||
        !value_of(text, "JobState", out->s.state, sizeof out->s.state))
        return false;
    out->s.job = strtol(id, NULL, 10);
    value_of(text, "Reason", out->s.reason, sizeof out->s.reason);
    value_of(text, "NodeList", out->s.nodes, sizeof out->s.nodes);
    value_of(text, "TimeLimit", out->time_limit, sizeof out->time_limit);
    if (strcmp(out->s.nodes, "(null)") == 0)
        out->s.nodes[0] = 0;
    if (value_of(text, "ExitCode", code, sizeof code) &&
        sscanf(code, "%d:%d", &out->exit_code, &out->signal) != 2)
        out->exit_code = out->signal = 0;
    return out->s.job > 0;
}

static bool is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* ", reason X" unless Slurm's reason says nothing the state does not. */
static const char *reason_note(const struct slurm_final *f, char *buf, size_t n)
{
    const char *r = f->s.reason;
    if (!r[0] || is(r, "None") || is(r, "NonZeroExitCode") || is(r, "TimeLimit") ||
        is(r, "OutOfMemory"))
        return "";
    snprintf(buf, n, " (Slurm's reason: %.56s)", r);
    return buf;
}

static void exit_words(const struct slurm_final *f, char *buf, size_t n)
{
    if (f->signal)
        snprintf(buf, n, "killed by signal %d (%s)", f->signal, strsignal(f->signal));
    else
        snprintf(buf, n, "exit code %d", f->exit_code);
}

bool slurm_outcome(const struct slurm_final *f, bool cancel_wanted, struct exec_report *r)
{
    const char *st = f->s.state;
    long id = f->s.job;
    bool ran = f->s.nodes[0] != 0;
    char how[64], buf[80];
    exit_words(f, how, sizeof how);
    const char *note = reason_note(f, buf, sizeof buf);
    r->kind = EXEC_DONE;
    r->signal = f->signal;
    r->exit_code = f->signal || !ran ? -1 : f->exit_code;
    r->outcome = EXEC_FAILED;
    if (is(st, "COMPLETED") && f->exit_code == 0 && f->signal == 0) {
        r->outcome = EXEC_OK;
        r->exit_code = 0;
        snprintf(r->reason, sizeof r->reason, "slurm job %ld COMPLETED", id);
    } else if (is(st, "CANCELLED") && cancel_wanted) {
        r->outcome = EXEC_CANCELLED;
        snprintf(r->reason, sizeof r->reason, "slurm job %ld cancelled (scancel)%s", id,
                 ran ? "" : " before it started");
    } else if (is(st, "CANCELLED")) {
        snprintf(r->reason, sizeof r->reason,
                 "slurm job %ld CANCELLED, not by sluice (scancel by someone, or an "
                 "administrator)",
                 id);
    } else if (is(st, "TIMEOUT")) {
        snprintf(r->reason, sizeof r->reason,
                 "slurm job %ld TIMEOUT: it reached its time limit %s (raise \"time\")", id,
                 f->time_limit);
    } else if (is(st, "OUT_OF_MEMORY")) {
        snprintf(r->reason, sizeof r->reason,
                 "slurm job %ld OUT_OF_MEMORY: it used more memory than it asked for (raise "
                 "\"mem\")",
                 id);
    } else if (is(st, "NODE_FAIL")) {
        snprintf(r->reason, sizeof r->reason,
                 "slurm job %ld NODE_FAIL: node %s failed while running it", id,
                 f->s.nodes[0] ? f->s.nodes : "?");
    } else if (is(st, "FAILED")) {
        snprintf(r->reason, sizeof r->reason, "slurm job %ld FAILED: %s%s", id, how, note);
    } else {
        snprintf(r->reason, sizeof r->reason, "slurm job %ld %s: %s%s", id, st, how, note);
    }
    return ran;
}
