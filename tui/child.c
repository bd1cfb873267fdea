/* child: fork/exec of the sluice binary itself. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int child_start(struct child *c, const char *flow_path, const char *target, struct err *e)
{
    if (child_running(c))
        return err_set(e, "a run started here is still going");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return err_set(e, "cannot find the sluice binary: %s", strerror(errno));
    self[n] = 0;
    const char *argv[] = {self, "-f", flow_path, "run", target, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0); /* terminal signals are the TUI's, not the run's */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    int rc = posix_spawn(&c->pid, self, &fa, &at, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc) {
        c->pid = 0;
        return err_set(e, "cannot start a run: %s", strerror(rc));
    }
    return 0;
}

bool child_running(struct child *c)
{
    if (c->pid <= 0)
        return false;
    if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
        c->pid = 0;
        return false;
    }
    return true;
}

void child_cancel(struct child *c)
{
    if (c->pid > 0)
        kill(c->pid, SIGINT);
}

void child_stop(struct child *c, double timeout_s)
{
    child_cancel(c);
    double until = now_mono() + timeout_s;
    while (child_running(c) && now_mono() < until)
        usleep(20000);
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &c->status, 0);
        c->pid = 0;
    }
}
