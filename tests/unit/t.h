/* t: a tiny unit-test harness. TEST(name) { ... } registers a test; CHECK and
 * CHECK_STR record a failure (with file:line) and continue; REQUIRE stops the test.
 * A test fails when it records a failure (t_fail(), from a helper too) and also when
 * it checked nothing: every CHECK*, REQUIRE and t_fail() counts as a check. */
#ifndef SLUICE_T_H
#define SLUICE_T_H

#include <stdio.h>
#include <string.h>

typedef void (*t_fn)(void);
void t_register(const char *name, t_fn fn);
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int t_failed_now(void);
/* Counts one check (the macros call it). */
void t_check(void);
/* A fresh empty directory for this test (removed afterwards). */
const char *t_tmpdir(void);
/* Writes a file under t_tmpdir() (creating directories). */
void t_write(const char *rel, const char *content);
/* Runs a shell command in t_tmpdir(); returns its exit status. */
int t_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void reg_##name(void)                                     \
    {                                                                                              \
        t_register(#name, name);                                                                   \
    }                                                                                              \
    static void name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        t_check();                                                                                 \
        if (!(cond))                                                                               \
            t_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                        \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        t_check();                                                                                 \
        if (!(cond)) {                                                                             \
            t_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        t_check();                                                                                 \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            t_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, a_ ? a_ : "(null)",   \
                   b_ ? b_ : "(null)");                                                            \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        t_check();                                                                                 \
        if (!h_ || !strstr(h_, n_))                                                                \
            t_fail(__FILE__, __LINE__, "%s == \"%s\" does not contain \"%s\"", #hay,              \
                   h_ ? h_ : "(null)", n_);                                                        \
    } while (0)

#endif
