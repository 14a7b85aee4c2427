/*
 * ECS task definitions: RegisterTaskDefinition, DescribeTaskDefinition,
 * ListTaskDefinitions, ListTaskDefinitionFamilies,
 * DeregisterTaskDefinition, DeleteTaskDefinitions.
 *
 * A revision is stored as the TaskDefinition shape: everything the request
 * carried (the decoder keeps every member the model has, so the whole
 * container definition round-trips), plus only what AWS itself adds:
 * container cpu 0, essential true, empty environment / mountPoints /
 * volumesFrom / portMappings / systemControls, port mapping protocol tcp,
 * hostPort = containerPort under awsvpc and host, health check interval /
 * timeout / retries, task cpu and memory converted to units ("1 vCPU" ->
 * "1024"), volumes and placementConstraints, compatibilities,
 * requiresAttributes, registeredAt / registeredBy.  Validation follows
 * ECS's and happens before anything is written.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "gen/handlers.h"

/* ---- task cpu and memory ---- */

/* Parse a task-level cpu ("256", "1 vCPU", "0.25 vcpu") or memory ("512",
 * "1 GB", "2GiB") value into units; -1 when it is not one. */
static long long parse_units(const char *text, int is_cpu)
{
    char buf[64];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)tolower((unsigned char)text[i]);
    double scale = 1;
    static const struct { const char *suffix; double scale; int cpu; } units[] = {
        { "vcpus", 1024, 1 }, { "vcpu", 1024, 1 },
        { "gib", 1024, 0 }, { "gb", 1024, 0 }, { "mib", 1, 0 }, { "mb", 1, 0 },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t sl = strlen(units[i].suffix);
        if (units[i].cpu == is_cpu && n > sl && strcmp(buf + n - sl, units[i].suffix) == 0) {
            buf[n - sl] = '\0';
            scale = units[i].scale;
            break;
        }
    }
    char *p = buf, *end;
    while (*p == ' ')
        p++;
    if (!isdigit((unsigned char)*p) && *p != '.')
        return -1;
    double v = strtod(p, &end);
    while (*end == ' ')
        end++;
    v *= scale;
    if (*end || v < 1 || v > 1e9 || v != floor(v))
        return -1;
    return (long long)v;
}

/* The Fargate task sizes (AWS's table). */
static int fargate_size_valid(long long cpu, long long mem)
{
    switch (cpu) {
    case 256:
        return mem == 512 || mem == 1024 || mem == 2048;
    case 512:
        return mem >= 1024 && mem <= 4096 && mem % 1024 == 0;
    case 1024:
        return mem >= 2048 && mem <= 8192 && mem % 1024 == 0;
    case 2048:
        return mem >= 4096 && mem <= 16384 && mem % 1024 == 0;
    case 4096:
        return mem >= 8192 && mem <= 30720 && mem % 1024 == 0;
    case 8192:
        return mem >= 16384 && mem <= 61440 && mem % 4096 == 0;
    case 16384:
        return mem >= 32768 && mem <= 122880 && mem % 8192 == 0;
    }
    return 0;
}

/* ---- the request, as validation sees it ---- */

struct td_request {
    const char *family;
    const char *mode;           /* effective network mode */
    int fargate;                /* requiresCompatibilities has FARGATE */
    long long cpu, memory;      /* task level; 0 when absent */
    json_t *containers;         /* the request's containerDefinitions */
};

static int requires(json_t *compat, const char *what)
{
    size_t i;
    json_t *v;
    json_array_foreach(compat, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), what) == 0)
            return 1;
    return 0;
}

static int check_family(struct call *c, const char *family)
{
    if (!family || !*family)
        return call_error(c, "ClientException", "Family can not be blank.");
    for (const char *p = family; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return call_error(c, "ClientException", "Family contains invalid characters.");
    if (strlen(family) > 255)
        return call_error(c, "ClientException",
                          "Family can not be longer than 255 characters.");
    return 0;
}

static int check_task_size(struct call *c, struct td_request *r)
{
    const char *cpu = in_str(c, "cpu");
    const char *mem = in_str(c, "memory");
    if (cpu && (r->cpu = parse_units(cpu, 1)) < 0)
        return call_error(c, "ClientException", "Invalid 'cpu' setting for task.");
    if (mem && (r->memory = parse_units(mem, 0)) < 0)
        return call_error(c, "ClientException", "Invalid 'memory' setting for task.");
    if (!cpu)
        r->cpu = 0;
    if (!mem)
        r->memory = 0;
    if (!r->fargate)
        return 0;
    if (strcmp(r->mode, "awsvpc") != 0)
        return call_error(c, "ClientException",
                          "Fargate only supports network mode 'awsvpc'.");
    if (!cpu)
        return call_error(c, "ClientException",
                          "Fargate requires that 'cpu' be defined at the task level.");
    if (!mem)
        return call_error(c, "ClientException",
                          "Fargate requires that 'memory' be defined at the task level.");
    if (!fargate_size_valid(r->cpu, r->memory))
        return call_error(c, "ClientException",
                          "No Fargate configuration exists for given values: %lld CPU, "
                          "%lld memory. See the Amazon ECS documentation for the valid "
                          "values.", r->cpu, r->memory);
    return 0;
}

static int check_ephemeral_storage(struct call *c)
{
    json_t *es = in_get(c, "ephemeralStorage");
    if (!es)
        return 0;
    long long size = json_integer_value(json_object_get(es, "sizeInGiB"));
    if (size < 21)
        return call_error(c, "ClientException",
                          "EphemeralStorage size should be at least 21");
    if (size > 200)
        return call_error(c, "ClientException",
                          "EphemeralStorage size should be at most 200");
    return 0;
}

/* ---- containers ---- */

static int check_container_names(struct call *c, json_t *containers)
{
    size_t i, j;
    json_t *ct, *other;
    json_array_foreach(containers, i, ct) {
        const char *name = ecs_str(ct, "name");
        if (!name || !*name)
            return call_error(c, "ClientException",
                              "Container.name should not be null or empty.");
        if (!ecs_name_valid(name, 255))
            return call_error(c, "ClientException",
                              "Container.name contains invalid characters.");
        json_array_foreach(containers, j, other)
            if (j < i && strcmp(ecs_str(other, "name"), name) == 0)
                return call_error(c, "ClientException",
                                  "Container names must be unique within a Task "
                                  "Definition.");
        const char *image = ecs_str(ct, "image");
        if (!image || !*image)
            return call_error(c, "ClientException",
                              "Container.image should not be null or empty.");
    }
    return 0;
}

static int check_container_memory(struct call *c, struct td_request *r, json_t *ct)
{
    const char *name = ecs_str(ct, "name");
    json_t *mem = json_object_get(ct, "memory");
    json_t *res = json_object_get(ct, "memoryReservation");
    long long cpu = json_integer_value(json_object_get(ct, "cpu"));
    if (cpu < 0)
        return call_error(c, "ClientException",
                          "Invalid 'cpu' setting for container '%s'.", name);
    if (!mem && !res && !r->memory)
        return call_error(c, "ClientException",
                          "Invalid setting for container '%s'. At least one of 'memory' "
                          "or 'memoryReservation' must be specified.", name);
    if ((mem && json_integer_value(mem) < 6) || (res && json_integer_value(res) < 6))
        return call_error(c, "ClientException",
                          "Invalid setting for container '%s'. The container must be "
                          "given at least 6 MiB of memory.", name);
    if (mem && res && json_integer_value(mem) < json_integer_value(res))
        return call_error(c, "ClientException",
                          "Invalid setting for container '%s'. 'memory' must be greater "
                          "than or equal to 'memoryReservation'.", name);
    if (mem && r->memory && json_integer_value(mem) > r->memory)
        return call_error(c, "ClientException",
                          "The 'memory' setting for container '%s' is greater than for "
                          "the task.", name);
    return 0;
}

/* Port mappings as the network mode allows them; fills protocol and, for
 * awsvpc and host, hostPort. */
static int check_ports(struct call *c, struct td_request *r, json_t *ct)
{
    const char *name = ecs_str(ct, "name");
    json_t *pms = json_object_get(ct, "portMappings");
    int same_port = strcmp(r->mode, "awsvpc") == 0 || strcmp(r->mode, "host") == 0;
    if (json_array_size(pms) > 0 && strcmp(r->mode, "none") == 0)
        return call_error(c, "ClientException",
                          "Port mappings are not supported when networkMode=none");
    size_t i;
    json_t *pm;
    json_array_foreach(pms, i, pm) {
        json_t *cp = json_object_get(pm, "containerPort");
        json_t *hp = json_object_get(pm, "hostPort");
        if (!cp && !ecs_str(pm, "containerPortRange"))
            return call_error(c, "ClientException",
                              "Invalid port mapping for container '%s'. A containerPort "
                              "or a containerPortRange must be specified.", name);
        if (cp && (json_integer_value(cp) < 1 || json_integer_value(cp) > 65535))
            return call_error(c, "ClientException",
                              "Invalid 'containerPort' setting for container '%s'. "
                              "Ports must be between 1 and 65535.", name);
        if (hp && (json_integer_value(hp) < 0 || json_integer_value(hp) > 65535))
            return call_error(c, "ClientException",
                              "Invalid 'hostPort' setting for container '%s'. Ports must "
                              "be between 0 and 65535.", name);
        if (same_port && cp && hp && json_integer_value(hp) != json_integer_value(cp))
            return call_error(c, "ClientException",
                              "When networkMode=%s, the host ports and container ports "
                              "in port mappings must match.", r->mode);
        if (!json_object_get(pm, "protocol"))
            ecs_set_str(pm, "protocol", "tcp");
        if (same_port && cp && !hp)
            json_object_set(pm, "hostPort", cp);
    }
    return 0;
}

/* What only bridge mode (links) or not awsvpc (DNS, hostname) allows. */
static int check_mode_features(struct call *c, struct td_request *r, json_t *ct)
{
    if (json_array_size(json_object_get(ct, "links")) > 0 && strcmp(r->mode, "bridge") != 0)
        return call_error(c, "ClientException",
                          "Links are not supported when networkMode=%s", r->mode);
    if (strcmp(r->mode, "awsvpc") != 0)
        return 0;
    if (json_array_size(json_object_get(ct, "dnsServers")) > 0)
        return call_error(c, "ClientException",
                          "DNS servers are not supported on container when "
                          "networkMode=awsvpc");
    if (json_array_size(json_object_get(ct, "dnsSearchDomains")) > 0)
        return call_error(c, "ClientException",
                          "DNS search domains are not supported on container when "
                          "networkMode=awsvpc");
    if (ecs_str(ct, "hostname"))
        return call_error(c, "ClientException",
                          "Hostname is not supported on container when "
                          "networkMode=awsvpc");
    return 0;
}

struct bound {
    const char *member;
    long long lo, hi, dflt;     /* dflt < 0: none */
};

/* AWS's health check bounds and the defaults it fills in. */
static const struct bound health_bounds[] = {
    { "interval", 5, 300, 30 },
    { "timeout", 2, 120, 5 },
    { "retries", 1, 10, 3 },
    { "startPeriod", 0, 300, -1 },
};

static int check_health(struct call *c, json_t *ct)
{
    json_t *hc = json_object_get(ct, "healthCheck");
    if (!hc)
        return 0;
    const char *name = ecs_str(ct, "name");
    if (json_array_size(json_object_get(hc, "command")) == 0)
        return call_error(c, "ClientException",
                          "Invalid 'healthCheck' setting for container '%s'. The "
                          "command must not be empty.", name);
    for (size_t i = 0; i < sizeof(health_bounds) / sizeof(health_bounds[0]); i++) {
        const struct bound *b = &health_bounds[i];
        json_t *v = json_object_get(hc, b->member);
        if (!v) {
            if (b->dflt >= 0)
                json_object_set_new(hc, b->member, json_integer(b->dflt));
            continue;
        }
        long long x = json_integer_value(v);
        if (x < b->lo || x > b->hi)
            return call_error(c, "ClientException",
                              "Invalid 'healthCheck' setting for container '%s'. '%s' "
                              "must be between %lld and %lld.", name, b->member, b->lo,
                              b->hi);
    }
    return 0;
}

static json_t *container_named(json_t *containers, const char *name)
{
    size_t i;
    json_t *ct;
    json_array_foreach(containers, i, ct)
        if (name && strcmp(ecs_str(ct, "name"), name) == 0)
            return ct;
    return NULL;
}

static int is_essential(json_t *ct)
{
    json_t *e = json_object_get(ct, "essential");
    return !e || json_is_true(e);
}

/* Depth-first search for a dependsOn cycle through ct; state: 0 new,
 * 1 on the path, 2 done (indexed like containers). */
static int dependency_cycle(json_t *containers, size_t i, unsigned char *state)
{
    if (state[i] == 1)
        return 1;
    if (state[i] == 2)
        return 0;
    state[i] = 1;
    size_t j, k;
    json_t *d, *other;
    json_array_foreach(json_object_get(json_array_get(containers, i), "dependsOn"), j, d)
        json_array_foreach(containers, k, other)
            if (strcmp(ecs_str(other, "name"), ecs_str(d, "containerName")) == 0 &&
                dependency_cycle(containers, k, state))
                return 1;
    state[i] = 2;
    return 0;
}

static int check_dependencies(struct call *c, json_t *containers)
{
    size_t i, j;
    json_t *ct, *d;
    json_array_foreach(containers, i, ct) {
        json_array_foreach(json_object_get(ct, "dependsOn"), j, d) {
            const char *target = ecs_str(d, "containerName");
            const char *cond = ecs_str(d, "condition");
            json_t *dep = container_named(containers, target);
            if (!dep)
                return call_error(c, "ClientException",
                                  "Cannot depend on container + '%s' because it does "
                                  "not exist", target ? target : "");
            if ((strcmp(cond, "SUCCESS") == 0 || strcmp(cond, "COMPLETE") == 0) &&
                is_essential(dep))
                return call_error(c, "ClientException",
                                  "A dependency container with SUCCESS or COMPLETE "
                                  "condition cannot be an essential container");
            if (strcmp(cond, "HEALTHY") == 0 && !json_object_get(dep, "healthCheck"))
                return call_error(c, "ClientException",
                                  "A dependency container with HEALTHY condition must "
                                  "have a health check defined");
        }
    }
    size_t n = json_array_size(containers);
    unsigned char state[16] = { 0 };
    for (i = 0; i < n && i < sizeof(state); i++)
        if (dependency_cycle(containers, i, state))
            return call_error(c, "ClientException",
                              "The container dependencies (dependsOn) of the task "
                              "definition form a cycle.");
    return 0;
}

/* The sums of container reservations against the task's size. */
static int check_sums(struct call *c, struct td_request *r)
{
    long long cpu = 0, reserved = 0;
    size_t i;
    json_t *ct;
    json_array_foreach(r->containers, i, ct) {
        cpu += json_integer_value(json_object_get(ct, "cpu"));
        json_t *res = json_object_get(ct, "memoryReservation");
        json_t *mem = json_object_get(ct, "memory");
        reserved += res ? json_integer_value(res) : mem ? json_integer_value(mem) : 0;
    }
    if (r->cpu && cpu > r->cpu)
        return call_error(c, "ClientException",
                          "The sum of all container 'cpu' values cannot be greater than "
                          "the value of the task 'cpu'.");
    if (r->memory && reserved > r->memory)
        return call_error(c, "ClientException",
                          "The sum of all container 'memoryReservation' values cannot be "
                          "greater than the value of the task 'memory'.");
    return 0;
}

static void fill_empty_list(json_t *obj, const char *key)
{
    if (!json_object_get(obj, key))
        json_object_set_new(obj, key, json_array());
}

static int check_containers(struct call *c, struct td_request *r)
{
    size_t n = json_array_size(r->containers);
    if (n == 0)
        return call_error(c, "ClientException", "Container list cannot be empty.");
    if (n > 10)
        return call_error(c, "ClientException", "Too many containers.");
    if (check_container_names(c, r->containers) < 0)
        return -1;
    int essentials = 0;
    size_t i;
    json_t *ct;
    json_array_foreach(r->containers, i, ct) {
        if (check_container_memory(c, r, ct) < 0 || check_ports(c, r, ct) < 0 ||
            check_mode_features(c, r, ct) < 0 || check_health(c, ct) < 0)
            return -1;
        essentials += is_essential(ct);
        /* AWS's own defaults. */
        if (!json_object_get(ct, "cpu"))
            json_object_set_new(ct, "cpu", json_integer(0));
        if (!json_object_get(ct, "essential"))
            json_object_set_new(ct, "essential", json_true());
        fill_empty_list(ct, "portMappings");
        fill_empty_list(ct, "environment");
        fill_empty_list(ct, "mountPoints");
        fill_empty_list(ct, "volumesFrom");
        fill_empty_list(ct, "systemControls");
    }
    if (essentials == 0)
        return call_error(c, "ClientException",
                          "A task definition must have at least one essential container.");
    if (check_dependencies(c, r->containers) < 0 || check_sums(c, r) < 0)
        return -1;
    return 0;
}

/* ---- what AWS derives ---- */

static void add_attribute(json_t *attrs, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a)
        if (strcmp(ecs_str(a, "name"), name) == 0)
            return;
    json_array_append_new(attrs, json_pack("{s:s}", "name", name));
}

/* The container instance attributes the task definition needs, as ECS
 * lists them in requiresAttributes. */
static json_t *required_attributes(json_t *td, const char *mode)
{
    json_t *attrs = json_array();
    int exec_role = ecs_str(td, "executionRoleArn") != NULL;
    size_t i, j;
    json_t *ct, *s;
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, ct) {
        const char *driver = ecs_str(json_object_get(ct, "logConfiguration"), "logDriver");
        const char *image = ecs_str(ct, "image");
        if (driver) {
            char attr[128];
            snprintf(attr, sizeof(attr), "com.amazonaws.ecs.capability.logging-driver.%s",
                     driver);
            add_attribute(attrs, attr);
            add_attribute(attrs, "com.amazonaws.ecs.capability.docker-remote-api.1.19");
            if (strcmp(driver, "awslogs") == 0 && exec_role)
                add_attribute(attrs, "ecs.capability.execution-role-awslogs");
        }
        if (image && strstr(image, ".dkr.ecr.")) {
            add_attribute(attrs, "com.amazonaws.ecs.capability.ecr-auth");
            if (exec_role)
                add_attribute(attrs, "ecs.capability.execution-role-ecr-pull");
        }
        if (json_object_get(ct, "healthCheck")) {
            add_attribute(attrs, "ecs.capability.container-health-check");
            add_attribute(attrs, "com.amazonaws.ecs.capability.docker-remote-api.1.24");
        }
        if (json_array_size(json_object_get(ct, "dependsOn")) > 0 ||
            json_object_get(ct, "startTimeout") || json_object_get(ct, "stopTimeout"))
            add_attribute(attrs, "ecs.capability.container-ordering");
        json_array_foreach(json_object_get(ct, "secrets"), j, s) {
            const char *from = ecs_str(s, "valueFrom");
            if (from && strstr(from, ":secretsmanager:"))
                add_attribute(attrs, "ecs.capability.secrets.asm.environment-variables");
            else if (from)
                add_attribute(attrs, "ecs.capability.secrets.ssm.environment-variables");
        }
    }
    if (ecs_str(td, "taskRoleArn"))
        add_attribute(attrs, "com.amazonaws.ecs.capability.task-iam-role");
    if (strcmp(mode, "awsvpc") == 0) {
        add_attribute(attrs, "com.amazonaws.ecs.capability.docker-remote-api.1.18");
        add_attribute(attrs, "ecs.capability.task-eni");
    }
    return attrs;
}

/* Whether Fargate could run it: awsvpc, a Fargate size, and nothing Fargate
 * lacks (privileged containers, host paths, Docker volumes, host IPC). */
static int fargate_compatible(json_t *td, struct td_request *r)
{
    if (strcmp(r->mode, "awsvpc") != 0 || !fargate_size_valid(r->cpu, r->memory))
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, v)
        if (json_is_true(json_object_get(v, "privileged")))
            return 0;
    json_array_foreach(json_object_get(td, "volumes"), i, v)
        if (ecs_str(json_object_get(v, "host"), "sourcePath") ||
            json_object_get(v, "dockerVolumeConfiguration"))
            return 0;
    const char *ipc = ecs_str(td, "ipcMode");
    return !ipc || strcmp(ipc, "host") != 0;
}

static json_t *compatibilities(json_t *td, struct td_request *r)
{
    json_t *req = json_object_get(td, "requiresCompatibilities");
    json_t *out = json_pack("[s]", "EC2");
    if (fargate_compatible(td, r))
        json_array_append_new(out, json_string("FARGATE"));
    if (requires(req, "EXTERNAL"))
        json_array_append_new(out, json_string("EXTERNAL"));
    if (requires(req, "MANAGED_INSTANCES"))
        json_array_append_new(out, json_string("MANAGED_INSTANCES"));
    return out;
}

/* Drop empty role ARNs: tools send "" for "none" (Ansible's taskRoleArn). */
static void drop_empty(json_t *td, const char *key)
{
    const char *v = ecs_str(td, key);
    if (v && !*v)
        json_object_del(td, key);
}

/* ---- RegisterTaskDefinition ---- */

int ecs_register_task_definition(struct call *c)
{
    struct td_request r = { NULL, NULL, 0, 0, 0, NULL };
    json_t *td = json_deep_copy(c->in);
    json_t *tags = NULL;
    int rc = -1;
    if (!td)
        return call_internal(c, "copying request");
    json_object_del(td, "tags");
    r.family = ecs_str(td, "family");
    r.mode = ecs_taskdef_network_mode(td);
    r.fargate = requires(json_object_get(td, "requiresCompatibilities"), "FARGATE");
    r.containers = json_object_get(td, "containerDefinitions");
    if (check_family(c, r.family) < 0 || check_task_size(c, &r) < 0 ||
        check_ephemeral_storage(c) < 0 || check_containers(c, &r) < 0)
        goto out;
    if (!(tags = ecs_request_tags(c)))
        goto out;
    drop_empty(td, "taskRoleArn");
    drop_empty(td, "executionRoleArn");
    char units[32];
    if (r.cpu) {
        snprintf(units, sizeof(units), "%lld", r.cpu);
        ecs_set_str(td, "cpu", units);
    }
    if (r.memory) {
        snprintf(units, sizeof(units), "%lld", r.memory);
        ecs_set_str(td, "memory", units);
    }
    fill_empty_list(td, "volumes");
    fill_empty_list(td, "placementConstraints");
    if (!json_object_get(td, "enableFaultInjection"))
        json_object_set_new(td, "enableFaultInjection", json_false());
    json_t *attrs = required_attributes(td, r.mode);
    if (json_array_size(attrs) > 0)
        json_object_set_new(td, "requiresAttributes", attrs);
    else
        json_decref(attrs);
    json_object_set_new(td, "compatibilities", compatibilities(td, &r));

    char counter[ECS_ARN_MAX], id[ECS_ARN_MAX], name[ECS_ARN_MAX], arn[ECS_ARN_MAX];
    char principal[96];
    snprintf(counter, sizeof(counter), "ecs-taskdef-revision %s", r.family);
    long long revision = store_next(c->db, &c->scope, counter);
    if (revision < 1) {
        rc = call_internal(c, "allocating revision");
        goto out;
    }
    ecs_taskdef_arn(c, r.family, revision, arn, sizeof(arn));
    ecs_principal_arn(c, principal, sizeof(principal));
    ecs_set_str(td, "taskDefinitionArn", arn);
    json_object_set_new(td, "revision", json_integer(revision));
    ecs_set_str(td, "status", "ACTIVE");
    json_object_set_new(td, "registeredAt", json_real(c->now));
    ecs_set_str(td, "registeredBy", principal);
    json_object_set(td, "_tags", tags);
    ecs_taskdef_id(r.family, revision, id, sizeof(id));
    snprintf(name, sizeof(name), "%s:%lld", r.family, revision);
    if (store_insert(c->db, &c->scope, ECS_T_TASK_DEFINITION, id, r.family, name,
                     td) != STORE_OK) {
        rc = call_internal(c, "storing task definition");
        goto out;
    }
    json_object_set(call_out(c), "taskDefinition", td);
    json_object_set(call_out(c), "tags", tags);
    rc = 0;
out:
    json_decref(tags);
    json_decref(td);
    return rc;
}

/* ---- DescribeTaskDefinition ---- */

static json_t *doc_tags(json_t *td)
{
    json_t *tags = json_object_get(td, "_tags");
    return json_is_array(tags) ? json_incref(tags) : json_array();
}

int ecs_describe_task_definition(struct call *c)
{
    json_t *td = ecs_taskdef_get(c, in_str(c, "taskDefinition"),
                                 "Unable to describe task definition.");
    if (!td)
        return -1;
    if (ecs_include_has(c, "TAGS"))
        json_object_set_new(call_out(c), "tags", doc_tags(td));
    json_object_set_new(call_out(c), "taskDefinition", td);
    return 0;
}

/* ---- ListTaskDefinitions ---- */

struct td_walk {
    const char *status;         /* only this status; NULL: any */
    json_t *ids, *arns;
};

static int collect_td(json_t *doc, const char *id, void *arg)
{
    struct td_walk *w = arg;
    const char *status = ecs_str(doc, "status");
    if (w->status && (!status || strcmp(status, w->status) != 0))
        return 0;
    json_array_append_new(w->ids, json_string(id));
    json_array_append_new(w->arns, json_string(ecs_str(doc, "taskDefinitionArn")));
    return 0;
}

/* Reverse a JSON array in place. */
static void reverse(json_t *a)
{
    size_t n = json_array_size(a);
    for (size_t i = 0; i < n / 2; i++) {
        json_t *x = json_incref(json_array_get(a, i));
        json_array_set(a, i, json_array_get(a, n - 1 - i));
        json_array_set_new(a, n - 1 - i, x);
    }
}

int ecs_list_task_definitions(struct call *c)
{
    const char *family = in_str(c, "familyPrefix");
    int desc = in_str(c, "sort") && strcmp(in_str(c, "sort"), "DESC") == 0;
    struct td_walk w = { in_str(c, "status") ? in_str(c, "status") : "ACTIVE", NULL, NULL };
    char after[ECS_ARN_MAX] = "";
    long long limit = ecs_max_results(c, 100, 100);
    if (limit < 0)
        return -1;
    if (in_str(c, "nextToken") &&
        ecs_token_read(c, in_str(c, "nextToken"), after, sizeof(after)) < 0)
        return -1;
    w.ids = json_array();
    w.arns = json_array();
    int st = store_each(c->db, &c->scope, ECS_T_TASK_DEFINITION,
                        family && *family ? family : NULL, NULL, collect_td, &w);
    if (st < 0) {
        json_decref(w.ids);
        json_decref(w.arns);
        return call_internal(c, "listing task definitions");
    }
    if (desc) {
        reverse(w.ids);
        reverse(w.arns);
    }
    json_t *out = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(w.ids, i, id) {
        int cmp = strcmp(json_string_value(id), after);
        if (*after && (desc ? cmp >= 0 : cmp <= 0))
            continue;
        if ((long long)json_array_size(out) == limit) {
            char token[2 * ECS_ARN_MAX + 8];
            ecs_token_make(json_string_value(json_array_get(w.ids, i - 1)), token,
                           sizeof(token));
            ecs_set_str(call_out(c), "nextToken", token);
            break;
        }
        json_array_append(out, json_array_get(w.arns, i));
    }
    json_decref(w.ids);
    json_decref(w.arns);
    json_object_set_new(call_out(c), "taskDefinitionArns", out);
    return 0;
}

/* ---- ListTaskDefinitionFamilies ---- */

struct family_walk {
    json_t *families;       /* [{family, active, inactive}] in id order */
};

static int collect_family(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct family_walk *w = arg;
    const char *family = ecs_str(doc, "family");
    const char *status = ecs_str(doc, "status");
    if (!family || !status)
        return 0;
    json_t *last = json_array_get(w->families, json_array_size(w->families) - 1);
    if (!last || strcmp(ecs_str(last, "family"), family) != 0) {
        last = json_pack("{s:s, s:b, s:b}", "family", family, "active", 0,
                         "inactive", 0);
        json_array_append_new(w->families, last);
    }
    if (strcmp(status, "ACTIVE") == 0)
        json_object_set_new(last, "active", json_true());
    else if (strcmp(status, "INACTIVE") == 0)
        json_object_set_new(last, "inactive", json_true());
    return 0;
}

int ecs_list_task_definition_families(struct call *c)
{
    const char *prefix = in_str(c, "familyPrefix");
    const char *status = in_str(c, "status") ? in_str(c, "status") : "ALL";
    char after[ECS_ARN_MAX] = "";
    long long limit = ecs_max_results(c, 100, 100);
    if (limit < 0)
        return -1;
    if (in_str(c, "nextToken") &&
        ecs_token_read(c, in_str(c, "nextToken"), after, sizeof(after)) < 0)
        return -1;
    struct family_walk w = { json_array() };
    if (store_each(c->db, &c->scope, ECS_T_TASK_DEFINITION, NULL, NULL,
                   collect_family, &w) < 0) {
        json_decref(w.families);
        return call_internal(c, "listing task definition families");
    }
    json_t *out = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(w.families, i, f) {
        const char *family = ecs_str(f, "family");
        int active = json_is_true(json_object_get(f, "active"));
        int inactive = !active && json_is_true(json_object_get(f, "inactive"));
        if (prefix && strncmp(family, prefix, strlen(prefix)) != 0)
            continue;
        if (strcmp(family, after) <= 0 && *after)
            continue;
        /* A family whose revisions are all being deleted is gone. */
        if ((strcmp(status, "ACTIVE") == 0 && !active) ||
            (strcmp(status, "INACTIVE") == 0 && !inactive) || (!active && !inactive))
            continue;
        if ((long long)json_array_size(out) == limit) {
            char token[2 * ECS_ARN_MAX + 8];
            ecs_token_make(json_string_value(json_array_get(out, json_array_size(out) - 1)),
                           token, sizeof(token));
            ecs_set_str(call_out(c), "nextToken", token);
            break;
        }
        json_array_append_new(out, json_string(family));
    }
    json_decref(w.families);
    json_object_set_new(call_out(c), "families", out);
    return 0;
}

/* ---- DeregisterTaskDefinition, DeleteTaskDefinitions ---- */

/* Whether a reference names a revision (family:N or an ARN ending :N). */
static int names_revision(const char *ref)
{
    if (strncmp(ref, "arn:", 4) == 0) {
        const char *slash = strchr(ref, '/');
        return slash && strchr(slash, ':');
    }
    return strchr(ref, ':') != NULL;
}

static int save_td(struct call *c, json_t *td)
{
    char id[ECS_ARN_MAX];
    ecs_taskdef_id(ecs_str(td, "family"),
                   json_integer_value(json_object_get(td, "revision")), id, sizeof(id));
    if (store_update(c->db, &c->scope, ECS_T_TASK_DEFINITION, id, td) != STORE_OK)
        return call_internal(c, "storing task definition");
    return 0;
}

int ecs_deregister_task_definition(struct call *c)
{
    const char *ref = in_str(c, "taskDefinition");
    if (!names_revision(ref))
        return call_error(c, "ClientException", "Revision is missing.");
    json_t *td = ecs_taskdef_get(c, ref, "Unable to describe task definition.");
    if (!td)
        return -1;
    const char *status = ecs_str(td, "status");
    if (strcmp(status, "ACTIVE") != 0) {
        int deleting = strcmp(status, "DELETE_IN_PROGRESS") == 0;
        json_decref(td);
        if (deleting)
            return call_error(c, "ClientException",
                              "The specified task definition is in the process of being "
                              "deleted.");
        return call_error(c, "ClientException", "TaskDefinition is inactive");
    }
    ecs_set_str(td, "status", "INACTIVE");
    json_object_set_new(td, "deregisteredAt", json_real(c->now));
    if (save_td(c, td) < 0) {
        json_decref(td);
        return -1;
    }
    json_object_set_new(call_out(c), "taskDefinition", td);
    return 0;
}

/* The ARN a DeleteTaskDefinitions entry stands for in its failure. */
static void failure_arn(struct call *c, const char *ref, char *out, size_t len)
{
    if (strncmp(ref, "arn:", 4) == 0) {
        snprintf(out, len, "%s", ref);
        return;
    }
    char res[ECS_ARN_MAX];
    snprintf(res, sizeof(res), "task-definition/%s", ref);
    ecs_arn(c, res, out, len);
}

int ecs_delete_task_definitions(struct call *c)
{
    json_t *refs = in_get(c, "taskDefinitions");
    if (json_array_size(refs) > 10)
        return call_error(c, "InvalidParameterException",
                          "You can specify up to 10 task definitions in a single "
                          "DeleteTaskDefinitions request.");
    json_t *done = json_array(), *failures = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r) {
        const char *ref = json_string_value(r);
        char arn[ECS_ARN_MAX];
        enum ecs_td_result why = ECS_TD_MISSING;
        failure_arn(c, ref ? ref : "", arn, sizeof(arn));
        json_t *td = ref && names_revision(ref) ? ecs_taskdef_lookup(c, ref, &why) : NULL;
        if (!td && ref && names_revision(ref) && why == ECS_TD_ERROR) {
            json_decref(done);
            json_decref(failures);
            return -1;
        }
        if (!td) {
            ecs_add_failure(failures, arn,
                            "The specified task definition does not exist. Specify a "
                            "valid task definition family and revision and try again.",
                            NULL);
            continue;
        }
        const char *status = ecs_str(td, "status");
        if (strcmp(status, "ACTIVE") == 0) {
            ecs_add_failure(failures, ecs_str(td, "taskDefinitionArn"),
                            "The specified task definition is still in ACTIVE status. "
                            "Please deregister the target and try again.", NULL);
            json_decref(td);
            continue;
        }
        if (strcmp(status, "INACTIVE") == 0) {
            ecs_set_str(td, "status", "DELETE_IN_PROGRESS");
            json_object_set_new(td, "deleteRequestedAt", json_real(c->now));
            if (save_td(c, td) < 0) {
                json_decref(td);
                json_decref(done);
                json_decref(failures);
                return -1;
            }
        }
        json_array_append_new(done, td);
    }
    json_object_set_new(call_out(c), "taskDefinitions", done);
    json_object_set_new(call_out(c), "failures", failures);
    return 0;
}
