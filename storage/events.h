/*
 * CloudWatch Logs events: the log_events table, and the bookkeeping on the
 * log group and log stream documents that every write of events needs.
 *
 * Log groups and streams are documents in the resource store (type
 * EVENTS_GROUP_TYPE, id = group name; type EVENTS_STREAM_TYPE, parent =
 * group name, id = stream name) in the shapes DescribeLogGroups and
 * DescribeLogStreams return.  Their events are rows of log_events, ordered
 * within a stream by (timestamp, id): id grows with every insert, so events
 * with equal timestamps keep the order they were written in.
 *
 * Two kinds of callers:
 *   - API handlers, inside the transaction the dispatcher opened (every
 *     function here except events_append);
 *   - the task runtime (the awslogs log driver of ECS tasks), which writes
 *     container output without an API call: events_append takes the
 *     database lock and runs its own transaction.
 */
#ifndef ECSL_EVENTS_H
#define ECSL_EVENTS_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

struct db;

#define EVENTS_GROUP_TYPE "logs-group"
#define EVENTS_STREAM_TYPE "logs-stream"

/* A stream document's store id is "<group>:<stream>" (its parent is the
 * group and its store name the stream's name): store ids are unique per
 * scope and type while stream names are unique only within their group,
 * and neither name may contain ':'. */
#define EVENTS_STREAM_KEY_MAX 1100
void events_stream_key(const char *group, const char *stream, char *key,
                       size_t len);

/* PutLogEvents' limits: a message plus this overhead is what an event
 * counts towards the batch and event size limits. */
#define EVENTS_OVERHEAD 26
#define EVENTS_MAX_EVENT_SIZE 1048576
#define EVENTS_MAX_BATCH_SIZE 1048576
#define EVENTS_MAX_MESSAGE (EVENTS_MAX_EVENT_SIZE - EVENTS_OVERHEAD)

/* A new LogGroup / LogStream document as Create* makes it (creation time
 * in epoch milliseconds).  NULL when out of memory. */
json_t *events_group_doc(const struct scope *s, const char *group,
                         long long creation_ms);
json_t *events_stream_doc(const struct scope *s, const char *group,
                          const char *stream, long long creation_ms);

/* An event to write: message is len bytes of UTF-8, not NUL-terminated. */
struct event_in {
    long long timestamp;        /* epoch ms */
    const char *message;
    size_t len;
};

/* Write n events (n may be 0) to an existing stream and bring the stream
 * (firstEventTimestamp, lastEventTimestamp, lastIngestionTime,
 * uploadSequenceToken) and its group (storedBytes) up to date.  The new
 * sequence token is copied into token (tokenlen >= 64).  STORE_NOT_FOUND
 * when the group or the stream does not exist.  Caller's transaction. */
int events_put(struct db *db, const struct scope *s, const char *group,
               const char *stream, const struct event_in *ev, size_t n,
               long long now_ms, char *token, size_t tokenlen);

/*
 * events_append: the task runtime's way in (the awslogs log driver).
 *
 * Appends n lines to group/stream in one transaction of its own: it takes
 * the database lock, begins, writes and commits (or rolls back), and
 * releases the lock, so it must NOT be called from inside an API handler
 * or with the lock held.  A missing stream is created, as the awslogs
 * driver does; a missing group is created when create_group is non-zero
 * (awslogs-create-group=true), otherwise nothing is written and the result
 * is STORE_NOT_FOUND (the driver's "The specified log group does not
 * exist.").  timestamps_ms[i] is line i's time in epoch milliseconds and
 * messages[i] its NUL-terminated text without the newline; empty lines are
 * skipped (CloudWatch refuses empty messages), invalid UTF-8 is replaced by
 * U+FFFD and a line longer than one event allows is split into several
 * events.  now is the ingestion time in epoch seconds.  Events are not
 * checked against PutLogEvents' age limits: the runtime writes what a
 * container printed just now.
 *
 * Returns STORE_OK, STORE_NOT_FOUND, or STORE_ERROR (with a message on
 * stderr).
 */
int events_append(struct db *db, const struct scope *s, const char *group,
                  const char *stream, int create_group,
                  const long long *timestamps_ms,
                  const char *const *messages, size_t n, double now);

/* An event as the readers hand it to a visitor; the pointers live until the
 * visitor returns.  The visitor must not use the database (the query is
 * still running); returning non-zero stops the walk. */
struct log_event {
    long long id;
    long long timestamp;
    long long ingestion_time;
    const char *stream;
    const char *message;
    size_t len;
};
typedef int (*events_visit_fn)(const struct log_event *e, void *arg);

/* One stream's events with ts_min <= timestamp <= ts_max, strictly after
 * the position (key_ts, key_id) in ascending order, or strictly before it
 * in descending order when backward is set; at most limit of them.
 * Returns STORE_OK, or STORE_ERROR. */
int events_read_stream(struct db *db, const struct scope *s,
                       const char *group, const char *stream,
                       long long ts_min, long long ts_max, int backward,
                       long long key_ts, long long key_id, long long limit,
                       events_visit_fn fn, void *arg);

/* A log group's events across its streams in (timestamp, id) order, with
 * ts_min <= timestamp <= ts_max and strictly after (after_ts, after_id);
 * only streams named in streams (a JSON array text, NULL: all) and whose
 * names start with prefix (NULL: all). */
struct events_filter {
    const char *streams;
    const char *prefix;
    long long ts_min, ts_max;
    long long after_ts, after_id;
};
int events_scan_group(struct db *db, const struct scope *s,
                      const char *group, const struct events_filter *f,
                      events_visit_fn fn, void *arg);

/* Delete the events of a stream or of a whole group; *bytes (may be NULL)
 * gets the message bytes removed. */
int events_delete_stream(struct db *db, const struct scope *s,
                         const char *group, const char *stream,
                         long long *bytes);
int events_delete_group(struct db *db, const struct scope *s,
                        const char *group);
/* Delete a group's events older than before_ms (retention). */
int events_expire(struct db *db, const struct scope *s, const char *group,
                  long long before_ms, long long *bytes);

#endif
