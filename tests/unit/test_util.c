/* Unit tests: path helpers. */
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
