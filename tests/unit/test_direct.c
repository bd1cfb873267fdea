/* The local executor's shell-less path: which commands the shell would only exec. */
#include <signal.h>
#include <stdlib.h>

#include "direct.h"
#include "t.h"

static const char *env_of[] = {"PATH=/nonexistent:/bin:/usr/bin", "OUT=/s/tmp/ab.out",
                               "IN_x=/s/views/cd", "SPACED=a b", "GLOB=a*", "EMPTY=",
                               "PWD=/", NULL};

/* Whether command runs without the shell; its argv joined by '|' into buf. */
static bool prepared(const char *command, const char *const *env, char *buf, size_t size)
{
    struct direct d;
    buf[0] = 0;
    if (!direct_prepare(command, env, "/", &d))
        return false;
    size_t n = 0;
    for (size_t i = 0; d.argv[i]; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? "|" : "", d.argv[i]);
    direct_free(&d);
    return true;
}

TEST(direct_plain_words_and_variables_run_without_the_shell)
{
    char b[256];
    CHECK(prepared("sh src/t1.sh $OUT/out $IN_x/out", env_of, b, sizeof b));
    CHECK_STR(b, "sh|src/t1.sh|/s/tmp/ab.out/out|/s/views/cd/out");
    CHECK(prepared("  ./run.sh --lr=0.1 ${IN_x}/a,b  ", env_of, b, sizeof b));
    CHECK_STR(b, "./run.sh|--lr=0.1|/s/views/cd/a,b");
}

TEST(direct_anything_the_shell_would_interpret_goes_to_it)
{
    static const char *const shell[] = {
        "echo hi",             /* a builtin */
        "true",                /* one too */
        "if x; then y; fi",    /* a reserved word */
        "A=1 sh x",            /* an assignment */
        "sh x >out",           /* a redirection */
        "sh x | wc",           /* a pipe */
        "sh x; sh y",          /* a list */
        "sh 'x'",              /* quotes */
        "sh ~/x",              /* a tilde */
        "sh x # note",         /* a comment */
        "sh $SPACED",          /* a value the shell would split */
        "sh $GLOB",            /* or glob */
        "sh $EMPTY",           /* or drop */
        "sh $UNSET",           /* or make empty */
        "sh $1",               /* a positional parameter */
        "sh ${IN_x:-y}",       /* an operator */
        "sh x\nsh y",          /* two commands */
        "nosuchprogram-sluice", /* found nowhere: the shell says so */
        "",
    };
    char b[256];
    for (size_t i = 0; i < sizeof shell / sizeof *shell; i++)
        if (prepared(shell[i], env_of, b, sizeof b))
            t_fail(__FILE__, __LINE__, "`%s` ran without the shell as %s", shell[i], b);
    const char *odd_name[] = {"PATH=/bin", "A-B=1", NULL}, *ifs[] = {"PATH=/bin", "IFS=:", NULL},
               *relative[] = {"PATH=bin:/bin", NULL}, *no_path[] = {"X=1", NULL};
    CHECK(!prepared("sh x", odd_name, b, sizeof b)); /* dash would drop A-B */
    CHECK(!prepared("sh x", ifs, b, sizeof b));
    CHECK(!prepared("sh x", relative, b, sizeof b));
    CHECK(!prepared("sh x", no_path, b, sizeof b));
}

TEST(direct_finds_the_program_along_path_and_sets_pwd_as_dash)
{
    struct direct d;
    REQUIRE(direct_prepare("sh x", env_of, "/", &d));
    CHECK_STR(d.path, "/bin/sh"); /* the first PATH entry that has it */
    CHECK_STR(d.argv[0], "sh");
    size_t pwds = 0;
    for (size_t i = 0; d.env[i]; i++)
        if (strncmp(d.env[i], "PWD=", 4) == 0) {
            pwds++;
            CHECK_STR(d.env[i], "PWD=/"); /* inherited, since it names the directory */
        }
    CHECK(pwds == 1);
    direct_free(&d);
    const char *elsewhere[] = {"PATH=/bin", "PWD=/usr", NULL};
    REQUIRE(direct_prepare("sh x", elsewhere, "/", &d));
    for (size_t i = 0; d.env[i]; i++)
        if (strncmp(d.env[i], "PWD=", 4) == 0)
            CHECK_STR(d.env[i], "PWD=/"); /* another directory's: the real one instead */
    direct_free(&d);
}

TEST(direct_a_signal_is_reported_as_dash_reports_it)
{
    char line[64];
    CHECK(direct_signal_status(SIGSEGV, false, line, sizeof line) == 139);
    CHECK_STR(line, "Segmentation fault");
    CHECK(direct_signal_status(SIGKILL, true, line, sizeof line) == 137);
    CHECK_STR(line, "Killed (core dumped)");
    CHECK(direct_signal_status(SIGINT, false, line, sizeof line) == 130);
    CHECK_STR(line, "");
    CHECK(direct_signal_status(SIGPIPE, false, line, sizeof line) == 141);
    CHECK_STR(line, "");
}
