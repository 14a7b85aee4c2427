/*
 * awsJson1_1: ECS, Cloud Map and CloudWatch Logs.
 *
 * Requests are JSON objects of the input shape; responses JSON objects of
 * the output shape with timestamps as epoch seconds; errors are
 * {"__type": code, "message": text} with the HTTP status of the error.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "proto.h"
#include "validate.h"

static json_t *decode_value(struct call *c, const struct shape *s, json_t *v,
                            const char *path, int depth);

static json_t *decode_struct(struct call *c, const struct shape *s, json_t *v,
                             const char *path, int depth)
{
    if (!json_is_object(v)) {
        validate_type_error(c, path, s, v);
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    json_t *item;
    json_object_foreach(v, key, item) {
        const struct member *m = shape_find_member(s, key);
        if (!m || json_is_null(item))
            continue;
        char sub[512];
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
        json_t *dv = decode_value(c, shape_get(m->shape), item, sub, depth + 1);
        if (!dv) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, key, dv);
    }
    return out;
}

static json_t *decode_value(struct call *c, const struct shape *s, json_t *v,
                            const char *path, int depth)
{
    if (depth > MAX_DEPTH) {
        validate_type_error(c, path, s, v);
        return NULL;
    }
    switch (s->type) {
    case T_STRUCT:
        return decode_struct(c, s, v, path, depth);
    case T_LIST: {
        if (!json_is_array(v))
            break;
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s.%zu", path, i + 1);
            json_t *dv = decode_value(c, shape_get(s->inner), item, sub, depth + 1);
            if (!dv) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, dv);
        }
        return out;
    }
    case T_MAP: {
        if (!json_is_object(v))
            break;
        json_t *out = json_object();
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item) {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s.%s", path, key);
            json_t *dv = decode_value(c, shape_get(s->value), item, sub, depth + 1);
            if (!dv) {
                json_decref(out);
                return NULL;
            }
            json_object_set_new(out, key, dv);
        }
        return out;
    }
    case T_STRING:
    case T_BLOB:
        if (json_is_string(v))
            return json_incref(v);
        break;
    case T_INTEGER:
    case T_LONG:
        if (json_is_integer(v))
            return json_incref(v);
        if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
            fabs(json_real_value(v)) < 9.0e15)
            return json_integer((json_int_t)json_real_value(v));
        break;
    case T_BOOLEAN:
        if (json_is_boolean(v))
            return json_incref(v);
        break;
    case T_DOUBLE:
        if (json_is_number(v))
            return json_real(json_number_value(v));
        break;
    case T_TIMESTAMP: {
        double t;
        if (json_is_number(v))
            return json_real(json_number_value(v));
        if (json_is_string(v) && time_parse(json_string_value(v), &t) == 0)
            return json_real(t);
        break;
    }
    case T_DOCUMENT:
        return json_incref(v);
    }
    validate_type_error(c, path, s, v);
    return NULL;
}

static int json_decode(struct call *c, const char *body, size_t len,
                       const struct form *form)
{
    (void)form;
    const struct shape *s = shape_get(c->op->input);
    json_t *doc;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' ||
                       body[i] == '\t'))
        i++;
    if (i == len) {
        doc = json_object();
    } else {
        json_error_t e;
        doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
        if (!doc)
            return call_error(c, "SerializationException",
                              "Could not parse the request body as JSON: %s",
                              e.text);
    }
    if (!s) {
        json_decref(doc);
        c->in = json_object();
        return 0;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return call_error(c, "SerializationException",
                          "Start of structure or map found where not expected.");
    }
    c->in = decode_struct(c, s, doc, "", 0);
    json_decref(doc);
    return c->in ? 0 : -1;
}

static json_t *encode_value(const struct shape *s, json_t *v, int depth);

static json_t *encode_struct(const struct shape *s, json_t *v, int depth)
{
    json_t *out = json_object();
    for (int i = 0; i < s->nmembers; i++) {
        const struct member *m = shape_member(s, i);
        json_t *mv = json_object_get(v, m->name);
        if (!mv || json_is_null(mv))
            continue;
        json_t *ev = encode_value(shape_get(m->shape), mv, depth + 1);
        if (ev)
            json_object_set_new(out, m->location_name ? m->location_name : m->name, ev);
    }
    return out;
}

/* Values of the wrong JSON type are dropped rather than sent: a client
 * parses by the model and would fail on them. */
static json_t *encode_value(const struct shape *s, json_t *v, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    switch (s->type) {
    case T_STRUCT:
        return json_is_object(v) ? encode_struct(s, v, depth) : NULL;
    case T_LIST: {
        if (!json_is_array(v))
            return NULL;
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            json_t *ev = encode_value(shape_get(s->inner), item, depth + 1);
            if (ev)
                json_array_append_new(out, ev);
        }
        return out;
    }
    case T_MAP: {
        if (!json_is_object(v))
            return NULL;
        json_t *out = json_object();
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item) {
            json_t *ev = encode_value(shape_get(s->value), item, depth + 1);
            if (ev)
                json_object_set_new(out, key, ev);
        }
        return out;
    }
    case T_STRING:
    case T_BLOB:
        return json_is_string(v) ? json_incref(v) : NULL;
    case T_INTEGER:
    case T_LONG:
        if (json_is_integer(v))
            return json_incref(v);
        if (json_is_real(v))
            return json_integer((json_int_t)json_real_value(v));
        return NULL;
    case T_BOOLEAN:
        return json_is_boolean(v) ? json_incref(v) : NULL;
    case T_DOUBLE:
        return json_is_number(v) ? json_incref(v) : NULL;
    case T_TIMESTAMP:
        if (!json_is_number(v))
            return NULL;
        if (s->ts_format == TS_ISO8601) {
            char text[40];
            time_iso8601(json_number_value(v), text, sizeof(text));
            return json_string(text);
        }
        /* Whole seconds as integers, fractions with millisecond precision,
         * as AWS sends them. */
        {
            double t = json_number_value(v);
            if (t == floor(t))
                return json_integer((json_int_t)t);
            return json_real(round(t * 1000.0) / 1000.0);
        }
    case T_DOCUMENT:
        return json_incref(v);
    }
    return NULL;
}

static char *json_encode(struct call *c, size_t *len)
{
    const struct shape *s = shape_get(c->op->output);
    json_t *out = s && c->out ? encode_struct(s, c->out, 0) : json_object();
    char *body = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(out);
    if (body)
        *len = strlen(body);
    return body;
}

static char *json_encode_error(struct call *c, size_t *len)
{
    json_t *e = json_pack("{s:s}", "__type", c->code);
    /* Some AWS errors (UnknownOperationException) carry no message. */
    if (e && c->message[0])
        json_object_set_new(e, "message", json_string(c->message));
    char *body = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (body)
        *len = strlen(body);
    return body;
}

const struct codec codec_json = {
    PROTO_JSON, json_decode, json_encode, json_encode_error,
    "application/x-amz-json-1.1",
};
