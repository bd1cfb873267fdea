/* keys: a task's inputs and its deep and shallow keys.
 *
 * deep key    = SHA-256(canonical encoding of: key format version, the substituted
 *               command, env, code fingerprint (paths relative to the task's flow
 *               file, blob ids), `files` digests, for each upstream its IN_
 *               variable name and deep key, and the declared `outputs` if any)
 * shallow key = the same with each upstream's *output digest* instead of its deep key.
 * The encoding is length-prefixed and sorted, so it is stable across runs, machines
 * and the order fields appear in the flow file. The fields in it are those
 * fields.h's table marks as part of the key, each with its encoder in keys.c. The task's name is not part of it:
 * identical tasks in two flows share one key. keys_deep() computes what a task needs
 * (upstream first, memoised) without running or reading any task output.
 */
#ifndef SLUICE_KEYS_H
#define SLUICE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "fields.h"
#include "filedigest.h"
#include "fingerprint.h"
#include "flow.h"
#include "hash.h"

#define KEY_FORMAT_VERSION 1

struct task_inputs { /* 96 bytes */
    const struct code_fp **code; /* per task->code path (in keys' code_slots); the
                                  * fingerprints are owned by the fingerprint context */
    struct file_fp *files;
    uint32_t n_code, n_files;
    char deep[HASH_HEX];
    bool done;
};

struct keys {
    const struct flow *flow;
    struct fingerprint *fp;
    struct db *db;
    struct task_inputs *in; /* one per task */
    const struct code_fp **code_slots; /* every task's code pointers, in one allocation */
};

/* Whether the key encodes this field of the table (exactly those it marks in_key). */
bool keys_encodes(enum task_field_id field);

void keys_init(struct keys *k, const struct flow *f, struct fingerprint *fp, struct db *db);
void keys_free(struct keys *k);

/* Computes (once) the inputs and deep key of task i and of everything upstream of it.
 * Errors name the task ("task load: file data.csv: No such file or directory"). */
int keys_deep(struct keys *k, size_t i, struct err *e);

/* The first code file or `files` path of task i (as the flow names it) that changed
 * since keys_deep() read it, or was added or removed under a `files` directory or glob;
 * NULL when none did. Caller frees. A task that ran while one changed made its output
 * from other inputs than its key says. */
char *keys_changed_input(const struct keys *k, size_t i);

/* The shallow key of task i given its upstreams' output digests (in deps order).
 * keys_deep(k, i) must have succeeded. */
void keys_shallow(const struct keys *k, size_t i, const char *const *dep_digests,
                  char out[HASH_HEX]);

#endif
