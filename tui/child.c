/* child: fork/exec of the sluice binary itself. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int child_start(struct child *c, const char *flow_path, const char *const *args, struct err *e)
{
    if (child_running(c))
        return err_set(e, "a run started here is still going");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return err_set(e, "cannot find the sluice binary: %s", strerror(errno));
    self[n] = 0;
    const char *argv[16] = {self, "-f", flow_path};
    size_t k = 3;
    for (size_t i = 0; args[i] && k < ARRAY_LEN(argv) - 1; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    child_free(c);
    const char *tmp = getenv("TMPDIR");
    c->errors = xasprintf("%s/sluice-tui.%ld.err", tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, c->errors, O_WRONLY | O_CREAT | O_TRUNC, 0600);
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

char *child_failure(struct child *c)
{
    if (c->pid > 0 || !c->errors || !WIFEXITED(c->status) || WEXITSTATUS(c->status) != 2)
        return NULL;
    char *text = file_read_all(c->errors, NULL, NULL);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
        text[--n] = 0;
    char *last = strrchr(text, '\n');
    char *line = xstrdup(last ? last + 1 : text);
    free(text);
    c->status = 0; /* reported once */
    return line;
}

void child_free(struct child *c)
{
    if (c->errors)
        unlink(c->errors);
    free(c->errors);
    c->errors = NULL;
}
