/* history: runs, task runs, their inputs and events, in the store's database.
 *
 * Writers are the run coordinator only (runner.c); readers are status, why and the
 * front ends. Strings passed in are copied by SQLite; strings returned in structs
 * are owned by the struct and released by its _free() function. No function here
 * starts a transaction: the coordinator batches writes in its own.
 */
#ifndef SLUICE_HISTORY_H
#define SLUICE_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "filedigest.h"
#include "fingerprint.h"
#include "hash.h"

/* The reason a hit fetched from the remote cache is recorded with (and the detail of
 * its TASK_DONE event): `sluice history` counts them by it. */
#define HISTORY_FROM_REMOTE "from the remote cache"

struct run_info {
    int64_t flow_id;
    const char *targets_json;
    const char *params_json;
    const char *git_head;
    bool git_dirty;
    int jobs;
    double started;
    int64_t replay_of; /* 0: not a replay */
};

struct task_run_info {
    int64_t run_id, flow_id;
    const char *task;
    const char *decision; /* ran hit cutoff skipped failed cancelled blocked */
    const char *reason;
    const char *cause; /* planned to run: its root causes ("param lr 0.1 -> 0.2"), or NULL */
    const char *deep_key, *shallow_key;
    int64_t source_id; /* hits: the task run that produced the output */
    const char *command;
    const char *dir; /* its working directory, relative to the flow file's */
    const char *env_json;
    const char *params_json; /* the parameters the task uses, with their values */
    const char *outputs_json; /* its declared outputs as a JSON list, or NULL */
    int cpus;
    double started, ended;
    bool has_exit;
    int exit_code;
    const char *output_digest;
    uint64_t output_size;
    const char *log_object;
    /* Inputs, recorded for every decision that is not a hit (hits point at source). */
    const char *const *code_paths; /* as in the task */
    const struct code_fp *const *code;
    size_t n_code;
    const struct file_fp *files;
    size_t n_files;
    const char *const *up_names;
    const char *const *up_vars; /* the IN_ variable each upstream was seen in */
    const char *const *up_keys;
    const char *const *up_digests; /* may hold NULLs */
    size_t n_up;
};

/* The inputs a task last completed with (following a hit to the run that produced it). */
struct past_inputs {
    int64_t task_run_id, run_id;
    char deep_key[HASH_HEX];
    char decision[16];
    double when;
    char *command, *env_json, *params_json; /* params_json: the task's own parameters */
    struct strv code_paths, code_blobs;
    struct strv file_paths, file_digests, file_sizes;
    struct strv up_names, up_keys;
    struct strv up_digests; /* the output it read of each upstream ("" when unknown) */
};

/* The flow's id (0 when it has never run); with `create`, registers it first. */
int history_flow_id(struct db *db, const char *path, const char *name, bool create, int64_t *id,
                    struct err *e);
int history_run_begin(struct db *db, const struct run_info *r, int64_t *run_id, struct err *e);
int history_run_end(struct db *db, int64_t run_id, const char *status, double ended,
                    struct err *e);
/* Records that the run's code differs from its git head (known once it planned). */
int history_run_dirty(struct db *db, int64_t run_id, struct err *e);
/* Deletes a run that never started (refused before anything ran) and its events. */
int history_run_forget(struct db *db, int64_t run_id, struct err *e);
/* Marks runs whose coordinating process is gone as "interrupted". */
int history_reap_runs(struct db *db, struct err *e);
int history_event(struct db *db, int64_t run_id, int64_t seq, double t, const char *task,
                  const char *state, const char *detail, struct err *e);
int history_task_run(struct db *db, const struct task_run_info *tr, int64_t *id, struct err *e);

/* 1 and *out filled when the task has completed before in this flow, 0 if never. */
int history_last_inputs(struct db *db, int64_t flow_id, const char *task, struct past_inputs *out);
void past_inputs_free(struct past_inputs *p);
/* The decision of the latest task run of `task` with this deep key, or "" if none. */
void history_last_decision(struct db *db, int64_t flow_id, const char *task, const char *deep_key,
                           char out[16]);

#endif
