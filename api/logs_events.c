/*
 * CloudWatch Logs events: PutLogEvents, GetLogEvents, FilterLogEvents.
 *
 * PutLogEvents applies AWS's batch rules: at most 1,048,576 bytes (each
 * message plus 26), events of at most 1 MB, in chronological order, and
 * the accepted ones within 24 hours of each other.  Events more than two
 * hours in the future, more than 14 days old or older than the group's
 * retention are rejected while the rest are written, and reported in
 * rejectedLogEventsInfo.  Sequence tokens are returned but, as in AWS
 * since 2023, not checked.
 *
 * GetLogEvents pages through one stream with AWS's two tokens:
 * nextForwardToken ("f/<position>/s") continues after the last event
 * returned and nextBackwardToken ("b/<position>/s") before the first.  A
 * token that has nothing new to give comes back unchanged, which is how
 * clients know they reached the end; a forward loop sees new events as
 * they are written.  A token carries its direction, so startFromHead only
 * matters on the first call (false: the newest events).
 *
 * FilterLogEvents reads a whole group in timestamp order, filtered by
 * streams, time and pattern (api/logs_filter.c), with a nextToken only
 * while more events match.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs.h"

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)
#define MAX_FUTURE_MS (2 * HOUR_MS)
#define MAX_AGE_MS (14 * DAY_MS)
#define MAX_SPAN_MS DAY_MS
/* A page of events holds at most this many bytes (and 10,000 events). */
#define PAGE_BYTES 1048576
#define DEFAULT_EVENTS_LIMIT 10000

/* ---- PutLogEvents ---- */

/* Size and order checks on the whole batch, before anything is looked up. */
static int check_batch(struct call *c, json_t *events)
{
    size_t i, total = 0;
    json_t *e;
    long long prev = LLONG_MIN;
    json_array_foreach(events, i, e) {
        size_t size = strlen(json_string_value(json_object_get(e, "message"))) +
                      EVENTS_OVERHEAD;
        if (size > EVENTS_MAX_EVENT_SIZE)
            return call_error(c, "InvalidParameterException",
                              "Log event too large: %zu bytes exceeds limit of %d",
                              size, EVENTS_MAX_EVENT_SIZE);
        total += size;
    }
    if (total > EVENTS_MAX_BATCH_SIZE)
        return call_error(c, "InvalidParameterException",
                          "Upload too large: %zu bytes exceeds limit of %d",
                          total, EVENTS_MAX_BATCH_SIZE);
    json_array_foreach(events, i, e) {
        long long ts = json_integer_value(json_object_get(e, "timestamp"));
        if (ts < prev)
            return call_error(c, "InvalidParameterException",
                              "Log events in a single PutLogEvents request must be "
                              "in chronological order.");
        prev = ts;
    }
    return 0;
}

/* Which events are rejected: since the batch is in order, the too old and
 * expired ones are a prefix and the too new ones a suffix.  Indexes are -1
 * (or n for too_new) when there are none. */
struct rejected {
    long long too_old_end, expired_end, too_new_start;
};

static void classify(json_t *events, long long now_ms, long long retention_days,
                     struct rejected *r)
{
    size_t i, n = json_array_size(events);
    json_t *e;
    r->too_old_end = -1;
    r->expired_end = -1;
    r->too_new_start = (long long)n;
    json_array_foreach(events, i, e) {
        long long ts = json_integer_value(json_object_get(e, "timestamp"));
        if (ts < now_ms - MAX_AGE_MS)
            r->too_old_end = (long long)i;
        if (retention_days > 0 && ts < now_ms - retention_days * DAY_MS)
            r->expired_end = (long long)i;
        if (ts > now_ms + MAX_FUTURE_MS && r->too_new_start == (long long)n)
            r->too_new_start = (long long)i;
    }
}

static void report_rejected(struct call *c, const struct rejected *r, size_t n)
{
    if (r->too_old_end < 0 && r->expired_end < 0 && r->too_new_start == (long long)n)
        return;
    json_t *info = json_object();
    if (r->too_old_end >= 0)
        json_object_set_new(info, "tooOldLogEventEndIndex", json_integer(r->too_old_end));
    if (r->expired_end >= 0)
        json_object_set_new(info, "expiredLogEventEndIndex", json_integer(r->expired_end));
    if (r->too_new_start < (long long)n)
        json_object_set_new(info, "tooNewLogEventStartIndex",
                            json_integer(r->too_new_start));
    json_object_set_new(call_out(c), "rejectedLogEventsInfo", info);
}

int logs_put_log_events(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    const char *group = in_str(c, "logGroupName");
    const char *stream = in_str(c, "logStreamName");
    json_t *events = in_get(c, "logEvents");
    if (check_batch(c, events) < 0)
        return -1;
    json_t *gdoc = logs_find_group(c, group);
    json_t *sdoc = gdoc ? logs_find_stream(c, group, stream) : NULL;
    int found = sdoc != NULL;
    long long retention = json_integer_value(json_object_get(gdoc, "retentionInDays"));
    json_decref(gdoc);
    json_decref(sdoc);
    if (!found)
        return -1;
    long long now_ms = logs_now_ms(c);
    struct rejected r;
    classify(events, now_ms, retention, &r);
    size_t first = (size_t)((r.too_old_end > r.expired_end ? r.too_old_end
                                                           : r.expired_end) + 1);
    size_t end = (size_t)r.too_new_start;
    size_t n = end > first ? end - first : 0;
    struct event_in *ev = calloc(n ? n : 1, sizeof(*ev));
    if (!ev)
        return call_internal(c, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(events, first + i);
        const char *m = json_string_value(json_object_get(e, "message"));
        ev[i] = (struct event_in){ json_integer_value(json_object_get(e, "timestamp")),
                                   m, strlen(m) };
    }
    if (n > 0 && ev[n - 1].timestamp - ev[0].timestamp > MAX_SPAN_MS) {
        free(ev);
        return call_error(c, "InvalidParameterException",
                          "The batch of log events in a single PutLogEvents request "
                          "cannot span more than 24 hours.");
    }
    char token[64];
    int rc = events_put(c->db, &c->scope, group, stream, ev, n, now_ms, token,
                        sizeof(token));
    free(ev);
    if (rc != STORE_OK)
        return call_internal(c, "writing log events");
    json_object_set_new(call_out(c), "nextSequenceToken", json_string(token));
    report_rejected(c, &r, json_array_size(events));
    return 0;
}

/* ---- pages of events ---- */

struct page {
    json_t *events;
    size_t bytes;
    long long limit;
    long long first_ts, first_id, last_ts, last_id;
    const struct logs_pattern *pattern;    /* FilterLogEvents */
    int filtered;                          /* FilterLogEvents' shape */
    int more;
};

/* Whether one more event of len bytes still fits on the page. */
static int page_full(const struct page *p, size_t len)
{
    long long n = (long long)json_array_size(p->events);
    return n >= p->limit || (n > 0 && p->bytes + len + EVENTS_OVERHEAD > PAGE_BYTES);
}

static void page_add(struct page *p, const struct log_event *e)
{
    json_t *item = json_pack("{s:I, s:s%, s:I}", "timestamp", (json_int_t)e->timestamp,
                             "message", e->message, e->len,
                             "ingestionTime", (json_int_t)e->ingestion_time);
    if (p->filtered && item) {
        char id[LOGS_POSITION_DIGITS + 1];
        logs_position_format(e->timestamp, e->id, id);
        json_object_set_new(item, "logStreamName", json_string(e->stream));
        json_object_set_new(item, "eventId", json_string(id));
    }
    json_array_append_new(p->events, item);
    p->bytes += e->len + EVENTS_OVERHEAD;
    if (json_array_size(p->events) == 1) {
        p->first_ts = e->timestamp;
        p->first_id = e->id;
    }
    p->last_ts = e->timestamp;
    p->last_id = e->id;
}

static int visit_page(const struct log_event *e, void *arg)
{
    struct page *p = arg;
    if (p->pattern && !logs_pattern_match(p->pattern, e->message, e->len))
        return 0;
    if (page_full(p, e->len)) {
        p->more = 1;
        return 1;
    }
    page_add(p, e);
    return 0;
}

static void reverse(json_t *a)
{
    size_t n = json_array_size(a);
    for (size_t i = 0; i < n / 2; i++) {
        json_t *x = json_incref(json_array_get(a, i));
        json_array_set(a, i, json_array_get(a, n - 1 - i));
        json_array_set_new(a, n - 1 - i, x);
    }
}

/* ---- GetLogEvents ---- */

static void direction_token(char dir, long long ts, long long id, char *out,
                            size_t len)
{
    char digits[LOGS_POSITION_DIGITS + 1];
    logs_position_format(ts, id, digits);
    snprintf(out, len, "%c/%s/s", dir, digits);
}

/* 'f' or 'b' with the position, or 0 when the token is not one of ours. */
static char parse_direction_token(const char *token, long long *ts, long long *id)
{
    size_t n = strlen(token);
    if (n != LOGS_POSITION_DIGITS + 4 || (token[0] != 'f' && token[0] != 'b') ||
        token[1] != '/' || strcmp(token + n - 2, "/s") != 0 ||
        logs_position_parse(token + 2, LOGS_POSITION_DIGITS, ts, id) < 0)
        return 0;
    return token[0];
}

int logs_get_log_events(struct call *c)
{
    char group[600];
    if (logs_check_patterns(c) < 0 ||
        logs_group_from_input(c, "logGroupIdentifier", group, sizeof(group)) < 0)
        return -1;
    const char *stream = in_str(c, "logStreamName");
    const char *token = in_str(c, "nextToken");
    long long key_ts = 0, key_id = 0;
    char dir = in_bool(c, "startFromHead", 0) ? 'f' : 'b';
    if (token) {
        dir = parse_direction_token(token, &key_ts, &key_id);
        if (!dir)
            return logs_invalid_token(c);
    } else if (dir == 'b') {
        key_ts = LLONG_MAX;
        key_id = LLONG_MAX;
    }
    json_t *gdoc = logs_find_group(c, group);
    json_t *sdoc = gdoc ? logs_find_stream(c, group, stream) : NULL;
    int found = sdoc != NULL;
    json_decref(gdoc);
    json_decref(sdoc);
    if (!found)
        return -1;
    /* endTime is exclusive here (and inclusive in FilterLogEvents). */
    long long ts_min = in_int(c, "startTime", 0);
    long long ts_max = in_get(c, "endTime") ? in_int(c, "endTime", 0) - 1 : LLONG_MAX;
    struct page p = { json_array(), 0, in_int(c, "limit", DEFAULT_EVENTS_LIMIT),
                      0, 0, 0, 0, NULL, 0, 0 };
    if (events_read_stream(c->db, &c->scope, group, stream, ts_min, ts_max,
                           dir == 'b', key_ts, key_id, p.limit, visit_page,
                           &p) != STORE_OK) {
        json_decref(p.events);
        return call_internal(c, "reading log events");
    }
    char fwd[80], back[80];
    if (dir == 'b') {
        reverse(p.events);
        /* Read backwards, the page's first event came last. */
        long long t = p.first_ts, i = p.first_id;
        p.first_ts = p.last_ts, p.first_id = p.last_id;
        p.last_ts = t, p.last_id = i;
    }
    if (json_array_size(p.events) > 0) {
        direction_token('f', p.last_ts, p.last_id, fwd, sizeof(fwd));
        direction_token('b', p.first_ts, p.first_id, back, sizeof(back));
    } else if (token) {
        /* Nothing further that way: the same token again. */
        direction_token('f', key_ts, key_id, fwd, sizeof(fwd));
        direction_token('b', key_ts, key_id, back, sizeof(back));
    } else {
        /* An empty window: forward starts from the beginning (so events
         * written later are seen), backward has nothing before it. */
        direction_token('f', 0, 0, fwd, sizeof(fwd));
        direction_token('b', 0, 0, back, sizeof(back));
    }
    json_object_set_new(call_out(c), "events", p.events);
    json_object_set_new(call_out(c), "nextForwardToken", json_string(fwd));
    json_object_set_new(call_out(c), "nextBackwardToken", json_string(back));
    return 0;
}

/* ---- FilterLogEvents ---- */

int logs_filter_log_events(struct call *c)
{
    char group[600];
    if (logs_check_patterns(c) < 0 ||
        logs_group_from_input(c, "logGroupIdentifier", group, sizeof(group)) < 0)
        return -1;
    json_t *names = in_get(c, "logStreamNames");
    const char *prefix = in_str(c, "logStreamNamePrefix");
    if (names && prefix)
        return call_error(c, "InvalidParameterException",
                          "logStreamNames and logStreamNamePrefix are mutually "
                          "exclusive parameters.");
    struct events_filter f = {
        NULL, prefix, in_int(c, "startTime", 0), in_int(c, "endTime", LLONG_MAX), 0, 0,
    };
    const char *token = in_str(c, "nextToken");
    if (token) {
        char digits[LOGS_POSITION_DIGITS + 8];
        if (logs_token_decode(token, "filter", digits, sizeof(digits)) < 0 ||
            logs_position_parse(digits, strlen(digits), &f.after_ts, &f.after_id) < 0)
            return logs_invalid_token(c);
    }
    json_t *gdoc = logs_find_group(c, group);
    if (!gdoc)
        return -1;
    json_decref(gdoc);
    struct logs_pattern *pattern;
    if (logs_pattern_compile(c, in_str(c, "filterPattern"), &pattern) < 0)
        return -1;
    char *streams = names ? json_dumps(names, JSON_COMPACT) : NULL;
    struct page p = { json_array(), 0, in_int(c, "limit", DEFAULT_EVENTS_LIMIT),
                      0, 0, 0, 0, pattern, 1, 0 };
    f.streams = streams;
    int rc = events_scan_group(c->db, &c->scope, group, &f, visit_page, &p);
    free(streams);
    logs_pattern_free(pattern);
    if (rc != STORE_OK || (names && !streams)) {
        json_decref(p.events);
        return call_internal(c, "reading log events");
    }
    if (p.more) {
        char digits[LOGS_POSITION_DIGITS + 1], next[200];
        logs_position_format(p.last_ts, p.last_id, digits);
        logs_token_encode("filter", digits, next, sizeof(next));
        json_object_set_new(call_out(c), "nextToken", json_string(next));
    }
    json_object_set_new(call_out(c), "events", p.events);
    /* Unsupported by AWS since 2020: always an empty list. */
    json_object_set_new(call_out(c), "searchedLogStreams", json_array());
    return 0;
}
