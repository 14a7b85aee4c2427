/*
 * AWS Signature Version 4 parsing and verification.
 *
 * The canonical request follows the SigV4 specification as botocore
 * implements it (botocore/auth.py SigV4Auth): method, URI-encoded path,
 * sorted and encoded query, the signed headers lowercased with values
 * trimmed and inner runs of spaces collapsed, the signed header list, and
 * the payload hash (X-Amz-Content-Sha256 when sent, else SHA-256 of the
 * body).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* GnuTLS, not OpenSSL: libmicrohttpd loads it anyway, and libcrypto
 * would cost every start a few milliseconds and a megabyte. */
#include <gnutls/crypto.h>

#include "buf.h"
#include "sigv4.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, md);
    hex(md, sizeof(md), out);
}

/* Copy the value of "Key=value" from the comma-separated parameter list of
 * an Authorization header. */
static int auth_param(const char *params, const char *key, char *out,
                      size_t len)
{
    size_t klen = strlen(key);
    const char *p = params;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 &&
            p[klen] == '=') {
            size_t vlen = (size_t)(end - (p + klen + 1));
            while (vlen && p[klen + 1 + vlen - 1] == ' ')
                vlen--;
            if (vlen >= len)
                return -1;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p = end;
    }
    return -1;
}

/* Region and service names: lower-case letters, digits and dashes. */
static int scope_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

int sigv4_parse(const char *authorization, struct sigv4_auth *out, char *why,
                size_t whylen)
{
    char cred[512];
    memset(out, 0, sizeof(*out));
    if (!authorization || !*authorization)
        return SIGV4_MISSING;
    out->present = 1;
    const char *alg = "AWS4-HMAC-SHA256";
    if (strncmp(authorization, alg, strlen(alg)) != 0 ||
        authorization[strlen(alg)] != ' ') {
        snprintf(why, whylen, "Authorization header requires 'Credential' "
                 "parameter. Authorization header requires 'Signature' "
                 "parameter. Authorization header requires 'SignedHeaders' "
                 "parameter.");
        return SIGV4_INCOMPLETE;
    }
    const char *params = authorization + strlen(alg) + 1;
    struct buf missing;
    buf_init(&missing, 1024);
    if (auth_param(params, "Credential", cred, sizeof(cred)) < 0)
        buf_adds(&missing, "Authorization header requires 'Credential' parameter. ");
    if (auth_param(params, "Signature", out->signature, sizeof(out->signature)) < 0)
        buf_adds(&missing, "Authorization header requires 'Signature' parameter. ");
    if (auth_param(params, "SignedHeaders", out->signed_headers,
                   sizeof(out->signed_headers)) < 0)
        buf_adds(&missing, "Authorization header requires 'SignedHeaders' parameter. ");
    if (missing.len) {
        snprintf(why, whylen, "%sAuthorization=%.200s", missing.data, alg);
        buf_free(&missing);
        return SIGV4_INCOMPLETE;
    }
    buf_free(&missing);
    /* Credential=AKID/DATE/REGION/SERVICE/aws4_request */
    char *parts[5];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(cred, "/", &save); tok && n < 5;
         tok = strtok_r(NULL, "/", &save))
        parts[n++] = tok;
    if (n != 5 || strcmp(parts[4], "aws4_request") != 0 || !scope_word(parts[2]) ||
        !scope_word(parts[3]) ||
        strlen(parts[0]) >= sizeof(out->access_key) ||
        strlen(parts[1]) >= sizeof(out->date) ||
        strlen(parts[2]) >= sizeof(out->region) ||
        strlen(parts[3]) >= sizeof(out->service)) {
        snprintf(why, whylen, "Credential should be scoped to a valid region, "
                 "service and request type ('aws4_request').");
        return SIGV4_INCOMPLETE;
    }
    strcpy(out->access_key, parts[0]);
    strcpy(out->date, parts[1]);
    strcpy(out->region, parts[2]);
    strcpy(out->service, parts[3]);
    return SIGV4_OK;
}

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* URI-encode as SigV4 wants: everything but unreserved characters, and
 * '/' too unless keep_slash. */
static void uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/'))
            buf_addc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *percent_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t j = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
            hexval(s[i + 2]) >= 0) {
            out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            out[j++] = ' ';
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

struct qparam {
    char *key, *value;
};

static int compare_qparam(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static void canonical_query(struct buf *b, const char *query)
{
    if (!query || !*query)
        return;
    size_t cap = 1;
    for (const char *p = query; *p; p++)
        cap += *p == '&';
    struct qparam *qs = calloc(cap, sizeof(*qs));
    size_t n = 0;
    const char *p = query;
    while (qs && *p && n < cap) {
        const char *end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        if (kend > p && strncmp(p, "X-Amz-Signature", (size_t)(kend - p)) != 0) {
            qs[n].key = percent_decode(p, (size_t)(kend - p));
            qs[n].value = eq ? percent_decode(eq + 1, (size_t)(end - eq - 1))
                             : strdup("");
            if (qs[n].key && qs[n].value)
                n++;
        }
        p = *end ? end + 1 : end;
    }
    if (qs)
        qsort(qs, n, sizeof(*qs), compare_qparam);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_addc(b, '&');
        uri_encode(b, qs[i].key, strlen(qs[i].key), 0);
        buf_addc(b, '=');
        uri_encode(b, qs[i].value, strlen(qs[i].value), 0);
    }
    for (size_t i = 0; qs && i < cap; i++) {
        free(qs[i].key);
        free(qs[i].value);
    }
    free(qs);
}

static const char *header_value(const struct sigv4_request *rq,
                                const char *name)
{
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->headers[i].name, name) == 0)
            return rq->headers[i].value;
    return NULL;
}

static void canonical_header_value(struct buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    const char *end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    int space = 0;
    for (const char *p = v; p < end; p++) {
        if (*p == ' ' || *p == '\t') {
            space = 1;
            continue;
        }
        if (space)
            buf_addc(b, ' ');
        space = 0;
        buf_addc(b, *p);
    }
}

/* Compares in a time that does not depend on where they differ. */
static int same_secret(const char *a, const char *b, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static void hmac(const void *key, size_t keylen, const char *msg,
                 unsigned char out[32])
{
    gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, msg, strlen(msg), out);
}

int sigv4_verify(const struct sigv4_request *rq, const struct sigv4_auth *a,
                 const char *secret)
{
    struct buf creq, sts;
    char payload_hash[65], creq_hash[65], sig[65];
    buf_init(&creq, 4u << 20);
    buf_init(&sts, 8192);

    buf_adds(&creq, rq->method);
    buf_addc(&creq, '\n');
    const char *path = rq->path && *rq->path ? rq->path : "/";
    char *decoded = percent_decode(path, strlen(path));
    if (decoded) {
        uri_encode(&creq, decoded, strlen(decoded), 1);
        free(decoded);
    }
    buf_addc(&creq, '\n');
    canonical_query(&creq, rq->query);
    buf_addc(&creq, '\n');

    char names[sizeof(a->signed_headers)];
    snprintf(names, sizeof(names), "%s", a->signed_headers);
    char *save = NULL;
    for (char *h = strtok_r(names, ";", &save); h; h = strtok_r(NULL, ";", &save)) {
        const char *v = header_value(rq, h);
        for (char *q = h; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        buf_adds(&creq, h);
        buf_addc(&creq, ':');
        if (v)
            canonical_header_value(&creq, v);
        buf_addc(&creq, '\n');
    }
    buf_addc(&creq, '\n');
    buf_adds(&creq, a->signed_headers);
    buf_addc(&creq, '\n');
    const char *sent_hash = header_value(rq, "X-Amz-Content-Sha256");
    if (sent_hash && strlen(sent_hash) < sizeof(payload_hash))
        snprintf(payload_hash, sizeof(payload_hash), "%s", sent_hash);
    else
        sigv4_sha256_hex(rq->body ? rq->body : "", rq->body_len, payload_hash);
    buf_adds(&creq, payload_hash);
    if (creq.failed) {
        buf_free(&creq);
        buf_free(&sts);
        return SIGV4_MISMATCH;
    }
    sigv4_sha256_hex(creq.data, creq.len, creq_hash);
    buf_free(&creq);

    const char *amz_date = header_value(rq, "X-Amz-Date");
    if (!amz_date)
        amz_date = "";
    buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date,
               a->date, a->region, a->service, creq_hash);

    char kkey[512];
    unsigned char k1[32], k2[32], k3[32], k4[32], s[32];
    snprintf(kkey, sizeof(kkey), "AWS4%s", secret);
    hmac(kkey, strlen(kkey), a->date, k1);
    hmac(k1, 32, a->region, k2);
    hmac(k2, 32, a->service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts.data ? sts.data : "", s);
    buf_free(&sts);
    hex(s, 32, sig);
    if (strlen(a->signature) != 64 || !same_secret(sig, a->signature, 64))
        return SIGV4_MISMATCH;
    return SIGV4_OK;
}
