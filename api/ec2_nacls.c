/*
 * EC2 network ACLs.  ecslocal does not filter traffic by network ACL (only
 * security groups are enforced); each VPC's default ACL exists, allows
 * everything, and is associated with every subnet that has no other ACL,
 * so tools that read it (Terraform's aws_vpc) find what AWS returns.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

static json_t *entry(int number, const char *action, int egress)
{
    return json_pack("{s:i, s:s, s:s, s:b, s:s}", "RuleNumber", number,
                     "Protocol", "-1", "RuleAction", action, "Egress", egress,
                     "CidrBlock", "0.0.0.0/0");
}

int ec2_network_acl_create(struct call *c, const char *vpc_id, int is_default,
                           json_t *tags, json_t **out)
{
    char id[32], arn[200];
    ec2_new_id("acl", id, sizeof(id));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:network-acl/%s", c->region,
             c->account, id);
    json_t *entries = json_array();
    if (is_default) {
        json_array_append_new(entries, entry(100, "allow", 1));
        json_array_append_new(entries, entry(100, "allow", 0));
    }
    json_array_append_new(entries, entry(32767, "deny", 1));
    json_array_append_new(entries, entry(32767, "deny", 0));
    json_t *acl = json_pack("{s:s, s:s, s:s, s:b, s:o, s:[], s:o}",
                            "NetworkAclId", id, "VpcId", vpc_id, "OwnerId", c->account,
                            "IsDefault", is_default, "Entries", entries,
                            "Associations", "Tags", tags ? json_incref(tags) : json_array());
    (void)arn;
    if (store_insert(c->db, &c->scope, "network-acl", id, vpc_id, NULL, acl) != STORE_OK) {
        json_decref(acl);
        return call_internal(c, "storing network ACL");
    }
    if (out)
        *out = acl;
    else
        json_decref(acl);
    return 0;
}

static int find_default_acl(json_t *doc, const char *id, void *arg)
{
    (void)id;
    if (json_is_true(json_object_get(doc, "IsDefault"))) {
        *(json_t **)arg = json_incref(doc);
        return 1;
    }
    return 0;
}

int ec2_network_acl_adopt_subnet(struct call *c, const char *vpc_id,
                                 const char *subnet_id)
{
    json_t *acl = NULL;
    char assoc[40];
    store_each(c->db, &c->scope, "network-acl", vpc_id, NULL, find_default_acl, &acl);
    if (!acl)
        return 0;
    ec2_new_id("aclassoc", assoc, sizeof(assoc));
    json_array_append_new(json_object_get(acl, "Associations"),
                          json_pack("{s:s, s:s, s:s}", "NetworkAclAssociationId", assoc,
                                    "NetworkAclId", jstr(acl, "NetworkAclId"),
                                    "SubnetId", subnet_id));
    int rc = ec2_save(c, "network-acl", jstr(acl, "NetworkAclId"), acl);
    json_decref(acl);
    return rc;
}

struct release {
    struct call *c;
    const char *subnet_id;
    int failed;
};

static int drop_association(json_t *doc, const char *id, void *arg)
{
    struct release *r = arg;
    json_t *assocs = json_object_get(doc, "Associations");
    for (size_t i = 0; i < json_array_size(assocs); i++) {
        json_t *a = json_array_get(assocs, i);
        if (jstr(a, "SubnetId") && strcmp(jstr(a, "SubnetId"), r->subnet_id) == 0) {
            json_array_remove(assocs, i);
            if (ec2_save(r->c, "network-acl", id, doc) < 0)
                r->failed = 1;
            return r->failed;
        }
    }
    return 0;
}

int ec2_network_acl_release_subnet(struct call *c, const char *vpc_id,
                                   const char *subnet_id)
{
    struct release r = { c, subnet_id, 0 };
    store_each(c->db, &c->scope, "network-acl", vpc_id, NULL, drop_association, &r);
    return r.failed ? -1 : 0;
}
