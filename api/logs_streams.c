/*
 * CloudWatch Logs log streams: CreateLogStream, DeleteLogStream,
 * DescribeLogStreams.
 *
 * A stream is stored as the LogStream document DescribeLogStreams
 * returns, under its group (storage/events.h has the key); PutLogEvents
 * and the task runtime keep its event times and sequence token current.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs.h"

int logs_create_log_stream(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    const char *group = in_str(c, "logGroupName");
    const char *stream = in_str(c, "logStreamName");
    json_t *gdoc = logs_find_group(c, group);
    if (!gdoc)
        return -1;
    json_decref(gdoc);
    char key[EVENTS_STREAM_KEY_MAX];
    events_stream_key(group, stream, key, sizeof(key));
    json_t *doc = events_stream_doc(&c->scope, group, stream, logs_now_ms(c));
    if (!doc)
        return call_internal(c, "building log stream");
    int rc = store_insert(c->db, &c->scope, EVENTS_STREAM_TYPE, key, group, stream, doc);
    json_decref(doc);
    if (rc == STORE_EXISTS)
        return call_error(c, "ResourceAlreadyExistsException",
                          "The specified log stream already exists");
    return rc == STORE_OK ? 0 : call_internal(c, "storing log stream");
}

int logs_delete_log_stream(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    const char *group = in_str(c, "logGroupName");
    const char *stream = in_str(c, "logStreamName");
    json_t *gdoc = logs_find_group(c, group);
    if (!gdoc)
        return -1;
    json_t *sdoc = NULL;
    int rc = -1;
    if (logs_check_deletable(c, gdoc) < 0 || !(sdoc = logs_find_stream(c, group, stream)))
        goto out;
    long long removed = 0;
    char key[EVENTS_STREAM_KEY_MAX];
    events_stream_key(group, stream, key, sizeof(key));
    if (events_delete_stream(c->db, &c->scope, group, stream, &removed) != STORE_OK ||
        store_delete(c->db, &c->scope, EVENTS_STREAM_TYPE, key) != STORE_OK) {
        rc = call_internal(c, "deleting log stream");
        goto out;
    }
    json_int_t stored = json_integer_value(json_object_get(gdoc, "storedBytes"));
    json_object_set_new(gdoc, "storedBytes",
                        json_integer(stored > removed ? stored - removed : 0));
    rc = store_update(c->db, &c->scope, EVENTS_GROUP_TYPE, group, gdoc) == STORE_OK
             ? 0 : call_internal(c, "updating log group");
out:
    json_decref(gdoc);
    json_decref(sdoc);
    return rc;
}

/* ---- DescribeLogStreams ---- */

struct stream_row {
    const char *name;
    long long last;             /* lastEventTimestamp, -1 without events */
    json_t *doc;
};

struct order {
    int by_time;
    int descending;
};

static int compare_keys(const struct order *o, long long alast, const char *aname,
                        long long blast, const char *bname)
{
    int r = 0;
    if (o->by_time)
        r = alast < blast ? -1 : alast > blast;
    if (r == 0)
        r = strcmp(aname, bname);
    return o->descending ? -r : r;
}

static int compare_rows(const void *a, const void *b, void *arg)
{
    const struct stream_row *x = a, *y = b;
    return compare_keys(arg, x->last, x->name, y->last, y->name);
}

struct stream_list {
    const char *prefix;
    struct stream_row *rows;
    size_t n, cap;
    int failed;
};

static int collect_stream(json_t *doc, const char *id, void *arg)
{
    struct stream_list *l = arg;
    const char *name = json_string_value(json_object_get(doc, "logStreamName"));
    (void)id;
    if (!name || (l->prefix && strncmp(name, l->prefix, strlen(l->prefix)) != 0))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct stream_row *grown = realloc(l->rows, cap * sizeof(*grown));
        if (!grown) {
            l->failed = 1;
            return 1;
        }
        l->rows = grown;
        l->cap = cap;
    }
    json_t *last = json_object_get(doc, "lastEventTimestamp");
    l->rows[l->n].doc = json_incref(doc);
    l->rows[l->n].name = name;
    l->rows[l->n].last = json_is_integer(last) ? json_integer_value(last) : -1;
    l->n++;
    return 0;
}

static void free_streams(struct stream_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->rows[i].doc);
    free(l->rows);
}

/* The token remembers the order it was made for and the last row's key,
 * so the next page starts right after that row even if streams came or
 * went meanwhile. */
static void stream_token(const struct order *o, const struct stream_row *r,
                         char *out, size_t len)
{
    char payload[700];
    snprintf(payload, sizeof(payload), "%d:%d:%lld:%s", o->by_time, o->descending,
             r->last, r->name);
    logs_token_encode("streams", payload, out, len);
}

static int parse_stream_token(const char *token, const struct order *o,
                              long long *last, char *name, size_t len)
{
    char payload[700];
    int by_time, descending, used = 0;
    if (logs_token_decode(token, "streams", payload, sizeof(payload)) < 0 ||
        sscanf(payload, "%d:%d:%lld:%n", &by_time, &descending, last, &used) != 3 ||
        used == 0 || by_time != o->by_time || descending != o->descending)
        return -1;
    snprintf(name, len, "%s", payload + used);
    return 0;
}

int logs_describe_log_streams(struct call *c)
{
    char group[600];
    if (logs_check_patterns(c) < 0 ||
        logs_group_from_input(c, "logGroupIdentifier", group, sizeof(group)) < 0)
        return -1;
    const char *order_by = in_str(c, "orderBy");
    struct order o = { order_by && strcmp(order_by, "LastEventTime") == 0,
                       in_bool(c, "descending", 0) };
    struct stream_list l = { in_str(c, "logStreamNamePrefix"), NULL, 0, 0, 0 };
    if (o.by_time && l.prefix)
        return call_error(c, "InvalidParameterException",
                          "Cannot order by LastEventTime with a logStreamNamePrefix.");
    json_t *gdoc = logs_find_group(c, group);
    if (!gdoc)
        return -1;
    json_decref(gdoc);
    long long after_last = 0;
    char after_name[600] = "";
    const char *token = in_str(c, "nextToken");
    if (token && parse_stream_token(token, &o, &after_last, after_name,
                                    sizeof(after_name)) < 0)
        return logs_invalid_token(c);
    if (store_each(c->db, &c->scope, EVENTS_STREAM_TYPE, group, NULL,
                   collect_stream, &l) < 0 || l.failed) {
        free_streams(&l);
        return call_internal(c, "listing log streams");
    }
    if (l.n > 1)
        qsort_r(l.rows, l.n, sizeof(*l.rows), compare_rows, &o);
    size_t start = 0;
    if (token)
        while (start < l.n && compare_keys(&o, l.rows[start].last, l.rows[start].name,
                                           after_last, after_name) <= 0)
            start++;
    size_t limit = (size_t)in_int(c, "limit", 50);
    json_t *out = json_array();
    size_t i;
    for (i = start; i < l.n && i - start < limit; i++)
        json_array_append(out, l.rows[i].doc);
    if (i < l.n) {
        char next[1600];
        stream_token(&o, &l.rows[i - 1], next, sizeof(next));
        json_object_set_new(call_out(c), "nextToken", json_string(next));
    }
    json_object_set_new(call_out(c), "logStreams", out);
    free_streams(&l);
    return 0;
}
