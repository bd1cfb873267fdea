/* fingerprint: code files -> git blob ids, via libgit2.
 *
 * A tracked file whose stat data matches its index entry takes the entry's blob id
 * without being read; a racily clean entry (mtime not older than the index file),
 * a modified or an untracked file is hashed as `git hash-object --no-filters` would.
 * The index is loaded once per fingerprint context and never written. Outside a git
 * repository every file is hashed the same way and fingerprint_in_git() is false.
 * Results are cached per path for the life of the context, which owns them. The
 * repository is opened in the background, so fingerprint_open() returns at once and
 * a broken repository is reported by the first call that needs it.
 */
#ifndef SLUICE_FINGERPRINT_H
#define SLUICE_FINGERPRINT_H

#include <stdbool.h>

#include "util.h"

#define BLOB_HEX 41

struct code_fp {
    const char *path;      /* relative to the flow directory, as in the flow */
    const char *repo_path; /* relative to the repository's work tree; NULL outside git */
    char blob[BLOB_HEX];
    bool clean; /* matched the index: the blob is in the object database */
};

struct fingerprint;

/* Starts opening the repository containing dir (if any). */
int fingerprint_open(const char *dir, struct fingerprint **out, struct err *e);
void fingerprint_close(struct fingerprint *fp);

bool fingerprint_in_git(struct fingerprint *fp);
/* HEAD's commit id (hex), or NULL (no repository, or an unborn branch). */
const char *fingerprint_head(struct fingerprint *fp);
/* The repository's work tree (absolute, with a trailing '/'), or NULL. */
const char *fingerprint_workdir(struct fingerprint *fp);

/* Fingerprints one file named relative to dir. The result is owned by fp. */
int fingerprint_file(struct fingerprint *fp, const char *rel, const struct code_fp **out,
                     struct err *e);

/* How many files were actually read and hashed (the rest came from the index). */
size_t fingerprint_hashed(const struct fingerprint *fp);

#endif
