/*
 * CloudWatch Logs: what every handler needs -- the model's name patterns,
 * finding groups and streams, log-group ARNs, paging tokens.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logs.h"

long long logs_now_ms(const struct call *c)
{
    return llround(c->now * 1000.0);
}

/* ---- patterns ----
 *
 * The patterns of the Logs model's input strings are all one character
 * class repeated: "[\.\-_/#A-Za-z0-9]+", "[^:*]*", "[\w+=/:,.@-]*",
 * "^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$".  That is what this evaluates; a
 * pattern of another form is not checked here (none of the emulated
 * operations has one that matters).  \p{...} classes admit every
 * non-ASCII character, which is close enough for tag keys and values. */

struct cclass {
    unsigned char set[32];
    int negated;
    int unicode;
    int nonempty;
};

static void cc_add(struct cclass *cc, int ch)
{
    cc->set[(unsigned char)ch >> 3] |= (unsigned char)(1u << (ch & 7));
}

static void cc_range(struct cclass *cc, int lo, int hi)
{
    for (int ch = lo; ch <= hi; ch++)
        cc_add(cc, ch);
}

static int cc_has(const struct cclass *cc, unsigned char ch)
{
    return (cc->set[ch >> 3] >> (ch & 7)) & 1;
}

/* An escape after the backslash at *pp: a class (\w, \d, \s, \p{X}) is
 * added and returns -1; a literal returns its character. */
static int cc_escape(struct cclass *cc, const char **pp, int *bad)
{
    const char *p = *pp;
    int ch = (unsigned char)*p;
    *pp = p + 1;
    switch (ch) {
    case 'w':
        cc_range(cc, 'a', 'z');
        cc_range(cc, 'A', 'Z');
        cc_range(cc, '0', '9');
        cc_add(cc, '_');
        return -1;
    case 'd':
        cc_range(cc, '0', '9');
        return -1;
    case 's':
        cc_add(cc, ' ');
        cc_add(cc, '\t');
        cc_add(cc, '\n');
        cc_add(cc, '\r');
        return -1;
    case 'p':
        if (p[1] != '{' || !p[2] || p[3] != '}') {
            *bad = 1;
            return -1;
        }
        if (p[2] == 'L') {
            cc_range(cc, 'a', 'z');
            cc_range(cc, 'A', 'Z');
        } else if (p[2] == 'N') {
            cc_range(cc, '0', '9');
        } else if (p[2] == 'Z') {
            cc_add(cc, ' ');
        } else {
            *bad = 1;
        }
        cc->unicode = 1;
        *pp = p + 4;
        return -1;
    case '\0':
        *bad = 1;
        *pp = p;
        return -1;
    default:
        return ch;
    }
}

static int parse_class_pattern(const char *p, struct cclass *cc)
{
    int paren = 0, bad = 0;
    memset(cc, 0, sizeof(*cc));
    if (*p == '^')
        p++;
    if (*p == '(') {
        paren = 1;
        p++;
    }
    if (*p++ != '[')
        return -1;
    if (*p == '^') {
        cc->negated = 1;
        p++;
    }
    while (*p && *p != ']' && !bad) {
        int lo;
        if (*p == '\\') {
            p++;
            lo = cc_escape(cc, &p, &bad);
            if (lo < 0)
                continue;
        } else {
            lo = (unsigned char)*p++;
        }
        if (p[0] == '-' && p[1] && p[1] != ']') {
            int hi;
            p++;
            if (*p == '\\') {
                p++;
                hi = cc_escape(cc, &p, &bad);
                if (hi < 0)
                    return -1;
            } else {
                hi = (unsigned char)*p++;
            }
            cc_range(cc, lo, hi);
        } else {
            cc_add(cc, lo);
        }
    }
    if (bad || *p++ != ']')
        return -1;
    if (*p == '+')
        cc->nonempty = 1;
    else if (*p != '*')
        return -1;
    p++;
    if (paren && *p++ != ')')
        return -1;
    if (*p == '$')
        p++;
    return *p ? -1 : 0;
}

/* 1 if value matches, 0 if not, -1 if the pattern is not one we read. */
static int pattern_matches(const char *pattern, const char *value)
{
    struct cclass cc;
    if (parse_class_pattern(pattern, &cc) < 0)
        return -1;
    if (cc.nonempty && !*value)
        return 0;
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        int in = *v >= 0x80 ? cc.unicode : cc_has(&cc, *v);
        if (cc.negated ? in : !in)
            return 0;
    }
    return 1;
}

struct pattern_errors {
    int n;
    struct buf text;
};

static void pattern_problem(struct pattern_errors *pe, const char *value,
                            const char *path, const char *constraint,
                            const char *pattern)
{
    if (pe->n++)
        buf_adds(&pe->text, "; ");
    buf_printf(&pe->text, "Value '%.256s' at '%s' failed to satisfy constraint: "
               "%sMember must satisfy regular expression pattern: %s%s",
               value, path, constraint, pattern, *constraint ? "]" : "");
}

static int string_fails(int shape, const char *value)
{
    const struct shape *s = shape_get(shape);
    if (!s || s->type != T_STRING || !s->pattern || !value)
        return 0;
    return pattern_matches(s->pattern, value) == 0;
}

/* Lists and maps are reported whole, the way Coral prints them (Java's
 * toString of the collection). */
static void check_list(struct pattern_errors *pe, const struct shape *s,
                       json_t *v, const char *path)
{
    const struct shape *item = shape_get(s->inner);
    size_t i;
    json_t *x;
    int failed = 0;
    json_array_foreach(v, i, x)
        failed |= string_fails(s->inner, json_string_value(x));
    if (!failed)
        return;
    struct buf shown;
    buf_init(&shown, 4096);
    buf_addc(&shown, '[');
    json_array_foreach(v, i, x) {
        buf_printf(&shown, "%s%s", i ? ", " : "", json_string_value(x));
    }
    buf_addc(&shown, ']');
    pattern_problem(pe, shown.data ? shown.data : "[...]", path,
                    "Member must satisfy constraint: [", item->pattern);
    buf_free(&shown);
}

static void check_map(struct pattern_errors *pe, const struct shape *s,
                      json_t *v, const char *path)
{
    const char *key;
    json_t *x;
    int bad_key = 0, bad_value = 0;
    json_object_foreach(v, key, x) {
        bad_key |= string_fails(s->inner, key);
        bad_value |= string_fails(s->value, json_string_value(x));
    }
    if (!bad_key && !bad_value)
        return;
    struct buf shown;
    buf_init(&shown, 4096);
    buf_addc(&shown, '{');
    int first = 1;
    json_object_foreach(v, key, x) {
        buf_printf(&shown, "%s%s=%s", first ? "" : ", ", key,
                   json_is_string(x) ? json_string_value(x) : "");
        first = 0;
    }
    buf_addc(&shown, '}');
    if (bad_key)
        pattern_problem(pe, shown.data ? shown.data : "{...}", path,
                        "Map keys must satisfy constraint: [",
                        shape_get(s->inner)->pattern);
    if (bad_value)
        pattern_problem(pe, shown.data ? shown.data : "{...}", path,
                        "Map value must satisfy constraint: [",
                        shape_get(s->value)->pattern);
    buf_free(&shown);
}

int logs_check_patterns(struct call *c)
{
    const struct shape *in = shape_get(c->op->input);
    if (!in)
        return 0;
    struct pattern_errors pe = { 0 };
    buf_init(&pe.text, 8192);
    for (int i = 0; i < in->nmembers; i++) {
        const struct member *m = shape_member(in, i);
        const struct shape *s = shape_get(m->shape);
        json_t *v = in_get(c, m->name);
        /* ARNs get their own check (AWS answers "Invalid resourceArn"). */
        if (!v || !s || strcmp(m->name, "resourceArn") == 0)
            continue;
        if (s->type == T_STRING && string_fails(m->shape, json_string_value(v)))
            pattern_problem(&pe, json_string_value(v), m->name, "", s->pattern);
        else if (s->type == T_LIST)
            check_list(&pe, s, v, m->name);
        else if (s->type == T_MAP)
            check_map(&pe, s, v, m->name);
    }
    int rc = 0;
    if (pe.n)
        rc = call_error(c, "InvalidParameterException",
                        "%d validation error%s detected: %s", pe.n,
                        pe.n == 1 ? "" : "s", pe.text.data ? pe.text.data : "");
    buf_free(&pe.text);
    return rc;
}

/* ---- groups and streams ---- */

json_t *logs_find_group(struct call *c, const char *group)
{
    json_t *doc = store_get(c->db, &c->scope, EVENTS_GROUP_TYPE, group);
    if (!doc)
        call_error(c, "ResourceNotFoundException",
                   "The specified log group does not exist.");
    return doc;
}

json_t *logs_find_stream(struct call *c, const char *group, const char *stream)
{
    char key[EVENTS_STREAM_KEY_MAX];
    events_stream_key(group, stream, key, sizeof(key));
    json_t *doc = store_get(c->db, &c->scope, EVENTS_STREAM_TYPE, key);
    if (!doc)
        call_error(c, "ResourceNotFoundException",
                   "The specified log stream does not exist.");
    return doc;
}

int logs_parse_group_arn(const struct call *c, const char *arn, int allow_star,
                         char *name, size_t len)
{
    /* arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]; names have no
     * ':' of their own, so the fields split cleanly. */
    char copy[1100];
    char *field[9];
    int n = 0;
    if (strlen(arn) >= sizeof(copy))
        return LOGS_ARN_INVALID;
    snprintf(copy, sizeof(copy), "%s", arn);
    for (char *p = copy, *tok; n < 9 && (tok = strsep(&p, ":")) != NULL;)
        field[n++] = tok;
    if (n < 6 || strcmp(field[0], "arn") != 0 || strcmp(field[2], "logs") != 0 ||
        !*field[1])
        return LOGS_ARN_INVALID;
    if (n == 8 && strcmp(field[7], "*") == 0) {
        if (!allow_star)
            return LOGS_ARN_INVALID;
        n = 7;
    }
    if (n != 7 || !*field[6])
        return n == 7 ? LOGS_ARN_INVALID : LOGS_ARN_OTHER;
    if (strcmp(field[5], "log-group") != 0)
        return LOGS_ARN_OTHER;
    if (strcmp(field[3], c->region) != 0 || strcmp(field[4], c->account) != 0)
        return LOGS_ARN_OTHER;
    snprintf(name, len, "%s", field[6]);
    return 0;
}

int logs_group_from_input(struct call *c, const char *identifier_member,
                          char *name, size_t len)
{
    const char *byname = in_str(c, "logGroupName");
    const char *ident = in_str(c, identifier_member);
    if (byname && ident)
        return call_error(c, "InvalidParameterException",
                          "LogGroup name and LogGroup ARN are mutually exclusive "
                          "parameters.");
    if (!byname && !ident)
        return call_error(c, "InvalidParameterException",
                          "Either the logGroupName or the %s must be specified.",
                          identifier_member);
    if (byname || strncmp(ident, "arn:", 4) != 0) {
        snprintf(name, len, "%s", byname ? byname : ident);
        return 0;
    }
    int rc = logs_parse_group_arn(c, ident, 1, name, len);
    if (rc == LOGS_ARN_OTHER)
        return call_error(c, "ResourceNotFoundException",
                          "The specified log group does not exist.");
    if (rc < 0)
        return call_error(c, "InvalidParameterException",
                          "Invalid %s: '%s' is not a log group name or ARN.",
                          identifier_member, ident);
    return 0;
}

int logs_check_deletable(struct call *c, json_t *group)
{
    if (!json_is_true(json_object_get(group, "deletionProtectionEnabled")))
        return 0;
    return call_error(c, "ValidationException",
                      "Log group %s has deletion protection enabled. Disable "
                      "deletion protection before deleting it or its log streams.",
                      json_string_value(json_object_get(group, "logGroupName")));
}

/* ---- tokens ---- */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void base64url(const unsigned char *in, size_t n, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

/* Decoded length, or -1 when in is not base64url. */
static long unbase64url(const char *in, unsigned char *out, size_t len)
{
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (const char *p = in; *p; p++) {
        const char *at = strchr(b64url, *p);
        if (!at)
            return -1;
        v = (v << 6) | (unsigned)(at - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= len)
                return -1;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    out[o] = '\0';
    return (long)o;
}

void logs_token_encode(const char *kind, const char *payload, char *out,
                       size_t len)
{
    char plain[1400];
    int n = snprintf(plain, sizeof(plain), "%s|%s", kind, payload);
    if (n < 0 || (size_t)n >= sizeof(plain))
        n = (int)sizeof(plain) - 1;
    base64url((const unsigned char *)plain, (size_t)n, out, len);
}

int logs_token_decode(const char *token, const char *kind, char *payload,
                      size_t len)
{
    unsigned char plain[1400];
    long n = unbase64url(token, plain, sizeof(plain));
    size_t k = strlen(kind);
    if (n < 0 || (size_t)n <= k || memcmp(plain, kind, k) != 0 || plain[k] != '|' ||
        memchr(plain, '\0', (size_t)n))
        return -1;
    if ((size_t)n - k - 1 >= len)
        return -1;
    memcpy(payload, plain + k + 1, (size_t)n - k - 1);
    payload[n - (long)k - 1] = '\0';
    return 0;
}

int logs_invalid_token(struct call *c)
{
    return call_error(c, "InvalidParameterException",
                      "The specified nextToken is invalid.");
}

static unsigned long long mix(unsigned long long x)
{
    /* splitmix64's finalizer */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static unsigned long long position_check(long long ts, long long id)
{
    return mix(mix((unsigned long long)ts) ^ (unsigned long long)id) %
           1000000000000000000ULL;
}

void logs_position_format(long long ts, long long id,
                          char out[LOGS_POSITION_DIGITS + 1])
{
    snprintf(out, LOGS_POSITION_DIGITS + 1, "%019lld%019lld%018llu", ts, id,
             position_check(ts, id));
}

int logs_position_parse(const char *digits, size_t n, long long *ts,
                        long long *id)
{
    char part[20];
    if (n != LOGS_POSITION_DIGITS)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)digits[i]))
            return -1;
    memcpy(part, digits, 19);
    part[19] = '\0';
    *ts = strtoll(part, NULL, 10);
    memcpy(part, digits + 19, 19);
    *id = strtoll(part, NULL, 10);
    memcpy(part, digits + 38, 18);
    part[18] = '\0';
    if (*ts < 0 || *id < 0 || strtoull(part, NULL, 10) != position_check(*ts, *id))
        return -1;
    return 0;
}
