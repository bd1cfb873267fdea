/* cache: which output each key stands for (tables `entries` and `outputs`).
 *
 * A deep key, a shallow key or an alias all map to an output digest; `outputs` holds
 * each output's manifest. An entry is written only after the output's objects are
 * durable (store_synced()), inside the coordinator's transaction, so a crash can lose
 * an entry but never leave one pointing at missing or partial bytes. Whether the
 * bytes are still in the store is checked through the manifest (cache_output_*).
 */
#ifndef SLUICE_CACHE_H
#define SLUICE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "hash.h"
#include "store.h"

struct cache_entry {
    char digest[HASH_HEX];
    uint64_t size;
    double created;
    double expires;      /* when it stops being valid (its task's expire), 0: never */
    int64_t task_run_id; /* the task run that produced the output (0 if unknown) */
    bool remote;         /* found in the cache tier behind this one (cache_lookup()) */
    bool fetched;        /* entered here by a run that fetched it from that tier */
};

/* A tier behind the local cache (a remote, remote.h): asked for a key the local cache
 * has no entry for, it hands out the entry and the output's objects, and takes what
 * tasks computed. It never fails a run: an unusable tier answers "none" (and keeps a
 * warning for its owner). Its operations may block for bounded time (their timeouts). */
struct cache_tier_ops {
    /* 1 and *out filled (remote set, task_run_id 0) when the tier has key, else 0. */
    int (*lookup)(void *ctx, const char *key, struct cache_entry *out);
    /* Asks for the keys at once (several at a time), so that lookup() answers them
     * without waiting: for keys a plan is about to look up. */
    void (*prefetch)(void *ctx, const char *const *keys, size_t n);
    /* The manifest of an output lookup() returned (NULL if unknown). Caller frees. */
    char *(*manifest)(void *ctx, const char *digest);
    /* Writes the object whose bytes hash to digest (size bytes, as the manifest says) to
     * the new file path: 0, else -1 and e (a body longer than size is cut off there).
     * Called from several threads at once. */
    int (*fetch)(void *ctx, const char *digest, uint64_t size, const char *path, struct err *e);
    /* Queues an upload of an output (its objects' files, in the manifest's order) and
     * of key's entry for it; returns at once. */
    void (*put)(void *ctx, const char *key, const char *task, const struct cache_entry *en,
                const char *manifest, const struct strv *files);
    /* Keeps a warning for the tier's owner (what the cache could not use). */
    void (*note)(void *ctx, const char *warning);
};
struct cache_tier {
    const struct cache_tier_ops *ops;
    void *ctx;
};

/* 1 and *out filled when key has an entry, 0 when not. An entry that disagrees with
 * the history's record of the task run that made it (another output digest, task or
 * key: the database was edited behind sluice's back) counts as none, so its task
 * runs again and replaces it; `sluice verify` reports it. */
int cache_get(struct db *db, const char *key, struct cache_entry *out);
/* cache_get(), then (tier not NULL) the tier: the planner's one question. */
int cache_lookup(struct db *db, const struct cache_tier *tier, const char *key,
                 struct cache_entry *out);
/* Brings the objects of an output the tier's lookup() returned into the store, those
 * it lacks downloaded a few at a time (every one checked against its digest, and made
 * durable); writes nothing in the database (see cache_adopt()). 0, else -1 with e
 * (and a note to the tier): then the output cannot be used. */
int cache_fetch(struct store *st, const struct cache_tier *tier, const char *digest,
                struct err *e);
/* The same for n outputs at once, their objects downloaded together; ok[i] says
 * whether output i can be used. -1 with e only when the store cannot be synced. */
int cache_fetch_all(struct store *st, const struct cache_tier *tier, const char *const *digests,
                    size_t n, bool *ok, struct err *e);
/* Records a fetched output's manifest (cache_put_output()). */
int cache_adopt(struct db *db, const struct cache_tier *tier, const char *digest, uint64_t size,
                bool pinned, struct err *e);
/* Hands the tier an output a task computed, for key (cache_tier_ops.put). */
void cache_offer(struct db *db, struct store *st, const struct cache_tier *tier,
                 const char *key, const char *task, const struct cache_entry *en);
/* kind: "deep", "shallow" or "alias" (a new deep key for an output found by cutoff). */
int cache_put(struct db *db, const char *key, const char *kind, const char *task,
              const struct cache_entry *entry, struct err *e);

/* Deletes the entry of key, if any (its output stays). */
int cache_forget(struct db *db, const char *key, struct err *e);

/* Records an output's manifest (once per digest) and the objects it uses. A pinned
 * output (a task keeps it, or publishes it) is never dropped by cache_drop_output. */
int cache_put_output(struct db *db, const struct output *o, bool pinned, struct err *e);
/* Notes that an output was used (to the hour: for gc's least-recently-used order), and
 * pins it when a task wants it kept. */
int cache_use_output(struct db *db, const char *digest, bool pin, struct err *e);
/* Deletes an unpinned output's bytes (view, and objects no other present output
 * uses); its entries and manifest stay, so its key and digest remain known. Sets
 * *dropped to whether it did. */
int cache_drop_output(struct db *db, struct store *st, const char *digest, bool *dropped,
                      struct err *e);
/* What sluice published at a path (absolute): the only paths it may replace. */
struct publication {
    char digest[HASH_HEX];
    char *task;  /* the task that published it */
    char *flow;  /* its top flow file (absolute), or NULL (recorded before sluice knew) */
    char *stamp; /* publish.c's stamp of what it left there, or NULL */
};
/* 1 and *out filled (publication_free()) when sluice published at path, else 0. */
int cache_publication(struct db *db, const char *path, struct publication *out);
void publication_free(struct publication *p);
int cache_record_publication(struct db *db, const char *path, const struct publication *p,
                             struct err *e);
/* The output's manifest, or NULL if unknown. Caller frees. */
char *cache_manifest(struct db *db, const char *digest);
/* The same for an output whose bytes may have been dropped since (what a past
 * publication held). Caller frees. */
char *cache_manifest_known(struct db *db, const char *digest);
/* Whether the output's bytes can be used: its view holds exactly its manifest, or
 * every object of its manifest is there (then the view is rebuilt when used). */
bool cache_output_present(struct db *db, struct store *st, const char *digest);
/* Why an entry's output is not there although the entry is: "output was not kept"
 * (ephemeral: its task keeps nothing), "output was removed by gc" (gc --max-size),
 * or "output is missing from the store" (its files went behind sluice's back). */
const char *cache_missing_reason(struct db *db, const char *digest, bool ephemeral);
/* Whether the bytes a task would read as this output match its manifest: its objects
 * (a view is handed out only while its files are those objects, cache_output_view()),
 * by size, and by digest through the `files` stat cache (a file whose size, mtime and
 * inode are unchanged since it was last hashed is trusted; `sluice verify` re-hashes
 * everything). When not, *why (caller frees) says what is wrong. */
bool cache_output_intact(struct db *db, struct store *st, const char *digest, char **why);
/* Forgets damaged bytes: deletes the output's view and those of its objects whose
 * bytes do not match their names, and marks it dropped, so its task runs again. */
int cache_discard_output(struct db *db, struct store *st, const char *digest, struct err *e);
/* The output's view directory, checked against its manifest: rebuilt from the objects
 * when missing or when it differs (store_view()). Caller frees. */
char *cache_output_view(struct db *db, struct store *st, const char *digest, struct err *e);

#endif
