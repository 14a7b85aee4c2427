/*
 * libFuzzer target: SigV4 Authorization parsing and verification.
 *
 * The input is lines: the Authorization value, the method, the path, the
 * query string, then "Name: value" header lines up to an empty line, then
 * the body.  Whatever parses is verified against the request the other
 * lines describe (canonical query, header trimming, payload hash).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/sigv4.h"
#include "fuzz_common.h"

#define MAX_HEADERS 16

/* The next line of [*p, end) as a new exactly-sized string. */
static char *next_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    char *line = fuzz_strndup(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *auth = next_line(&p, end);
    struct sigv4_auth a;
    char why[512];
    int rc = sigv4_parse(auth, &a, why, sizeof(why));
    if (rc != SIGV4_OK) {
        free(auth);
        return 0;
    }
    char *method = next_line(&p, end);
    char *path = next_line(&p, end);
    char *query = next_line(&p, end);
    struct api_header headers[MAX_HEADERS];
    char *lines[MAX_HEADERS];
    size_t n = 0;
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
        n++;
    }
    size_t body_len = (size_t)(end - p);
    char *body = fuzz_memdup(p, body_len);
    struct sigv4_request rq = {
        method, path, *query ? query : NULL, headers, n, body, body_len,
    };
    sigv4_verify(&rq, &a, "secret");
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(body);
    free(query);
    free(path);
    free(method);
    free(auth);
    return 0;
}
