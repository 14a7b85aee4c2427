/*
 * EC2 network interfaces as the rest of ecslocal uses them: an instance's
 * primary interface and the requester-managed interface of an ECS awsvpc
 * task.
 *
 * An ENI is stored as the NetworkInterface document DescribeNetworkInterfaces
 * returns (type "network-interface", parent = its subnet id, tags in
 * "TagSet").  Its private addresses are taken from the subnet's address pool
 * (pool = subnet id, owner = ENI id) and its MAC from the scope's "mac" pool,
 * so deleting an ENI releases both with store_release_owner().
 *
 * None of these functions reads the request: they can run inside any
 * service's call.  They return 0, or -1 with the error set on c.
 */
#ifndef ECSL_EC2_ENIS_H
#define ECSL_EC2_ENIS_H

#include <jansson.h>

#include "call.h"

/* What a new ENI gets; NULL or zero members take AWS's defaults. */
struct eni_spec {
    json_t *subnet;             /* the Subnet document (required) */
    json_t *group_ids;          /* security group ids (strings); NULL or
                                 * empty: the VPC's default group */
    const char *description;    /* NULL: "" */
    const char *primary_ip;     /* NULL: the lowest free address */
    json_t *secondary_ips;      /* addresses (strings) to add, or NULL */
    int secondary_count;        /* further addresses, the lowest free ones */
    const char *interface_type; /* NULL: "interface" */
    const char *requester_id;   /* set: a requester-managed ENI */
    json_t *tags;               /* its TagSet (copied); NULL: none */
    int run_instances;          /* RunInstances words InUse its own way */
};

/* Create and store an ENI (Status "available"); its document (a new
 * reference) in *out when out is not NULL. */
int ec2_eni_create(struct call *c, const struct eni_spec *spec, json_t **out);

/* Attach an ENI to an instance at device_index; the instance must be
 * running or stopped, in the ENI's zone, with that index free.  The
 * attachment id is copied into attachment_id when it is not NULL. */
int ec2_eni_attach(struct call *c, const char *eni_id, const char *instance_id,
                   int device_index, int delete_on_termination,
                   char *attachment_id, size_t len);

/* Detach an ENI from whatever holds it (Status "available" again). */
int ec2_eni_detach(struct call *c, const char *eni_id);

/* Detach (if attached) and delete an ENI, releasing its addresses. */
int ec2_eni_delete(struct call *c, const char *eni_id);

/* ---- ECS awsvpc tasks ----
 *
 * What ECS creates for a task, as real ECS does: a requester-managed ENI
 * (RequesterId = the ECS service's account, RequesterManaged true,
 * Description "arn:aws:ecs:<region>:<account>:attachment/<attachment_id>")
 * in subnet_id with group_ids (NULL: the VPC's default group).  With an
 * instance_id (EC2 launch type) it is attached to that instance at the
 * next free device index; without one (Fargate) it is attached to ECS's
 * own infrastructure, in-use and without an InstanceId.  Users cannot
 * detach or modify it (AuthFailure); ec2_task_eni_delete() removes it and
 * releases its addresses when the task stops. */
int ec2_task_eni_create(struct call *c, const char *subnet_id, json_t *group_ids,
                        const char *attachment_id, const char *instance_id,
                        json_t **out);
int ec2_task_eni_delete(struct call *c, const char *eni_id);

#endif
