/* The plugin loader: where it looks, and what it says about a missing plugin, a
 * wrong ABI version or a shared object that is not a plugin. Bad plugins are built
 * here with cc; the real `local` plugin comes from $UNIT_PLUGINS (set by make test). */
#include <unistd.h>

#include "plugin.h"
#include "t.h"

/* Builds tmp/NAME.so from C source. */
static bool build_so(const char *name, const char *source)
{
    char *src = xasprintf("%s.c", name);
    t_write(src, source);
    int rc = t_sh("cc -shared -fPIC -o %s.so %s", name, src);
    free(src);
    return rc == 0;
}

static const char *load_error(const char *name)
{
    static struct err e;
    struct strv dirs = {0};
    strv_push(&dirs, xstrdup("/nonexistent-dir"));
    strv_push(&dirs, xstrdup(t_tmpdir()));
    struct plugin p;
    e.msg[0] = 0;
    if (plugin_load(name, &dirs, &p, &e) == 0) {
        plugin_close(&p);
        e.msg[0] = 0;
    }
    strv_free(&dirs);
    const char *rel = strstr(e.msg, t_tmpdir());
    /* Keep what follows the temporary directory's name, for comparing. */
    return rel == e.msg ? e.msg + strlen(t_tmpdir()) : e.msg;
}

TEST(plugin_missing_names_every_directory)
{
    const char *msg = load_error("slurm");
    CHECK_CONTAINS(msg, "executor \"slurm\": no plugin slurm.so in /nonexistent-dir, ");
    CHECK_CONTAINS(msg, "(set SLUICE_PLUGIN_PATH to add a directory)");
    CHECK_CONTAINS(load_error("../etc"), "not a valid executor name");
}

TEST(plugin_wrong_abi_version_is_refused_with_both_versions)
{
    REQUIRE(build_so("old", "struct { int abi; const char *name; } sluice_executor = {1, \"old\"};"));
    CHECK_STR(load_error("old"), "/old.so: executor ABI version 1, but this sluice needs version "
                                 "2 (rebuild the plugin against this sluice's executor.h)");
    REQUIRE(build_so("future", "struct { int abi; } sluice_executor = {7};"));
    CHECK_CONTAINS(load_error("future"), "executor ABI version 7, but this sluice needs version 2");
}

TEST(plugin_that_is_not_one_is_refused)
{
    REQUIRE(build_so("nosym", "int not_a_plugin = 1;"));
    CHECK_STR(load_error("nosym"),
              "/nosym.so is not a sluice executor plugin: it has no symbol sluice_executor");
    t_write("junk.so", "this is not an ELF file\n");
    CHECK_CONTAINS(load_error("junk"), "executor \"junk\": cannot load ");
    /* The right version, but no functions and another name. */
    REQUIRE(build_so("named", "struct { int abi; const char *name; } sluice_executor = {2, "
                              "\"other\"};"));
    CHECK_STR(load_error("named"), "/named.so: its descriptor is incomplete or names executor "
                                   "\"other\", not \"named\"");
}

TEST(plugin_search_path_order)
{
    setenv("SLUICE_PLUGIN_PATH", "/a::/b", 1);
    struct strv dirs = {0};
    plugin_dirs(&dirs);
    unsetenv("SLUICE_PLUGIN_PATH");
    REQUIRE(dirs.n >= 3);
    CHECK_STR(dirs.v[0], "/a");
    CHECK_STR(dirs.v[1], "/b");
    CHECK_CONTAINS(dirs.v[2], "/plugins"); /* next to this binary */
    CHECK_CONTAINS(dirs.v[dirs.n - 1], "/lib/sluice/plugins"); /* the install's */
    strv_free(&dirs);
}

/* The local plugin through the ABI: checking options, and two jobs to completion. */
TEST(plugin_local_runs_jobs_through_the_abi)
{
    const char *where = getenv("UNIT_PLUGINS");
    REQUIRE(where);
    struct strv dirs = {0};
    strv_push(&dirs, xstrdup(where));
    struct plugin p;
    struct err e;
    REQUIRE(plugin_load("local", &dirs, &p, &e) == 0);
    strv_free(&dirs);
    const struct executor_ops *ops = p.ops;
    char msg[256];
    CHECK(ops->check("{\"mem\": \"2G\", \"time\": \"1h\"}", msg, sizeof msg) == 0);
    CHECK(ops->check("{\"mem\": \"lots\"}", msg, sizeof msg) == -1);
    CHECK_STR(msg, "\"mem\" must be a size like \"500M\" or \"8G\", not \"lots\"");
    void *ctx = ops->init(NULL, msg, sizeof msg);
    REQUIRE(ctx);
    char *log1 = path_join(t_tmpdir(), "log1"), *log2 = path_join(t_tmpdir(), "log2");
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    struct exec_job a = {.id = 1, .task = "a", .command = "echo hi; exit 3", .env = env,
                         .cwd = t_tmpdir(), .out_dir = t_tmpdir(), .log_path = log1};
    struct exec_job b = a;
    b.id = 2;
    b.command = "true";
    b.log_path = log2;
    CHECK(ops->submit(ctx, &a, msg, sizeof msg) == 1);
    CHECK(ops->submit(ctx, &b, msg, sizeof msg) == 1);
    int done = 0;
    struct exec_report r[4];
    for (int tries = 0; done < 2 && tries < 100; tries++) {
        int n = ops->poll(ctx, 100, r, 4);
        for (int i = 0; i < n; i++) {
            CHECK(r[i].kind == EXEC_DONE);
            CHECK(r[i].outcome == (r[i].id == 1 ? EXEC_FAILED : EXEC_OK));
            if (r[i].id == 1)
                CHECK_STR(r[i].reason, "exit code 3");
            done++;
        }
    }
    CHECK(done == 2);
    char *text = file_read_all(log1, NULL, NULL);
    CHECK_STR(text, "hi\n");
    free(text);
    ops->shutdown(ctx);
    plugin_close(&p);
    free(log1);
    free(log2);
}
