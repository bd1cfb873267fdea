/* slurm_job: what the Slurm executor asks of Slurm's commands, and what it reads back.
 *
 * Pure functions, no processes: the sbatch command line for a job and its options,
 * the job id sbatch prints, lines of squeue, the record `scontrol show job -o` prints
 * for a finished job, and the mapping of Slurm's final job states (COMPLETED, FAILED,
 * TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL, ...) and ExitCode=code:signal to a
 * task's outcome and a reason a person can act on. Unit-tested against recorded
 * output of Slurm 22.05. Returned argv vectors are freed with slurm_argv_free().
 */
#ifndef SLUICE_SLURM_JOB_H
#define SLUICE_SLURM_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "executor.h"

/* Checks a task's "slurm" options. 0, or -1 with a message. */
int slurm_check(const char *options_json, char *err, size_t errlen);
/* `sbatch --parsable ... --wrap "exec /bin/sh -c '<command>'"` for the job. */
int slurm_sbatch_argv(const struct exec_job *job, char ***argv, char *err, size_t errlen);
void slurm_argv_free(char **argv);

/* Every job is submitted with --comment=SLURM_OUT_TAG<its OUT directory>, so that a
 * job left behind by a run that was killed can be found before its OUT is reused. */
#define SLURM_OUT_TAG "sluice-out:"
/* The jobs in `squeue -h --me -o '%i %k'` output whose comment names out_dir (at most
 * max of them, into ids); returns how many. */
size_t slurm_parse_holders(const char *out, const char *out_dir, long *ids, size_t max);

/* The job id in sbatch --parsable output ("42" or "42;cluster"), or 0. */
long slurm_parse_sbatch(const char *out);

enum slurm_phase { SLURM_PENDING, SLURM_RUNNING, SLURM_FINAL };
/* Where a JobState leaves a job (unknown states count as pending). */
enum slurm_phase slurm_phase(const char *state);

struct slurm_state {
    long job;
    char state[32];
    char reason[96];
    char nodes[128];
};
/* One line of `squeue -h -t all -o '%i|%T|%r|%N'`; false when it is not one. */
bool slurm_parse_squeue_line(const char *line, struct slurm_state *out);

struct slurm_final {
    struct slurm_state s;
    char time_limit[32];
    int exit_code; /* ExitCode=code:signal */
    int signal;
};
/* The output of `scontrol show job -o ID`; false when it describes no job. */
bool slurm_parse_show(const char *text, struct slurm_final *out);
/* Fills r's outcome, exit_code, signal and reason from a job's final record.
 * cancel_wanted: sluice asked for the cancel. Returns whether the job got to run. */
bool slurm_outcome(const struct slurm_final *f, bool cancel_wanted, struct exec_report *r);

#endif
