/*
 * EC2 security groups.
 *
 * A group is stored as its SecurityGroup document without rules; each rule
 * is a "security-group-rule" resource under the group (the
 * SecurityGroupRule shape, with its sgr- id), as AWS models them since
 * DescribeSecurityGroupRules.  IpPermissions and IpPermissionsEgress are
 * composed from the rules when a group is read.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

/* Insert one rule of group_id; fields holds IpProtocol, FromPort, ToPort
 * and one peer (CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupInfo),
 * optionally Description.  It is copied. */
static int insert_rule(struct call *c, const char *group_id, int egress,
                       json_t *fields, json_t **out)
{
    char id[32], arn[200];
    ec2_new_id("sgr", id, sizeof(id));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:security-group-rule/%s", c->region,
             c->account, id);
    json_t *rule = json_deep_copy(fields);
    jset_str(rule, "SecurityGroupRuleId", id);
    jset_str(rule, "SecurityGroupRuleArn", arn);
    jset_str(rule, "GroupId", group_id);
    jset_str(rule, "GroupOwnerId", c->account);
    json_object_set_new(rule, "IsEgress", json_boolean(egress));
    if (!json_object_get(rule, "Tags"))
        json_object_set_new(rule, "Tags", json_array());
    int rc = store_insert(c->db, &c->scope, "security-group-rule", id, group_id, NULL, rule);
    if (rc != STORE_OK) {
        json_decref(rule);
        return call_internal(c, "storing security group rule");
    }
    if (out)
        *out = rule;
    else
        json_decref(rule);
    return 0;
}

int ec2_sg_create(struct call *c, const char *vpc_id, const char *name,
                  const char *description, json_t *tags, int is_default,
                  json_t **out)
{
    char id[32], arn[200];
    ec2_new_id("sg", id, sizeof(id));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:security-group/%s", c->region,
             c->account, id);
    json_t *sg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
                           "GroupId", id, "GroupName", name, "Description", description,
                           "VpcId", vpc_id, "OwnerId", c->account,
                           "SecurityGroupArn", arn,
                           "Tags", tags ? json_incref(tags) : json_array());
    int rc = store_insert(c->db, &c->scope, "security-group", id, vpc_id, name, sg);
    if (rc == STORE_EXISTS) {
        json_decref(sg);
        return call_error(c, "InvalidGroup.Duplicate",
                          "The security group '%s' already exists for VPC '%s'", name,
                          vpc_id);
    }
    if (rc != STORE_OK) {
        json_decref(sg);
        return call_internal(c, "storing security group");
    }
    /* Every VPC group starts allowing all egress; the default group also
     * admits everything from its own members. */
    json_t *egress = json_pack("{s:s, s:i, s:i, s:s}", "IpProtocol", "-1",
                               "FromPort", -1, "ToPort", -1, "CidrIpv4", "0.0.0.0/0");
    rc = insert_rule(c, id, 1, egress, NULL);
    json_decref(egress);
    if (rc == 0 && is_default) {
        json_t *self = json_pack("{s:s, s:i, s:i, s:{s:s, s:s}}", "IpProtocol", "-1",
                                 "FromPort", -1, "ToPort", -1, "ReferencedGroupInfo",
                                 "GroupId", id, "UserId", c->account);
        rc = insert_rule(c, id, 0, self, NULL);
        json_decref(self);
    }
    if (rc < 0) {
        json_decref(sg);
        return -1;
    }
    if (out)
        *out = sg;
    else
        json_decref(sg);
    return 0;
}

int ec2_default_sg(struct call *c, const char *vpc_id, char *id, size_t len)
{
    int rc = store_find_name(c->db, &c->scope, "security-group", vpc_id, "default", id,
                             len);
    if (rc == STORE_OK)
        return 0;
    if (rc == STORE_NOT_FOUND)
        return call_error(c, "InvalidGroup.NotFound",
                          "The security group 'default' does not exist in VPC '%s'",
                          vpc_id);
    return call_internal(c, "finding the default security group");
}
