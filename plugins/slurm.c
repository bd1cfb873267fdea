/* slurm: the executor that submits each task to a Slurm cluster as a batch job.
 *
 * submit() first looks for jobs still holding the task's OUT (left by a run that was
 * killed: found by the comment every job carries, slurm_job.h) in a squeue listing
 * taken after the submission (one serves every job submitted before it started);
 * such jobs are cancelled, waited for (30 s at most) and what they wrote is removed.
 * Then it starts
 * `sbatch --parsable --wrap ...` with the task's environment (--export=ALL). It
 * returns at once; everything happens in poll(),
 * which never blocks longer than asked: it reads sbatch's job id (reported as
 * EXEC_QUEUED, "slurm job 42"), asks squeue about every job it waits for at an
 * interval that starts at 0.2 s and doubles up to 5 s while nothing changes (reported
 * as EXEC_STARTED when a job runs), and for each job in a final state reads its exit
 * code and state with `scontrol show job -o` (reported as EXEC_DONE, with the reason
 * also appended to the job's log). Cancelling runs scancel; a job Slurm has not
 * confirmed cancelled within 30 s is reported cancelled anyway. Jobs write their
 * output and log on the shared filesystem; no Slurm accounting (slurmdbd) is needed,
 * only a MinJobAge long enough for scontrol to still know a job when it ends.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "proc.h"
#include "slurm_job.h"

#define QUERY_MIN_S 0.2
#define QUERY_MAX_S 5.0
#define CANCEL_CONFIRM_S 30.0
#define MAX_SCONTROL 8 /* scontrol processes at once */
#define MAX_HOLDERS 16  /* earlier jobs on one OUT cancelled per look */

enum phase {
    CLEARING,   /* squeue looks for earlier jobs on its OUT (or waits to look again) */
    SUBMITTING, /* sbatch is running */
    WAITING,    /* in Slurm's hands: pending or running */
    FINAL,      /* squeue saw a final state: scontrol is to tell how it ended */
    READING,    /* scontrol is running */
};

struct sjob {
    uint64_t id;
    char *log_path;
    enum phase phase;
    struct proc proc; /* squeue, sbatch or scontrol */
    char **sbatch;    /* CLEARING: the sbatch command and environment to start then */
    char **env;
    char *out_dir;
    bool held;        /* CLEARING found earlier jobs on OUT and cancelled them */
    long holder;      /* the first of them */
    double need_since; /* CLEARING: a job listing taken after this time is needed */
    double clear_by;  /* CLEARING: fail then (30 s after submit, or after the scancel) */
    long job;         /* Slurm's job id, once sbatch has said it */
    bool started;     /* EXEC_STARTED was reported */
    bool asked;       /* in the squeue now running */
    bool cancel_wanted, scancel_sent;
    double cancel_by; /* give up waiting for Slurm's confirmation then */
};

struct slurm {
    struct sjob *jobs;
    size_t n, cap;
    struct proc query; /* squeue, while pid != 0 */
    struct proc listing; /* squeue for jobs holding OUTs (step_listing()) */
    double listing_started, list_retry_at;
    char *listed; /* its last answer, taken at listed_at */
    double listed_at;
    char list_error[256];
    long *holders; /* jobs of killed runs scancel has been sent for */
    size_t n_holders, cap_holders;
    double next_query, interval;
    struct proc *cancels; /* scancel processes to reap */
    size_t n_cancels, cap_cancels;
    struct exec_report *reports; /* ready to hand out, in order */
    size_t n_reports, cap_reports;
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void grow(void *pp, size_t *cap, size_t need, size_t size)
{
    void **p = pp;
    if (need <= *cap)
        return;
    *cap = *cap ? 2 * *cap : 8;
    if (*cap < need)
        *cap = need;
    *p = realloc(*p, *cap * size);
    if (!*p)
        abort();
}

static struct exec_report *new_report(struct slurm *S, const struct sjob *j,
                                      enum exec_report_kind kind)
{
    grow(&S->reports, &S->cap_reports, S->n_reports + 1, sizeof *S->reports);
    struct exec_report *r = &S->reports[S->n_reports++];
    memset(r, 0, sizeof *r);
    r->id = j->id;
    r->kind = kind;
    return r;
}

static char *dup_text(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static char **dup_strv(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **d = calloc(n + 1, sizeof *d);
    if (!d)
        abort();
    for (size_t i = 0; i < n; i++)
        d[i] = dup_text(v[i]);
    return d;
}

static void job_free(struct sjob *j)
{
    proc_free(&j->proc);
    free(j->log_path);
    slurm_argv_free(j->sbatch);
    slurm_argv_free(j->env);
    free(j->out_dir);
}

static void append_log(const char *path, const char *line)
{
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "sluice: %s\n", line);
        fclose(f);
    }
}

/* Reports the job's end and forgets it. */
static void finish(struct slurm *S, size_t i, enum exec_outcome outcome, const char *reason)
{
    struct sjob *j = &S->jobs[i];
    struct exec_report *r = new_report(S, j, EXEC_DONE);
    r->outcome = outcome;
    r->exit_code = -1;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    if (outcome != EXEC_OK)
        append_log(j->log_path, reason);
    job_free(j);
    S->jobs[i] = S->jobs[--S->n];
}

static void hurry(struct slurm *S)
{
    S->interval = QUERY_MIN_S;
    S->next_query = now_mono();
}

static void scancel_job(struct slurm *S, long job)
{
    char id[32];
    snprintf(id, sizeof id, "%ld", job);
    char *argv[] = {"scancel", id, NULL};
    char err[256];
    grow(&S->cancels, &S->cap_cancels, S->n_cancels + 1, sizeof *S->cancels);
    if (proc_start(&S->cancels[S->n_cancels], argv, NULL, err, sizeof err) == 0)
        S->n_cancels++;
}

static void send_scancel(struct slurm *S, struct sjob *j)
{
    scancel_job(S, j->job);
    j->scancel_sent = true;
    hurry(S);
}

/* --- the executor's functions ------------------------------------------------------------ */

static bool in_path(const char *cmd)
{
    const char *path = getenv("PATH");
    for (const char *p = path; p && *p;) {
        size_t n = strcspn(p, ":");
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", cmd);
        if (access(buf, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

static void *slurm_init(const char *options_json, char *err, size_t errlen)
{
    static const char *const tools[] = {"sbatch", "squeue", "scontrol", "scancel"};
    if (slurm_check(options_json, err, errlen))
        return NULL;
    for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
        if (!in_path(tools[i])) {
            snprintf(err, errlen,
                     "%s is not in PATH (install Slurm's client commands, e.g. the Debian "
                     "package slurm-client)",
                     tools[i]);
            return NULL;
        }
    struct slurm *S = calloc(1, sizeof *S);
    if (!S)
        abort();
    S->interval = QUERY_MIN_S;
    S->query.fd = S->listing.fd = -1; /* none yet (0 would be a descriptor to close) */
    return S;
}

/* squeue: this user's jobs and their comments, to find earlier jobs on an OUT. */
static int look_for_holders(struct proc *p, char *err, size_t errlen)
{
    char *argv[] = {"squeue", "-h", "--me", "-o", "%i %k", NULL};
    return proc_start(p, argv, NULL, err, errlen);
}

static int slurm_submit(void *ctx, const struct exec_job *job, char *err, size_t errlen)
{
    struct slurm *S = ctx;
    char **argv;
    if (slurm_sbatch_argv(job, &argv, err, errlen))
        return -1;
    grow(&S->jobs, &S->cap, S->n + 1, sizeof *S->jobs);
    struct sjob *j = &S->jobs[S->n];
    memset(j, 0, sizeof *j);
    j->proc.fd = -1;
    j->id = job->id;
    j->log_path = dup_text(job->log_path);
    j->sbatch = argv;
    j->env = dup_strv(job->env);
    j->out_dir = dup_text(job->out_dir);
    j->phase = CLEARING;
    j->need_since = now_mono();
    j->clear_by = j->need_since + CANCEL_CONFIRM_S;
    S->n++;
    return 0;
}

static void slurm_cancel(void *ctx, uint64_t id)
{
    struct slurm *S = ctx;
    for (size_t i = 0; i < S->n; i++) {
        struct sjob *j = &S->jobs[i];
        if (j->id != id || j->cancel_wanted)
            continue;
        j->cancel_wanted = true;
        j->cancel_by = now_mono() + CANCEL_CONFIRM_S;
        if (j->phase != SUBMITTING && j->phase != CLEARING) /* else once sbatch has said it */
            send_scancel(S, j);
    }
}

/* --- stepping the state machine ------------------------------------------------------------ */

static int remove_below(const char *path, const struct stat *st, int flag, struct FTW *at)
{
    (void)st;
    (void)flag;
    return at->level > 0 ? remove(path) : 0;
}

static void start_sbatch(struct slurm *S, size_t i)
{
    struct sjob *j = &S->jobs[i];
    char err[512];
    /* What the cancelled jobs wrote is not this job's. */
    if (j->held && nftw(j->out_dir, remove_below, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        snprintf(err, sizeof err, "could not remove what slurm job %ld left in %.300s: %s",
                 j->holder, j->out_dir, strerror(errno));
        finish(S, i, EXEC_FAILED, err);
        return;
    }
    if (proc_start(&j->proc, j->sbatch, j->env, err, sizeof err) != 0) {
        finish(S, i, EXEC_FAILED, err);
        return;
    }
    slurm_argv_free(j->sbatch);
    slurm_argv_free(j->env);
    j->sbatch = j->env = NULL;
    j->phase = SUBMITTING;
}

/* Whether S->listed was taken late enough for job j: after j was submitted (so any
 * job of a run killed before then is in it; a live run's jobs cannot hold j's OUT,
 * since the engine's claim on the task's key rules that out), or after the holders
 * it found were cancelled. */
static bool listed_for(const struct slurm *S, const struct sjob *j)
{
    return S->listed && S->listed_at >= j->need_since;
}

/* One squeue serves every CLEARING job it is fresh enough for; another starts when a
 * job needs a fresher one (at most one at a time, failures retried every 0.2 s). */
static void step_listing(struct slurm *S, double now)
{
    if (S->listing.pid) {
        if (!proc_step(&S->listing))
            return;
        free(S->listed);
        S->listed = NULL;
        if (proc_exit_code(&S->listing) == 0) {
            S->listed = dup_text(S->listing.out);
            S->listed_at = S->listing_started;
        } else {
            proc_last_line(&S->listing, S->list_error, sizeof S->list_error);
            S->list_retry_at = now + QUERY_MIN_S;
        }
        proc_free(&S->listing);
    }
    bool wanted = false;
    for (size_t i = 0; i < S->n && !wanted; i++)
        wanted = S->jobs[i].phase == CLEARING && !listed_for(S, &S->jobs[i]) &&
                 now >= S->jobs[i].need_since;
    if (!wanted || now < S->list_retry_at)
        return;
    S->listing_started = now;
    if (look_for_holders(&S->listing, S->list_error, sizeof S->list_error))
        S->list_retry_at = now + QUERY_MIN_S;
}

static bool cancelled_before(struct slurm *S, long job)
{
    for (size_t i = 0; i < S->n_holders; i++)
        if (S->holders[i] == job)
            return true;
    grow(&S->holders, &S->cap_holders, S->n_holders + 1, sizeof *S->holders);
    S->holders[S->n_holders++] = job;
    return false;
}

/* Before its submission, a job's OUT may still be written by a job that a killed run
 * left in Slurm's hands: those are cancelled (once), and looked for again until gone. */
static void step_clearing(struct slurm *S, size_t i, double now)
{
    struct sjob *j = &S->jobs[i];
    char reason[600];
    if (j->cancel_wanted) {
        finish(S, i, EXEC_CANCELLED, "cancelled before it was submitted");
        return;
    }
    long ids[MAX_HOLDERS];
    size_t n = listed_for(S, j) ? slurm_parse_holders(S->listed, j->out_dir, ids, MAX_HOLDERS)
                                : 0;
    if (listed_for(S, j) && n == 0) {
        start_sbatch(S, i);
        return;
    }
    if (n > 0 && !j->held) { /* the 30 s start with the scancel */
        j->held = true;
        j->holder = ids[0];
        j->clear_by = now + CANCEL_CONFIRM_S;
    }
    if (now > j->clear_by) {
        if (j->held)
            snprintf(reason, sizeof reason,
                     "slurm job %ld, left by a run that was killed, still writes into this "
                     "task's OUT %.300s %.0f s after scancel",
                     j->holder, j->out_dir, CANCEL_CONFIRM_S);
        else
            snprintf(reason, sizeof reason,
                     "could not list this user's Slurm jobs (to be sure no job of a killed "
                     "run still writes into the task's OUT): %.300s",
                     S->list_error[0] ? S->list_error : "squeue did not answer");
        finish(S, i, EXEC_FAILED, reason);
        return;
    }
    if (n == 0)
        return; /* waiting for a listing */
    for (size_t k = 0; k < n; k++)
        if (!cancelled_before(S, ids[k]))
            scancel_job(S, ids[k]);
    j->need_since = now + QUERY_MIN_S;
}

static void submitted(struct slurm *S, size_t i)
{
    struct sjob *j = &S->jobs[i];
    long id = proc_exit_code(&j->proc) == 0 ? slurm_parse_sbatch(j->proc.out) : 0;
    if (id <= 0) {
        char line[200], reason[256];
        proc_last_line(&j->proc, line, sizeof line);
        snprintf(reason, sizeof reason, "sbatch failed: %s", line[0] ? line : "no job id");
        finish(S, i, EXEC_FAILED, reason);
        return;
    }
    proc_free(&j->proc);
    j->job = id;
    j->phase = WAITING;
    struct exec_report *r = new_report(S, j, EXEC_QUEUED);
    snprintf(r->handle, sizeof r->handle, "slurm job %ld", id);
    if (j->cancel_wanted)
        send_scancel(S, j);
    hurry(S);
}

static struct sjob *find_job(struct slurm *S, long job)
{
    for (size_t i = 0; i < S->n; i++)
        if (S->jobs[i].job == job && S->jobs[i].phase == WAITING)
            return &S->jobs[i];
    return NULL;
}

static void tell_started(struct slurm *S, struct sjob *j)
{
    if (!j->started) {
        j->started = true;
        new_report(S, j, EXEC_STARTED);
    }
}

/* squeue has answered: jobs that run are reported started, final ones go to scontrol. */
static void read_queue(struct slurm *S)
{
    bool changed = false;
    bool *seen = calloc(S->n + 1, sizeof *seen);
    if (!seen)
        abort();
    for (const char *l = S->query.out; l && *l;) {
        struct slurm_state st;
        struct sjob *j = slurm_parse_squeue_line(l, &st) ? find_job(S, st.job) : NULL;
        if (j) {
            seen[j - S->jobs] = true;
            enum slurm_phase ph = slurm_phase(st.state);
            if (ph == SLURM_RUNNING && !j->started) {
                tell_started(S, j);
                changed = true;
            } else if (ph == SLURM_FINAL) {
                j->phase = FINAL;
                changed = true;
            }
        }
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
    /* A job squeue was asked about but no longer lists (or did not know at all):
     * scontrol says the rest. */
    bool answered = proc_exit_code(&S->query) == 0 || strstr(S->query.out, "Invalid job id");
    for (size_t i = 0; i < S->n; i++) {
        if (answered && S->jobs[i].asked && S->jobs[i].phase == WAITING && !seen[i]) {
            S->jobs[i].phase = FINAL;
            changed = true;
        }
        S->jobs[i].asked = false;
    }
    free(seen);
    proc_free(&S->query);
    S->interval = changed ? QUERY_MIN_S
                          : (S->interval * 2 > QUERY_MAX_S ? QUERY_MAX_S : S->interval * 2);
    S->next_query = now_mono() + S->interval;
}

static void start_query(struct slurm *S)
{
    size_t cap = 64, len = 0;
    char *ids = malloc(cap);
    if (!ids)
        abort();
    ids[0] = 0;
    for (size_t i = 0; i < S->n; i++) {
        if (S->jobs[i].phase != WAITING)
            continue;
        S->jobs[i].asked = true;
        char one[32];
        int n = snprintf(one, sizeof one, "%s%ld", len ? "," : "", S->jobs[i].job);
        grow(&ids, &cap, len + (size_t)n + 1, 1);
        memcpy(ids + len, one, (size_t)n + 1);
        len += (size_t)n;
    }
    if (len) {
        char *argv[] = {"squeue", "-h", "-t", "all", "-j", ids, "-o", "%i|%T|%r|%N", NULL};
        char err[256];
        if (proc_start(&S->query, argv, NULL, err, sizeof err) != 0)
            S->next_query = now_mono() + QUERY_MAX_S; /* try again later */
    }
    free(ids);
}

static void read_final(struct slurm *S, size_t i)
{
    struct sjob *j = &S->jobs[i];
    struct slurm_final f;
    char reason[256];
    if (!slurm_parse_show(j->proc.out, &f) || f.s.job != j->job) {
        if (j->cancel_wanted) {
            finish(S, i, EXEC_CANCELLED, "cancelled (scancel)");
            return;
        }
        snprintf(reason, sizeof reason,
                 "slurm job %ld is no longer known to Slurm, so how it ended is lost (is "
                 "MinJobAge in slurm.conf too short?)",
                 j->job);
        finish(S, i, EXEC_FAILED, reason);
        return;
    }
    if (slurm_phase(f.s.state) != SLURM_FINAL) { /* squeue was ahead of it: ask again */
        proc_free(&j->proc);
        j->phase = WAITING;
        return;
    }
    struct exec_report r = {0};
    bool ran = slurm_outcome(&f, j->cancel_wanted, &r);
    if (ran)
        tell_started(S, j);
    struct exec_report *done = new_report(S, j, EXEC_DONE);
    uint64_t id = done->id;
    *done = r;
    done->id = id;
    if (r.outcome != EXEC_OK)
        append_log(j->log_path, r.reason);
    job_free(j);
    S->jobs[i] = S->jobs[--S->n];
}

static void start_scontrol(struct sjob *j)
{
    char id[32], err[256];
    snprintf(id, sizeof id, "%ld", j->job);
    char *argv[] = {"scontrol", "show", "job", "-o", id, NULL};
    if (proc_start(&j->proc, argv, NULL, err, sizeof err) == 0)
        j->phase = READING;
}

static void reap_cancels(struct slurm *S)
{
    for (size_t i = 0; i < S->n_cancels;) {
        if (proc_step(&S->cancels[i])) {
            proc_free(&S->cancels[i]);
            S->cancels[i] = S->cancels[--S->n_cancels];
        } else {
            i++;
        }
    }
}

/* Everything that can move without waiting. */
static void advance(struct slurm *S)
{
    double now = now_mono();
    size_t reading = 0;
    step_listing(S, now);
    for (size_t i = 0; i < S->n;) {
        struct sjob *j = &S->jobs[i];
        size_t n = S->n;
        if (j->phase == CLEARING)
            step_clearing(S, i, now);
        else if (j->phase == SUBMITTING && proc_step(&j->proc))
            submitted(S, i);
        else if (j->phase == READING && proc_step(&j->proc))
            read_final(S, i);
        else if (j->cancel_wanted && j->phase != SUBMITTING && now > j->cancel_by)
            finish(S, i, EXEC_CANCELLED, "scancel sent, but Slurm did not confirm the cancel "
                                         "within 30 s");
        if (S->n == n) {
            reading += S->jobs[i].phase == READING;
            i++;
        }
    }
    for (size_t i = 0; i < S->n && reading < MAX_SCONTROL; i++)
        if (S->jobs[i].phase == FINAL) {
            start_scontrol(&S->jobs[i]);
            reading += S->jobs[i].phase == READING;
        }
    if (S->query.pid && proc_step(&S->query))
        read_queue(S);
    if (!S->query.pid && now >= S->next_query)
        start_query(S);
    reap_cancels(S);
}

/* Waits until a helper has output or ends, the next query is due, or timeout_ms. */
static int wait_some(struct slurm *S, int timeout_ms)
{
    struct pollfd *p = calloc(S->n + S->n_cancels + 3, sizeof *p);
    if (!p)
        abort();
    nfds_t n = 0;
    bool unwatched = false; /* a helper whose pipe is closed but is not reaped yet */
    for (size_t i = 0; i < S->n; i++) {
        const struct proc *pr = &S->jobs[i].proc;
        if (pr->pid && !pr->ended && pr->fd >= 0)
            p[n++] = (struct pollfd){.fd = pr->fd, .events = POLLIN};
        else if (pr->pid && !pr->ended)
            unwatched = true;
        /* A CLEARING job may wait for the next listing to be due (or retried); while
         * one runs, its output wakes us. */
        double due = S->jobs[i].need_since > S->list_retry_at ? S->jobs[i].need_since
                                                               : S->list_retry_at;
        double until = due - now_mono();
        if (S->jobs[i].phase == CLEARING && !S->listing.pid && until > 0 &&
            until * 1000 < timeout_ms)
            timeout_ms = (int)(until * 1000) + 1;
    }
    if (S->listing.pid && S->listing.fd >= 0)
        p[n++] = (struct pollfd){.fd = S->listing.fd, .events = POLLIN};
    else if (S->listing.pid)
        unwatched = true;
    if (S->query.pid && S->query.fd >= 0)
        p[n++] = (struct pollfd){.fd = S->query.fd, .events = POLLIN};
    else if (S->query.pid)
        unwatched = true;
    bool waiting = false; /* only jobs in Slurm's hands make squeue queries due */
    for (size_t i = 0; i < S->n && !waiting; i++)
        waiting = S->jobs[i].phase == WAITING;
    double until_query = S->next_query - now_mono();
    if (waiting && !S->query.pid && until_query * 1000 < timeout_ms)
        timeout_ms = until_query > 0 ? (int)(until_query * 1000) + 1 : 0;
    if ((unwatched || S->n_cancels) && timeout_ms > 5)
        timeout_ms = 5;
    int rc = poll(p, n, timeout_ms);
    free(p);
    return rc < 0 && errno == EINTR ? -1 : 0;
}

static int slurm_poll(void *ctx, int timeout_ms, struct exec_report *out, int max)
{
    struct slurm *S = ctx;
    double deadline = now_mono() + timeout_ms / 1000.0;
    for (;;) {
        advance(S);
        if (S->n_reports > 0 || now_mono() >= deadline || (S->n == 0 && !S->n_cancels))
            break;
        if (wait_some(S, (int)((deadline - now_mono()) * 1000) + 1) < 0)
            return -1;
    }
    int n = S->n_reports < (size_t)max ? (int)S->n_reports : max;
    if (n == 0) /* S->reports may not even exist yet */
        return 0;
    memcpy(out, S->reports, (size_t)n * sizeof *out);
    memmove(S->reports, S->reports + n, (S->n_reports - (size_t)n) * sizeof *S->reports);
    S->n_reports -= (size_t)n;
    return n;
}

/* Nothing may outlive the run: jobs still in Slurm's hands are cancelled. */
static void slurm_shutdown(void *ctx)
{
    struct slurm *S = ctx;
    for (size_t i = 0; i < S->n; i++) {
        struct sjob *j = &S->jobs[i];
        if (j->phase == SUBMITTING) {
            proc_finish(&j->proc);
            j->job = proc_exit_code(&j->proc) == 0 ? slurm_parse_sbatch(j->proc.out) : 0;
        }
        if (j->job > 0)
            send_scancel(S, j);
        job_free(j);
    }
    for (size_t i = 0; i < S->n_cancels; i++) {
        proc_finish(&S->cancels[i]);
        proc_free(&S->cancels[i]);
    }
    proc_free(&S->query);
    proc_free(&S->listing);
    free(S->listed);
    free(S->holders);
    free(S->cancels);
    free(S->jobs);
    free(S->reports);
    free(S);
}

const struct executor_ops sluice_executor = {
    .abi = EXECUTOR_ABI,
    .name = "slurm",
    .check = slurm_check,
    .init = slurm_init,
    .submit = slurm_submit,
    .poll = slurm_poll,
    .cancel = slurm_cancel,
    .shutdown = slurm_shutdown,
};
