/* db: the store's SQLite database (history + cache index), opened in WAL mode.
 *
 * db_open() creates the file (0600) when missing and migrates the schema to the
 * current version (PRAGMA user_version); the schema is documented in README.md. A
 * database that cannot be written (read-only store) is opened as a read-only snapshot
 * and writes fail with "... is read-only". Errors name the cause: another program
 * holding the lock beyond the busy timeout (10 s), a read-only file, a full disk.
 * Statements are prepared once per connection and cached (db_prepare()); callers
 * reset them with db_done(). One process writes (the coordinator of a run); any
 * number may read concurrently. Nothing here prints.
 */
#ifndef SLUICE_DB_H
#define SLUICE_DB_H

#include <sqlite3.h>
#include <stdbool.h>

#include "util.h"

#define DB_SCHEMA_VERSION 9

struct db;

int db_open(const char *path, struct db **out, struct err *e);
void db_close(struct db *db);
/* Whether the database was opened read-only (its store cannot be written). */
bool db_read_only(const struct db *db);
/* Whether the file at the database's path is gone or another one (the store was
 * deleted, maybe made anew): this connection then reads what nobody sees any more. */
bool db_replaced(const struct db *db);
sqlite3 *db_handle(struct db *db);

/* Returns the cached prepared statement for sql (which must be a string literal or
 * otherwise outlive db), reset and with bindings cleared. Aborts on a bad statement:
 * the SQL is ours, so that is a programming error. */
sqlite3_stmt *db_prepare(struct db *db, const char *sql);
/* Resets a statement after use so it holds no read lock. */
void db_done(sqlite3_stmt *st);
/* Steps a statement that returns no rows; returns 0 or fills e. */
int db_exec_stmt(struct db *db, sqlite3_stmt *st, struct err *e);
int db_exec(struct db *db, const char *sql, struct err *e);

int db_begin(struct db *db, struct err *e);
/* A read transaction (one consistent snapshot, and one lock instead of one per query)
 * unless one is open already; *opened says whether to db_read_end() it. */
void db_read_begin(struct db *db, bool *opened);
void db_read_end(struct db *db, bool opened);
int db_commit(struct db *db, struct err *e);
void db_rollback(struct db *db);
bool db_in_transaction(struct db *db);
/* The database file's path. */
const char *db_file(const struct db *db);

/* Binds text or NULL. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text or "" (never NULL). */
const char *db_col_text(sqlite3_stmt *st, int i);

/* meta table: small key/value settings of this store. */
char *db_meta_get(struct db *db, const char *key);
int db_meta_set(struct db *db, const char *key, const char *value, struct err *e);

#endif
