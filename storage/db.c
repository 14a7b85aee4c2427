/*
 * The SQLite database: open, migrate, lock, transactions, statement cache.
 *
 * Durability: WAL mode with synchronous=NORMAL.  A transaction is in the
 * WAL file before COMMIT returns, so a crash of ecslocal (kill -9) loses
 * nothing that was acknowledged; only a crash of the whole machine could
 * lose the newest transactions (--sync full closes that gap at the price
 * of an fsync per call).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define STMT_CACHE 256

struct cached_stmt {
    const char *sql;
    sqlite3_stmt *stmt;
};

struct db {
    sqlite3 *conn;
    sqlite3 *checkpointer;      /* file databases: checkpoints off the hot path */
    pthread_mutex_t lock;
    struct cached_stmt stmts[STMT_CACHE];
    int nstmts;
};

/* Each entry moves the schema from version i to i+1.  Append only. */
static const char *const migrations[] = {
    /* 1: resources as JSON documents, addresses, scopes, counters */
    "CREATE TABLE resources ("
    "  account TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  parent TEXT NOT NULL DEFAULT '',"
    "  name TEXT,"
    "  seq INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  PRIMARY KEY (account, region, type, id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX resources_by_parent ON resources(account, region, type, parent, id);"
    "CREATE UNIQUE INDEX resources_by_name ON resources(account, region, type, parent, name)"
    "  WHERE name IS NOT NULL;"
    "CREATE TABLE addresses ("
    "  account TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  pool TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  PRIMARY KEY (account, region, pool, value)"
    ") WITHOUT ROWID;"
    "CREATE INDEX addresses_by_owner ON addresses(account, region, owner);"
    "CREATE TABLE scopes ("
    "  account TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  created REAL NOT NULL,"
    "  PRIMARY KEY (account, region)"
    ") WITHOUT ROWID;"
    "CREATE TABLE counters ("
    "  account TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  PRIMARY KEY (account, region, name)"
    ") WITHOUT ROWID;"
    "CREATE TABLE sequence (id INTEGER PRIMARY KEY CHECK (id = 0), value INTEGER NOT NULL);"
    "INSERT INTO sequence VALUES (0, 0);",
    /* 2: CloudWatch Logs events (the awslogs driver writes many) */
    "CREATE TABLE log_events ("
    "  id INTEGER PRIMARY KEY,"
    "  account TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  log_group TEXT NOT NULL,"
    "  log_stream TEXT NOT NULL,"
    "  timestamp INTEGER NOT NULL,"
    "  ingestion_time INTEGER NOT NULL,"
    "  message TEXT NOT NULL"
    ");"
    "CREATE INDEX log_events_by_stream ON log_events(account, region, log_group,"
    "  log_stream, timestamp, id);",
    /* 3: resources whose desired state changed, for the reconciler */
    "CREATE TABLE dirty ("
    "  account TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  PRIMARY KEY (account, region, type, id)"
    ") WITHOUT ROWID;",
    /* 4: FilterLogEvents reads a whole log group in time order */
    "CREATE INDEX log_events_by_group ON log_events(account, region, log_group, timestamp, id);",
    /* 5: the reconciler reads one type across every account and region
     * (store_each_all); without this it scanned the whole table */
    "CREATE INDEX resources_by_type ON resources(type, account, region, id);",
    /* 6: seq is each document's version (store_update moves it too), and
     * the type index covers it: store_each_version walks the index alone */
    "DROP INDEX resources_by_type;"
    "CREATE INDEX resources_by_type ON resources(type, account, region, id, seq);",
    /* 7: the DNS server finds the ENI that holds an address */
    "CREATE INDEX addresses_by_value ON addresses(value);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const wipe_tables[] = {
    "resources", "addresses", "scopes", "counters", "log_events", "dirty",
};

int db_exec(struct db *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "ecslocal: sqlite: %s (in: %.80s)\n",
                msg ? msg : "?", sql);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int db_schema_version(struct db *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int migrate(struct db *db, char *err, size_t errlen)
{
    int v = db_schema_version(db);
    if (v < 0) {
        snprintf(err, errlen, "cannot read schema version: %s", db_errmsg(db));
        return -1;
    }
    if (v > NMIGRATIONS) {
        snprintf(err, errlen, "database schema version %d is newer than this "
                 "ecslocal (%d); use a newer ecslocal or another --data-dir",
                 v, NMIGRATIONS);
        return -1;
    }
    for (; v < NMIGRATIONS; v++) {
        char pragma[64];
        if (db_exec(db, "BEGIN IMMEDIATE") < 0)
            goto fail;
        if (db_exec(db, migrations[v]) < 0) {
            db_exec(db, "ROLLBACK");
            goto fail;
        }
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (db_exec(db, pragma) < 0 || db_exec(db, "COMMIT") < 0) {
            db_exec(db, "ROLLBACK");
            goto fail;
        }
    }
    return 0;
fail:
    snprintf(err, errlen, "migration to schema version %d failed: %s", v + 1,
             db_errmsg(db));
    return -1;
}

int db_open(struct db **out, const char *path, char *err, size_t errlen)
{
    struct db *db = calloc(1, sizeof(*db));
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&db->lock, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path ? path : ":memory:", &db->conn, flags, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path ? path : ":memory:",
                 db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(db->conn, 5000);
    /* SQLite's default page cache is 2 MiB: a few thousand task documents
     * and their overflow pages no longer fit, and every listing goes back
     * to the file.  The cache only grows as pages are read. */
    db_exec(db, "PRAGMA cache_size=-16384");
    if (path) {
        if (db_exec(db, "PRAGMA journal_mode=WAL") < 0 ||
            db_exec(db, "PRAGMA synchronous=NORMAL") < 0) {
            snprintf(err, errlen, "cannot enable WAL on %s: %s", path,
                     db_errmsg(db));
            goto fail;
        }
        /* Checkpointing inside a committing request (SQLite's default)
         * would stall every other request behind the global lock; a
         * second connection does it from the reconciler instead. */
        if (sqlite3_open_v2(path, &db->checkpointer, flags, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(db->checkpointer, 1000);
            db_exec(db, "PRAGMA wal_autocheckpoint=0");
        } else if (db->checkpointer) {
            sqlite3_close(db->checkpointer);
            db->checkpointer = NULL;
        }
    }
    db_exec(db, "PRAGMA foreign_keys=ON");
    if (migrate(db, err, errlen) < 0)
        goto fail;
    *out = db;
    return 0;
fail:
    if (db->conn)
        sqlite3_close(db->conn);
    pthread_mutex_destroy(&db->lock);
    free(db);
    return -1;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->nstmts; i++)
        sqlite3_finalize(db->stmts[i].stmt);
    if (db->checkpointer) {
        sqlite3_wal_checkpoint_v2(db->checkpointer, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        sqlite3_close(db->checkpointer);
    }
    sqlite3_close(db->conn);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

void db_lock(struct db *db)
{
    pthread_mutex_lock(&db->lock);
}

void db_unlock(struct db *db)
{
    pthread_mutex_unlock(&db->lock);
}

int db_begin(struct db *db)
{
    sqlite3_stmt *st = db_stmt(db, "BEGIN IMMEDIATE");
    return st && sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

int db_commit(struct db *db)
{
    sqlite3_stmt *st = db_stmt(db, "COMMIT");
    if (st && sqlite3_step(st) == SQLITE_DONE)
        return 0;
    db_rollback(db);
    return -1;
}

void db_rollback(struct db *db)
{
    if (sqlite3_get_autocommit(db->conn))
        return;
    sqlite3_stmt *st = db_stmt(db, "ROLLBACK");
    if (st)
        sqlite3_step(st);
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
    for (int i = 0; i < db->nstmts; i++) {
        if (db->stmts[i].sql == sql) {
            sqlite3_reset(db->stmts[i].stmt);
            sqlite3_clear_bindings(db->stmts[i].stmt);
            return db->stmts[i].stmt;
        }
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "ecslocal: sqlite prepare: %s (in: %.80s)\n",
                sqlite3_errmsg(db->conn), sql);
        return NULL;
    }
    if (db->nstmts < STMT_CACHE) {
        db->stmts[db->nstmts].sql = sql;
        db->stmts[db->nstmts].stmt = st;
        db->nstmts++;
        return st;
    }
    /* The cache is sized for every statement in the program; running out
     * means a statement was built at run time, which is a bug. */
    fprintf(stderr, "ecslocal: statement cache full\n");
    sqlite3_finalize(st);
    return NULL;
}

const char *db_errmsg(struct db *db)
{
    return sqlite3_errmsg(db->conn);
}

void db_checkpoint(struct db *db)
{
    if (db->checkpointer)
        sqlite3_wal_checkpoint_v2(db->checkpointer, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

long long db_total_changes(struct db *db)
{
    return sqlite3_total_changes64(db->conn);
}

int db_wipe(struct db *db)
{
    char sql[128];
    if (db_begin(db) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(wipe_tables) / sizeof(wipe_tables[0]); i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", wipe_tables[i]);
        if (db_exec(db, sql) < 0) {
            db_rollback(db);
            return -1;
        }
    }
    return db_commit(db);
}
