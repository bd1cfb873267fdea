/* store: the content-addressed output store on disk.
 *
 *   <root>/objects/ab/cdef...[.x]  file objects, named by the SHA-256 of their bytes
 *                                  (".x" for executables), read-only once stored
 *   <root>/objects/...             manifests are objects too: an output's digest is the
 *                                  SHA-256 of its manifest (sorted paths, sizes, ids)
 *   <root>/views/<digest>/         an output as a directory of hard links to its
 *                                  objects: what downstream tasks see as $IN_x
 *   <root>/tmp/                    scratch: task OUT directories and live logs
 *
 * Every object is written under a temporary name and renamed into place, so a crash
 * never leaves a partial object under a final name; store_sync() makes the objects
 * written since the last call durable and must run before the cache records them.
 * The store never decides what is cached: that is the cache module's table.
 */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"
#include "util.h"

struct store;

/* Opens (creating, mode 0700) the store rooted at root. */
int store_open(const char *root, struct store **out, struct err *e);
void store_close(struct store *s);
const char *store_root(const struct store *s);
/* The database file inside the store. */
char *store_db_path(const struct store *s);

/* Creates a fresh, empty scratch directory for one execution of the task with this
 * deep key: *out_dir (the task's $OUT) and *log_path (its captured output). */
int store_scratch(struct store *s, const char *deep_key, char **out_dir, char **log_path,
                  struct err *e);
/* Removes a task's scratch directory (after ingest, failure or cancel). */
void store_scratch_drop(struct store *s, const char *deep_key);

/* Moves a finished $OUT directory into the store: every file becomes an object, the
 * manifest is written, and the directory becomes the output's view. Fails (and
 * stores nothing that could be mistaken for a result) on special files or symlinks
 * leaving the directory. */
int store_ingest(struct store *s, const char *out_dir, char digest[HASH_HEX], uint64_t *size,
                 struct err *e);
/* Stores one file (e.g. a log) as an object, leaving the original in place. */
int store_put_file(struct store *s, const char *path, char digest[HASH_HEX], struct err *e);
/* Path of an object, or NULL if it is not in the store. Caller frees. */
char *store_object_path(const struct store *s, const char *digest);

/* Whether the output's bytes are all present (cheap: stats only). */
bool store_has_output(struct store *s, const char *digest);
/* The output's view directory, rebuilt from its manifest when missing. Caller frees. */
char *store_view(struct store *s, const char *digest, struct err *e);

/* fsyncs every object and directory written since the last call. */
int store_sync(struct store *s, struct err *e);

#endif
