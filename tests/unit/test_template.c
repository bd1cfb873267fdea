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
