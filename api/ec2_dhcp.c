/*
 * EC2 DHCP options sets: DescribeDhcpOptions, CreateDhcpOptions,
 * DeleteDhcpOptions, AssociateDhcpOptions.
 *
 * Each scope has the default set ec2_vpcs.c makes with the first VPC
 * (domain-name <region's internal domain>, domain-name-servers
 * AmazonProvidedDNS).  Sets are records: what a VPC's resolver answers is
 * decided by the network layer, which today always behaves like
 * AmazonProvidedDNS.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

static const struct ec2_filter_field dhcp_filters[] = {
    { "dhcp-options-id", "DhcpOptionsId" },
    { "key", "DhcpConfigurations.Key" },
    { "value", "DhcpConfigurations.Values.Value" },
    { "owner-id", "OwnerId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_dhcp = {
    "dhcp-options", "DhcpOptionsIds", "dhcpOptionsIdSet", "DhcpOptions", dhcp_filters,
    NULL, 5, 1000,
};

int ec2_describe_dhcp_options(struct call *c)
{
    return ec2_describe(c, &describe_dhcp);
}

static const char *const dhcp_keys[] = {
    "domain-name-servers", "domain-name", "ntp-servers", "netbios-name-servers",
    "netbios-node-type", "ipv6-address-preferred-lease-time", NULL,
};

static int known_key(const char *key)
{
    for (const char *const *k = dhcp_keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return 1;
    return 0;
}

/* The stored DhcpConfigurations ({Key, Values: [{Value}]}) of a request's
 * NewDhcpConfiguration list ({Key, Values: [string]}); NULL on error. */
static json_t *configurations(struct call *c)
{
    json_t *out = json_array();
    size_t i;
    json_t *conf;
    json_array_foreach(in_get(c, "DhcpConfigurations"), i, conf) {
        const char *key = jstr(conf, "Key");
        json_t *values = json_object_get(conf, "Values");
        if (!key || !known_key(key)) {
            json_decref(out);
            call_error(c, "InvalidParameterValue",
                       "Value (%s) for parameter name is invalid. Unknown DHCP option",
                       key ? key : "");
            return NULL;
        }
        if (json_array_size(values) == 0) {
            json_decref(out);
            call_error(c, "InvalidParameterValue",
                       "Value for parameter %s is invalid. It must have at least one "
                       "value", key);
            return NULL;
        }
        if (strcmp(key, "domain-name-servers") == 0 && json_array_size(values) > 4) {
            json_decref(out);
            call_error(c, "InvalidParameterValue",
                       "Value for parameter domain-name-servers is invalid. At most 4 "
                       "servers may be given");
            return NULL;
        }
        json_t *boxed = json_array();
        size_t j;
        json_t *v;
        json_array_foreach(values, j, v)
            json_array_append_new(boxed, json_pack("{s:O}", "Value", v));
        json_array_append_new(out, json_pack("{s:s, s:o}", "Key", key, "Values", boxed));
    }
    return out;
}

int ec2_create_dhcp_options(struct call *c)
{
    json_t *confs = configurations(c);
    if (!confs)
        return -1;
    json_t *tags = ec2_spec_tags(c, "dhcp-options");
    if (!tags) {
        json_decref(confs);
        return -1;
    }
    char id[32];
    ec2_new_id("dopt", id, sizeof(id));
    json_t *doc = json_pack("{s:s, s:s, s:o, s:o}", "DhcpOptionsId", id,
                            "OwnerId", c->account, "DhcpConfigurations", confs,
                            "Tags", tags);
    if (!doc)
        return call_internal(c, "building DHCP options");
    if (store_insert(c->db, &c->scope, "dhcp-options", id, "", NULL, doc) != STORE_OK) {
        json_decref(doc);
        return call_internal(c, "storing DHCP options");
    }
    json_object_set_new(call_out(c), "DhcpOptions", doc);
    return 0;
}

static int vpc_uses(json_t *doc, const char *id, void *arg)
{
    (void)id;
    const char *dopt = jstr(doc, "DhcpOptionsId");
    return dopt && strcmp(dopt, (const char *)arg) == 0;
}

int ec2_delete_dhcp_options(struct call *c)
{
    const char *id = in_str(c, "DhcpOptionsId");
    json_t *doc = ec2_get(c, "dhcp-options", id);
    if (!doc)
        return -1;
    json_decref(doc);
    int used = store_each(c->db, &c->scope, "vpc", NULL, NULL, vpc_uses, (void *)id);
    if (used < 0)
        return call_internal(c, "listing VPCs");
    if (used)
        return call_error(c, "DependencyViolation",
                          "The dhcpOptions '%s' has dependencies and cannot be deleted.",
                          id);
    if (store_delete(c->db, &c->scope, "dhcp-options", id) != STORE_OK)
        return call_internal(c, "deleting DHCP options");
    return 0;
}

/* "default" as the id means no DHCP options set, as in AWS. */
int ec2_associate_dhcp_options(struct call *c)
{
    const char *id = in_str(c, "DhcpOptionsId");
    const char *vpc_id = in_str(c, "VpcId");
    if (strcmp(id, "default") != 0) {
        json_t *doc = ec2_get(c, "dhcp-options", id);
        if (!doc)
            return -1;
        json_decref(doc);
    }
    json_t *vpc = ec2_get(c, "vpc", vpc_id);
    if (!vpc)
        return -1;
    jset_str(vpc, "DhcpOptionsId", id);
    int rc = ec2_save(c, "vpc", vpc_id, vpc);
    json_decref(vpc);
    return rc;
}
