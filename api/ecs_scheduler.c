/*
 * The service scheduler (see ecs_scheduler.h).
 *
 * Each pass looks at one service at a time and decides from the tasks it
 * finds (their group is "service:<name>", their startedBy the deployment
 * id that started them) what to start and what to stop:
 *
 *   start   desired - (running + pending of the PRIMARY deployment), but
 *           never more than maximumPercent of desired in all;
 *   stop    tasks of older deployments (and of DRAINING instances) while
 *           the running ones stay at or above minimumHealthyPercent;
 *           PRIMARY tasks beyond desired; tasks whose health check failed;
 *   then    drained deployments leave the list, a PRIMARY at its desired
 *           count with no other deployment is COMPLETED, and the service
 *           says it "has reached a steady state." — which is exactly what
 *           the services-stable waiter looks for.
 *
 * failedTasks counts the deployment's tasks that stopped without the
 * scheduler asking; the circuit breaker trips at AWS's threshold
 * (half the desired count, at least 3, at most 200) and, with rollback,
 * starts a deployment of the last completed task definition.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/db.h"
#include "ecs.h"
#include "ecs_scheduler.h"
#include "ecs_services.h"
#include "ecs_tasks.h"

struct dep_state {
    json_t *dep;
    const char *id;
    json_t *running;            /* task documents */
    json_t *pending;
    int failed;
};

struct svc_tasks {
    json_t *live;               /* not STOPPED */
    json_t *stopped;
};

static int collect_task(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct svc_tasks *w = arg;
    const char *last = ecs_str(doc, "lastStatus");
    json_array_append(last && strcmp(last, "STOPPED") == 0 ? w->stopped : w->live, doc);
    return 0;
}

static int desired_running(json_t *task)
{
    const char *d = ecs_str(task, "desiredStatus");
    return d && strcmp(d, "RUNNING") == 0;
}

static int is_running(json_t *task)
{
    const char *l = ecs_str(task, "lastStatus");
    return l && strcmp(l, "RUNNING") == 0;
}

static const char *task_id(json_t *task)
{
    return strrchr(ecs_str(task, "taskArn"), '/') + 1;
}

struct instance_status {
    json_t *map;                /* container instance ARN -> status */
};

static int note_instance(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct instance_status *s = arg;
    json_object_set(s->map, ecs_str(doc, "containerInstanceArn"), json_object_get(doc, "status"));
    return 0;
}

static int on_draining_instance(json_t *task, json_t *instances)
{
    const char *ci = ecs_str(task, "containerInstanceArn");
    const char *st = ci ? json_string_value(json_object_get(instances, ci)) : NULL;
    return st && strcmp(st, "ACTIVE") != 0;
}

static json_t *propagated_tags(struct call *c, json_t *svc, json_t *taskdef)
{
    const char *p = ecs_str(svc, "propagateTags");
    if (p && strcmp(p, "SERVICE") == 0)
        return json_deep_copy(json_object_get(svc, "tags"));
    if (p && strcmp(p, "TASK_DEFINITION") == 0)
        return json_deep_copy(json_object_get(taskdef, "_tags"));
    (void)c;
    return NULL;
}

/* An event that would repeat on every pass (a placement that keeps
 * failing) is added only when the newest event says something else. */
static void event_once(struct call *c, json_t *svc, const char *fmt, const char *arg)
{
    char body[1024], full[1200];
    snprintf(body, sizeof(body), fmt, arg);
    snprintf(full, sizeof(full), "(service %s) %s", ecs_str(svc, "serviceName"), body);
    json_t *last = json_array_get(json_object_get(svc, "events"), 0);
    const char *msg = ecs_str(last, "message");
    if (!msg || strcmp(msg, full) != 0)
        ecs_service_event(c, svc, "%s", body);
}

/* Start n tasks of the PRIMARY deployment; returns how many started. */
static int start_tasks(struct call *c, json_t *svc, json_t *cluster, json_t *primary, int n,
                       const char *instance_id, json_t *started_ids)
{
    json_t *td = ecs_taskdef_get(c, ecs_str(primary, "taskDefinition"), "TaskDefinition not found.");
    if (!td) {
        c->status = 0;
        event_once(c, svc, "is unable to start tasks: its task definition %s is gone.",
                   ecs_str(primary, "taskDefinition"));
        return 0;
    }
    const char *launch = ecs_str(svc, "launchType");
    const char *provider = NULL;
    json_t *strategy = json_object_get(svc, "capacityProviderStrategy");
    if (!launch) {
        const char *l = NULL;
        if (ecs_task_check_launch(c, cluster, td, NULL, strategy,
                                  json_object_get(svc, "networkConfiguration"), &l, &provider) < 0) {
            event_once(c, svc, "was unable to place a task: %s", c->message);
            c->status = 0;
            json_decref(td);
            return 0;
        }
        launch = l;
    }
    char group[ECS_NAME_MAX + 16];
    snprintf(group, sizeof(group), "service:%s", ecs_str(svc, "serviceName"));
    json_t *tags = propagated_tags(c, svc, td);
    int started = 0;
    for (int i = 0; i < n; i++) {
        struct ecs_task_request rq = {
            .cluster = cluster, .taskdef = td, .launch_type = launch,
            .capacity_provider = provider,
            .network = json_object_get(svc, "networkConfiguration"),
            .started_by = ecs_str(primary, "id"), .group = group, .tags = tags,
            .platform_version = ecs_str(svc, "platformVersion"),
            .enable_execute_command = json_is_true(json_object_get(svc, "enableExecuteCommand")),
            .instance_id = instance_id, .service_arn = ecs_str(svc, "serviceArn"),
        };
        json_t *failures = json_array(), *task = NULL;
        int rc = ecs_task_create(c, &rq, &task, failures);
        if (rc == 0) {
            json_array_append_new(started_ids, json_string(task_id(task)));
            json_decref(task);
            started++;
        } else {
            const char *reason = rc > 0 ? ecs_str(json_array_get(failures, 0), "reason") : c->message;
            event_once(c, svc, "was unable to place a task because no container "
                       "instance met all of its requirements. Reason: %s",
                       reason ? reason : "unknown");
            c->status = 0;
            json_decref(failures);
            break;
        }
        json_decref(failures);
    }
    json_decref(tags);
    json_decref(td);
    return started;
}

static int stop_task(struct call *c, json_t *task, const char *reason, json_t *stopped_ids)
{
    if (ecs_task_stop(c, task, "ServiceSchedulerInitiated", reason) < 0)
        return -1;
    json_array_append_new(stopped_ids, json_string(task_id(task)));
    return 0;
}

static void list_ids_event(struct call *c, json_t *svc, const char *verb, json_t *ids)
{
    char text[800] = "";
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        char one[64];
        snprintf(one, sizeof(one), " (task %s)", json_string_value(id));
        if (strlen(text) + strlen(one) + 2 < sizeof(text))
            strcat(text, one);
    }
    ecs_service_event(c, svc, "has %s %zu %stasks:%s.", verb, json_array_size(ids),
                      strcmp(verb, "stopped") == 0 ? "running " : "", text);
}

static int deployment_threshold(long long desired)
{
    long long t = (long long)ceil(desired * 0.5);
    if (t < 3)
        t = 3;
    if (t > 200)
        t = 200;
    return (int)t;
}

static json_t *last_completed_taskdef(json_t *svc)
{
    return json_object_get(svc, "_lastCompletedTaskDefinition");
}

/* One service, inside its transaction.  Returns tasks started + stopped,
 * or -1. */
static int schedule(struct call *c, json_t *svc, const char *sid)
{
    const char *status = ecs_str(svc, "status") ? ecs_str(svc, "status") : "ACTIVE";
    if (strcmp(status, "INACTIVE") == 0)
        return 0;
    struct ecs_arn carn;
    if (ecs_arn_parse(ecs_str(svc, "clusterArn"), &carn) < 0)
        return 0;
    const char *cname = carn.name;
    json_t *cluster = store_get(c->db, &c->scope, ECS_T_CLUSTER, cname);
    if (!cluster)
        return 0;
    char group[ECS_NAME_MAX + 16];
    snprintf(group, sizeof(group), "service:%s", ecs_str(svc, "serviceName"));
    struct svc_tasks w = { json_array(), json_array() };
    struct instance_status inst = { json_object() };
    /* Every tick, for every service: only its own tasks are parsed. */
    struct store_filter own = { { "$.group" }, { group }, NULL, NULL };
    store_each_where(c->db, &c->scope, ECS_T_TASK, cname, NULL, &own, collect_task, &w);
    store_each(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, cname, NULL, note_instance, &inst);

    json_t *deps = json_object_get(svc, "deployments");
    size_t ndeps = json_array_size(deps);
    struct dep_state *ds = calloc(ndeps ? ndeps : 1, sizeof(*ds));
    json_t *before = json_deep_copy(svc);
    json_t *started = json_array(), *stopped = json_array();
    int daemon = ecs_str(svc, "schedulingStrategy") &&
                 strcmp(ecs_str(svc, "schedulingStrategy"), "DAEMON") == 0;
    long long desired = json_integer_value(json_object_get(svc, "desiredCount"));
    if (daemon) {
        /* A daemon service wants one task per ACTIVE container instance. */
        desired = 0;
        const char *arn;
        json_t *st;
        json_object_foreach(inst.map, arn, st)
            desired += json_string_value(st) && strcmp(json_string_value(st), "ACTIVE") == 0;
    }
    if (strcmp(status, "DRAINING") == 0)
        desired = 0;
    if (daemon && json_integer_value(json_object_get(svc, "desiredCount")) != desired) {
        json_object_set_new(svc, "desiredCount", json_integer(desired));
        json_t *prim = json_array_get(json_object_get(svc, "deployments"), 0);
        if (prim)
            json_object_set_new(prim, "desiredCount", json_integer(desired));
    }
    for (size_t i = 0; i < ndeps; i++) {
        ds[i].dep = json_array_get(deps, i);
        ds[i].id = ecs_str(ds[i].dep, "id");
        ds[i].running = json_array();
        ds[i].pending = json_array();
    }
    /* Sort the tasks into their deployments. */
    size_t i;
    json_t *t;
    json_array_foreach(w.live, i, t) {
        if (!desired_running(t))
            continue;
        const char *by = ecs_str(t, "startedBy");
        for (size_t k = 0; k < ndeps; k++) {
            if (by && ds[k].id && strcmp(by, ds[k].id) == 0) {
                json_array_append(is_running(t) ? ds[k].running : ds[k].pending, t);
                break;
            }
        }
    }
    json_array_foreach(w.stopped, i, t) {
        const char *code = ecs_str(t, "stopCode");
        const char *by = ecs_str(t, "startedBy");
        if (code && strcmp(code, "ServiceSchedulerInitiated") == 0)
            continue;
        for (size_t k = 0; k < ndeps; k++)
            if (by && ds[k].id && strcmp(by, ds[k].id) == 0)
                ds[k].failed++;
    }
    int rc = 0;
    if (ndeps == 0)
        goto finish;
    json_t *primary = ds[0].dep;
    json_t *dc = json_object_get(svc, "deploymentConfiguration");
    long long max_pct = json_is_integer(json_object_get(dc, "maximumPercent"))
                            ? json_integer_value(json_object_get(dc, "maximumPercent")) : 200;
    long long min_pct = json_is_integer(json_object_get(dc, "minimumHealthyPercent"))
                            ? json_integer_value(json_object_get(dc, "minimumHealthyPercent")) : 100;
    json_t *cb = json_object_get(dc, "deploymentCircuitBreaker");

    /* Circuit breaker. */
    const char *rollout = ecs_str(primary, "rolloutState");
    if (json_is_true(json_object_get(cb, "enable")) && rollout &&
        strcmp(rollout, "IN_PROGRESS") == 0 && ds[0].failed >= deployment_threshold(desired)) {
        json_object_set_new(primary, "rolloutState", json_string("FAILED"));
        json_object_set_new(primary, "rolloutStateReason",
                            json_string("ECS deployment circuit breaker: tasks failed to start."));
        ecs_service_event(c, svc, "(deployment %s) deployment failed: tasks failed to start.",
                          ds[0].id);
        json_t *back = last_completed_taskdef(svc);
        if (json_is_true(json_object_get(cb, "rollback")) && json_is_string(back) &&
            !json_equal(back, json_object_get(primary, "taskDefinition"))) {
            json_object_set(svc, "taskDefinition", back);
            ecs_service_new_deployment(c, svc);
            json_t *fresh = json_array_get(json_object_get(svc, "deployments"), 0);
            ecs_service_event(c, svc, "(deployment %s) deployment failed; rolling back to %s "
                              "in deployment %s.", ds[0].id, json_string_value(back),
                              ecs_str(fresh, "id"));
            /* The new deployment is scheduled on the next pass. */
            goto finish;
        }
    }
    int failed_rollout = ecs_str(primary, "rolloutState") &&
                         strcmp(ecs_str(primary, "rolloutState"), "FAILED") == 0;

    /* Tasks whose health check failed are replaced (after the grace period). */
    double grace = (double)json_integer_value(json_object_get(svc, "healthCheckGracePeriodSeconds"));
    for (size_t k = 0; k < ndeps; k++) {
        for (size_t j = 0; j < json_array_size(ds[k].running);) {
            json_t *task = json_array_get(ds[k].running, j);
            const char *h = ecs_str(task, "healthStatus");
            double started_at = json_number_value(json_object_get(task, "startedAt"));
            if (h && strcmp(h, "UNHEALTHY") == 0 && c->now - started_at >= grace) {
                if (stop_task(c, task, "Task failed container health checks", stopped) < 0) {
                    rc = -1;
                    goto finish;
                }
                json_array_remove(ds[k].running, j);
                continue;
            }
            j++;
        }
    }

    /* Start what the PRIMARY deployment lacks. */
    long long active = 0, running_all = 0, draining_tasks = 0;
    for (size_t k = 0; k < ndeps; k++) {
        active += (long long)(json_array_size(ds[k].running) + json_array_size(ds[k].pending));
        running_all += (long long)json_array_size(ds[k].running);
    }
    long long primary_good = 0;
    json_array_foreach(ds[0].running, i, t) {
        if (on_draining_instance(t, inst.map))
            draining_tasks++;
        else
            primary_good++;
    }
    json_array_foreach(ds[0].pending, i, t)
        if (!on_draining_instance(t, inst.map))
            primary_good++;
    if (daemon) {
        /* One task per ACTIVE container instance. */
        const char *arn;
        json_t *st;
        json_object_foreach(inst.map, arn, st) {
            if (!json_string_value(st) || strcmp(json_string_value(st), "ACTIVE") != 0)
                continue;
            int has = 0;
            json_array_foreach(w.live, i, t)
                if (desired_running(t) && ecs_str(t, "containerInstanceArn") &&
                    strcmp(ecs_str(t, "containerInstanceArn"), arn) == 0)
                    has = 1;
            if (!has && strcmp(status, "ACTIVE") == 0)
                start_tasks(c, svc, cluster, primary, 1, strrchr(arn, '/') + 1, started);
        }
    } else if (!failed_rollout) {
        long long need = desired - primary_good;
        long long room = desired > 0 ? (desired * max_pct) / 100 - active : 0;
        long long n = need < room ? need : room;
        if (n > 0)
            start_tasks(c, svc, cluster, primary, (int)n, NULL, started);
    }

    /* Stop old deployments' tasks (and tasks on draining instances) while
     * enough keep running. */
    long long min_healthy = (long long)ceil((double)desired * (double)min_pct / 100.0);
    long long can_stop = running_all - min_healthy;
    for (size_t k = ndeps; k-- > 1;) {
        char why[160];
        snprintf(why, sizeof(why), "Scaling activity initiated by (deployment %s)", ds[0].id);
        while (json_array_size(ds[k].pending)) {
            if (stop_task(c, json_array_get(ds[k].pending, 0), why, stopped) < 0) {
                rc = -1;
                goto finish;
            }
            json_array_remove(ds[k].pending, 0);
        }
        while (json_array_size(ds[k].running) && can_stop > 0) {
            if (stop_task(c, json_array_get(ds[k].running, 0), why, stopped) < 0) {
                rc = -1;
                goto finish;
            }
            json_array_remove(ds[k].running, 0);
            can_stop--;
        }
    }
    for (size_t j = 0; j < json_array_size(ds[0].running);) {
        t = json_array_get(ds[0].running, j);
        if (can_stop <= 0 || !on_draining_instance(t, inst.map)) {
            j++;
            continue;
        }
        if (stop_task(c, t, "Container instance is being drained", stopped) < 0) {
            rc = -1;
            goto finish;
        }
        /* Gone from the running ones, so scale-in below does not count
         * (or stop) it again. */
        json_array_remove(ds[0].running, j);
        can_stop--;
    }
    /* Scale in the PRIMARY deployment: pending ones first. */
    if (!daemon) {
        long long excess = (long long)(json_array_size(ds[0].running) + json_array_size(ds[0].pending)) - desired;
        while (excess > 0 && json_array_size(ds[0].pending)) {
            char why[160];
            snprintf(why, sizeof(why), "Scaling activity initiated by (deployment %s)", ds[0].id);
            if (stop_task(c, json_array_get(ds[0].pending, 0), why, stopped) < 0) {
                rc = -1;
                goto finish;
            }
            json_array_remove(ds[0].pending, 0);
            excess--;
        }
        while (excess > 0 && json_array_size(ds[0].running)) {
            char why[160];
            snprintf(why, sizeof(why), "Scaling activity initiated by (deployment %s)", ds[0].id);
            if (stop_task(c, json_array_get(ds[0].running, 0), why, stopped) < 0) {
                rc = -1;
                goto finish;
            }
            json_array_remove(ds[0].running, 0);
            excess--;
        }
    }

finish:
    if (rc == 0 && ndeps) {
        /* Counters, drained deployments, completion, steady state. */
        long long total_running = 0, total_pending = 0;
        deps = json_object_get(svc, "deployments");
        for (size_t k = 0; k < ndeps; k++) {
            long long r = (long long)json_array_size(ds[k].running);
            long long p = (long long)json_array_size(ds[k].pending);
            total_running += r;
            total_pending += p;
            if (json_integer_value(json_object_get(ds[k].dep, "runningCount")) != r ||
                json_integer_value(json_object_get(ds[k].dep, "pendingCount")) != p ||
                json_integer_value(json_object_get(ds[k].dep, "failedTasks")) != ds[k].failed) {
                json_object_set_new(ds[k].dep, "runningCount", json_integer(r));
                json_object_set_new(ds[k].dep, "pendingCount", json_integer(p));
                json_object_set_new(ds[k].dep, "failedTasks", json_integer(ds[k].failed));
                json_object_set_new(ds[k].dep, "updatedAt", json_real(c->now));
            }
        }
        json_object_set_new(svc, "runningCount", json_integer(total_running));
        json_object_set_new(svc, "pendingCount", json_integer(total_pending));
        /* Old deployments with nothing left go away. */
        for (size_t k = json_array_size(deps); k-- > 1;) {
            json_t *d = json_array_get(deps, k);
            int drained = 0;
            for (size_t m = 1; m < ndeps; m++)
                if (ds[m].dep == d && json_array_size(ds[m].running) == 0 &&
                    json_array_size(ds[m].pending) == 0)
                    drained = 1;
            if (drained)
                json_array_remove(deps, k);
        }
        json_t *prim = json_array_get(deps, 0);
        if (strcmp(status, "DRAINING") == 0 && total_running + total_pending == 0 &&
            json_array_size(stopped) == 0) {
            json_object_set_new(svc, "status", json_string("INACTIVE"));
        } else if (prim && json_array_size(deps) == 1 &&
                   json_integer_value(json_object_get(prim, "runningCount")) == desired &&
                   json_integer_value(json_object_get(prim, "pendingCount")) == 0 &&
                   !json_array_size(started) && !json_array_size(stopped)) {
            const char *ro = ecs_str(prim, "rolloutState");
            if (ro && strcmp(ro, "IN_PROGRESS") == 0) {
                json_object_set_new(prim, "rolloutState", json_string("COMPLETED"));
                json_object_set_new(prim, "rolloutStateReason",
                                    json_sprintf("ECS deployment %s completed.", ecs_str(prim, "id")));
                json_object_set(svc, "_lastCompletedTaskDefinition",
                                json_object_get(prim, "taskDefinition"));
                ecs_service_event(c, svc, "(deployment %s) deployment completed.",
                                  ecs_str(prim, "id"));
            }
            json_t *last = json_array_get(json_object_get(svc, "events"), 0);
            const char *msg = ecs_str(last, "message");
            if (strcmp(status, "ACTIVE") == 0 && (!msg || !strstr(msg, "has reached a steady state.")))
                ecs_service_event(c, svc, "has reached a steady state.");
        }
        if (json_array_size(started))
            list_ids_event(c, svc, "started", started);
        if (json_array_size(stopped))
            list_ids_event(c, svc, "stopped", stopped);
        if (!json_equal(before, svc) &&
            store_update(c->db, &c->scope, ECS_T_SERVICE, sid, svc) != STORE_OK)
            rc = -1;
    }
    int changes = (int)(json_array_size(started) + json_array_size(stopped));
    for (size_t k = 0; k < ndeps; k++) {
        json_decref(ds[k].running);
        json_decref(ds[k].pending);
    }
    free(ds);
    json_decref(before);
    json_decref(started);
    json_decref(stopped);
    json_decref(w.live);
    json_decref(w.stopped);
    json_decref(inst.map);
    json_decref(cluster);
    return rc < 0 ? -1 : changes;
}

static int note_service(const struct scope *s, json_t *doc, const char *id, void *arg)
{
    const char *st = ecs_str(doc, "status");
    if (st && strcmp(st, "INACTIVE") == 0)
        return 0;
    return store_refs_add(arg, s, id) < 0;
}

int ecs_scheduler_run(struct db *db, double now)
{
    struct store_refs w = { NULL, 0, 0 };
    int total = 0;
    db_lock(db);
    store_each_all(db, ECS_T_SERVICE, note_service, &w);
    for (size_t i = 0; i < w.n; i++) {
        struct call c;
        memset(&c, 0, sizeof(c));
        c.svc = model_service(SVC_ECS);
        c.db = db;
        c.now = now;
        snprintf(c.account, sizeof(c.account), "%s", w.list[i].account);
        snprintf(c.region, sizeof(c.region), "%s", w.list[i].region);
        c.scope.account = c.account;
        c.scope.region = c.region;
        if (db_begin(db) < 0)
            break;
        json_t *svc = store_get(db, &c.scope, ECS_T_SERVICE, w.list[i].id);
        int n = svc ? schedule(&c, svc, w.list[i].id) : 0;
        json_decref(svc);
        if (n < 0) {
            fprintf(stderr, "ecslocal: scheduler: service %s: %s\n", w.list[i].id,
                    c.message[0] ? c.message : "failed");
            db_rollback(db);
            continue;
        }
        if (db_commit(db) < 0)
            continue;
        total += n;
    }
    db_unlock(db);
    free(w.list);
    return total;
}
