/*
 * One task's way through its lifecycle (see tasks.h for the table).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../api/jget.h"
#include "../api/buf.h"
#include "../api/ecs_tasks.h"
#include "../storage/db.h"
#include "../storage/events.h"
#include "../storage/store.h"
#include "instnet.h"
#include "listeners.h"
#include "log.h"
#include "netlink.h"
#include "netns.h"
#include "runtime.h"
#include "server.h"
#include "taskspec.h"
#include "tasks.h"
#include "vpcnet.h"

#define METADATA_IP 0xa9feaa02u     /* 169.254.170.2 */
/* How often a running task whose supervisor is silent is looked at: a
 * supervisor killed outright writes no status, and is noticed then. */
#define LIVENESS_EVERY 1.0

enum action_kind {
    ACT_NONE = 0,
    ACT_PROVISION,
    ACT_START,
    ACT_STOP,
    ACT_CLEANUP
};

struct action {
    enum action_kind kind;
    json_t *doc;            /* a copy of the task as decided on */
    int ok;
    char error[512];
    pid_t pid;
    char netns[64];         /* the task's own namespace */
    char shared_netns[64];  /* host mode: the instance's */
    json_t *container_netns; /* bridge mode: container -> namespace */
    json_t *bridge_ips;     /* bridge mode: container -> address */
    json_t *log_offsets;    /* updated offsets after a flush */
};

static int jstreq(json_t *o, const char *k, const char *v)
{
    const char *s = jstr(o, k);
    return s && strcmp(s, v) == 0;
}

static json_t *rt_of(json_t *doc)
{
    json_t *rt = json_object_get(doc, "_rt");
    if (!json_is_object(rt)) {
        rt = json_object();
        json_object_set_new(doc, "_rt", rt);
    }
    return rt;
}

static void set_status(json_t *doc, const char *status)
{
    json_object_set_new(doc, "lastStatus", json_string(status));
}

static void set_time(json_t *doc, const char *key, double now)
{
    json_object_set_new(doc, key, json_real(now));
}

static void set_phase(json_t *doc, const char *phase)
{
    json_object_set_new(rt_of(doc), "phase", json_string(phase));
}

static void netns_name_for(const char *task_id, char *out, size_t len)
{
    snprintf(out, len, "ecsl-t-%.12s", task_id);
}

/* ---- observed state -> document ---- */

static int container_has_health(json_t *doc, const char *name)
{
    size_t i;
    json_t *def;
    json_array_foreach(json_object_get(json_object_get(doc, "_def"), "containerDefinitions"), i, def)
        if (jstreq(def, "name", name))
            return json_object_get(def, "healthCheck") != NULL;
    return 0;
}

static int container_essential(json_t *doc, const char *name)
{
    size_t i;
    json_t *def;
    json_array_foreach(json_object_get(json_object_get(doc, "_def"), "containerDefinitions"), i, def)
        if (jstreq(def, "name", name)) {
            json_t *e = json_object_get(def, "essential");
            return e ? json_is_true(e) : 1;
        }
    return 1;
}

/* Copy what the supervisor reports into the task's containers; returns
 * whether anything changed. */
static int apply_status(json_t *doc, json_t *status)
{
    int changed = 0;
    int healthy = 0, unhealthy = 0, checked = 0;
    json_t *reported = json_object_get(status, "containers");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "containers"), i, c) {
        const char *name = jstr(c, "name");
        json_t *sc = json_object_get(reported, name ? name : "");
        if (!sc)
            continue;
        const char *state = jstr(sc, "state");
        if (state && !jstreq(c, "lastStatus", state)) {
            json_object_set_new(c, "lastStatus", json_string(state));
            changed = 1;
        }
        json_t *code = json_object_get(sc, "exit_code");
        if (json_is_integer(code) && !json_equal(code, json_object_get(c, "exitCode"))) {
            json_object_set(c, "exitCode", code);
            changed = 1;
        }
        const char *reason = jstr(sc, "reason");
        if (reason && !jstreq(c, "reason", reason)) {
            json_object_set_new(c, "reason", json_string(reason));
            changed = 1;
        }
        if (container_has_health(doc, name)) {
            const char *h = jstr(sc, "health");
            if (h && !jstreq(c, "healthStatus", h)) {
                json_object_set_new(c, "healthStatus", json_string(h));
                changed = 1;
            }
            if (container_essential(doc, name)) {
                checked++;
                healthy += h && strcmp(h, "HEALTHY") == 0;
                unhealthy += h && strcmp(h, "UNHEALTHY") == 0;
            }
        }
    }
    /* ECS: the task is UNHEALTHY if an essential container is, HEALTHY when
     * all essential containers with checks are, UNKNOWN otherwise. */
    const char *task_health = unhealthy ? "UNHEALTHY"
                              : (checked && healthy == checked) ? "HEALTHY" : "UNKNOWN";
    if (!jstreq(doc, "healthStatus", task_health)) {
        json_object_set_new(doc, "healthStatus", json_string(task_health));
        changed = 1;
    }
    return changed;
}

static int containers_started(json_t *doc)
{
    int running = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "containers"), i, c) {
        if (jstreq(c, "lastStatus", "PENDING"))
            return 0;
        running += jstreq(c, "lastStatus", "RUNNING");
    }
    return running > 0;
}

/* Containers that never reported (supervisor gone) end STOPPED too. */
static void containers_stop_all(json_t *doc, const char *reason)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "containers"), i, c) {
        if (jstreq(c, "lastStatus", "STOPPED"))
            continue;
        json_object_set_new(c, "lastStatus", json_string("STOPPED"));
        if (reason && !json_object_get(c, "exitCode") && !json_object_get(c, "reason"))
            json_object_set_new(c, "reason", json_string(reason));
    }
}

static void request_stop(json_t *doc, const char *code, const char *reason, double now)
{
    json_object_set_new(doc, "desiredStatus", json_string("STOPPED"));
    if (!json_object_get(doc, "stopCode") && code)
        json_object_set_new(doc, "stopCode", json_string(code));
    if (!json_object_get(doc, "stoppedReason") && reason)
        json_object_set_new(doc, "stoppedReason", json_string(reason));
    if (!json_object_get(doc, "stoppingAt"))
        set_time(doc, "stoppingAt", now);
}

/* A changed task document goes back with its version one higher (the
 * version is what DescribeTasks reports and clients compare). */
static void save_task(struct task_ref *t, json_t *doc)
{
    struct scope s = { t->account, t->region };
    json_t *v = json_object_get(doc, "version");
    json_object_set_new(doc, "version", json_integer(json_integer_value(v) + 1));
    if (store_update(server.db, &s, "ecs-task", t->id, doc) < 0)
        log_error("task %s: cannot save: %s", t->id, db_errmsg(server.db));
}

/* ---- decide: one transaction ---- */

static int decide(struct task_ref *t, double now, struct action *a)
{
    struct scope s = { t->account, t->region };
    int finished = 0, changed = 0;
    db_lock(server.db);
    if (db_begin(server.db) < 0) {
        db_unlock(server.db);
        return 0;
    }
    json_t *doc;
    int found = store_read(server.db, &s, "ecs-task", t->id, &doc);
    if (found != STORE_OK) {
        /* Gone: the task is done with.  Unreadable: it still runs, and
         * the next look may read it. */
        if (found == STORE_ERROR)
            log_error("task %s: reading it: %s", t->id, db_errmsg(server.db));
        db_rollback(server.db);
        db_unlock(server.db);
        return found == STORE_NOT_FOUND;
    }
    json_t *rt = rt_of(doc);
    const char *phase = jstr(rt, "phase") ? jstr(rt, "phase") : "new";
    int want_stop = jstreq(doc, "desiredStatus", "STOPPED");
    if (!t->shim && json_is_integer(json_object_get(rt, "shim_pid")))
        t->shim = (pid_t)json_integer_value(json_object_get(rt, "shim_pid"));

    if (strcmp(phase, "new") == 0) {
        if (want_stop) {
            set_phase(doc, "exited");
            changed = 1;
        } else {
            a->kind = ACT_PROVISION;
        }
    } else if (strcmp(phase, "ready") == 0) {
        if (want_stop) {
            set_phase(doc, "exited");
            changed = 1;
        } else {
            a->kind = ACT_START;
        }
    } else if (strcmp(phase, "running") == 0 || strcmp(phase, "stopping") == 0) {
        /* Liveness first: a supervisor that wrote its last status and
         * exited in between must be read as done, not as vanished. */
        int alive = runtime_alive(t->shim, t->id);
        json_t *status = runtime_status(t->id);
        if (status)
            changed |= apply_status(doc, status);
        int done = status && json_is_true(json_object_get(status, "done"));
        const char *shim_code = jstr(status, "stop_code");
        if (shim_code && !want_stop) {
            /* The supervisor stopped the task itself (an essential
             * container exited or could not start). */
            request_stop(doc, shim_code, jstr(status, "stop_reason"), now);
            want_stop = 1;
            changed = 1;
        }
        if (done || !alive) {
            if (!done) {
                log_warn("task %s: supervisor %d is gone; marking the task stopped",
                         t->id, (int)t->shim);
                containers_stop_all(doc, "ecslocal: the task's processes were not "
                                         "running any more when ecslocal checked");
                request_stop(doc, "EssentialContainerExited",
                             "Task stopped: its processes were no longer running "
                             "(ecslocal or the machine restarted)", now);
            } else {
                containers_stop_all(doc, NULL);
                if (!want_stop)
                    request_stop(doc, "EssentialContainerExited",
                                 "Essential container in task exited", now);
            }
            set_phase(doc, "exited");
            changed = 1;
        } else if (strcmp(phase, "running") == 0 && want_stop) {
            set_status(doc, "DEACTIVATING");
            if (!json_object_get(doc, "stoppingAt"))
                set_time(doc, "stoppingAt", now);
            set_phase(doc, "stopping");
            if (!shim_code)
                a->kind = ACT_STOP;
            changed = 1;
        } else if (strcmp(phase, "stopping") == 0) {
            if (jstreq(doc, "lastStatus", "DEACTIVATING")) {
                set_status(doc, "STOPPING");
                changed = 1;
            }
        } else if (jstreq(doc, "lastStatus", "PENDING") && containers_started(doc)) {
            set_status(doc, "ACTIVATING");
            changed = 1;
        } else if (jstreq(doc, "lastStatus", "ACTIVATING")) {
            set_status(doc, "RUNNING");
            set_time(doc, "startedAt", now);
            changed = 1;
        }
        json_decref(status);
    } else if (strcmp(phase, "exited") == 0) {
        if (!jstreq(doc, "lastStatus", "DEPROVISIONING")) {
            set_status(doc, "DEPROVISIONING");
            changed = 1;
        }
        a->kind = ACT_CLEANUP;
    } else {
        finished = 1;
    }
    if (changed)
        save_task(t, doc);
    if (db_commit(server.db) < 0)
        log_error("task %s: commit failed: %s", t->id, db_errmsg(server.db));
    db_unlock(server.db);
    if (finished)
        json_decref(doc);
    else
        a->doc = doc;       /* the caller's now */
    /* A change made another step possible (PENDING -> ACTIVATING ->
     * RUNNING): come back at once. */
    t->step = changed;
    return finished;
}

/* ---- perform: the kernel work, outside the database lock ---- */

static int add_metadata_address(void *arg)
{
    (void)arg;
    struct nl nl;
    if (nl_open(&nl, -1) < 0)
        return -1;
    int rc = nl_addr_add(&nl, 1, METADATA_IP, 32);
    nl_close(&nl);
    return rc;
}

/* An awsvpc task's ENI, plugged into its namespace as eth0. */
static int plug_eni(struct task_ref *t, struct action *a, int fd)
{
    const char *eni_id = jstr(json_object_get(a->doc, "_rt"), "eni");
    if (!eni_id)
        return 0;
    struct scope s = { t->account, t->region };
    db_lock(server.db);
    json_t *eni = store_get(server.db, &s, "network-interface", eni_id);
    db_unlock(server.db);
    if (!eni) {
        snprintf(a->error, sizeof(a->error), "the task's network interface %s is gone", eni_id);
        return -1;
    }
    int rc = vpcnet_plug(&s, eni, fd, "eth0", 1, a->error, sizeof(a->error));
    json_decref(eni);
    return rc;
}

static void provision(struct task_ref *t, struct action *a)
{
    json_t *def = json_object_get(a->doc, "_def");
    const char *mode = jstr(def, "networkMode");
    const char *ci = jstr(a->doc, "containerInstanceArn");
    struct scope s = { t->account, t->region };
    a->ok = 1;
    if (!server.networking)
        return;
    if (mode && (strcmp(mode, "host") == 0 || strcmp(mode, "bridge") == 0) && ci) {
        /* Host: the instance's own namespace; bridge: a namespace per
         * container on the instance's bridge. */
        if (instnet_instance(&s, ci, a->shared_netns, sizeof(a->shared_netns), a->error,
                             sizeof(a->error)) < 0) {
            a->ok = 0;
            return;
        }
        if (strcmp(mode, "bridge") == 0) {
            a->container_netns = json_object();
            a->bridge_ips = json_object();
            if (instnet_bridge_task(&s, t->id, a->doc, a->shared_netns, a->container_netns,
                                    a->bridge_ips, a->error, sizeof(a->error)) < 0)
                a->ok = 0;
            a->shared_netns[0] = '\0';
        }
        return;
    }
    if (mode && strcmp(mode, "host") == 0)
        return;
    netns_name_for(t->id, a->netns, sizeof(a->netns));
    if (netns_create(a->netns, a->error, sizeof(a->error)) < 0) {
        a->ok = 0;
        return;
    }
    vpcnet_own(a->netns);
    int fd = netns_open(a->netns);
    if (fd < 0 || netns_run(fd, add_metadata_address, NULL) < 0 ||
        listeners_add(t->id, fd, METADATA_IP, 80, a->error, sizeof(a->error)) < 0 ||
        plug_eni(t, a, fd) < 0) {
        if (!a->error[0])
            snprintf(a->error, sizeof(a->error), "setting up the metadata endpoint failed");
        a->ok = 0;
    }
    if (fd >= 0)
        close(fd);
}

static void start(struct task_ref *t, struct action *a)
{
    json_t *rt = json_object_get(a->doc, "_rt");
    const char *netns = jstr(rt, "netns") ? jstr(rt, "netns") : jstr(rt, "instance_netns");
    json_t *cns = json_object_get(rt, "container_netns");
    char path[256], endpoint[160];
    struct task_net net = { 0 };
    json_t *paths = json_object();
    char *extra = NULL;
    if (netns) {
        netns_path(netns, path, sizeof(path));
        net.netns = path;
        net.endpoint = "http://169.254.170.2";
        net.endpoint_in_netns = 1;
    } else if (json_object_size(cns)) {
        /* Bridge mode: each container joins its own namespace, and the
         * task's /etc/hosts names them all (and their links' aliases). */
        const char *name;
        json_t *ns;
        struct buf hosts;
        buf_init(&hosts, 1 << 16);
        json_object_foreach(cns, name, ns) {
            char p[256];
            netns_path(json_string_value(ns), p, sizeof(p));
            json_object_set_new(paths, name, json_string(p));
        }
        json_t *ips = json_object_get(rt, "bridge_ips");
        json_object_foreach(ips, name, ns) {
            buf_printf(&hosts, "%s %s", json_string_value(ns), name);
            size_t i, k;
            json_t *def, *link;
            json_array_foreach(json_object_get(json_object_get(a->doc, "_def"), "containerDefinitions"), i, def)
                json_array_foreach(json_object_get(def, "links"), k, link) {
                    const char *l = json_string_value(link);
                    const char *colon = l ? strchr(l, ':') : NULL;
                    if (l && colon && strncmp(l, name, (size_t)(colon - l)) == 0 &&
                        strlen(name) == (size_t)(colon - l))
                        buf_printf(&hosts, " %s", colon + 1);
                }
            buf_addc(&hosts, '\n');
        }
        extra = buf_take(&hosts, NULL);
        net.container_netns = paths;
        net.extra_hosts = extra;
        net.endpoint = "http://169.254.170.2";
        net.endpoint_in_netns = 1;
    } else {
        snprintf(endpoint, sizeof(endpoint), "http://%s", server.cfg.listen);
        net.endpoint = endpoint;
    }
    net.isolate = server.networking;
    net.hostname = jstr(rt, "hostname") ? jstr(rt, "hostname") : t->id;
    net.ip = jstr(rt, "ip");
    net.resolver = jstr(rt, "resolver");
    net.search = jstr(rt, "search");
    json_t *spec = taskspec_build(a->doc, t->region, &net);
    json_decref(paths);
    free(extra);
    if (!spec) {
        snprintf(a->error, sizeof(a->error), "cannot build the task's spec");
        return;
    }
    a->ok = runtime_spawn(t->id, spec, &a->pid, a->error, sizeof(a->error)) == 0;
    json_decref(spec);
}

struct flush_ctx {
    long long *ts;
    char **msgs;
    size_t n, cap;
};

static int collect_line(long long ts_ms, int stream, const char *text, size_t len,
                        void *arg)
{
    (void)stream;
    struct flush_ctx *f = arg;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        long long *ts = realloc(f->ts, cap * sizeof(*ts));
        char **msgs = ts ? realloc(f->msgs, cap * sizeof(*msgs)) : NULL;
        if (!ts || !msgs) {
            if (ts)
                f->ts = ts;
            return -1;
        }
        f->ts = ts;
        f->msgs = msgs;
        f->cap = cap;
    }
    f->ts[f->n] = ts_ms;
    f->msgs[f->n] = strndup(text, len);
    if (!f->msgs[f->n])
        return -1;
    f->n++;
    return 0;
}

/* Send new output of every awslogs container to CloudWatch Logs. */
static int has_awslogs(json_t *doc)
{
    size_t i;
    json_t *def;
    json_array_foreach(json_object_get(json_object_get(doc, "_def"), "containerDefinitions"), i, def)
        if (jstreq(json_object_get(def, "logConfiguration"), "logDriver", "awslogs"))
            return 1;
    return 0;
}

static json_t *flush_logs(struct task_ref *t, json_t *doc)
{
    json_t *offsets = json_deep_copy(json_object_get(json_object_get(doc, "_rt"), "log_offsets"));
    if (!json_is_object(offsets)) {
        json_decref(offsets);
        offsets = json_object();
    }
    struct scope s = { t->account, t->region };
    const char *arn = jstr(doc, "taskArn");
    const char *task_id = arn && strrchr(arn, '/') ? strrchr(arn, '/') + 1 : t->id;
    size_t i;
    json_t *def;
    json_array_foreach(json_object_get(json_object_get(doc, "_def"), "containerDefinitions"), i, def) {
        json_t *lc = json_object_get(def, "logConfiguration");
        if (!jstreq(lc, "logDriver", "awslogs"))
            continue;
        json_t *opts = json_object_get(lc, "options");
        const char *group = jstr(opts, "awslogs-group");
        const char *prefix = jstr(opts, "awslogs-stream-prefix");
        const char *name = jstr(def, "name");
        if (!group || !name)
            continue;
        char stream[512];
        if (prefix)
            snprintf(stream, sizeof(stream), "%s/%s/%s", prefix, name, task_id);
        else
            snprintf(stream, sizeof(stream), "%s/%s", name, task_id);
        long long off = json_integer_value(json_object_get(offsets, name));
        struct flush_ctx f = { 0 };
        long long new_off = off;
        int n = runtime_read_log(t->id, name, &new_off, collect_line, &f);
        if (n > 0) {
            int create = jstreq(opts, "awslogs-create-group", "true");
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            if (events_append(server.db, &s, group, stream, create, f.ts,
                              (const char *const *)f.msgs, f.n,
                              (double)ts.tv_sec + ts.tv_nsec / 1e9) == 0)
                json_object_set_new(offsets, name, json_integer(new_off));
            else
                log_warn("task %s: cannot write logs of %s to log group %s", t->id,
                         name, group);
        }
        for (size_t k = 0; k < f.n; k++)
            free(f.msgs[k]);
        free(f.msgs);
        free(f.ts);
    }
    return offsets;
}

static void cleanup(struct task_ref *t, struct action *a)
{
    a->log_offsets = flush_logs(t, a->doc);
    if (runtime_alive(t->shim, t->id))
        runtime_kill(t->id, t->shim);
    listeners_remove(t->id);
    json_t *rt = json_object_get(a->doc, "_rt");
    const char *netns = jstr(rt, "netns");
    const char *eni = jstr(rt, "eni");
    const char *vpc = jstr(json_object_get(rt, "net"), "vpc_id");
    if (eni && vpc) {
        struct scope s = { t->account, t->region };
        vpcnet_unplug(&s, vpc, eni);
    }
    if (netns) {
        netns_delete(netns);
        vpcnet_disown(netns);
    }
    instnet_bridge_task_remove(t->id, json_object_get(rt, "container_netns"));
    a->ok = 1;
}

/* ---- record: the results, one transaction ---- */

static void record(struct task_ref *t, struct action *a, double now)
{
    struct scope s = { t->account, t->region };
    db_lock(server.db);
    if (db_begin(server.db) < 0) {
        db_unlock(server.db);
        return;
    }
    json_t *doc = store_get(server.db, &s, "ecs-task", t->id);
    if (!doc) {
        db_rollback(server.db);
        db_unlock(server.db);
        return;
    }
    json_t *rt = rt_of(doc);
    switch (a->kind) {
    case ACT_PROVISION:
        if (a->container_netns)
            json_object_set(rt, "container_netns", a->container_netns);
        if (a->bridge_ips)
            json_object_set(rt, "bridge_ips", a->bridge_ips);
        /* Even when provisioning failed half-way: cleanup removes it. */
        if (a->netns[0])
            json_object_set_new(rt, "netns", json_string(a->netns));
        if (a->ok) {
            if (a->shared_netns[0])
                json_object_set_new(rt, "instance_netns", json_string(a->shared_netns));
            set_phase(doc, "ready");
            set_status(doc, "PENDING");
        } else {
            log_warn("task %s: provisioning failed: %s", t->id, a->error);
            char reason[600];
            snprintf(reason, sizeof(reason), "ResourceInitializationError: %s", a->error);
            request_stop(doc, "TaskFailedToStart", reason, now);
            set_phase(doc, "exited");
        }
        break;
    case ACT_START:
        if (a->ok) {
            t->shim = a->pid;
            json_object_set_new(rt, "shim_pid", json_integer(a->pid));
            set_time(doc, "pullStartedAt", now);
            set_time(doc, "pullStoppedAt", now);
            set_phase(doc, "running");
        } else {
            log_warn("task %s: cannot start: %s", t->id, a->error);
            char reason[600];
            snprintf(reason, sizeof(reason), "CannotStartContainerError: %s", a->error);
            containers_stop_all(doc, reason);
            request_stop(doc, "TaskFailedToStart", reason, now);
            set_phase(doc, "exited");
        }
        break;
    case ACT_CLEANUP:
        if (a->log_offsets)
            json_object_set(rt, "log_offsets", a->log_offsets);
        containers_stop_all(doc, NULL);
        ecs_task_release(server.db, &s, doc, now);
        set_status(doc, "STOPPED");
        set_time(doc, "stoppedAt", now);
        set_time(doc, "executionStoppedAt", now);
        set_phase(doc, "gone");
        break;
    default:
        break;
    }
    save_task(t, doc);
    if (db_commit(server.db) < 0)
        log_error("task %s: commit failed: %s", t->id, db_errmsg(server.db));
    db_unlock(server.db);
    json_decref(doc);
}

/* Bridge mode: the instance's published ports follow its tasks. */
static void publish_ports(struct task_ref *t, struct action *a)
{
    const char *mode = jstr(json_object_get(a->doc, "_def"), "networkMode");
    const char *ci = jstr(a->doc, "containerInstanceArn");
    if (!server.networking || !ci || !mode || strcmp(mode, "bridge") != 0 ||
        (a->kind != ACT_PROVISION && a->kind != ACT_CLEANUP))
        return;
    struct scope s = { t->account, t->region };
    char err[300];
    if (instnet_publish(&s, ci, err, sizeof(err)) < 0)
        log_warn("task %s: %s", t->id, err);
}

static void save_offsets(struct task_ref *t, json_t *offsets)
{
    struct scope s = { t->account, t->region };
    db_lock(server.db);
    if (db_begin(server.db) == 0) {
        json_t *doc = store_get(server.db, &s, "ecs-task", t->id);
        if (doc) {
            json_object_set(rt_of(doc), "log_offsets", offsets);
            store_update(server.db, &s, "ecs-task", t->id, doc);
            json_decref(doc);
        }
        db_commit(server.db);
    }
    db_unlock(server.db);
}

int task_step(struct task_ref *t, double now)
{
    for (int round = 0; round < 16; round++) {
        struct action a = { 0 };
        int finished = decide(t, now, &a);
        if (finished) {
            json_decref(a.doc);
            return 1;
        }
        if (a.kind == ACT_NONE) {
            int steady = a.doc && jstreq(json_object_get(a.doc, "_rt"), "phase", "running");
            int awslogs = steady && has_awslogs(a.doc);
            if (awslogs && now >= t->next_flush) {
                json_t *before = json_object_get(json_object_get(a.doc, "_rt"), "log_offsets");
                json_t *offsets = flush_logs(t, a.doc);
                if (before ? !json_equal(offsets, before) : json_object_size(offsets) > 0)
                    save_offsets(t, offsets);
                json_decref(offsets);
                t->next_flush = now + 0.25;
            }
            /* A running task's supervisor reports every change through
             * its status file (an inotify event steps the task at once);
             * without one, only its logs to ship and a look that it is
             * still alive are due.  Other phases move on the tick. */
            t->steady = steady;
            t->ships_logs = awslogs;
            t->next_look = !steady ? 0 : now + (awslogs ? 0.25 : LIVENESS_EVERY);
            json_decref(a.doc);
            if (!t->step)
                return 0;
            continue;
        }
        switch (a.kind) {
        case ACT_PROVISION: provision(t, &a); break;
        case ACT_START: start(t, &a); break;
        case ACT_STOP: runtime_request_stop(t->id, t->shim); a.ok = 1; break;
        case ACT_CLEANUP: cleanup(t, &a); break;
        default: break;
        }
        if (a.kind != ACT_STOP)
            record(t, &a, now);
        publish_ports(t, &a);
        json_decref(a.doc);
        json_decref(a.log_offsets);
        json_decref(a.container_netns);
        json_decref(a.bridge_ips);
    }
    return 0;
}

int task_due(struct task_ref *t, double now)
{
    if (now < t->next_look)
        return 0;
    if (t->steady && !t->ships_logs && runtime_alive(t->shim, t->id)) {
        t->next_look = now + LIVENESS_EVERY;
        return 0;
    }
    return 1;
}

void task_adopt(struct task_ref *t)
{
    struct scope s = { t->account, t->region };
    db_lock(server.db);
    json_t *doc = store_get(server.db, &s, "ecs-task", t->id);
    db_unlock(server.db);
    if (!doc)
        return;
    json_t *rt = json_object_get(doc, "_rt");
    const char *netns = jstr(rt, "netns");
    t->shim = (pid_t)json_integer_value(json_object_get(rt, "shim_pid"));
    if (!jstreq(rt, "phase", "gone")) {
        /* The daemon's listeners died with it: reopen the metadata
         * endpoint in the task's namespace, each of its bridge-mode
         * containers', or (host mode) its instance's. */
        json_t *names = json_object();
        if (netns)
            json_object_set_new(names, "", json_string(netns));
        const char *cname;
        json_t *ns;
        json_object_foreach(json_object_get(rt, "container_netns"), cname, ns)
            json_object_set(names, cname, ns);
        json_object_foreach(names, cname, ns) {
            char err[256];
            const char *name = json_string_value(ns);
            int fd = name && netns_exists(name) ? netns_open(name) : -1;
            if (fd >= 0 && listeners_add(t->id, fd, METADATA_IP, 80, err, sizeof(err)) < 0)
                log_warn("task %s: cannot reopen its metadata endpoint: %s", t->id, err);
            if (fd >= 0)
                close(fd);
        }
        json_decref(names);
        const char *ci = jstr(doc, "containerInstanceArn");
        if (jstr(rt, "instance_netns") && ci) {
            char name[64], err[256];
            if (instnet_instance(&s, ci, name, sizeof(name), err, sizeof(err)) < 0)
                log_warn("task %s: cannot reopen its instance's metadata endpoint: %s", t->id, err);
        }
    }
    if (jstreq(rt, "phase", "ready")) {
        /* A daemon killed between starting the supervisor and recording
         * it: the supervisor may well be running; take it over rather than
         * start the task a second time. */
        pid_t pid = runtime_find_shim(t->id);
        if (pid > 0) {
            t->shim = pid;
            db_lock(server.db);
            if (db_begin(server.db) == 0) {
                json_t *fresh = store_get(server.db, &s, "ecs-task", t->id);
                if (fresh) {
                    json_t *frt = rt_of(fresh);
                    json_object_set_new(frt, "shim_pid", json_integer(pid));
                    json_object_set_new(frt, "phase", json_string("running"));
                    store_update(server.db, &s, "ecs-task", t->id, fresh);
                    json_decref(fresh);
                }
                db_commit(server.db);
            }
            db_unlock(server.db);
        }
    }
    if (t->shim && runtime_alive(t->shim, t->id))
        log_info("task %s: adopted (supervisor %d still running)", t->id, (int)t->shim);
    json_decref(doc);
    t->step = 1;
}

void task_destroy(struct task_ref *t)
{
    if (!t->shim) {
        struct scope s = { t->account, t->region };
        db_lock(server.db);
        json_t *doc = store_get(server.db, &s, "ecs-task", t->id);
        db_unlock(server.db);
        t->shim = (pid_t)json_integer_value(json_object_get(json_object_get(doc, "_rt"), "shim_pid"));
        json_decref(doc);
    }
    if (runtime_alive(t->shim, t->id))
        runtime_kill(t->id, t->shim);
    listeners_remove(t->id);
    char name[64];
    netns_name_for(t->id, name, sizeof(name));
    netns_delete(name);
    vpcnet_disown(name);
    runtime_remove(t->id);
}

struct expire_walk {
    double cutoff;
    struct store_refs found;
};

static int find_expired(const struct scope *s, json_t *doc, const char *id, void *arg)
{
    struct expire_walk *w = arg;
    json_t *stopped = json_object_get(doc, "stoppedAt");
    if (!jstreq(doc, "lastStatus", "STOPPED") || !json_is_number(stopped) ||
        json_number_value(stopped) > w->cutoff)
        return 0;
    return store_refs_add(&w->found, s, id) < 0;
}

void tasks_expire(double now, double keep_seconds)
{
    struct expire_walk w = { now - keep_seconds, { NULL, 0, 0 } };
    struct store_refs *found = &w.found;
    db_lock(server.db);
    store_each_all(server.db, "ecs-task", find_expired, &w);
    if (found->n && db_begin(server.db) == 0) {
        for (size_t i = 0; i < found->n; i++) {
            struct scope s = { found->list[i].account, found->list[i].region };
            store_delete(server.db, &s, "ecs-task", found->list[i].id);
        }
        db_commit(server.db);
    }
    db_unlock(server.db);
    for (size_t i = 0; i < found->n; i++)
        runtime_remove(found->list[i].id);
    free(found->list);
}
