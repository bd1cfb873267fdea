/* replay: re-execute a past run with the code and parameters it had.
 *
 * replay_prepare() rebuilds, from the history alone, every task the run's targets
 * needed (a hit is followed to the task run that produced its output): its recorded
 * command, env, parameters, `files` and upstreams. It materialises the code each task
 * ran, every recorded path at its recorded git blob id read from the repository's
 * object database, in a scratch tree under the store's tmp/ where the rest of the
 * repository is symlinked in, so the user's work tree and index are never touched.
 * replay_run() runs all of those tasks there (no hits, no early cutoff), recorded as a
 * new run marked as a replay; it writes no cache entries. replay_compare() says, per
 * task, whether the replay produced the output digest the run recorded.
 */
#ifndef SLUICE_REPLAY_H
#define SLUICE_REPLAY_H

#include "runner.h"
#include "workspace.h"

struct replay {
    struct workspace *ws; /* over the rebuilt flow, rooted in the scratch tree */
    int64_t of;           /* the run replayed */
    char *scratch;        /* the scratch tree (replay_free() removes it) */
    struct strv notes;    /* what the user should know: inputs that changed since */
    char (*recorded)[HASH_HEX]; /* per task: the output digest the run recorded, or "" */
    uint64_t *recorded_size;
    char git_head[41];
    bool git_dirty;
};

/* targets: task names of the run (none: the run's own targets). Errors name what is
 * missing ("task train: code tasks/train.py: blob 3f2a... is not in the repository's
 * object database"). */
int replay_prepare(const struct records *rec, int64_t run_id, char *const *targets,
                   size_t n_targets, struct replay **out, struct err *e);
/* Runs the replay with o's jobs, cancel flag and observer (targets, force and origin are
 * the replay's). */
int replay_run(struct replay *rp, const struct run_opts *o, struct run_summary *sum,
               struct err *e);

enum replay_verdict { REPLAY_IDENTICAL, REPLAY_DIFFERS, REPLAY_NOT_RUN };

struct replay_check {
    const char *task; /* owned by the replay */
    enum replay_verdict verdict;
    const char *recorded; /* digests ("" when none) */
    char now[HASH_HEX];
    uint64_t recorded_size, now_size;
};

/* Compares replay run new_run's outputs with the recorded ones, one entry per task in
 * topological order. Caller frees *out (not the strings). */
size_t replay_compare(struct replay *rp, int64_t new_run, struct replay_check **out);
void replay_free(struct replay *rp);

#endif
