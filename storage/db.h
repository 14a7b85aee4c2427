/*
 * The SQLite database: opening, migrations, the write lock, transactions
 * and a cache of prepared statements.
 *
 * One connection serves the whole process.  Every API call holds the
 * database lock for the length of its transaction, so calls are
 * serializable: two clients can never both take the last free address of a
 * subnet, and nobody sees a half-written change.  The transactions are
 * short (microseconds), so the lock costs less than a second connection's
 * SQLITE_BUSY retries would.
 */
#ifndef ECSL_DB_H
#define ECSL_DB_H

#include <sqlite3.h>

struct db;

/* Open (creating if missing) the database at path, or an in-memory one when
 * path is NULL, and migrate it to the current schema.  On failure returns
 * -1 and writes a message into err. */
int db_open(struct db **out, const char *path, char *err, size_t errlen);
void db_close(struct db *db);

void db_lock(struct db *db);
void db_unlock(struct db *db);

/* Transactions; the caller holds the lock. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* A cached prepared statement for sql (which must be a string literal or
 * otherwise live for the process), reset and with bindings cleared. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/* Run SQL without results (schema, pragmas, deletes). */
int db_exec(struct db *db, const char *sql);

const char *db_errmsg(struct db *db);
/* Rows changed by this connection since it opened (to tell whether a call
 * wrote anything). */
long long db_total_changes(struct db *db);
int db_schema_version(struct db *db);

/* Copy the WAL back into the database file without blocking requests
 * (file databases; called periodically, without the lock). */
void db_checkpoint(struct db *db);

/* Delete every row of every table (POST /_ecslocal/reset). */
int db_wipe(struct db *db);

#endif
