/* Flow validation: one test per error class, asserting the message users see. */
#include "flow.h"
#include "t.h"

/* Loads `json` as tmp/flow.json; returns the error message ("" when it loaded). */
static const char *load(const char *json, struct flow **out)
{
    static struct err e;
    e.msg[0] = 0;
    t_write("flow.json", json);
    char *path = path_join(t_tmpdir(), "flow.json");
    struct flow *f = NULL;
    int rc = flow_load(path, NULL, &f, &e);
    free(path);
    if (out)
        *out = f;
    else
        flow_free(f);
    if (rc == 0)
        e.msg[0] = 0;
    /* Messages name the path as given; keep only what follows the directory. */
    const char *slash = strstr(e.msg, "flow.json");
    return slash ? slash : e.msg;
}

TEST(flow_valid_loads_in_topological_order)
{
    struct flow *f;
    const char *msg = load("{\"name\": \"x\", \"params\": {\"n\": 3, \"who\": \"w\"},\n"
                           " \"tasks\": {\"c\": {\"run\": \"echo {params.n} {task}\", "
                           "\"after\": [\"b\"]},\n"
                           "  \"b\": {\"run\": \"echo ${HOME} {params.who} awk '{print $1}'\", "
                           "\"after\": [\"a\"]},\n"
                           "  \"a\": {\"run\": \"echo a\", \"env\": {\"Z\": \"1\", \"A\": 2}}}}",
                           &f);
    CHECK_STR(msg, "");
    REQUIRE(f);
    CHECK_STR(f->tasks[0].run, "echo 3 c");
    CHECK_STR(f->tasks[1].run, "echo ${HOME} w awk '{print $1}'");
    CHECK_STR(f->tasks[f->order[0]].name, "a");
    CHECK_STR(f->tasks[f->order[2]].name, "c");
    CHECK_STR(f->tasks[2].env[0].key, "A");
    CHECK_STR(f->tasks[2].env[0].value, "2");
    char var[FLOW_VAR_MAX];
    CHECK_STR(flow_dep_var(&f->tasks[1], 0, f, var, sizeof var), "IN_a");
    CHECK_STR(f->tasks[0].params[0].key, "n");
    CHECK_STR(f->tasks[0].params[0].value, "3");
    CHECK_STR(f->params_json, "{\"n\":3,\"who\":\"w\"}");
    flow_free(f);
}

TEST(flow_syntax_error_has_line_and_column)
{
    CHECK_STR(load("{\n  \"tasks\": {\n    \"a\": {\"run\": \"x\",}\n  }\n}\n", NULL),
              "flow.json:3:22: invalid JSON near '}'");
    CHECK_STR(load("{\"tasks\": {", NULL), "flow.json:1:12: invalid JSON: unexpected end of file");
    CHECK_STR(load("{\"tasks\": {}} trailing", NULL), "flow.json:1:15: invalid JSON near 't'");
}

TEST(flow_unknown_field_suggests)
{
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"aftr\": []}}}", NULL),
              "flow.json: task a: unknown field \"aftr\" (did you mean \"after\"?)");
    CHECK_STR(load("{\"taks\": {}}", NULL),
              "flow.json: unknown field \"taks\" (did you mean \"tasks\"?)");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"zzzzzz\": 1}}}", NULL),
              "flow.json: task a: unknown field \"zzzzzz\"");
}

TEST(flow_executor_defaults_and_options_merge_down_the_includes)
{
    t_write("sub/flow.json",
            "{\"slurm\": {\"mem\": \"2G\"}, \"tasks\": {\"s\": {\"run\": \"x\", "
            "\"slurm\": {\"partition\": \"{params.p}\"}}}, \"params\": {\"p\": \"gpu\"}}");
    struct flow *f;
    CHECK_STR(load("{\"executor\": \"slurm\", \"params\": {\"q\": \"long\"},\n"
                   " \"slurm\": {\"cpus\": 4, \"mem\": \"8G\", \"extra\": [\"--qos={params.q}\"]},\n"
                   " \"tasks\": {\"a\": {\"run\": \"x\", \"slurm\": {\"cpus\": 8}},\n"
                   "  \"b\": {\"run\": \"x\", \"executor\": \"local\", \"local\": {\"time\": \"1h\"}},\n"
                   "  \"c\": {\"run\": \"x\", \"executor\": \"local\"},\n"
                   "  \"sub\": {\"flow\": \"sub/flow.json\"}}}",
                   &f),
              "");
    REQUIRE(f);
    const struct task *a = &f->tasks[flow_find(f, "a")], *b = &f->tasks[flow_find(f, "b")];
    const struct task *c = &f->tasks[flow_find(f, "c")], *s = &f->tasks[flow_find(f, "sub/s")];
    CHECK_STR(a->executor, "slurm");
    CHECK_STR(a->exec_options, "{\"mem\":\"8G\",\"extra\":[\"--qos=long\"],\"cpus\":8}");
    CHECK_STR(b->executor, "local");
    CHECK_STR(b->exec_options, "{\"time\":\"1h\"}");
    CHECK(c->exec_options == NULL);
    /* The sub-flow inherits the default executor; its own defaults and the task's win. */
    CHECK_STR(s->executor, "slurm");
    CHECK_STR(s->exec_options,
              "{\"cpus\":4,\"extra\":[\"--qos=long\"],\"mem\":\"2G\",\"partition\":\"gpu\"}");
    CHECK_STR(s->path, "sub/flow.json");
    CHECK(f->n_exec_defaults == 1);
    /* Where a task runs is not what it computes: options stay out of the key's inputs. */
    CHECK(a->n_params == 0);
    flow_free(f);
}

TEST(flow_executor_fields_are_checked)
{
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"executor\": 3}}}", NULL),
              "flow.json: task a: \"executor\" must be an executor's name, like \"local\" or "
              "\"slurm\" (lower-case letters, digits, '-' and '_')");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"slurm\": {}}}}", NULL),
              "flow.json: task a: unknown field \"slurm\" (the task runs on executor \"local\", "
              "so it takes no \"slurm\" options)");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"executor\": \"slurm\", "
                   "\"slurn\": {}}}}",
                   NULL),
              "flow.json: task a: unknown field \"slurn\" (did you mean \"slurm\"?)");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"envv\": {}}}}", NULL),
              "flow.json: task a: unknown field \"envv\" (did you mean \"env\"?)");
    CHECK_STR(load("{\"slurm\": {}, \"tasks\": {\"a\": {\"run\": \"x\"}}}", NULL),
              "flow.json: unknown field \"slurm\" (options for executor \"slurm\"? no task of "
              "this file runs on it)");
    CHECK_STR(load("{\"executor\": \"slurm\", \"slurm\": {\"p\": \"{params.x}\"}, "
                   "\"tasks\": {\"a\": {\"run\": \"x\"}}}",
                   NULL),
              "flow.json: \"slurm\": unknown parameter {params.x}");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"executor\": \"slurm\", "
                   "\"slurm\": {\"p\": \"{params.x}\"}}}}",
                   NULL),
              "flow.json: task a: \"slurm\": unknown parameter {params.x}");
    CHECK_STR(load("{\"tasks\": {\"s\": {\"flow\": \"x.json\", \"executor\": \"slurm\"}}}", NULL),
              "flow.json: task s: a sub-flow node takes only \"flow\", \"with\" and \"matrix\" (\"executor\" "
              "belongs in the sub-flow's own tasks)");
}

TEST(flow_wrong_types)
{
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"after\": \"b\"}}}", NULL),
              "flow.json: task a: \"after\" must be an array of strings");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": 3}}}", NULL),
              "flow.json: task a: \"run\" must be a non-empty string");
    CHECK_STR(load("{\"tasks\": []}", NULL),
              "flow.json: \"tasks\" must be an object mapping names to tasks");
    CHECK_STR(load("{\"params\": {\"x\": {\"y\": 1}}, \"tasks\": {\"a\": {\"run\": \"x\"}}}", NULL),
              "flow.json: parameter x must be a string, number, boolean or list");
    CHECK_STR(load("{\"tasks\": {\"a\": {}}}", NULL),
              "flow.json: task a: missing \"run\" (the command to execute)");
}

TEST(flow_unknown_after_suggests)
{
    CHECK_STR(load("{\"tasks\": {\"load\": {\"run\": \"x\"}, "
                   "\"train\": {\"run\": \"y\", \"after\": [\"lod\"]}}}",
                   NULL),
              "flow.json: task train: \"after\" names unknown task \"lod\" (did you mean \"load\"?)");
}

TEST(flow_cycle_is_printed_as_a_path)
{
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"after\": [\"c\"]}, "
                   "\"b\": {\"run\": \"x\", \"after\": [\"a\"]}, "
                   "\"c\": {\"run\": \"x\", \"after\": [\"b\"]}, "
                   "\"d\": {\"run\": \"x\", \"after\": [\"c\"]}}}",
                   NULL),
              "flow.json: cycle: a -> b -> c -> a");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"after\": [\"a\"]}}}", NULL),
              "flow.json: cycle: a -> a");
}

TEST(flow_duplicates_and_names)
{
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\"}, \"a\": {\"run\": \"y\"}}}", NULL),
              "flow.json:1:31: task a is defined twice (first at line 1)");
    CHECK_STR(load("{\"tasks\": {\n \"a\": {\"run\": \"x\"},\n \"b\": {\"run\": \"x\"},\n"
                   " \"a\": {\"run\": \"y\"}}}", NULL),
              "flow.json:4:2: task a is defined twice (first at line 2)");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\"},\n\"a\": {\"run\": \"y\"},\n"
                   "\"a\": {\"run\": \"z\"}}}", NULL),
              "flow.json:2:1: task a is defined twice (first at line 1)");
    CHECK_STR(load("{\"tasks\": {\"../x\": {\"run\": \"x\"}}}", NULL),
              "flow.json: task \"../x\": names may use letters, digits, '_', '-' and '.', and "
              "may not start with '.' or '-'");
    CHECK_STR(load("{\"tasks\": {\"a b\": {\"run\": \"x\"}}}", NULL),
              "flow.json: task \"a b\": names may use letters, digits, '_', '-' and '.', and "
              "may not start with '.' or '-'");
    CHECK_STR(load("{\"tasks\": {\"a-b\": {\"run\": \"x\"}, \"a_b\": {\"run\": \"y\"}, "
                   "\"c\": {\"run\": \"z\", \"after\": [\"a-b\", \"a_b\"]}}}",
                   NULL),
              "flow.json: task c: a-b and a_b would both be passed as IN_a_b");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"run\": \"y\"}}}", NULL),
              "flow.json:1:30: task a: field \"run\" appears twice (first at line 1)");
    CHECK_STR(load("{\"params\": {\"p\": 1,\n  \"p\": 2}, \"tasks\": {\"a\": {\"run\": \"x\"}}}",
                   NULL),
              "flow.json:2:3: parameter p is defined twice (first at line 1)");
}

TEST(flow_missing_code_files)
{
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"code\": [\"nope.py\"]}}}", NULL),
              "flow.json: task a: code file nope.py: No such file or directory");
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"code\": [\"src/*.py\"]}}}", NULL),
              "flow.json: task a: code pattern src/*.py matches no file");
    t_write("src/b.py", "b");
    t_write("src/a.py", "a");
    t_write("src/sub/c.py", "c");
    struct flow *f;
    CHECK_STR(load("{\"tasks\": {\"a\": {\"run\": \"x\", \"code\": [\"src/*.py\", \"./src/a.py\", "
                   "\"src/sub\"]}}}",
                   &f),
              "");
    REQUIRE(f);
    REQUIRE(f->tasks[0].code.n == 3);
    CHECK_STR(f->tasks[0].code.v[0], "src/a.py");
    CHECK_STR(f->tasks[0].code.v[1], "src/b.py");
    CHECK_STR(f->tasks[0].code.v[2], "src/sub/c.py");
    flow_free(f);
}

TEST(flow_unknown_param_suggests)
{
    CHECK_STR(load("{\"params\": {\"lr\": 0.1}, \"tasks\": {\"t\": {\"run\": \"x {params.lrr}\"}}}",
                   NULL),
              "flow.json: task t: run: unknown parameter {params.lrr} (did you mean {params.lr}?)");
    CHECK_STR(load("{\"tasks\": {\"t\": {\"run\": \"x {key}\"}}}", NULL),
              "flow.json: task t: run: {key} is only available in publish");
}

TEST(flow_param_overrides)
{
    t_write("flow.json", "{\"params\": {\"lr\": 0.1, \"name\": \"a\"}, \"tasks\": "
                         "{\"t\": {\"run\": \"x {params.lr} {params.name}\"}}}");
    char *path = path_join(t_tmpdir(), "flow.json");
    struct strv ov = {0};
    strv_push(&ov, xstrdup("lr=0.25"));
    strv_push(&ov, xstrdup("name=two words"));
    struct flow *f = NULL;
    struct err e;
    REQUIRE(flow_load(path, &ov, &f, &e) == 0);
    CHECK_STR(f->tasks[0].run, "x 0.25 two words");
    flow_free(f);
    strv_free(&ov);
    strv_push(&ov, xstrdup("nope=1"));
    CHECK(flow_load(path, &ov, &f, &e) != 0);
    CHECK_CONTAINS(e.msg, "flow.json: no parameter named nope (it has: lr, name)");
    strv_free(&ov);
    free(path);
}

TEST(flow_durations_are_plain_numbers_with_a_unit_up_to_100_years)
{
    double s = 0;
    CHECK(flowfile_duration("90s", &s) == 0 && s == 90);
    CHECK(flowfile_duration("1.5h", &s) == 0 && s == 5400);
    CHECK(flowfile_duration("36500d", &s) == 0 && s == 36500.0 * 86400);
    CHECK(flowfile_duration("36600d", &s) == 1);
    CHECK(flowfile_duration("99999999999999999999d", &s) == 1);
    CHECK(flowfile_duration("1e3s", &s) != 0);
    CHECK(flowfile_duration("0x10s", &s) != 0);
    CHECK(flowfile_duration(" 5s", &s) != 0);
    CHECK(flowfile_duration("0s", &s) != 0);
    CHECK(flowfile_duration("5", &s) != 0);
    CHECK(flowfile_duration(".5h", &s) != 0);
    CHECK_STR(load("{\"tasks\": {\"t\": {\"run\": \"x\", \"expire\": \"99999999999999999999d\"}}}",
                   NULL),
              "flow.json: task t: \"expire\" 99999999999999999999d is more than 100 years");
    CHECK_STR(load("{\"tasks\": {\"t\": {\"run\": \"x\", \"expire\": \"1e3s\"}}}", NULL),
              "flow.json: task t: \"expire\" must be a duration like \"90s\", \"15m\", \"24h\" or "
              "\"30d\"");
}

TEST(flow_cpus_becomes_another_executors_cpus_option_unless_it_has_one)
{
    struct flow *f = NULL;
    const char *err = load("{\"tasks\": {"
                           "\"a\": {\"run\": \"x\", \"executor\": \"slurm\", \"cpus\": 4},"
                           "\"b\": {\"run\": \"x\", \"executor\": \"slurm\", \"cpus\": 4, "
                           "\"slurm\": {\"cpus\": 2}},"
                           "\"c\": {\"run\": \"x {cpus}\", \"cpus\": 3}}}",
                           &f);
    CHECK_STR(err, "");
    REQUIRE(f);
    const struct task *a = &f->tasks[flow_find(f, "a")], *b = &f->tasks[flow_find(f, "b")],
                      *c = &f->tasks[flow_find(f, "c")];
    CHECK_STR(a->exec_options, "{\"cpus\":4}");
    CHECK_STR(b->exec_options, "{\"cpus\":2}");
    CHECK(c->exec_options == NULL); /* local: job slots, no option */
    CHECK(c->cpus == 3);
    CHECK_STR(c->run, "x {cpus}"); /* substituted per run, never in the key */
    flow_free(f);
}
