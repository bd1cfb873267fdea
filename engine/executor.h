/* executor: how a task's command gets run, behind one small versioned C ABI.
 *
 * An executor is a shared object in a plugin directory (see plugin.h) exporting
 * `const struct executor_ops sluice_executor` with abi == EXECUTOR_ABI. The runner
 * hands it fully prepared jobs (command, environment, working directory, OUT and log
 * paths, the task's options for this executor) and polls it for reports; executors
 * never touch the store or the history, and never print. Nothing here uses engine
 * types, so a plugin needs only this header. Strings passed in are valid during the
 * call only; an executor copies what it keeps.
 *
 * Version 2 (from 1): check(); submit() may queue a job, which poll() then reports
 * as queued (with the executor's own name for it, e.g. "slurm job 42") and started;
 * `active` is gone (the runner counts its own jobs).
 */
#ifndef SLUICE_EXECUTOR_H
#define SLUICE_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#define EXECUTOR_ABI 2

struct exec_job {
    uint64_t id;              /* chosen by the runner, unique within a run */
    const char *task;         /* for messages and job names */
    const char *command;      /* run by /bin/sh -c */
    const char *const *env;   /* the complete environment, NULL-terminated "K=V" */
    const char *cwd;
    const char *out_dir;
    const char *log_path;     /* stdout and stderr go here */
    const char *options_json; /* the task's options for this executor (a JSON object), or NULL */
};

enum exec_outcome { EXEC_OK, EXEC_FAILED, EXEC_CANCELLED };

enum exec_report_kind {
    EXEC_QUEUED,  /* accepted by a scheduler, waiting there: handle names it */
    EXEC_STARTED, /* began running */
    EXEC_DONE,    /* over: outcome, exit_code, signal, reason */
};

struct exec_report {
    uint64_t id;
    enum exec_report_kind kind;
    char handle[64]; /* EXEC_QUEUED: the job as the executor's own tools name it */
    enum exec_outcome outcome;
    int exit_code; /* -1 when killed by a signal or never started */
    int signal;
    char reason[256]; /* e.g. "exit code 3", "slurm job 42 TIMEOUT: ..." */
};

struct executor_ops {
    int abi;
    const char *name;
    /* Checks options (a JSON object, or NULL) without running anything: 0, or -1 with a
     * message in err (size errlen) such as `"mem" must be a size like "8G", not "x"`. */
    int (*check)(const char *options_json, char *err, size_t errlen);
    /* options_json: the flow's own object for this executor (its defaults), or NULL.
     * Returns a context, or NULL with a message in err. */
    void *(*init)(const char *options_json, char *err, size_t errlen);
    /* 1: the job is running now; 0: accepted, and poll() will report EXEC_QUEUED, then
     * EXEC_STARTED if it ever starts; -1 with a message: it was not started at all. */
    int (*submit)(void *ctx, const struct exec_job *job, char *err, size_t errlen);
    /* Waits up to timeout_ms for reports; returns how many were written to out (at
     * most max), or -1 when interrupted by a signal. A job's reports come in order and
     * its EXEC_DONE is its last. Never blocks longer than timeout_ms. */
    int (*poll)(void *ctx, int timeout_ms, struct exec_report *out, int max);
    /* Asks a job to stop; its EXEC_DONE (EXEC_CANCELLED) still comes through poll(). */
    void (*cancel)(void *ctx, uint64_t id);
    /* Stops whatever still runs, waits for it, and frees the context. */
    void (*shutdown)(void *ctx);
};

#endif
