/*
 * The AWS surface as the HTTP front door sees it: a request in (method,
 * path, headers, body), a response out (status, content type, body).
 *
 * api_handle routes the request to a service and operation, authenticates
 * it, decodes and validates the input, runs the handler inside one SQLite
 * transaction, and serializes the result or the error in the protocol of
 * the service.  It never touches the kernel; it tells the server that
 * desired state changed through the on_change callback.
 */
#ifndef ECSL_API_H
#define ECSL_API_H

#include <stddef.h>

#include "sigv4.h"

struct db;

struct api_key {
    char access_key[129];
    char secret[129];
};

struct api_config {
    struct db *db;
    const char *default_account;    /* --account */
    const char *default_region;
    int strict_auth;                /* --auth strict */
    int auto_instances;             /* --auto-instances */
    const struct api_key *keys;
    size_t nkeys;
    /* Called after a mutating call committed (from an HTTP thread). */
    void (*on_change)(void *arg);
    void *on_change_arg;
};

struct api_request {
    const char *method;
    const char *path;
    const char *query;              /* raw query string or NULL */
    const struct api_header *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    const char *endpoint;           /* http://host:port the client used */
};

struct api_response {
    int status;
    const char *content_type;
    char *body;                     /* malloc'd */
    size_t body_len;
    char request_id[40];
    /* For the request log line. */
    char service[24];
    char operation[64];
    char error_code[96];
    char account[16];
    char region[32];
};

int api_init(const struct api_config *cfg);
void api_handle(const struct api_request *rq, struct api_response *rs);
/* Forget cached per-scope state after the database was wiped. */
void api_reset_caches(void);

/* --auto-instances: give an EC2 cluster without instances one on demand. */
int api_auto_instances(void);

/* Request ids: a random UUID (37 bytes with the NUL). */
void api_uuid(char out[37]);

#endif
