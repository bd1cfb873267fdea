/* executor: how a task's command gets run, behind one small interface.
 *
 * The runner hands an executor fully prepared jobs (command, environment, working
 * directory, OUT and log paths) and polls for completions; executors never touch the
 * store or the history. The interface is plain C with no engine types, so executors
 * can live in shared objects (plugins/) loaded by name: a plugin exports
 * `const struct executor_ops sluice_executor` with abi == EXECUTOR_ABI.
 */
#ifndef SLUICE_EXECUTOR_H
#define SLUICE_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#define EXECUTOR_ABI 1

struct exec_job {
    uint64_t id;              /* chosen by the runner, unique within a run */
    const char *task;         /* for messages */
    const char *command;      /* run by /bin/sh -c */
    const char *const *env;   /* the complete environment, NULL-terminated "K=V" */
    const char *cwd;
    const char *out_dir;
    const char *log_path;     /* stdout and stderr go here */
    const char *options_json; /* executor-specific resources (may be NULL) */
};

enum exec_outcome { EXEC_OK, EXEC_FAILED, EXEC_CANCELLED };

struct exec_result {
    uint64_t id;
    enum exec_outcome outcome;
    int exit_code; /* -1 when killed by a signal or never started */
    int signal;
    char reason[256]; /* e.g. "exit code 3", "killed by signal 9" */
};

struct executor_ops {
    int abi;
    const char *name;
    /* Returns a context, or NULL with a message in err (size errlen). */
    void *(*init)(const char *options_json, char *err, size_t errlen);
    /* 0 when the job was started; -1 with a message otherwise. */
    int (*submit)(void *ctx, const struct exec_job *job, char *err, size_t errlen);
    /* Waits up to timeout_ms for completions; returns how many were written to out
     * (at most max), or -1 when interrupted by a signal. */
    int (*poll)(void *ctx, int timeout_ms, struct exec_result *out, int max);
    /* Asks a job to stop; its completion still arrives through poll (EXEC_CANCELLED). */
    void (*cancel)(void *ctx, uint64_t id);
    /* How many submitted jobs have not been reported by poll yet. */
    size_t (*active)(void *ctx);
    void (*shutdown)(void *ctx);
};

/* The built-in executor: local processes, each in its own process group. */
extern const struct executor_ops executor_local;

#endif
