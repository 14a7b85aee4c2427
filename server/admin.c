/*
 * Admin endpoints: health, reset, and the aliases that tools written for
 * other emulators call (moto_server's reset, LocalStack's health), so
 * ecslocal drops in for them.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <dirent.h>

#include "../api/api.h"
#include "../api/buf.h"
#include "../api/model.h"
#include "../storage/db.h"
#include "log.h"
#include "runtime.h"
#include "server.h"

/* Every service the API routes; those whose operations all answer
 * NotImplemented say so rather than "running". */
static const struct { const char *name, *state; } services[] = {
    { "ec2", "running" }, { "ecs", "running" }, { "elbv2", "not emulated" },
    { "servicediscovery", "not emulated" }, { "sts", "running" }, { "logs", "running" },
};

static void reply_json(struct http_reply *r, int status, json_t *doc)
{
    r->status = status;
    r->content_type = "application/json";
    r->body = json_dumps(doc, JSON_INDENT(2));
    r->body_len = r->body ? strlen(r->body) : 0;
    json_decref(doc);
}

/* localstack: in LocalStack's own words, where a service not offered is
 * "disabled". */
static json_t *services_json(int localstack)
{
    json_t *s = json_object();
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        const char *state = services[i].state;
        if (localstack && strcmp(state, "running") != 0)
            state = "disabled";
        json_object_set_new(s, services[i].name, json_string(state));
    }
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
        "status", "ok", "version", ECSL_VERSION, "services", services_json(0),
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
    json_t *doc = json_pack("{s:o, s:s, s:s}", "services", services_json(1),
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

struct log_out {
    struct buf *b;
    const char *prefix;
};

static int add_line(long long ts, int stream, const char *text, size_t len, void *arg)
{
    (void)ts;
    (void)stream;
    struct log_out *o = arg;
    if (o->prefix) {
        buf_adds(o->b, o->prefix);
        buf_adds(o->b, " | ");
    }
    buf_add(o->b, text, len);
    buf_addc(o->b, '\n');
    return o->b->failed ? -1 : 0;
}

/* GET /_ecslocal/tasks/<id>: where a task's files are and what its
 * supervisor reports (`ecslocal exec` and `port-forward` use it). */
static int task_info(const char *id, struct http_reply *r)
{
    char dir[600];
    if (strchr(id, '/') || strchr(id, '.') || !*id)
        return 0;
    runtime_task_dir(id, dir, sizeof(dir));
    json_t *status = runtime_status(id);
    if (!status) {
        reply_json(r, 404, json_pack("{s:s}", "message", "no such task on this server"));
        return 1;
    }
    reply_json(r, 200, json_pack("{s:s, s:o}", "dir", dir, "status", status));
    return 1;
}

/* GET /_ecslocal/tasks/<id>/logs[/<container>]: what the task's containers
 * printed (`ecslocal logs`). */
static int task_logs(const char *rest, struct http_reply *r)
{
    char id[64], container[256] = "", dir[600];
    const char *slash = strchr(rest, '/');
    if (!slash || (size_t)(slash - rest) >= sizeof(id) || strncmp(slash, "/logs", 5) != 0)
        return 0;
    memcpy(id, rest, (size_t)(slash - rest));
    id[slash - rest] = '\0';
    if (slash[5] == '/')
        snprintf(container, sizeof(container), "%s", slash + 6);
    else if (slash[5] != '\0')
        return 0;
    if (strchr(id, '.') || strchr(container, '/') || strchr(container, '.')) {
        reply_json(r, 400, json_pack("{s:s}", "message", "bad task or container name"));
        return 1;
    }
    runtime_task_dir(id, dir, sizeof(dir));
    DIR *d = opendir(dir);
    if (!d) {
        reply_json(r, 404, json_pack("{s:s}", "message", "no such task on this server"));
        return 1;
    }
    struct buf b;
    buf_init(&b, 64u << 20);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".log") != 0 || strcmp(e->d_name, "shim.log") == 0)
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(n - 4), e->d_name);
        if (container[0] && strcmp(name, container) != 0)
            continue;
        found = 1;
        long long off = 0;
        struct log_out o = { &b, container[0] ? NULL : name };
        runtime_read_log(id, name, &off, add_line, &o);
    }
    closedir(d);
    if (container[0] && !found) {
        buf_free(&b);
        reply_json(r, 404, json_pack("{s:s}", "message", "no such container in the task"));
        return 1;
    }
    r->status = 200;
    r->content_type = "text/plain; charset=utf-8";
    r->body = buf_take(&b, &r->body_len);
    if (!r->body) {
        r->body = strdup("");
        r->body_len = 0;
    }
    return 1;
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
    if (strncmp(path, "/_ecslocal/tasks/", 17) == 0 && get &&
        (task_logs(path + 17, r) || task_info(path + 17, r)))
        return 1;
    if (strncmp(path, "/_ecslocal/", 11) == 0 || strncmp(path, "/_localstack/", 13) == 0 ||
        strncmp(path, "/moto-api/", 10) == 0) {
        reply_json(r, 404, json_pack("{s:s, s:s}", "status", "error", "message",
                                     "no such admin endpoint (or wrong method)"));
        return 1;
    }
    return 0;
}
