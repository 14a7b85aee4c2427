/*
 * ECS container instances and task placement (see ecs_instances.h):
 * RegisterContainerInstance, DeregisterContainerInstance,
 * DescribeContainerInstances, ListContainerInstances,
 * UpdateContainerInstancesState.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ec2.h"
#include "ec2_instances.h"
#include "ecs.h"
#include "ecs_instances.h"
#include "ecs_tasks.h"

#define DYNAMIC_LO 49153
#define DYNAMIC_HI 65535

/* The ports the agent reserves on every instance. */
static const char *const reserved_ports[] = { "22", "2376", "2375", "51678", "51679" };

/* What an instance type offers (CPU units, MiB the agent registers). */
static const struct {
    const char *type;
    long long cpu, memory;
} instance_types[] = {
    { "t3.micro", 2048, 943 }, { "t3.small", 2048, 1939 }, { "t3.medium", 2048, 3928 },
    { "t3.large", 2048, 7875 }, { "m5.large", 2048, 7681 }, { "m5.xlarge", 4096, 15578 },
    { "m5.2xlarge", 8192, 31381 }, { "m5.4xlarge", 16384, 63374 },
    { "c5.large", 2048, 3764 }, { "c5.xlarge", 4096, 7569 },
};

/* The instance ecslocal provisions for a cluster that has none. */
#define AUTO_INSTANCE_TYPE "m5.4xlarge"

static void type_resources(const char *type, long long *cpu, long long *memory)
{
    *cpu = 2048;
    *memory = 3928;
    for (size_t i = 0; i < sizeof(instance_types) / sizeof(instance_types[0]); i++)
        if (type && strcmp(instance_types[i].type, type) == 0) {
            *cpu = instance_types[i].cpu;
            *memory = instance_types[i].memory;
        }
}

static json_t *int_resource(const char *name, long long v)
{
    return json_pack("{s:s, s:s, s:f, s:I, s:I}", "name", name, "type", "INTEGER",
                     "doubleValue", 0.0, "longValue", (json_int_t)0, "integerValue", (json_int_t)v);
}

static json_t *set_resource(const char *name, json_t *values)
{
    return json_pack("{s:s, s:s, s:f, s:I, s:I, s:o}", "name", name, "type", "STRINGSET",
                     "doubleValue", 0.0, "longValue", (json_int_t)0, "integerValue",
                     (json_int_t)0, "stringSetValue", values);
}

static long long resource_int(json_t *list, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
        if (ecs_str(r, "name") && strcmp(ecs_str(r, "name"), name) == 0)
            return json_integer_value(json_object_get(r, "integerValue"));
    return 0;
}

/* ---- what tasks need ---- */

static long long atoll_or(const char *s, long long dflt)
{
    return s && *s ? atoll(s) : dflt;
}

static json_t *override_for(json_t *overrides, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(overrides, "containerOverrides"), i, o)
        if (ecs_str(o, "name") && strcmp(ecs_str(o, "name"), name) == 0)
            return o;
    return NULL;
}

void ecs_task_needs(json_t *taskdef, json_t *overrides, struct ecs_needs *n)
{
    const char *mode = ecs_taskdef_network_mode(taskdef);
    long long cpu = 0, mem = 0;
    n->ports = json_array();
    n->ports_udp = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(taskdef, "containerDefinitions"), i, d) {
        json_t *o = override_for(overrides, ecs_str(d, "name"));
        json_t *ccpu = json_object_get(o, "cpu") ? json_object_get(o, "cpu") : json_object_get(d, "cpu");
        json_t *cmem = json_object_get(o, "memory") ? json_object_get(o, "memory") : json_object_get(d, "memory");
        json_t *cres = json_object_get(o, "memoryReservation") ? json_object_get(o, "memoryReservation")
                                                               : json_object_get(d, "memoryReservation");
        cpu += json_integer_value(ccpu);
        mem += json_is_integer(cres) ? json_integer_value(cres) : json_integer_value(cmem);
        size_t k;
        json_t *pm;
        json_array_foreach(json_object_get(d, "portMappings"), k, pm) {
            json_t *hp = json_object_get(pm, "hostPort");
            long long port = json_integer_value(hp);
            if (strcmp(mode, "host") == 0)
                port = json_integer_value(json_object_get(pm, "containerPort"));
            if (strcmp(mode, "awsvpc") == 0 || port <= 0)
                continue;
            const char *proto = ecs_str(pm, "protocol");
            json_array_append_new(proto && strcmp(proto, "udp") == 0 ? n->ports_udp : n->ports,
                                  json_integer(port));
        }
    }
    /* Task-level sizes win over the sum of the containers'. */
    n->cpu = atoll_or(ecs_str(overrides, "cpu"), atoll_or(ecs_str(taskdef, "cpu"), cpu));
    n->memory = atoll_or(ecs_str(overrides, "memory"), atoll_or(ecs_str(taskdef, "memory"), mem));
}

void ecs_needs_free(struct ecs_needs *n)
{
    json_decref(n->ports);
    json_decref(n->ports_udp);
    n->ports = n->ports_udp = NULL;
}

/* ---- live view of an instance ---- */

struct usage {
    const char *arn;
    long long cpu, memory, running, pending;
    json_t *ports, *ports_udp;
};

static int add_usage(json_t *task, const char *id, void *arg)
{
    (void)id;
    struct usage *u = arg;
    const char *last = ecs_str(task, "lastStatus");
    if (last && strcmp(last, "STOPPED") == 0)
        return 0;
    if (last && strcmp(last, "RUNNING") == 0)
        u->running++;
    else
        u->pending++;
    /* _def holds what ecs_task_needs reads of a task definition. */
    struct ecs_needs n;
    ecs_task_needs(json_object_get(task, "_def"), json_object_get(task, "overrides"), &n);
    u->cpu += n.cpu;
    u->memory += n.memory;
    json_array_extend(u->ports, n.ports);
    json_array_extend(u->ports_udp, n.ports_udp);
    ecs_needs_free(&n);
    return 0;
}

static int instance_usage(struct call *c, json_t *inst, struct usage *u)
{
    char cluster[ECS_NAME_MAX];
    memset(u, 0, sizeof(*u));
    u->arn = ecs_str(inst, "containerInstanceArn");
    u->ports = json_array();
    u->ports_udp = json_array();
    struct ecs_arn a;
    if (ecs_arn_parse(u->arn, &a) < 0)
        return 0;
    snprintf(cluster, sizeof(cluster), "%s", a.cluster);
    /* Once per instance for Describe and placement: only its own tasks
     * are parsed, not the whole cluster's. */
    struct store_filter mine = { { "$.containerInstanceArn" }, { u->arn }, NULL, NULL };
    if (store_each_where(c->db, &c->scope, ECS_T_TASK, cluster, NULL, &mine, add_usage, u) < 0)
        return call_internal(c, "reading tasks");
    return 0;
}

static void usage_free(struct usage *u)
{
    json_decref(u->ports);
    json_decref(u->ports_udp);
}

static json_t *strings_of(json_t *ints, const char *const *base, size_t nbase)
{
    json_t *out = json_array();
    for (size_t i = 0; i < nbase; i++)
        json_array_append_new(out, json_string(base[i]));
    size_t i;
    json_t *p;
    json_array_foreach(ints, i, p) {
        char s[16];
        snprintf(s, sizeof(s), "%lld", (long long)json_integer_value(p));
        json_array_append_new(out, json_string(s));
    }
    return out;
}

/* The instance as Describe shows it: counters and remaining resources. */
static int instance_view(struct call *c, json_t *inst)
{
    struct usage u;
    if (instance_usage(c, inst, &u) < 0) {
        usage_free(&u);
        return -1;
    }
    json_t *reg = json_object_get(inst, "registeredResources");
    json_t *rem = json_pack("[o, o, o, o]",
                            int_resource("CPU", resource_int(reg, "CPU") - u.cpu),
                            int_resource("MEMORY", resource_int(reg, "MEMORY") - u.memory),
                            set_resource("PORTS", strings_of(u.ports, reserved_ports, 5)),
                            set_resource("PORTS_UDP", strings_of(u.ports_udp, NULL, 0)));
    json_object_set_new(inst, "remainingResources", rem);
    json_object_set_new(inst, "runningTasksCount", json_integer(u.running));
    json_object_set_new(inst, "pendingTasksCount", json_integer(u.pending));
    usage_free(&u);
    return 0;
}

/* ---- registration ---- */

static json_t *instance_attributes(const char *type, json_t *ec2)
{
    json_t *attrs = json_array();
    static const char *const caps[] = {
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        "com.amazonaws.ecs.capability.logging-driver.json-file",
        "com.amazonaws.ecs.capability.docker-remote-api.1.44",
        "com.amazonaws.ecs.capability.task-iam-role",
        "ecs.capability.task-eni",
        "ecs.capability.container-health-check",
        "ecs.capability.container-ordering",
        "ecs.capability.execution-role-awslogs",
        "ecs.capability.task-cpu-mem-limit",
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        json_array_append_new(attrs, json_pack("{s:s}", "name", caps[i]));
    json_t *placement = json_object_get(ec2, "Placement");
    struct { const char *name; const char *value; } kv[] = {
        { "ecs.os-type", "linux" },
        { "ecs.os-family", "LINUX" },
        { "ecs.cpu-architecture", "x86_64" },
        { "ecs.instance-type", type },
        { "ecs.ami-id", ecs_str(ec2, "ImageId") },
        { "ecs.availability-zone", ecs_str(placement, "AvailabilityZone") },
        { "ecs.vpc-id", ecs_str(ec2, "VpcId") },
        { "ecs.subnet-id", ecs_str(ec2, "SubnetId") },
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        if (kv[i].value)
            json_array_append_new(attrs, json_pack("{s:s, s:s}", "name", kv[i].name,
                                                   "value", kv[i].value));
    return attrs;
}

/* Register an EC2 instance (its Instance view) in the cluster. */
static json_t *register_instance(struct call *c, const char *cluster, json_t *ec2,
                                 json_t *total, json_t *attributes, json_t *tags,
                                 int automatic)
{
    char id[33], arn[ECS_ARN_MAX];
    ecs_new_id(id);
    ecs_container_instance_arn(c, cluster, id, arn, sizeof(arn));
    const char *type = ecs_str(ec2, "InstanceType");
    long long cpu, memory;
    type_resources(type, &cpu, &memory);
    if (json_array_size(total)) {
        long long tc = resource_int(total, "CPU"), tm = resource_int(total, "MEMORY");
        if (tc > 0)
            cpu = tc;
        if (tm > 0)
            memory = tm;
    }
    json_t *reg = json_pack("[o, o, o, o]", int_resource("CPU", cpu),
                            int_resource("MEMORY", memory),
                            set_resource("PORTS", strings_of(NULL, reserved_ports, 5)),
                            set_resource("PORTS_UDP", json_array()));
    json_t *attrs = instance_attributes(type, ec2);
    size_t i;
    json_t *a;
    json_array_foreach(attributes, i, a)
        json_array_append(attrs, a);
    json_t *doc = json_pack(
        "{s:s, s:s?, s:I, s:{s:s, s:s, s:s}, s:o, s:O, s:s, s:b, s:I, s:I, s:o, s:f,"
        " s:[], s:o, s:{s:s, s:[]}}",
        "containerInstanceArn", arn, "ec2InstanceId", ecs_str(ec2, "InstanceId"),
        "version", (json_int_t)1,
        "versionInfo", "agentVersion", "1.105.1", "agentHash", "8dfceca6",
        "dockerVersion", "DockerVersion: 25.0.8",
        "registeredResources", reg, "remainingResources", reg,
        "status", "ACTIVE", "agentConnected", 1,
        "runningTasksCount", (json_int_t)0, "pendingTasksCount", (json_int_t)0,
        "attributes", attrs, "registeredAt", c->now, "attachments",
        "tags", tags ? json_incref(tags) : json_array(),
        "healthStatus", "overallStatus", "OK", "details");
    if (automatic)
        json_object_set_new(doc, "_auto", json_true());
    if (store_insert(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, id, cluster, NULL, doc) !=
        STORE_OK) {
        json_decref(doc);
        call_internal(c, "storing container instance");
        return NULL;
    }
    return doc;
}

static json_t *auto_instance(struct call *c, const char *cluster)
{
    json_t *ec2;
    json_t *tags = json_pack("[{s:s, s:s}]", "Key", "ecslocal:auto-instance", "Value", cluster);
    /* Created through the EC2 side, so DescribeInstances and
     * DescribeNetworkInterfaces show it (attachment.instance-id). */
    struct call ec2c = *c;
    ec2c.svc = model_service(SVC_EC2);
    int rc = ec2_instance_create(&ec2c, NULL, NULL, AUTO_INSTANCE_TYPE, tags, &ec2);
    json_decref(tags);
    if (rc < 0) {
        c->status = ec2c.status;
        snprintf(c->code, sizeof(c->code), "%s", ec2c.code);
        snprintf(c->message, sizeof(c->message), "%s", ec2c.message);
        return NULL;
    }
    json_t *ci = register_instance(c, cluster, ec2, NULL, NULL, NULL, 1);
    json_decref(ec2);
    return ci;
}

int ecs_register_container_instance(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    if (ecs_request_cluster(c, 0, cluster, sizeof(cluster)) < 0)
        return -1;
    json_t *ec2 = NULL;
    const char *doc = in_str(c, "instanceIdentityDocument");
    struct call ec2c = *c;
    ec2c.svc = model_service(SVC_EC2);
    if (doc) {
        json_error_t e;
        json_t *ident = json_loads(doc, 0, &e);
        const char *iid = ecs_str(ident, "instanceId");
        if (!iid) {
            json_decref(ident);
            return call_error(c, "ClientException",
                              "The instance identity document is not valid.");
        }
        ec2 = ec2_instance_view(&ec2c, iid);
        json_decref(ident);
        if (!ec2)
            return call_error(c, "InvalidParameterException",
                              "The instance in the identity document does not exist.");
    } else if (ec2_instance_create(&ec2c, NULL, NULL, "t3.medium", NULL, &ec2) < 0) {
        return call_error(c, ec2c.code, "%s", ec2c.message);
    }
    json_t *tags = ecs_request_tags(c);
    if (!tags) {
        json_decref(ec2);
        return -1;
    }
    json_t *ci = register_instance(c, cluster, ec2, in_get(c, "totalResources"),
                                   in_get(c, "attributes"), tags, 0);
    json_decref(tags);
    json_decref(ec2);
    if (!ci)
        return -1;
    instance_view(c, ci);
    json_object_set_new(call_out(c), "containerInstance", ci);
    return 0;
}

/* ---- lookups ---- */

/* The container instance a reference (id or ARN) names in cluster. */
static json_t *find_instance(struct call *c, const char *ref)
{
    const char *slash = strrchr(ref, '/');
    return store_get(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, slash ? slash + 1 : ref);
}

static int instance_in_cluster(json_t *inst, const char *cluster)
{
    struct ecs_arn a;
    return ecs_arn_parse(ecs_str(inst, "containerInstanceArn"), &a) == 0 &&
           strcmp(a.cluster, cluster) == 0;
}

/* The container instance a reference names, if it is in cluster. */
static json_t *find_instance_in(struct call *c, const char *cluster, const char *ref)
{
    json_t *inst = find_instance(c, ref);
    if (inst && !instance_in_cluster(inst, cluster)) {
        json_decref(inst);
        return NULL;
    }
    return inst;
}

int ecs_describe_container_instances(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    json_t *refs = in_get(c, "containerInstances");
    if (json_array_size(refs) == 0)
        return call_error(c, "InvalidParameterException",
                          "ContainerInstances cannot be empty.");
    if (json_array_size(refs) > 100)
        return call_error(c, "InvalidParameterException",
                          "ContainerInstances can have at most 100 items.");
    ecs_describe_refs(c, refs, cluster, find_instance_in, ecs_container_instance_arn,
                      "containerInstances");
    /* The live view: counters and remaining resources. */
    size_t i;
    json_t *inst;
    json_array_foreach(json_object_get(c->out, "containerInstances"), i, inst)
        instance_view(c, inst);
    return 0;
}

static int keep_instance(json_t *doc, void *arg)
{
    const char *want = arg;
    const char *status = ecs_str(doc, "status");
    return want ? status && strcmp(status, want) == 0
                : !(status && strcmp(status, "INACTIVE") == 0);
}

int ecs_list_container_instances(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    if (in_str(c, "filter"))
        return call_error(c, "InvalidParameterException",
                          "The cluster query language filter is not emulated by ecslocal.");
    return ecs_list_arns(c, ECS_T_CONTAINER_INSTANCE, cluster, 100, 100, keep_instance,
                         (void *)in_str(c, "status"), "containerInstanceArn",
                         "containerInstanceArns");
}

int ecs_deregister_container_instance(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    if (ecs_request_cluster(c, ECS_CLUSTER_ANY_STATUS, cluster, sizeof(cluster)) < 0)
        return -1;
    json_t *inst = find_instance(c, in_str(c, "containerInstance"));
    if (!inst || !instance_in_cluster(inst, cluster)) {
        json_decref(inst);
        return call_error(c, "InvalidParameterException",
                          "The referenced container instance was not found.");
    }
    json_t *tasks = ecs_tasks_on_instance(c, cluster, ecs_str(inst, "containerInstanceArn"));
    if (json_array_size(tasks) && !in_bool(c, "force", 0)) {
        json_decref(tasks);
        json_decref(inst);
        return call_error(c, "InvalidParameterException",
                          "Found running tasks on the instance.");
    }
    /* With force the tasks are stopped: nothing would be left to run them. */
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
        if (ecs_task_stop(c, t, "TerminationNotice",
                          "Container instance deregistration forced by user") < 0) {
            json_decref(tasks);
            json_decref(inst);
            return -1;
        }
    json_decref(tasks);
    json_object_set_new(inst, "status", json_string("INACTIVE"));
    json_object_set_new(inst, "agentConnected", json_false());
    json_object_set_new(inst, "version", json_integer(json_integer_value(json_object_get(inst, "version")) + 1));
    const char *arn = ecs_str(inst, "containerInstanceArn");
    const char *id = strrchr(arn, '/') + 1;
    if (store_update(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, id, inst) != STORE_OK) {
        json_decref(inst);
        return call_internal(c, "storing container instance");
    }
    instance_view(c, inst);
    json_object_set_new(call_out(c), "containerInstance", inst);
    return 0;
}

int ecs_update_container_instances_state(struct call *c)
{
    char cluster[ECS_NAME_MAX];
    const char *status = in_str(c, "status");
    if (ecs_request_cluster(c, 0, cluster, sizeof(cluster)) < 0)
        return -1;
    if (strcmp(status, "ACTIVE") != 0 && strcmp(status, "DRAINING") != 0)
        return call_error(c, "InvalidParameterException",
                          "Container instances can only be set to ACTIVE or DRAINING.");
    json_t *out = json_array(), *failures = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(in_get(c, "containerInstances"), i, r) {
        const char *ref = json_string_value(r);
        json_t *inst = find_instance(c, ref);
        if (!inst || !instance_in_cluster(inst, cluster)) {
            char arn[ECS_ARN_MAX];
            ecs_container_instance_arn(c, cluster, ref, arn, sizeof(arn));
            ecs_add_failure(failures, strncmp(ref, "arn:", 4) == 0 ? ref : arn, "MISSING", NULL);
            json_decref(inst);
            continue;
        }
        const char *cur = ecs_str(inst, "status");
        if (cur && strcmp(cur, status) != 0) {
            json_object_set_new(inst, "status", json_string(status));
            json_object_set_new(inst, "version",
                                json_integer(json_integer_value(json_object_get(inst, "version")) + 1));
            const char *id = strrchr(ecs_str(inst, "containerInstanceArn"), '/') + 1;
            if (store_update(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, id, inst) != STORE_OK) {
                json_decref(inst);
                json_decref(out);
                json_decref(failures);
                return call_internal(c, "storing container instance");
            }
        }
        instance_view(c, inst);
        json_array_append_new(out, inst);
    }
    json_object_set_new(call_out(c), "containerInstances", out);
    json_object_set_new(c->out, "failures", failures);
    return 0;
}

/* ---- placement ---- */

struct candidates {
    json_t *list;
};

static int collect_instance(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct candidates *cand = arg;
    json_array_append(cand->list, doc);
    return 0;
}

static int port_taken(json_t *used, long long port)
{
    size_t i;
    json_t *p;
    json_array_foreach(used, i, p)
        if (json_integer_value(p) == port)
            return 1;
    for (size_t k = 0; k < 5; k++)
        if (atoll(reserved_ports[k]) == port)
            return 1;
    return 0;
}

/* Why inst cannot take the task, or NULL when it can. */
static const char *unfit_reason(struct call *c, json_t *inst, const struct ecs_needs *n)
{
    struct usage u;
    if (instance_usage(c, inst, &u) < 0) {
        usage_free(&u);
        return "RESOURCE:CPU";
    }
    json_t *reg = json_object_get(inst, "registeredResources");
    const char *why = NULL;
    if (resource_int(reg, "CPU") - u.cpu < n->cpu)
        why = "RESOURCE:CPU";
    else if (resource_int(reg, "MEMORY") - u.memory < n->memory)
        why = "RESOURCE:MEMORY";
    size_t i;
    json_t *p;
    json_array_foreach(n->ports, i, p)
        if (!why && port_taken(u.ports, json_integer_value(p)))
            why = "RESOURCE:PORTS";
    json_array_foreach(n->ports_udp, i, p)
        if (!why && port_taken(u.ports_udp, json_integer_value(p)))
            why = "RESOURCE:PORTS_UDP";
    usage_free(&u);
    return why;
}

int ecs_place_task(struct call *c, json_t *cluster, const struct ecs_needs *needs,
                   const char *want_id, json_t *failures, json_t **out)
{
    const char *name = ecs_str(cluster, "clusterName");
    struct candidates cand = { json_array() };
    if (want_id) {
        json_t *inst = find_instance(c, want_id);
        if (!inst || !instance_in_cluster(inst, name)) {
            char arn[ECS_ARN_MAX];
            ecs_container_instance_arn(c, name, want_id, arn, sizeof(arn));
            ecs_add_failure(failures, strncmp(want_id, "arn:", 4) == 0 ? want_id : arn,
                            "MISSING", NULL);
            json_decref(inst);
            json_decref(cand.list);
            return 1;
        }
        json_array_append_new(cand.list, inst);
    } else if (store_each(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, name, NULL,
                          collect_instance, &cand) < 0) {
        json_decref(cand.list);
        return call_internal(c, "listing container instances");
    }
    /* Only a cluster with no instance at all gets one on demand: one whose
     * instances are DRAINING is being emptied on purpose. */
    int registered = 0;
    size_t i;
    json_t *inst;
    json_array_foreach(cand.list, i, inst)
        registered += !(ecs_str(inst, "status") && strcmp(ecs_str(inst, "status"), "INACTIVE") == 0);
    if (!registered && !want_id && api_auto_instances()) {
        json_t *ci = auto_instance(c, name);
        if (!ci) {
            json_decref(cand.list);
            return -1;
        }
        json_array_append_new(cand.list, ci);
    }
    int failed = 0;
    json_array_foreach(cand.list, i, inst) {
        const char *status = ecs_str(inst, "status");
        const char *arn = ecs_str(inst, "containerInstanceArn");
        if (!status || strcmp(status, "ACTIVE") != 0) {
            if (want_id) {
                ecs_add_failure(failures, arn, "INACTIVE", NULL);
                failed = 1;
            }
            continue;
        }
        const char *why = unfit_reason(c, inst, needs);
        if (!why) {
            *out = json_incref(inst);
            json_decref(cand.list);
            return 0;
        }
        ecs_add_failure(failures, arn, why, NULL);
        failed = 1;
    }
    if (!failed)
        ecs_add_failure(failures, NULL, "No Container Instances were found in your cluster.", NULL);
    json_decref(cand.list);
    return 1;
}

/* The next dynamic port on the instance, after the last one handed out. */
static int take_dynamic(struct call *c, const char *pool, const char *counter,
                        const char *owner, long long *port)
{
    long long span = DYNAMIC_HI - DYNAMIC_LO + 1;
    long long start = store_next(c->db, &c->scope, counter);
    if (start < 0)
        return call_internal(c, "counting ports");
    for (long long k = 0; k < span; k++) {
        long long candidate = DYNAMIC_LO + (start - 1 + k) % span;
        int rc = store_take(c->db, &c->scope, pool, candidate, owner);
        if (rc == STORE_OK) {
            *port = candidate;
            return 0;
        }
        if (rc != STORE_EXISTS)
            return call_internal(c, "taking a host port");
    }
    return call_error(c, "InvalidParameterException", "No free host port on the instance.");
}

int ecs_take_host_ports(struct call *c, json_t *instance, json_t *task, const char *mode)
{
    if (strcmp(mode, "awsvpc") == 0 || strcmp(mode, "none") == 0)
        return 0;
    const char *ci_arn = ecs_str(instance, "containerInstanceArn");
    const char *ci_id = strrchr(ci_arn, '/') + 1;
    const char *task_arn = ecs_str(task, "taskArn");
    const char *task_id = strrchr(task_arn, '/') + 1;
    char pool[96], counter[96];
    snprintf(pool, sizeof(pool), "ports:%s", ci_id);
    snprintf(counter, sizeof(counter), "last-port:%s", ci_id);
    json_t *defs = json_object_get(json_object_get(task, "_def"), "containerDefinitions");
    size_t i;
    json_t *ctr;
    json_array_foreach(json_object_get(task, "containers"), i, ctr) {
        json_t *def = json_array_get(defs, i);
        json_t *bindings = json_array();
        size_t k;
        json_t *pm;
        json_array_foreach(json_object_get(def, "portMappings"), k, pm) {
            long long cport = json_integer_value(json_object_get(pm, "containerPort"));
            long long hport = json_integer_value(json_object_get(pm, "hostPort"));
            const char *proto = ecs_str(pm, "protocol") ? ecs_str(pm, "protocol") : "tcp";
            char ppool[112];
            snprintf(ppool, sizeof(ppool), "%s%s", pool, strcmp(proto, "udp") == 0 ? "/udp" : "");
            if (strcmp(mode, "host") == 0)
                hport = cport;
            if (hport > 0) {
                int rc = store_take(c->db, &c->scope, ppool, hport, task_id);
                if (rc == STORE_EXISTS) {
                    json_decref(bindings);
                    return call_error(c, "InvalidParameterException",
                                      "Host port %lld is already in use on the container "
                                      "instance.", hport);
                }
                if (rc != STORE_OK) {
                    json_decref(bindings);
                    return call_internal(c, "taking a host port");
                }
            } else if (take_dynamic(c, ppool, counter, task_id, &hport) < 0) {
                json_decref(bindings);
                return -1;
            }
            json_array_append_new(bindings, json_pack("{s:s, s:I, s:I, s:s}", "bindIP",
                                                      "0.0.0.0", "containerPort", (json_int_t)cport,
                                                      "hostPort", (json_int_t)hport,
                                                      "protocol", proto));
        }
        json_object_set_new(ctr, "networkBindings", bindings);
    }
    return 0;
}
