/* The unit-test driver: runs every registered test (or those named on the command
 * line), each in its own temporary directory, and prints one line per test. */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "util.h"

#define MAX_TESTS 256

struct test {
    const char *name;
    t_fn fn;
};
static struct test tests[MAX_TESTS];
static int n_tests, failures_now;
static char tmpdir[4096];

void t_register(const char *name, t_fn fn)
{
    if (n_tests < MAX_TESTS)
        tests[n_tests++] = (struct test){name, fn};
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures_now++;
}

int t_failed_now(void)
{
    return failures_now;
}

const char *t_tmpdir(void)
{
    return tmpdir;
}

void t_write(const char *rel, const char *content)
{
    char *path = path_join(tmpdir, rel);
    char *dir = xstrdup(path);
    *strrchr(dir, '/') = 0;
    mkdir_p(dir, 0755, NULL);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    free(dir);
    free(path);
}

int t_sh(const char *fmt, ...)
{
    struct sb b = {0};
    sb_addf(&b, "cd '%s' && { ", tmpdir);
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&b, fmt, ap);
    va_end(ap);
    sb_adds(&b, "; } >/dev/null 2>&1");
    int rc = system(b.buf);
    sb_free(&b);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 0; i < n_tests; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        snprintf(tmpdir, sizeof tmpdir, "%s/sluice-unit-XXXXXX", base);
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            return 2;
        }
        failures_now = 0;
        tests[i].fn();
        printf("%s unit/%s\n", failures_now ? "FAIL" : "ok  ", tests[i].name);
        fflush(stdout);
        if (failures_now)
            failed++;
        else
            passed++;
        remove_tree(tmpdir, NULL);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
