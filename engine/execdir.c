/* execdir: stable paths for a task's $OUT and $IN_x. */
#include "execdir.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static char *exec_path(const char *deep)
{
    return xasprintf(EXECDIR_ROOT "/%.32s", deep);
}

/* The pid recorded in dir/pid, or 0. */
static long owner_of(const char *dir)
{
    char *p = path_join(dir, "pid");
    size_t len;
    char *text = file_read_all(p, &len, NULL);
    long pid = text ? atol(text) : 0;
    free(text);
    free(p);
    return pid;
}

void execdir_remove(const char *deep)
{
    char *p = exec_path(deep);
    struct err e;
    if (owner_of(p) == (long)getpid())
        remove_tree(p, &e);
    free(p);
}

/* Whether dir is left by a process that is gone (ours to remove). */
static bool abandoned(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return false;
    long pid = owner_of(dir);
    return pid != (long)getpid() && (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH));
}

bool execdir_make(struct execdir *x, const char *deep)
{
    x->dir = NULL;
    if (mkdir(EXECDIR_ROOT, 01777) == 0)
        chmod(EXECDIR_ROOT, 01777); /* shared by every user, as /tmp is */
    /* Only a real sticky directory of ours or root's: in another user's, that user could
     * swap our links and feed the task other inputs. */
    struct stat root;
    if (lstat(EXECDIR_ROOT, &root) != 0 || !S_ISDIR(root.st_mode) || !(root.st_mode & S_ISVTX) ||
        (root.st_uid != 0 && root.st_uid != geteuid()))
        return false;
    char *p = exec_path(deep);
    struct err e;
    if (abandoned(p))
        remove_tree(p, &e);
    char *in = path_join(p, "in");
    char *pidf = path_join(p, "pid");
    char pid[32];
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    bool ok = mkdir(p, 0700) == 0 && mkdir(in, 0700) == 0;
    int fd = ok ? open(pidf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
    ok = fd >= 0 && write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid);
    if (fd >= 0)
        close(fd);
    free(in);
    free(pidf);
    if (!ok) { /* someone else's (left alone), or /tmp refused it */
        if (fd >= 0)
            remove_tree(p, &e);
        free(p);
        return false;
    }
    x->dir = p;
    return true;
}

char *execdir_link(struct execdir *x, const char *what, const char *target)
{
    if (!x->dir)
        return xstrdup(target);
    char *link = path_join(x->dir, what);
    if (symlink(target, link) != 0) { /* this one path is the store's, the others stay */
        free(link);
        return xstrdup(target);
    }
    return link;
}

void execdir_free(struct execdir *x)
{
    free(x->dir);
    x->dir = NULL;
}
