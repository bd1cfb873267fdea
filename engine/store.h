/* store: the content-addressed output store on disk.
 *
 *   <root>/objects/ab/cdef...[.x]  file objects, named by the SHA-256 of their bytes
 *                                  (".x" for executables), read-only once stored
 *   <root>/views/<digest>/         an output as a directory of hard links to its
 *                                  objects: what downstream tasks see as $IN_x
 *   <root>/logs/ab/cdef...         captured task output, named by its SHA-256
 *   <root>/tmp/                    scratch: task OUT directories and live logs
 *
 * An output is described by its manifest (sorted paths with sizes and object ids);
 * its digest is the SHA-256 of the manifest. Manifests are kept by the cache module
 * in the database, committed with the entries that point at them, so this module
 * is handed a manifest whenever it needs one.
 *
 * Every object is written under a temporary name and renamed into place, so a crash
 * never leaves a partial object under a final name; store_sync() makes the output
 * objects written since the last call durable and must run before the cache records
 * them. (Logs and views are not synced: a lost log is not a wrong result, and views
 * are rebuilt from manifests.)
 * The store never decides what is cached: that is the cache module's table.
 */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"
#include "util.h"

struct store;

/* Opens (creating, mode 0700) the store rooted at root; store_root() is then its
 * absolute, resolved path, so every path the store hands out works from any
 * directory. A store that cannot be written opens too (readers work); store_lock()
 * then says it is read-only. */
int store_open(const char *root, struct store **out, struct err *e);
/* Something the user must be told about this store (it is on a network file system,
 * where SQLite's locking is unsafe), or NULL. */
const char *store_warning(const struct store *s);
/* Whether its file system is (nearly: under 64 KB) full. */
bool store_full(const struct store *s);
/* Takes the store's lock: shared for a run (many at once), exclusive for gc. Without
 * wait, returns 1 at once when it is taken (-1 on other errors: a read-only store).
 * Released by store_close(). */
int store_lock(struct store *s, bool exclusive, bool wait, struct err *e);
void store_close(struct store *s);
const char *store_root(const struct store *s);
/* The database file inside the store. */
char *store_db_path(const struct store *s);

/* The environment entry (name and '=') by which a task's processes carry the absolute
 * path of their scratch $OUT when their $OUT is a link to it (execdir.h). */
#define STORE_SCRATCH_VAR "SLUICE_SCRATCH="

/* Creates a fresh, empty directory for one execution of the task with this deep key:
 * its $OUT. The path is stable for a key.
 * When the directory is left over (a run died), this user's processes that still have
 * it as their $OUT (or STORE_SCRATCH_VAR) are killed (with their groups) before it is emptied. */
int store_scratch(struct store *s, const char *deep_key, char **out_dir, struct err *e);
/* Removes what is left of a task's $OUT (after a failure or cancel). */
void store_scratch_drop(struct store *s, const char *deep_key);
/* A log file for job slot `slot` of this process (reused while it stays empty, so a
 * run of quiet tasks does not create a file per task). Caller frees. */
char *store_log_path(const struct store *s, int slot);
/* Deletes the live logs (tmp/log-PID-N) of processes that are gone: a killed run's
 * are otherwise kept until the next gc. Those of live processes stay. */
void store_clean_logs(struct store *s);
/* Takes a finished task's log: an empty one stays for reuse (digest ""), anything
 * else is stored under logs/ (and the slot's file is released). */
int store_take_log(struct store *s, const char *log_path, char digest[HASH_HEX], struct err *e);
/* The stored log with this digest, or NULL. Caller frees. */
char *store_log_file(const struct store *s, const char *digest);
/* 0 when the stored log's bytes still hash to its name; -1 (message in e) otherwise. */
int store_log_check(const struct store *s, const char *digest, struct err *e);

struct output {
    char digest[HASH_HEX];
    char *manifest; /* owned; output_free() */
    uint64_t size;  /* bytes in its files */
};
void output_free(struct output *o);

/* Moves a finished $OUT directory into the store: every file becomes an object and
 * the directory becomes the output's view; *out describes it. Fails (and stores
 * nothing that could be mistaken for a result) on special files or symlinks leaving
 * the directory, and when $OUT itself is no longer a directory (a symlink is never
 * followed). A file whose inode has other names (a hard link to a user's file) is
 * copied, never chmodded or linked into the store: only the name in $OUT changes. */
int store_ingest(struct store *s, const char *out_dir, struct output *out, struct err *e);
/* Adds an object that comes from elsewhere (a remote): fill writes its bytes to the new
 * file it is given; they are stored as `object` ("<digest>" or "<digest>.x") only when
 * they hash to its digest, and made durable. An object already stored intact is kept
 * (fill is not called). 0, else -1 with e (nothing stored). */
typedef int (*store_fill_fn)(void *ctx, const char *path, struct err *e);
int store_add_object(struct store *s, const char *object, uint64_t size, store_fill_fn fill,
                     void *ctx, struct err *e);
/* Whether the object ("<digest>" or "<digest>.x") is stored at this size (a stat). */
bool store_has_object(const struct store *s, const char *object, uint64_t size);
/* Path of an object, or NULL if it is not in the store. Caller frees. */
char *store_object_path(const struct store *s, const char *digest);
/* Directories under the root, for gc: "objects", "views", "logs", "tmp". Caller frees. */
char *store_dir(const struct store *s, const char *which);

/* Whether the output's bytes are present (directory entries and stats only): given its
 * manifest, its view holds exactly that manifest (store_view_check()), or else every
 * object it names exists at the right size; without one, whether its view exists. */
bool store_has_output(struct store *s, const char *digest, const char *manifest);
/* The output's view directory. Given the manifest, a view that differs from it
 * (store_view_check()) is never handed out: it is rebuilt from the objects, as is a
 * missing one. Without a manifest an existing view is returned unchecked (only for
 * callers that know it is right). Caller frees. */
char *store_view(struct store *s, const char *digest, const char *manifest, struct err *e);
/* Compares the output's view with its manifest without reading any file's bytes:
 * an entry the manifest does not list (an extra file, directory or symlink), one it
 * lists that is missing or of another kind, a symlink with another target, or a file
 * that is not the stored object itself (another inode: replaced, or its object is
 * gone) is appended to problems, one line each, at most max (> 0) lines. Returns 1
 * when the view is not there, -1 when the manifest is corrupt, else 0 (it matches
 * when nothing was appended). An object's own bytes (changed in place, truncated)
 * are the objects' check (cache_output_intact(), verify), not this one. */
int store_view_check(struct store *s, const char *digest, const char *manifest, size_t max,
                     struct strv *problems);

/* Deletes an output's view and those of its objects `still_used` says nobody else
 * needs (it is asked with each object's name: "<digest>" or "<digest>.x"). */
int store_drop(struct store *s, const char *digest, const char *manifest,
               bool (*still_used)(void *ctx, const char *object), void *ctx, struct err *e);
/* 0 when a manifest that comes from elsewhere (a remote) is well formed and every
 * path it lists stays inside the output: relative, normalised, no "..", symlinks that
 * point inside, files named by SHA-256s. Else -1 with e. */
int store_manifest_check(const char *manifest, struct err *e);
/* Appends the paths of the files a manifest lists (in its order: sorted). */
void store_manifest_files(const char *manifest, struct strv *paths);
/* One file of an output as its manifest lists it (strings valid during the call). */
struct store_file {
    const char *path;   /* relative to the output's root */
    const char *object; /* "<digest>" or "<digest>.x" */
    const char *digest; /* SHA-256 of its bytes */
    uint64_t size;
};
/* Calls fn for each file a manifest lists; -1 when the manifest is malformed. */
int store_manifest_each(const char *manifest,
                        void (*fn)(void *ctx, const struct store_file *f), void *ctx);
/* Calls fn for each entry two levels under dir (objects/ab/cdef..., logs/, blobs/) with
 * its path and its name ("abcdef..."): only fan-out directories (two hex digits, real
 * directories, never a symbolic link) are entered, and names starting with '.' skipped.
 * What the entries are is fn's to check. */
void store_fanout_each(const char *dir, void (*fn)(void *ctx, const char *path, const char *name),
                       void *ctx);
/* Where the object named "<digest>" or "<digest>.x" lives (present or not). Caller frees. */
char *store_object_file(const struct store *s, const char *object);
/* Where the output's view lives (present or not). Caller frees. */
char *store_view_path(const struct store *s, const char *digest);
/* Materialises an output at dest (absolute): a single-file output as that file
 * (unless as_dir), anything else as a directory. Files are private copies (reflinks
 * where the file system has them), never the store's objects, unless link_it: then
 * hard links to the objects where possible (editing one edits the store). Every file's
 * bytes are checked against its digest on the way: a damaged object is never
 * published. Replaces what was at dest atomically enough that readers see the old or
 * the new version; whether dest may be replaced is the caller's to decide. placing
 * (if not NULL) is called with the fully built tree, just before it is renamed to
 * dest; its failure stops the publication. Returns -1 when the manifest is corrupt, 1
 * when dest could not be written. */
typedef int (*store_placing_fn)(void *ctx, const char *built, struct err *e);
int store_publish(struct store *s, const char *digest, const char *manifest, const char *dest,
                  bool as_dir, bool link_it, store_placing_fn placing, void *ctx,
                  struct err *e);
/* Appends every path a manifest lists: files, directories and symlinks. */
void store_manifest_paths(const char *manifest, struct strv *paths);

/* Durability is group-committed by a background thread, off the run's critical path:
 * store_sync_begin() hands it every output object written since the last call and
 * returns a ticket; store_synced() says (without blocking) whether everything up to
 * that ticket is on disk: 1 yes, 0 not yet, -1 an fsync failed (message in e).
 * Tickets grow, and a ticket covers all earlier writes, including identical objects
 * another task wrote first. store_sync() blocks until everything is durable. */
uint64_t store_sync_begin(struct store *s);
int store_synced(struct store *s, uint64_t ticket, struct err *e);
int store_sync(struct store *s, struct err *e);

#endif
