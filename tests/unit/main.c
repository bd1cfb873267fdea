/* The unit-test driver: runs every registered test (or those named on the command
 * line), each in its own temporary directory, and prints one line per test. */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "util.h"

struct test {
    const char *name;
    t_fn fn;
};
static struct test *tests; /* every registered test: none is dropped */
static int n_tests, failures_now, checks_now;
static char tmpdir[4096];

void t_register(const char *name, t_fn fn)
{
    tests = xrealloc(tests, (size_t)(n_tests + 1) * sizeof *tests);
    tests[n_tests++] = (struct test){name, fn};
}

void t_check(void)
{
    checks_now++;
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
    checks_now++;
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

/* Whether a test is selected (all of them without arguments); marks the arguments
 * that named one. */
static bool selected(const char *name, int argc, char **argv, bool *named)
{
    if (argc < 2)
        return true;
    bool any = false;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            any = named[i] = true;
    return any;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    bool *named = xcalloc((size_t)argc + 1, sizeof *named);
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 0; i < n_tests; i++) {
        if (!selected(tests[i].name, argc, argv, named))
            continue;
        snprintf(tmpdir, sizeof tmpdir, "%s/sluice-unit-XXXXXX", base);
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            return 2;
        }
        failures_now = checks_now = 0;
        tests[i].fn();
        if (checks_now == 0) {
            printf("    %s checked nothing\n", tests[i].name);
            failures_now++;
        }
        printf("%s unit/%s\n", failures_now ? "FAIL" : "ok  ", tests[i].name);
        fflush(stdout);
        if (failures_now)
            failed++;
        else
            passed++;
        remove_tree(tmpdir, NULL);
    }
    for (int i = 1; i < argc; i++)
        if (!named[i]) {
            printf("FAIL unit/%s: no such test\n", argv[i]);
            failed++;
        }
    free(named);
    free(tests);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
