/*
 * Admin endpoints: health, reset, and the aliases that tools written for
 * other emulators call (moto_server's reset, LocalStack's health), so
 * ecslocal drops in for them.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../api/api.h"
#include "../api/model.h"
#include "../storage/db.h"
#include "log.h"
#include "server.h"

static const char *const services[] = {
    "ec2", "ecs", "elbv2", "servicediscovery", "sts", "logs",
};

static void reply_json(struct http_reply *r, int status, json_t *doc)
{
    r->status = status;
    r->content_type = "application/json";
    r->body = json_dumps(doc, JSON_INDENT(2));
    r->body_len = r->body ? strlen(r->body) : 0;
    json_decref(doc);
}

static json_t *services_json(void)
{
    json_t *s = json_object();
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        json_object_set_new(s, services[i], json_string("running"));
    return s;
}

static void health(struct http_reply *r)
{
    struct timespec ts;
    db_lock(server.db);
    int schema = db_schema_version(server.db);
    db_unlock(server.db);
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *doc = json_pack(
        "{s:s, s:s, s:o, s:s, s:s, s:{s:s, s:s}, s:s, s:f, s:i}",
        "status", "ok", "version", ECSL_VERSION, "services", services_json(),
        "networking", server.networking ? "real" : "off",
        "networking_reason", server.networking_reason,
        "listen", "api", server.cfg.listen, "dns", server.cfg.dns_listen,
        "storage", server.cfg.in_memory ? "memory" : server.cfg.data_dir,
        "uptime_seconds", (double)ts.tv_sec + ts.tv_nsec / 1e9 - server.started,
        "schema_version", schema);
    reply_json(r, 200, doc);
}

static void localstack_health(struct http_reply *r)
{
    json_t *doc = json_pack("{s:o, s:s, s:s}", "services", services_json(),
                            "edition", "ecslocal", "version", ECSL_VERSION);
    reply_json(r, 200, doc);
}

static void reset(struct http_reply *r)
{
    if (server_reset() < 0) {
        reply_json(r, 500, json_pack("{s:s, s:s}", "status", "error", "message",
                                     "reset failed; see the server log"));
        return;
    }
    reply_json(r, 200, json_pack("{s:s}", "status", "reset"));
}

int admin_handle(const char *method, const char *path, struct http_reply *r)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    if (strcmp(path, "/_ecslocal/health") == 0 && get) {
        health(r);
        return 1;
    }
    if ((strcmp(path, "/_localstack/health") == 0 ||
         strcmp(path, "/health") == 0) && get) {
        localstack_health(r);
        return 1;
    }
    if ((strcmp(path, "/_ecslocal/reset") == 0 || strcmp(path, "/moto-api/reset") == 0) &&
        post) {
        reset(r);
        return 1;
    }
    if (strncmp(path, "/_ecslocal/", 11) == 0 || strncmp(path, "/_localstack/", 13) == 0 ||
        strncmp(path, "/moto-api/", 10) == 0) {
        reply_json(r, 404, json_pack("{s:s, s:s}", "status", "error", "message",
                                     "no such admin endpoint (or wrong method)"));
        return 1;
    }
    return 0;
}
