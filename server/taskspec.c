/*
 * ECS task document -> supervisor spec (see taskspec.h).
 */
#include <stdio.h>
#include <string.h>

#include "../api/jget.h"
#include "taskspec.h"


static json_t *find_override(json_t *task, const char *name)
{
    json_t *list = json_object_get(json_object_get(task, "overrides"), "containerOverrides");
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
        if (jstr(o, "name") && strcmp(jstr(o, "name"), name) == 0)
            return o;
    return NULL;
}

/* Set NAME=value in env (an array of "NAME=value"), replacing an earlier
 * value of the same name. */
static void env_set(json_t *env, const char *name, const char *value)
{
    size_t n = strlen(name);
    size_t i;
    json_t *e;
    char line[8192];
    snprintf(line, sizeof(line), "%s=%s", name, value ? value : "");
    json_array_foreach(env, i, e) {
        const char *s = json_string_value(e);
        if (s && strncmp(s, name, n) == 0 && s[n] == '=') {
            json_array_set_new(env, i, json_string(line));
            return;
        }
    }
    json_array_append_new(env, json_string(line));
}

static void env_from_pairs(json_t *env, json_t *pairs)
{
    size_t i;
    json_t *kv;
    json_array_foreach(pairs, i, kv)
        if (jstr(kv, "name"))
            env_set(env, jstr(kv, "name"), jstr(kv, "value"));
}

static json_t *container_env(json_t *task, json_t *def, json_t *ovr, const char *region,
                             const struct task_net *net, const char *endpoint_id)
{
    json_t *env = json_array();
    char v[512];
    env_set(env, "PATH", TASK_DEFAULT_PATH);
    env_set(env, "HOSTNAME", net->hostname);
    env_from_pairs(env, json_object_get(def, "environment"));
    env_from_pairs(env, json_object_get(ovr, "environment"));
    /* What the ECS agent gives every container. */
    snprintf(v, sizeof(v), "%s/v4/%s", net->endpoint, endpoint_id);
    env_set(env, "ECS_CONTAINER_METADATA_URI_V4", v);
    snprintf(v, sizeof(v), "%s/v3/%s", net->endpoint, endpoint_id);
    env_set(env, "ECS_CONTAINER_METADATA_URI", v);
    snprintf(v, sizeof(v), "%s/api/%s", net->endpoint, endpoint_id);
    env_set(env, "ECS_AGENT_URI", v);
    /* SDKs fetch AWS_CONTAINER_CREDENTIALS_RELATIVE_URI from 169.254.170.2
     * only; a task without its own namespace gets the full URI instead. */
    if (net->endpoint_in_netns) {
        snprintf(v, sizeof(v), "/v2/credentials/%s", endpoint_id);
        env_set(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", v);
    } else {
        snprintf(v, sizeof(v), "%s/v2/credentials/%s", net->endpoint, endpoint_id);
        env_set(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", v);
    }
    env_set(env, "AWS_REGION", region);
    env_set(env, "AWS_DEFAULT_REGION", region);
    const char *launch = jstr(task, "launchType");
    env_set(env, "AWS_EXECUTION_ENV",
            launch && strcmp(launch, "FARGATE") == 0 ? "AWS_ECS_FARGATE" : "AWS_ECS_EC2");
    env_set(env, "AWS_ENDPOINT_URL", net->endpoint);
    return env;
}

static json_t *container_argv(json_t *def, json_t *ovr)
{
    json_t *entry = json_object_get(def, "entryPoint");
    json_t *command = json_object_get(ovr, "command");
    if (!json_array_size(command))
        command = json_object_get(def, "command");
    if (!json_array_size(entry) && !json_array_size(command))
        return NULL;
    json_t *argv = json_array();
    if (entry)
        json_array_extend(argv, entry);
    if (command)
        json_array_extend(argv, command);
    return argv;
}

/* Ports the placeholder answers on: every containerPort of the container. */
static json_t *placeholder(json_t *task, json_t *def, const struct task_net *net)
{
    json_t *ports = json_array();
    size_t i;
    json_t *pm;
    json_array_foreach(json_object_get(def, "portMappings"), i, pm) {
        json_t *p = json_object_get(pm, "containerPort");
        if (json_is_integer(p))
            json_array_append(ports, p);
    }
    json_t *body = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s}",
                             "taskArn", jstr(task, "taskArn"),
                             "taskDefinitionArn", jstr(task, "taskDefinitionArn"),
                             "container", jstr(def, "name"),
                             "ip", net->ip, "server", "ecslocal placeholder");
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *out = json_pack("{s:o, s:s}", "ports", ports, "body", text ? text : "{}");
    free(text);
    return out;
}

static json_t *health_spec(json_t *def)
{
    json_t *hc = json_object_get(def, "healthCheck");
    if (!json_is_object(hc) || !json_array_size(json_object_get(hc, "command")))
        return json_null();
    json_t *interval = json_object_get(hc, "interval");
    json_t *timeout = json_object_get(hc, "timeout");
    json_t *retries = json_object_get(hc, "retries");
    json_t *start = json_object_get(hc, "startPeriod");
    return json_pack("{s:O, s:I, s:I, s:I, s:I}", "command", json_object_get(hc, "command"),
                     "interval", json_is_integer(interval) ? json_integer_value(interval) : 30,
                     "timeout", json_is_integer(timeout) ? json_integer_value(timeout) : 5,
                     "retries", json_is_integer(retries) ? json_integer_value(retries) : 3,
                     "start_period", json_is_integer(start) ? json_integer_value(start) : 0);
}

static json_t *depends(json_t *def)
{
    json_t *out = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(def, "dependsOn"), i, d)
        json_array_append_new(out, json_pack("{s:s?, s:s?}", "container",
                                             jstr(d, "containerName"), "condition",
                                             jstr(d, "condition")));
    return out;
}

json_t *taskspec_build(json_t *task, const char *region, const struct task_net *net)
{
    json_t *defn = json_object_get(task, "_def");
    json_t *endpoints = json_object_get(json_object_get(task, "_rt"), "endpoints");
    json_t *containers = json_array();
    size_t i;
    json_t *def;
    json_array_foreach(json_object_get(defn, "containerDefinitions"), i, def) {
        const char *name = jstr(def, "name");
        if (!name)
            continue;
        json_t *ovr = find_override(task, name);
        const char *eid = jstr(endpoints, name);
        json_t *argv = container_argv(def, ovr);
        json_t *essential = json_object_get(def, "essential");
        json_t *stop = json_object_get(def, "stopTimeout");
        json_t *c = json_pack(
            "{s:s, s:o, s:o, s:s, s:s?, s:b, s:I, s:o, s:o, s:o, s:s?}",
            "name", name,
            "argv", argv ? argv : json_null(),
            "env", container_env(task, def, ovr, region, net, eid ? eid : "unknown"),
            "cwd", jstr(def, "workingDirectory") ? jstr(def, "workingDirectory") : "/",
            "user", jstr(def, "user"),
            "essential", essential ? json_is_true(essential) : 1,
            "stop_timeout", json_is_integer(stop) ? json_integer_value(stop) : 30,
            "depends_on", depends(def),
            "health", health_spec(def),
            "placeholder", argv ? json_null() : placeholder(task, def, net),
            "netns", json_string_value(json_object_get(net->container_netns, name)));
        json_array_append_new(containers, c);
    }
    char hosts[8192], resolv[512];
    if (net->ip)
        snprintf(hosts, sizeof(hosts), "127.0.0.1 localhost\n::1 localhost ip6-localhost "
                 "ip6-loopback\n%s %s\n", net->ip, net->hostname);
    else
        snprintf(hosts, sizeof(hosts), "127.0.0.1 localhost %s\n::1 localhost "
                 "ip6-localhost ip6-loopback\n", net->hostname);
    if (net->extra_hosts)
        strncat(hosts, net->extra_hosts, sizeof(hosts) - strlen(hosts) - 1);
    if (net->resolver)
        snprintf(resolv, sizeof(resolv), "nameserver %s\n%s%s%s", net->resolver,
                 net->search ? "search " : "", net->search ? net->search : "",
                 net->search ? "\n" : "");
    else
        resolv[0] = '\0';
    const char *arn = jstr(task, "taskArn");
    const char *id = arn ? strrchr(arn, '/') : NULL;
    return json_pack("{s:s, s:s?, s:s, s:b, s:s?, s:s, s:s?, s:o}",
                     "task_id", id ? id + 1 : "", "task_arn", arn,
                     "hostname", net->hostname, "isolate", net->isolate,
                     "netns", net->netns, "hosts", hosts,
                     "resolv_conf", resolv[0] ? resolv : NULL,
                     "containers", containers);
}
