/*
 * EC2 subnets: CreateSubnet, DescribeSubnets, DeleteSubnet,
 * ModifySubnetAttribute, CreateDefaultSubnet.
 *
 * A subnet's addresses are a pool in the store named by the subnet id; the
 * first four and the last address are never in it (AWS reserves them), and
 * AvailableIpAddressCount is computed from the pool on every read, so it
 * always matches what ENIs really hold.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

static int subnet_available(struct call *c, json_t *doc)
{
    struct cidr cidr;
    uint32_t lo, hi;
    long long usable = 0;
    if (cidr_parse(jstr(doc, "CidrBlock") ? jstr(doc, "CidrBlock") : "", &cidr) == 0 &&
        cidr_usable_range(&cidr, &lo, &hi) == 0)
        usable = (long long)hi - (long long)lo + 1;
    long long used = store_pool_used(c->db, &c->scope, jstr(doc, "SubnetId"));
    if (used < 0)
        return call_internal(c, "counting addresses");
    json_object_set_new(doc, "AvailableIpAddressCount", json_integer(usable - used));
    return 0;
}

struct overlap {
    const struct cidr *cidr;
    int found;
};

static int subnet_overlaps(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct overlap *o = arg;
    struct cidr other;
    if (cidr_parse(jstr(doc, "CidrBlock") ? jstr(doc, "CidrBlock") : "", &other) == 0 &&
        cidr_overlaps(&other, o->cidr))
        o->found = 1;
    return o->found;
}

int ec2_subnet_create(struct call *c, json_t *vpc, const struct cidr *cidr,
                      const struct ec2_zone *zone, int default_for_az,
                      json_t *tags, json_t **out)
{
    char id[32], text[32], arn[160];
    const char *vpc_id = jstr(vpc, "VpcId");
    ec2_new_id("subnet", id, sizeof(id));
    cidr_format(cidr, text, sizeof(text));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:subnet/%s", c->region, c->account, id);
    json_t *subnet = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:[],"
        " s:b, s:b, s:{s:s, s:b, s:b}, s:o}",
        "SubnetId", id, "SubnetArn", arn, "VpcId", vpc_id, "OwnerId", c->account,
        "CidrBlock", text, "State", "available", "AvailabilityZone", zone->name,
        "AvailabilityZoneId", zone->id, "DefaultForAz", default_for_az,
        "MapPublicIpOnLaunch", default_for_az, "MapCustomerOwnedIpOnLaunch", 0,
        "AssignIpv6AddressOnCreation", 0, "Ipv6CidrBlockAssociationSet",
        "EnableDns64", 0, "Ipv6Native", 0,
        "PrivateDnsNameOptionsOnLaunch", "HostnameType", "ip-name",
        "EnableResourceNameDnsARecord", 0, "EnableResourceNameDnsAAAARecord", 0,
        "Tags", tags ? json_incref(tags) : json_array());
    if (!subnet)
        return call_internal(c, "building subnet");
    if (store_insert(c->db, &c->scope, "subnet", id, vpc_id, NULL, subnet) != STORE_OK) {
        json_decref(subnet);
        return call_internal(c, "storing subnet");
    }
    if (ec2_network_acl_adopt_subnet(c, vpc_id, id) < 0 ||
        subnet_available(c, subnet) < 0) {
        json_decref(subnet);
        return -1;
    }
    if (out)
        *out = subnet;
    else
        json_decref(subnet);
    return 0;
}

static int zone_list_error(struct call *c, const char *given)
{
    struct ec2_zone zones[8];
    char list[512] = "";
    int n = ec2_region_zones(c->region, zones, 8);
    for (int i = 0; i < n; i++) {
        if (i)
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, zones[i].name, sizeof(list) - strlen(list) - 1);
    }
    return call_error(c, "InvalidParameterValue",
                      "Value (%s) for parameter availabilityZone is invalid. Subnets "
                      "can currently only be created in the following availability "
                      "zones: %s.", given, list);
}

/* The zone a new subnet goes to: the one asked for, or (like AWS) one of
 * the region's zones chosen for the caller. */
static int pick_zone(struct call *c, struct ec2_zone *zone)
{
    const char *name = in_str(c, "AvailabilityZone");
    const char *zid = in_str(c, "AvailabilityZoneId");
    if (name && zid)
        return call_error(c, "InvalidParameterCombination",
                          "Only one of availabilityZone or availabilityZoneId can be "
                          "specified");
    if (name || zid) {
        if (ec2_find_zone(c->region, name, zid, zone) < 0)
            return zone_list_error(c, name ? name : zid);
        return 0;
    }
    struct ec2_zone zones[8];
    int n = ec2_region_zones(c->region, zones, 8);
    long long count = store_count(c->db, &c->scope, "subnet", NULL);
    *zone = zones[(count < 0 ? 0 : count) % n];
    return 0;
}

int ec2_create_subnet(struct call *c)
{
    const char *vpc_id = in_str(c, "VpcId");
    const char *text = in_str(c, "CidrBlock");
    struct cidr cidr, vpc_cidr;
    struct ec2_zone zone;
    if (in_str(c, "Ipv4IpamPoolId") || in_str(c, "Ipv6IpamPoolId") ||
        in_str(c, "Ipv6CidrBlock") || in_bool(c, "Ipv6Native", 0))
        return call_error(c, "UnsupportedOperation",
                          "IPv6 and IPAM subnets are not emulated by ecslocal.");
    if (!text)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter cidrBlock");
    if (cidr_parse(text, &cidr) < 0)
        return call_error(c, "InvalidParameterValue",
                          "Value (%s) for parameter cidrBlock is invalid. This is not "
                          "a valid CIDR block.", text);
    json_t *vpc = ec2_get(c, "vpc", vpc_id);
    if (!vpc)
        return -1;
    cidr_parse(jstr(vpc, "CidrBlock"), &vpc_cidr);
    if (cidr.prefix < 16 || cidr.prefix > 28 || !cidr_within(&cidr, &vpc_cidr)) {
        json_decref(vpc);
        return call_error(c, "InvalidSubnet.Range", "The CIDR '%s' is invalid.", text);
    }
    struct overlap o = { &cidr, 0 };
    store_each(c->db, &c->scope, "subnet", vpc_id, NULL, subnet_overlaps, &o);
    if (o.found) {
        json_decref(vpc);
        return call_error(c, "InvalidSubnet.Conflict",
                          "The CIDR '%s' conflicts with another subnet", text);
    }
    if (pick_zone(c, &zone) < 0) {
        json_decref(vpc);
        return -1;
    }
    json_t *tags = ec2_spec_tags(c, "subnet");
    if (!tags) {
        json_decref(vpc);
        return -1;
    }
    json_t *subnet;
    int rc = ec2_subnet_create(c, vpc, &cidr, &zone, 0, tags, &subnet);
    json_decref(tags);
    json_decref(vpc);
    if (rc < 0)
        return -1;
    json_object_set_new(call_out(c), "Subnet", subnet);
    return 0;
}

struct zone_taken {
    const char *zone;
    int found;
};

static int default_subnet_in_zone(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct zone_taken *z = arg;
    if (json_is_true(json_object_get(doc, "DefaultForAz")) &&
        strcmp(jstr(doc, "AvailabilityZone"), z->zone) == 0)
        z->found = 1;
    return z->found;
}

struct free_block {
    struct cidr candidate;
    int taken;
};

static int block_taken(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct free_block *b = arg;
    struct cidr other;
    if (cidr_parse(jstr(doc, "CidrBlock"), &other) == 0 &&
        cidr_overlaps(&other, &b->candidate))
        b->taken = 1;
    return b->taken;
}

int ec2_create_default_subnet(struct call *c)
{
    struct ec2_zone zone;
    json_t *vpc = NULL;
    if (pick_zone(c, &zone) < 0)
        return -1;
    if (!in_str(c, "AvailabilityZone") && !in_str(c, "AvailabilityZoneId"))
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter availabilityZone");
    if (ec2_default_vpc(c, &vpc) < 0)
        return -1;
    if (!vpc)
        return call_error(c, "DefaultVpcDoesNotExist",
                          "No default VPC for this user");
    const char *vpc_id = jstr(vpc, "VpcId");
    struct zone_taken z = { zone.name, 0 };
    store_each(c->db, &c->scope, "subnet", vpc_id, NULL, default_subnet_in_zone, &z);
    if (z.found) {
        json_decref(vpc);
        return call_error(c, "DefaultSubnetAlreadyExistsInAvailabilityZone",
                          "A default subnet already exists in availability zone %s",
                          zone.name);
    }
    /* The first free /20 of the default VPC's 172.31.0.0/16. */
    struct cidr vpc_cidr;
    cidr_parse(jstr(vpc, "CidrBlock"), &vpc_cidr);
    for (uint32_t i = 0; i < 16; i++) {
        struct free_block b = { { vpc_cidr.base + (i << 12), 20 }, 0 };
        store_each(c->db, &c->scope, "subnet", vpc_id, NULL, block_taken, &b);
        if (b.taken)
            continue;
        json_t *subnet;
        int rc = ec2_subnet_create(c, vpc, &b.candidate, &zone, 1, NULL, &subnet);
        json_decref(vpc);
        if (rc < 0)
            return -1;
        json_object_set_new(call_out(c), "Subnet", subnet);
        return 0;
    }
    json_decref(vpc);
    return call_error(c, "InsufficientFreeAddressesInSubnet",
                      "The default VPC has no room for another default subnet.");
}

static const struct ec2_filter_field subnet_filters[] = {
    { "availability-zone", "AvailabilityZone" },
    { "availabilityZone", "AvailabilityZone" },
    { "availability-zone-id", "AvailabilityZoneId" },
    { "availabilityZoneId", "AvailabilityZoneId" },
    { "available-ip-address-count", "AvailableIpAddressCount" },
    { "cidr", "CidrBlock" },
    { "cidr-block", "CidrBlock" },
    { "cidrBlock", "CidrBlock" },
    { "default-for-az", "DefaultForAz" },
    { "defaultForAz", "DefaultForAz" },
    { "ipv6-cidr-block-association.ipv6-cidr-block", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock" },
    { "ipv6-cidr-block-association.association-id", "Ipv6CidrBlockAssociationSet.AssociationId" },
    { "ipv6-cidr-block-association.state", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State" },
    { "ipv6-native", "Ipv6Native" },
    { "map-public-ip-on-launch", "MapPublicIpOnLaunch" },
    { "owner-id", "OwnerId" },
    { "state", "State" },
    { "subnet-arn", "SubnetArn" },
    { "subnet-id", "SubnetId" },
    { "vpc-id", "VpcId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_subnets = {
    "subnet", "SubnetIds", "subnetSet", "Subnets", subnet_filters,
    subnet_available, 5, 1000,
};

int ec2_describe_subnets(struct call *c)
{
    return ec2_describe(c, &describe_subnets);
}

int ec2_delete_subnet(struct call *c)
{
    const char *id = in_str(c, "SubnetId");
    json_t *subnet = ec2_get(c, "subnet", id);
    if (!subnet)
        return -1;
    const char *vpc_id = jstr(subnet, "VpcId");
    /* ENIs live under their subnet; any address taken is a dependency. */
    if (store_count(c->db, &c->scope, "network-interface", id) > 0 ||
        store_pool_used(c->db, &c->scope, id) > 0) {
        json_decref(subnet);
        return call_error(c, "DependencyViolation",
                          "The subnet '%s' has dependencies and cannot be deleted.", id);
    }
    int rc = ec2_network_acl_release_subnet(c, vpc_id, id);
    if (rc == 0)
        rc = ec2_route_table_release_subnet(c, vpc_id, id);
    json_decref(subnet);
    if (rc < 0)
        return -1;
    if (store_delete(c->db, &c->scope, "subnet", id) != STORE_OK)
        return call_internal(c, "deleting subnet");
    return 0;
}

static const struct {
    const char *member;     /* ModifySubnetAttribute member (a {Value} box) */
    const char *field;      /* Subnet member it sets */
} subnet_attributes[] = {
    { "MapPublicIpOnLaunch", "MapPublicIpOnLaunch" },
    { "MapCustomerOwnedIpOnLaunch", "MapCustomerOwnedIpOnLaunch" },
    { "AssignIpv6AddressOnCreation", "AssignIpv6AddressOnCreation" },
    { "EnableDns64", "EnableDns64" },
};

int ec2_modify_subnet_attribute(struct call *c)
{
    const char *id = in_str(c, "SubnetId");
    json_t *subnet = ec2_get(c, "subnet", id);
    if (!subnet)
        return -1;
    int changed = 0;
    for (size_t i = 0; i < sizeof(subnet_attributes) / sizeof(subnet_attributes[0]); i++) {
        json_t *box = in_get(c, subnet_attributes[i].member);
        json_t *v = json_object_get(box, "Value");
        if (!v)
            continue;
        if (strcmp(subnet_attributes[i].member, "AssignIpv6AddressOnCreation") == 0 &&
            json_is_true(v)) {
            json_decref(subnet);
            return call_error(c, "InvalidParameterValue",
                              "Invalid value 'true' for assignIpv6AddressOnCreation. "
                              "Cannot set assignIpv6AddressOnCreation to true unless "
                              "the subnet (%s) has an IPv6 CIDR block associated with it.",
                              id);
        }
        json_object_set(subnet, subnet_attributes[i].field, v);
        changed++;
    }
    const char *hostname = in_str(c, "PrivateDnsHostnameTypeOnLaunch");
    json_t *opts = json_object_get(subnet, "PrivateDnsNameOptionsOnLaunch");
    if (hostname && opts) {
        jset_str(opts, "HostnameType", hostname);
        changed++;
    }
    static const char *const dns_boxes[][2] = {
        { "EnableResourceNameDnsARecordOnLaunch", "EnableResourceNameDnsARecord" },
        { "EnableResourceNameDnsAAAARecordOnLaunch", "EnableResourceNameDnsAAAARecord" },
    };
    for (size_t i = 0; opts && i < 2; i++) {
        json_t *v = json_object_get(in_get(c, dns_boxes[i][0]), "Value");
        if (v) {
            json_object_set(opts, dns_boxes[i][1], v);
            changed++;
        }
    }
    if (!changed) {
        json_decref(subnet);
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter mapPublicIpOnLaunch");
    }
    json_object_del(subnet, "AvailableIpAddressCount");
    int rc = ec2_save(c, "subnet", id, subnet);
    json_decref(subnet);
    return rc;
}
