/* The Slurm executor's reading of Slurm: `scontrol show job -o` records of finished
 * jobs (recorded from Slurm 22.05 on a single-node cluster; the OUT_OF_MEMORY and
 * NODE_FAIL ones are recorded lines with the state changed, since that cluster cannot
 * produce them) mapped to outcomes, squeue lines, sbatch's output and command line. */
#include "options.h"
#include "slurm_job.h"
#include "t.h"
#include "util.h"

static bool outcome_of(const char *fixture, bool cancel_wanted, struct exec_report *r,
                       bool *ran)
{
    const char *src = getenv("SLUICE_SRC") ? getenv("SLUICE_SRC") : ".";
    char *path = xasprintf("%s/tests/fixtures/scontrol/%s.txt", src, fixture);
    char *text = file_read_all(path, NULL, NULL);
    free(path);
    struct slurm_final f;
    bool ok = text && slurm_parse_show(text, &f);
    free(text);
    memset(r, 0, sizeof *r);
    if (ok)
        *ran = slurm_outcome(&f, cancel_wanted, r);
    return ok;
}

TEST(slurm_final_states_map_to_outcomes)
{
    struct exec_report r;
    bool ran;
    REQUIRE(outcome_of("completed", false, &r, &ran));
    CHECK(r.outcome == EXEC_OK && r.exit_code == 0 && ran);
    CHECK_STR(r.reason, "slurm job 7 COMPLETED");

    REQUIRE(outcome_of("failed-exit-3", false, &r, &ran));
    CHECK(r.outcome == EXEC_FAILED && r.exit_code == 3 && r.signal == 0);
    CHECK_STR(r.reason, "slurm job 1 FAILED: exit code 3");

    REQUIRE(outcome_of("killed-by-signal-9", false, &r, &ran));
    CHECK(r.outcome == EXEC_FAILED && r.exit_code == -1 && r.signal == 9);
    CHECK_STR(r.reason, "slurm job 6 FAILED: killed by signal 9 (Killed) (Slurm's reason: "
                        "JobLaunchFailure)");

    REQUIRE(outcome_of("timeout", false, &r, &ran));
    CHECK(r.outcome == EXEC_FAILED && r.exit_code == -1 && ran);
    CHECK_STR(r.reason,
              "slurm job 5 TIMEOUT: it reached its time limit 00:01:00 (raise \"time\")");

    REQUIRE(outcome_of("out-of-memory", false, &r, &ran));
    CHECK(r.outcome == EXEC_FAILED);
    CHECK_STR(r.reason, "slurm job 11 OUT_OF_MEMORY: it used more memory than it asked for "
                        "(raise \"mem\")");

    REQUIRE(outcome_of("node-fail", false, &r, &ran));
    CHECK(r.outcome == EXEC_FAILED);
    CHECK_STR(r.reason, "slurm job 12 NODE_FAIL: node vm failed while running it");
}

TEST(slurm_cancelled_is_cancelled_only_when_sluice_asked)
{
    struct exec_report r;
    bool ran;
    REQUIRE(outcome_of("cancelled-while-running", true, &r, &ran));
    CHECK(r.outcome == EXEC_CANCELLED && ran && r.signal == 15);
    CHECK_STR(r.reason, "slurm job 2 cancelled (scancel)");
    REQUIRE(outcome_of("cancelled-while-pending", true, &r, &ran));
    CHECK(r.outcome == EXEC_CANCELLED && !ran && r.exit_code == -1);
    CHECK_STR(r.reason, "slurm job 3 cancelled (scancel) before it started");
    /* Cancelled by someone else: the task failed; retrying it is the user's call. */
    REQUIRE(outcome_of("cancelled-while-running", false, &r, &ran));
    CHECK(r.outcome == EXEC_FAILED);
    CHECK_CONTAINS(r.reason, "CANCELLED, not by sluice");
}

TEST(slurm_states_and_queue_lines)
{
    CHECK(slurm_phase("PENDING") == SLURM_PENDING);
    CHECK(slurm_phase("CONFIGURING") == SLURM_PENDING);
    CHECK(slurm_phase("RUNNING") == SLURM_RUNNING);
    CHECK(slurm_phase("COMPLETING") == SLURM_RUNNING);
    for (const char *const *s = (const char *const[]){"COMPLETED", "FAILED", "TIMEOUT",
                                                       "CANCELLED", "OUT_OF_MEMORY",
                                                       "NODE_FAIL", NULL};
         *s; s++)
        CHECK(slurm_phase(*s) == SLURM_FINAL);
    struct slurm_state st;
    REQUIRE(slurm_parse_squeue_line("3|PENDING|Resources|\n", &st));
    CHECK(st.job == 3);
    CHECK_STR(st.state, "PENDING");
    CHECK_STR(st.reason, "Resources");
    CHECK_STR(st.nodes, "");
    REQUIRE(slurm_parse_squeue_line("2|RUNNING|None|vm", &st));
    CHECK_STR(st.nodes, "vm");
    CHECK(!slurm_parse_squeue_line("slurm_load_jobs error: Invalid job id specified", &st));
    CHECK(slurm_parse_sbatch("42\n") == 42);
    CHECK(slurm_parse_sbatch("sbatch: warning: x\n43;cluster\n") == 43);
    CHECK(slurm_parse_sbatch("sbatch: error: Batch job submission failed: Invalid partition "
                             "name specified\n") == 0);
    struct slurm_final f;
    CHECK(!slurm_parse_show("slurm_load_jobs error: Invalid job id specified\n", &f));
}

static const char *joined(char **argv)
{
    static char buf[2048];
    buf[0] = 0;
    for (size_t i = 0; argv && argv[i]; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", argv[i]);
    return buf;
}

TEST(slurm_sbatch_command_line)
{
    struct exec_job job = {.id = 1,
                           .task = "prep/train",
                           .command = "python3 train.py '$IN_x' 100%",
                           .cwd = "/data/proj",
                           .out_dir = "/data/proj/.sluice/tmp/ab12.out",
                           .log_path = "/data/proj/.sluice/tmp/log-7-0%x",
                           .options_json = "{\"cpus\":4,\"mem\":\"8G\",\"time\":\"90m\","
                                           "\"partition\":\"gpu\",\"gres\":\"gpu:1\","
                                           "\"extra\":[\"--qos=high\"]}"};
    char **argv;
    char err[256];
    REQUIRE(slurm_sbatch_argv(&job, &argv, err, sizeof err) == 0);
    CHECK_STR(joined(argv),
              "sbatch --parsable --job-name=sluice:prep/train --chdir=/data/proj "
              "--output=/data/proj/.sluice/tmp/log-7-0%%x --open-mode=truncate --export=ALL "
              "--no-requeue --comment=sluice-out:/data/proj/.sluice/tmp/ab12.out "
              "--cpus-per-task=4 --mem=8G --time=0-01:30:00 --partition=gpu "
              "--gres=gpu:1 --qos=high --wrap=exec /bin/sh -c 'python3 train.py "
              "'\\''$IN_x'\\'' 100%'");
    slurm_argv_free(argv);
    job.options_json = NULL;
    REQUIRE(slurm_sbatch_argv(&job, &argv, err, sizeof err) == 0);
    CHECK(strstr(joined(argv), "--cpus") == NULL);
    slurm_argv_free(argv);
}

TEST(slurm_jobs_holding_an_out_are_found_by_their_comment)
{
    const char *out = "41 sluice-out:/s/tmp/ab.out\n"
                      "42 sluice-out:/s/tmp/ab.out.old\n"
                      "43 (null)\n"
                      "44 sluice-out:/s/tmp/ab.out\n"
                      "45 sluice-out:/s/tmp/cd.out\n";
    long ids[4];
    REQUIRE(slurm_parse_holders(out, "/s/tmp/ab.out", ids, 4) == 2);
    CHECK(ids[0] == 41 && ids[1] == 44);
    CHECK(slurm_parse_holders(out, "/s/tmp/ab.out", ids, 1) == 1);
    CHECK(slurm_parse_holders("", "/s/tmp/ab.out", ids, 4) == 0);
    CHECK(slurm_parse_holders("slurm_load_jobs error: Unable to contact slurm controller\n",
                              "/s/tmp/ab.out", ids, 4) == 0);
}

TEST(slurm_options_are_checked)
{
    char err[256];
    CHECK(slurm_check(NULL, err, sizeof err) == 0);
    CHECK(slurm_check("{\"time\": \"1-12:00:00\", \"mem\": 512}", err, sizeof err) == 0);
    CHECK(slurm_check("{\"cpu\": 4}", err, sizeof err) == -1);
    CHECK_STR(err, "unknown option \"cpu\" (options: cpus, mem, time, partition, gres, extra)");
    CHECK(slurm_check("{\"cpus\": 0}", err, sizeof err) == -1);
    CHECK_STR(err, "\"cpus\" must be a whole number of at least 1");
    CHECK(slurm_check("{\"mem\": \"8X\"}", err, sizeof err) == -1);
    CHECK_STR(err, "\"mem\" must be a size like \"500M\" or \"8G\", not \"8X\"");
    CHECK(slurm_check("{\"time\": \"soon\"}", err, sizeof err) == -1);
    CHECK_STR(err, "\"time\" must be a duration like \"90s\", \"2h\" or \"1-12:00:00\", not "
                   "\"soon\"");
    CHECK(slurm_check("{\"partition\": \"a b\"}", err, sizeof err) == -1);
    CHECK(slurm_check("{\"extra\": [\"--output=x\"]}", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is set by sluice itself");
    CHECK(slurm_check("{\"extra\": [\"gpu\"]}", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is not an sbatch option");
}

TEST(slurm_sizes_and_durations_read_as_slurm_reads_them)
{
    double s;
    uint64_t b;
    CHECK(options_duration("90s", &s) == 0 && s == 90);
    CHECK(options_duration("1.5h", &s) == 0 && s == 5400);
    CHECK(options_duration("30", &s) == 0 && s == 1800);      /* minutes */
    CHECK(options_duration("2:30", &s) == 0 && s == 150);     /* MM:SS */
    CHECK(options_duration("1:00:00", &s) == 0 && s == 3600); /* HH:MM:SS */
    CHECK(options_duration("1-2", &s) == 0 && s == 93600);    /* D-HH */
    CHECK(options_duration("2-00:00:30", &s) == 0 && s == 172830);
    CHECK(options_duration("0", &s) == -1);
    CHECK(options_duration("1:2:3:4", &s) == -1);
    CHECK(options_duration("-5m", &s) == -1);
    CHECK(options_size("512", &b) == 0 && b == 512ull << 20); /* megabytes */
    CHECK(options_size("8G", &b) == 0 && b == 8ull << 30);
    CHECK(options_size("100k", &b) == 0 && b == 100ull << 10);
    CHECK(options_size("1.5G", &b) == -1);
    CHECK(options_size("0", &b) == -1);
    CHECK(options_size("G", &b) == -1);
}
