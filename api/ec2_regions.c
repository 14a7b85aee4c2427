/*
 * EC2 account and geography: DescribeAvailabilityZones, DescribeRegions,
 * DescribeAccountAttributes.
 *
 * The zones are ec2_region_zones()'s (the ones subnets can be made in);
 * every region answers, so every region is reported as enabled for the
 * account (opt-in regions as "opted-in").  Nothing here is stored: the
 * answers are built per request from the caller's scope.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

/* ---- availability zones ---- */

static const struct ec2_filter_field zone_filters[] = {
    { "group-long-name", "GroupLongName" },
    { "group-name", "GroupName" },
    { "message", "Messages.Message" },
    { "opt-in-status", "OptInStatus" },
    { "parent-zone-id", "ParentZoneId" },
    { "parent-zone-name", "ParentZoneName" },
    { "region-name", "RegionName" },
    { "state", "State" },
    { "zone-id", "ZoneId" },
    { "zone-name", "ZoneName" },
    { "zone-type", "ZoneType" },
    { NULL, NULL },
};

static int listed(json_t *list, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), value) == 0)
            return 1;
    return 0;
}

/* Every name or id a request lists must be one of the region's zones. */
static int check_zone_list(struct call *c, json_t *list, const struct ec2_zone *zones,
                           int n, int by_id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *want = json_string_value(v);
        int found = 0;
        for (int z = 0; z < n && want; z++)
            found |= strcmp(by_id ? zones[z].id : zones[z].name, want) == 0;
        if (!found)
            return call_error(c, "InvalidParameterValue",
                              "Invalid availability zone: [%s]", want ? want : "");
    }
    return 0;
}

int ec2_describe_availability_zones(struct call *c)
{
    struct ec2_zone zones[16];
    int n = ec2_region_zones(c->region, zones, 16);
    json_t *names = in_get(c, "ZoneNames");
    json_t *ids = in_get(c, "ZoneIds");
    if (check_zone_list(c, names, zones, n, 0) < 0 ||
        check_zone_list(c, ids, zones, n, 1) < 0)
        return -1;
    json_t *out = json_array();
    int picking = json_array_size(names) > 0 || json_array_size(ids) > 0;
    for (int i = 0; i < n; i++) {
        if (picking && !listed(names, zones[i].name) && !listed(ids, zones[i].id))
            continue;
        json_t *doc = json_pack(
            "{s:s, s:s, s:[], s:s, s:s, s:s, s:s, s:s, s:s}",
            "State", "available", "OptInStatus", "opt-in-not-required", "Messages",
            "RegionName", c->region, "ZoneName", zones[i].name, "ZoneId", zones[i].id,
            "GroupName", c->region, "NetworkBorderGroup", c->region,
            "ZoneType", "availability-zone");
        int m = doc ? ec2_filters_match(c, in_get(c, "Filters"), doc, zone_filters) : -1;
        if (m < 0) {
            json_decref(doc);
            json_decref(out);
            return c->status ? -1 : call_internal(c, "building zones");
        }
        if (m)
            json_array_append(out, doc);
        json_decref(doc);
    }
    json_object_set_new(call_out(c), "AvailabilityZones", out);
    return 0;
}

/* ---- regions ---- */

/* Regions an AWS account must opt in to; all others are on by default. */
static const char *const opt_in_regions[] = {
    "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1",
    "me-south-1", NULL,
};

static const struct ec2_filter_field region_filters[] = {
    { "endpoint", "Endpoint" },
    { "opt-in-status", "OptInStatus" },
    { "region-name", "RegionName" },
    { NULL, NULL },
};

static json_t *region_doc(const char *name)
{
    char endpoint[96];
    const char *status = "opt-in-not-required";
    for (const char *const *r = opt_in_regions; *r; r++)
        if (strcmp(*r, name) == 0)
            status = "opted-in";
    snprintf(endpoint, sizeof(endpoint), "ec2.%s.amazonaws.com", name);
    return json_pack("{s:s, s:s, s:s}", "RegionName", name, "Endpoint", endpoint,
                     "OptInStatus", status);
}

static int known_region(const char *name, const char *caller)
{
    if (strcmp(name, caller) == 0)
        return 1;
    for (const char *const *r = ec2_regions; *r; r++)
        if (strcmp(*r, name) == 0)
            return 1;
    return 0;
}

int ec2_describe_regions(struct call *c)
{
    json_t *names = in_get(c, "RegionNames");
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
        if (!json_is_string(v) || !known_region(json_string_value(v), c->region))
            return call_error(c, "InvalidParameterValue", "Invalid region: [%s]",
                              json_is_string(v) ? json_string_value(v) : "");
    /* The caller's region answers even when it is not one of AWS's. */
    const char *list[64];
    size_t n = 0;
    for (const char *const *r = ec2_regions; *r && n < 63; r++)
        list[n++] = *r;
    if (!known_region(c->region, "") && n < 64)
        list[n++] = c->region;
    json_t *out = json_array();
    for (i = 0; i < n; i++) {
        if (json_array_size(names) > 0 && !listed(names, list[i]))
            continue;
        json_t *doc = region_doc(list[i]);
        int m = doc ? ec2_filters_match(c, in_get(c, "Filters"), doc, region_filters) : -1;
        if (m < 0) {
            json_decref(doc);
            json_decref(out);
            return c->status ? -1 : call_internal(c, "building regions");
        }
        if (m)
            json_array_append(out, doc);
        json_decref(doc);
    }
    json_object_set_new(call_out(c), "Regions", out);
    return 0;
}

/* ---- account attributes ---- */

int ec2_describe_account_attributes(struct call *c)
{
    char default_vpc[32] = "none";
    json_t *vpc;
    if (ec2_default_vpc(c, &vpc) < 0)
        return -1;
    if (vpc && jstr(vpc, "VpcId"))
        snprintf(default_vpc, sizeof(default_vpc), "%s", jstr(vpc, "VpcId"));
    json_decref(vpc);
    /* In the order AWS lists them; the limits are a new account's. */
    const struct { const char *name, *value; } attrs[] = {
        { "supported-platforms", "VPC" },
        { "vpc-max-security-groups-per-interface", "5" },
        { "max-elastic-ips", "5" },
        { "max-instances", "20" },
        { "vpc-max-elastic-ips", "5" },
        { "default-vpc", default_vpc },
    };
    json_t *names = in_get(c, "AttributeNames");
    json_t *out = json_array();
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        if (json_array_size(names) > 0 && !listed(names, attrs[i].name))
            continue;
        json_array_append_new(out, json_pack("{s:s, s:[{s:s}]}", "AttributeName",
                                             attrs[i].name, "AttributeValues",
                                             "AttributeValue", attrs[i].value));
    }
    json_object_set_new(call_out(c), "AccountAttributes", out);
    return 0;
}
