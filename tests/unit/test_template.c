/* Templates: only exact placeholders are substituted. */
#include "t.h"
#include "template.h"

static const char *names[] = {"lr", "data"};
static const char *values[] = {"0.1", "d.csv"};

TEST(template_substitutes_only_placeholders)
{
    struct template_vars v = {.param_names = names, .param_values = values, .n_params = 2,
                              .task = "train", .flow = "churn", .key = "abcdef0123"};
    char *out;
    struct err e;
    REQUIRE(template_expand("{params.lr} ${OUT} {task}/{flow} awk '{print $1}' {params.} {x}",
                            &v, &out, &e) == 0);
    CHECK_STR(out, "0.1 ${OUT} train/churn awk '{print $1}' {params.} {x}");
    free(out);
    REQUIRE(template_expand("m-{key:4}-{key}", &v, &out, &e) == 0);
    CHECK_STR(out, "m-abcd-abcdef0123");
    free(out);
    CHECK(template_expand("{params.dta}", &v, &out, &e) != 0);
    CHECK_STR(e.msg, "unknown parameter {params.dta} (did you mean {params.data}?)");
    struct strv used = {0};
    template_params("{params.lr} {params.data} {params.lr}", &used);
    CHECK(used.n == 2);
    strv_free(&used);
}

TEST(template_strict_rejects_what_is_no_placeholder)
{
    static const char key[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct template_vars v = {.param_names = names, .param_values = values, .n_params = 2,
                              .task = "train", .flow = "churn", .key = key, .strict = true};
    char *out;
    struct err e;
    REQUIRE(template_expand("m/{params.lr}/{task}-{key:1}-{key:64}", &v, &out, &e) == 0);
    CHECK_STR(out, "m/0.1/train-0-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    free(out);
    CHECK(template_expand("m-{key:0}", &v, &out, &e) != 0);
    CHECK_STR(e.msg, "{key:0}: the length must be from 1 to 64");
    CHECK(template_expand("m-{key:99}", &v, &out, &e) != 0);
    CHECK_STR(e.msg, "{key:99}: the length must be from 1 to 64");
    CHECK(template_expand("m-{key:abc}", &v, &out, &e) != 0);
    CHECK_STR(e.msg, "{key:abc}: the length must be from 1 to 64");
    CHECK(template_expand("m-{nope}", &v, &out, &e) != 0);
    CHECK_STR(e.msg, "unknown placeholder {nope} (there are {params.NAME}, {task}, {flow}, "
                     "{key} and {key:N})");
    CHECK(template_expand("m-{params.lr", &v, &out, &e) != 0);
    CHECK_STR(e.msg, "unclosed placeholder {params.lr");
    v.keep_key = true; /* loading checks the form before the key is known */
    CHECK(template_expand("m-{key:0}", &v, &out, &e) != 0);
    REQUIRE(template_expand("m-{key:8}", &v, &out, &e) == 0);
    CHECK_STR(out, "m-{key:8}");
    free(out);
    v.strict = false; /* in run, braces are shell syntax */
    REQUIRE(template_expand("echo {nope} {a,b}", &v, &out, &e) == 0);
    free(out);
}
