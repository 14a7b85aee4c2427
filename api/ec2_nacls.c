/*
 * EC2 network ACLs: DescribeNetworkAcls, CreateNetworkAcl, DeleteNetworkAcl,
 * ReplaceNetworkAclAssociation, Create/Replace/DeleteNetworkAclEntry.
 *
 * ecslocal records network ACLs but does not filter traffic by them (only
 * security groups are enforced; README).  Each VPC's default ACL exists,
 * allows everything, and is associated with every subnet that has no other
 * ACL, so tools that read it (Terraform's aws_vpc, aws_default_network_acl)
 * find what AWS returns.  Entries are kept in the order AWS lists them:
 * egress rules first, each direction by rule number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2.h"

#define RULE_MAX 32766      /* 32767 is the fixed catch-all deny rule */

static json_t *entry(int number, const char *action, int egress)
{
    return json_pack("{s:i, s:s, s:s, s:b, s:s}", "RuleNumber", number,
                     "Protocol", "-1", "RuleAction", action, "Egress", egress,
                     "CidrBlock", "0.0.0.0/0");
}

int ec2_network_acl_create(struct call *c, const char *vpc_id, int is_default,
                           json_t *tags, json_t **out)
{
    char id[32];
    ec2_new_id("acl", id, sizeof(id));
    json_t *entries = json_array();
    for (int egress = 1; egress >= 0; egress--) {
        if (is_default)
            json_array_append_new(entries, entry(100, "allow", egress));
        json_array_append_new(entries, entry(32767, "deny", egress));
    }
    json_t *acl = json_pack("{s:s, s:s, s:s, s:b, s:o, s:[], s:o}",
                            "NetworkAclId", id, "VpcId", vpc_id, "OwnerId", c->account,
                            "IsDefault", is_default, "Entries", entries,
                            "Associations", "Tags", tags ? json_incref(tags) : json_array());
    if (!acl)
        return call_internal(c, "building network ACL");
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

static json_t *acl_association(const char *acl_id, const char *subnet_id)
{
    char assoc[40];
    ec2_new_id("aclassoc", assoc, sizeof(assoc));
    return json_pack("{s:s, s:s, s:s}", "NetworkAclAssociationId", assoc,
                     "NetworkAclId", acl_id, "SubnetId", subnet_id);
}

int ec2_network_acl_adopt_subnet(struct call *c, const char *vpc_id,
                                 const char *subnet_id)
{
    json_t *acl = NULL;
    if (store_each(c->db, &c->scope, "network-acl", vpc_id, NULL, find_default_acl,
                   &acl) < 0)
        return call_internal(c, "listing network ACLs");
    if (!acl)
        return 0;
    json_array_append_new(json_object_get(acl, "Associations"),
                          acl_association(jstr(acl, "NetworkAclId"), subnet_id));
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
            return 1;
        }
    }
    return 0;
}

int ec2_network_acl_release_subnet(struct call *c, const char *vpc_id,
                                   const char *subnet_id)
{
    struct release r = { c, subnet_id, 0 };
    if (store_each(c->db, &c->scope, "network-acl", vpc_id, NULL, drop_association,
                   &r) < 0 && !r.failed)
        return call_internal(c, "listing network ACLs");
    return r.failed ? -1 : 0;
}

/* ---- Describe ---- */

static const struct ec2_filter_field acl_filters[] = {
    { "association.association-id", "Associations.NetworkAclAssociationId" },
    { "association.network-acl-id", "Associations.NetworkAclId" },
    { "association.subnet-id", "Associations.SubnetId" },
    { "default", "IsDefault" },
    { "entry.cidr", "Entries.CidrBlock" },
    { "entry.egress", "Entries.Egress" },
    { "entry.icmp.code", "Entries.IcmpTypeCode.Code" },
    { "entry.icmp.type", "Entries.IcmpTypeCode.Type" },
    { "entry.ipv6-cidr", "Entries.Ipv6CidrBlock" },
    { "entry.port-range.from", "Entries.PortRange.From" },
    { "entry.port-range.to", "Entries.PortRange.To" },
    { "entry.protocol", "Entries.Protocol" },
    { "entry.rule-action", "Entries.RuleAction" },
    { "entry.rule-number", "Entries.RuleNumber" },
    { "network-acl-id", "NetworkAclId" },
    { "owner-id", "OwnerId" },
    { "vpc-id", "VpcId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_acls = {
    "network-acl", "NetworkAclIds", "networkAclIdSet", "NetworkAcls", acl_filters,
    NULL, 5, 1000,
};

int ec2_describe_network_acls(struct call *c)
{
    return ec2_describe(c, &describe_acls);
}

/* ---- ACLs ---- */

int ec2_create_network_acl(struct call *c)
{
    const char *vpc_id = in_str(c, "VpcId");
    json_t *vpc = ec2_get(c, "vpc", vpc_id);
    if (!vpc)
        return -1;
    json_decref(vpc);
    json_t *tags = ec2_spec_tags(c, "network-acl");
    if (!tags)
        return -1;
    json_t *acl;
    int rc = ec2_network_acl_create(c, vpc_id, 0, tags, &acl);
    json_decref(tags);
    if (rc < 0)
        return -1;
    json_object_set_new(call_out(c), "NetworkAcl", acl);
    if (in_str(c, "ClientToken"))
        jset_str(c->out, "ClientToken", in_str(c, "ClientToken"));
    return 0;
}

int ec2_delete_network_acl(struct call *c)
{
    const char *id = in_str(c, "NetworkAclId");
    json_t *acl = ec2_get(c, "network-acl", id);
    if (!acl)
        return -1;
    int is_default = json_is_true(json_object_get(acl, "IsDefault"));
    size_t n = json_array_size(json_object_get(acl, "Associations"));
    json_decref(acl);
    if (is_default)
        return call_error(c, "InvalidParameterValue",
                          "cannot delete default network ACL %s", id);
    if (n > 0)
        return call_error(c, "DependencyViolation",
                          "The networkAcl '%s' has dependencies and cannot be deleted.",
                          id);
    if (store_delete(c->db, &c->scope, "network-acl", id) != STORE_OK)
        return call_internal(c, "deleting network ACL");
    return 0;
}

struct acl_assoc_find {
    const char *assoc_id;
    json_t *acl;
    size_t index;
};

static int find_acl_assoc(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct acl_assoc_find *f = arg;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "Associations"), i, a) {
        if (strcmp(jstr(a, "NetworkAclAssociationId"), f->assoc_id) == 0) {
            f->acl = json_incref(doc);
            f->index = i;
            return 1;
        }
    }
    return 0;
}

/* Moves a subnet to another ACL of its VPC; the association gets a new id. */
int ec2_replace_network_acl_association(struct call *c)
{
    const char *assoc_id = in_str(c, "AssociationId");
    const char *acl_id = in_str(c, "NetworkAclId");
    json_t *target = ec2_get(c, "network-acl", acl_id);
    if (!target)
        return -1;
    struct acl_assoc_find f = { assoc_id, NULL, 0 };
    if (store_each(c->db, &c->scope, "network-acl", NULL, NULL, find_acl_assoc, &f) < 0) {
        json_decref(target);
        return call_internal(c, "listing network ACLs");
    }
    int rc = 0;
    if (!f.acl) {
        rc = call_error(c, "InvalidAssociationID.NotFound",
                        "The association ID '%s' does not exist", assoc_id);
        goto out;
    }
    if (strcmp(jstr(f.acl, "VpcId"), jstr(target, "VpcId")) != 0) {
        rc = call_error(c, "InvalidParameterValue",
                        "network ACL %s and association %s belong to different networks",
                        acl_id, assoc_id);
        goto out;
    }
    json_t *old = json_array_get(json_object_get(f.acl, "Associations"), f.index);
    json_t *a = acl_association(acl_id, jstr(old, "SubnetId"));
    json_array_remove(json_object_get(f.acl, "Associations"), f.index);
    if (ec2_save(c, "network-acl", jstr(f.acl, "NetworkAclId"), f.acl) < 0) {
        json_decref(a);
        rc = -1;
        goto out;
    }
    /* The target may be the ACL just saved: read it again. */
    json_decref(target);
    target = ec2_get(c, "network-acl", acl_id);
    if (!target) {
        json_decref(a);
        rc = -1;
        goto out;
    }
    json_array_append(json_object_get(target, "Associations"), a);
    rc = ec2_save(c, "network-acl", acl_id, target);
    if (rc == 0)
        jset_str(call_out(c), "NewAssociationId", jstr(a, "NetworkAclAssociationId"));
    json_decref(a);
out:
    json_decref(f.acl);
    json_decref(target);
    return rc;
}

/* ---- entries ---- */

/* AWS reports protocols by number: "tcp" is "6", "all" is "-1". */
static int protocol_number(const char *given, char *out, size_t len)
{
    static const struct { const char *name, *number; } names[] = {
        { "all", "-1" }, { "tcp", "6" }, { "udp", "17" }, { "icmp", "1" },
        { "icmpv6", "58" },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(given, names[i].name) == 0) {
            snprintf(out, len, "%s", names[i].number);
            return 0;
        }
    char *end;
    long n = strtol(given, &end, 10);
    if (!*given || *end || n < -1 || n > 255)
        return -1;
    snprintf(out, len, "%ld", n);
    return 0;
}

/* The entry a Create/ReplaceNetworkAclEntry request describes. */
static json_t *entry_from_request(struct call *c)
{
    long long number = in_int(c, "RuleNumber", 0);
    const char *given = in_str(c, "Protocol");
    const char *cidr_text = in_str(c, "CidrBlock");
    char proto[8], canon[32];
    struct cidr cidr;
    if (number < 1 || number > RULE_MAX) {
        call_error(c, "InvalidParameterValue",
                   "Value (%lld) for parameter ruleNumber is invalid. Rule number must "
                   "be between 1 and %d.", number, RULE_MAX);
        return NULL;
    }
    if (protocol_number(given, proto, sizeof(proto)) < 0) {
        call_error(c, "InvalidParameterValue",
                   "Value (%s) for parameter protocol is invalid.", given);
        return NULL;
    }
    if (in_str(c, "Ipv6CidrBlock")) {
        call_error(c, "UnsupportedOperation",
                   "IPv6 network ACL entries are not emulated by ecslocal.");
        return NULL;
    }
    if (!cidr_text) {
        call_error(c, "MissingParameter",
                   "The request must contain the parameter cidrBlock or ipv6CidrBlock");
        return NULL;
    }
    if (cidr_parse(cidr_text, &cidr) < 0) {
        call_error(c, "InvalidParameterValue",
                   "Value (%s) for parameter cidrBlock is invalid. This is not a valid "
                   "CIDR block.", cidr_text);
        return NULL;
    }
    cidr_format(&cidr, canon, sizeof(canon));
    json_t *ports = in_get(c, "PortRange");
    json_t *icmp = in_get(c, "IcmpTypeCode");
    if ((strcmp(proto, "6") == 0 || strcmp(proto, "17") == 0) &&
        (!json_object_get(ports, "From") || !json_object_get(ports, "To"))) {
        call_error(c, "InvalidParameterValue",
                   "TCP and UDP network ACL entries must specify a port range "
                   "(portRange.from and portRange.to).");
        return NULL;
    }
    if (strcmp(proto, "1") == 0 &&
        (!json_object_get(icmp, "Type") || !json_object_get(icmp, "Code"))) {
        call_error(c, "InvalidParameterValue",
                   "ICMP network ACL entries must specify icmpTypeCode.type and "
                   "icmpTypeCode.code.");
        return NULL;
    }
    json_t *e = json_pack("{s:I, s:s, s:s, s:b, s:s}", "RuleNumber", number,
                          "Protocol", proto, "RuleAction", in_str(c, "RuleAction"),
                          "Egress", in_bool(c, "Egress", 0), "CidrBlock", canon);
    if (strcmp(proto, "6") == 0 || strcmp(proto, "17") == 0)
        json_object_set(e, "PortRange", ports);
    if (strcmp(proto, "1") == 0)
        json_object_set(e, "IcmpTypeCode", icmp);
    return e;
}

/* Position of the entry (rule number, direction) in entries, or -1. */
static int find_entry(json_t *entries, long long number, int egress)
{
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
        if (json_integer_value(json_object_get(e, "RuleNumber")) == number &&
            json_is_true(json_object_get(e, "Egress")) == egress)
            return (int)i;
    return -1;
}

/* Insert keeping AWS's order: egress first, then by rule number. */
static void insert_entry(json_t *entries, json_t *e)
{
    int egress = json_is_true(json_object_get(e, "Egress"));
    long long number = json_integer_value(json_object_get(e, "RuleNumber"));
    size_t i;
    json_t *have;
    json_array_foreach(entries, i, have) {
        int he = json_is_true(json_object_get(have, "Egress"));
        long long hn = json_integer_value(json_object_get(have, "RuleNumber"));
        if ((egress && !he) || (egress == he && number < hn))
            break;
    }
    json_array_insert(entries, i, e);
}

static int entry_not_found(struct call *c, const char *acl_id, long long number,
                           int egress)
{
    return call_error(c, "InvalidNetworkAclEntry.NotFound",
                      "The network acl entry identified by %lld (%s) does not exist in "
                      "network acl %s", number, egress ? "egress" : "ingress", acl_id);
}

/* Create (replace = 0) or replace (replace = 1) one entry. */
static int put_entry(struct call *c, int replace)
{
    const char *acl_id = in_str(c, "NetworkAclId");
    json_t *acl = ec2_get(c, "network-acl", acl_id);
    if (!acl)
        return -1;
    json_t *e = entry_from_request(c);
    if (!e) {
        json_decref(acl);
        return -1;
    }
    json_t *entries = json_object_get(acl, "Entries");
    long long number = json_integer_value(json_object_get(e, "RuleNumber"));
    int egress = json_is_true(json_object_get(e, "Egress"));
    int at = find_entry(entries, number, egress);
    int rc = 0;
    if (!replace && at >= 0)
        rc = call_error(c, "NetworkAclEntryAlreadyExists",
                        "The network acl entry identified by %lld already exists.", number);
    else if (replace && at < 0)
        rc = entry_not_found(c, acl_id, number, egress);
    if (rc == 0) {
        if (at >= 0)
            json_array_remove(entries, (size_t)at);
        insert_entry(entries, e);
        rc = ec2_save(c, "network-acl", acl_id, acl);
    }
    json_decref(e);
    json_decref(acl);
    return rc;
}

int ec2_create_network_acl_entry(struct call *c)
{
    return put_entry(c, 0);
}

int ec2_replace_network_acl_entry(struct call *c)
{
    return put_entry(c, 1);
}

int ec2_delete_network_acl_entry(struct call *c)
{
    const char *acl_id = in_str(c, "NetworkAclId");
    long long number = in_int(c, "RuleNumber", 0);
    int egress = in_bool(c, "Egress", 0);
    json_t *acl = ec2_get(c, "network-acl", acl_id);
    if (!acl)
        return -1;
    json_t *entries = json_object_get(acl, "Entries");
    int at = number >= 1 && number <= RULE_MAX ? find_entry(entries, number, egress) : -1;
    int rc = at < 0 ? entry_not_found(c, acl_id, number, egress) : 0;
    if (rc == 0) {
        json_array_remove(entries, (size_t)at);
        rc = ec2_save(c, "network-acl", acl_id, acl);
    }
    json_decref(acl);
    return rc;
}
