/*
 * awsQuery (ELBv2, STS) and ec2Query (EC2): form-encoded requests, XML
 * responses.  The two differ only in a few rules, kept side by side here:
 *
 *                   query                         ec2
 *   member key      locationName, else name       queryName, else
 *                                                 Capitalized(locationName),
 *                                                 else name
 *   list items      Name.member.N (Name.N when    Name.N always
 *                   flattened); "Name=" is []
 *   response        <OpResponse><OpResult>..       <OpResponse><requestId>..
 *                   </OpResult><ResponseMetadata>  members..</OpResponse>
 *   list elements   <member>                       <item>
 *   error           <ErrorResponse><Error><Type>   <Response><Errors><Error>
 *                   ..<RequestId>                  ..<RequestID>
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "call.h"
#include "proto.h"
#include "validate.h"
#include "xmlw.h"

static void member_key(enum protocol p, const struct member *m, char *out,
                       size_t len)
{
    if (p == PROTO_EC2) {
        if (m->query_name) {
            snprintf(out, len, "%s", m->query_name);
        } else if (m->location_name) {
            snprintf(out, len, "%s", m->location_name);
            out[0] = (char)toupper((unsigned char)out[0]);
        } else {
            snprintf(out, len, "%s", m->name);
        }
    } else {
        snprintf(out, len, "%s", m->location_name ? m->location_name : m->name);
    }
}

static json_t *form_value(struct call *c, const struct shape *s,
                          const struct form *f, const char *key, int depth);

static json_t *form_struct(struct call *c, const struct shape *s,
                           const struct form *f, const char *prefix, int depth)
{
    json_t *out = json_object();
    for (int i = 0; i < s->nmembers; i++) {
        const struct member *m = shape_member(s, i);
        char name[256], key[FORM_MAX_KEY + 1];
        member_key(c->svc->protocol, m, name, sizeof(name));
        int n = snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
                         name);
        if (n < 0 || (size_t)n >= sizeof(key) || !form_has_prefix(f, key))
            continue;
        json_t *v = form_value(c, shape_get(m->shape), f, key, depth + 1);
        if (c->status) {
            json_decref(v);
            json_decref(out);
            return NULL;
        }
        if (v)
            json_object_set_new(out, m->name, v);
    }
    return out;
}

static json_t *form_list(struct call *c, const struct shape *s,
                         const struct form *f, const char *prefix, int depth)
{
    char base[FORM_MAX_KEY + 1];
    const char *empty = form_get(f, prefix);
    if (c->svc->protocol == PROTO_EC2 || (s->flags & SF_FLATTENED))
        snprintf(base, sizeof(base), "%s", prefix);
    else
        snprintf(base, sizeof(base), "%s.%s", prefix,
                 s->inner_loc ? s->inner_loc : "member");
    json_t *out = json_array();
    for (int i = 1; i <= FORM_MAX_PARAMS; i++) {
        char key[FORM_MAX_KEY + 1];
        int n = snprintf(key, sizeof(key), "%s.%d", base, i);
        if (n < 0 || (size_t)n >= sizeof(key) || !form_has_prefix(f, key))
            break;
        json_t *v = form_value(c, shape_get(s->inner), f, key, depth + 1);
        if (c->status) {
            json_decref(v);
            json_decref(out);
            return NULL;
        }
        if (v)
            json_array_append_new(out, v);
    }
    if (json_array_size(out) == 0 && !(empty && *empty == '\0')) {
        /* Neither items nor the explicit empty form "Name=". */
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *form_map(struct call *c, const struct shape *s,
                        const struct form *f, const char *prefix, int depth)
{
    json_t *out = json_object();
    const char *kname = s->key_loc ? s->key_loc : "key";
    const char *vname = s->value_loc ? s->value_loc : "value";
    for (int i = 1; i <= FORM_MAX_PARAMS; i++) {
        char kkey[FORM_MAX_KEY + 1], vkey[FORM_MAX_KEY + 1];
        const char *entry = (s->flags & SF_FLATTENED) ? "" : ".entry";
        snprintf(kkey, sizeof(kkey), "%s%s.%d.%s", prefix, entry, i, kname);
        snprintf(vkey, sizeof(vkey), "%s%s.%d.%s", prefix, entry, i, vname);
        const char *k = form_get(f, kkey);
        if (!k)
            break;
        json_t *v = form_value(c, shape_get(s->value), f, vkey, depth + 1);
        if (c->status) {
            json_decref(v);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, k, v ? v : json_string(""));
    }
    return out;
}

static int parse_int(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static json_t *form_value(struct call *c, const struct shape *s,
                          const struct form *f, const char *key, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    switch (s->type) {
    case T_STRUCT:
        return form_struct(c, s, f, key, depth);
    case T_LIST:
        return form_list(c, s, f, key, depth);
    case T_MAP:
        return form_map(c, s, f, key, depth);
    default:
        break;
    }
    const char *text = form_get(f, key);
    if (!text)
        return NULL;
    switch (s->type) {
    case T_STRING:
    case T_BLOB:
    case T_DOCUMENT: {
        json_t *v = json_string(text);
        if (!v) {
            /* jansson refuses text that is not UTF-8: say so rather than
             * drop the member (an id filter would then match all). */
            if (c->svc->protocol == PROTO_EC2)
                call_error(c, "InvalidParameterValue",
                           "Value for parameter %s is invalid. It is not valid UTF-8.", key);
            else
                call_error(c, "ValidationError", "1 validation error detected: Value at "
                           "'%s' failed to satisfy constraint: Member must be valid UTF-8",
                           key);
        }
        return v;
    }
    case T_INTEGER:
    case T_LONG: {
        long long v;
        if (parse_int(text, &v) == 0 &&
            (s->type == T_LONG || (v >= -2147483648LL && v <= 2147483647LL)))
            return json_integer(v);
        break;
    }
    case T_BOOLEAN:
        if (strcasecmp(text, "true") == 0)
            return json_true();
        if (strcasecmp(text, "false") == 0)
            return json_false();
        break;
    case T_DOUBLE: {
        char *end;
        double v = strtod(text, &end);
        if (end != text && *end == '\0' && isfinite(v))
            return json_real(v);
        break;
    }
    case T_TIMESTAMP: {
        double t;
        if (time_parse(text, &t) == 0)
            return json_real(t);
        break;
    }
    default:
        break;
    }
    json_t *raw = json_string(text);
    validate_type_error(c, key, s, raw);
    json_decref(raw);
    return NULL;
}

static int form_decode(struct call *c, const char *body, size_t len,
                       const struct form *form)
{
    (void)body;
    (void)len;
    const struct shape *s = shape_get(c->op->input);
    if (!s) {
        c->in = json_object();
        return 0;
    }
    c->in = form_struct(c, s, form, "", 0);
    return c->in ? 0 : -1;
}

/* ---- XML out ---- */

static void xml_value(struct buf *b, enum protocol p, const struct shape *s,
                      json_t *v, const char *elem, int depth);

static void xml_members(struct buf *b, enum protocol p, const struct shape *s,
                        json_t *v, int depth)
{
    for (int i = 0; i < s->nmembers; i++) {
        const struct member *m = shape_member(s, i);
        json_t *mv = json_object_get(v, m->name);
        if (!mv || json_is_null(mv) || (m->flags & MF_XMLATTR))
            continue;
        xml_value(b, p, shape_get(m->shape), mv,
                  m->location_name ? m->location_name : m->name, depth + 1);
    }
}

static void xml_scalar(struct buf *b, const struct shape *s, json_t *v,
                       const char *elem)
{
    char text[64];
    switch (s->type) {
    case T_STRING:
    case T_BLOB:
        if (json_is_string(v))
            xml_element(b, elem, json_string_value(v));
        return;
    case T_INTEGER:
    case T_LONG:
        if (!json_is_number(v))
            return;
        snprintf(text, sizeof(text), "%lld", (long long)json_number_value(v));
        break;
    case T_BOOLEAN:
        if (!json_is_boolean(v))
            return;
        snprintf(text, sizeof(text), "%s", json_is_true(v) ? "true" : "false");
        break;
    case T_DOUBLE:
        if (!json_is_number(v))
            return;
        snprintf(text, sizeof(text), "%.17g", json_number_value(v));
        break;
    case T_TIMESTAMP:
        if (!json_is_number(v))
            return;
        if (s->ts_format == TS_EPOCH)
            snprintf(text, sizeof(text), "%.3f", json_number_value(v));
        else
            time_iso8601(json_number_value(v), text, sizeof(text));
        break;
    default:
        return;
    }
    xml_element(b, elem, text);
}

static void xml_value(struct buf *b, enum protocol p, const struct shape *s,
                      json_t *v, const char *elem, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    switch (s->type) {
    case T_STRUCT:
        if (!json_is_object(v))
            return;
        xml_open(b, elem);
        xml_members(b, p, s, v, depth);
        xml_close(b, elem);
        return;
    case T_LIST: {
        if (!json_is_array(v))
            return;
        const char *item = s->inner_loc ? s->inner_loc :
                           (p == PROTO_EC2 ? "item" : "member");
        size_t i;
        json_t *x;
        if (s->flags & SF_FLATTENED) {
            json_array_foreach(v, i, x)
                xml_value(b, p, shape_get(s->inner), x, elem, depth + 1);
            return;
        }
        xml_open(b, elem);
        json_array_foreach(v, i, x)
            xml_value(b, p, shape_get(s->inner), x, item, depth + 1);
        xml_close(b, elem);
        return;
    }
    case T_MAP: {
        if (!json_is_object(v))
            return;
        const char *key;
        json_t *x;
        xml_open(b, elem);
        json_object_foreach(v, key, x) {
            xml_open(b, "entry");
            xml_element(b, s->key_loc ? s->key_loc : "key", key);
            xml_value(b, p, shape_get(s->value), x,
                      s->value_loc ? s->value_loc : "value", depth + 1);
            xml_close(b, "entry");
        }
        xml_close(b, elem);
        return;
    }
    default:
        xml_scalar(b, s, v, elem);
    }
}

static void xml_start(struct buf *b, const char *name, const char *ns)
{
    buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    buf_adds(b, name);
    if (ns) {
        buf_adds(b, " xmlns=\"");
        xml_text(b, ns);
        buf_addc(b, '"');
    }
    buf_addc(b, '>');
}

static char *query_encode(struct call *c, size_t *len)
{
    struct buf b;
    char resp[160], result[160];
    const struct shape *s = shape_get(c->op->output);
    buf_init(&b, RESPONSE_LIMIT);
    snprintf(resp, sizeof(resp), "%sResponse", c->op->name);
    xml_start(&b, resp, c->svc->xml_ns);
    if (s) {
        snprintf(result, sizeof(result), "%s",
                 c->op->result_wrapper ? c->op->result_wrapper : "Result");
        xml_open(&b, result);
        if (c->out)
            xml_members(&b, PROTO_QUERY, s, c->out, 0);
        xml_close(&b, result);
    }
    xml_open(&b, "ResponseMetadata");
    xml_element(&b, "RequestId", c->request_id);
    xml_close(&b, "ResponseMetadata");
    xml_close(&b, resp);
    return buf_take(&b, len);
}

static char *ec2_encode(struct call *c, size_t *len)
{
    struct buf b;
    char resp[160];
    const struct shape *s = shape_get(c->op->output);
    buf_init(&b, RESPONSE_LIMIT);
    snprintf(resp, sizeof(resp), "%sResponse", c->op->name);
    xml_start(&b, resp, c->svc->xml_ns);
    xml_element(&b, "requestId", c->request_id);
    if (s && c->out)
        xml_members(&b, PROTO_EC2, s, c->out, 0);
    else if (!s)
        xml_element(&b, "return", "true");   /* what EC2 answers for void calls */
    xml_close(&b, resp);
    return buf_take(&b, len);
}

static const char *wire_code(struct call *c, int *sender)
{
    const struct error_def *e = model_error(c->svc->id, c->code);
    *sender = e ? e->sender : c->status < 500;
    return e ? e->code : c->code;
}

static char *query_encode_error(struct call *c, size_t *len)
{
    struct buf b;
    int sender;
    const char *code = wire_code(c, &sender);
    buf_init(&b, 64 * 1024);
    xml_start(&b, "ErrorResponse", c->svc->xml_ns);
    xml_open(&b, "Error");
    xml_element(&b, "Type", sender ? "Sender" : "Receiver");
    xml_element(&b, "Code", code);
    xml_element(&b, "Message", c->message);
    xml_close(&b, "Error");
    xml_element(&b, "RequestId", c->request_id);
    xml_close(&b, "ErrorResponse");
    return buf_take(&b, len);
}

static char *ec2_encode_error(struct call *c, size_t *len)
{
    struct buf b;
    buf_init(&b, 64 * 1024);
    xml_start(&b, "Response", NULL);
    xml_open(&b, "Errors");
    xml_open(&b, "Error");
    xml_element(&b, "Code", c->code);
    xml_element(&b, "Message", c->message);
    xml_close(&b, "Error");
    xml_close(&b, "Errors");
    xml_element(&b, "RequestID", c->request_id);
    xml_close(&b, "Response");
    return buf_take(&b, len);
}

const struct codec codec_query = {
    PROTO_QUERY, form_decode, query_encode, query_encode_error, "text/xml",
};

const struct codec codec_ec2 = {
    PROTO_EC2, form_decode, ec2_encode, ec2_encode_error, "text/xml;charset=UTF-8",
};

const struct codec *codec_for(enum protocol p)
{
    switch (p) {
    case PROTO_JSON: return &codec_json;
    case PROTO_QUERY: return &codec_query;
    case PROTO_EC2: return &codec_ec2;
    }
    return NULL;
}

/* ---- timestamps ---- */

void time_iso8601(double t, char *out, size_t len)
{
    time_t secs = (time_t)floor(t);
    int ms = (int)lround((t - (double)secs) * 1000.0);
    if (ms >= 1000) {
        secs++;
        ms -= 1000;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

int time_parse(const char *text, double *out)
{
    char *end;
    double epoch = strtod(text, &end);
    if (end != text && *end == '\0' && isfinite(epoch)) {
        *out = epoch;
        return 0;
    }
    struct tm tm = { 0 };
    double frac = 0;
    int off = 0;
    const char *p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    if (*p == '.') {
        char *fend;
        frac = strtod(p, &fend);
        p = fend;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        /* Exactly "+HH:MM": anything shorter must not be stepped over. */
        if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
            !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
            return -1;
        int hh = (p[1] - '0') * 10 + (p[2] - '0');
        int mm = (p[4] - '0') * 10 + (p[5] - '0');
        off = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    }
    if (*p != '\0')
        return -1;
    *out = (double)timegm(&tm) - off + frac;
    return 0;
}
