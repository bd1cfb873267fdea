/* exec_local: the built-in executor. Each job is `/bin/sh -c COMMAND` started with
 * posix_spawn in its own process group, stdin from /dev/null, stdout and stderr to
 * its log. Completion is watched through pidfds (poll), falling back to short sleeps
 * where the kernel has none. When a job's shell exits, whatever it left running in
 * its process group is killed, so nothing keeps writing into an output once it is
 * being stored. Cancelling sends SIGTERM to the group, then SIGKILL after 2 s. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define KILL_GRACE_S 2.0

struct ljob {
    uint64_t id;
    pid_t pid;
    int pidfd;
    bool cancelled;
    double kill_at; /* when cancelled: SIGKILL deadline */
};

struct local {
    struct ljob *jobs;
    size_t n, cap;
};

static void *local_init(const char *options_json, char *err, size_t errlen)
{
    (void)options_json;
    (void)err;
    (void)errlen;
    return xcalloc(1, sizeof(struct local));
}

static int spawn_job(const struct exec_job *job, pid_t *pid, char *err, size_t errlen)
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
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGQUIT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"/bin/sh", "-c", (char *)job->command, NULL};
    int rc = posix_spawn(pid, "/bin/sh", &fa, &at, argv, (char *const *)job->env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start /bin/sh in %s: %s", job->cwd, strerror(rc));
        return -1;
    }
    return 0;
}

static int local_submit(void *ctx, const struct exec_job *job, char *err, size_t errlen)
{
    struct local *L = ctx;
    pid_t pid;
    if (spawn_job(job, &pid, err, errlen))
        return -1;
    xgrow(&L->jobs, &L->cap, L->n + 1, sizeof *L->jobs);
    struct ljob *j = &L->jobs[L->n++];
    *j = (struct ljob){.id = job->id, .pid = pid};
    j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}

static void describe(struct exec_result *r, int status, bool cancelled)
{
    r->exit_code = -1;
    r->signal = 0;
    if (WIFEXITED(status)) {
        r->exit_code = WEXITSTATUS(status);
        snprintf(r->reason, sizeof r->reason, "exit code %d", r->exit_code);
    } else if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
        snprintf(r->reason, sizeof r->reason, "killed by signal %d (%s)", r->signal,
                 strsignal(r->signal));
    }
    if (cancelled)
        r->outcome = EXEC_CANCELLED;
    else
        r->outcome = r->exit_code == 0 ? EXEC_OK : EXEC_FAILED;
}

/* Reaps job i if it has exited; returns true and fills r when it did. */
static bool reap(struct local *L, size_t i, struct exec_result *r)
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
    r->id = j->id;
    describe(r, status, j->cancelled);
    if (j->pidfd >= 0)
        close(j->pidfd);
    L->jobs[i] = L->jobs[--L->n];
    return true;
}

static void escalate(struct local *L)
{
    double now = now_mono();
    for (size_t i = 0; i < L->n; i++)
        if (L->jobs[i].cancelled && L->jobs[i].kill_at > 0 && now >= L->jobs[i].kill_at) {
            kill(-L->jobs[i].pid, SIGKILL);
            L->jobs[i].kill_at = 0;
        }
}

static int wait_ms(struct local *L, int timeout_ms)
{
    bool all_fds = true;
    double now = now_mono();
    for (size_t i = 0; i < L->n; i++) {
        all_fds = all_fds && L->jobs[i].pidfd >= 0;
        if (L->jobs[i].kill_at > 0) {
            int until = (int)((L->jobs[i].kill_at - now) * 1000) + 1;
            if (until < timeout_ms || timeout_ms < 0)
                timeout_ms = until < 0 ? 0 : until;
        }
    }
    if (!all_fds && (timeout_ms < 0 || timeout_ms > 5))
        timeout_ms = 5;
    struct pollfd *p = xcalloc(L->n, sizeof *p);
    for (size_t i = 0; i < L->n; i++)
        p[i] = (struct pollfd){.fd = L->jobs[i].pidfd, .events = POLLIN};
    int rc = poll(p, L->n, timeout_ms);
    free(p);
    return rc < 0 && errno == EINTR ? -1 : 0;
}

static int local_poll(void *ctx, int timeout_ms, struct exec_result *out, int max)
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
        L->jobs[i].kill_at = now_mono() + KILL_GRACE_S;
        kill(-L->jobs[i].pid, SIGTERM);
    }
}

static size_t local_active(void *ctx)
{
    return ((struct local *)ctx)->n;
}

static void local_shutdown(void *ctx)
{
    struct local *L = ctx;
    for (size_t i = 0; i < L->n; i++) {
        kill(-L->jobs[i].pid, SIGKILL);
        waitpid(L->jobs[i].pid, NULL, 0);
        if (L->jobs[i].pidfd >= 0)
            close(L->jobs[i].pidfd);
    }
    free(L->jobs);
    free(L);
}

const struct executor_ops executor_local = {
    .abi = EXECUTOR_ABI,
    .name = "local",
    .init = local_init,
    .submit = local_submit,
    .poll = local_poll,
    .cancel = local_cancel,
    .active = local_active,
    .shutdown = local_shutdown,
};
