/*
 * ECS services: CreateService, DescribeServices, ListServices,
 * UpdateService, DeleteService, ListServicesByNamespace.
 *
 * These handlers only write what the service should be; the scheduler
 * (ecs_scheduler.c) starts and stops its tasks and keeps its counters,
 * deployments and events.  A service is stored under "CLUSTER/NAME"; a
 * deleted one stays describable as INACTIVE and its name can be reused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ecs.h"
#include "ecs_services.h"
#include "ecs_tasks.h"

void ecs_service_id(const char *cluster, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", cluster, name);
}

static void deployment_id(char *out, size_t len)
{
    unsigned char r[8];
    unsigned long long v = 0;
    if (getrandom(r, sizeof(r), 0) == (ssize_t)sizeof(r))
        memcpy(&v, r, sizeof(v));
    /* ecs-svc/ and 19 digits, as AWS's (Terraform checks the form). */
    snprintf(out, len, "ecs-svc/%019llu", v % 10000000000000000000ULL);
}

void ecs_service_event(struct call *c, json_t *service, const char *fmt, ...)
{
    char msg[1024], body[900], id[37];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof(msg), "(service %s) %s", ecs_str(service, "serviceName"), body);
    ecs_uuid(id);
    json_t *events = json_object_get(service, "events");
    if (!json_is_array(events)) {
        events = json_array();
        json_object_set_new(service, "events", events);
    }
    json_array_insert_new(events, 0, json_pack("{s:s, s:f, s:s}", "id", id, "createdAt",
                                               c->now, "message", msg));
    while (json_array_size(events) > 100)
        json_array_remove(events, json_array_size(events) - 1);
}

void ecs_service_new_deployment(struct call *c, json_t *service)
{
    char id[48];
    deployment_id(id, sizeof(id));
    json_t *deps = json_object_get(service, "deployments");
    if (!json_is_array(deps)) {
        deps = json_array();
        json_object_set_new(service, "deployments", deps);
    }
    size_t i;
    json_t *d;
    json_array_foreach(deps, i, d)
        if (ecs_str(d, "status") && strcmp(ecs_str(d, "status"), "PRIMARY") == 0)
            json_object_set_new(d, "status", json_string("ACTIVE"));
    json_t *dep = json_pack("{s:s, s:s, s:O, s:O, s:i, s:i, s:i, s:f, s:f, s:s}",
                            "id", id, "status", "PRIMARY",
                            "taskDefinition", json_object_get(service, "taskDefinition"),
                            "desiredCount", json_object_get(service, "desiredCount"),
                            "pendingCount", 0, "runningCount", 0, "failedTasks", 0,
                            "createdAt", c->now, "updatedAt", c->now,
                            "rolloutState", "IN_PROGRESS");
    json_object_set_new(dep, "rolloutStateReason",
                        json_sprintf("ECS deployment %s in progress.", id));
    static const char *const copied[] = {
        "launchType", "capacityProviderStrategy", "platformVersion", "platformFamily",
        "networkConfiguration",
    };
    for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++)
        if (json_object_get(service, copied[k]))
            json_object_set(dep, copied[k], json_object_get(service, copied[k]));
    json_array_insert_new(deps, 0, dep);
}

/* ---- validation shared by Create and Update ---- */

static json_t *container_def(json_t *taskdef, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(taskdef, "containerDefinitions"), i, d)
        if (name && ecs_str(d, "name") && strcmp(ecs_str(d, "name"), name) == 0)
            return d;
    return NULL;
}

static int has_container_port(json_t *def, long long port)
{
    size_t i;
    json_t *pm;
    json_array_foreach(json_object_get(def, "portMappings"), i, pm)
        if (json_integer_value(json_object_get(pm, "containerPort")) == port)
            return 1;
    return 0;
}

static int check_load_balancers(struct call *c, json_t *lbs, json_t *taskdef)
{
    if (json_array_size(lbs) > 5)
        return call_error(c, "InvalidParameterException",
                          "A service can have at most 5 load balancers.");
    size_t i;
    json_t *lb;
    json_array_foreach(lbs, i, lb) {
        const char *tg = ecs_str(lb, "targetGroupArn");
        const char *name = ecs_str(lb, "containerName");
        json_t *port = json_object_get(lb, "containerPort");
        if (ecs_str(lb, "loadBalancerName") && !tg)
            return call_error(c, "InvalidParameterException",
                              "Classic Load Balancers are not emulated by ecslocal; use a "
                              "target group.");
        if (!tg || strncmp(tg, "arn:aws:elasticloadbalancing:", 29) != 0 ||
            !strstr(tg, ":targetgroup/"))
            return call_error(c, "InvalidParameterException",
                              "Target group ARN %s is not valid.", tg ? tg : "null");
        if (!name || !json_is_integer(port))
            return call_error(c, "InvalidParameterException",
                              "containerName and containerPort must be specified for a "
                              "load balancer.");
        json_t *def = container_def(taskdef, name);
        if (!def)
            return call_error(c, "InvalidParameterException",
                              "The container %s does not exist in the task definition.", name);
        if (!has_container_port(def, json_integer_value(port)))
            return call_error(c, "InvalidParameterException",
                              "The container %s did not have a container port %lld defined.",
                              name, (long long)json_integer_value(port));
    }
    return 0;
}

static int check_registries(struct call *c, json_t *regs, json_t *taskdef)
{
    const char *mode = ecs_taskdef_network_mode(taskdef);
    size_t i;
    json_t *r;
    json_array_foreach(regs, i, r) {
        const char *arn = ecs_str(r, "registryArn");
        const char *name = ecs_str(r, "containerName");
        json_t *port = json_object_get(r, "port");
        json_t *cport = json_object_get(r, "containerPort");
        if (!arn || strncmp(arn, "arn:aws:servicediscovery:", 25) != 0 || !strstr(arn, ":service/srv-"))
            return call_error(c, "InvalidParameterException",
                              "The service registry ARN %s is not valid.", arn ? arn : "null");
        if (port && (name || cport))
            return call_error(c, "InvalidParameterException",
                              "You cannot specify both a port and a containerName/"
                              "containerPort for a service registry.");
        if (strcmp(mode, "awsvpc") != 0 && (!name || !cport))
            return call_error(c, "InvalidParameterException",
                              "When using the %s network mode, you must specify a "
                              "containerName and containerPort for a service registry.", mode);
        if (name) {
            json_t *def = container_def(taskdef, name);
            if (!def)
                return call_error(c, "InvalidParameterException",
                                  "The container %s does not exist in the task definition.",
                                  name);
            if (cport && !has_container_port(def, json_integer_value(cport)))
                return call_error(c, "InvalidParameterException",
                                  "The container %s did not have a container port %lld "
                                  "defined.", name, (long long)json_integer_value(cport));
        }
    }
    return 0;
}

static int check_deployment_config(struct call *c, json_t *dc)
{
    json_t *maxp = json_object_get(dc, "maximumPercent");
    json_t *minp = json_object_get(dc, "minimumHealthyPercent");
    if (maxp && (json_integer_value(maxp) < 100 || json_integer_value(maxp) > 200000))
        return call_error(c, "InvalidParameterException",
                          "maximumPercent must be at least 100.");
    if (minp && (json_integer_value(minp) < 0 || json_integer_value(minp) > 100))
        return call_error(c, "InvalidParameterException",
                          "minimumHealthyPercent must be between 0 and 100.");
    return 0;
}

static json_t *deployment_config(json_t *given)
{
    json_t *dc = given ? json_deep_copy(given) : json_object();
    if (!json_object_get(dc, "maximumPercent"))
        json_object_set_new(dc, "maximumPercent", json_integer(200));
    if (!json_object_get(dc, "minimumHealthyPercent"))
        json_object_set_new(dc, "minimumHealthyPercent", json_integer(100));
    if (!json_object_get(dc, "deploymentCircuitBreaker"))
        json_object_set_new(dc, "deploymentCircuitBreaker",
                            json_pack("{s:b, s:b}", "enable", 0, "rollback", 0));
    return dc;
}

/* ---- CreateService ---- */

static json_t *find_service(struct call *c, const char *cluster, const char *ref)
{
    char id[2 * ECS_NAME_MAX];
    const char *name = ref;
    if (ref && strncmp(ref, "arn:", 4) == 0) {
        struct ecs_arn a;
        if (ecs_arn_parse(ref, &a) < 0 || a.kind != ECS_K_SERVICE)
            return NULL;
        if (a.long_format && strcmp(a.cluster, cluster) != 0)
            return NULL;
        name = strrchr(ref, '/') + 1;
    }
    if (!name)
        return NULL;
    ecs_service_id(cluster, name, id, sizeof(id));
    return store_get(c->db, &c->scope, ECS_T_SERVICE, id);
}

static const char *svc_status(json_t *svc)
{
    return ecs_str(svc, "status") ? ecs_str(svc, "status") : "ACTIVE";
}

int ecs_create_service(struct call *c)
{
    char cluster[ECS_NAME_MAX], arn[ECS_ARN_MAX], cluster_arn[ECS_ARN_MAX], id[2 * ECS_NAME_MAX];
    const char *name = in_str(c, "serviceName");
    const char *strategy = in_str(c, "schedulingStrategy") ? in_str(c, "schedulingStrategy") : "REPLICA";
    json_t *cl = ecs_cluster_get(c, in_str(c, "cluster"), 0, cluster, sizeof(cluster));
    if (!cl)
        return -1;
    json_t *td = NULL, *tags = NULL, *existing = NULL;
    const char *launch = NULL, *provider = NULL;
    int rc = -1;
    const char *controller = ecs_str(in_get(c, "deploymentController"), "type");
    if (controller && strcmp(controller, "ECS") != 0) {
        call_error(c, "InvalidParameterException",
                   "The %s deployment controller is not emulated by ecslocal.", controller);
        goto out;
    }
    if (!ecs_name_valid(name, 255)) {
        call_error(c, "InvalidParameterException",
                   "Service name can only contain letters, numbers, hyphens and underscores, "
                   "and be at most 255 characters long.");
        goto out;
    }
    if (!(td = ecs_taskdef_get(c, in_str(c, "taskDefinition"), "TaskDefinition not found.")))
        goto out;
    if (ecs_str(td, "status") && strcmp(ecs_str(td, "status"), "ACTIVE") != 0) {
        call_error(c, "ClientException", "TaskDefinition is inactive");
        goto out;
    }
    json_t *desired = in_get(c, "desiredCount");
    if (strcmp(strategy, "DAEMON") == 0) {
        if (desired) {
            call_error(c, "InvalidParameterException",
                       "The daemon scheduling strategy does not support a desired count for "
                       "services. Remove the desired count value and try again");
            goto out;
        }
    } else if (desired && json_integer_value(desired) < 0) {
        call_error(c, "InvalidParameterException", "desiredCount must be at least 0.");
        goto out;
    }
    if (ecs_task_check_launch(c, cl, td, in_str(c, "launchType"),
                              in_get(c, "capacityProviderStrategy"),
                              in_get(c, "networkConfiguration"), &launch, &provider) < 0)
        goto out;
    if (strcmp(strategy, "DAEMON") == 0 && strcmp(launch, "EC2") != 0) {
        call_error(c, "InvalidParameterException",
                   "The daemon scheduling strategy is only supported with the EC2 launch type.");
        goto out;
    }
    if (check_load_balancers(c, in_get(c, "loadBalancers"), td) < 0 ||
        check_registries(c, in_get(c, "serviceRegistries"), td) < 0 ||
        check_deployment_config(c, in_get(c, "deploymentConfiguration")) < 0)
        goto out;
    if (in_get(c, "healthCheckGracePeriodSeconds") && !json_array_size(in_get(c, "loadBalancers"))) {
        call_error(c, "InvalidParameterException",
                   "Health check grace period is only valid for services configured to use "
                   "load balancers");
        goto out;
    }
    existing = find_service(c, cluster, name);
    if (existing && strcmp(svc_status(existing), "INACTIVE") != 0) {
        call_error(c, "InvalidParameterException", "Creation of service was not idempotent.");
        goto out;
    }
    if (!(tags = ecs_request_tags(c)))
        goto out;
    ecs_service_arn(c, cluster, name, arn, sizeof(arn));
    ecs_cluster_arn(c, cluster, cluster_arn, sizeof(cluster_arn));
    char principal[160];
    ecs_principal_arn(c, principal, sizeof(principal));
    json_t *svc = json_pack(
        "{s:s, s:s, s:s, s:O, s:s, s:I, s:i, s:i, s:o, s:[], s:f, s:s, s:{s:s},"
        " s:o, s:s, s:b, s:b, s:s, s:o}",
        "serviceArn", arn, "serviceName", name, "clusterArn", cluster_arn,
        "taskDefinition", json_object_get(td, "taskDefinitionArn"),
        "status", "ACTIVE",
        "desiredCount", (json_int_t)(strcmp(strategy, "DAEMON") == 0 ? 0 : json_integer_value(desired)),
        "runningCount", 0, "pendingCount", 0,
        "deploymentConfiguration", deployment_config(in_get(c, "deploymentConfiguration")),
        "events", "createdAt", c->now, "schedulingStrategy", strategy,
        "deploymentController", "type", "ECS",
        "tags", json_incref(tags),
        "propagateTags", in_str(c, "propagateTags") ? in_str(c, "propagateTags") : "NONE",
        "enableECSManagedTags", in_bool(c, "enableECSManagedTags", 0),
        "enableExecuteCommand", in_bool(c, "enableExecuteCommand", 0),
        "createdBy", principal,
        "loadBalancers", in_get(c, "loadBalancers") ? json_deep_copy(in_get(c, "loadBalancers"))
                                                     : json_array());
    json_object_set_new(svc, "serviceRegistries",
                        in_get(c, "serviceRegistries") ? json_deep_copy(in_get(c, "serviceRegistries"))
                                                        : json_array());
    if (json_array_size(in_get(c, "capacityProviderStrategy")) ||
        (!in_str(c, "launchType") && provider))
        json_object_set_new(svc, "capacityProviderStrategy",
                            json_array_size(in_get(c, "capacityProviderStrategy"))
                                ? json_deep_copy(in_get(c, "capacityProviderStrategy"))
                                : json_deep_copy(json_object_get(cl, "defaultCapacityProviderStrategy")));
    else
        json_object_set_new(svc, "launchType", json_string(launch));
    if (strcmp(launch, "FARGATE") == 0) {
        const char *pv = in_str(c, "platformVersion");
        json_object_set_new(svc, "platformVersion", json_string(pv ? pv : "LATEST"));
        json_object_set_new(svc, "platformFamily", json_string("Linux"));
    }
    static const char *const copied[] = {
        "networkConfiguration", "placementConstraints", "placementStrategy",
        "healthCheckGracePeriodSeconds", "role", "serviceConnectConfiguration",
        "availabilityZoneRebalancing",
    };
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        if (in_get(c, copied[i]))
            json_object_set(svc, strcmp(copied[i], "role") == 0 ? "roleArn" : copied[i],
                            in_get(c, copied[i]));
    if (!json_object_get(svc, "placementConstraints"))
        json_object_set_new(svc, "placementConstraints", json_array());
    if (!json_object_get(svc, "placementStrategy"))
        json_object_set_new(svc, "placementStrategy", json_array());
    ecs_service_new_deployment(c, svc);
    ecs_service_id(cluster, name, id, sizeof(id));
    int st = existing ? store_update(c->db, &c->scope, ECS_T_SERVICE, id, svc)
                      : store_insert(c->db, &c->scope, ECS_T_SERVICE, id, cluster, NULL, svc);
    if (st != STORE_OK) {
        json_decref(svc);
        call_internal(c, "storing service");
        goto out;
    }
    json_object_set_new(call_out(c), "service", svc);
    rc = 0;
out:
    json_decref(existing);
    json_decref(tags);
    json_decref(td);
    json_decref(cl);
    return rc;
}

/* ---- Describe / List ---- */

int ecs_describe_services(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    json_t *refs = in_get(c, "services");
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    if (json_array_size(refs) == 0)
        return call_error(c, "InvalidParameterException", "Services cannot be empty.");
    if (json_array_size(refs) > 10)
        return call_error(c, "InvalidParameterException",
                          "Services can have at most 10 items.");
    ecs_describe_refs(c, refs, cluster, find_service, ecs_service_arn, "services");
    return 0;
}

struct svc_filter {
    const char *launch, *strategy, *ns;
};

static int keep_service(json_t *doc, void *arg)
{
    struct svc_filter *f = arg;
    /* A DRAINING service is no longer listed (DeleteService's docs). */
    if (strcmp(svc_status(doc), "ACTIVE") != 0)
        return 0;
    if (f->launch && (!ecs_str(doc, "launchType") || strcmp(ecs_str(doc, "launchType"), f->launch) != 0))
        return 0;
    if (f->strategy && strcmp(ecs_str(doc, "schedulingStrategy"), f->strategy) != 0)
        return 0;
    if (f->ns) {
        const char *ns = ecs_str(json_object_get(doc, "serviceConnectConfiguration"), "namespace");
        if (!ns || (strcmp(ns, f->ns) != 0 &&
                    !(strchr(f->ns, '/') && strcmp(strrchr(f->ns, '/') + 1, ns) == 0)))
            return 0;
    }
    return 1;
}

static int list_services(struct call *c, const char *cluster, const char *ns)
{
    struct svc_filter f = { in_str(c, "launchType"), in_str(c, "schedulingStrategy"), ns };
    return ecs_list_arns(c, ECS_T_SERVICE, cluster, 10, 100, keep_service, &f, "serviceArn",
                         "serviceArns");
}

int ecs_list_services(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    return list_services(c, cluster, NULL);
}

int ecs_list_services_by_namespace(struct call *c)
{
    /* Across every cluster of the scope: services whose Service Connect
     * configuration uses the namespace. */
    return list_services(c, NULL, in_str(c, "namespace"));
}

/* ---- UpdateService ---- */

static int same_json(json_t *a, json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

int ecs_update_service(struct call *c)
{
    char cluster[ECS_NAME_MAX], id[2 * ECS_NAME_MAX];
    json_t *cl = ecs_cluster_get(c, in_str(c, "cluster"), 0, cluster, sizeof(cluster));
    if (!cl)
        return -1;
    json_t *svc = find_service(c, cluster, in_str(c, "service"));
    json_t *td = NULL;
    int rc = -1, redeploy = in_bool(c, "forceNewDeployment", 0);
    if (!svc) {
        call_error(c, "ServiceNotFoundException", "Service not found.");
        goto out;
    }
    if (strcmp(svc_status(svc), "ACTIVE") != 0) {
        call_error(c, "ServiceNotActiveException", "Service was not ACTIVE.");
        goto out;
    }
    if (in_str(c, "taskDefinition")) {
        if (!(td = ecs_taskdef_get(c, in_str(c, "taskDefinition"), "TaskDefinition not found.")))
            goto out;
        if (ecs_str(td, "status") && strcmp(ecs_str(td, "status"), "ACTIVE") != 0) {
            call_error(c, "ClientException", "TaskDefinition is inactive");
            goto out;
        }
    } else {
        td = ecs_taskdef_get(c, ecs_str(svc, "taskDefinition"), "TaskDefinition not found.");
        if (!td)
            goto out;
    }
    json_t *desired = in_get(c, "desiredCount");
    if (desired) {
        if (strcmp(ecs_str(svc, "schedulingStrategy"), "DAEMON") == 0) {
            call_error(c, "InvalidParameterException",
                       "The daemon scheduling strategy does not support a desired count for "
                       "services. Remove the desired count value and try again");
            goto out;
        }
        if (json_integer_value(desired) < 0) {
            call_error(c, "InvalidParameterException", "desiredCount must be at least 0.");
            goto out;
        }
        json_object_set(svc, "desiredCount", desired);
        json_t *primary = json_array_get(json_object_get(svc, "deployments"), 0);
        if (primary)
            json_object_set(primary, "desiredCount", desired);
    }
    if (in_get(c, "deploymentConfiguration")) {
        if (check_deployment_config(c, in_get(c, "deploymentConfiguration")) < 0)
            goto out;
        json_t *dc = json_object_get(svc, "deploymentConfiguration");
        json_object_update(dc, in_get(c, "deploymentConfiguration"));
    }
    json_t *network = in_get(c, "networkConfiguration");
    json_t *strategy = in_get(c, "capacityProviderStrategy");
    if (network || strategy || in_str(c, "taskDefinition")) {
        const char *launch = NULL, *provider = NULL;
        json_t *net = network ? network : json_object_get(svc, "networkConfiguration");
        const char *lt = strategy ? NULL : ecs_str(svc, "launchType");
        json_t *st = strategy ? strategy : json_object_get(svc, "capacityProviderStrategy");
        if (ecs_task_check_launch(c, cl, td, lt, lt ? NULL : st, net, &launch, &provider) < 0)
            goto out;
    }
    if (in_str(c, "taskDefinition") &&
        !same_json(json_object_get(td, "taskDefinitionArn"), json_object_get(svc, "taskDefinition"))) {
        json_object_set(svc, "taskDefinition", json_object_get(td, "taskDefinitionArn"));
        redeploy = 1;
    }
    if (network && !same_json(network, json_object_get(svc, "networkConfiguration"))) {
        json_object_set(svc, "networkConfiguration", network);
        redeploy = 1;
    }
    if (strategy && !same_json(strategy, json_object_get(svc, "capacityProviderStrategy"))) {
        json_object_set(svc, "capacityProviderStrategy", strategy);
        json_object_del(svc, "launchType");
        redeploy = 1;
    }
    if (in_str(c, "platformVersion") &&
        !same_json(in_get(c, "platformVersion"), json_object_get(svc, "platformVersion"))) {
        json_object_set(svc, "platformVersion", in_get(c, "platformVersion"));
        redeploy = 1;
    }
    if (in_get(c, "loadBalancers")) {
        if (check_load_balancers(c, in_get(c, "loadBalancers"), td) < 0)
            goto out;
        json_object_set(svc, "loadBalancers", in_get(c, "loadBalancers"));
        redeploy = 1;
    }
    if (in_get(c, "serviceRegistries")) {
        if (check_registries(c, in_get(c, "serviceRegistries"), td) < 0)
            goto out;
        json_object_set(svc, "serviceRegistries", in_get(c, "serviceRegistries"));
        redeploy = 1;
    }
    static const char *const simple[] = {
        "placementConstraints", "placementStrategy", "healthCheckGracePeriodSeconds",
        "enableExecuteCommand", "enableECSManagedTags", "propagateTags",
        "serviceConnectConfiguration", "availabilityZoneRebalancing",
    };
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
        if (in_get(c, simple[i]))
            json_object_set(svc, simple[i], in_get(c, simple[i]));
    if (redeploy)
        ecs_service_new_deployment(c, svc);
    ecs_service_id(cluster, ecs_str(svc, "serviceName"), id, sizeof(id));
    if (store_update(c->db, &c->scope, ECS_T_SERVICE, id, svc) != STORE_OK) {
        call_internal(c, "storing service");
        goto out;
    }
    json_object_set(call_out(c), "service", svc);
    rc = 0;
out:
    json_decref(td);
    json_decref(svc);
    json_decref(cl);
    return rc;
}

int ecs_delete_service(struct call *c)
{
    char cluster[ECS_NAME_MAX], id[2 * ECS_NAME_MAX];
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    json_t *svc = find_service(c, cluster, in_str(c, "service"));
    if (!svc || strcmp(svc_status(svc), "INACTIVE") == 0) {
        json_decref(svc);
        return call_error(c, "ServiceNotFoundException", "Service not found.");
    }
    if (strcmp(svc_status(svc), "ACTIVE") == 0 &&
        json_integer_value(json_object_get(svc, "desiredCount")) > 0 &&
        !in_bool(c, "force", 0) && strcmp(ecs_str(svc, "schedulingStrategy"), "DAEMON") != 0) {
        json_decref(svc);
        return call_error(c, "InvalidParameterException",
                          "The service cannot be stopped while it is scaled above 0.");
    }
    json_object_set_new(svc, "status", json_string("DRAINING"));
    json_object_set_new(svc, "desiredCount", json_integer(0));
    ecs_service_id(cluster, ecs_str(svc, "serviceName"), id, sizeof(id));
    if (store_update(c->db, &c->scope, ECS_T_SERVICE, id, svc) != STORE_OK) {
        json_decref(svc);
        return call_internal(c, "storing service");
    }
    json_object_set_new(call_out(c), "service", svc);
    return 0;
}
