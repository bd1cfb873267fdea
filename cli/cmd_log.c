/* cmd_log: `sluice log TASK` — a task's captured output (stdout and stderr). */
#include <fcntl.h>
#include <getopt.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "runs.h"
#include "workspace.h"

#define FOLLOW_MS 100

/* Copies path's bytes from *offset on to stdout; returns false when it cannot be read. */
static bool copy_from(const char *path, off_t *offset)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[65536];
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, *offset)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        *offset += n;
    }
    close(fd);
    fflush(stdout);
    return true;
}

/* Prints a stored log from offset once its bytes are checked against its name: a
 * tampered log is not shown as the task's output. False when there was nothing to
 * print, or it was damaged (said on stderr; *damaged set). */
static bool print_stored(const struct records *r, const char *object, off_t offset,
                         bool *damaged)
{
    char *path = object[0] ? store_log_file(r->store, object) : NULL;
    struct err e = {0};
    if (path && store_log_check(r->store, object, &e) != 0) {
        fprintf(stderr, "sluice: %s\n", e.msg);
        *damaged = true;
        free(path);
        return false;
    }
    bool ok = path && copy_from(path, &offset);
    free(path);
    return ok;
}

static bool is_done(const char *state)
{
    return state[0] && strcmp(state, "queued") != 0 && strcmp(state, "running") != 0 &&
           strcmp(state, "fetching") != 0;
}

/* Follows the task while run `run` has it queued or running, then prints the rest from
 * its stored log. Returns the exit code: 1 when the task did not succeed. */
static int follow(struct cli *c, const struct records *r, int64_t run, const char *task)
{
    off_t offset = 0;
    char state[16];
    for (;;) {
        char *live = NULL;
        runs_task_event(r->db, run, task, state, &live);
        if (strcmp(state, "running") == 0 && live && live[0])
            copy_from(live, &offset);
        free(live);
        if (is_done(state) || !runs_is_going(r->db, run) || *c->cancel)
            break;
        struct timespec ts = {0, FOLLOW_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    struct task_record t;
    bool damaged = false;
    if (runs_task_in_run(r->db, run, task, &t)) {
        print_stored(r, t.log_object, offset, &damaged);
        snprintf(state, sizeof state, "%s", t.decision);
        task_record_free(&t);
    }
    bool ok = strcmp(state, "ran") == 0 || strcmp(state, "hit") == 0 ||
              strcmp(state, "cutoff") == 0;
    return ok && !damaged ? EXIT_OK : EXIT_TASK_FAILED;
}

static int print_log(const struct records *r, int64_t run, const char *task)
{
    char *object = NULL;
    int64_t in_run = run;
    if (run) {
        struct task_record t;
        if (!runs_task_in_run(r->db, run, task, &t)) {
            fprintf(stderr, "sluice: run %lld has no task named \"%s\"\n", (long long)run, task);
            return EXIT_USAGE;
        }
        object = xstrdup(t.log_object);
        task_record_free(&t);
    } else {
        object = runs_last_log(r->db, r->flow_id, task);
        struct run_row *rows;
        size_t n = runs_list_task(r->db, r->flow_id, task, 1, &rows);
        if (n == 0) {
            fprintf(stderr, "sluice: task \"%s\" has never run in this flow\n", task);
            free(object);
            return EXIT_USAGE;
        }
        in_run = rows[0].id;
        runs_list_free(rows, n);
    }
    bool damaged = false;
    if ((!object || !print_stored(r, object, 0, &damaged)) && !damaged)
        fprintf(stderr, "sluice: %s printed nothing%s\n", task,
                run || in_run ? "" : " in its last run");
    free(object);
    return damaged ? EXIT_TASK_FAILED : EXIT_OK;
}

int cmd_log(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"run", required_argument, NULL, 'r'},
                                          {"follow", no_argument, NULL, 'f'},
                                          {NULL, 0, NULL, 0}};
    const char *run_arg = NULL;
    bool follow_it = false;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":F", opts, NULL)) != -1) {
        if (ch == 'r')
            run_arg = optarg;
        else if (ch == 'f' || ch == 'F')
            follow_it = true;
        else if (ch == ':')
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    if (argc - optind != 1)
        return cli_usage_error(c, "name one task");
    const char *task = argv[optind];
    struct records r;
    int code = cli_records(c, &r);
    if (code != EXIT_OK)
        return code;
    int64_t run = 0;
    if (run_arg)
        code = cli_run_id(c, &r, run_arg, &run);
    if (code == EXIT_OK) {
        int64_t going = follow_it ? (run ? (runs_is_going(r.db, run) ? run : 0)
                                         : runs_task_going(r.db, r.flow_id, task))
                                  : 0;
        code = going ? follow(c, &r, going, task) : print_log(&r, run, task);
    }
    records_close(&r);
    return code;
}
