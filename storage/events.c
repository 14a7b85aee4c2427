/*
 * CloudWatch Logs events: the SQL on log_events, and the stream and group
 * bookkeeping each write of events does (see events.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "events.h"

void events_stream_key(const char *group, const char *stream, char *key,
                       size_t len)
{
    snprintf(key, len, "%s:%s", group, stream);
}

static void bind_scope(sqlite3_stmt *st, const struct scope *s)
{
    sqlite3_bind_text(st, 1, s->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->region, -1, SQLITE_STATIC);
}

json_t *events_group_doc(const struct scope *s, const char *group,
                         long long creation_ms)
{
    char arn[700];
    snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s", s->region,
             s->account, group);
    json_t *doc = json_pack("{s:s, s:I, s:i, s:I, s:s, s:b}",
                            "logGroupName", group,
                            "creationTime", (json_int_t)creation_ms,
                            "metricFilterCount", 0,
                            "storedBytes", (json_int_t)0,
                            "logGroupClass", "STANDARD",
                            "deletionProtectionEnabled", 0);
    if (!doc)
        return NULL;
    /* arn carries a trailing ":*" (IAM's form), logGroupArn does not (the
     * tagging APIs' form); AWS returns both. */
    json_object_set_new(doc, "logGroupArn", json_string(arn));
    strncat(arn, ":*", sizeof(arn) - strlen(arn) - 1);
    json_object_set_new(doc, "arn", json_string(arn));
    json_object_set_new(doc, "_tags", json_object());
    return doc;
}

json_t *events_stream_doc(const struct scope *s, const char *group,
                          const char *stream, long long creation_ms)
{
    char arn[1300];
    snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s",
             s->region, s->account, group, stream);
    /* storedBytes of streams has been reported as 0 since 2019. */
    return json_pack("{s:s, s:I, s:s, s:I}",
                     "logStreamName", stream,
                     "creationTime", (json_int_t)creation_ms,
                     "arn", arn,
                     "storedBytes", (json_int_t)0);
}

static int insert_event(struct db *db, const struct scope *s,
                        const char *group, const char *stream,
                        const struct event_in *e, long long now_ms)
{
    sqlite3_stmt *st = db_stmt(db,
        "INSERT INTO log_events(account, region, log_group, log_stream, "
        "timestamp, ingestion_time, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, e->timestamp);
    sqlite3_bind_int64(st, 6, now_ms);
    sqlite3_bind_text(st, 7, e->message, (int)e->len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "ecslocal: log events: insert into %s/%s: %s\n",
                group, stream, db_errmsg(db));
        return STORE_ERROR;
    }
    return STORE_OK;
}

static long long doc_int(json_t *doc, const char *name, long long dflt)
{
    json_t *v = json_object_get(doc, name);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* The stream's summary after a batch: first/last event time, last
 * ingestion, and a fresh sequence token. */
static void note_batch(json_t *sdoc, const struct event_in *ev, size_t n,
                       long long now_ms, const char *token)
{
    if (n > 0) {
        long long lo = ev[0].timestamp, hi = ev[0].timestamp;
        for (size_t i = 1; i < n; i++) {
            if (ev[i].timestamp < lo)
                lo = ev[i].timestamp;
            if (ev[i].timestamp > hi)
                hi = ev[i].timestamp;
        }
        long long first = doc_int(sdoc, "firstEventTimestamp", lo);
        long long last = doc_int(sdoc, "lastEventTimestamp", hi);
        json_object_set_new(sdoc, "firstEventTimestamp",
                            json_integer(first < lo ? first : lo));
        json_object_set_new(sdoc, "lastEventTimestamp",
                            json_integer(last > hi ? last : hi));
        json_object_set_new(sdoc, "lastIngestionTime", json_integer(now_ms));
    }
    json_object_set_new(sdoc, "uploadSequenceToken", json_string(token));
}

int events_put(struct db *db, const struct scope *s, const char *group,
               const char *stream, const struct event_in *ev, size_t n,
               long long now_ms, char *token, size_t tokenlen)
{
    char key[EVENTS_STREAM_KEY_MAX];
    events_stream_key(group, stream, key, sizeof(key));
    json_t *gdoc = store_get(db, s, EVENTS_GROUP_TYPE, group);
    json_t *sdoc = gdoc ? store_get(db, s, EVENTS_STREAM_TYPE, key) : NULL;
    int rc = STORE_NOT_FOUND;
    if (!gdoc || !sdoc)
        goto out;
    long long bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if ((rc = insert_event(db, s, group, stream, &ev[i], now_ms)) != STORE_OK)
            goto out;
        bytes += (long long)ev[i].len;
    }
    /* Sequence tokens look like AWS's: 56 decimal digits, growing. */
    long long seq = store_next(db, s, "logs-sequence-token");
    if (seq < 0) {
        rc = STORE_ERROR;
        goto out;
    }
    snprintf(token, tokenlen, "49%054lld", seq);
    note_batch(sdoc, ev, n, now_ms, token);
    if ((rc = store_update(db, s, EVENTS_STREAM_TYPE, key, sdoc)) != STORE_OK)
        goto out;
    if (bytes > 0) {
        json_object_set_new(gdoc, "storedBytes",
                            json_integer(doc_int(gdoc, "storedBytes", 0) + bytes));
        rc = store_update(db, s, EVENTS_GROUP_TYPE, group, gdoc);
    }
out:
    json_decref(gdoc);
    json_decref(sdoc);
    return rc;
}

/* ---- events_append: the task runtime's entry point ---- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2, cp = p[0] & 0x1f, min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3, cp = p[0] & 0x0f, min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4, cp = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* text with every invalid UTF-8 byte replaced by U+FFFD, in a new buffer
 * (*len set), or NULL when text is valid as it is (or on no memory, which
 * the caller reports). */
static char *utf8_sanitize(const char *text, size_t *len, int *failed)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t n = *len, i = 0;
    *failed = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            break;
        i += k;
    }
    if (i == n)
        return NULL;
    char *out = malloc(n * 3 + 1);
    if (!out) {
        *failed = 1;
        return NULL;
    }
    size_t o = 0;
    for (i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k) {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Where to cut a message of n bytes so the first part fits in one event
 * without splitting a UTF-8 sequence. */
static size_t chunk_len(const char *m, size_t n)
{
    if (n <= EVENTS_MAX_MESSAGE)
        return n;
    size_t cut = EVENTS_MAX_MESSAGE;
    while (cut > 0 && ((unsigned char)m[cut] & 0xc0) == 0x80)
        cut--;
    return cut;
}

struct batch {
    struct event_in *ev;
    size_t n, cap;
    char **owned;
    size_t nowned;
};

static int batch_add(struct batch *b, long long ts, const char *m, size_t len)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct event_in *grown = realloc(b->ev, cap * sizeof(*grown));
        if (!grown)
            return -1;
        b->ev = grown;
        b->cap = cap;
    }
    b->ev[b->n++] = (struct event_in){ ts, m, len };
    return 0;
}

static int batch_line(struct batch *b, long long ts, const char *text)
{
    size_t len = strlen(text);
    int failed;
    if (len == 0)
        return 0;
    char *clean = utf8_sanitize(text, &len, &failed);
    if (failed)
        return -1;
    if (clean) {
        char **grown = realloc(b->owned, (b->nowned + 1) * sizeof(*grown));
        if (!grown) {
            free(clean);
            return -1;
        }
        b->owned = grown;
        b->owned[b->nowned++] = clean;
        text = clean;
    }
    while (len > 0) {
        size_t k = chunk_len(text, len);
        if (batch_add(b, ts, text, k) < 0)
            return -1;
        text += k;
        len -= k;
    }
    return 0;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->nowned; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->ev);
}

/* The group and stream exist afterwards (or STORE_NOT_FOUND). */
static int ensure_stream(struct db *db, const struct scope *s,
                         const char *group, const char *stream,
                         int create_group, long long now_ms)
{
    json_t *doc = store_get(db, s, EVENTS_GROUP_TYPE, group);
    if (!doc) {
        if (!create_group)
            return STORE_NOT_FOUND;
        doc = events_group_doc(s, group, now_ms);
        int rc = doc ? store_insert(db, s, EVENTS_GROUP_TYPE, group, NULL, NULL, doc)
                     : STORE_ERROR;
        json_decref(doc);
        if (rc != STORE_OK)
            return STORE_ERROR;
    } else {
        json_decref(doc);
    }
    char key[EVENTS_STREAM_KEY_MAX];
    events_stream_key(group, stream, key, sizeof(key));
    doc = store_get(db, s, EVENTS_STREAM_TYPE, key);
    if (doc) {
        json_decref(doc);
        return STORE_OK;
    }
    doc = events_stream_doc(s, group, stream, now_ms);
    int rc = doc ? store_insert(db, s, EVENTS_STREAM_TYPE, key, group, stream, doc)
                 : STORE_ERROR;
    json_decref(doc);
    return rc == STORE_OK ? STORE_OK : STORE_ERROR;
}

int events_append(struct db *db, const struct scope *s, const char *group,
                  const char *stream, int create_group,
                  const long long *timestamps_ms,
                  const char *const *messages, size_t n, double now)
{
    long long now_ms = (long long)(now * 1000.0);
    struct batch b = { 0 };
    char token[64];
    for (size_t i = 0; i < n; i++) {
        if (batch_line(&b, timestamps_ms[i], messages[i]) < 0) {
            fprintf(stderr, "ecslocal: log events: out of memory appending to %s/%s\n",
                    group, stream);
            batch_free(&b);
            return STORE_ERROR;
        }
    }
    db_lock(db);
    int rc = STORE_ERROR;
    if (db_begin(db) < 0) {
        fprintf(stderr, "ecslocal: log events: cannot begin: %s\n", db_errmsg(db));
        goto out;
    }
    rc = ensure_stream(db, s, group, stream, create_group, now_ms);
    if (rc == STORE_OK)
        rc = events_put(db, s, group, stream, b.ev, b.n, now_ms, token, sizeof(token));
    if (rc == STORE_OK) {
        if (db_commit(db) < 0) {
            fprintf(stderr, "ecslocal: log events: commit to %s/%s failed: %s\n",
                    group, stream, db_errmsg(db));
            rc = STORE_ERROR;
        }
    } else {
        if (rc == STORE_ERROR)
            fprintf(stderr, "ecslocal: log events: cannot append to %s/%s: %s\n",
                    group, stream, db_errmsg(db));
        db_rollback(db);
    }
out:
    db_unlock(db);
    batch_free(&b);
    return rc;
}

/* ---- readers ---- */

static int visit_rows(struct db *db, sqlite3_stmt *st, const char *stream,
                      int stream_col, events_visit_fn fn, void *arg)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct log_event e;
        e.id = sqlite3_column_int64(st, 0);
        e.timestamp = sqlite3_column_int64(st, 1);
        e.ingestion_time = sqlite3_column_int64(st, 2);
        e.message = (const char *)sqlite3_column_text(st, 3);
        e.len = (size_t)sqlite3_column_bytes(st, 3);
        e.stream = stream_col >= 0 ? (const char *)sqlite3_column_text(st, stream_col)
                                   : stream;
        if (!e.message)
            e.message = "";
        if (fn(&e, arg)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "ecslocal: log events: read: %s\n", db_errmsg(db));
        return STORE_ERROR;
    }
    return STORE_OK;
}

int events_read_stream(struct db *db, const struct scope *s,
                       const char *group, const char *stream,
                       long long ts_min, long long ts_max, int backward,
                       long long key_ts, long long key_id, long long limit,
                       events_visit_fn fn, void *arg)
{
    sqlite3_stmt *st;
    if (backward)
        st = db_stmt(db,
            "SELECT id, timestamp, ingestion_time, message FROM log_events "
            "WHERE account=?1 AND region=?2 AND log_group=?3 AND log_stream=?4 "
            "AND timestamp>=?5 AND timestamp<=?6 AND (timestamp, id)<(?7, ?8) "
            "ORDER BY timestamp DESC, id DESC LIMIT ?9");
    else
        st = db_stmt(db,
            "SELECT id, timestamp, ingestion_time, message FROM log_events "
            "WHERE account=?1 AND region=?2 AND log_group=?3 AND log_stream=?4 "
            "AND timestamp>=?5 AND timestamp<=?6 AND (timestamp, id)>(?7, ?8) "
            "ORDER BY timestamp, id LIMIT ?9");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ts_min);
    sqlite3_bind_int64(st, 6, ts_max);
    sqlite3_bind_int64(st, 7, key_ts);
    sqlite3_bind_int64(st, 8, key_id);
    sqlite3_bind_int64(st, 9, limit);
    return visit_rows(db, st, stream, -1, fn, arg);
}

int events_scan_group(struct db *db, const struct scope *s,
                      const char *group, const struct events_filter *f,
                      events_visit_fn fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db,
        "SELECT id, timestamp, ingestion_time, message, log_stream FROM log_events "
        "WHERE account=?1 AND region=?2 AND log_group=?3 "
        "AND timestamp>=?4 AND timestamp<=?5 AND (timestamp, id)>(?6, ?7) "
        "AND (?8 IS NULL OR log_stream IN (SELECT value FROM json_each(?8))) "
        "AND (?9 IS NULL OR substr(log_stream, 1, length(?9))=?9) "
        "ORDER BY timestamp, id");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, f->ts_min);
    sqlite3_bind_int64(st, 5, f->ts_max);
    sqlite3_bind_int64(st, 6, f->after_ts);
    sqlite3_bind_int64(st, 7, f->after_id);
    if (f->streams)
        sqlite3_bind_text(st, 8, f->streams, -1, SQLITE_STATIC);
    if (f->prefix)
        sqlite3_bind_text(st, 9, f->prefix, -1, SQLITE_STATIC);
    return visit_rows(db, st, NULL, 4, fn, arg);
}

/* ---- deletes ---- */

static int step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "ecslocal: log events: %s: %s\n", what, db_errmsg(db));
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* The message bytes a statement (bound like the delete that follows it)
 * sums up. */
static int sum_bytes(struct db *db, sqlite3_stmt *st, long long *bytes)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && bytes)
        *bytes = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        fprintf(stderr, "ecslocal: log events: size: %s\n", db_errmsg(db));
        return STORE_ERROR;
    }
    return STORE_OK;
}

int events_delete_stream(struct db *db, const struct scope *s,
                         const char *group, const char *stream,
                         long long *bytes)
{
    sqlite3_stmt *sum = db_stmt(db,
        "SELECT CAST(total(length(CAST(message AS BLOB))) AS INTEGER) FROM log_events "
        "WHERE account=?1 AND region=?2 AND log_group=?3 AND log_stream=?4");
    sqlite3_stmt *del = db_stmt(db,
        "DELETE FROM log_events WHERE account=?1 AND region=?2 AND log_group=?3 "
        "AND log_stream=?4");
    if (!sum || !del)
        return STORE_ERROR;
    bind_scope(sum, s);
    sqlite3_bind_text(sum, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(sum, 4, stream, -1, SQLITE_STATIC);
    if (sum_bytes(db, sum, bytes) != STORE_OK)
        return STORE_ERROR;
    bind_scope(del, s);
    sqlite3_bind_text(del, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(del, 4, stream, -1, SQLITE_STATIC);
    return step_done(db, del, "delete stream events");
}

int events_delete_group(struct db *db, const struct scope *s,
                        const char *group)
{
    sqlite3_stmt *st = db_stmt(db,
        "DELETE FROM log_events WHERE account=?1 AND region=?2 AND log_group=?3");
    if (!st)
        return STORE_ERROR;
    bind_scope(st, s);
    sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
    return step_done(db, st, "delete group events");
}

int events_expire(struct db *db, const struct scope *s, const char *group,
                  long long before_ms, long long *bytes)
{
    sqlite3_stmt *sum = db_stmt(db,
        "SELECT CAST(total(length(CAST(message AS BLOB))) AS INTEGER) FROM log_events "
        "WHERE account=?1 AND region=?2 AND log_group=?3 AND timestamp<?4");
    sqlite3_stmt *del = db_stmt(db,
        "DELETE FROM log_events WHERE account=?1 AND region=?2 AND log_group=?3 "
        "AND timestamp<?4");
    if (!sum || !del)
        return STORE_ERROR;
    bind_scope(sum, s);
    sqlite3_bind_text(sum, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sum, 4, before_ms);
    if (sum_bytes(db, sum, bytes) != STORE_OK)
        return STORE_ERROR;
    bind_scope(del, s);
    sqlite3_bind_text(del, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(del, 4, before_ms);
    return step_done(db, del, "expire events");
}
