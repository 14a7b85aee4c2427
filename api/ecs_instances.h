/*
 * ECS container instances: emulated EC2 instances registered in a cluster,
 * and task placement on them (CPU, MEMORY, PORTS), as the EC2 launch type
 * needs.
 *
 * A container instance is stored as the ContainerInstance shape (type
 * "ecs-container-instance", parent = cluster name, id = its 32-hex id) with
 * its EC2 instance id in "ec2InstanceId".  remainingResources and the task
 * counts are computed from the tasks placed on it whenever it is read, so
 * they are always true.  Static host ports are taken from the store pool
 * "ports:<container instance id>" (owner = task id), dynamic ones too, as
 * the ECS agent picks them: from 49153-65535, the next after the last one
 * handed out.
 */
#ifndef ECSL_ECS_INSTANCES_H
#define ECSL_ECS_INSTANCES_H

#include <jansson.h>

#include "call.h"

/* What a task needs from an instance. */
struct ecs_needs {
    long long cpu;
    long long memory;
    json_t *ports;          /* static TCP host ports (integers) */
    json_t *ports_udp;      /* static UDP host ports */
};

/* Fill needs from a task definition and overrides (ports: new arrays). */
void ecs_task_needs(json_t *taskdef, json_t *overrides, struct ecs_needs *needs);
void ecs_needs_free(struct ecs_needs *needs);

/* Choose a container instance of the cluster for a task: want_id when
 * given (StartTask), else the first ACTIVE instance with room.  A cluster
 * without instances gets one provisioned when --auto-instances is on.
 * Returns 0 with the instance document (new reference) in *out; 1 when
 * none has room (reasons appended to failures as ECS reports them); -1
 * with the error set. */
int ecs_place_task(struct call *c, json_t *cluster, const struct ecs_needs *needs,
                   const char *want_id, json_t *failures, json_t **out);

/* Take the task's static host ports and dynamic ones for the port
 * mappings that need them on the instance; fills networkBindings of the
 * task's containers.  0 or -1 with the error set. */
int ecs_take_host_ports(struct call *c, json_t *instance, json_t *task,
                        const char *network_mode);

#endif
