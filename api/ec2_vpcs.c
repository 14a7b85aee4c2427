/*
 * EC2 VPCs: CreateVpc, DescribeVpcs, DeleteVpc, Modify/DescribeVpcAttribute,
 * CreateDefaultVpc, and the default VPC every region has from first use.
 *
 * Creating a VPC creates what AWS creates with it: its default security
 * group, its main route table and its default network ACL, and it uses the
 * scope's default DHCP options.  Deleting it removes those again, and is
 * refused while anything a user made still lives in it.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"
#include "scope.h"

static const char *dns_suffix(const char *region)
{
    return strcmp(region, "us-east-1") == 0 ? "ec2.internal" : NULL;
}

/* The scope's default DHCP options set (one, shared by every VPC). */
static int default_dhcp_options(struct call *c, char *id, size_t len)
{
    if (store_find_name(c->db, &c->scope, "dhcp-options", "", "default", id, len) ==
        STORE_OK)
        return 0;
    char domain[96];
    if (dns_suffix(c->region))
        snprintf(domain, sizeof(domain), "%s", dns_suffix(c->region));
    else
        snprintf(domain, sizeof(domain), "%s.compute.internal", c->region);
    ec2_new_id("dopt", id, len);
    json_t *doc = json_pack(
        "{s:s, s:s, s:[{s:s, s:[{s:s}]}, {s:s, s:[{s:s}]}], s:[]}",
        "DhcpOptionsId", id, "OwnerId", c->account,
        "DhcpConfigurations",
        "Key", "domain-name", "Values", "Value", domain,
        "Key", "domain-name-servers", "Values", "Value", "AmazonProvidedDNS",
        "Tags");
    int rc = store_insert(c->db, &c->scope, "dhcp-options", id, "", "default", doc);
    json_decref(doc);
    return rc == STORE_OK ? 0 : call_internal(c, "storing DHCP options");
}

int ec2_vpc_create(struct call *c, const struct cidr *cidr, int is_default,
                   json_t *tags, json_t **out)
{
    char id[32], assoc[48], text[32], dopt[32];
    if (default_dhcp_options(c, dopt, sizeof(dopt)) < 0)
        return -1;
    ec2_new_id("vpc", id, sizeof(id));
    ec2_new_id("vpc-cidr-assoc", assoc, sizeof(assoc));
    cidr_format(cidr, text, sizeof(text));
    const char *tenancy = in_str(c, "InstanceTenancy");
    json_t *vpc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:[{s:s, s:s, s:{s:s}}], s:[],"
        " s:o, s:b, s:b, s:b}",
        "VpcId", id, "OwnerId", c->account, "State", "available",
        "CidrBlock", text, "DhcpOptionsId", dopt,
        "InstanceTenancy", tenancy && !is_default ? tenancy : "default",
        "IsDefault", is_default,
        "CidrBlockAssociationSet", "AssociationId", assoc, "CidrBlock", text,
        "CidrBlockState", "State", "associated",
        "Ipv6CidrBlockAssociationSet",
        "Tags", tags ? json_incref(tags) : json_array(),
        /* What DescribeVpcAttribute answers; AWS defaults. */
        "_EnableDnsSupport", 1, "_EnableDnsHostnames", is_default,
        "_EnableNetworkAddressUsageMetrics", 0);
    if (!vpc)
        return call_internal(c, "building VPC");
    if (store_insert(c->db, &c->scope, "vpc", id, "", NULL, vpc) != STORE_OK) {
        json_decref(vpc);
        return call_internal(c, "storing VPC");
    }
    if (ec2_sg_create(c, id, "default", "default VPC security group", NULL, 1, NULL) < 0 ||
        ec2_route_table_create(c, vpc, 1, NULL, NULL) < 0 ||
        ec2_network_acl_create(c, id, 1, NULL, NULL) < 0) {
        json_decref(vpc);
        return -1;
    }
    if (out)
        *out = vpc;
    else
        json_decref(vpc);
    return 0;
}

/* The default VPC: 172.31.0.0/16, a /20 default subnet in every zone, an
 * internet gateway and a default route to it, DNS hostnames on. */
static int create_default_vpc(struct call *c, json_t **out)
{
    struct cidr cidr;
    json_t *vpc;
    struct ec2_zone zones[8];
    cidr_parse("172.31.0.0/16", &cidr);
    if (ec2_vpc_create(c, &cidr, 1, NULL, &vpc) < 0)
        return -1;
    int n = ec2_region_zones(c->region, zones, 8);
    for (int i = 0; i < n; i++) {
        struct cidr sub = { cidr.base + ((uint32_t)i << 12), 20 };
        if (ec2_subnet_create(c, vpc, &sub, &zones[i], 1, NULL, NULL) < 0) {
            json_decref(vpc);
            return -1;
        }
    }
    json_t *igw;
    if (ec2_igw_create(c, NULL, &igw) < 0) {
        json_decref(vpc);
        return -1;
    }
    int rc = ec2_igw_attach(c, jstr(igw, "InternetGatewayId"), jstr(vpc, "VpcId"));
    json_decref(igw);
    if (rc < 0) {
        json_decref(vpc);
        return -1;
    }
    if (out)
        *out = vpc;
    else
        json_decref(vpc);
    return 0;
}

int scope_create_defaults(struct call *c)
{
    return create_default_vpc(c, NULL);
}

int ec2_create_default_vpc(struct call *c)
{
    json_t *vpc;
    if (ec2_default_vpc(c, &vpc) < 0)
        return -1;
    if (vpc) {
        json_decref(vpc);
        return call_error(c, "DefaultVpcAlreadyExists",
                          "A Default VPC already exists for this account in this region.");
    }
    if (create_default_vpc(c, &vpc) < 0)
        return -1;
    json_object_set_new(call_out(c), "Vpc", vpc);
    return 0;
}

int ec2_create_vpc(struct call *c)
{
    const char *text = in_str(c, "CidrBlock");
    struct cidr cidr;
    if (in_str(c, "Ipv4IpamPoolId") || in_str(c, "Ipv6IpamPoolId") ||
        in_str(c, "Ipv6Pool"))
        return call_error(c, "UnsupportedOperation",
                          "IPAM and BYOIP pools are not emulated by ecslocal.");
    if (in_bool(c, "AmazonProvidedIpv6CidrBlock", 0) || in_str(c, "Ipv6CidrBlock"))
        return call_error(c, "UnsupportedOperation",
                          "IPv6 CIDR blocks are not emulated by ecslocal.");
    if (!text)
        return call_error(c, "MissingParameter",
                          "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.");
    if (cidr_parse(text, &cidr) < 0)
        return call_error(c, "InvalidParameterValue",
                          "Value (%s) for parameter cidrBlock is invalid. This is not "
                          "a valid CIDR block.", text);
    if (cidr.prefix < 16 || cidr.prefix > 28)
        return call_error(c, "InvalidVpc.Range", "The CIDR '%s' is invalid.", text);
    const char *tenancy = in_str(c, "InstanceTenancy");
    if (tenancy && strcmp(tenancy, "host") == 0)
        return call_error(c, "InvalidParameterValue",
                          "Value (host) for parameter instanceTenancy is invalid. "
                          "Valid values are default and dedicated.");
    json_t *tags = ec2_spec_tags(c, "vpc");
    if (!tags)
        return -1;
    json_t *vpc;
    int rc = ec2_vpc_create(c, &cidr, 0, tags, &vpc);
    json_decref(tags);
    if (rc < 0)
        return -1;
    json_object_set_new(call_out(c), "Vpc", vpc);
    return 0;
}

static const struct ec2_filter_field vpc_filters[] = {
    { "cidr", "CidrBlock" },
    { "cidr-block-association.cidr-block", "CidrBlockAssociationSet.CidrBlock" },
    { "cidr-block-association.association-id", "CidrBlockAssociationSet.AssociationId" },
    { "cidr-block-association.state", "CidrBlockAssociationSet.CidrBlockState.State" },
    { "dhcp-options-id", "DhcpOptionsId" },
    { "ipv6-cidr-block-association.ipv6-cidr-block", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock" },
    { "ipv6-cidr-block-association.ipv6-pool", "Ipv6CidrBlockAssociationSet.Ipv6Pool" },
    { "ipv6-cidr-block-association.association-id", "Ipv6CidrBlockAssociationSet.AssociationId" },
    { "ipv6-cidr-block-association.state", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State" },
    { "is-default", "IsDefault" },
    /* Undocumented, but AWS accepts it and Terraform's aws_default_vpc
     * finds the default VPC with it. */
    { "isDefault", "IsDefault" },
    { "owner-id", "OwnerId" },
    { "state", "State" },
    { "vpc-id", "VpcId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_vpcs = {
    "vpc", "VpcIds", "vpcSet", "Vpcs", vpc_filters, NULL, 5, 1000,
};

int ec2_describe_vpcs(struct call *c)
{
    return ec2_describe(c, &describe_vpcs);
}

/* Resources of a VPC that only AWS's own defaults may leave behind when it
 * is deleted: anything else is a dependency. */
struct vpc_deps {
    const char *vpc_id;
    int found;
};

static int igw_attached_to(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct vpc_deps *d = arg;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "Attachments"), i, a)
        if (jstr(a, "VpcId") && strcmp(jstr(a, "VpcId"), d->vpc_id) == 0)
            d->found = 1;
    return d->found;
}

static int user_sg(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct vpc_deps *d = arg;
    if (strcmp(jstr(doc, "GroupName") ? jstr(doc, "GroupName") : "", "default") != 0)
        d->found = 1;
    return d->found;
}

static int user_route_table(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct vpc_deps *d = arg;
    int main = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "Associations"), i, a)
        main |= json_is_true(json_object_get(a, "Main"));
    if (!main)
        d->found = 1;
    return d->found;
}

static int user_nacl(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct vpc_deps *d = arg;
    if (!json_is_true(json_object_get(doc, "IsDefault")))
        d->found = 1;
    return d->found;
}

struct doomed {
    const char *type;
    char ids[64][32];
    int n;
};

static int collect_id(json_t *doc, const char *id, void *arg)
{
    (void)doc;
    struct doomed *d = arg;
    snprintf(d->ids[d->n++], sizeof(d->ids[0]), "%s", id);
    return d->n == 64;      /* a batch; the caller comes back for more */
}

static int delete_children(struct call *c, const char *type, const char *parent)
{
    struct doomed d;
    do {
        d.type = type;
        d.n = 0;
        if (store_each(c->db, &c->scope, type, parent, NULL, collect_id, &d) < 0)
            return call_internal(c, "listing VPC resources");
        for (int i = 0; i < d.n; i++) {
            /* Security groups take their rules with them. */
            if (strcmp(type, "security-group") == 0 &&
                delete_children(c, "security-group-rule", d.ids[i]) < 0)
                return -1;
            if (store_delete(c->db, &c->scope, type, d.ids[i]) < 0)
                return call_internal(c, "deleting VPC resources");
        }
    } while (d.n == 64);
    return 0;
}

int ec2_delete_vpc(struct call *c)
{
    const char *id = in_str(c, "VpcId");
    json_t *vpc = ec2_get(c, "vpc", id);
    if (!vpc)
        return -1;
    json_decref(vpc);
    struct vpc_deps d = { id, 0 };
    if (store_count(c->db, &c->scope, "subnet", id) > 0 ||
        store_count(c->db, &c->scope, "vpc-endpoint", id) > 0)
        d.found = 1;
    if (!d.found)
        store_each(c->db, &c->scope, "security-group", id, NULL, user_sg, &d);
    if (!d.found)
        store_each(c->db, &c->scope, "route-table", id, NULL, user_route_table, &d);
    if (!d.found)
        store_each(c->db, &c->scope, "network-acl", id, NULL, user_nacl, &d);
    if (!d.found)
        store_each(c->db, &c->scope, "internet-gateway", NULL, NULL, igw_attached_to, &d);
    if (d.found)
        return call_error(c, "DependencyViolation",
                          "The vpc '%s' has dependencies and cannot be deleted.", id);
    if (delete_children(c, "security-group", id) < 0 ||
        delete_children(c, "route-table", id) < 0 ||
        delete_children(c, "network-acl", id) < 0)
        return -1;
    if (store_delete(c->db, &c->scope, "vpc", id) != STORE_OK)
        return call_internal(c, "deleting VPC");
    return 0;
}

static const struct {
    const char *member;     /* ModifyVpcAttribute member / output member */
    const char *attribute;  /* DescribeVpcAttribute Attribute value */
    const char *field;      /* private document field */
} vpc_attributes[] = {
    { "EnableDnsSupport", "enableDnsSupport", "_EnableDnsSupport" },
    { "EnableDnsHostnames", "enableDnsHostnames", "_EnableDnsHostnames" },
    { "EnableNetworkAddressUsageMetrics", "enableNetworkAddressUsageMetrics",
      "_EnableNetworkAddressUsageMetrics" },
};

#define NATTRS (sizeof(vpc_attributes) / sizeof(vpc_attributes[0]))

int ec2_modify_vpc_attribute(struct call *c)
{
    const char *id = in_str(c, "VpcId");
    int which = -1, count = 0;
    for (size_t i = 0; i < NATTRS; i++) {
        json_t *v = in_get(c, vpc_attributes[i].member);
        if (v && json_object_get(v, "Value")) {
            which = (int)i;
            count++;
        }
    }
    if (count == 0)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter enableDnsSupport, "
                          "enableDnsHostnames or enableNetworkAddressUsageMetrics");
    if (count > 1)
        return call_error(c, "InvalidParameterCombination",
                          "Only one attribute can be modified at a time");
    json_t *vpc = ec2_get(c, "vpc", id);
    if (!vpc)
        return -1;
    json_t *value = json_object_get(in_get(c, vpc_attributes[which].member), "Value");
    int on = json_is_true(value);
    if (which == 1 && on && !json_is_true(json_object_get(vpc, "_EnableDnsSupport"))) {
        json_decref(vpc);
        return call_error(c, "InvalidParameterValue",
                          "Cannot enable DNS hostnames when DNS support is disabled.");
    }
    json_object_set_new(vpc, vpc_attributes[which].field, json_boolean(on));
    int rc = ec2_save(c, "vpc", id, vpc);
    json_decref(vpc);
    return rc;
}

int ec2_describe_vpc_attribute(struct call *c)
{
    const char *id = in_str(c, "VpcId");
    const char *attr = in_str(c, "Attribute");
    json_t *vpc = ec2_get(c, "vpc", id);
    if (!vpc)
        return -1;
    for (size_t i = 0; i < NATTRS; i++) {
        if (strcmp(attr, vpc_attributes[i].attribute) != 0)
            continue;
        json_t *out = call_out(c);
        jset_str(out, "VpcId", id);
        json_object_set_new(out, vpc_attributes[i].member,
                            json_pack("{s:b}", "Value",
                                      json_is_true(json_object_get(vpc, vpc_attributes[i].field))));
        json_decref(vpc);
        return 0;
    }
    json_decref(vpc);
    return call_error(c, "InvalidParameterValue",
                      "Value (%s) for parameter attribute is invalid. Unknown attribute.",
                      attr);
}

static int is_default(json_t *doc, const char *id, void *arg)
{
    (void)id;
    if (!json_is_true(json_object_get(doc, "IsDefault")))
        return 0;
    *(json_t **)arg = json_incref(doc);
    return 1;
}

int ec2_default_vpc(struct call *c, json_t **vpc)
{
    *vpc = NULL;
    if (store_each(c->db, &c->scope, "vpc", NULL, NULL, is_default, vpc) < 0) {
        json_decref(*vpc);
        *vpc = NULL;
        return call_internal(c, "finding the default VPC");
    }
    return 0;
}
