/*
 * One API call as a handler sees it.
 *
 * The dispatcher fills a struct call (service, operation, account, region,
 * the decoded input), opens a transaction, runs the handler and commits or
 * rolls back.  A handler reads c->in, writes c->out (both jansson objects
 * keyed by the model's member names) and returns 0, or reports an AWS error
 * with call_error() and returns what it returned (-1).  A failed call never
 * commits, so bad input changes nothing.
 */
#ifndef ECSL_CALL_H
#define ECSL_CALL_H

#include <jansson.h>

#include "model.h"
#include "../storage/store.h"

struct call {
    const struct service *svc;
    const struct operation *op;
    struct scope scope;         /* account + region: the isolation boundary */
    char account[16];
    char region[32];
    char request_id[40];
    char endpoint[128];         /* how clients reached us: http://host:port */
    double now;                 /* request time, epoch seconds */
    struct db *db;
    json_t *in;                 /* decoded, validated input */
    json_t *out;                /* handler's result; NULL means empty */
    int changed;                /* handler wrote desired state */

    /* The error, when a handler or the validator failed. */
    int status;
    char code[96];
    char message[1024];
};

/* Record an AWS error on the call; the HTTP status comes from the model's
 * error table (400 for codes it does not list).  Returns -1. */
int call_error(struct call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with an explicit HTTP status. */
int call_error_status(struct call *c, int status, const char *code,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An internal failure (storage, out of memory): 500 with the service's own
 * internal error code. */
int call_internal(struct call *c, const char *what);

/* Input accessors: NULL/default when the member is absent. */
const char *in_str(const struct call *c, const char *name);
long long in_int(const struct call *c, const char *name, long long dflt);
int in_bool(const struct call *c, const char *name, int dflt);
json_t *in_get(const struct call *c, const char *name);

/* The output object, created on first use. */
json_t *call_out(struct call *c);

#endif
