/*
 * libFuzzer target: the whole request pipeline, api_handle(), on an
 * in-memory database: routing, authentication, decoding, validation, the
 * handlers and their storage, encoding.
 *
 * The input reads like an HTTP request:
 *
 *   POST /?Action=DescribeVpcs        method and target (path?query)
 *   X-Amz-Target: ...                 header lines up to an empty line
 *   Authorization: ...
 *   X-Fuzz-Auth: strict               (this run verifies signatures)
 *
 *   body...
 *   %%                                a next request on the same state
 *   POST /
 *   ...
 *
 * Each input starts from an empty database, so a crash reproduces from its
 * input alone.  Besides crashes and sanitizer reports, a response that
 * breaks the contract aborts: a 500 (a handler failed without saying why,
 * or storage failed), a missing body, a body that is not UTF-8 (no client
 * parses that), or a JSON-protocol body that is not JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "../../api/api.h"
#include "../../storage/db.h"
#include "fuzz_common.h"

#define MAX_HEADERS 32
#define MAX_REQUESTS 8

static struct db *db;
/* FUZZ_API_VERBOSE=1: print each answer (for writing seeds). */
static int verbose;
static const struct api_key keys[] = { { "AKIDEXAMPLE", "secret" } };

static struct api_config config(int strict)
{
    struct api_config cfg = {
        .db = db,
        .default_account = "000000000000",
        .default_region = "us-east-1",
        .strict_auth = strict,
        .keys = keys,
        .nkeys = 1,
    };
    return cfg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    (void)argc;
    (void)argv;
    if (db_open(&db, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz_api: db_open: %s\n", err);
        abort();
    }
    struct api_config cfg = config(0);
    api_init(&cfg);
    verbose = getenv("FUZZ_API_VERBOSE") != NULL;
    return 0;
}

static char *next_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    if (stop > *p && stop[-1] == '\r')
        stop--;
    char *line = fuzz_strndup(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return line;
}

/* Whether s[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static void check_response(const struct api_response *rs)
{
    if (rs->status < 200 || rs->status > 599 || rs->status == 500 || !rs->body ||
        !rs->content_type) {
        fprintf(stderr, "fuzz_api: bad response: status %d, %s %s: %.*s\n",
                rs->status, rs->service, rs->operation, (int)rs->body_len,
                rs->body ? rs->body : "(no body)");
        abort();
    }
    if (!utf8_valid((const unsigned char *)rs->body, rs->body_len)) {
        fprintf(stderr, "fuzz_api: %s %s answered bytes that are not UTF-8: %.*s\n",
                rs->service, rs->operation, (int)rs->body_len, rs->body);
        abort();
    }
    if (strstr(rs->content_type, "json")) {
        json_error_t e;
        json_t *v = json_loadb(rs->body, rs->body_len, 0, &e);
        if (!v) {
            fprintf(stderr, "fuzz_api: %s %s answered JSON that does not parse "
                    "(%s): %.*s\n", rs->service, rs->operation, e.text,
                    (int)rs->body_len, rs->body);
            abort();
        }
        json_decref(v);
    }
}

/* Run one request, data[0..size), through api_handle and check the answer. */
static void one_request(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *request_line = next_line(&p, end);
    const char *method = request_line;
    const char *path = "/";
    char *space = strchr(request_line, ' ');
    char *query = NULL;
    if (space) {
        *space = '\0';
        path = space + 1;
        query = strchr(space + 1, '?');
        if (query)
            *query++ = '\0';
    }

    struct api_header headers[MAX_HEADERS];
    char *lines[MAX_HEADERS];
    size_t n = 0;
    int strict = 0;
    while (p < end && n < MAX_HEADERS) {
        char *line = next_line(&p, end);
        if (!*line) {
            free(line);
            break;
        }
        char *colon = strchr(line, ':');
        lines[n] = line;
        headers[n].name = line;
        headers[n].value = "";
        if (colon) {
            *colon = '\0';
            headers[n].value = colon + 1 + (colon[1] == ' ');
        }
        if (strcasecmp(headers[n].name, "X-Fuzz-Auth") == 0 &&
            strcmp(headers[n].value, "strict") == 0)
            strict = 1;
        n++;
    }
    size_t body_len = (size_t)(end - p);
    char *body = fuzz_memdup(p, body_len);

    struct api_config cfg = config(strict);
    api_init(&cfg);
    struct api_request rq = {
        method, path, query, headers, n, body, body_len, "http://127.0.0.1:4566",
    };
    struct api_response rs;
    api_handle(&rq, &rs);
    if (verbose)
        fprintf(stderr, "fuzz_api: %d %s %s %s\n", rs.status, rs.service,
                rs.operation, rs.error_code);
    check_response(&rs);
    free(rs.body);

    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(body);
    free(request_line);
}

/* An input is up to MAX_REQUESTS requests separated by a "%%" line, run in
 * order on one database (create a cluster, then use it by name), which is
 * emptied afterwards. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n%%\n";
    const uint8_t *p = data, *end = data + size;
    for (int i = 0; i < MAX_REQUESTS && p <= end; i++) {
        const uint8_t *next = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);
        const uint8_t *stop = next ? next : end;
        one_request(p, (size_t)(stop - p));
        if (!next)
            break;
        p = next + sizeof(sep) - 1;
    }

    db_lock(db);
    if (db_wipe(db) < 0) {
        fprintf(stderr, "fuzz_api: db_wipe: %s\n", db_errmsg(db));
        abort();
    }
    db_unlock(db);
    api_reset_caches();
    return 0;
}
