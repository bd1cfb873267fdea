/* fingerprint: code files -> git blob ids.
 *
 * A file whose stat data matches what the store recorded (table code_stat, valid
 * while the repository's index, HEAD and refs are unchanged) takes the recorded id;
 * otherwise a tracked file whose stat data matches its index entry takes the entry's
 * id; a racily clean entry (mtime not older than the index file), a modified or an
 * untracked file is hashed as `git hash-object --no-filters` would. libgit2 is only
 * touched when the store cannot answer, and the index is never written. Outside a git
 * repository every file is hashed the same way and fingerprint_in_git() is false.
 * Results are owned by the context; fingerprint_save() records what was learnt.
 */
#ifndef SLUICE_FINGERPRINT_H
#define SLUICE_FINGERPRINT_H

#include <stdbool.h>

#include "db.h"
#include "util.h"

#define BLOB_HEX 41

struct code_fp {
    const char *abs;       /* absolute path */
    const char *repo_path; /* relative to the repository's work tree (points into abs);
                            * NULL outside it */
    char blob[BLOB_HEX];
    bool clean; /* its blob is in the repository's object database */
    struct file_stamp stamp; /* the file's stat data before it was read */
};

struct fingerprint;

/* A context for files under dir. db (may be NULL) holds the caches. A broken
 * repository is reported by the first call that needs it. */
int fingerprint_open(const char *dir, struct db *db, struct fingerprint **out, struct err *e);
/* Records new fingerprints and the repository snapshot in db (own transaction). */
void fingerprint_save(struct fingerprint *fp);
void fingerprint_close(struct fingerprint *fp);

bool fingerprint_in_git(struct fingerprint *fp);
/* HEAD's commit id (hex), or NULL (no repository, or an unborn branch). */
const char *fingerprint_head(struct fingerprint *fp);
/* The repository's work tree (absolute, with a trailing '/'), or NULL. */
const char *fingerprint_workdir(struct fingerprint *fp);

/* Fingerprints the file rel names under dir. The result is owned by fp. */
int fingerprint_file(struct fingerprint *fp, const char *dir, const char *rel,
                     const struct code_fp **out, struct err *e);

/* The content of blob `id` (a code file's past version, `path` only names it in
 * messages) from the repository's object database. Caller frees *data. */
int fingerprint_blob(struct fingerprint *fp, const char *id, const char *path, char **data,
                     size_t *len, struct err *e);
/* Lets go of the git index and libgit2's other caches (10 MB for a 100,000-file
 * repository) once every file that matters has been fingerprinted; later calls reload
 * what they need (files are then hashed rather than matched against the index). */
void fingerprint_settle(struct fingerprint *fp);

/* How many files were actually read and hashed (the rest came from caches). */
size_t fingerprint_hashed(const struct fingerprint *fp);
/* Whether libgit2 had to be used (the store's records did not suffice). */
bool fingerprint_used_git(const struct fingerprint *fp);

#endif
