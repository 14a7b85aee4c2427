/*
 * The task metadata endpoint (v3 and v4) and the container credentials
 * endpoint, as the ECS agent serves them at 169.254.170.2
 * (../shared/reference/ecs-networking.md section 5).
 *
 * Paths carry a per-container id (ECS_CONTAINER_METADATA_URI_V4 =
 * http://169.254.170.2/v4/<id>); the id is looked up in the store (type
 * "ecs-endpoint", scope "-"/"-") to find the task and container, so the
 * endpoint works the same whether the request came in through a task's
 * namespace or through the host's loopback.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../api/jget.h"
#include "../storage/db.h"
#include "../storage/store.h"
#include "runtime.h"
#include "server.h"
#include "tmds.h"

static const struct scope endpoint_scope = { "-", "-" };

/* RFC 3339 with nanoseconds, as the agent formats Go times. */
static json_t *rfc3339(json_t *epoch)
{
    if (!json_is_number(epoch))
        return NULL;
    double t = json_number_value(epoch);
    time_t secs = (time_t)floor(t);
    long nanos = (long)llround((t - (double)secs) * 1e9);
    if (nanos >= 1000000000L) {
        secs++;
        nanos -= 1000000000L;
    }
    struct tm tm;
    char out[64];
    gmtime_r(&secs, &tm);
    snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
    return json_string(out);
}

static void set_time(json_t *o, const char *key, json_t *epoch)
{
    json_t *v = rfc3339(epoch);
    if (v)
        json_object_set_new(o, key, v);
}

static json_t *def_of(json_t *task, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(json_object_get(task, "_def"), "containerDefinitions"), i, d)
        if (jstr(d, "name") && strcmp(jstr(d, "name"), name) == 0)
            return d;
    return NULL;
}

static json_t *networks(json_t *task)
{
    json_t *net = json_object_get(json_object_get(task, "_rt"), "net");
    const char *mode = jstr(json_object_get(task, "_def"), "networkMode");
    json_t *ip = json_object_get(net, "ip");
    json_t *n = json_pack("{s:s, s:[]}", "NetworkMode", mode ? mode : "bridge", "IPv4Addresses");
    if (json_is_string(ip))
        json_array_append(json_object_get(n, "IPv4Addresses"), ip);
    if (mode && strcmp(mode, "awsvpc") == 0 && net) {
        json_object_set_new(n, "AttachmentIndex", json_integer(0));
        const char *keys[][2] = {
            { "MACAddress", "mac" }, { "IPv4SubnetCIDRBlock", "subnet_cidr" },
            { "PrivateDNSName", "private_dns" }, { "SubnetGatewayIpv4Address", "gateway" },
        };
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (jstr(net, keys[i][1]))
                json_object_set_new(n, keys[i][0], json_string(jstr(net, keys[i][1])));
        if (jstr(net, "resolver"))
            json_object_set_new(n, "DomainNameServers", json_pack("[s]", jstr(net, "resolver")));
        if (jstr(net, "search"))
            json_object_set_new(n, "DomainNameSearchList", json_pack("[s]", jstr(net, "search")));
    }
    return json_pack("[o]", n);
}

static json_t *labels(json_t *task, const char *name)
{
    char cluster[256] = "";
    const char *carn = jstr(task, "clusterArn");
    if (carn && strchr(carn, '/'))
        snprintf(cluster, sizeof(cluster), "%s", strchr(carn, '/') + 1);
    json_t *def = json_object_get(task, "_def");
    char rev[32];
    snprintf(rev, sizeof(rev), "%lld", (long long)json_integer_value(json_object_get(def, "revision")));
    json_t *l = json_pack("{s:s, s:s, s:s?, s:s?, s:s}",
                          "com.amazonaws.ecs.cluster", cluster,
                          "com.amazonaws.ecs.container-name", name,
                          "com.amazonaws.ecs.task-arn", jstr(task, "taskArn"),
                          "com.amazonaws.ecs.task-definition-family", jstr(def, "family"),
                          "com.amazonaws.ecs.task-definition-version", rev);
    json_t *docker = json_object_get(def_of(task, name), "dockerLabels");
    if (json_is_object(docker))
        json_object_update(l, docker);
    return l;
}

static json_t *container_doc(json_t *task, json_t *c, json_t *status)
{
    const char *name = jstr(c, "name");
    json_t *def = def_of(task, name);
    json_t *sc = json_object_get(json_object_get(status, "containers"), name);
    json_t *def_cpu = json_object_get(def, "cpu");
    json_t *def_mem = json_object_get(def, "memory");
    long long cpu = json_integer_value(def_cpu);
    char dname[256];
    json_t *tdef = json_object_get(task, "_def");
    snprintf(dname, sizeof(dname), "ecs-%s-%lld-%s-%.20s", jstr(tdef, "family") ? jstr(tdef, "family") : "task",
             (long long)json_integer_value(json_object_get(tdef, "revision")), name,
             jstr(c, "runtimeId") ? jstr(c, "runtimeId") : "");
    const char *known = jstr(c, "lastStatus");
    json_t *doc = json_pack(
        "{s:s?, s:s, s:s, s:s?, s:s, s:o, s:s, s:s?, s:{s:I, s:I}, s:s, s:o, s:s?}",
        "DockerId", jstr(c, "runtimeId"), "Name", name, "DockerName", dname,
        "Image", jstr(c, "image"), "ImageID", "",
        "Labels", labels(task, name),
        "DesiredStatus", jstr(task, "desiredStatus") ? jstr(task, "desiredStatus") : "RUNNING",
        "KnownStatus", known,
        "Limits", "CPU", (json_int_t)(cpu < 2 ? 2 : cpu), "Memory",
        (json_int_t)json_integer_value(def_mem),
        "Type", "NORMAL",
        "Networks", networks(task),
        "ContainerARN", jstr(c, "containerArn"));
    if (json_is_integer(json_object_get(c, "exitCode")))
        json_object_set(doc, "ExitCode", json_object_get(c, "exitCode"));
    set_time(doc, "CreatedAt", json_object_get(task, "createdAt"));
    set_time(doc, "StartedAt", json_object_get(sc, "started_at"));
    set_time(doc, "FinishedAt", json_object_get(sc, "finished_at"));
    json_t *lc = json_object_get(def, "logConfiguration");
    if (jstr(lc, "logDriver")) {
        json_object_set_new(doc, "LogDriver", json_string(jstr(lc, "logDriver")));
        if (json_object_get(lc, "options"))
            json_object_set(doc, "LogOptions", json_object_get(lc, "options"));
    }
    if (json_object_get(def, "healthCheck") && sc) {
        json_t *h = json_pack("{s:s}", "status", jstr(sc, "health") ? jstr(sc, "health") : "UNKNOWN");
        set_time(h, "statusSince", json_object_get(sc, "health_since"));
        if (json_is_integer(json_object_get(sc, "health_exit_code")))
            json_object_set(h, "exitCode", json_object_get(sc, "health_exit_code"));
        if (jstr(sc, "health_output"))
            json_object_set_new(h, "output", json_string(jstr(sc, "health_output")));
        json_object_set_new(doc, "Health", h);
    }
    json_t *ports = json_array();
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(c, "networkBindings"), i, b)
        json_array_append_new(ports, json_pack("{s:O, s:O, s:O, s:O}", "ContainerPort",
                                               json_object_get(b, "containerPort"), "Protocol",
                                               json_object_get(b, "protocol"), "HostPort",
                                               json_object_get(b, "hostPort"), "HostIp",
                                               json_object_get(b, "bindIP")));
    const char *mode = jstr(tdef, "networkMode");
    if (mode && strcmp(mode, "awsvpc") == 0) {
        json_array_foreach(json_object_get(def, "portMappings"), i, b)
            json_array_append_new(ports, json_pack("{s:O, s:s, s:O}", "ContainerPort",
                                                   json_object_get(b, "containerPort"), "Protocol",
                                                   jstr(b, "protocol") ? jstr(b, "protocol") : "tcp",
                                                   "HostPort", json_object_get(b, "containerPort")));
    }
    if (json_array_size(ports))
        json_object_set_new(doc, "Ports", ports);
    else
        json_decref(ports);
    return doc;
}

static json_t *task_doc(json_t *task, json_t *status, int with_tags)
{
    json_t *tdef = json_object_get(task, "_def");
    char cluster[256] = "", rev[32];
    const char *carn = jstr(task, "clusterArn");
    if (carn && strchr(carn, '/'))
        snprintf(cluster, sizeof(cluster), "%s", strchr(carn, '/') + 1);
    snprintf(rev, sizeof(rev), "%lld", (long long)json_integer_value(json_object_get(tdef, "revision")));
    json_t *doc = json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:s?, s:[], s:s?, s:s?, s:b}",
                            "Cluster", cluster, "TaskARN", jstr(task, "taskArn"),
                            "Family", jstr(tdef, "family"), "Revision", rev,
                            "DesiredStatus", jstr(task, "desiredStatus"),
                            "KnownStatus", jstr(task, "lastStatus"), "Containers",
                            "AvailabilityZone", jstr(task, "availabilityZone"),
                            "LaunchType", jstr(task, "launchType"),
                            "FaultInjectionEnabled", 0);
    json_t *net = json_object_get(json_object_get(task, "_rt"), "net");
    if (jstr(net, "vpc_id"))
        json_object_set_new(doc, "VPCID", json_string(jstr(net, "vpc_id")));
    const char *group = jstr(task, "group");
    if (group && strncmp(group, "service:", 8) == 0)
        json_object_set_new(doc, "ServiceName", json_string(group + 8));
    set_time(doc, "PullStartedAt", json_object_get(task, "pullStartedAt"));
    set_time(doc, "PullStoppedAt", json_object_get(task, "pullStoppedAt"));
    set_time(doc, "ExecutionStoppedAt", json_object_get(task, "executionStoppedAt"));
    const char *cpu = jstr(task, "cpu"), *mem = jstr(task, "memory");
    if (cpu || mem) {
        json_t *limits = json_object();
        if (cpu)
            json_object_set_new(limits, "CPU", json_real(atof(cpu) / 1024.0));
        if (mem)
            json_object_set_new(limits, "Memory", json_integer(atoll(mem)));
        json_object_set_new(doc, "Limits", limits);
    }
    json_t *containers = json_object_get(doc, "Containers");
    const char *mode = jstr(tdef, "networkMode");
    if (mode && strcmp(mode, "awsvpc") == 0) {
        /* The agent lists its pause container first. */
        json_t *pause = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:{s:i, s:i}, s:s, s:o}",
                                  "DockerId", "pause", "Name", "~internal~ecs~pause",
                                  "DockerName", "ecs-internalecspause", "Image",
                                  "amazon/amazon-ecs-pause:0.1.0", "Labels", labels(task, "~internal~ecs~pause"),
                                  "DesiredStatus", "RESOURCES_PROVISIONED", "KnownStatus",
                                  "RESOURCES_PROVISIONED", "Limits", "CPU", 0, "Memory", 0,
                                  "Type", "CNI_PAUSE", "Networks", networks(task));
        set_time(pause, "CreatedAt", json_object_get(task, "createdAt"));
        json_array_append_new(containers, pause);
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(task, "containers"), i, c)
        json_array_append_new(containers, container_doc(task, c, status));
    if (with_tags) {
        json_t *tags = json_object();
        json_array_foreach(json_object_get(task, "tags"), i, c)
            if (jstr(c, "key"))
                json_object_set_new(tags, jstr(c, "key"), json_string(jstr(c, "value") ? jstr(c, "value") : ""));
        json_object_set_new(doc, "TaskTags", tags);
        json_object_set_new(doc, "ContainerInstanceTags", json_object());
    }
    return doc;
}

/* Docker-shaped stats of one process tree, from /proc. */
static json_t *stats_doc(json_t *c, json_t *sc)
{
    long long pid = json_integer_value(json_object_get(sc, "pid"));
    unsigned long long utime = 0, stime = 0, rss_pages = 0;
    char path[64], buf[2048];
    if (pid > 0 && jstr(sc, "state") && strcmp(jstr(sc, "state"), "RUNNING") == 0) {
        snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
        FILE *f = fopen(path, "r");
        if (f && fgets(buf, sizeof(buf), f)) {
            char *p = strrchr(buf, ')');
            if (p)
                sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                       "%*d %*d %*d %*d %*d %*d %*u %*u %llu", &utime, &stime, &rss_pages);
        }
        if (f)
            fclose(f);
    }
    long tick = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long total_ns = (utime + stime) * (1000000000ULL / (unsigned long long)(tick > 0 ? tick : 100));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *now = json_real((double)ts.tv_sec + ts.tv_nsec / 1e9);
    json_t *read = rfc3339(now);
    json_decref(now);
    return json_pack(
        "{s:o, s:s, s:s?, s:{s:I}, s:{s:{s:I, s:I, s:I}, s:I}, s:{s:I}, s:{}, s:{s:I, s:I}}",
        "read", read, "name", "/", "id", jstr(c, "runtimeId"),
        "pids_stats", "current", (json_int_t)(pid > 0 ? 1 : 0),
        "cpu_stats", "cpu_usage", "total_usage", (json_int_t)total_ns,
        "usage_in_usermode", (json_int_t)(utime * 10000000ULL), "usage_in_kernelmode",
        (json_int_t)(stime * 10000000ULL), "online_cpus", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN),
        "memory_stats", "usage", (json_int_t)(rss_pages * (unsigned long long)page),
        "networks",
        "network_rate_stats", "rx_bytes_per_sec", (json_int_t)0, "tx_bytes_per_sec", (json_int_t)0);
}

static void reply(struct http_reply *r, int status, json_t *doc)
{
    r->status = status;
    r->content_type = "application/json";
    r->body = json_dumps(doc, JSON_COMPACT);
    r->body_len = r->body ? strlen(r->body) : 0;
    json_decref(doc);
}

static void not_found(struct http_reply *r, const char *what)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "V4 container metadata handler: %s", what);
    reply(r, 404, json_string(msg));
}

/* The endpoint record and its task (new references), or -1. */
static int lookup(const char *id, json_t **endpoint, json_t **task)
{
    db_lock(server.db);
    *endpoint = store_get(server.db, &endpoint_scope, "ecs-endpoint", id);
    *task = NULL;
    if (*endpoint) {
        struct scope s = { jstr(*endpoint, "account"), jstr(*endpoint, "region") };
        if (s.account && s.region && jstr(*endpoint, "task"))
            *task = store_get(server.db, &s, "ecs-task", jstr(*endpoint, "task"));
    }
    db_unlock(server.db);
    if (!*task) {
        json_decref(*endpoint);
        *endpoint = NULL;
        return -1;
    }
    return 0;
}

static json_t *find_container(json_t *task, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(task, "containers"), i, c)
        if (jstr(c, "name") && strcmp(jstr(c, "name"), name) == 0)
            return c;
    return NULL;
}

static void credentials(const char *id, struct http_reply *r)
{
    json_t *endpoint, *task;
    if (lookup(id, &endpoint, &task) < 0) {
        reply(r, 400, json_pack("{s:s, s:s}", "code", "InvalidIdInRequest", "message",
                                "CredentialsV2Request: Credentials not found"));
        return;
    }
    const char *account = jstr(endpoint, "account");
    const char *role = jstr(json_object_get(task, "_def"), "taskRoleArn");
    char default_role[128], expires[40];
    snprintf(default_role, sizeof(default_role), "arn:aws:iam::%s:role/ecslocal-task", account);
    time_t exp = time(NULL) + 6 * 3600;
    struct tm tm;
    gmtime_r(&exp, &tm);
    strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* The access key id is the account: requests signed with it land in
     * the task's own account (DESIGN.md, "Requests"). */
    reply(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:s}", "RoleArn", role ? role : default_role,
                            "AccessKeyId", account, "SecretAccessKey", "ecslocal",
                            "Token", id, "Expiration", expires));
    json_decref(endpoint);
    json_decref(task);
}

int tmds_handle(const char *method, const char *path, struct http_reply *r)
{
    char id[64], rest[128] = "";
    int v3 = 0;
    if (strncmp(path, "/v2/credentials/", 16) == 0) {
        snprintf(id, sizeof(id), "%s", path + 16);
        credentials(id, r);
        return 1;
    }
    if (strncmp(path, "/v4/", 4) == 0)
        v3 = 0;
    else if (strncmp(path, "/v3/", 4) == 0)
        v3 = 1;
    else
        return 0;
    (void)v3;
    (void)method;
    const char *p = path + 4;
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= sizeof(id)) {
        not_found(r, "invalid request");
        return 1;
    }
    memcpy(id, p, n);
    id[n] = '\0';
    if (slash)
        snprintf(rest, sizeof(rest), "%s", slash);
    json_t *endpoint, *task;
    if (lookup(id, &endpoint, &task) < 0) {
        not_found(r, "unable to get task arn from request: unknown endpoint id");
        return 1;
    }
    json_t *status = runtime_status(jstr(endpoint, "task"));
    const char *cname = jstr(endpoint, "container");
    json_t *c = find_container(task, cname ? cname : "");
    if (strcmp(rest, "") == 0 || strcmp(rest, "/") == 0) {
        reply(r, 200, c ? container_doc(task, c, status) : json_object());
    } else if (strcmp(rest, "/task") == 0) {
        reply(r, 200, task_doc(task, status, 0));
    } else if (strcmp(rest, "/taskWithTags") == 0) {
        reply(r, 200, task_doc(task, status, 1));
    } else if (strcmp(rest, "/stats") == 0) {
        reply(r, 200, stats_doc(c, json_object_get(json_object_get(status, "containers"), cname)));
    } else if (strcmp(rest, "/task/stats") == 0) {
        json_t *all = json_object();
        size_t i;
        json_t *each;
        json_array_foreach(json_object_get(task, "containers"), i, each) {
            const char *rid = jstr(each, "runtimeId");
            json_t *sc = json_object_get(json_object_get(status, "containers"), jstr(each, "name"));
            if (rid)
                json_object_set_new(all, rid, stats_doc(each, sc));
        }
        reply(r, 200, all);
    } else {
        not_found(r, "unknown path");
    }
    json_decref(status);
    json_decref(endpoint);
    json_decref(task);
    return 1;
}
