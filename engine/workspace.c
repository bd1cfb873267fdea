/* workspace: opening a flow with its store, database and repository. */
#include "workspace.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "history.h"

int workspace_store_path(const char *flow_path, char **out, struct err *e)
{
    const char *env = getenv("SLUICE_STORE");
    if (env && env[0]) {
        *out = path_absolute(env);
        return 0;
    }
    struct config c;
    if (config_load(flow_path, &c, e)) { /* a broken sluice.conf: no store is a guess */
        *out = NULL;
        return -1;
    }
    if (c.store) {
        *out = xstrdup(c.store);
        config_free(&c);
        return 0;
    }
    config_free(&c);
    char *dir = xstrdup(flow_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0;
    else
        strcpy(dir, ".");
    char *abs = realpath(dir, NULL);
    if (!abs)
        abs = path_absolute(dir);
    *out = path_join(abs, ".sluice");
    free(abs);
    free(dir);
    return 0;
}

/* The store at root and its database. */
static int open_store(const char *root, struct store **st, struct db **db, struct err *e)
{
    if (store_open(root, st, e))
        return -1;
    char *dbp = store_db_path(*st);
    int rc = db_open(dbp, db, e);
    free(dbp);
    return rc;
}

/* Opens the store, database and repository of an already loaded flow. */
static int open_around(struct workspace *ws, struct err *e)
{
    char *root;
    if (workspace_store_path(ws->flow->path, &root, e))
        return -1;
    int rc = open_store(root, &ws->store, &ws->db, e);
    free(root);
    if (rc == 0)
        rc = fingerprint_open(ws->flow->dir, ws->db, &ws->fp, e);
    if (rc == 0)
        rc = history_flow_id(ws->db, ws->flow->abspath, ws->flow->name, false, &ws->flow_id, e);
    if (rc == 0)
        keys_init(&ws->keys, ws->flow, ws->fp, ws->db);
    return rc;
}

int workspace_open(const char *flow_path, const struct strv *overrides, struct workspace **out,
                   struct err *e)
{
    struct workspace *ws = xcalloc(1, sizeof *ws);
    *out = NULL;
    if (flow_load(flow_path, overrides, &ws->flow, e) || open_around(ws, e)) {
        workspace_close(ws);
        return -1;
    }
    *out = ws;
    return 0;
}

int workspace_open_text(const char *flow_path, const char *text, size_t len,
                        struct workspace **out, struct err *e)
{
    struct workspace *ws = xcalloc(1, sizeof *ws);
    *out = NULL;
    if (flow_load_text(flow_path, text, len, true, &ws->flow, e) || open_around(ws, e)) {
        workspace_close(ws);
        return -1;
    }
    *out = ws;
    return 0;
}

int workspace_attach(struct flow *f, const char *store_root, struct workspace **out,
                     struct err *e)
{
    *out = NULL;
    struct workspace *ws = xcalloc(1, sizeof *ws);
    ws->flow = f;
    int rc = open_store(store_root, &ws->store, &ws->db, e);
    if (rc == 0)
        rc = fingerprint_open(f->dir, NULL, &ws->fp, e);
    if (rc) {
        ws->flow = NULL;
        workspace_close(ws);
        flow_free(f);
        return -1;
    }
    keys_init(&ws->keys, f, ws->fp, NULL);
    *out = ws;
    return 0;
}

void workspace_close(struct workspace *ws)
{
    if (!ws)
        return;
    if (ws->flow)
        keys_free(&ws->keys);
    if (ws->fp)
        fingerprint_save(ws->fp);
    fingerprint_close(ws->fp);
    db_close(ws->db);
    store_close(ws->store);
    flow_free(ws->flow);
    free(ws);
}

int workspace_records(const char *flow_path, struct records *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->flow_path = realpath(flow_path, NULL);
    if (!out->flow_path) {
        /* A deleted flow file: its history is still filed under its absolute path. */
        char cwd[4096];
        char *abs = path_join(getcwd(cwd, sizeof cwd) ? cwd : "/", flow_path);
        out->flow_path = path_normalize(abs, false);
        free(abs);
    }
    char *root = NULL;
    int rc = workspace_store_path(flow_path, &root, e);
    if (rc == 0)
        rc = open_store(root, &out->store, &out->db, e);
    free(root);
    if (rc) {
        records_close(out);
        return rc;
    }
    sqlite3_stmt *st = db_prepare(out->db, "SELECT id FROM flows WHERE path = ?");
    db_bind_text(st, 1, out->flow_path);
    out->flow_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return rc;
}

void records_close(struct records *r)
{
    db_close(r->db);
    store_close(r->store);
    free(r->flow_path);
    memset(r, 0, sizeof *r);
}

char *workspace_notice(struct workspace *ws)
{
    if (fingerprint_in_git(ws->fp))
        return NULL;
    char *seen = db_meta_get(ws->db, "notice_no_git");
    if (seen) {
        free(seen);
        return NULL;
    }
    if (db_meta_set(ws->db, "notice_no_git", "1", NULL))
        return NULL;
    return xasprintf("%s is not in a git repository: code is fingerprinted by hashing the "
                     "files, and the versions runs use are kept in the store (for why and "
                     "replay)",
                     ws->flow->dir);
}

int workspace_targets(const struct workspace *ws, char *const *names, size_t n, size_t **out,
                      size_t *n_out, struct err *e)
{
    if (n == 0) {
        *out = xcalloc(ws->flow->n_targets + 1, sizeof **out);
        memcpy(*out, ws->flow->targets, ws->flow->n_targets * sizeof **out);
        *n_out = ws->flow->n_targets;
        return 0;
    }
    size_t *t = NULL, m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t *found, k = flow_find_all(ws->flow, names[i], &found);
        if (k == 0) {
            free(t);
            return flow_no_task(ws->flow, names[i], e);
        }
        t = xrealloc(t, (m + k) * sizeof *t);
        memcpy(t + m, found, k * sizeof *t);
        m += k;
        free(found);
    }
    *out = t;
    *n_out = m;
    return 0;
}
