/* rundiff: what differs between two recorded runs.
 *
 * Compares the runs' parameters, and for every task both runs have, the inputs its
 * output was made from (a hit counts with the inputs of the run that produced it):
 * code files (blob ids, with the unified diff between the two versions read from the
 * repository's object database), `files` digests, deep keys and output digests. Tasks
 * only one run has are listed apart. Reads only; the caller frees with rundiff_free().
 */
#ifndef SLUICE_RUNDIFF_H
#define SLUICE_RUNDIFF_H

#include <stdint.h>

#include "workspace.h"

struct rundiff_code {
    char *path;  /* as the task names it */
    char *tasks; /* the tasks that use it, comma-separated */
    char *old_blob, *new_blob;
    char *diff;       /* or NULL, then ... */
    char *diff_error; /* ... why there is none */
};

struct rundiff_file {
    char *path, *tasks;
    char *old_digest, *new_digest;
    uint64_t old_size, new_size;
};

struct rundiff_output {
    char *task;
    char *old_digest, *new_digest; /* "" when the task made none */
    uint64_t old_size, new_size;
};

struct rundiff {
    int64_t a, b;
    struct strv params; /* "lr: 0.1 -> 0.2", "seed: (none) -> 3" */
    struct rundiff_code *code;
    size_t n_code;
    struct rundiff_file *files;
    size_t n_files;
    struct strv keys_changed; /* tasks whose deep key differs */
    struct rundiff_output *outputs; /* every task both have, in run b's order */
    size_t n_outputs;
    struct strv only_a, only_b;
};

/* diff_lines: at most this many lines of each code diff. */
int rundiff_compute(const struct records *rec, int64_t a, int64_t b, size_t diff_lines,
                    struct rundiff *out, struct err *e);
void rundiff_free(struct rundiff *d);
/* The difference as readable lines (diff lines indented by 4, starting with +, - or
 * @ after the indent), for front ends to print or draw. */
void rundiff_lines(const struct rundiff *d, struct strv *lines);

#endif
