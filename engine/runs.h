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
    int ran, hit, cutoff, failed;
    char *targets; /* JSON array */
};

struct task_run_row {
    int64_t run_id;
    char decision[16];
    double started; /* 0 when it did not run */
    double took;    /* < 0 when it did not run */
    char *reason;
};

/* Changes whenever another connection commits (PRAGMA data_version). */
int64_t runs_data_version(struct db *db);

/* The flow's runs, newest first, at most limit. */
size_t runs_list(struct db *db, int64_t flow_id, size_t limit, struct run_row **out);
void runs_list_free(struct run_row *rows, size_t n);
/* The run's summary row; false when there is no such run. */
bool runs_get(struct db *db, int64_t run_id, struct run_row *out);

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
/* Calls fn with each task the run decided and its decision. */
void runs_decisions(struct db *db, int64_t run_id,
                    void (*fn)(void *ctx, const char *task, const char *decision), void *ctx);
/* Calls fn with how long each task of the flow took the last time it ran. */
void runs_last_durations(struct db *db, int64_t flow_id,
                         void (*fn)(void *ctx, const char *task, double seconds), void *ctx);

/* The task's last task runs in the flow, newest first, at most limit. */
size_t runs_of_task(struct db *db, int64_t flow_id, const char *task, size_t limit,
                    struct task_run_row **out);
void runs_of_task_free(struct task_run_row *rows, size_t n);
/* The log object of the task's last run that captured output, or NULL. Caller frees. */
char *runs_last_log(struct db *db, int64_t flow_id, const char *task);

#endif
