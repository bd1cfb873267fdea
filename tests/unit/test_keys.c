/* Keys: canonical, stable, and sensitive to exactly the inputs PRODUCT.md lists. */
#include "keys.h"
#include "t.h"
#include "workspace.h"

/* Opens tmp/<dir>/flow.json with the given tasks JSON and computes every deep key. */
static struct workspace *open_flow(const char *dir, const char *json)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/flow.json", dir);
    t_write(rel, json);
    char *path = path_join(t_tmpdir(), rel);
    struct workspace *ws = NULL;
    struct err e;
    if (workspace_open(path, NULL, &ws, &e) != 0)
        t_fail(__FILE__, __LINE__, "%s", e.msg);
    free(path);
    for (size_t i = 0; ws && i < ws->flow->n_tasks; i++)
        if (keys_deep(&ws->keys, i, &e) != 0)
            t_fail(__FILE__, __LINE__, "%s", e.msg);
    return ws;
}

/* The task's deep key; a key that was never computed fails the test (its bytes would
 * differ from any other key and so pass a "the key changed" check). */
static const char *deep(struct workspace *ws, const char *task)
{
    long t = flow_find(ws->flow, task);
    if (t < 0 || !ws->keys.in[t].done || strlen(ws->keys.in[t].deep) != HASH_HEX - 1) {
        t_fail(__FILE__, __LINE__, "task %s has no deep key", task);
        return "(no key)";
    }
    return ws->keys.in[t].deep;
}

TEST(keys_encoding_is_stable)
{
    t_write("a/load.py", "print('load')\n");
    struct workspace *ws = open_flow("a", "{\"tasks\": {"
                                          "\"load\": {\"run\": \"python3 load.py\", \"code\": "
                                          "[\"load.py\"], \"env\": {\"B\": \"2\", \"A\": \"1\"}},"
                                          "\"train\": {\"run\": \"cat $IN_load\", \"after\": "
                                          "[\"load\"]}}}");
    REQUIRE(ws);
    /* Changing these values means every user's cache is invalidated: bump
     * KEY_FORMAT_VERSION deliberately and update them. */
    CHECK_STR(deep(ws, "load"), "5bfbfee444ee5cf3ae4353e5eb8acd1808087f3b6d9157a599c1158d2af834a2");
    CHECK_STR(deep(ws, "train"), "588d1ad147e0efe28d68c8312f935f4f1203eea709410895482ecca5140fd984");
    const char *digests[] = {"0000000000000000000000000000000000000000000000000000000000000000"};
    char shallow[HASH_HEX];
    keys_shallow(&ws->keys, (size_t)flow_find(ws->flow, "train"), digests, shallow);
    CHECK(strcmp(shallow, deep(ws, "train")) != 0);
    workspace_close(ws);
}

TEST(keys_ignore_task_name_and_field_order)
{
    t_write("a/s.sh", "echo hi\n");
    t_write("b/s.sh", "echo hi\n");
    struct workspace *a = open_flow("a", "{\"tasks\": {\"one\": {\"run\": \"sh s.sh\", "
                                         "\"code\": [\"s.sh\"], \"env\": {\"X\": \"1\", \"Y\": "
                                         "\"2\"}}}}");
    struct workspace *b = open_flow("b", "{\"tasks\": {\"two\": {\"env\": {\"Y\": \"2\", \"X\": "
                                         "\"1\"}, \"code\": [\"s.sh\"], \"run\": \"sh s.sh\"}}}");
    REQUIRE(a && b);
    CHECK_STR(deep(a, "one"), deep(b, "two"));
    workspace_close(a);
    workspace_close(b);
}

TEST(keys_change_with_each_input)
{
    const char *base = "{\"params\": {\"p\": 1}, \"tasks\": {\"up\": {\"run\": \"echo up\"}, "
                       "\"t\": {\"run\": \"echo {params.p}\", \"after\": [\"up\"], "
                       "\"code\": [\"c.sh\"], \"files\": [\"d.csv\"], \"env\": {\"E\": \"1\"}}}}";
    t_write("a/c.sh", "code\n");
    t_write("a/d.csv", "data\n");
    struct workspace *ws = open_flow("a", base);
    REQUIRE(ws);
    char before[HASH_HEX];
    snprintf(before, sizeof before, "%s", deep(ws, "t"));
    workspace_close(ws);

    const char *variants[] = {
        "{\"params\": {\"p\": 2}, \"tasks\": {\"up\": {\"run\": \"echo up\"}, \"t\": {\"run\": "
        "\"echo {params.p}\", \"after\": [\"up\"], \"code\": [\"c.sh\"], \"files\": [\"d.csv\"], "
        "\"env\": {\"E\": \"1\"}}}}",
        "{\"params\": {\"p\": 1}, \"tasks\": {\"up\": {\"run\": \"echo UP\"}, \"t\": {\"run\": "
        "\"echo {params.p}\", \"after\": [\"up\"], \"code\": [\"c.sh\"], \"files\": [\"d.csv\"], "
        "\"env\": {\"E\": \"1\"}}}}",
        "{\"params\": {\"p\": 1}, \"tasks\": {\"up\": {\"run\": \"echo up\"}, \"t\": {\"run\": "
        "\"echo {params.p}\", \"after\": [\"up\"], \"code\": [\"c.sh\"], \"files\": [\"d.csv\"], "
        "\"env\": {\"E\": \"2\"}}}}",
    };
    for (size_t i = 0; i < ARRAY_LEN(variants); i++) {
        ws = open_flow("a", variants[i]);
        REQUIRE(ws);
        CHECK(strcmp(before, deep(ws, "t")) != 0);
        workspace_close(ws);
    }
    /* An unused parameter changing does not matter. */
    ws = open_flow("a", "{\"params\": {\"p\": 1, \"unused\": 5}, \"tasks\": {\"up\": {\"run\": "
                        "\"echo up\"}, \"t\": {\"run\": \"echo {params.p}\", \"after\": [\"up\"], "
                        "\"code\": [\"c.sh\"], \"files\": [\"d.csv\"], \"env\": {\"E\": "
                        "\"1\"}}}}");
    REQUIRE(ws);
    CHECK_STR(deep(ws, "t"), before);
    workspace_close(ws);
    t_write("a/c.sh", "code changed\n");
    ws = open_flow("a", base);
    REQUIRE(ws);
    CHECK(strcmp(before, deep(ws, "t")) != 0);
    workspace_close(ws);
    t_write("a/c.sh", "code\n");
    t_write("a/d.csv", "data changed\n");
    ws = open_flow("a", base);
    REQUIRE(ws);
    CHECK(strcmp(before, deep(ws, "t")) != 0);
    workspace_close(ws);
}

TEST(keys_missing_file_names_the_task)
{
    t_write("a/x", "");
    struct workspace *ws = NULL;
    t_write("a/flow.json", "{\"tasks\": {\"load\": {\"run\": \"x\", \"files\": [\"data.csv\"]}}}");
    char *path = path_join(t_tmpdir(), "a/flow.json");
    struct err e;
    REQUIRE(workspace_open(path, NULL, &ws, &e) == 0);
    CHECK(keys_deep(&ws->keys, 0, &e) != 0);
    char *want = xasprintf("%s: task load: file data.csv: No such file or directory", path);
    CHECK_STR(e.msg, want);
    free(want);
    workspace_close(ws);
    free(path);
}

TEST(keys_encode_exactly_the_fields_the_table_marks)
{
    for (size_t i = 0; i < TASK_FIELD_COUNT; i++)
        CHECK(keys_encodes((enum task_field_id)i) == fields_task[i].in_key);
}
