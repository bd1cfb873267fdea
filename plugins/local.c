/* local: the executor that runs tasks on this machine (a plugin like any other).
 *
 * Each job is `/bin/sh -c COMMAND` in its own process group, stdin from /dev/null,
 * stdout and stderr to its log, started with posix_spawn (or fork, when a memory
 * limit must be set in the child); a command the shell would only exec is executed
 * directly (direct.h), sparing a process per task, and reported as the shell would. Completion is watched through pidfds (poll),
 * falling back to short sleeps where the kernel has none. When a job's shell exits,
 * whatever it left running in its process group is killed, so nothing keeps writing
 * into an output once it is being stored. Cancelling, or reaching the task's time
 * limit, sends SIGTERM to the group, then SIGKILL after 2 s.
 *
 * Options ("local": {...}): "mem" caps each process's data segment (setrlimit
 * RLIMIT_DATA: heap and private memory), "time" the task's wall-clock time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "direct.h"
#include "executor.h"
#include "options.h"

#define KILL_GRACE_S 2.0

enum { OPT_MEM, OPT_TIME, N_OPTS };
static const struct opt_spec specs[N_OPTS] = {{"mem", OPT_SIZE}, {"time", OPT_DURATION}};

struct ljob {
    uint64_t id;
    pid_t pid;
    int pidfd;
    bool cancelled, timed_out;
    bool direct; /* its program was started without the shell (direct.h) */
    double deadline; /* time limit (0: none) */
    double kill_at;  /* after SIGTERM: SIGKILL deadline */
    char *log_path;
    char *mem, *time; /* the limits as written, for messages */
};

struct local {
    struct ljob *jobs;
    size_t n, cap;
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

static int local_check(const char *options_json, char *err, size_t errlen)
{
    struct opt_value v[N_OPTS];
    if (options_read(options_json, specs, N_OPTS, v, err, errlen))
        return -1;
    options_free(v, N_OPTS);
    return 0;
}

static void *local_init(const char *options_json, char *err, size_t errlen)
{
    if (local_check(options_json, err, errlen))
        return NULL;
    return must(calloc(1, sizeof(struct local)));
}

static void default_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGPIPE);
    sigaddset(set, SIGQUIT);
}

/* posix_spawn of path with argv and env, as a job; 0 or an errno (also when exec failed). */
static int spawn(const struct exec_job *job, const char *path, char *const *argv, char *const *env,
                 pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, job->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addchdir_np(&fa, job->cwd);
    sigset_t none, defaults;
    sigemptyset(&none);
    default_signals(&defaults);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(pid, path, &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

/* Starts the job: its program directly when the shell would only exec it (direct.h),
 * else, or when that exec fails (the shell then says why, or runs a script without
 * #!), `/bin/sh -c COMMAND`. *direct says which. */
static int spawn_job(const struct exec_job *job, pid_t *pid, bool *direct, char *err,
                     size_t errlen)
{
    struct direct d;
    *direct = direct_prepare(job->command, job->env, job->cwd, &d) &&
              spawn(job, d.path, d.argv, d.env, pid) == 0;
    direct_free(&d);
    if (*direct)
        return 0;
    char *argv[] = {"/bin/sh", "-c", (char *)job->command, NULL};
    int rc = spawn(job, "/bin/sh", argv, (char *const *)job->env, pid);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start /bin/sh in %s: %s", job->cwd, strerror(rc));
        return -1;
    }
    return 0;
}

/* The child side of fork_job(): only async-signal-safe calls from here to exec. */
static void child(const struct exec_job *job, int in, int out, uint64_t mem)
{
    static const char msg[] = "sluice: cannot enter the task's directory\n";
    setpgid(0, 0);
    struct rlimit rl = {.rlim_cur = mem, .rlim_max = mem};
    setrlimit(RLIMIT_DATA, &rl);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigset_t set;
    default_signals(&set);
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&set, s) == 1)
            sigaction(s, &dfl, NULL);
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    if (chdir(job->cwd) != 0) {
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    char *argv[] = {"/bin/sh", "-c", (char *)job->command, NULL};
    execve("/bin/sh", argv, (char *const *)job->env);
    _exit(127);
}

/* Like spawn_job(), with the memory limit set in the child before it runs anything. */
static int fork_job(const struct exec_job *job, uint64_t mem, pid_t *pid, char *err, size_t errlen)
{
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = open(job->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (in < 0 || out < 0) {
        snprintf(err, errlen, "cannot open %s: %s", out < 0 ? job->log_path : "/dev/null",
                 strerror(errno));
        rc = -1;
    } else if ((*pid = fork()) < 0) {
        snprintf(err, errlen, "cannot fork: %s", strerror(errno));
        rc = -1;
    } else if (*pid == 0) {
        child(job, in, out, mem);
    } else {
        setpgid(*pid, *pid); /* also here, so it holds before we ever signal the group */
    }
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static int local_submit(void *ctx, const struct exec_job *job, char *err, size_t errlen)
{
    struct local *L = ctx;
    struct opt_value v[N_OPTS];
    if (options_read(job->options_json, specs, N_OPTS, v, err, errlen))
        return -1;
    pid_t pid;
    bool direct = false;
    int rc = v[OPT_MEM].set ? fork_job(job, v[OPT_MEM].bytes, &pid, err, errlen)
                            : spawn_job(job, &pid, &direct, err, errlen);
    if (rc == 0) {
        if (L->n == L->cap) {
            L->cap = L->cap ? 2 * L->cap : 8;
            L->jobs = must(realloc(L->jobs, L->cap * sizeof *L->jobs));
        }
        struct ljob *j = &L->jobs[L->n++];
        *j = (struct ljob){
            .id = job->id, .pid = pid, .direct = direct, .log_path = must(strdup(job->log_path))};
        j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (v[OPT_TIME].set) {
            j->deadline = now_mono() + v[OPT_TIME].seconds;
            j->time = v[OPT_TIME].text;
            v[OPT_TIME].text = NULL;
        }
        if (v[OPT_MEM].set) {
            j->mem = v[OPT_MEM].text;
            v[OPT_MEM].text = NULL;
        }
    }
    options_free(v, N_OPTS);
    return rc == 0 ? 1 : -1;
}

/* Adds a line to the task's captured output: sluice's own ("sluice: ") or the shell's. */
static void append_log(const char *path, const char *prefix, const char *line)
{
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s%s\n", prefix, line);
        fclose(f);
    }
}

static void describe(struct exec_report *r, int status, const struct ljob *j)
{
    r->kind = EXEC_DONE;
    r->exit_code = -1;
    r->signal = 0;
    if (WIFEXITED(status)) {
        r->exit_code = WEXITSTATUS(status);
        snprintf(r->reason, sizeof r->reason, "exit code %d", r->exit_code);
    } else if (WIFSIGNALED(status) && j->direct && !j->cancelled && !j->timed_out) {
        /* The program itself died: what the shell around it would have said and done. */
        char line[128];
        r->exit_code = direct_signal_status(WTERMSIG(status), WCOREDUMP(status), line,
                                            sizeof line);
        if (line[0])
            append_log(j->log_path, "", line);
        snprintf(r->reason, sizeof r->reason, "exit code %d", r->exit_code);
    } else if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
        snprintf(r->reason, sizeof r->reason, "killed by signal %d (%s)", r->signal,
                 strsignal(r->signal));
    }
    if (j->cancelled) {
        r->outcome = EXEC_CANCELLED;
        return;
    }
    r->outcome = r->exit_code == 0 && !j->timed_out ? EXEC_OK : EXEC_FAILED;
    if (j->timed_out) {
        snprintf(r->reason, sizeof r->reason, "time limit %s reached: stopped", j->time);
        append_log(j->log_path, "sluice: ", r->reason);
    } else if (r->outcome == EXEC_FAILED && j->mem) {
        size_t n = strlen(r->reason);
        snprintf(r->reason + n, sizeof r->reason - n, " (it ran with mem %s)", j->mem);
    }
}

static void forget(struct local *L, size_t i)
{
    struct ljob *j = &L->jobs[i];
    if (j->pidfd >= 0)
        close(j->pidfd);
    free(j->log_path);
    free(j->mem);
    free(j->time);
    L->jobs[i] = L->jobs[--L->n];
}

/* Reaps job i if it has exited; returns true and fills r when it did. */
static bool reap(struct local *L, size_t i, struct exec_report *r)
{
    struct ljob *j = &L->jobs[i];
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
        return false;
    /* Still a zombie, so its process group id cannot have been reused. */
    kill(-j->pid, SIGKILL);
    int status = 0;
    waitpid(j->pid, &status, 0);
    memset(r, 0, sizeof *r);
    r->id = j->id;
    describe(r, status, j);
    forget(L, i);
    return true;
}

static void stop(struct ljob *j, double now)
{
    j->kill_at = now + KILL_GRACE_S;
    kill(-j->pid, SIGTERM);
}

/* Time limits reached: SIGTERM; grace periods over: SIGKILL. */
static void escalate(struct local *L)
{
    double now = now_mono();
    for (size_t i = 0; i < L->n; i++) {
        struct ljob *j = &L->jobs[i];
        if (j->deadline > 0 && now >= j->deadline && !j->timed_out && !j->cancelled) {
            j->timed_out = true;
            stop(j, now);
        } else if (j->kill_at > 0 && now >= j->kill_at) {
            kill(-j->pid, SIGKILL);
            j->kill_at = 0;
        }
    }
}

/* The earliest timer (deadline or SIGKILL) shortens the wait. */
static int next_timer(const struct local *L, int timeout_ms)
{
    double now = now_mono();
    for (size_t i = 0; i < L->n; i++) {
        const struct ljob *j = &L->jobs[i];
        double at = j->kill_at > 0 ? j->kill_at : j->timed_out || j->cancelled ? 0 : j->deadline;
        if (at <= 0)
            continue;
        int until = (int)((at - now) * 1000) + 1;
        if (until < timeout_ms || timeout_ms < 0)
            timeout_ms = until < 0 ? 0 : until;
    }
    return timeout_ms;
}

static int wait_ms(struct local *L, int timeout_ms)
{
    bool all_fds = true;
    for (size_t i = 0; i < L->n; i++)
        all_fds = all_fds && L->jobs[i].pidfd >= 0;
    timeout_ms = next_timer(L, timeout_ms);
    if (!all_fds && (timeout_ms < 0 || timeout_ms > 5))
        timeout_ms = 5;
    struct pollfd *p = must(calloc(L->n + 1, sizeof *p));
    for (size_t i = 0; i < L->n; i++)
        p[i] = (struct pollfd){.fd = L->jobs[i].pidfd, .events = POLLIN};
    int rc = poll(p, L->n, timeout_ms);
    free(p);
    return rc < 0 && errno == EINTR ? -1 : 0;
}

static int local_poll(void *ctx, int timeout_ms, struct exec_report *out, int max)
{
    struct local *L = ctx;
    int n = 0;
    for (int pass = 0; pass < 2 && n == 0; pass++) {
        escalate(L);
        for (size_t i = 0; i < L->n && n < max;) {
            if (reap(L, i, &out[n]))
                n++;
            else
                i++;
        }
        if (n > 0 || pass == 1 || L->n == 0)
            break;
        if (wait_ms(L, timeout_ms) < 0)
            return -1;
    }
    return n;
}

static void local_cancel(void *ctx, uint64_t id)
{
    struct local *L = ctx;
    for (size_t i = 0; i < L->n; i++) {
        if (L->jobs[i].id != id || L->jobs[i].cancelled)
            continue;
        L->jobs[i].cancelled = true;
        if (!L->jobs[i].timed_out)
            stop(&L->jobs[i], now_mono());
    }
}

static void local_shutdown(void *ctx)
{
    struct local *L = ctx;
    while (L->n > 0) {
        kill(-L->jobs[0].pid, SIGKILL);
        waitpid(L->jobs[0].pid, NULL, 0);
        forget(L, 0);
    }
    free(L->jobs);
    free(L);
}

const struct executor_ops sluice_executor = {
    .abi = EXECUTOR_ABI,
    .name = "local",
    .check = local_check,
    .init = local_init,
    .submit = local_submit,
    .poll = local_poll,
    .cancel = local_cancel,
    .shutdown = local_shutdown,
};
