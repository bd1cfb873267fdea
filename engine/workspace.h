/* workspace: one flow with everything needed to reason about it.
 *
 * workspace_open() loads and validates the flow (flow_load), opens the store
 * (`$SLUICE_STORE`, else sluice.conf's `store`, else `.sluice/` next to the flow file), its database and the git
 * repository around the flow. Nothing is computed until asked: deep keys are
 * computed on demand through ws->keys. The caller owns the workspace.
 */
#ifndef SLUICE_WORKSPACE_H
#define SLUICE_WORKSPACE_H

#include "db.h"
#include "fingerprint.h"
#include "flow.h"
#include "keys.h"
#include "store.h"

struct workspace {
    struct flow *flow;
    struct store *store;
    struct db *db;
    struct fingerprint *fp;
    struct keys keys;
    int64_t flow_id; /* 0 until the flow's first run registers it */
};

/* overrides: `name=value` parameter overrides (may be NULL). */
int workspace_open(const char *flow_path, const struct strv *overrides, struct workspace **out,
                   struct err *e);
/* The same for a flow being edited: the flow file's content is text (see
 * flow_load_text(); a flow without tasks opens as an empty one). */
int workspace_open_text(const char *flow_path, const char *text, size_t len,
                        struct workspace **out, struct err *e);
void workspace_close(struct workspace *ws);

/* A workspace over a flow built in memory (flow_build(): a replay), with the store at
 * store_root. Code and files are fingerprinted without the store's caches, which are
 * for the user's own tree. Takes f over, even on failure. */
int workspace_attach(struct flow *f, const char *store_root, struct workspace **out,
                     struct err *e);

/* Where the store of the flow file at flow_path lives ($SLUICE_STORE, else the store
 * of its sluice.conf (config.h), else .sluice next to the file), as an absolute path (tasks get paths into it as $OUT and $IN_x
 * while running in their own flow's directory), without reading the file, into *out
 * (caller frees). A sluice.conf that cannot be read is an error (naming its line),
 * never a fall-back to the default store. */
int workspace_store_path(const char *flow_path, char **out, struct err *e);

/* A flow's store and history, opened without reading the flow file, so past runs
 * can be read (and replayed) even while the flow file is broken or gone. */
struct records {
    char *flow_path; /* absolute */
    struct store *store;
    struct db *db;
    int64_t flow_id; /* 0 when the flow never ran */
};
int workspace_records(const char *flow_path, struct records *out, struct err *e);
void records_close(struct records *r);

/* A one-time notice for the user (e.g. "not in a git repository ..."): returned once
 * per store, then remembered in it. NULL when there is nothing to say. Caller frees. */
char *workspace_notice(struct workspace *ws);

/* Resolves target names (tasks, or sub-flow nodes: their output) to task indices; no
 * names means the flow's default targets (its sinks). */
int workspace_targets(const struct workspace *ws, char *const *names, size_t n, size_t **out,
                      size_t *n_out, struct err *e);

#endif
