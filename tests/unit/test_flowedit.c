/* flowedit: editing a flow file as a document, checked by the CLI's validator. */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flow.h"
#include "flowedit.h"
#include "t.h"

static char *tmp_path(const char *rel)
{
    return path_join(t_tmpdir(), rel);
}

/* Opens tmp/REL after writing text into it. */
static struct flowedit *open_text(const char *rel, const char *text)
{
    t_write(rel, text);
    char *path = tmp_path(rel);
    struct flowedit *d = NULL;
    struct err e;
    if (flowedit_open(path, &d, &e) != 0)
        t_fail(__FILE__, __LINE__, "flowedit_open: %s", e.msg);
    free(path);
    return d;
}

/* Applies one edit; returns the error message ("" when applied). */
static const char *apply(struct flowedit *d, enum edit_op op, const char *a, const char *b,
                         const char *value)
{
    static struct err e;
    struct edit ed = {.op = op, .a = a, .b = b, .value = value};
    e.msg[0] = 0;
    if (flowedit_apply(d, &ed, 1, &e) == 0)
        e.msg[0] = 0;
    const char *slash = strrchr(e.msg, '/'); /* messages name the path: keep the file name */
    return slash && strstr(slash, ".json") ? slash + 1 : e.msg;
}

static const char *text(struct flowedit *d)
{
    return flowedit_text(d, NULL);
}

static const char *const chain =
    "{\n"
    "  \"name\": \"chain\",\n"
    "  \"description\": \"kept as it is\",\n"
    "  \"params\": {\n"
    "    \"lr\": 0.1,\n"
    "    \"title\": \"Report\"\n"
    "  },\n"
    "  \"tasks\": {\n"
    "    \"load\": {\n"
    "      \"run\": \"echo load >$OUT/x\"\n"
    "    },\n"
    "    \"train\": {\n"
    "      \"run\": \"cat $IN_load/x ${IN_load}/x $IN_loader >$OUT/m {params.lr}\",\n"
    "      \"after\": [\"load\"],\n"
    "      \"env\": {\n"
    "        \"SRC\": \"$IN_load\"\n"
    "      },\n"
    "      \"x-owner\": \"ml\"\n"
    "    }\n"
    "  },\n"
    "  \"x-extra\": [1, 2.5, true, null]\n"
    "}\n";

TEST(flowedit_a_file_sluice_wrote_reads_back_byte_for_byte)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK_STR(text(d), chain);
    CHECK(!flowedit_dirty(d));
    CHECK(flowedit_error(d) == NULL);
    struct err e;
    char *copy = tmp_path("copy.json");
    CHECK(flowedit_save(d, copy, &e) == 0);
    char *bytes = file_read_all(copy, NULL, &e);
    CHECK_STR(bytes, chain);
    free(bytes);
    free(copy);
    flowedit_free(d);
}

TEST(flowedit_a_hand_written_file_gets_the_stable_layout)
{
    struct flowedit *d =
        open_text("flow.json", "{\"tasks\": {\"a\": {\"run\": \"echo \\\"hi\\\"\\t\\u00e9\",\n"
                               "  \"code\": [ ], \"x-m\": {\"k\": [{\"z\": 1}]}}}, \"y\": {}}");
    REQUIRE(d);
    const char *want = "{\n"
                       "  \"tasks\": {\n"
                       "    \"a\": {\n"
                       "      \"run\": \"echo \\\"hi\\\"\\t\xc3\xa9\",\n"
                       "      \"code\": [],\n"
                       "      \"x-m\": {\n"
                       "        \"k\": [\n"
                       "          {\n"
                       "            \"z\": 1\n"
                       "          }\n"
                       "        ]\n"
                       "      }\n"
                       "    }\n"
                       "  },\n"
                       "  \"y\": {}\n"
                       "}\n";
    CHECK_STR(text(d), want);
    flowedit_free(d);
    d = open_text("again.json", want); /* the layout is a fixed point */
    REQUIRE(d);
    CHECK_STR(text(d), want);
    flowedit_free(d);
}

TEST(flowedit_builds_a_flow_from_nothing)
{
    char *path = tmp_path("new.json");
    struct flowedit *d = flowedit_new(path);
    CHECK(flowedit_error(d) == NULL); /* an empty flow is where building starts */
    CHECK(flowedit_dirty(d));
    CHECK_STR(apply(d, EDIT_ADD, "load", NULL, NULL), "new.json: task load: missing \"run\" "
                                                      "(the command to execute)");
    struct edit add[] = {{EDIT_ADD, "load", NULL, NULL, false},
                         {EDIT_SET, "load.run", NULL, "echo a >$OUT/a", false}};
    struct err e;
    CHECK(flowedit_apply(d, add, 2, &e) == 0);
    struct edit add2[] = {{EDIT_ADD, "use", NULL, NULL, false},
                          {EDIT_SET, "use.run", NULL, "cat $IN_load/a >$OUT/b", false}};
    CHECK(flowedit_apply(d, add2, 2, &e) == 0);
    CHECK_STR(apply(d, EDIT_CONNECT, "load", "use", NULL), "");
    CHECK_STR(apply(d, EDIT_PARAM, "n", NULL, "3"), "");
    CHECK_STR(apply(d, EDIT_PARAM, "who", NULL, "x y"), "");
    CHECK_STR(apply(d, EDIT_SET, "use.keep", NULL, "none"), "");
    CHECK_STR(apply(d, EDIT_SET, "name", NULL, "built"), "");
    CHECK_STR(text(d), "{\n"
                       "  \"name\": \"built\",\n"
                       "  \"params\": {\n"
                       "    \"n\": 3,\n"
                       "    \"who\": \"x y\"\n"
                       "  },\n"
                       "  \"tasks\": {\n"
                       "    \"load\": {\n"
                       "      \"run\": \"echo a >$OUT/a\"\n"
                       "    },\n"
                       "    \"use\": {\n"
                       "      \"run\": \"cat $IN_load/a >$OUT/b\",\n"
                       "      \"after\": [\"load\"],\n"
                       "      \"keep\": \"none\"\n"
                       "    }\n"
                       "  }\n"
                       "}\n");
    CHECK(flowedit_save(d, NULL, &e) == 0);
    CHECK(!flowedit_dirty(d));
    struct flow *f = NULL;
    REQUIRE(flow_load(path, NULL, &f, &e) == 0);
    CHECK(f->n_tasks == 2);
    CHECK(f->tasks[1].n_deps == 1 && f->tasks[1].deps[0] == 0);
    flow_free(f);
    flowedit_free(d);
    free(path);
}

TEST(flowedit_keeps_order_and_unknown_keys_through_edits)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK_STR(apply(d, EDIT_SET, "train.expire", NULL, "24h"), "");
    CHECK_STR(apply(d, EDIT_SET, "train.code", NULL, ""), "");
    CHECK_STR(apply(d, EDIT_SET, "load.volatile", NULL, "true"), "");
    CHECK_STR(apply(d, EDIT_SET, "train.env.N", NULL, "2"), "");
    CHECK_STR(apply(d, EDIT_SET, "x-meta.owner", NULL, "{\"team\": \"ml\"}"), "");
    const char *t = text(d);
    CHECK_CONTAINS(t, "  \"description\": \"kept as it is\",\n");
    CHECK_CONTAINS(t, "      \"after\": [\"load\"],\n"
                      "      \"code\": [],\n"
                      "      \"env\": {\n"
                      "        \"SRC\": \"$IN_load\",\n"
                      "        \"N\": \"2\"\n"
                      "      },\n"
                      "      \"expire\": \"24h\",\n"
                      "      \"x-owner\": \"ml\"\n");
    CHECK_CONTAINS(t, "      \"run\": \"echo load >$OUT/x\",\n      \"volatile\": true\n");
    CHECK_CONTAINS(t, "  \"x-extra\": [1, 2.5, true, null],\n"
                      "  \"x-meta\": {\n"
                      "    \"owner\": {\n"
                      "      \"team\": \"ml\"\n");
    char *v = flowedit_get(d, "train.env");
    CHECK_STR(v, "SRC=$IN_load; N=2");
    free(v);
    v = flowedit_get(d, "train.after");
    CHECK_STR(v, "load");
    free(v);
    v = flowedit_param(d, "lr");
    CHECK_STR(v, "0.1");
    free(v);
    CHECK(flowedit_get(d, "train.publish") == NULL);
    CHECK_STR(apply(d, EDIT_UNSET, "train.env.SRC", NULL, NULL), "");
    CHECK_STR(apply(d, EDIT_UNSET, "train.env.N", NULL, NULL), "");
    CHECK(strstr(text(d), "\"env\"") == NULL); /* an env without variables goes */
    CHECK_STR(apply(d, EDIT_UNSET, "train.publish", NULL, NULL),
              "flow.json: task train has no field \"publish\"");
    CHECK_STR(apply(d, EDIT_SET, "trian.run", NULL, "x"),
              "flow.json: no task named \"trian\" (did you mean \"train\"?)");
    CHECK_STR(apply(d, EDIT_SET, "tasks", NULL, "{}"),
              "flow.json: tasks are edited with add, rm, rename and set TASK.FIELD");
    flowedit_free(d);
}

TEST(flowedit_rename_follows_every_reference)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK_STR(apply(d, EDIT_RENAME, "load", "fetch-data", NULL), "");
    const char *t = text(d);
    CHECK_CONTAINS(t, "  \"tasks\": {\n    \"fetch-data\": {\n"); /* same place */
    CHECK_CONTAINS(t, "\"run\": \"cat $IN_fetch_data/x ${IN_fetch_data}/x $IN_loader >$OUT/m");
    CHECK_CONTAINS(t, "\"after\": [\"fetch-data\"]");
    CHECK_CONTAINS(t, "\"SRC\": \"$IN_fetch_data\"");
    CHECK(flowedit_error(d) == NULL);
    CHECK_STR(apply(d, EDIT_RENAME, "train", "fetch-data", NULL),
              "flow.json: task fetch-data already exists");
    CHECK_STR(apply(d, EDIT_RENAME, "train", "bad name", NULL),
              "flow.json: task \"bad name\": names may use letters, digits, '_', '-' and '.', "
              "and may not start with '.' or '-'");
    CHECK(flowedit_undo(d) != NULL);
    CHECK_STR(text(d), chain);
    flowedit_free(d);
}

TEST(flowedit_refuses_a_cycle_naming_it_and_changes_nothing)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK_STR(apply(d, EDIT_CONNECT, "train", "load", NULL),
              "flow.json: cycle: load -> train -> load");
    CHECK_STR(text(d), chain);
    CHECK(!flowedit_dirty(d));
    CHECK_STR(apply(d, EDIT_CONNECT, "load", "train", NULL),
              "flow.json: task train already comes after load");
    CHECK_STR(apply(d, EDIT_DISCONNECT, "train", "load", NULL),
              "flow.json: task load does not come after train");
    flowedit_free(d);
}

TEST(flowedit_invalid_edits_get_the_cli_message_and_are_not_applied)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK_STR(apply(d, EDIT_SET, "train.expire", NULL, "3x"),
              "flow.json: task train: \"expire\" must be a duration like \"90s\", \"15m\", "
              "\"24h\" or \"30d\"");
    CHECK_STR(apply(d, EDIT_SET, "train.aftr", NULL, "load"),
              "flow.json: task train: unknown field \"aftr\" (did you mean \"after\"?)");
    CHECK_STR(apply(d, EDIT_SET, "train.code", NULL, "missing.py"),
              "flow.json: task train: code file missing.py: No such file or directory");
    CHECK_STR(apply(d, EDIT_UNSET, "train.run", NULL, NULL),
              "flow.json: task train: missing \"run\" (the command to execute)");
    CHECK_STR(apply(d, EDIT_UNPARAM, "lr", NULL, NULL),
              "flow.json: task train: run: unknown parameter {params.lr}");
    CHECK_STR(apply(d, EDIT_SET, "train.env", NULL, "A=1; B"),
              "flow.json: task train: env: \"B\" is not NAME=VALUE (pairs are separated by ';')");
    CHECK_STR(text(d), chain);
    CHECK(!flowedit_dirty(d));

    /* The same text saved and loaded by the CLI's path gives the same message. */
    struct edit bad = {EDIT_SET, "train.expire", NULL, "3x", false};
    struct err e1, e2;
    CHECK(flowedit_check(d, &bad, 1, &e1) != 0);
    char *path = tmp_path("flow.json");
    t_write("flow.json", "{\"tasks\": {\"train\": {\"run\": \"x\", \"expire\": \"3x\"}}}");
    struct flow *f = NULL;
    CHECK(flow_load(path, NULL, &f, &e2) != 0);
    CHECK_STR(e1.msg, e2.msg);
    free(path);
    flowedit_free(d);
}

TEST(flowedit_remove_asks_for_force_when_others_depend)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK_STR(apply(d, EDIT_REMOVE, "load", NULL, NULL),
              "flow.json: task load: train comes after it");
    struct edit force = {EDIT_REMOVE, "load", NULL, NULL, true};
    struct err e;
    CHECK(flowedit_apply(d, &force, 1, &e) == 0);
    CHECK(!flowedit_has_task(d, "load"));
    CHECK(strstr(text(d), "\"after\"") == NULL);
    CHECK_STR(apply(d, EDIT_REMOVE, "train", NULL, NULL), "");
    CHECK_CONTAINS(text(d), "\"tasks\": {},"); /* empty again: still editable */
    CHECK(flowedit_error(d) == NULL);
    flowedit_free(d);
}

TEST(flowedit_undo_and_redo_walk_the_steps)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK(flowedit_undo(d) == NULL);
    CHECK_STR(apply(d, EDIT_SET, "train.run", NULL, "echo v2 >$OUT/m"), "");
    char *after_set = xstrdup(text(d));
    CHECK_STR(apply(d, EDIT_SET, "load.keep", NULL, "none"), "");
    CHECK(flowedit_dirty(d));
    CHECK_STR(flowedit_undo(d), "set load.keep");
    CHECK_STR(text(d), after_set);
    CHECK_STR(flowedit_undo(d), "set train.run");
    CHECK_STR(text(d), chain);
    CHECK(!flowedit_dirty(d)); /* back where the file is */
    CHECK_STR(flowedit_redo(d), "set train.run");
    CHECK_STR(text(d), after_set);
    CHECK(flowedit_dirty(d));
    CHECK_STR(apply(d, EDIT_PARAM, "lr", NULL, "0.2"), ""); /* a new edit drops the redo */
    CHECK(flowedit_redo(d) == NULL);
    free(after_set);
    flowedit_free(d);
}

TEST(flowedit_saves_atomically_and_notices_changes_on_disk)
{
    struct flowedit *d = open_text("flow.json", chain);
    REQUIRE(d);
    CHECK(!flowedit_disk_changed(d));
    CHECK(t_sh("touch -d '2001-01-01' flow.json") == 0);
    CHECK(!flowedit_disk_changed(d)); /* touched, same bytes */
    t_write("flow.json", "{\"tasks\": {}}");
    CHECK(flowedit_disk_changed(d));
    CHECK_STR(apply(d, EDIT_SET, "load.keep", NULL, "none"), "");
    struct err e;
    chmod(flowedit_path(d), 0640);
    CHECK(flowedit_save(d, NULL, &e) == 0);
    CHECK(!flowedit_disk_changed(d));
    struct stat st;
    CHECK(stat(flowedit_path(d), &st) == 0 && (st.st_mode & 0777) == 0640);
    CHECK(t_sh("ls | grep -v '^flow.json$' | grep .") != 0); /* no temp file left */
    char *bytes = file_read_all(flowedit_path(d), NULL, &e);
    CHECK_STR(bytes, text(d));
    free(bytes);
    CHECK(t_sh("rm flow.json") == 0);
    CHECK(flowedit_disk_changed(d));
    flowedit_free(d);
}

TEST(flowedit_open_reports_syntax_like_the_cli)
{
    t_write("flow.json", "{\n  \"tasks\": {\n    \"a\": {\"run\": \"x\",}\n  }\n}\n");
    char *path = tmp_path("flow.json");
    struct flowedit *d;
    struct err e;
    CHECK(flowedit_open(path, &d, &e) != 0);
    CHECK_CONTAINS(e.msg, "flow.json:3:22: invalid JSON near '}'");
    free(path);
    d = open_text("flow.json", "{\"tasks\": {\"a\": {\"run\": \"x\", \"aftr\": []}}}");
    REQUIRE(d); /* valid JSON, not a valid flow: editable, and says why */
    CHECK_CONTAINS(flowedit_error(d), "task a: unknown field \"aftr\" (did you mean \"after\"?)");
    CHECK_STR(apply(d, EDIT_SET, "a.keep", NULL, "none"), ""); /* still broken: allowed */
    CHECK_STR(apply(d, EDIT_UNSET, "a.aftr", NULL, NULL), "");
    CHECK(flowedit_error(d) == NULL);
    flowedit_free(d);
}

/* A number keeps its text through the editor (cJSON alone would save
 * 9007199254740993 as 9.00719925474099e+15 and 1e400 as null), and a value typed
 * for :param is a number only when all of it is one. */
TEST(flowedit_numbers_keep_their_text)
{
    struct flowedit *d = open_text("flow.json", "{\"params\": {\"a\": 9007199254740993, "
                                                "\"b\": 1e400, \"c\": 0.10},\n"
                                                " \"tasks\": {\"t\": {\"run\": \"echo\"}}}");
    REQUIRE(d);
    CHECK_CONTAINS(text(d), "\"a\": 9007199254740993,");
    CHECK_CONTAINS(text(d), "\"b\": 1e400,");
    CHECK_CONTAINS(text(d), "\"c\": 0.10\n");
    CHECK_STR(apply(d, EDIT_PARAM, "d", NULL, "0.30000000000000004"), "");
    CHECK_STR(apply(d, EDIT_PARAM, "e", NULL, "5abc"), "");
    CHECK_CONTAINS(text(d), "\"d\": 0.30000000000000004,");
    CHECK_CONTAINS(text(d), "\"e\": \"5abc\"");
    flowedit_free(d);
}

TEST(flowedit_one_matrix_variable_takes_a_list_or_a_parameter)
{
    struct flowedit *d = open_text("flow.json", "{\"params\": {\"samples\": [\"A\", \"B\"]},\n"
                                                " \"tasks\": {\"map\": {\"run\": \"echo\"}}}");
    REQUIRE(d);
    CHECK_STR(apply(d, EDIT_SET, "map.matrix.sample", NULL, "A, B"), "");
    CHECK_CONTAINS(text(d), "\"sample\": [\"A\", \"B\"]");
    CHECK_STR(apply(d, EDIT_SET, "map.matrix.sample", NULL, "{params.samples}"), "");
    CHECK_CONTAINS(text(d), "\"sample\": \"{params.samples}\"");
    CHECK_STR(apply(d, EDIT_SET, "map.matrix.lr", NULL, "0.01,0.1"), "");
    CHECK_CONTAINS(text(d), "\"lr\": [0.01, 0.1]");
    flowedit_free(d);
}

/* CPU seconds flowedit_open() takes on a flow of n tasks. */
static double open_cpu(int n)
{
    struct sb b = {0};
    sb_adds(&b, "{ \"name\": \"big\", \"tasks\": {\n");
    for (int i = 0; i < n; i++)
        sb_addf(&b, "%s\"t%d\": { \"run\": \"echo %d > $OUT/x\" }", i ? ",\n" : "", i, i);
    sb_adds(&b, "\n} }\n");
    t_write("big.json", b.buf);
    sb_free(&b);
    char *path = tmp_path("big.json");
    struct flowedit *d = NULL;
    struct err e;
    clock_t t0 = clock();
    int rc = flowedit_open(path, &d, &e);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(rc == 0);
    flowedit_free(d);
    free(path);
    return cpu;
}

/* Reading a big flow as a document is linear: each member's key was looked for among
 * the members before it (a minute of strcmp for 100,000 tasks, in the TUI only, which
 * reads the file as a document; 4 s for 40,000). Four times the tasks must cost about
 * four times as much (sixteen before), whatever the machine or a sanitizer's speed. */
TEST(flowedit_reads_a_big_flow_in_linear_time)
{
    double small = open_cpu(10000), big = open_cpu(40000);
    if (big > 0.2 && big > 9 * small)
        t_fail(__FILE__, __LINE__, "10,000 tasks: %.2f s, 40,000: %.2f s of CPU", small, big);
    else
        t_check();
}
