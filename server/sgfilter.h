/*
 * Security groups as an nftables table (inet ecsl-sg) in a VPC's
 * namespace, where every packet between ENIs is routed.
 *
 * Each packet is checked against the rules of today, not of when its
 * connection began: the checks use the connection's original direction
 * (ct original ip saddr / daddr / proto-dst), so replies of an allowed
 * connection pass, and an authorized or revoked rule takes effect on the
 * next packet of connections that already exist.  A packet must pass the
 * egress rules of its source ENI's groups and the ingress rules of its
 * destination ENI's groups; source-group rules match the live set of the
 * addresses of that group's ENIs in the VPC.
 *
 * The base chain only looks up the packet's addresses in two verdict maps
 * (address -> the egress or ingress chain of the ENI's combination of
 * groups, one chain pair per combination) and a set of every ENI address,
 * so an ENI that comes or goes is a few elements: each sync sends the
 * kernel only the difference from what it applied last, in one
 * transaction, and the cost of starting a task does not grow with the
 * number of tasks.
 */
#ifndef ECSL_SGFILTER_H
#define ECSL_SGFILTER_H

#include <jansson.h>
#include <stddef.h>

/* Render the VPC's table from its ENIs and their groups' rules (documents
 * of every scope; only those of the VPC's are used) and apply it in the
 * namespace vpcfd, atomically: the difference from the last apply, or the
 * whole table the first time (and when the difference is refused because
 * the kernel's table is not what was applied).  0 or -1 with err. */
int sgfilter_apply(int vpcfd, json_t *vpc, json_t *enis, json_t *rules, char *err,
                   size_t errlen);

/* The ENIs in added are new since the last apply in the VPC and nothing
 * else changed (no rule, no other ENI, as when tasks start): their
 * addresses join the sets and maps of what was applied, in one
 * transaction of added elements, without looking at every ENI.  1 when
 * done so; 0 when sgfilter_apply must look at everything (nothing
 * applied yet, a new combination of groups, or a refusal, err says). */
int sgfilter_add(int vpcfd, json_t *vpc, json_t *added, char *err, size_t errlen);

/* Forget what was applied in the VPC (NULL: in every VPC), whose
 * namespace is new or gone. */
void sgfilter_forget(json_t *vpc);

/* The rendered table text (for tests and debugging); caller frees. */
char *sgfilter_render(json_t *vpc, json_t *enis, json_t *rules);

#endif
