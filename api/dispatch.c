/*
 * The request pipeline: route, authenticate, decode, validate, run the
 * handler in a transaction, encode.
 *
 * Routing follows how the SDKs address services on one endpoint:
 *   X-Amz-Target: <prefix>.<Operation>     JSON protocols
 *   Action=<Operation>&Version=<version>   query protocols (the version
 *                                          tells EC2, ELBv2 and STS apart;
 *                                          the SigV4 scope when it is absent)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "api.h"
#include "call.h"
#include "form.h"
#include "proto.h"
#include "scope.h"
#include "validate.h"
#include "../storage/db.h"

static struct api_config config;

/* Scopes whose defaults exist; only touched under the database lock. */
static char **known_scopes;
static size_t nknown;

int api_init(const struct api_config *cfg)
{
    config = *cfg;
    return 0;
}

int api_auto_instances(void)
{
    return config.auto_instances;
}

void api_reset_caches(void)
{
    db_lock(config.db);
    for (size_t i = 0; i < nknown; i++)
        free(known_scopes[i]);
    free(known_scopes);
    known_scopes = NULL;
    nknown = 0;
    db_unlock(config.db);
}

void api_uuid(char out[37])
{
    unsigned char r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* getrandom on Linux does not fail for 16 bytes once the pool is
         * initialised; fall back to something unique anyway. */
        static unsigned long long counter;
        unsigned long long n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        memcpy(r, &n, sizeof(n));
        n ^= (unsigned long long)time(NULL);
        memcpy(r + 8, &n, sizeof(n));
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
}

static const char *header(const struct api_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->headers[i].name, name) == 0)
            return rq->headers[i].value;
    return NULL;
}

static double now_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

static int all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Fill rs with the error on c, in c's protocol. */
static void respond_error(struct call *c, struct api_response *rs)
{
    const struct codec *codec = codec_for(c->svc->protocol);
    rs->status = c->status ? c->status : 500;
    rs->content_type = codec->content_type;
    rs->body = codec->encode_error(c, &rs->body_len);
    snprintf(rs->error_code, sizeof(rs->error_code), "%s", c->code);
}

/* An error before any service is known: answer in EC2's envelope, the
 * most common client of the query protocols. */
static void respond_unrouted(struct api_response *rs, int status,
                             const char *code, const char *message)
{
    struct call c = { 0 };
    c.svc = model_service(SVC_EC2);
    snprintf(c.request_id, sizeof(c.request_id), "%s", rs->request_id);
    call_error_status(&c, status, code, "%s", message);
    respond_error(&c, rs);
}

static int scope_known(const char *key)
{
    for (size_t i = 0; i < nknown; i++)
        if (strcmp(known_scopes[i], key) == 0)
            return 1;
    return 0;
}

static void remember_scope(const char *key)
{
    char **grown = realloc(known_scopes, (nknown + 1) * sizeof(*grown));
    if (!grown)
        return;
    known_scopes = grown;
    known_scopes[nknown] = strdup(key);
    if (known_scopes[nknown])
        nknown++;
}

/* Make sure the scope's defaults exist (the default VPC and its friends),
 * inside the call's transaction.  Returns 1 if they were created now. */
static int ensure_scope(struct call *c, char *key, size_t keylen)
{
    snprintf(key, keylen, "%s/%s", c->account, c->region);
    if (scope_known(key))
        return 0;
    int known = store_scope_known(c->db, &c->scope);
    if (known < 0)
        return call_internal(c, "reading scopes");
    if (known)
        return 1;
    if (scope_create_defaults(c) < 0)
        return -1;
    if (store_scope_mark(c->db, &c->scope, c->now) < 0)
        return call_internal(c, "marking scope");
    return 1;
}

static void run_handler(struct call *c)
{
    char key[64];
    db_lock(c->db);
    if (db_begin(c->db) < 0) {
        call_internal(c, "cannot begin transaction");
        db_unlock(c->db);
        return;
    }
    long long before = db_total_changes(c->db);
    int fresh = ensure_scope(c, key, sizeof(key));
    int rc = fresh < 0 ? -1 : c->op->handler(c);
    if (rc == 0 && !c->status) {
        if (db_commit(c->db) < 0) {
            call_internal(c, "commit failed");
        } else {
            c->changed = db_total_changes(c->db) != before;
            if (fresh)
                remember_scope(key);
        }
    } else {
        if (!c->status)
            call_internal(c, "handler failed without an error");
        db_rollback(c->db);
    }
    db_unlock(c->db);
}

static int parse_forms(const struct api_request *rq, struct form *f,
                       char *err, size_t errlen)
{
    if (rq->query && *rq->query &&
        form_parse(f, rq->query, strlen(rq->query), err, errlen) < 0)
        return -1;
    if (rq->body_len && form_parse(f, rq->body, rq->body_len, err, errlen) < 0)
        return -1;
    form_finish(f);
    return 0;
}

static int authenticate(struct call *c, const struct api_request *rq,
                        const struct sigv4_auth *auth, int parsed)
{
    int json = c->svc->protocol == PROTO_JSON;
    int ec2 = c->svc->protocol == PROTO_EC2;
    if (parsed == SIGV4_MISSING) {
        if (json)
            return call_error(c, "MissingAuthenticationTokenException",
                              "Missing Authentication Token");
        if (ec2)
            return call_error(c, "MissingParameter",
                              "The request must contain the parameter AWSAccessKeyId");
        return call_error_status(c, 403, "MissingAuthenticationToken",
                                 "Request is missing Authentication Token");
    }
    const struct api_key *key = NULL;
    for (size_t i = 0; i < config.nkeys; i++)
        if (strcmp(config.keys[i].access_key, auth->access_key) == 0)
            key = &config.keys[i];
    if (!key) {
        if (json)
            return call_error(c, "UnrecognizedClientException",
                              "The security token included in the request is invalid.");
        if (ec2)
            return call_error_status(c, 401, "AuthFailure",
                                     "AWS was not able to validate the provided "
                                     "access credentials");
        return call_error_status(c, 403, "InvalidClientTokenId",
                                 "The security token included in the request is invalid");
    }
    struct sigv4_request srq = {
        rq->method, rq->path, rq->query, rq->headers, rq->nheaders, rq->body,
        rq->body_len,
    };
    if (sigv4_verify(&srq, auth, key->secret) != SIGV4_OK)
        return call_error_status(c, json ? 400 : 403,
                                 json ? "InvalidSignatureException" : "SignatureDoesNotMatch",
                                 "The request signature we calculated does not match "
                                 "the signature you provided. Check your AWS Secret "
                                 "Access Key and signing method. Consult the service "
                                 "documentation for details.");
    return 0;
}

void api_handle(const struct api_request *rq, struct api_response *rs)
{
    struct call c = { 0 };
    struct form form = { 0 };
    struct sigv4_auth auth;
    char why[512] = "", err[256];
    const char *opname = NULL;

    memset(rs, 0, sizeof(*rs));
    api_uuid(rs->request_id);
    snprintf(c.request_id, sizeof(c.request_id), "%s", rs->request_id);
    c.now = now_epoch();
    c.db = config.db;
    snprintf(c.endpoint, sizeof(c.endpoint), "%s", rq->endpoint ? rq->endpoint : "");

    int parsed = sigv4_parse(header(rq, "Authorization"), &auth, why, sizeof(why));

    /* Route. */
    const char *target = header(rq, "X-Amz-Target");
    if (target) {
        const char *dot = strrchr(target, '.');
        c.svc = dot ? model_service_by_target(target, (size_t)(dot - target)) : NULL;
        if (!c.svc) {
            respond_unrouted(rs, 400, "UnknownOperationException",
                             "No service is known for this X-Amz-Target.");
            goto out;
        }
        opname = dot + 1;
        c.op = model_operation(c.svc->id, opname);
        if (!c.op) {
            call_error_status(&c, 400, "UnknownOperationException", "%s",
                              "");
            respond_error(&c, rs);
            goto out;
        }
    } else {
        if (parse_forms(rq, &form, err, sizeof(err)) < 0) {
            respond_unrouted(rs, 400, "MalformedQueryString", err);
            goto out;
        }
        const char *version = form_get(&form, "Version");
        opname = form_get(&form, "Action");
        if (version)
            c.svc = model_service_by_version(version);
        else if (auth.present)
            c.svc = model_service_by_key(auth.service);
        if (!c.svc) {
            if (!opname && !version)
                respond_unrouted(rs, 400, "MissingAction",
                                 "The request must contain the parameter Action");
            else
                respond_unrouted(rs, 400, "NoSuchVersion",
                                 "The requested version is not supported by ecslocal");
            goto out;
        }
        if (!opname) {
            call_error(&c, "MissingAction",
                       "The request must contain the parameter Action");
            respond_error(&c, rs);
            goto out;
        }
        c.op = model_operation(c.svc->id, opname);
        if (!c.op) {
            if (c.svc->protocol == PROTO_EC2)
                call_error(&c, "InvalidAction",
                           "The action %.100s is not valid for this web service.",
                           opname);
            else
                call_error(&c, "InvalidAction",
                           "Could not find operation %.100s for version %s",
                           opname, c.svc->version);
            respond_error(&c, rs);
            goto out;
        }
    }
    snprintf(rs->service, sizeof(rs->service), "%s", c.svc->key);
    snprintf(rs->operation, sizeof(rs->operation), "%s", c.op->name);

    /* Who: account and region from the credential scope. */
    snprintf(c.region, sizeof(c.region), "%.31s",
             auth.present && auth.region[0] ? auth.region : config.default_region);
    if (auth.present && all_digits(auth.access_key, 12))
        snprintf(c.account, sizeof(c.account), "%.15s", auth.access_key);
    else
        snprintf(c.account, sizeof(c.account), "%.15s", config.default_account);
    c.scope.account = c.account;
    c.scope.region = c.region;
    snprintf(rs->account, sizeof(rs->account), "%s", c.account);
    snprintf(rs->region, sizeof(rs->region), "%s", c.region);

    if (parsed == SIGV4_INCOMPLETE) {
        int json = c.svc->protocol == PROTO_JSON;
        call_error(&c, json ? "IncompleteSignatureException" : "IncompleteSignature",
                   "%s", why);
        respond_error(&c, rs);
        goto out;
    }
    if (config.strict_auth && authenticate(&c, rq, &auth, parsed) < 0) {
        respond_error(&c, rs);
        goto out;
    }

    if (!c.op->handler) {
        call_error_status(&c, 501, "NotImplemented",
                          "ecslocal does not emulate %s:%s yet; see README.md for "
                          "the operations it does emulate.",
                          c.svc->signing_name, c.op->name);
        respond_error(&c, rs);
        goto out;
    }

    const struct codec *codec = codec_for(c.svc->protocol);
    if (codec->decode(&c, rq->body, rq->body_len, &form) < 0 ||
        validate_input(&c) < 0) {
        respond_error(&c, rs);
        goto out;
    }

    if (c.svc->protocol == PROTO_EC2 && json_is_true(json_object_get(c.in, "DryRun"))) {
        call_error_status(&c, 412, "DryRunOperation",
                          "Request would have succeeded, but DryRun flag is set.");
        respond_error(&c, rs);
        goto out;
    }
    run_handler(&c);
    if (c.status) {
        respond_error(&c, rs);
        goto out;
    }
    if (c.changed && config.on_change)
        config.on_change(config.on_change_arg);
    rs->body = codec->encode(&c, &rs->body_len);
    if (!rs->body) {
        call_internal(&c, "response too large to serialize");
        respond_error(&c, rs);
        goto out;
    }
    rs->status = 200;
    rs->content_type = codec->content_type;
out:
    form_free(&form);
    json_decref(c.in);
    json_decref(c.out);
}
