/*
 * The resource store: JSON documents in SQLite, addresses, counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"

#define DOC_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

#define GENERATIONS 64
static unsigned long generations[GENERATIONS];

static unsigned type_bucket(const char *type)
{
    unsigned h = 5381;
    for (const unsigned char *p = (const unsigned char *)type; *p; p++)
        h = h * 33 + *p;
    return h % GENERATIONS;
}

static void bump(const char *type)
{
    __atomic_add_fetch(&generations[type_bucket(type)], 1, __ATOMIC_RELEASE);
}

unsigned long store_generation(const char *type)
{
    return __atomic_load_n(&generations[type_bucket(type)], __ATOMIC_ACQUIRE);
}

static void bind_scope(sqlite3_stmt *st, const struct scope *s)
{
    sqlite3_bind_text(st, 1, s->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->region, -1, SQLITE_STATIC);
}

static json_t *parse_doc(sqlite3_stmt *st, int col)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    int len = sqlite3_column_bytes(st, col);
    json_error_t e;
    json_t *doc = text ? json_loadb(text, (size_t)len, 0, &e) : NULL;
    if (!doc)
        fprintf(stderr, "ecslocal: store: unreadable document: %s\n",
                text ? e.text : "(null)");
    return doc;
}

int store_read(struct db *db, const struct scope *s, const char *type, const char *id,
               json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = db_stmt(db,
        "SELECT body FROM resources WHERE account=?1 AND region=?2 AND type=?3 AND id=?4");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = parse_doc(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return *out ? STORE_OK : STORE_ERROR;
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

json_t *store_get(struct db *db, const struct scope *s, const char *type,
                  const char *id)
{
    json_t *doc;
    store_read(db, s, type, id, &doc);
    return doc;
}

int store_find_name(struct db *db, const struct scope *s, const char *type,
                    const char *parent, const char *name, char *id,
                    size_t idlen)
{
    sqlite3_stmt *st = db_stmt(db,
        "SELECT id FROM resources WHERE account=?1 AND region=?2 AND type=?3 "
        "AND parent=?4 AND name=?5");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, parent ? parent : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int result = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        snprintf(id, idlen, "%s", (const char *)sqlite3_column_text(st, 0));
        result = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        result = STORE_ERROR;
    }
    sqlite3_reset(st);
    return result;
}

static long long next_seq(struct db *db)
{
    sqlite3_stmt *st = db_stmt(db,
        "UPDATE sequence SET value = value + 1 WHERE id = 0 RETURNING value");
    if (!st)
        return -1;
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

int store_insert(struct db *db, const struct scope *s, const char *type,
                 const char *id, const char *parent, const char *name,
                 json_t *doc)
{
    long long seq = next_seq(db);
    char *body = json_dumps(doc, DOC_FLAGS);
    sqlite3_stmt *st = db_stmt(db,
        "INSERT INTO resources(account, region, type, id, parent, name, seq, body) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st || !body || seq < 0) {
        free(body);
        return STORE_ERROR;
    }
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, parent ? parent : "", -1, SQLITE_STATIC);
    if (name)
        sqlite3_bind_text(st, 6, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, seq);
    sqlite3_bind_text(st, 8, body, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(body);
    if (rc == SQLITE_DONE) {
        bump(type);
        return STORE_OK;
    }
    return rc == SQLITE_CONSTRAINT ? STORE_EXISTS : STORE_ERROR;
}

int store_update(struct db *db, const struct scope *s, const char *type,
                 const char *id, json_t *doc)
{
    long long seq = next_seq(db);
    char *body = json_dumps(doc, DOC_FLAGS);
    sqlite3_stmt *st = db_stmt(db,
        "UPDATE resources SET body=?5, seq=?6 WHERE account=?1 AND region=?2 AND type=?3 "
        "AND id=?4");
    if (!st || !body || seq < 0) {
        free(body);
        return STORE_ERROR;
    }
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, seq);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(body);
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    bump(type);
    return sqlite3_changes(sqlite3_db_handle(st)) ? STORE_OK : STORE_NOT_FOUND;
}

int store_rename(struct db *db, const struct scope *s, const char *type,
                 const char *id, const char *name)
{
    sqlite3_stmt *st = db_stmt(db,
        "UPDATE resources SET name=?5 WHERE account=?1 AND region=?2 AND type=?3 AND id=?4");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    if (name)
        sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return STORE_EXISTS;
    if (rc == SQLITE_DONE)
        bump(type);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_delete(struct db *db, const struct scope *s, const char *type,
                 const char *id)
{
    sqlite3_stmt *st = db_stmt(db,
        "DELETE FROM resources WHERE account=?1 AND region=?2 AND type=?3 AND id=?4");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    bump(type);
    return sqlite3_changes(sqlite3_db_handle(st)) ? STORE_OK : STORE_NOT_FOUND;
}

/* store_each reads all matching rows first and visits them afterwards, so a
 * visitor may update or delete resources (which reuses the cached
 * statements) without disturbing the walk.  Rows are kept as text and
 * parsed only when visited: a visitor that stops early (a page of a List
 * call) does not pay for the documents it never looks at. */
struct row {
    char *id;
    char *body;
    size_t len;
};

static int collect_rows(sqlite3_stmt *st, struct row **rows, size_t *n)
{
    size_t cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct row *grown = realloc(*rows, cap * sizeof(**rows));
            if (!grown) {
                sqlite3_reset(st);
                return STORE_ERROR;
            }
            *rows = grown;
        }
        const char *text = (const char *)sqlite3_column_text(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        struct row *r = &(*rows)[*n];
        r->id = strdup((const char *)sqlite3_column_text(st, 0));
        r->body = text ? malloc((size_t)len + 1) : NULL;
        r->len = (size_t)len;
        if (!r->id || !r->body) {
            free(r->id);
            free(r->body);
            continue;
        }
        memcpy(r->body, text, (size_t)len + 1);
        (*n)++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

static void free_rows(struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].id);
        free(rows[i].body);
    }
    free(rows);
}

static int visit_row(struct row *r, store_visit_fn fn, void *arg)
{
    json_error_t e;
    json_t *doc = json_loadb(r->body, r->len, 0, &e);
    if (!doc) {
        fprintf(stderr, "ecslocal: store: unreadable document %s: %s\n", r->id, e.text);
        return 0;
    }
    int rc = fn(doc, r->id, arg);
    json_decref(doc);
    return rc;
}

/* Rows are read a batch at a time, each batch copied out before it is
 * visited (a visitor may run other statements), so a walk that stops
 * early -- a page of a listing -- reads only what it visits. */
#define EACH_BATCH 64

/* The conditions of a store_filter, evaluated by SQLite on the stored
 * text (no document is parsed for a row that fails them).  One statement
 * serves every filter: an unused condition is bound to NULL and passes. */
#define FILTER_SQL                                                                  \
    "AND (?8 IS NULL OR json_extract(body, ?8) = ?9) "                              \
    "AND (?10 IS NULL OR json_extract(body, ?10) = ?11) "                           \
    "AND (?12 IS NULL OR json_extract(body, ?12) = ?13) "                           \
    "AND (?14 IS NULL OR json_extract(body, ?14) = ?15) "                           \
    "AND (?16 IS NULL OR json_extract(body, ?16) = ?17) "                           \
    "AND (?18 IS NULL OR substr(json_extract(body, ?18), -length(?19) - 1) = '/' || ?19) "

static void bind_filter(sqlite3_stmt *st, const struct store_filter *f)
{
    for (int i = 0; f && i < STORE_MAX_EQ; i++) {
        if (!f->eq_path[i])
            continue;
        sqlite3_bind_text(st, 8 + 2 * i, f->eq_path[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9 + 2 * i, f->eq_value[i] ? f->eq_value[i] : "", -1,
                          SQLITE_STATIC);
    }
    if (f && f->tail_path) {
        sqlite3_bind_text(st, 18, f->tail_path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 19, f->tail_value ? f->tail_value : "", -1, SQLITE_STATIC);
    }
}

/* The statement for a walk: ?1-?4 scope, type, parent; ?5 what to select
 * besides the id (NULL: the document); ?6 after; ?7 batch; then the
 * filter.  Without INDEXED BY, SQLite prefers the primary key (it gives
 * the id order) and walks every resource of the type to find a parent's
 * few: a group's rules among thousands. */
static sqlite3_stmt *walk_stmt(struct db *db, const struct scope *s, const char *type,
                               const char *parent, const char *value_path,
                               const char *after, const struct store_filter *f)
{
    sqlite3_stmt *st = parent
        ? db_stmt(db,
              "SELECT id, CASE WHEN ?5 IS NULL THEN body ELSE json_extract(body, ?5) END "
              "FROM resources INDEXED BY resources_by_parent "
              "WHERE account=?1 AND region=?2 AND type=?3 AND parent=?4 AND id>?6 "
              FILTER_SQL "ORDER BY id LIMIT ?7")
        : db_stmt(db,
              "SELECT id, CASE WHEN ?5 IS NULL THEN body ELSE json_extract(body, ?5) END "
              "FROM resources WHERE account=?1 AND region=?2 AND type=?3 AND id>?6 "
              FILTER_SQL "ORDER BY id LIMIT ?7");
    if (!st)
        return NULL;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    if (parent)
        sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
    if (value_path)
        sqlite3_bind_text(st, 5, value_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, after, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 7, EACH_BATCH);
    bind_filter(st, f);
    return st;
}

int store_each_where(struct db *db, const struct scope *s, const char *type,
                     const char *parent, const char *after, const struct store_filter *f,
                     store_visit_fn fn, void *arg)
{
    char last[512];
    snprintf(last, sizeof(last), "%s", after ? after : "");
    for (;;) {
        sqlite3_stmt *st = walk_stmt(db, s, type, parent, NULL, last, f);
        if (!st)
            return STORE_ERROR;
        struct row *rows;
        size_t n;
        int rc = collect_rows(st, &rows, &n);
        for (size_t i = 0; rc == STORE_OK && i < n; i++)
            rc = visit_row(&rows[i], fn, arg);
        int more = rc == STORE_OK && n == EACH_BATCH;
        if (more)
            snprintf(last, sizeof(last), "%s", rows[n - 1].id);
        free_rows(rows, n);
        if (!more)
            return rc;
    }
}

int store_each(struct db *db, const struct scope *s, const char *type,
               const char *parent, const char *after, store_visit_fn fn,
               void *arg)
{
    return store_each_where(db, s, type, parent, after, NULL, fn, arg);
}

int store_list(struct db *db, const struct scope *s, const char *type,
               const char *parent, const char *after, const struct store_filter *f,
               const char *value_path, store_list_fn fn, void *arg)
{
    char last[512];
    snprintf(last, sizeof(last), "%s", after ? after : "");
    for (;;) {
        sqlite3_stmt *st = walk_stmt(db, s, type, parent, value_path, last, f);
        if (!st)
            return STORE_ERROR;
        int rc, n = 0, result = STORE_OK;
        while (result == STORE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            n++;
            snprintf(last, sizeof(last), "%s", sqlite3_column_text(st, 0));
            const char *value = (const char *)sqlite3_column_text(st, 1);
            result = fn(last, value ? value : "", arg);
        }
        int failed = result == STORE_OK && rc != SQLITE_DONE;
        sqlite3_reset(st);
        if (failed)
            return STORE_ERROR;
        if (result != STORE_OK || n < EACH_BATCH)
            return result;
    }
}

int store_refs_add(struct store_refs *r, const struct scope *s, const char *id)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct store_ref *l = realloc(r->list, cap * sizeof(*l));
        if (!l)
            return STORE_ERROR;
        r->list = l;
        r->cap = cap;
    }
    struct store_ref *ref = &r->list[r->n++];
    snprintf(ref->account, sizeof(ref->account), "%s", s->account);
    snprintf(ref->region, sizeof(ref->region), "%s", s->region);
    snprintf(ref->id, sizeof(ref->id), "%s", id);
    return STORE_OK;
}

int store_each_version(struct db *db, const char *type, store_visit_version_fn fn,
                       void *arg)
{
    sqlite3_stmt *st = db_stmt(db,
        "SELECT account, region, id, seq FROM resources WHERE type=?1 "
        "ORDER BY account, region, id");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    int rc;
    int result = STORE_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Copied out: the visitor reads documents with other statements. */
        char account[16], region[32], id[256];
        snprintf(account, sizeof(account), "%s", sqlite3_column_text(st, 0));
        snprintf(region, sizeof(region), "%s", sqlite3_column_text(st, 1));
        snprintf(id, sizeof(id), "%s", sqlite3_column_text(st, 2));
        struct scope s = { account, region };
        if ((result = fn(&s, id, sqlite3_column_int64(st, 3), arg)) != 0)
            break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return STORE_ERROR;
    return result;
}

struct parse_all {
    struct db *db;
    const char *type;
    store_visit_all_fn fn;
    void *arg;
};

static int parse_one(const struct scope *s, const char *id, long long version, void *arg)
{
    (void)version;
    struct parse_all *p = arg;
    json_t *doc = store_get(p->db, s, p->type, id);
    if (!doc) {
        fprintf(stderr, "ecslocal: store: unreadable %s %s\n", p->type, id);
        return STORE_OK;
    }
    int rc = p->fn(s, doc, id, p->arg);
    json_decref(doc);
    return rc;
}

int store_each_all(struct db *db, const char *type, store_visit_all_fn fn,
                   void *arg)
{
    struct parse_all p = { db, type, fn, arg };
    return store_each_version(db, type, parse_one, &p);
}

long long store_count(struct db *db, const struct scope *s, const char *type,
                      const char *parent)
{
    sqlite3_stmt *st;
    if (parent)
        st = db_stmt(db, "SELECT count(*) FROM resources WHERE account=?1 AND "
                         "region=?2 AND type=?3 AND parent=?4");
    else
        st = db_stmt(db, "SELECT count(*) FROM resources WHERE account=?1 AND "
                         "region=?2 AND type=?3");
    if (!st)
        return -1;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    if (parent)
        sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
    long long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

int store_take(struct db *db, const struct scope *s, const char *pool,
               int64_t value, const char *owner)
{
    sqlite3_stmt *st = db_stmt(db,
        "INSERT INTO addresses(account, region, pool, value, owner) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, pool, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, value);
    sqlite3_bind_text(st, 5, owner, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return STORE_OK;
    return rc == SQLITE_CONSTRAINT ? STORE_EXISTS : STORE_ERROR;
}

int store_take_lowest(struct db *db, const struct scope *s, const char *pool,
                      int64_t lo, int64_t hi, const char *owner,
                      int64_t *value)
{
    /* Walk the taken values in order from lo; the first gap is free.  The
     * index makes this proportional to the number of taken values below
     * the answer, at most the pool size (a /16 subnet is 65,531). */
    sqlite3_stmt *st = db_stmt(db,
        "SELECT value FROM addresses WHERE account=?1 AND region=?2 AND pool=?3 "
        "AND value>=?4 AND value<=?5 ORDER BY value");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, pool, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, lo);
    sqlite3_bind_int64(st, 5, hi);
    int64_t candidate = lo;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t taken = sqlite3_column_int64(st, 0);
        if (taken > candidate)
            break;
        candidate = taken + 1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return STORE_ERROR;
    if (candidate > hi)
        return STORE_FULL;
    int r = store_take(db, s, pool, candidate, owner);
    if (r == STORE_OK)
        *value = candidate;
    return r;
}

int store_release(struct db *db, const struct scope *s, const char *pool,
                  int64_t value)
{
    sqlite3_stmt *st = db_stmt(db,
        "DELETE FROM addresses WHERE account=?1 AND region=?2 AND pool=?3 AND value=?4");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, pool, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, value);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_release_owner(struct db *db, const struct scope *s,
                        const char *owner)
{
    sqlite3_stmt *st = db_stmt(db,
        "DELETE FROM addresses WHERE account=?1 AND region=?2 AND owner=?3");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

long long store_pool_used(struct db *db, const struct scope *s,
                          const char *pool)
{
    sqlite3_stmt *st = db_stmt(db,
        "SELECT count(*) FROM addresses WHERE account=?1 AND region=?2 AND pool=?3");
    if (!st)
        return -1;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, pool, -1, SQLITE_STATIC);
    long long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

int store_value_owners(struct db *db, int64_t value, store_owner_fn fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db,
        "SELECT account, region, pool, owner FROM addresses WHERE value=?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, value);
    int rc, result = STORE_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Copied out: the visitor reads documents with other statements. */
        char account[16], region[32], pool[128], owner[256];
        snprintf(account, sizeof(account), "%s", sqlite3_column_text(st, 0));
        snprintf(region, sizeof(region), "%s", sqlite3_column_text(st, 1));
        snprintf(pool, sizeof(pool), "%s", sqlite3_column_text(st, 2));
        snprintf(owner, sizeof(owner), "%s", sqlite3_column_text(st, 3));
        struct scope sc = { account, region };
        if ((result = fn(&sc, pool, owner, arg)) != 0)
            break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return STORE_ERROR;
    return result;
}

int store_pool_owner(struct db *db, const struct scope *s, const char *pool,
                     int64_t value, char *owner, size_t ownerlen)
{
    sqlite3_stmt *st = db_stmt(db,
        "SELECT owner FROM addresses WHERE account=?1 AND region=?2 AND pool=?3 AND value=?4");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, pool, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, value);
    int rc = sqlite3_step(st);
    int result = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        snprintf(owner, ownerlen, "%s", (const char *)sqlite3_column_text(st, 0));
        result = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        result = STORE_ERROR;
    }
    sqlite3_reset(st);
    return result;
}

long long store_next(struct db *db, const struct scope *s, const char *name)
{
    sqlite3_stmt *st = db_stmt(db,
        "INSERT INTO counters(account, region, name, value) VALUES (?1, ?2, ?3, 1) "
        "ON CONFLICT(account, region, name) DO UPDATE SET value = value + 1 "
        "RETURNING value");
    if (!st)
        return -1;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

int store_scope_known(struct db *db, const struct scope *s)
{
    sqlite3_stmt *st = db_stmt(db,
        "SELECT 1 FROM scopes WHERE account=?1 AND region=?2");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : STORE_ERROR;
}

int store_scope_mark(struct db *db, const struct scope *s, double now)
{
    sqlite3_stmt *st = db_stmt(db,
        "INSERT OR IGNORE INTO scopes(account, region, created) VALUES (?1, ?2, ?3)");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_double(st, 3, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_mark_dirty(struct db *db, const struct scope *s, const char *type,
                     const char *id)
{
    sqlite3_stmt *st = db_stmt(db,
        "INSERT OR IGNORE INTO dirty(account, region, type, id) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_take_dirty(struct db *db, const char *type, store_dirty_fn fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db,
        "DELETE FROM dirty WHERE type=?1 RETURNING account, region, id");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct scope s = { (const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1) };
        fn(&s, (const char *)sqlite3_column_text(st, 2), arg);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}
