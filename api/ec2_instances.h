/*
 * EC2 instances as the rest of ecslocal uses them: ECS container instances
 * are emulated EC2 instances, each with a primary ENI in a subnet.
 *
 * An instance is stored as the Instance document DescribeInstances returns
 * (type "instance"), minus what is read live from its ENIs (NetworkInterfaces,
 * SecurityGroups, SubnetId, VpcId, PrivateIpAddress, PrivateDnsName,
 * SourceDestCheck), plus private members: "_ReservationId" and "_Enis" (the
 * ids of the ENIs attached to it).
 *
 * None of these functions reads the request.  They return 0, or -1 with the
 * error set on c.
 */
#ifndef ECSL_EC2_INSTANCES_H
#define ECSL_EC2_INSTANCES_H

#include <jansson.h>

#include "call.h"

/* Launch one running instance with a primary ENI in subnet_id (NULL: the
 * default VPC's first default subnet) in group_ids (NULL: the VPC's default
 * group), of instance_type (NULL: t3.micro), tagged with tags (NULL: none).
 * Its Instance document, as DescribeInstances shows it, in *out (a new
 * reference) when out is not NULL. */
int ec2_instance_create(struct call *c, const char *subnet_id, json_t *group_ids,
                        const char *instance_type, json_t *tags, json_t **out);

/* Terminate an instance as TerminateInstances does: its ENIs that are
 * deleted on termination go, the others are detached. */
int ec2_instance_terminate(struct call *c, const char *instance_id);

/* The instance document with its live members filled in (what
 * DescribeInstances shows), or NULL with InvalidInstanceID.NotFound. */
json_t *ec2_instance_view(struct call *c, const char *instance_id);

/* Bookkeeping for ec2_enis.c: an ENI was attached to or detached from an
 * instance. */
int ec2_instance_add_eni(struct call *c, const char *instance_id, const char *eni_id);
int ec2_instance_remove_eni(struct call *c, const char *instance_id,
                            const char *eni_id);

#endif
