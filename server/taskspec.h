/*
 * From an ECS task document to the supervisor's spec.json
 * (docs/task-runtime.md): argv from entryPoint + command and the overrides,
 * the environment ECS gives every container (metadata and credentials
 * endpoints, region, AWS_ENDPOINT_URL), user, working directory,
 * dependencies, health checks, stop timeouts, and the task's hostname,
 * /etc/hosts and /etc/resolv.conf.
 */
#ifndef ECSL_TASKSPEC_H
#define ECSL_TASKSPEC_H

#include <jansson.h>

/* PATH in a container whose task definition sets none (Docker's), and the
 * supervisor's search path for a command when the environment has none. */
#define TASK_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct task_net {
    const char *netns;          /* path to join, or NULL (host / none) */
    int isolate;                /* mount/uts/pid namespaces */
    const char *endpoint;       /* how the task reaches ecslocal:
                                 * http://169.254.170.2 or http://127.0.0.1:4566 */
    int endpoint_in_netns;      /* the endpoint is 169.254.170.2 in the netns */
    const char *hostname;
    const char *ip;             /* the task's address, or NULL */
    const char *resolver;       /* nameserver for resolv.conf, or NULL */
    const char *search;         /* search domain, or NULL */
    json_t *container_netns;    /* bridge mode: container -> namespace path */
    const char *extra_hosts;    /* more /etc/hosts lines, or NULL */
};

/* A new spec for task (a Task document with its private "_def"), whose
 * containers' endpoint ids are in the task's "_rt.endpoints" map. */
json_t *taskspec_build(json_t *task, const char *region, const struct task_net *net);

#endif
