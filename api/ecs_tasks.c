/*
 * ECS tasks: RunTask, StartTask, StopTask, DescribeTasks, ListTasks, and
 * ecs_task_create, which the service scheduler uses too.
 *
 * A new task is a document in PROVISIONING with desiredStatus RUNNING,
 * marked dirty for the reconciler; it carries a private copy of what it
 * runs ("_def": the task definition's containers and settings), and its
 * runtime bookkeeping ("_rt": the phase, the per-container metadata
 * endpoint ids, the address and names of its network).  awsvpc tasks get
 * their ENI here, from the EC2 side, so DescribeNetworkInterfaces shows it
 * as real ECS does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cidr.h"
#include "ec2.h"
#include "ec2_enis.h"
#include "ecs.h"
#include "ecs_instances.h"
#include "ecs_tasks.h"
#include "../storage/db.h"

static const struct scope endpoint_scope = { "-", "-" };

/* ---- launch checks ---- */

static int strategy_launch(struct call *c, json_t *strategy, const char **launch,
                           const char **provider)
{
    /* The provider with a base, else the heaviest: where the first task
     * goes under the strategy. */
    json_t *best = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(strategy, i, s) {
        if (!best || json_integer_value(json_object_get(s, "base")) >
                         json_integer_value(json_object_get(best, "base")) ||
            (json_integer_value(json_object_get(s, "base")) ==
                 json_integer_value(json_object_get(best, "base")) &&
             json_integer_value(json_object_get(s, "weight")) >
                 json_integer_value(json_object_get(best, "weight"))))
            best = s;
    }
    const char *name = ecs_str(best, "capacityProvider");
    if (!name)
        return call_error(c, "InvalidParameterException",
                          "The capacity provider strategy is empty.");
    json_t *cp = ecs_capacity_provider_find(c, name);
    if (!cp)
        return call_error(c, "InvalidParameterException",
                          "The specified capacity provider %s does not exist.", name);
    json_decref(cp);
    /* name lives in the request (or the cluster document the caller
     * holds), as long as the call. */
    *provider = name;
    *launch = (strcmp(name, "FARGATE") == 0 || strcmp(name, "FARGATE_SPOT") == 0) ? "FARGATE" : "EC2";
    return 0;
}

static int compatible(json_t *taskdef, const char *launch)
{
    json_t *comp = json_object_get(taskdef, "compatibilities");
    if (!json_array_size(comp))
        return strcmp(launch, "FARGATE") != 0;
    size_t i;
    json_t *v;
    json_array_foreach(comp, i, v)
        if (json_string_value(v) && strcmp(json_string_value(v), launch) == 0)
            return 1;
    return 0;
}

static int check_awsvpc(struct call *c, json_t *network, const char *launch)
{
    json_t *aws = json_object_get(network, "awsvpcConfiguration");
    json_t *subnets = json_object_get(aws, "subnets");
    json_t *groups = json_object_get(aws, "securityGroups");
    if (!json_array_size(subnets))
        return call_error(c, "InvalidParameterException", "subnets can not be empty.");
    if (json_array_size(subnets) > 16)
        return call_error(c, "InvalidParameterException",
                          "subnets can have at most 16 items.");
    if (json_array_size(groups) > 5)
        return call_error(c, "InvalidParameterException",
                          "securityGroups can have at most 5 items.");
    const char *public_ip = ecs_str(aws, "assignPublicIp");
    if (public_ip && strcmp(public_ip, "ENABLED") == 0 && strcmp(launch, "FARGATE") != 0)
        return call_error(c, "InvalidParameterException",
                          "Assign public IP is not supported for this launch type.");
    char vpc[32] = "";
    size_t i;
    json_t *v;
    json_array_foreach(subnets, i, v) {
        const char *id = json_string_value(v);
        json_t *sn = store_get(c->db, &c->scope, "subnet", id);
        if (!sn)
            return call_error(c, "InvalidParameterException",
                              "Error retrieving subnet information for [%s]: The subnet ID "
                              "'%s' does not exist (ErrorCode: InvalidSubnetID.NotFound)",
                              id, id);
        const char *sv = ecs_str(sn, "VpcId");
        if (vpc[0] && strcmp(vpc, sv) != 0) {
            json_decref(sn);
            return call_error(c, "InvalidParameterException",
                              "The subnets must all belong to the same VPC.");
        }
        snprintf(vpc, sizeof(vpc), "%s", sv);
        json_decref(sn);
    }
    json_array_foreach(groups, i, v) {
        const char *id = json_string_value(v);
        json_t *sg = store_get(c->db, &c->scope, "security-group", id);
        if (!sg)
            return call_error(c, "InvalidParameterException",
                              "Error retrieving security group information for [%s]: The "
                              "security group '%s' does not exist (ErrorCode: "
                              "InvalidGroup.NotFound)", id, id);
        int same = ecs_str(sg, "VpcId") && strcmp(ecs_str(sg, "VpcId"), vpc) == 0;
        json_decref(sg);
        if (!same)
            return call_error(c, "InvalidParameterException",
                              "Security group %s does not belong to the VPC of the "
                              "subnets (%s).", id, vpc);
    }
    return 0;
}

int ecs_task_check_launch(struct call *c, json_t *cluster, json_t *taskdef,
                          const char *launch_type, json_t *strategy, json_t *network,
                          const char **launch, const char **provider)
{
    *provider = NULL;
    if (launch_type && json_array_size(strategy))
        return call_error(c, "InvalidParameterException",
                          "Specifying both a launch type and capacity provider strategy "
                          "is not supported. Remove one and try again.");
    if (!launch_type && !json_array_size(strategy))
        strategy = json_object_get(cluster, "defaultCapacityProviderStrategy");
    if (launch_type) {
        *launch = launch_type;
    } else if (json_array_size(strategy)) {
        if (ecs_strategy_check(c, cluster, strategy) < 0 ||
            strategy_launch(c, strategy, launch, provider) < 0)
            return -1;
    } else {
        *launch = "EC2";
    }
    if (strcmp(*launch, "EXTERNAL") == 0)
        return call_error(c, "InvalidParameterException",
                          "The EXTERNAL launch type (ECS Anywhere) is not emulated by "
                          "ecslocal.");
    if (!compatible(taskdef, *launch))
        return call_error(c, "InvalidParameterException",
                          "Task definition does not support launch_type %s.", *launch);
    const char *mode = ecs_taskdef_network_mode(taskdef);
    if (strcmp(mode, "awsvpc") == 0) {
        if (!json_object_get(network, "awsvpcConfiguration"))
            return call_error(c, "InvalidParameterException",
                              "Network Configuration must be provided when networkMode "
                              "'awsvpc' is specified.");
        return check_awsvpc(c, network, *launch);
    }
    if (json_object_get(network, "awsvpcConfiguration"))
        return call_error(c, "InvalidParameterException",
                          "Network Configuration is not valid for the given networkMode "
                          "of this task definition.");
    if (strcmp(*launch, "FARGATE") == 0)
        return call_error(c, "InvalidParameterException",
                          "Fargate only supports network mode 'awsvpc'.");
    return 0;
}

/* ---- creating a task ---- */

static json_t *private_def(json_t *taskdef)
{
    return json_pack("{s:O, s:s, s:s?, s:I, s:s?, s:s?, s:s?, s:s?}",
                     "containerDefinitions", json_object_get(taskdef, "containerDefinitions"),
                     "networkMode", ecs_taskdef_network_mode(taskdef),
                     "family", ecs_str(taskdef, "family"),
                     "revision", (json_int_t)json_integer_value(json_object_get(taskdef, "revision")),
                     "taskRoleArn", ecs_str(taskdef, "taskRoleArn"),
                     "executionRoleArn", ecs_str(taskdef, "executionRoleArn"),
                     "cpu", ecs_str(taskdef, "cpu"), "memory", ecs_str(taskdef, "memory"));
}

static json_t *build_containers(struct call *c, const char *cluster, const char *task_id,
                                const char *task_arn, json_t *taskdef, json_t *endpoints)
{
    json_t *out = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(taskdef, "containerDefinitions"), i, d) {
        char uuid[37], arn[ECS_ARN_MAX], res[ECS_ARN_MAX], runtime[80], eid[37];
        ecs_uuid(uuid);
        snprintf(res, sizeof(res), "container/%s/%s/%s", cluster, task_id, uuid);
        ecs_arn(c, res, arn, sizeof(arn));
        snprintf(runtime, sizeof(runtime), "%s-%zu", task_id, i + 1);
        json_t *ctr = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s, s:[], s:[], s:s}",
                                "containerArn", arn, "taskArn", task_arn,
                                "name", ecs_str(d, "name"), "image", ecs_str(d, "image"),
                                "runtimeId", runtime, "lastStatus", "PENDING",
                                "networkBindings", "networkInterfaces",
                                "healthStatus", "UNKNOWN");
        char cpu[32];
        snprintf(cpu, sizeof(cpu), "%lld", (long long)json_integer_value(json_object_get(d, "cpu")));
        json_object_set_new(ctr, "cpu", json_string(cpu));
        if (json_is_integer(json_object_get(d, "memory"))) {
            snprintf(cpu, sizeof(cpu), "%lld", (long long)json_integer_value(json_object_get(d, "memory")));
            json_object_set_new(ctr, "memory", json_string(cpu));
        }
        if (json_is_integer(json_object_get(d, "memoryReservation"))) {
            snprintf(cpu, sizeof(cpu), "%lld",
                     (long long)json_integer_value(json_object_get(d, "memoryReservation")));
            json_object_set_new(ctr, "memoryReservation", json_string(cpu));
        }
        json_array_append_new(out, ctr);
        /* The container's metadata endpoint id (ECS_CONTAINER_METADATA_URI_V4);
         * stored with the task (store_endpoints). */
        ecs_uuid(eid);
        json_object_set_new(endpoints, ecs_str(d, "name"), json_string(eid));
    }
    return out;
}

/* The metadata server (server/tmds.c) finds a task and container by the
 * endpoint id in the container's URI, across accounts: one row per
 * container in _rt.endpoints, from the task's insert to its release. */
static int store_endpoints(struct call *c, const char *task_id, json_t *task)
{
    const char *name;
    json_t *eid;
    json_object_foreach(json_object_get(json_object_get(task, "_rt"), "endpoints"), name, eid) {
        json_t *ep = json_pack("{s:s, s:s, s:s, s:s}", "account", c->account, "region",
                               c->region, "task", task_id, "container", name);
        int rc = store_insert(c->db, &endpoint_scope, "ecs-endpoint", json_string_value(eid),
                              task_id, NULL, ep);
        json_decref(ep);
        if (rc != STORE_OK)
            return -1;
    }
    return 0;
}

static void delete_endpoints(struct db *db, json_t *task)
{
    const char *name;
    json_t *eid;
    json_object_foreach(json_object_get(json_object_get(task, "_rt"), "endpoints"), name, eid)
        store_delete(db, &endpoint_scope, "ecs-endpoint", json_string_value(eid));
}

static json_t *default_overrides(json_t *overrides)
{
    json_t *o = overrides ? json_deep_copy(overrides) : json_object();
    if (!json_object_get(o, "containerOverrides"))
        json_object_set_new(o, "containerOverrides", json_array());
    if (!json_object_get(o, "inferenceAcceleratorOverrides"))
        json_object_set_new(o, "inferenceAcceleratorOverrides", json_array());
    return o;
}

/* The next subnet of the configuration, round robin per call. */
static const char *pick_subnet(json_t *network, long long n)
{
    json_t *subnets = json_object_get(json_object_get(network, "awsvpcConfiguration"), "subnets");
    size_t count = json_array_size(subnets);
    return count ? json_string_value(json_array_get(subnets, (size_t)n % count)) : NULL;
}

/* Give an awsvpc task its ENI and what follows from it: the attachment,
 * the containers' networkInterfaces, the zone, and its network identity
 * for the runtime. */
static int attach_eni(struct call *c, json_t *task, json_t *network, const char *ec2_instance)
{
    long long n = store_next(c->db, &c->scope, "ecs-subnet-rr");
    const char *subnet_id = pick_subnet(network, n < 0 ? 0 : n);
    json_t *groups = json_object_get(json_object_get(network, "awsvpcConfiguration"),
                                     "securityGroups");
    char attachment[37];
    ecs_uuid(attachment);
    json_t *eni = NULL;
    struct call ec2c = *c;
    ec2c.svc = model_service(SVC_EC2);
    if (ec2_task_eni_create(&ec2c, subnet_id, json_array_size(groups) ? groups : NULL,
                            attachment, ec2_instance, &eni) < 0) {
        if (strcmp(ec2c.code, "InsufficientFreeAddressesInSubnet") == 0)
            return 1;   /* a placement failure, reported per task */
        return call_error(c, "InvalidParameterException", "%s", ec2c.message);
    }
    const char *ip = ecs_str(eni, "PrivateIpAddress");
    const char *dns = ecs_str(eni, "PrivateDnsName");
    json_object_set_new(task, "attachments", json_pack(
        "[{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s?}, {s:s, s:s?}, {s:s, s:s?}, {s:s, s:s?}]}]",
        "id", attachment, "type", "ElasticNetworkInterface", "status", "ATTACHED",
        "details", "name", "subnetId", "value", subnet_id,
        "name", "networkInterfaceId", "value", ecs_str(eni, "NetworkInterfaceId"),
        "name", "macAddress", "value", ecs_str(eni, "MacAddress"),
        "name", "privateDnsName", "value", dns,
        "name", "privateIPv4Address", "value", ip));
    size_t i;
    json_t *ctr;
    json_array_foreach(json_object_get(task, "containers"), i, ctr)
        json_object_set_new(ctr, "networkInterfaces",
                            json_pack("[{s:s, s:s?}]", "attachmentId", attachment,
                                      "privateIpv4Address", ip));
    json_object_set_new(task, "availabilityZone", json_string(ecs_str(eni, "AvailabilityZone")));

    /* The network identity the runtime gives the task. */
    json_t *subnet = store_get(c->db, &c->scope, "subnet", subnet_id);
    json_t *vpc = subnet ? store_get(c->db, &c->scope, "vpc", ecs_str(subnet, "VpcId")) : NULL;
    struct cidr sc = { 0, 0 }, vc = { 0, 0 };
    cidr_parse(ecs_str(subnet, "CidrBlock") ? ecs_str(subnet, "CidrBlock") : "0.0.0.0/0", &sc);
    cidr_parse(ecs_str(vpc, "CidrBlock") ? ecs_str(vpc, "CidrBlock") : "0.0.0.0/0", &vc);
    char gw[40], gwip[16], resolver[16], search[64];
    ip_format(sc.base + 1, gwip, sizeof(gwip));
    snprintf(gw, sizeof(gw), "%s/%d", gwip, sc.prefix);
    ip_format(vc.base + 2, resolver, sizeof(resolver));
    if (strcmp(c->region, "us-east-1") == 0)
        snprintf(search, sizeof(search), "ec2.internal");
    else
        snprintf(search, sizeof(search), "%s.compute.internal", c->region);
    int dns_hostnames = vpc && json_is_true(json_object_get(vpc, "_EnableDnsHostnames")) &&
                        json_is_true(json_object_get(vpc, "_EnableDnsSupport"));
    json_t *rt = json_object_get(task, "_rt");
    json_object_set_new(rt, "eni", json_string(ecs_str(eni, "NetworkInterfaceId")));
    json_object_set_new(rt, "ip", json_string(ip));
    json_object_set_new(rt, "resolver", json_string(resolver));
    json_object_set_new(rt, "search", json_string(search));
    if (dns_hostnames && dns)
        json_object_set_new(rt, "hostname", json_string(dns));
    json_object_set_new(rt, "net", json_pack("{s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:s, s:s}",
                                             "ip", ip, "mac", ecs_str(eni, "MacAddress"),
                                             "subnet_cidr", ecs_str(subnet, "CidrBlock"),
                                             "gateway", gw, "private_dns", dns,
                                             "vpc_id", ecs_str(subnet, "VpcId"),
                                             "resolver", resolver, "search", search));
    json_decref(subnet);
    json_decref(vpc);
    json_decref(eni);
    return 0;
}

int ecs_task_create(struct call *c, const struct ecs_task_request *rq, json_t **out,
                    json_t *failures)
{
    const char *cluster = ecs_str(rq->cluster, "clusterName");
    const char *mode = ecs_taskdef_network_mode(rq->taskdef);
    char id[33], arn[ECS_ARN_MAX], group[ECS_ARN_MAX];
    json_t *instance = NULL;
    ecs_new_id(id);
    ecs_task_arn(c, cluster, id, arn, sizeof(arn));

    struct ecs_needs needs;
    ecs_task_needs(rq->taskdef, rq->overrides, &needs);
    if (strcmp(rq->launch_type, "EC2") == 0) {
        int rc = ecs_place_task(c, rq->cluster, &needs, rq->instance_id, failures, &instance);
        if (rc != 0) {
            ecs_needs_free(&needs);
            return rc;
        }
    }

    const char *family = ecs_str(rq->taskdef, "family");
    if (rq->group)
        snprintf(group, sizeof(group), "%s", rq->group);
    else
        snprintf(group, sizeof(group), "family:%s", family);
    json_t *endpoints = json_object();
    json_t *task = json_pack(
        "{s:s, s:O, s:O, s:o, s:s, s:s, s:I, s:f, s:s, s:f, s:s, s:s, s:[{s:s, s:s}],"
        " s:[], s:b, s:s, s:o, s:o}",
        "taskArn", arn, "clusterArn", json_object_get(rq->cluster, "clusterArn"),
        "taskDefinitionArn", json_object_get(rq->taskdef, "taskDefinitionArn"),
        "overrides", default_overrides(rq->overrides),
        "lastStatus", "PROVISIONING", "desiredStatus", "RUNNING",
        "version", (json_int_t)1, "createdAt", c->now,
        "connectivity", "CONNECTED", "connectivityAt", c->now,
        "launchType", rq->launch_type, "group", group,
        "attributes", "name", "ecs.cpu-architecture", "value", "x86_64",
        "attachments", "enableExecuteCommand", rq->enable_execute_command,
        "healthStatus", "UNKNOWN",
        "_def", private_def(rq->taskdef),
        "_rt", json_pack("{s:s, s:o}", "phase", "new", "endpoints", endpoints));
    json_object_set_new(task, "containers",
                        build_containers(c, cluster, id, arn, rq->taskdef, endpoints));
    char text[32];
    if (needs.cpu > 0 || ecs_str(rq->taskdef, "cpu")) {
        snprintf(text, sizeof(text), "%lld", needs.cpu);
        json_object_set_new(task, "cpu", json_string(text));
    }
    if (needs.memory > 0 || ecs_str(rq->taskdef, "memory")) {
        snprintf(text, sizeof(text), "%lld", needs.memory);
        json_object_set_new(task, "memory", json_string(text));
    }
    ecs_needs_free(&needs);
    if (rq->started_by)
        json_object_set_new(task, "startedBy", json_string(rq->started_by));
    if (rq->capacity_provider)
        json_object_set_new(task, "capacityProviderName", json_string(rq->capacity_provider));
    json_object_set_new(task, "tags", rq->tags ? json_deep_copy(rq->tags) : json_array());
    if (strcmp(rq->launch_type, "FARGATE") == 0) {
        const char *pv = rq->platform_version;
        json_object_set_new(task, "platformVersion",
                            json_string(!pv || strcmp(pv, "LATEST") == 0 ? "1.4.0" : pv));
        json_object_set_new(task, "platformFamily", json_string("Linux"));
        json_object_set_new(task, "ephemeralStorage", json_pack("{s:i}", "sizeInGiB", 20));
    }
    const char *ec2_instance = NULL;
    if (instance) {
        json_object_set(task, "containerInstanceArn",
                        json_object_get(instance, "containerInstanceArn"));
        ec2_instance = ecs_str(instance, "ec2InstanceId");
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(instance, "attributes"), i, a)
            if (ecs_str(a, "name") && strcmp(ecs_str(a, "name"), "ecs.availability-zone") == 0)
                json_object_set(task, "availabilityZone", json_object_get(a, "value"));
    }
    if (strcmp(mode, "awsvpc") == 0) {
        int rc = attach_eni(c, task, rq->network, ec2_instance);
        if (rc != 0) {
            if (rc > 0)
                ecs_add_failure(failures, arn, "RESOURCE:ENI",
                                "The subnet does not have enough free addresses.");
            json_decref(task);
            json_decref(instance);
            return rc;
        }
    } else if (instance && ecs_take_host_ports(c, instance, task, mode) < 0) {
        json_decref(task);
        json_decref(instance);
        return -1;
    }
    json_decref(instance);
    if (store_insert(c->db, &c->scope, ECS_T_TASK, id, cluster, NULL, task) != STORE_OK ||
        store_endpoints(c, id, task) < 0 ||
        store_mark_dirty(c->db, &c->scope, ECS_T_TASK, id) != STORE_OK) {
        json_decref(task);
        return call_internal(c, "storing task");
    }
    *out = task;
    return 0;
}

int ecs_task_stop(struct call *c, json_t *task, const char *code, const char *reason)
{
    const char *desired = ecs_str(task, "desiredStatus");
    if (desired && strcmp(desired, "STOPPED") == 0)
        return 0;
    json_object_set_new(task, "desiredStatus", json_string("STOPPED"));
    json_object_set_new(task, "stopCode", json_string(code));
    json_object_set_new(task, "stoppedReason", json_string(reason));
    json_object_set_new(task, "stoppingAt", json_real(c->now));
    json_object_set_new(task, "version",
                        json_integer(json_integer_value(json_object_get(task, "version")) + 1));
    const char *id = strrchr(ecs_str(task, "taskArn"), '/') + 1;
    if (store_update(c->db, &c->scope, ECS_T_TASK, id, task) != STORE_OK ||
        store_mark_dirty(c->db, &c->scope, ECS_T_TASK, id) != STORE_OK)
        return call_internal(c, "storing task");
    return 0;
}

struct on_instance {
    const char *arn;
    json_t *out;
};

static int task_on_instance(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct on_instance *w = arg;
    const char *ci = ecs_str(doc, "containerInstanceArn");
    const char *last = ecs_str(doc, "lastStatus");
    if (ci && strcmp(ci, w->arn) == 0 && !(last && strcmp(last, "STOPPED") == 0))
        json_array_append(w->out, doc);
    return 0;
}

json_t *ecs_tasks_on_instance(struct call *c, const char *cluster, const char *arn)
{
    struct on_instance w = { arn, json_array() };
    store_each(c->db, &c->scope, ECS_T_TASK, cluster, NULL, task_on_instance, &w);
    return w.out;
}

int ecs_task_release(struct db *db, const struct scope *s, json_t *task, double now)
{
    struct call c;
    memset(&c, 0, sizeof(c));
    c.svc = model_service(SVC_EC2);
    c.db = db;
    snprintf(c.account, sizeof(c.account), "%s", s->account);
    snprintf(c.region, sizeof(c.region), "%s", s->region);
    c.scope.account = c.account;
    c.scope.region = c.region;
    c.now = now;
    json_t *rt = json_object_get(task, "_rt");
    const char *eni = ecs_str(rt, "eni");
    if (eni && ec2_task_eni_delete(&c, eni) < 0 &&
        strcmp(c.code, "InvalidNetworkInterfaceID.NotFound") != 0)
        fprintf(stderr, "ecslocal: releasing %s: %s\n", eni, c.message);
    json_object_del(rt, "eni");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(task, "attachments"), i, a)
        json_object_set_new(a, "status", json_string("DELETED"));
    const char *id = strrchr(ecs_str(task, "taskArn"), '/') + 1;
    store_release_owner(db, s, id);
    delete_endpoints(db, task);
    return 0;
}

/* ---- handlers ---- */

static json_t *request_taskdef(struct call *c)
{
    json_t *td = ecs_taskdef_get(c, in_str(c, "taskDefinition"), "TaskDefinition not found.");
    if (!td)
        return NULL;
    const char *status = ecs_str(td, "status");
    if (status && strcmp(status, "ACTIVE") != 0) {
        json_decref(td);
        call_error(c, "ClientException", "TaskDefinition is inactive");
        return NULL;
    }
    return td;
}

static int check_overrides(struct call *c, json_t *taskdef)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(in_get(c, "overrides"), "containerOverrides"), i, o) {
        const char *name = ecs_str(o, "name");
        int found = 0;
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(taskdef, "containerDefinitions"), k, d)
            found |= name && ecs_str(d, "name") && strcmp(ecs_str(d, "name"), name) == 0;
        if (!found)
            return call_error(c, "InvalidParameterException",
                              "Override for container named %s is not a container in the "
                              "TaskDefinition.", name ? name : "null");
    }
    return 0;
}

static int start_tasks(struct call *c, json_t *instances)
{
    char cluster[ECS_NAME_MAX];
    json_t *cl = ecs_cluster_get(c, in_str(c, "cluster"), 0, cluster, sizeof(cluster));
    if (!cl)
        return -1;
    json_t *td = request_taskdef(c);
    if (!td) {
        json_decref(cl);
        return -1;
    }
    long long count = instances ? (long long)json_array_size(instances) : in_int(c, "count", 1);
    const char *launch = NULL, *provider = NULL;
    json_t *tags = NULL;
    int rc = -1;
    if (count < 1 || count > 10) {
        call_error(c, "InvalidParameterException",
                   instances ? "ContainerInstances must have between 1 and 10 items."
                             : "count must be between 1 and 10.");
        goto out;
    }
    if (check_overrides(c, td) < 0)
        goto out;
    if (instances) {
        launch = "EC2";
        if (ecs_task_check_launch(c, cl, td, "EC2", NULL, in_get(c, "networkConfiguration"),
                                  &launch, &provider) < 0)
            goto out;
    } else if (ecs_task_check_launch(c, cl, td, in_str(c, "launchType"),
                                     in_get(c, "capacityProviderStrategy"),
                                     in_get(c, "networkConfiguration"), &launch, &provider) < 0) {
        goto out;
    }
    if (!(tags = ecs_request_tags(c)))
        goto out;
    json_t *tasks = json_array(), *failures = json_array();
    for (long long i = 0; i < count; i++) {
        struct ecs_task_request rq = {
            .cluster = cl, .taskdef = td, .launch_type = launch,
            .capacity_provider = provider,
            .network = in_get(c, "networkConfiguration"),
            .overrides = in_get(c, "overrides"),
            .started_by = in_str(c, "startedBy"), .group = in_str(c, "group"),
            .tags = tags, .platform_version = in_str(c, "platformVersion"),
            .enable_execute_command = in_bool(c, "enableExecuteCommand", 0),
            .instance_id = instances ? json_string_value(json_array_get(instances, (size_t)i)) : NULL,
        };
        json_t *task = NULL;
        int r = ecs_task_create(c, &rq, &task, failures);
        if (r < 0) {
            json_decref(tasks);
            json_decref(failures);
            goto out;
        }
        if (r == 0)
            json_array_append_new(tasks, task);
    }
    json_object_set_new(call_out(c), "tasks", tasks);
    json_object_set_new(c->out, "failures", failures);
    rc = 0;
out:
    json_decref(tags);
    json_decref(td);
    json_decref(cl);
    return rc;
}

int ecs_run_task(struct call *c)
{
    return start_tasks(c, NULL);
}

int ecs_start_task(struct call *c)
{
    json_t *instances = in_get(c, "containerInstances");
    if (!json_array_size(instances))
        return call_error(c, "InvalidParameterException",
                          "ContainerInstances cannot be empty.");
    return start_tasks(c, instances);
}

/* The task a reference (id or ARN) names in cluster, or NULL. */
static json_t *find_task(struct call *c, const char *cluster, const char *ref)
{
    const char *slash = strrchr(ref, '/');
    const char *id = slash ? slash + 1 : ref;
    if (strlen(id) != 32)
        return NULL;
    json_t *task = store_get(c->db, &c->scope, ECS_T_TASK, id);
    if (task) {
        struct ecs_arn a;
        if (ecs_arn_parse(ecs_str(task, "clusterArn"), &a) < 0 ||
            strcmp(a.name, cluster) != 0) {
            json_decref(task);
            return NULL;
        }
    }
    return task;
}

int ecs_stop_task(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    json_t *task = find_task(c, cluster, in_str(c, "task"));
    if (!task)
        return call_error(c, "InvalidParameterException", "The referenced task was not found.");
    const char *reason = in_str(c, "reason");
    if (ecs_task_stop(c, task, "UserInitiated", reason ? reason : "Task stopped by user") < 0) {
        json_decref(task);
        return -1;
    }
    json_object_set_new(call_out(c), "task", task);
    return 0;
}

int ecs_describe_tasks(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    json_t *refs = in_get(c, "tasks");
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    if (json_array_size(refs) == 0)
        return call_error(c, "InvalidParameterException", "Tasks cannot be empty.");
    if (json_array_size(refs) > 100)
        return call_error(c, "InvalidParameterException", "Tasks can have at most 100 items.");
    ecs_describe_refs(c, refs, cluster, find_task, ecs_task_arn, "tasks");
    return 0;
}

int ecs_list_tasks(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    if (in_str(c, "family") && in_str(c, "serviceName"))
        return call_error(c, "InvalidParameterException",
                          "The family and serviceName parameters cannot be specified together.");
    /* Every filter is an equality on the stored document, so SQLite
     * answers without a task being parsed. */
    struct store_filter f = { { NULL }, { NULL }, NULL, NULL };
    int n = 0;
    char group[ECS_NAME_MAX + 16];
    const char *service = in_str(c, "serviceName");
    if (service && strrchr(service, '/'))
        service = strrchr(service, '/') + 1;
    if (service)
        snprintf(group, sizeof(group), "service:%s", service);
    const struct { const char *path, *value; } eq[] = {
        { "$.desiredStatus", in_str(c, "desiredStatus") ? in_str(c, "desiredStatus") : "RUNNING" },
        { "$._def.family", in_str(c, "family") },
        { "$.startedBy", in_str(c, "startedBy") },
        { "$.group", service ? group : NULL },
        { "$.launchType", in_str(c, "launchType") },
    };
    for (size_t i = 0; i < sizeof(eq) / sizeof(eq[0]); i++) {
        if (!eq[i].value)
            continue;
        f.eq_path[n] = eq[i].path;
        f.eq_value[n++] = eq[i].value;
    }
    const char *instance = in_str(c, "containerInstance");
    if (instance) {
        f.tail_path = "$.containerInstanceArn";
        f.tail_value = strrchr(instance, '/') ? strrchr(instance, '/') + 1 : instance;
    }
    return ecs_list_arns_where(c, ECS_T_TASK, cluster, 100, 100, &f, "$.taskArn",
                               "taskArns");
}
