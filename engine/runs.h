/* runs: reading the run history back, for front ends (the TUI, history commands).
 *
 * history.c writes runs, task runs and events; this module answers the questions a
 * viewer asks of them: which runs a flow had and how they ended, which run is going
 * now (its coordinator still alive), what happened in it since event N, what a task
 * did in its last runs. Rows are handed to a callback (strings valid during the
 * call only) or returned in structs freed by their _free(). Nothing here writes.
 */
#ifndef SLUICE_RUNS_H
#define SLUICE_RUNS_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct run_row {
    int64_t id;
    double started;
    double took; /* < 0 while going or when it never ended */
    char status[16];
    int ran, hit, cutoff, failed, cancelled, blocked;
    int hit_remote;  /* of the hits, those fetched from the remote cache */
    int unpublished; /* outputs that could not be published */
    char *targets; /* JSON array */
    char *params;  /* JSON object */
    char git_head[41]; /* "" outside git */
    bool git_dirty;
    int jobs;
    int64_t replay_of; /* 0: not a replay */
    char task_decision[16]; /* runs_list_task(): what the task did in it */
    char *task_cause;       /* runs_list_task(): why it was planned to run, or "" */
};

struct task_run_row {
    int64_t run_id;
    char decision[16];
    double started; /* 0 when it did not run */
    double took;    /* < 0 when it did not run */
    char *reason;
    char *cause; /* why it was planned to run ("" for a hit or when not recorded) */
};

/* Changes whenever another connection commits (PRAGMA data_version). */
int64_t runs_data_version(struct db *db);

/* The flow's runs, newest first, at most limit. */
size_t runs_list(struct db *db, int64_t flow_id, size_t limit, struct run_row **out);
void runs_list_free(struct run_row *rows, size_t n);
/* The flow's runs in which `task` has a task run, newest first, at most limit. */
size_t runs_list_task(struct db *db, int64_t flow_id, const char *task, size_t limit,
                      struct run_row **out);
/* The run's summary row; false when there is no such run. Free with run_row_free(). */
bool runs_get(struct db *db, int64_t run_id, struct run_row *out);
void run_row_free(struct run_row *r);
/* A run's targets (its JSON array) as "a, b". Caller frees. */
char *runs_targets_text(const char *targets_json);
/* The flow a run belongs to (0 when there is no such run). */
int64_t runs_flow(struct db *db, int64_t run_id);

/* The newest run of the flow (going or not), or 0. */
int64_t runs_newest(struct db *db, int64_t flow_id);
/* Whether this run is still going (its status is "running" and its process alive). */
bool runs_is_going(struct db *db, int64_t run_id);

/* Calls fn for each event of the run after sequence number `after`, in order;
 * returns the last sequence number seen (or `after`). */
int64_t runs_events(struct db *db, int64_t run_id, int64_t after,
                    void (*fn)(void *ctx, const char *task, const char *state, double t,
                               const char *detail),
                    void *ctx);
/* Calls fn with how long each task of the flow took the last time it ran. */
void runs_last_durations(struct db *db, int64_t flow_id,
                         void (*fn)(void *ctx, const char *task, double seconds), void *ctx);

/* The task's last task runs in the flow, newest first, at most limit. */
size_t runs_of_task(struct db *db, int64_t flow_id, const char *task, size_t limit,
                    struct task_run_row **out);
void runs_of_task_free(struct task_run_row *rows, size_t n);
/* The job a scheduler ran the task as in that run ("slurm job 42"), or NULL. Caller frees. */
char *runs_job_of(struct db *db, int64_t run_id, const char *task);
/* The log object of the task's last run that captured output, or NULL. Caller frees. */
char *runs_last_log(struct db *db, int64_t flow_id, const char *task);

/* One task run as recorded, with the inputs of the task run that produced its output:
 * itself, or for a hit the one it reused (followed through hits). */
struct task_record {
    int64_t id, run_id;
    int64_t producer_id, producer_run; /* the task run whose inputs these are, its run */
    char *task, *decision, *reason;
    char *cause;                  /* why it was planned to run; "" for a hit, or unrecorded */
    char *deep_key, *shallow_key; /* shallow: "" when none */
    char *command, *dir, *env_json, *params_json; /* dir: relative to the flow's, "" unknown */
    double started, ended; /* 0: none */
    bool has_exit;
    int exit_code;
    char *output_digest; /* "" when none */
    uint64_t output_size;
    char *log_object; /* "" when none */
    struct strv code_paths, code_blobs;
    struct strv file_paths, file_digests;
    uint64_t *file_sizes;
    struct strv up_names, up_vars, up_keys, up_digests; /* var, digest: "" when unknown */
    struct strv outputs; /* its declared outputs (none when recorded before they were) */
    int cpus;            /* 1 when not recorded */
};

/* Every task run of a run, in the order they were recorded. Caller frees with
 * task_records_free(). */
size_t runs_tasks(struct db *db, int64_t run_id, struct task_record **out);
void task_records_free(struct task_record *r, size_t n);
/* A task run with this deep key: run_id's own when it has one, else (run_id 0, or none
 * there) the newest that produced an output (ran or was cut off); false when none is
 * recorded. Free with task_record_free(). */
bool runs_task_by_key(struct db *db, int64_t run_id, const char *deep_key,
                      struct task_record *out);
void task_record_free(struct task_record *r);
/* The task's task run in this run (with its producer's inputs); false when none. */
bool runs_task_in_run(struct db *db, int64_t run_id, const char *task, struct task_record *out);
/* The newest run of the flow in which the task is queued or running right now (its
 * coordinator alive), or 0. */
int64_t runs_task_going(struct db *db, int64_t flow_id, const char *task);
/* The task's latest event in the run: its state word ("" if none) and detail. */
void runs_task_event(struct db *db, int64_t run_id, const char *task, char state[16],
                     char **detail);

#endif
