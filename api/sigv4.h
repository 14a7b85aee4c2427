/*
 * AWS Signature Version 4: who is calling, from where, and (in strict mode)
 * whether they really signed the request.
 *
 * By default only the credential scope is read: the access key id chooses
 * the account (a 12-digit key id is the account itself), the scope gives
 * region and service.  With --auth strict the signature is recomputed from
 * the canonical request with the configured secret and compared.
 */
#ifndef ECSL_SIGV4_H
#define ECSL_SIGV4_H

#include <stddef.h>

struct api_header {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method;
    const char *path;           /* raw path, without the query */
    const char *query;          /* raw query string, or NULL */
    const struct api_header *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
};

struct sigv4_auth {
    int present;                /* an Authorization header (or presigned query) */
    char access_key[129];
    char date[16];              /* scope date YYYYMMDD */
    char region[32];
    char service[48];
    char signed_headers[1024];
    char signature[129];
};

enum sigv4_result {
    SIGV4_OK = 0,
    SIGV4_MISSING,              /* no signature at all */
    SIGV4_INCOMPLETE,           /* a header that is not a complete SigV4 one */
    SIGV4_UNKNOWN_KEY,          /* strict: the access key is not configured */
    SIGV4_MISMATCH              /* strict: the signature is wrong */
};

/* Parse the credential scope from the Authorization header value (NULL if
 * absent).  Returns SIGV4_OK, SIGV4_MISSING or SIGV4_INCOMPLETE. */
int sigv4_parse(const char *authorization, struct sigv4_auth *out,
                char *why, size_t whylen);

/* Recompute the signature with secret and compare it (constant time).
 * Returns SIGV4_OK or SIGV4_MISMATCH. */
int sigv4_verify(const struct sigv4_request *rq, const struct sigv4_auth *a,
                 const char *secret);

/* The hex SHA-256 of data (65 bytes out). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
