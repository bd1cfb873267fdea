/* Planning is top-down: a cached target looks at nothing upstream. */
#include <unistd.h>

#include "history.h"
#include "plan.h"
#include "t.h"
#include "workspace.h"

static struct workspace *open_ws(const char *json)
{
    t_write("flow.json", json);
    char *path = path_join(t_tmpdir(), "flow.json");
    struct workspace *ws = NULL;
    struct err e;
    if (workspace_open(path, NULL, &ws, &e) != 0)
        t_fail(__FILE__, __LINE__, "%s", e.msg);
    free(path);
    return ws;
}

static size_t idx(struct workspace *ws, const char *name)
{
    return (size_t)flow_find(ws->flow, name);
}

/* Gives task `name` a cached output holding one file. */
static void cache_output(struct workspace *ws, const char *name, const char *content)
{
    struct err e;
    size_t t = idx(ws, name);
    if (keys_deep(&ws->keys, t, &e))
        t_fail(__FILE__, __LINE__, "%s", e.msg);
    char *out;
    if (store_scratch(ws->store, ws->keys.in[t].deep, &out, &e))
        t_fail(__FILE__, __LINE__, "%s", e.msg);
    char *file = path_join(out, "result");
    FILE *f = fopen(file, "w");
    fputs(content, f);
    fclose(f);
    struct output o;
    struct cache_entry ce = {.created = 1};
    if (store_ingest(ws->store, out, &o, &e) || cache_put_output(ws->db, &o, true, &e))
        t_fail(__FILE__, __LINE__, "%s", e.msg);
    memcpy(ce.digest, o.digest, HASH_HEX);
    ce.size = o.size;
    /* An entry is only a hit when it agrees with the task run that made it. */
    struct task_run_info tr = {.run_id = 1, .flow_id = 1, .task = name, .decision = "ran",
                               .deep_key = ws->keys.in[t].deep, .output_digest = o.digest,
                               .output_size = o.size};
    if (history_task_run(ws->db, &tr, &ce.task_run_id, &e))
        printf("    %s\n", e.msg);
    if (cache_put(ws->db, ws->keys.in[t].deep, "deep", name, &ce, &e))
        t_fail(__FILE__, __LINE__, "%s", e.msg);
    output_free(&o);
    free(file);
    free(out);
}

TEST(plan_cached_target_visits_nothing_upstream)
{
    struct workspace *ws = open_ws("{\"tasks\": {\"a\": {\"run\": \"x\"}, \"b\": {\"run\": \"y\", "
                                   "\"after\": [\"a\"]}, \"c\": {\"run\": \"z\", \"after\": "
                                   "[\"b\"]}}}");
    REQUIRE(ws);
    cache_output(ws, "c", "final");
    size_t target = idx(ws, "c");
    struct plan p;
    struct err e;
    REQUIRE(plan_for_targets(&p, &ws->keys, ws->db, ws->store, NULL, &target, 1, NULL, &e) == 0);
    CHECK(p.lookups == 1);
    CHECK(p.nodes[idx(ws, "c")].action == PLAN_HIT);
    CHECK(p.nodes[idx(ws, "b")].action == PLAN_NONE);
    CHECK(p.nodes[idx(ws, "a")].action == PLAN_NONE);
    CHECK(p.n_run == 0 && p.n_hit == 1);
    plan_free(&p);

    bool force[3] = {false, false, false};
    force[target] = true;
    REQUIRE(plan_for_targets(&p, &ws->keys, ws->db, ws->store, NULL, &target, 1, force, &e) == 0);
    CHECK(p.nodes[target].action == PLAN_RUN && p.nodes[target].cause == CAUSE_FORCED);
    CHECK(p.nodes[idx(ws, "b")].action == PLAN_RUN);
    plan_free(&p);
    workspace_close(ws);
}

TEST(plan_missing_bytes_make_the_task_run)
{
    struct workspace *ws = open_ws("{\"tasks\": {\"a\": {\"run\": \"x\"}, \"b\": {\"run\": \"y\", "
                                   "\"after\": [\"a\"]}}}");
    REQUIRE(ws);
    cache_output(ws, "b", "bytes");
    size_t target = idx(ws, "b");
    struct cache_entry ce;
    REQUIRE(cache_get(ws->db, ws->keys.in[target].deep, &ce) == 1);
    /* Lose the bytes: remove the view and the object behind it. */
    char *view = xasprintf("%s/views/%s", store_root(ws->store), ce.digest);
    remove_tree(view, NULL);
    char digest[HASH_HEX];
    hash_bytes("bytes", 5, digest);
    char *object = store_object_path(ws->store, digest);
    REQUIRE(object);
    unlink(object);
    struct err e;
    struct plan p;
    REQUIRE(plan_for_targets(&p, &ws->keys, ws->db, ws->store, NULL, &target, 1, NULL, &e) == 0);
    CHECK(p.nodes[target].action == PLAN_RUN && p.nodes[target].cause == CAUSE_NOT_STORED);
    CHECK(p.nodes[idx(ws, "a")].action == PLAN_RUN);
    plan_free(&p);
    free(object);
    free(view);
    workspace_close(ws);
}

TEST(plan_diamond_expands_only_misses)
{
    /* x -> b -> d <- c <- a : b is cached, so x is never looked at. */
    struct workspace *ws = open_ws(
        "{\"tasks\": {\"x\": {\"run\": \"x\"}, \"a\": {\"run\": \"a\"}, \"b\": {\"run\": \"b\", "
        "\"after\": [\"x\"]}, \"c\": {\"run\": \"c\", \"after\": [\"a\"]}, \"d\": {\"run\": "
        "\"d\", \"after\": [\"b\", \"c\"]}}}");
    REQUIRE(ws);
    cache_output(ws, "b", "b");
    size_t target = idx(ws, "d");
    struct plan p;
    struct err e;
    REQUIRE(plan_for_targets(&p, &ws->keys, ws->db, ws->store, NULL, &target, 1, NULL, &e) == 0);
    CHECK(p.nodes[idx(ws, "d")].action == PLAN_RUN);
    CHECK(p.nodes[idx(ws, "b")].action == PLAN_HIT);
    CHECK(p.nodes[idx(ws, "c")].action == PLAN_RUN);
    CHECK(p.nodes[idx(ws, "a")].action == PLAN_RUN);
    CHECK(p.nodes[idx(ws, "x")].action == PLAN_NONE);
    CHECK(p.lookups == 4);
    plan_free(&p);
    workspace_close(ws);
}
