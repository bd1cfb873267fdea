/* proc: posix_spawnp with a non-blocking pipe for the output. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int proc_start(struct proc *p, char *const argv[], char *const env[], char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawnp(&p->pid, argv[0], &fa, &at, argv, env ? env : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        p->pid = 0;
        snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(rc));
        return -1;
    }
    p->fd = fds[0];
    fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

static void read_some(struct proc *p)
{
    for (;;) {
        if (p->cap - p->len < 4096) {
            p->cap = p->cap ? 2 * p->cap : 8192;
            p->out = realloc(p->out, p->cap);
            if (!p->out)
                abort();
            p->out[p->len] = 0; /* a command that prints nothing has "" as its output */
        }
        ssize_t n = read(p->fd, p->out + p->len, p->cap - p->len - 1);
        if (n > 0) {
            p->len += (size_t)n;
            p->out[p->len] = 0;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            close(p->fd);
            p->fd = -1;
        }
        return;
    }
}

static void mark_ended(struct proc *p)
{
    p->ended = true;
    if (!p->out && !(p->out = calloc(1, 1)))
        abort();
}

bool proc_step(struct proc *p)
{
    if (p->ended)
        return true;
    if (p->fd >= 0)
        read_some(p);
    if (p->fd >= 0)
        return false;
    /* End of file: it has exited or is about to. */
    if (waitpid(p->pid, &p->status, WNOHANG) != p->pid)
        return false;
    mark_ended(p);
    return true;
}

void proc_finish(struct proc *p)
{
    while (!proc_step(p)) {
        if (p->fd >= 0)
            fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) & ~O_NONBLOCK);
        else if (waitpid(p->pid, &p->status, 0) == p->pid)
            mark_ended(p);
    }
}

int proc_exit_code(const struct proc *p)
{
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

void proc_last_line(const struct proc *p, char *buf, size_t n)
{
    buf[0] = 0;
    const char *s = p->out ? p->out : "";
    const char *end = s + strlen(s);
    while (end > s && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(buf, n, "%.*s", (int)(end - start), start);
}

void proc_free(struct proc *p)
{
    if (p->pid > 0 && !p->ended) {
        kill(-p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    if (p->fd >= 0)
        close(p->fd);
    free(p->out);
    memset(p, 0, sizeof *p);
    p->fd = -1;
}
