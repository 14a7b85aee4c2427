/*
 * What other areas (network interfaces, the reconciler that turns groups
 * into nftables rules) need to read about security groups.
 *
 * A rule is a "security-group-rule" document in the SecurityGroupRule
 * shape under its group: SecurityGroupRuleId, GroupId, IsEgress,
 * IpProtocol ("tcp", "udp", "icmp", "icmpv6", "-1" or a protocol number),
 * FromPort and ToPort (-1 when the protocol has no ports; ICMP type and
 * code for icmp), and exactly one peer: CidrIpv4, CidrIpv6, PrefixListId
 * or ReferencedGroupInfo.GroupId.
 */
#ifndef ECSL_EC2_SGS_H
#define ECSL_EC2_SGS_H

#include <jansson.h>

#include "../storage/store.h"

/* Every rule of a group, ingress and egress, in id order: a new array of
 * rule documents, or NULL when storage failed. */
json_t *ec2_sg_rules(struct db *db, const struct scope *s, const char *group_id);

/* The ids of the groups that have a rule referring to group_id (group_id
 * itself when it refers to itself): a new array of strings, or NULL when
 * storage failed.  When the members of group_id change, these are the
 * groups whose packet filters change with them. */
json_t *ec2_sg_referencing_groups(struct db *db, const struct scope *s,
                                  const char *group_id);

#endif
