/*
 * EC2 instances, the minimal model ECS container instances need:
 * RunInstances, DescribeInstances, TerminateInstances, StopInstances,
 * StartInstances, and the functions of ec2_instances.h.
 *
 * An instance is a record with ENIs: a primary one (device index 0, deleted
 * on termination) made by RunInstances, and whatever AttachNetworkInterface
 * adds.  Its network members (NetworkInterfaces, SecurityGroups, SubnetId,
 * VpcId, PrivateIpAddress, PrivateDnsName, SourceDestCheck) are read from
 * those ENIs whenever it is shown, so they always agree with
 * DescribeNetworkInterfaces.  Nothing boots: an instance is running as soon
 * as it exists, and state changes are immediate.  The Terminate, Stop and
 * Start answers report the transitional state AWS reports (shutting-down,
 * stopping, pending); a Describe right after sees the final one.
 * Terminated instances stay describable.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ec2.h"
#include "ec2_enis.h"
#include "ec2_instances.h"

#define DEFAULT_INSTANCE_TYPE "t3.micro"
/* The image ECS container instances report (any string is accepted). */
#define ECS_IMAGE_ID "ami-0ec510ca1000000ec"
/* The most instances one RunInstances call launches. */
#define MAX_LAUNCH 256

static const struct {
    const char *name;
    int code;
} states[] = {
    { "pending", 0 }, { "running", 16 }, { "shutting-down", 32 },
    { "terminated", 48 }, { "stopping", 64 }, { "stopped", 80 },
};

static json_t *state_of(const char *name)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(states[i].name, name) == 0)
            return json_pack("{s:i, s:s}", "Code", states[i].code, "Name", name);
    return json_pack("{s:i, s:s}", "Code", 0, "Name", name);
}

static const char *state_name(json_t *instance)
{
    const char *name = jstr(json_object_get(instance, "State"), "Name");
    return name ? name : "";
}

/* "User initiated (2024-05-01 10:00:00 GMT)", as AWS words a user's stop. */
static void user_initiated(double now, char *out, size_t len)
{
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, len, "User initiated (%04d-%02d-%02d %02d:%02d:%02d GMT)",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

/* ---- what an instance shows ---- */

/* Insert nic into nics keeping them in device index order. */
static void insert_by_device(json_t *nics, json_t *nic)
{
    json_int_t d = json_integer_value(json_object_get(json_object_get(nic, "Attachment"),
                                                      "DeviceIndex"));
    size_t i;
    json_t *other;
    json_array_foreach(nics, i, other) {
        json_int_t od = json_integer_value(
            json_object_get(json_object_get(other, "Attachment"), "DeviceIndex"));
        if (d < od) {
            json_array_insert_new(nics, i, nic);
            return;
        }
    }
    json_array_append_new(nics, nic);
}

static void add_groups(json_t *groups, json_t *more)
{
    size_t i, k;
    json_t *g, *have;
    json_array_foreach(more, i, g) {
        int dup = 0;
        json_array_foreach(groups, k, have)
            dup |= json_equal(have, g);
        if (!dup)
            json_array_append(groups, g);
    }
}

/* Fill the members read from the instance's ENIs (a describe callback). */
static int instance_decorate(struct call *c, json_t *doc)
{
    json_t *nics = json_array();
    json_t *groups = json_array();
    size_t i;
    json_t *idv;
    json_array_foreach(json_object_get(doc, "_Enis"), i, idv) {
        json_t *eni = ec2_get(c, "network-interface", json_string_value(idv));
        if (!eni) {
            json_decref(nics);
            json_decref(groups);
            return -1;
        }
        /* The NetworkInterface document serializes as InstanceNetworkInterface:
         * members that shape lacks are never sent. */
        insert_by_device(nics, eni);
    }
    json_array_foreach(nics, i, idv)
        add_groups(groups, json_object_get(idv, "Groups"));
    json_t *primary = json_array_get(nics, 0);
    if (primary && json_integer_value(json_object_get(json_object_get(primary, "Attachment"),
                                                      "DeviceIndex")) == 0) {
        static const char *const copied[] = {
            "SubnetId", "VpcId", "PrivateIpAddress", "PrivateDnsName", "SourceDestCheck",
        };
        for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++)
            json_object_set(doc, copied[k], json_object_get(primary, copied[k]));
    }
    json_object_set_new(doc, "NetworkInterfaces", nics);
    json_object_set_new(doc, "SecurityGroups", groups);
    return 0;
}

json_t *ec2_instance_view(struct call *c, const char *instance_id)
{
    json_t *doc = ec2_get(c, "instance", instance_id);
    if (doc && instance_decorate(c, doc) < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- ENI bookkeeping ---- */

static int change_enis(struct call *c, const char *instance_id, const char *eni_id, int add)
{
    json_t *doc = ec2_get(c, "instance", instance_id);
    if (!doc)
        return -1;
    json_t *enis = json_object_get(doc, "_Enis");
    if (!enis) {
        enis = json_array();
        json_object_set_new(doc, "_Enis", enis);
    }
    size_t i;
    json_t *idv;
    json_array_foreach(enis, i, idv) {
        if (strcmp(json_string_value(idv), eni_id) == 0) {
            json_array_remove(enis, i);
            break;
        }
    }
    if (add)
        json_array_append_new(enis, json_string(eni_id));
    int rc = ec2_save(c, "instance", instance_id, doc);
    json_decref(doc);
    return rc;
}

int ec2_instance_add_eni(struct call *c, const char *instance_id, const char *eni_id)
{
    return change_enis(c, instance_id, eni_id, 1);
}

int ec2_instance_remove_eni(struct call *c, const char *instance_id, const char *eni_id)
{
    return change_enis(c, instance_id, eni_id, 0);
}

/* ---- launching ---- */

struct launch {
    json_t *subnet;             /* Subnet document */
    json_t *group_ids;          /* NULL: the VPC's default group */
    const char *image_id;
    const char *instance_type;
    const char *key_name;       /* or NULL */
    const char *private_ip;     /* or NULL */
    const char *client_token;   /* or NULL */
    json_t *tags;               /* the instance's */
    json_t *eni_tags;           /* its primary ENI's */
    char reservation_id[32];
};

/* The stored Instance document of a new running instance. */
static json_t *instance_doc(struct call *c, const struct launch *l, int index, const char *id)
{
    json_t *doc = json_object();
    jset_str(doc, "InstanceId", id);
    jset_str(doc, "ImageId", l->image_id);
    json_object_set_new(doc, "State", state_of("running"));
    jset_str(doc, "PrivateDnsName", "");
    jset_str(doc, "PublicDnsName", "");
    jset_str(doc, "StateTransitionReason", "");
    if (l->key_name)
        jset_str(doc, "KeyName", l->key_name);
    json_object_set_new(doc, "AmiLaunchIndex", json_integer(index));
    json_object_set_new(doc, "ProductCodes", json_array());
    jset_str(doc, "InstanceType", l->instance_type);
    json_object_set_new(doc, "LaunchTime", json_real(c->now));
    json_object_set_new(doc, "Placement",
                        json_pack("{s:s, s:s, s:s, s:s}", "AvailabilityZone",
                                  jstr(l->subnet, "AvailabilityZone"), "AvailabilityZoneId",
                                  jstr(l->subnet, "AvailabilityZoneId"), "GroupName", "",
                                  "Tenancy", "default"));
    json_object_set_new(doc, "Monitoring", json_pack("{s:s}", "State", "disabled"));
    jset_str(doc, "Architecture", "x86_64");
    json_object_set_new(doc, "BlockDeviceMappings", json_array());
    jset_str(doc, "ClientToken", l->client_token ? l->client_token : "");
    json_object_set_new(doc, "EbsOptimized", json_false());
    json_object_set_new(doc, "EnaSupport", json_true());
    jset_str(doc, "Hypervisor", "xen");
    jset_str(doc, "RootDeviceName", "/dev/xvda");
    jset_str(doc, "RootDeviceType", "ebs");
    jset_str(doc, "VirtualizationType", "hvm");
    json_object_set_new(doc, "CpuOptions",
                        json_pack("{s:i, s:i}", "CoreCount", 1, "ThreadsPerCore", 2));
    json_object_set_new(doc, "CapacityReservationSpecification",
                        json_pack("{s:s}", "CapacityReservationPreference", "open"));
    json_object_set_new(doc, "HibernationOptions", json_pack("{s:b}", "Configured", 0));
    json_object_set_new(doc, "MetadataOptions",
                        json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "State", "applied",
                                  "HttpTokens", "required", "HttpPutResponseHopLimit", 2,
                                  "HttpEndpoint", "enabled", "HttpProtocolIpv6", "disabled",
                                  "InstanceMetadataTags", "disabled"));
    json_object_set_new(doc, "EnclaveOptions", json_pack("{s:b}", "Enabled", 0));
    jset_str(doc, "PlatformDetails", "Linux/UNIX");
    jset_str(doc, "UsageOperation", "RunInstances");
    json_object_set_new(doc, "UsageOperationUpdateTime", json_real(c->now));
    json_object_set_new(doc, "PrivateDnsNameOptions",
                        json_pack("{s:s, s:b, s:b}", "HostnameType", "ip-name",
                                  "EnableResourceNameDnsARecord", 0,
                                  "EnableResourceNameDnsAAAARecord", 0));
    json_object_set_new(doc, "MaintenanceOptions", json_pack("{s:s}", "AutoRecovery", "default"));
    jset_str(doc, "CurrentInstanceBootMode", "legacy-bios");
    json_object_set_new(doc, "Tags", l->tags ? json_deep_copy(l->tags) : json_array());
    jset_str(doc, "_ReservationId", l->reservation_id);
    jset_str(doc, "_OwnerId", c->account);
    json_object_set_new(doc, "_Enis", json_array());
    return doc;
}

/* Launch one instance with its primary ENI; its view in *out. */
static int launch_one(struct call *c, const struct launch *l, int index, json_t **out)
{
    char id[32];
    ec2_new_id("i", id, sizeof(id));
    json_t *doc = instance_doc(c, l, index, id);
    int rc = store_insert(c->db, &c->scope, "instance", id, NULL, NULL, doc);
    json_decref(doc);
    if (rc != STORE_OK)
        return call_internal(c, "storing instance");
    struct eni_spec spec = {
        .subnet = l->subnet, .group_ids = l->group_ids, .primary_ip = l->private_ip,
        .tags = l->eni_tags, .run_instances = 1,
    };
    json_t *eni;
    if (ec2_eni_create(c, &spec, &eni) < 0)
        return -1;
    rc = ec2_eni_attach(c, jstr(eni, "NetworkInterfaceId"), id, 0, 1, NULL, 0);
    json_decref(eni);
    if (rc < 0)
        return -1;
    *out = ec2_instance_view(c, id);
    return *out ? 0 : -1;
}

static json_t *reservation(struct call *c, const char *id)
{
    return json_pack("{s:s, s:s, s:[], s:[]}", "ReservationId", id, "OwnerId", c->account,
                     "Groups", "Instances");
}

struct default_subnet {
    const char *zone;       /* wanted zone, or NULL: the first */
    json_t *found;
};

static int pick_default_subnet(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct default_subnet *d = arg;
    const char *zone = jstr(doc, "AvailabilityZone");
    if (!json_is_true(json_object_get(doc, "DefaultForAz")) || !zone)
        return 0;
    if (d->zone && strcmp(zone, d->zone) != 0)
        return 0;
    if (!d->found || strcmp(zone, jstr(d->found, "AvailabilityZone")) < 0) {
        json_decref(d->found);
        d->found = json_incref(doc);
    }
    return 0;
}

/* The default VPC's default subnet in zone (NULL: its first zone). */
static json_t *default_subnet(struct call *c, const char *zone)
{
    json_t *vpc;
    if (ec2_default_vpc(c, &vpc) < 0)
        return NULL;
    if (!vpc) {
        call_error(c, "VPCIdNotSpecified", "No default VPC for this user");
        return NULL;
    }
    struct default_subnet d = { zone, NULL };
    store_each(c->db, &c->scope, "subnet", jstr(vpc, "VpcId"), NULL, pick_default_subnet, &d);
    if (!d.found) {
        if (zone)
            call_error(c, "MissingInput", "No default subnet for availability zone: '%s'.",
                       zone);
        else
            call_error(c, "MissingInput",
                       "No subnets found for the default VPC '%s'. Please specify a subnet.",
                       jstr(vpc, "VpcId"));
    }
    json_decref(vpc);
    return d.found;
}

int ec2_instance_create(struct call *c, const char *subnet_id, json_t *group_ids,
                        const char *instance_type, json_t *tags, json_t **out)
{
    struct launch l = {
        .group_ids = group_ids, .image_id = ECS_IMAGE_ID,
        .instance_type = instance_type ? instance_type : DEFAULT_INSTANCE_TYPE,
        .tags = tags,
    };
    l.subnet = subnet_id ? ec2_get(c, "subnet", subnet_id) : default_subnet(c, NULL);
    if (!l.subnet)
        return -1;
    ec2_new_id("r", l.reservation_id, sizeof(l.reservation_id));
    json_t *view;
    int rc = launch_one(c, &l, 0, &view);
    json_decref(l.subnet);
    if (rc < 0)
        return -1;
    if (out)
        *out = view;
    else
        json_decref(view);
    return 0;
}

/* ---- RunInstances ---- */

/* The tags RunInstances' TagSpecifications give one resource type.  Types
 * RunInstances accepts that ecslocal has no resource for (volumes, ...)
 * are accepted and have nothing to tag. */
static json_t *run_tags(struct call *c, const char *type)
{
    static const char *const accepted[] = {
        "instance", "network-interface", "volume", "spot-instances-request", "elastic-gpu",
    };
    json_t *out = json_array();
    size_t i;
    json_t *spec;
    json_array_foreach(in_get(c, "TagSpecifications"), i, spec) {
        const char *rt = jstr(spec, "ResourceType");
        int ok = 0;
        for (size_t k = 0; rt && k < sizeof(accepted) / sizeof(accepted[0]); k++)
            ok |= strcmp(rt, accepted[k]) == 0;
        if (!ok) {
            json_decref(out);
            call_error(c, "InvalidParameterValue",
                       "'%s' is not a valid taggable resource type for this operation.",
                       rt ? rt : "");
            return NULL;
        }
        if (strcmp(rt, type) != 0)
            continue;
        size_t j;
        json_t *t;
        json_array_foreach(json_object_get(spec, "Tags"), j, t) {
            const char *key = jstr(t, "Key");
            size_t k;
            json_t *have;
            if (!key)
                continue;
            json_array_foreach(out, k, have) {
                if (strcmp(jstr(have, "Key"), key) == 0) {
                    json_array_remove(out, k);
                    break;
                }
            }
            json_array_append_new(out, json_pack("{s:s, s:s}", "Key", key, "Value",
                                                 jstr(t, "Value") ? jstr(t, "Value") : ""));
        }
    }
    if (ec2_check_tags(c, out) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* SubnetId, or the default subnet (of Placement.AvailabilityZone). */
static json_t *run_subnet(struct call *c)
{
    const char *subnet_id = in_str(c, "SubnetId");
    const char *zone = jstr(in_get(c, "Placement"), "AvailabilityZone");
    struct ec2_zone z;
    if (zone && ec2_find_zone(c->region, zone, NULL, &z) < 0) {
        call_error(c, "InvalidParameterValue", "Invalid availability zone: [%s]", zone);
        return NULL;
    }
    if (!subnet_id)
        return default_subnet(c, zone);
    if (json_array_size(in_get(c, "SecurityGroups")) > 0) {
        call_error(c, "InvalidParameterCombination",
                   "The parameter groupName cannot be used with the parameter subnet");
        return NULL;
    }
    json_t *subnet = ec2_get(c, "subnet", subnet_id);
    if (subnet && zone && strcmp(zone, jstr(subnet, "AvailabilityZone")) != 0) {
        call_error(c, "InvalidParameterValue",
                   "Value (%s) for parameter availabilityZone is invalid. Subnet '%s' is in "
                   "the availability zone %s", zone, subnet_id,
                   jstr(subnet, "AvailabilityZone"));
        json_decref(subnet);
        return NULL;
    }
    return subnet;
}

/* SecurityGroupIds plus the ids of the SecurityGroups named in the default
 * VPC: a new array, NULL with the error set. */
static json_t *run_group_ids(struct call *c, json_t *subnet)
{
    json_t *ids = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(in_get(c, "SecurityGroupIds"), i, v)
        json_array_append(ids, v);
    json_array_foreach(in_get(c, "SecurityGroups"), i, v) {
        char id[32];
        const char *name = json_string_value(v);
        int rc = store_find_name(c->db, &c->scope, "security-group", jstr(subnet, "VpcId"),
                                 name ? name : "", id, sizeof(id));
        if (rc == STORE_NOT_FOUND) {
            call_error(c, "InvalidGroup.NotFound",
                       "The security group '%s' does not exist in default VPC '%s'",
                       name ? name : "", jstr(subnet, "VpcId"));
        } else if (rc != STORE_OK) {
            call_internal(c, "finding a security group");
        } else {
            json_array_append_new(ids, json_string(id));
            continue;
        }
        json_decref(ids);
        return NULL;
    }
    return ids;
}

static int run_unsupported(struct call *c)
{
    if (json_array_size(in_get(c, "NetworkInterfaces")) > 0)
        return call_error(c, "UnsupportedOperation",
                          "ecslocal does not emulate RunInstances NetworkInterfaces; use "
                          "SubnetId, SecurityGroupIds and PrivateIpAddress, then "
                          "AttachNetworkInterface.");
    if (in_get(c, "LaunchTemplate"))
        return call_error(c, "UnsupportedOperation",
                          "Launch templates are not emulated by ecslocal.");
    if (in_int(c, "Ipv6AddressCount", 0) > 0 || json_array_size(in_get(c, "Ipv6Addresses")) > 0)
        return call_error(c, "UnsupportedOperation",
                          "IPv6 addresses are not emulated by ecslocal.");
    return 0;
}

/* How many instances to launch: MaxCount if the subnet has the addresses,
 * at least MinCount, or InsufficientFreeAddressesInSubnet. */
static int run_count(struct call *c, json_t *subnet, long long min, long long max)
{
    struct cidr cidr;
    uint32_t lo, hi;
    const char *text = jstr(subnet, "CidrBlock");
    if (!text || cidr_parse(text, &cidr) < 0 ||
        cidr_usable_range(&cidr, &lo, &hi) < 0)
        return call_internal(c, "subnet without a usable CIDR block");
    long long used = store_pool_used(c->db, &c->scope, jstr(subnet, "SubnetId"));
    if (used < 0)
        return call_internal(c, "counting addresses");
    long long free = (long long)hi - lo + 1 - used;
    if (free < min)
        return call_error(c, "InsufficientFreeAddressesInSubnet",
                          "The specified subnet does not have enough free addresses to "
                          "satisfy the request.");
    return (int)(max < free ? max : free);
}

static int run_checks(struct call *c, long long min, long long max)
{
    if (!in_str(c, "ImageId"))
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter ImageId");
    if (min < 1)
        return call_error(c, "InvalidParameterValue",
                          "Value (%lld) for parameter minCount is invalid. Expected a "
                          "positive integer.", min);
    if (max < min)
        return call_error(c, "InvalidParameterValue",
                          "Value (%lld) for parameter maxCount is invalid. Expected a value "
                          "greater than or equal to minCount (%lld).", max, min);
    if (min > MAX_LAUNCH)
        return call_error(c, "InstanceLimitExceeded",
                          "You have requested more instances (%lld) than your current "
                          "instance limit of %d allows for the specified instance type. "
                          "Please visit http://aws.amazon.com/contact-us/ec2-request to "
                          "request an adjustment to this limit.", min, MAX_LAUNCH);
    if (in_str(c, "PrivateIpAddress") && max > 1)
        return call_error(c, "InvalidParameterCombination",
                          "The parameter privateIpAddress cannot be used when launching "
                          "more than one instance");
    return 0;
}

struct token_find {
    const char *token;
    json_t *ids;            /* instance ids launched with it */
};

static int has_token(const char *id, const char *token, void *arg)
{
    (void)token;
    struct token_find *t = arg;
    json_array_append_new(t->ids, json_string(id));
    return 0;
}

/* A RunInstances repeated with the ClientToken of an earlier one answers
 * the reservation that one made.  1 when it did, 0 when the token is new. */
static int answer_repeat(struct call *c, const char *token)
{
    struct token_find t = { token, json_array() };
    json_t *res = NULL;
    /* The SDKs send a token with every RunInstances: SQLite finds it
     * without a document being parsed. */
    struct store_filter same = { { "$.ClientToken" }, { token }, NULL, NULL };
    if (store_list(c->db, &c->scope, "instance", NULL, NULL, &same, "$.ClientToken",
                   has_token, &t) < 0) {
        json_decref(t.ids);
        return call_internal(c, "listing instances");
    }
    size_t i;
    json_t *idv;
    json_array_foreach(t.ids, i, idv) {
        json_t *view = ec2_instance_view(c, json_string_value(idv));
        if (!view) {
            json_decref(res);
            json_decref(t.ids);
            return -1;
        }
        if (!res)
            res = reservation(c, jstr(view, "_ReservationId"));
        /* In launch order, as the first answer had them. */
        json_t *list = json_object_get(res, "Instances");
        json_int_t index = json_integer_value(json_object_get(view, "AmiLaunchIndex"));
        size_t at = json_array_size(list);
        while (at > 0 && json_integer_value(json_object_get(json_array_get(list, at - 1),
                                                            "AmiLaunchIndex")) > index)
            at--;
        json_array_insert_new(list, at, view);
    }
    json_decref(t.ids);
    if (!res)
        return 0;
    json_object_update(call_out(c), res);
    json_decref(res);
    return 1;
}

int ec2_run_instances(struct call *c)
{
    long long min = in_int(c, "MinCount", 1), max = in_int(c, "MaxCount", 1);
    struct launch l = {
        .image_id = in_str(c, "ImageId"),
        .instance_type = in_str(c, "InstanceType") ? in_str(c, "InstanceType")
                                                   : DEFAULT_INSTANCE_TYPE,
        .key_name = in_str(c, "KeyName"), .private_ip = in_str(c, "PrivateIpAddress"),
        .client_token = in_str(c, "ClientToken"),
    };
    json_t *res = NULL;
    int rc = -1;
    if (run_unsupported(c) < 0 || run_checks(c, min, max) < 0)
        return -1;
    if (l.client_token) {
        int repeat = answer_repeat(c, l.client_token);
        if (repeat != 0)
            return repeat < 0 ? -1 : 0;
    }
    if (!(l.subnet = run_subnet(c)) || !(l.group_ids = run_group_ids(c, l.subnet)) ||
        !(l.tags = run_tags(c, "instance")) || !(l.eni_tags = run_tags(c, "network-interface")))
        goto out;
    int n = l.private_ip ? 1 : run_count(c, l.subnet, min, max > MAX_LAUNCH ? MAX_LAUNCH : max);
    if (n < 0)
        goto out;
    ec2_new_id("r", l.reservation_id, sizeof(l.reservation_id));
    res = reservation(c, l.reservation_id);
    for (int i = 0; i < n; i++) {
        json_t *view;
        if (launch_one(c, &l, i, &view) < 0)
            goto out;
        json_array_append_new(json_object_get(res, "Instances"), view);
    }
    json_object_update(call_out(c), res);
    rc = 0;
out:
    json_decref(res);
    json_decref(l.subnet);
    json_decref(l.group_ids);
    json_decref(l.tags);
    json_decref(l.eni_tags);
    return rc;
}

/* ---- DescribeInstances ---- */

static const struct ec2_filter_field instance_filters[] = {
    { "architecture", "Architecture" },
    { "availability-zone", "Placement.AvailabilityZone" },
    { "availability-zone-id", "Placement.AvailabilityZoneId" },
    { "client-token", "ClientToken" },
    { "dns-name", "PublicDnsName" },
    { "hypervisor", "Hypervisor" },
    { "image-id", "ImageId" },
    { "instance-id", "InstanceId" },
    { "instance-state-code", "State.Code" },
    { "instance-state-name", "State.Name" },
    { "instance-type", "InstanceType" },
    { "instance.group-id", "SecurityGroups.GroupId" },
    { "instance.group-name", "SecurityGroups.GroupName" },
    { "key-name", "KeyName" },
    { "launch-index", "AmiLaunchIndex" },
    { "monitoring-state", "Monitoring.State" },
    { "network-interface.addresses.primary", "NetworkInterfaces.PrivateIpAddresses.Primary" },
    { "network-interface.addresses.private-dns-name",
      "NetworkInterfaces.PrivateIpAddresses.PrivateDnsName" },
    { "network-interface.addresses.private-ip-address",
      "NetworkInterfaces.PrivateIpAddresses.PrivateIpAddress" },
    { "network-interface.attachment.attachment-id", "NetworkInterfaces.Attachment.AttachmentId" },
    { "network-interface.attachment.delete-on-termination",
      "NetworkInterfaces.Attachment.DeleteOnTermination" },
    { "network-interface.attachment.device-index", "NetworkInterfaces.Attachment.DeviceIndex" },
    { "network-interface.attachment.instance-id", "NetworkInterfaces.Attachment.InstanceId" },
    { "network-interface.attachment.instance-owner-id",
      "NetworkInterfaces.Attachment.InstanceOwnerId" },
    { "network-interface.attachment.network-card-index",
      "NetworkInterfaces.Attachment.NetworkCardIndex" },
    { "network-interface.attachment.status", "NetworkInterfaces.Attachment.Status" },
    { "network-interface.availability-zone", "NetworkInterfaces.AvailabilityZone" },
    { "network-interface.description", "NetworkInterfaces.Description" },
    { "network-interface.group-id", "NetworkInterfaces.Groups.GroupId" },
    { "network-interface.group-name", "NetworkInterfaces.Groups.GroupName" },
    { "network-interface.mac-address", "NetworkInterfaces.MacAddress" },
    { "network-interface.network-interface-id", "NetworkInterfaces.NetworkInterfaceId" },
    { "network-interface.owner-id", "NetworkInterfaces.OwnerId" },
    { "network-interface.private-dns-name", "NetworkInterfaces.PrivateDnsName" },
    { "network-interface.private-ip-address", "NetworkInterfaces.PrivateIpAddress" },
    { "network-interface.requester-id", "NetworkInterfaces.RequesterId" },
    { "network-interface.requester-managed", "NetworkInterfaces.RequesterManaged" },
    { "network-interface.source-dest-check", "NetworkInterfaces.SourceDestCheck" },
    { "network-interface.status", "NetworkInterfaces.Status" },
    { "network-interface.subnet-id", "NetworkInterfaces.SubnetId" },
    { "network-interface.vpc-id", "NetworkInterfaces.VpcId" },
    { "owner-id", "_OwnerId" },
    { "placement-group-name", "Placement.GroupName" },
    { "platform-details", "PlatformDetails" },
    { "private-dns-name", "PrivateDnsName" },
    { "private-ip-address", "PrivateIpAddress" },
    { "reason", "StateTransitionReason" },
    { "reservation-id", "_ReservationId" },
    { "root-device-name", "RootDeviceName" },
    { "root-device-type", "RootDeviceType" },
    { "source-dest-check", "SourceDestCheck" },
    { "state-reason-code", "StateReason.Code" },
    { "state-reason-message", "StateReason.Message" },
    { "subnet-id", "SubnetId" },
    { "tenancy", "Placement.Tenancy" },
    { "virtualization-type", "VirtualizationType" },
    { "vpc-id", "VpcId" },
    { NULL, NULL },
};

/* The matching instances go to a private member first; the answer groups
 * them into their reservations. */
static const struct ec2_describe describe_instances = {
    "instance", "InstanceIds", "instancesSet", "_Instances", instance_filters,
    instance_decorate, 5, 1000,
};

int ec2_describe_instances(struct call *c)
{
    if (ec2_describe(c, &describe_instances) < 0)
        return -1;
    json_t *instances = json_incref(json_object_get(c->out, "_Instances"));
    json_object_del(c->out, "_Instances");
    json_t *by_id = json_object();
    size_t i;
    json_t *inst;
    json_array_foreach(instances, i, inst) {
        const char *rid = jstr(inst, "_ReservationId");
        json_t *res = json_object_get(by_id, rid);
        if (!res) {
            res = reservation(c, rid);
            json_object_set_new(by_id, rid, res);
        }
        json_array_append(json_object_get(res, "Instances"), inst);
    }
    json_t *reservations = json_array();
    const char *key;
    json_t *res;
    json_object_foreach(by_id, key, res)
        json_array_append(reservations, res);
    json_object_set_new(c->out, "Reservations", reservations);
    json_decref(by_id);
    json_decref(instances);
    return 0;
}

/* ---- state changes ---- */

static json_t *state_change(const char *id, const char *current, const char *previous)
{
    return json_pack("{s:s, s:o, s:o}", "InstanceId", id, "CurrentState", state_of(current),
                     "PreviousState", state_of(previous));
}

static int set_state(struct call *c, const char *id, const char *name, int user_stopped)
{
    json_t *doc = ec2_get(c, "instance", id);
    if (!doc)
        return -1;
    json_object_set_new(doc, "State", state_of(name));
    if (user_stopped) {
        char reason[96];
        user_initiated(c->now, reason, sizeof(reason));
        jset_str(doc, "StateTransitionReason", reason);
        json_object_set_new(doc, "StateReason",
                            json_pack("{s:s, s:s}", "Code", "Client.UserInitiatedShutdown",
                                      "Message",
                                      "Client.UserInitiatedShutdown: User initiated shutdown"));
    } else {
        jset_str(doc, "StateTransitionReason", "");
        json_object_del(doc, "StateReason");
    }
    int rc = ec2_save(c, "instance", id, doc);
    json_decref(doc);
    return rc;
}

/* Terminate one instance; its state change in *change when not NULL. */
static int terminate(struct call *c, const char *id, json_t **change)
{
    json_t *doc = ec2_get(c, "instance", id);
    if (!doc)
        return -1;
    char previous[32];
    snprintf(previous, sizeof(previous), "%s", state_name(doc));
    json_t *enis = json_deep_copy(json_object_get(doc, "_Enis"));
    json_decref(doc);
    int rc = 0;
    size_t i;
    json_t *idv;
    json_array_foreach(enis, i, idv) {
        const char *eni_id = json_string_value(idv);
        json_t *eni = ec2_get(c, "network-interface", eni_id);
        if (!eni) {
            rc = -1;
            break;
        }
        int dot = json_is_true(json_object_get(json_object_get(eni, "Attachment"),
                                               "DeleteOnTermination"));
        json_decref(eni);
        if ((dot ? ec2_eni_delete(c, eni_id) : ec2_eni_detach(c, eni_id)) < 0) {
            rc = -1;
            break;
        }
    }
    json_decref(enis);
    if (rc == 0 && strcmp(previous, "terminated") != 0)
        rc = set_state(c, id, "terminated", 1);
    if (rc == 0 && change)
        *change = state_change(id, strcmp(previous, "terminated") == 0 ? "terminated"
                                                                        : "shutting-down",
                               previous);
    return rc;
}

int ec2_instance_terminate(struct call *c, const char *instance_id)
{
    return terminate(c, instance_id, NULL);
}

static int stop(struct call *c, const char *id, json_t **change)
{
    json_t *doc = ec2_get(c, "instance", id);
    if (!doc)
        return -1;
    char previous[32];
    snprintf(previous, sizeof(previous), "%s", state_name(doc));
    json_decref(doc);
    if (strcmp(previous, "terminated") == 0 || strcmp(previous, "shutting-down") == 0)
        return call_error(c, "IncorrectInstanceState",
                          "This instance '%s' is not in a state from which it can be stopped.",
                          id);
    int already = strcmp(previous, "stopped") == 0;
    if (!already && set_state(c, id, "stopped", 1) < 0)
        return -1;
    *change = state_change(id, already ? "stopped" : "stopping", previous);
    return 0;
}

static int start(struct call *c, const char *id, json_t **change)
{
    json_t *doc = ec2_get(c, "instance", id);
    if (!doc)
        return -1;
    char previous[32];
    snprintf(previous, sizeof(previous), "%s", state_name(doc));
    json_decref(doc);
    if (strcmp(previous, "terminated") == 0 || strcmp(previous, "shutting-down") == 0)
        return call_error(c, "IncorrectInstanceState",
                          "The instance '%s' is not in a state from which it can be started.",
                          id);
    int already = strcmp(previous, "running") == 0;
    if (!already && set_state(c, id, "running", 0) < 0)
        return -1;
    *change = state_change(id, already ? "running" : "pending", previous);
    return 0;
}

/* Apply fn to every distinct id of InstanceIds; the changes go to out_member. */
static int each_instance(struct call *c, const char *out_member,
                         int (*fn)(struct call *, const char *, json_t **))
{
    json_t *ids = in_get(c, "InstanceIds");
    if (json_array_size(ids) == 0)
        return call_error(c, "InvalidParameterCombination", "No instances specified");
    json_t *changes = json_array();
    size_t i, k;
    json_t *idv, *prev;
    json_array_foreach(ids, i, idv) {
        int dup = 0;
        json_array_foreach(ids, k, prev) {
            if (k >= i)
                break;
            dup |= json_equal(prev, idv);
        }
        if (dup)
            continue;
        const char *id = json_string_value(idv);
        json_t *change = NULL;
        if (fn(c, id ? id : "", &change) < 0) {
            json_decref(changes);
            return -1;
        }
        json_array_append_new(changes, change);
    }
    json_object_set_new(call_out(c), out_member, changes);
    return 0;
}

int ec2_terminate_instances(struct call *c)
{
    return each_instance(c, "TerminatingInstances", terminate);
}

int ec2_stop_instances(struct call *c)
{
    return each_instance(c, "StoppingInstances", stop);
}

int ec2_start_instances(struct call *c)
{
    return each_instance(c, "StartingInstances", start);
}
