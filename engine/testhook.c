/* testhook: SLUICE_TEST_HOOK, the tests' fault injection. */
#include "testhook.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Counts this visit in DIR/POINT.hits (shared by every process) and returns the
 * count, or 0 when the file cannot be used. */
static long count_hit(const char *dir, const char *point)
{
    char *path = xasprintf("%s/%s.hits", dir, point);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0)
        return 0;
    struct stat st;
    long n = write(fd, ".", 1) == 1 && fstat(fd, &st) == 0 ? (long)st.st_size : 0;
    close(fd);
    return n;
}

/* Writes DIR/stopped (the point's name). */
static void say_stopped(const char *dir, const char *point)
{
    char *path = xasprintf("%s/stopped", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    free(path);
    if (fd >= 0) {
        if (write(fd, point, strlen(point)) < 0) {
            /* the test times out instead */
        }
        close(fd);
    }
}

static void stop_here(const char *dir, const char *point)
{
    say_stopped(dir, point);
    for (;;)
        pause();
}

/* Waits (having said so) until the test creates DIR/go, a minute at most (a test
 * that failed before saying go leaves nothing behind for long). */
static void wait_here(const char *dir, const char *point)
{
    say_stopped(dir, point);
    char *go = xasprintf("%s/go", dir);
    for (int i = 0; i < 6000 && access(go, F_OK) != 0; i++)
        usleep(10000);
    free(go);
}

int testhook(const char *point)
{
    const char *spec = getenv("SLUICE_TEST_HOOK");
    if (!spec || !spec[0])
        return 0;
    char where[64], action[16], dir[4096] = "";
    long nth = 0;
    int fields = sscanf(spec, "%63s %15s %ld %4095s", where, action, &nth, dir);
    if (fields < 2 || strcmp(where, point) != 0)
        return 0;
    if (fields == 4 && count_hit(dir, point) != nth)
        return 0;
    if (strcmp(action, "stop") == 0)
        stop_here(fields == 4 ? dir : ".", point);
    if (strcmp(action, "wait") == 0) {
        wait_here(fields == 4 ? dir : ".", point);
        return 0;
    }
    if (strcmp(action, "enospc") == 0)
        return ENOSPC;
    if (strcmp(action, "eio") == 0)
        return EIO;
    if (strcmp(action, "erofs") == 0)
        return EROFS;
    return strcmp(action, "on") == 0 ? 1 : 0;
}
