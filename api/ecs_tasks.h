/*
 * ECS tasks: creating them (RunTask, StartTask and the service scheduler
 * share ecs_task_create), stopping them, and releasing what a stopped
 * task held.  The reconciler (server/tasks.c) moves them through their
 * lifecycle; this side only writes desired state.
 */
#ifndef ECSL_ECS_TASKS_H
#define ECSL_ECS_TASKS_H

#include <jansson.h>

#include "call.h"

struct db;
struct scope;

struct ecs_task_request {
    json_t *cluster;            /* Cluster document */
    json_t *taskdef;            /* TaskDefinition document */
    const char *launch_type;    /* effective: FARGATE, EC2 or EXTERNAL */
    const char *capacity_provider;  /* when chosen by a strategy */
    json_t *network;            /* networkConfiguration or NULL */
    json_t *overrides;          /* TaskOverride or NULL */
    const char *started_by;
    const char *group;          /* NULL: "family:<family>" */
    json_t *tags;               /* [{key, value}] or NULL */
    const char *platform_version;
    int enable_execute_command;
    const char *instance_id;    /* EC2: the container instance to use (its
                                 * id); NULL: place the task */
    const char *service_arn;    /* the service that owns the task, if any */
};

/* Check the launch-related parts of a request before anything is created:
 * launch type vs capacity provider strategy (resolved into *launch and
 * *provider), the task definition's compatibility and network mode, and
 * the awsvpc configuration (subnets and security groups exist, one VPC).
 * 0 or -1 with the error set. */
int ecs_task_check_launch(struct call *c, json_t *cluster, json_t *taskdef,
                          const char *launch_type, json_t *strategy,
                          json_t *network, const char **launch,
                          const char **provider);

/* Create one task (PROVISIONING, desired RUNNING).  On success returns 0
 * and its document in *out (new reference).  When no container instance
 * can take it, appends the placement failures to failures and returns 1.
 * -1 with the error set on other errors. */
int ecs_task_create(struct call *c, const struct ecs_task_request *rq,
                    json_t **out, json_t *failures);

/* Ask a task to stop (desiredStatus STOPPED) with a stop code and reason;
 * no-op for a task already stopping.  The document is updated in place and
 * stored. */
int ecs_task_stop(struct call *c, json_t *task, const char *code,
                  const char *reason);

/* The tasks of a cluster running on a container instance (by ARN), not
 * STOPPED: a new array of documents. */
json_t *ecs_tasks_on_instance(struct call *c, const char *cluster,
                              const char *instance_arn);

/* Release what a stopped task held: its ENI and addresses, host ports,
 * the attachment.  Called by the reconciler inside its transaction. */
int ecs_task_release(struct db *db, const struct scope *s, json_t *task,
                     double now);

#endif
