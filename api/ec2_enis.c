/*
 * EC2 network interfaces: CreateNetworkInterface, DeleteNetworkInterface,
 * DescribeNetworkInterfaces, AttachNetworkInterface, DetachNetworkInterface,
 * Modify/Describe/ResetNetworkInterfaceAttribute, AssignPrivateIpAddresses,
 * UnassignPrivateIpAddresses, and the ENI functions of ec2_enis.h that
 * instances and ECS tasks use.
 *
 * Every private address of an ENI is a row in its subnet's address pool
 * (owner = the ENI id), taken in the same transaction that stores the ENI.
 * The pool's unique index is what makes two concurrent creates unable to
 * get the same address, and what DescribeSubnets counts for
 * AvailableIpAddressCount.  The MAC address is taken the same way from the
 * scope's "mac" pool, so it is unique too.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ec2.h"
#include "ec2_enis.h"
#include "ec2_instances.h"

/* The accounts behind ECS task ENIs as DescribeNetworkInterfaces shows them
 * in us-east-1: RequesterId of the ENI, and InstanceOwnerId of a Fargate
 * task's attachment.  ecslocal uses them in every region. */
#define ECS_REQUESTER_ID "578734482556"
#define ECS_FARGATE_OWNER "501673713797"

/* At most this many security groups per interface (AWS's default quota). */
#define MAX_GROUPS 5

static const char *const no_permission =
    "You do not have permission to access the specified resource.";

static int requester_managed(json_t *eni)
{
    return json_is_true(json_object_get(eni, "RequesterManaged"));
}

/* ---- addresses ---- */

struct subnet_range {
    struct cidr cidr;
    uint32_t lo, hi;        /* what AWS hands out: not the first four, not the last */
};

static int subnet_range(struct call *c, json_t *subnet, struct subnet_range *r)
{
    const char *text = jstr(subnet, "CidrBlock");
    if (!text || cidr_parse(text, &r->cidr) < 0 ||
        cidr_usable_range(&r->cidr, &r->lo, &r->hi) < 0)
        return call_internal(c, "subnet without a usable CIDR block");
    return 0;
}

/* A requested address: well formed, in the subnet, not one AWS reserves. */
static int parse_address(struct call *c, json_t *subnet, const char *text, uint32_t *ip)
{
    struct subnet_range r;
    if (subnet_range(c, subnet, &r) < 0)
        return -1;
    if (!text || ip_parse(text, ip) < 0)
        return call_error(c, "InvalidParameterValue",
                          "invalid value for parameter address: %s", text ? text : "");
    if (!cidr_contains_ip(&r.cidr, *ip))
        return call_error(c, "InvalidParameterValue",
                          "Address does not fall within the subnet's address range");
    if (*ip < r.lo || *ip > r.hi)
        return call_error(c, "InvalidParameterValue",
                          "Address %s is reserved by AWS in subnet %s", text,
                          jstr(subnet, "SubnetId"));
    return 0;
}

static int claim_address(struct call *c, json_t *subnet, const char *owner, uint32_t ip,
                         int run_instances)
{
    char text[16];
    ip_format(ip, text, sizeof(text));
    int rc = store_take(c->db, &c->scope, jstr(subnet, "SubnetId"), ip, owner);
    if (rc == STORE_EXISTS)
        return run_instances
            ? call_error(c, "InvalidIPAddress.InUse", "Address %s is in use.", text)
            : call_error(c, "InvalidIPAddress.InUse",
                         "The specified address is already in use");
    if (rc != STORE_OK)
        return call_internal(c, "taking a private address");
    return 0;
}

static int claim_lowest(struct call *c, json_t *subnet, const char *owner, uint32_t *ip)
{
    struct subnet_range r;
    int64_t v;
    if (subnet_range(c, subnet, &r) < 0)
        return -1;
    int rc = store_take_lowest(c->db, &c->scope, jstr(subnet, "SubnetId"), r.lo, r.hi,
                               owner, &v);
    if (rc == STORE_FULL)
        return call_error(c, "InsufficientFreeAddressesInSubnet",
                          "The specified subnet does not have enough free addresses "
                          "to satisfy the request.");
    if (rc != STORE_OK)
        return call_internal(c, "taking a private address");
    *ip = (uint32_t)v;
    return 0;
}

/* One PrivateIpAddresses entry. */
static json_t *ip_entry(struct call *c, uint32_t ip, int primary)
{
    char text[16], dns[128];
    ip_format(ip, text, sizeof(text));
    ec2_private_dns_name(c->region, ip, dns, sizeof(dns));
    return json_pack("{s:b, s:s, s:s}", "Primary", primary, "PrivateDnsName", dns,
                     "PrivateIpAddress", text);
}

/* A random locally administered unicast MAC (0e:xx:xx:xx:xx:xx), unique in
 * the scope. */
static int claim_mac(struct call *c, const char *owner, char *mac, size_t len)
{
    for (int tries = 0; tries < 16; tries++) {
        unsigned char r[5];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return call_internal(c, "no randomness for a MAC address");
        int64_t v = 0;
        for (size_t i = 0; i < sizeof(r); i++)
            v = (v << 8) | r[i];
        int rc = store_take(c->db, &c->scope, "mac", v, owner);
        if (rc == STORE_EXISTS)
            continue;
        if (rc != STORE_OK)
            return call_internal(c, "taking a MAC address");
        snprintf(mac, len, "0e:%02x:%02x:%02x:%02x:%02x", r[0], r[1], r[2], r[3], r[4]);
        return 0;
    }
    return call_internal(c, "no free MAC address");
}

/* ---- security groups ---- */

/* The Groups list ([{GroupId, GroupName}]) for ids in the subnet's VPC;
 * the VPC's default group when ids is empty.  NULL with the error set. */
static json_t *resolve_groups(struct call *c, json_t *ids, json_t *subnet, int modify)
{
    const char *vpc_id = jstr(subnet, "VpcId");
    json_t *groups = json_array();
    json_t *wanted = json_incref(ids);
    if (json_array_size(ids) == 0) {
        char sg[32];
        json_decref(wanted);
        if (ec2_default_sg(c, vpc_id, sg, sizeof(sg)) < 0) {
            json_decref(groups);
            return NULL;
        }
        wanted = json_pack("[s]", sg);
    }
    size_t i;
    json_t *idv;
    json_array_foreach(wanted, i, idv) {
        const char *id = json_string_value(idv);
        int dup = 0;
        size_t k;
        json_t *have;
        json_array_foreach(groups, k, have)
            dup |= id && strcmp(jstr(have, "GroupId"), id) == 0;
        if (dup)
            continue;
        json_t *sg = ec2_get(c, "security-group", id ? id : "");
        if (!sg)
            goto fail;
        if (strcmp(jstr(sg, "VpcId") ? jstr(sg, "VpcId") : "", vpc_id) != 0) {
            json_decref(sg);
            if (modify)
                call_error(c, "InvalidGroup.NotFound",
                           "The security group '%s' does not exist in VPC '%s'", id, vpc_id);
            else
                call_error(c, "InvalidParameter",
                           "Security group %s and subnet %s belong to different networks.",
                           id, jstr(subnet, "SubnetId"));
            goto fail;
        }
        json_array_append_new(groups, json_pack("{s:s, s:s}", "GroupId", id, "GroupName",
                                                jstr(sg, "GroupName") ? jstr(sg, "GroupName") : ""));
        json_decref(sg);
    }
    json_decref(wanted);
    if (json_array_size(groups) > MAX_GROUPS) {
        json_decref(groups);
        call_error(c, "SecurityGroupsPerInterfaceLimitExceeded",
                   "The maximum number of security groups per interface has been reached.");
        return NULL;
    }
    return groups;
fail:
    json_decref(wanted);
    json_decref(groups);
    return NULL;
}

/* ---- create, attach, detach, delete ---- */

/* The addresses of a new ENI: requested ones first, so that the lowest free
 * ones handed out after them can never collide.  The primary is first. */
static json_t *claim_addresses(struct call *c, const struct eni_spec *spec, const char *owner)
{
    json_t *ips = json_array();
    uint32_t ip;
    size_t i;
    json_t *v;
    if (spec->primary_ip) {
        if (parse_address(c, spec->subnet, spec->primary_ip, &ip) < 0 ||
            claim_address(c, spec->subnet, owner, ip, spec->run_instances) < 0)
            goto fail;
        json_array_append_new(ips, ip_entry(c, ip, 1));
    }
    json_array_foreach(spec->secondary_ips, i, v) {
        if (parse_address(c, spec->subnet, json_string_value(v), &ip) < 0 ||
            claim_address(c, spec->subnet, owner, ip, spec->run_instances) < 0)
            goto fail;
        json_array_append_new(ips, ip_entry(c, ip, 0));
    }
    if (!spec->primary_ip) {
        if (claim_lowest(c, spec->subnet, owner, &ip) < 0)
            goto fail;
        json_array_insert_new(ips, 0, ip_entry(c, ip, 1));
    }
    for (int n = 0; n < spec->secondary_count; n++) {
        if (claim_lowest(c, spec->subnet, owner, &ip) < 0)
            goto fail;
        json_array_append_new(ips, ip_entry(c, ip, 0));
    }
    return ips;
fail:
    json_decref(ips);
    return NULL;
}

int ec2_eni_create(struct call *c, const struct eni_spec *spec, json_t **out)
{
    char id[32], mac[24];
    json_t *subnet = spec->subnet;
    ec2_new_id("eni", id, sizeof(id));
    json_t *groups = resolve_groups(c, spec->group_ids, subnet, 0);
    if (!groups)
        return -1;
    json_t *ips = claim_addresses(c, spec, id);
    if (!ips || claim_mac(c, id, mac, sizeof(mac)) < 0) {
        json_decref(groups);
        json_decref(ips);
        return -1;
    }
    json_t *primary = json_array_get(ips, 0);
    json_t *eni = json_object();
    jset_str(eni, "NetworkInterfaceId", id);
    jset_str(eni, "SubnetId", jstr(subnet, "SubnetId"));
    jset_str(eni, "VpcId", jstr(subnet, "VpcId"));
    jset_str(eni, "AvailabilityZone", jstr(subnet, "AvailabilityZone"));
    jset_str(eni, "AvailabilityZoneId", jstr(subnet, "AvailabilityZoneId"));
    jset_str(eni, "Description", spec->description ? spec->description : "");
    json_object_set_new(eni, "Groups", groups);
    jset_str(eni, "InterfaceType", spec->interface_type ? spec->interface_type : "interface");
    json_object_set_new(eni, "Ipv6Addresses", json_array());
    jset_str(eni, "MacAddress", mac);
    jset_str(eni, "OwnerId", c->account);
    jset_str(eni, "PrivateDnsName", jstr(primary, "PrivateDnsName"));
    jset_str(eni, "PrivateIpAddress", jstr(primary, "PrivateIpAddress"));
    json_object_set_new(eni, "PrivateIpAddresses", ips);
    if (spec->requester_id)
        jset_str(eni, "RequesterId", spec->requester_id);
    json_object_set_new(eni, "RequesterManaged", json_boolean(spec->requester_id != NULL));
    json_object_set_new(eni, "SourceDestCheck", json_true());
    jset_str(eni, "Status", "available");
    json_object_set_new(eni, "TagSet", spec->tags ? json_deep_copy(spec->tags) : json_array());
    if (store_insert(c->db, &c->scope, "network-interface", id, jstr(subnet, "SubnetId"),
                     NULL, eni) != STORE_OK) {
        json_decref(eni);
        return call_internal(c, "storing network interface");
    }
    if (out)
        *out = eni;
    else
        json_decref(eni);
    return 0;
}

/* The device index of every ENI attached to the instance, as a bit set
 * (AWS allows indexes 0..31 at most on any instance type). */
static int used_device_indexes(struct call *c, json_t *instance, uint64_t *used)
{
    size_t i;
    json_t *idv;
    *used = 0;
    json_array_foreach(json_object_get(instance, "_Enis"), i, idv) {
        json_t *eni = ec2_get(c, "network-interface", json_string_value(idv));
        if (!eni)
            return -1;
        json_int_t d = json_integer_value(json_object_get(json_object_get(eni, "Attachment"),
                                                          "DeviceIndex"));
        if (d >= 0 && d < 64)
            *used |= (uint64_t)1 << d;
        json_decref(eni);
    }
    return 0;
}

static void set_attachment(struct call *c, json_t *eni, const char *instance_id,
                           const char *owner, int device_index, int delete_on_termination,
                           char *attachment_id, size_t len)
{
    char aid[48];
    ec2_new_id("eni-attach", aid, sizeof(aid));
    json_t *att = json_pack("{s:f, s:s, s:b, s:i, s:i, s:s, s:s}", "AttachTime", c->now,
                            "AttachmentId", aid, "DeleteOnTermination",
                            delete_on_termination, "DeviceIndex", device_index,
                            "NetworkCardIndex", 0, "InstanceOwnerId", owner, "Status",
                            "attached");
    if (instance_id)
        jset_str(att, "InstanceId", instance_id);
    json_object_set_new(eni, "Attachment", att);
    jset_str(eni, "Status", "in-use");
    if (attachment_id)
        snprintf(attachment_id, len, "%s", aid);
}

/* The checks AttachNetworkInterface makes before it attaches. */
static int check_attachable(struct call *c, json_t *eni, json_t *instance,
                            const char *instance_id, int device_index)
{
    const char *state = jstr(json_object_get(instance, "State"), "Name");
    const char *zone = jstr(json_object_get(instance, "Placement"), "AvailabilityZone");
    uint64_t used;
    if (json_object_get(eni, "Attachment"))
        return call_error(c, "InvalidNetworkInterface.InUse", "Interface: [%s] in use.",
                          jstr(eni, "NetworkInterfaceId"));
    if (!state || (strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0))
        return call_error(c, "IncorrectState", "Instance '%s' is not 'running' or 'stopped'.",
                          instance_id);
    if (!zone || strcmp(zone, jstr(eni, "AvailabilityZone")) != 0)
        return call_error(c, "InvalidParameterCombination",
                          "You may not attach a network interface to an instance if they "
                          "are not in the same availability zone");
    if (device_index < 0 || device_index > 31)
        return call_error(c, "InvalidParameterValue",
                          "Value (%d) for parameter deviceIndex is invalid.", device_index);
    if (used_device_indexes(c, instance, &used) < 0)
        return -1;
    if (used & ((uint64_t)1 << device_index))
        return call_error(c, "InvalidParameterValue",
                          "Instance '%s' already has an interface attached at device index "
                          "'%d'.", instance_id, device_index);
    return 0;
}

int ec2_eni_attach(struct call *c, const char *eni_id, const char *instance_id,
                   int device_index, int delete_on_termination, char *attachment_id,
                   size_t len)
{
    json_t *eni = ec2_get(c, "network-interface", eni_id);
    if (!eni)
        return -1;
    json_t *instance = ec2_get(c, "instance", instance_id);
    if (!instance) {
        json_decref(eni);
        return -1;
    }
    int rc = check_attachable(c, eni, instance, instance_id, device_index);
    json_decref(instance);
    if (rc == 0) {
        set_attachment(c, eni, instance_id, c->account, device_index, delete_on_termination,
                       attachment_id, len);
        rc = ec2_save(c, "network-interface", eni_id, eni);
    }
    json_decref(eni);
    if (rc < 0)
        return -1;
    return ec2_instance_add_eni(c, instance_id, eni_id);
}

/* Detach a loaded ENI document and store it. */
static int detach_doc(struct call *c, json_t *eni)
{
    const char *id = jstr(eni, "NetworkInterfaceId");
    const char *instance = jstr(json_object_get(eni, "Attachment"), "InstanceId");
    if (instance && ec2_instance_remove_eni(c, instance, id) < 0)
        return -1;
    json_object_del(eni, "Attachment");
    jset_str(eni, "Status", "available");
    return ec2_save(c, "network-interface", id, eni);
}

int ec2_eni_detach(struct call *c, const char *eni_id)
{
    json_t *eni = ec2_get(c, "network-interface", eni_id);
    if (!eni)
        return -1;
    int rc = json_object_get(eni, "Attachment") ? detach_doc(c, eni) : 0;
    json_decref(eni);
    return rc;
}

static int destroy(struct call *c, const char *eni_id)
{
    if (store_release_owner(c->db, &c->scope, eni_id) != STORE_OK ||
        store_delete(c->db, &c->scope, "network-interface", eni_id) != STORE_OK)
        return call_internal(c, "deleting network interface");
    return 0;
}

int ec2_eni_delete(struct call *c, const char *eni_id)
{
    if (ec2_eni_detach(c, eni_id) < 0)
        return -1;
    return destroy(c, eni_id);
}

/* ---- ECS task ENIs ---- */

int ec2_task_eni_create(struct call *c, const char *subnet_id, json_t *group_ids,
                        const char *attachment_id, const char *instance_id, json_t **out)
{
    char description[256], eni_id[32];
    json_t *subnet = ec2_get(c, "subnet", subnet_id);
    if (!subnet)
        return -1;
    snprintf(description, sizeof(description), "arn:aws:ecs:%s:%s:attachment/%s", c->region,
             c->account, attachment_id);
    struct eni_spec spec = {
        .subnet = subnet, .group_ids = group_ids, .description = description,
        .requester_id = ECS_REQUESTER_ID,
    };
    json_t *eni;
    int rc = ec2_eni_create(c, &spec, &eni);
    json_decref(subnet);
    if (rc < 0)
        return -1;
    snprintf(eni_id, sizeof(eni_id), "%s", jstr(eni, "NetworkInterfaceId"));
    if (instance_id) {
        /* The next free device index, as the ECS agent's attachments get. */
        json_t *instance = ec2_get(c, "instance", instance_id);
        uint64_t used = 0;
        int index = 1;
        rc = instance ? used_device_indexes(c, instance, &used) : -1;
        json_decref(instance);
        while (rc == 0 && index < 32 && (used & ((uint64_t)1 << index)))
            index++;
        json_decref(eni);
        if (rc < 0 || ec2_eni_attach(c, eni_id, instance_id, index, 0, NULL, 0) < 0)
            return -1;
        eni = NULL;
    } else {
        set_attachment(c, eni, NULL, ECS_FARGATE_OWNER, 1, 0, NULL, 0);
        rc = ec2_save(c, "network-interface", eni_id, eni);
        json_decref(eni);
        if (rc < 0)
            return -1;
    }
    if (out && !(*out = ec2_get(c, "network-interface", eni_id)))
        return -1;
    return 0;
}

int ec2_task_eni_delete(struct call *c, const char *eni_id)
{
    return ec2_eni_delete(c, eni_id);
}

/* ---- CreateNetworkInterface ---- */

static int unsupported_ipv6(struct call *c)
{
    if (in_int(c, "Ipv6AddressCount", 0) > 0 ||
        json_array_size(in_get(c, "Ipv6Addresses")) > 0 ||
        json_array_size(in_get(c, "Ipv4Prefixes")) > 0 ||
        in_int(c, "Ipv4PrefixCount", 0) > 0 ||
        json_array_size(in_get(c, "Ipv6Prefixes")) > 0 ||
        in_int(c, "Ipv6PrefixCount", 0) > 0 || in_bool(c, "EnablePrimaryIpv6", 0))
        return call_error(c, "UnsupportedOperation",
                          "IPv6 addresses and prefix delegation are not emulated by "
                          "ecslocal.");
    return 0;
}

/* PrivateIpAddress, PrivateIpAddresses and SecondaryPrivateIpAddressCount
 * into the spec.  *secondary is a new array the caller frees. */
static int read_addresses(struct call *c, struct eni_spec *spec, json_t **secondary)
{
    json_t *list = in_get(c, "PrivateIpAddresses");
    long long count = in_int(c, "SecondaryPrivateIpAddressCount", 0);
    size_t i;
    json_t *e;
    *secondary = json_array();
    spec->primary_ip = in_str(c, "PrivateIpAddress");
    json_array_foreach(list, i, e) {
        const char *addr = jstr(e, "PrivateIpAddress");
        if (!addr)
            return call_error(c, "MissingParameter",
                              "The request must contain the parameter privateIpAddress");
        if (!json_is_true(json_object_get(e, "Primary"))) {
            json_array_append_new(*secondary, json_string(addr));
            continue;
        }
        if (spec->primary_ip && strcmp(spec->primary_ip, addr) != 0)
            return call_error(c, "InvalidParameterCombination",
                              "Only one primary private IP address can be specified");
        spec->primary_ip = addr;
    }
    if (count < 0)
        return call_error(c, "InvalidParameterValue",
                          "Value (%lld) for parameter secondaryPrivateIpAddressCount is "
                          "invalid. Expected a non-negative number.", count);
    if (count > 0 && json_array_size(*secondary) > 0)
        return call_error(c, "InvalidParameterCombination",
                          "The parameter secondaryPrivateIpAddressCount cannot be used with "
                          "secondary addresses in the parameter privateIpAddresses");
    spec->secondary_ips = *secondary;
    spec->secondary_count = (int)(count > 4096 ? 4096 : count);
    return 0;
}

static int has_token(json_t *doc, const char *id, void *arg)
{
    (void)id;
    *(json_t **)arg = json_incref(doc);
    return 1;
}

/* A repeated CreateNetworkInterface with the same ClientToken answers the
 * ENI the first one made.  Returns 1 when it did, 0 when the token is new. */
static int answer_repeat(struct call *c, const char *token)
{
    json_t *found = NULL;
    /* The SDKs send a token with every CreateNetworkInterface: SQLite
     * finds it without a document being parsed. */
    struct store_filter same = { { "$._ClientToken" }, { token }, NULL, NULL };
    if (store_each_where(c->db, &c->scope, "network-interface", NULL, NULL, &same, has_token,
                         &found) < 0 && !found)
        return call_internal(c, "listing network interfaces");
    if (!found)
        return 0;
    if (strcmp(jstr(found, "SubnetId"), in_str(c, "SubnetId")) != 0) {
        json_decref(found);
        return call_error(c, "IdempotentParameterMismatch",
                          "Client token '%s' was already used with different parameters.",
                          token);
    }
    json_object_set_new(call_out(c), "NetworkInterface", found);
    jset_str(c->out, "ClientToken", token);
    return 1;
}

int ec2_create_network_interface(struct call *c)
{
    const char *token = in_str(c, "ClientToken");
    struct eni_spec spec = { 0 };
    json_t *secondary = NULL, *eni = NULL;
    int rc = -1;
    if (unsupported_ipv6(c) < 0)
        return -1;
    if (token) {
        int repeat = answer_repeat(c, token);
        if (repeat != 0)
            return repeat < 0 ? -1 : 0;
    }
    spec.subnet = ec2_get(c, "subnet", in_str(c, "SubnetId"));
    if (!spec.subnet)
        return -1;
    if (read_addresses(c, &spec, &secondary) < 0)
        goto out;
    spec.group_ids = in_get(c, "Groups");
    spec.description = in_str(c, "Description");
    spec.interface_type = in_str(c, "InterfaceType");
    spec.tags = ec2_spec_tags(c, "network-interface");
    if (!spec.tags || ec2_eni_create(c, &spec, &eni) < 0)
        goto out;
    if (token) {
        jset_str(eni, "_ClientToken", token);
        if (ec2_save(c, "network-interface", jstr(eni, "NetworkInterfaceId"), eni) < 0)
            goto out;
        jset_str(call_out(c), "ClientToken", token);
    }
    /* AWS answers while the interface is still being set up. */
    jset_str(eni, "Status", "pending");
    json_object_set_new(call_out(c), "NetworkInterface", eni);
    eni = NULL;
    rc = 0;
out:
    json_decref(eni);
    json_decref(spec.tags);
    json_decref(secondary);
    json_decref(spec.subnet);
    return rc;
}

/* ---- DeleteNetworkInterface, DescribeNetworkInterfaces ---- */

int ec2_delete_network_interface(struct call *c)
{
    const char *id = in_str(c, "NetworkInterfaceId");
    json_t *eni = ec2_get(c, "network-interface", id);
    if (!eni)
        return -1;
    int attached = json_object_get(eni, "Attachment") != NULL;
    json_decref(eni);
    if (attached)
        return call_error(c, "InvalidParameterValue",
                          "Network interface '%s' is currently in use.", id);
    return destroy(c, id);
}

static const struct ec2_filter_field eni_filters[] = {
    { "addresses.association.owner-id", "PrivateIpAddresses.Association.IpOwnerId" },
    { "addresses.association.public-ip", "PrivateIpAddresses.Association.PublicIp" },
    { "addresses.primary", "PrivateIpAddresses.Primary" },
    { "addresses.private-ip-address", "PrivateIpAddresses.PrivateIpAddress" },
    { "association.allocation-id", "Association.AllocationId" },
    { "association.association-id", "Association.AssociationId" },
    { "association.ip-owner-id", "Association.IpOwnerId" },
    { "association.public-dns-name", "Association.PublicDnsName" },
    { "association.public-ip", "Association.PublicIp" },
    { "attachment.attachment-id", "Attachment.AttachmentId" },
    { "attachment.delete-on-termination", "Attachment.DeleteOnTermination" },
    { "attachment.device-index", "Attachment.DeviceIndex" },
    { "attachment.instance-id", "Attachment.InstanceId" },
    { "attachment.instance-owner-id", "Attachment.InstanceOwnerId" },
    { "attachment.status", "Attachment.Status" },
    { "availability-zone", "AvailabilityZone" },
    { "availability-zone-id", "AvailabilityZoneId" },
    { "description", "Description" },
    { "group-id", "Groups.GroupId" },
    { "group-name", "Groups.GroupName" },
    { "interface-type", "InterfaceType" },
    { "ipv6-addresses.ipv6-address", "Ipv6Addresses.Ipv6Address" },
    { "mac-address", "MacAddress" },
    { "network-interface-id", "NetworkInterfaceId" },
    { "owner-id", "OwnerId" },
    { "private-dns-name", "PrivateDnsName" },
    { "private-ip-address", "PrivateIpAddresses.PrivateIpAddress" },
    { "requester-id", "RequesterId" },
    { "requester-managed", "RequesterManaged" },
    { "source-dest-check", "SourceDestCheck" },
    { "status", "Status" },
    { "subnet-id", "SubnetId" },
    { "vpc-id", "VpcId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_enis = {
    "network-interface", "NetworkInterfaceIds", "networkInterfaceIdSet",
    "NetworkInterfaces", eni_filters, NULL, 5, 1000,
};

int ec2_describe_network_interfaces(struct call *c)
{
    return ec2_describe(c, &describe_enis);
}

/* ---- AttachNetworkInterface, DetachNetworkInterface ---- */

int ec2_attach_network_interface(struct call *c)
{
    const char *eni_id = in_str(c, "NetworkInterfaceId");
    char aid[48];
    if (in_int(c, "NetworkCardIndex", 0) != 0)
        return call_error(c, "UnsupportedOperation",
                          "ecslocal emulates one network card per instance "
                          "(NetworkCardIndex 0).");
    json_t *eni = ec2_get(c, "network-interface", eni_id);
    if (!eni)
        return -1;
    int managed = requester_managed(eni);
    json_decref(eni);
    if (managed)
        return call_error(c, "AuthFailure", "%s", no_permission);
    if (ec2_eni_attach(c, eni_id, in_str(c, "InstanceId"), (int)in_int(c, "DeviceIndex", -1),
                       0, aid, sizeof(aid)) < 0)
        return -1;
    jset_str(call_out(c), "AttachmentId", aid);
    json_object_set_new(c->out, "NetworkCardIndex", json_integer(0));
    return 0;
}

struct attachment_find {
    const char *attachment_id;
    json_t *found;
};

static int has_attachment(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct attachment_find *f = arg;
    const char *aid = jstr(json_object_get(doc, "Attachment"), "AttachmentId");
    if (aid && strcmp(aid, f->attachment_id) == 0)
        f->found = json_incref(doc);
    return f->found != NULL;
}

/* The ENI holding an attachment, or NULL with InvalidAttachmentID.NotFound. */
static json_t *eni_by_attachment(struct call *c, const char *attachment_id)
{
    struct attachment_find f = { attachment_id, NULL };
    if (store_each(c->db, &c->scope, "network-interface", NULL, NULL, has_attachment, &f) < 0 &&
        !f.found) {
        call_internal(c, "listing network interfaces");
        return NULL;
    }
    if (!f.found)
        call_error(c, "InvalidAttachmentID.NotFound",
                   "The network interface attachment ID '%s' does not exist", attachment_id);
    return f.found;
}

int ec2_detach_network_interface(struct call *c)
{
    json_t *eni = eni_by_attachment(c, in_str(c, "AttachmentId"));
    if (!eni)
        return -1;
    json_t *att = json_object_get(eni, "Attachment");
    int rc;
    if (requester_managed(eni))
        rc = call_error(c, "AuthFailure", "%s", no_permission);
    else if (jstr(att, "InstanceId") &&
             json_integer_value(json_object_get(att, "DeviceIndex")) == 0)
        rc = call_error(c, "OperationNotPermitted",
                        "The network interface at device index 0 and networkCard index 0 "
                        "cannot be detached.");
    else
        rc = detach_doc(c, eni);
    json_decref(eni);
    return rc;
}

/* ---- network interface attributes ---- */

/* The one attribute a ModifyNetworkInterfaceAttribute call changes. */
static int modify_attachment(struct call *c, json_t *eni)
{
    json_t *change = in_get(c, "Attachment");
    const char *aid = jstr(change, "AttachmentId");
    json_t *att = json_object_get(eni, "Attachment");
    if (!aid)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter attachment.attachmentId");
    if (!att || strcmp(jstr(att, "AttachmentId"), aid) != 0)
        return call_error(c, "InvalidAttachmentID.NotFound",
                          "The network interface attachment ID '%s' does not exist", aid);
    json_t *dot = json_object_get(change, "DeleteOnTermination");
    if (json_is_boolean(dot))
        json_object_set(att, "DeleteOnTermination", dot);
    return 0;
}

static int modify_groups(struct call *c, json_t *eni)
{
    json_t *subnet = ec2_get(c, "subnet", jstr(eni, "SubnetId"));
    if (!subnet)
        return -1;
    json_t *groups = resolve_groups(c, in_get(c, "Groups"), subnet, 1);
    json_decref(subnet);
    if (!groups)
        return -1;
    json_object_set_new(eni, "Groups", groups);
    return 0;
}

int ec2_modify_network_interface_attribute(struct call *c)
{
    const char *id = in_str(c, "NetworkInterfaceId");
    json_t *description = json_object_get(in_get(c, "Description"), "Value");
    json_t *sdc = json_object_get(in_get(c, "SourceDestCheck"), "Value");
    int groups = json_array_size(in_get(c, "Groups")) > 0;
    int attachment = in_get(c, "Attachment") != NULL;
    static const char *const unsupported[] = {
        "EnaSrdSpecification", "EnablePrimaryIpv6", "ConnectionTrackingSpecification",
        "AssociatePublicIpAddress", "AssociatedSubnetIds",
    };
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (in_get(c, unsupported[i]))
            return call_error(c, "UnsupportedOperation",
                              "ecslocal does not emulate the network interface attribute %s.",
                              unsupported[i]);
    int count = (description != NULL) + (sdc != NULL) + groups + attachment;
    if (count == 0)
        return call_error(c, "InvalidParameterCombination", "No attributes specified.");
    if (count > 1)
        return call_error(c, "InvalidParameterCombination",
                          "Only one attribute can be modified at a time");
    json_t *eni = ec2_get(c, "network-interface", id);
    if (!eni)
        return -1;
    int rc = 0;
    if (requester_managed(eni))
        rc = call_error(c, "AuthFailure", "%s", no_permission);
    else if (description)
        jset_str(eni, "Description", json_string_value(description) ? json_string_value(description) : "");
    else if (sdc)
        json_object_set_new(eni, "SourceDestCheck", json_boolean(json_is_true(sdc)));
    else if (groups)
        rc = modify_groups(c, eni);
    else
        rc = modify_attachment(c, eni);
    if (rc == 0)
        rc = ec2_save(c, "network-interface", id, eni);
    json_decref(eni);
    return rc;
}

int ec2_describe_network_interface_attribute(struct call *c)
{
    const char *id = in_str(c, "NetworkInterfaceId");
    const char *attr = in_str(c, "Attribute");
    json_t *eni = ec2_get(c, "network-interface", id);
    if (!eni)
        return -1;
    json_t *out = call_out(c);
    jset_str(out, "NetworkInterfaceId", id);
    if (strcmp(attr, "description") == 0)
        json_object_set_new(out, "Description",
                            json_pack("{s:O}", "Value", json_object_get(eni, "Description")));
    else if (strcmp(attr, "groupSet") == 0)
        json_object_set(out, "Groups", json_object_get(eni, "Groups"));
    else if (strcmp(attr, "sourceDestCheck") == 0)
        json_object_set_new(out, "SourceDestCheck",
                            json_pack("{s:O}", "Value", json_object_get(eni, "SourceDestCheck")));
    else if (strcmp(attr, "attachment") == 0 && json_object_get(eni, "Attachment"))
        json_object_set(out, "Attachment", json_object_get(eni, "Attachment"));
    else if (strcmp(attr, "associatePublicIpAddress") == 0)
        json_object_set_new(out, "AssociatePublicIpAddress", json_false());
    json_decref(eni);
    return 0;
}

int ec2_reset_network_interface_attribute(struct call *c)
{
    const char *id = in_str(c, "NetworkInterfaceId");
    if (!in_str(c, "SourceDestCheck"))
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter sourceDestCheck");
    json_t *eni = ec2_get(c, "network-interface", id);
    if (!eni)
        return -1;
    int rc;
    if (requester_managed(eni)) {
        rc = call_error(c, "AuthFailure", "%s", no_permission);
    } else {
        json_object_set_new(eni, "SourceDestCheck", json_true());
        rc = ec2_save(c, "network-interface", id, eni);
    }
    json_decref(eni);
    return rc;
}

/* ---- secondary private addresses ---- */

/* The index of addr in the ENI's PrivateIpAddresses, or -1. */
static int address_index(json_t *eni, const char *addr)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), i, e)
        if (jstr(e, "PrivateIpAddress") && strcmp(jstr(e, "PrivateIpAddress"), addr) == 0)
            return (int)i;
    return -1;
}

/* AllowReassignment: take a secondary address away from the ENI holding it. */
static int take_from(struct call *c, const char *holder_id, json_t *subnet, uint32_t ip,
                     const char *addr)
{
    json_t *holder = ec2_get(c, "network-interface", holder_id);
    if (!holder)
        return -1;
    int i = address_index(holder, addr);
    json_t *entry = json_array_get(json_object_get(holder, "PrivateIpAddresses"), (size_t)i);
    int rc;
    if (i < 0 || json_is_true(json_object_get(entry, "Primary"))) {
        rc = call_error(c, "InvalidIPAddress.InUse", "The specified address is already in use");
    } else {
        json_array_remove(json_object_get(holder, "PrivateIpAddresses"), (size_t)i);
        rc = store_release(c->db, &c->scope, jstr(subnet, "SubnetId"), ip) == STORE_OK
            ? ec2_save(c, "network-interface", holder_id, holder)
            : call_internal(c, "releasing a private address");
    }
    json_decref(holder);
    return rc;
}

/* Assign one requested address to eni (already there: nothing to do). */
static int assign_address(struct call *c, json_t *eni, json_t *subnet, const char *addr,
                          int allow_reassignment, json_t *assigned)
{
    const char *id = jstr(eni, "NetworkInterfaceId");
    char holder[64];
    uint32_t ip;
    if (parse_address(c, subnet, addr, &ip) < 0)
        return -1;
    int rc = store_pool_owner(c->db, &c->scope, jstr(subnet, "SubnetId"), ip, holder,
                              sizeof(holder));
    if (rc == STORE_ERROR)
        return call_internal(c, "reading the address pool");
    if (rc == STORE_OK && strcmp(holder, id) == 0)
        return 0;
    if (rc == STORE_OK && !allow_reassignment)
        return call_error(c, "InvalidIPAddress.InUse", "The specified address is already in use");
    if (rc == STORE_OK && take_from(c, holder, subnet, ip, addr) < 0)
        return -1;
    if (claim_address(c, subnet, id, ip, 0) < 0)
        return -1;
    json_array_append_new(json_object_get(eni, "PrivateIpAddresses"), ip_entry(c, ip, 0));
    json_array_append_new(assigned, json_pack("{s:s}", "PrivateIpAddress", addr));
    return 0;
}

static int assign_addresses(struct call *c, json_t *eni, json_t *subnet, json_t *assigned)
{
    json_t *list = in_get(c, "PrivateIpAddresses");
    long long count = in_int(c, "SecondaryPrivateIpAddressCount", 0);
    int allow = in_bool(c, "AllowReassignment", 0);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
        if (assign_address(c, eni, subnet, json_string_value(v), allow, assigned) < 0)
            return -1;
    for (long long n = 0; n < count; n++) {
        uint32_t ip;
        char text[16];
        if (claim_lowest(c, subnet, jstr(eni, "NetworkInterfaceId"), &ip) < 0)
            return -1;
        ip_format(ip, text, sizeof(text));
        json_array_append_new(json_object_get(eni, "PrivateIpAddresses"), ip_entry(c, ip, 0));
        json_array_append_new(assigned, json_pack("{s:s}", "PrivateIpAddress", text));
    }
    return 0;
}

int ec2_assign_private_ip_addresses(struct call *c)
{
    const char *id = in_str(c, "NetworkInterfaceId");
    int listed = json_array_size(in_get(c, "PrivateIpAddresses")) > 0;
    int counted = in_get(c, "SecondaryPrivateIpAddressCount") != NULL;
    if (json_array_size(in_get(c, "Ipv4Prefixes")) > 0 || in_int(c, "Ipv4PrefixCount", 0) > 0)
        return call_error(c, "UnsupportedOperation",
                          "IPv4 prefix delegation is not emulated by ecslocal.");
    if (!listed && !counted)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter privateIpAddress or "
                          "secondaryPrivateIpAddressCount");
    if (listed && counted)
        return call_error(c, "InvalidParameterCombination",
                          "The parameter secondaryPrivateIpAddressCount cannot be used with "
                          "the parameter privateIpAddress");
    if (in_int(c, "SecondaryPrivateIpAddressCount", 1) < 1)
        return call_error(c, "InvalidParameterValue",
                          "Value (%lld) for parameter secondaryPrivateIpAddressCount is "
                          "invalid. Expected a positive number.",
                          in_int(c, "SecondaryPrivateIpAddressCount", 0));
    json_t *eni = ec2_get(c, "network-interface", id);
    if (!eni)
        return -1;
    if (requester_managed(eni)) {
        json_decref(eni);
        return call_error(c, "AuthFailure", "%s", no_permission);
    }
    json_t *subnet = ec2_get(c, "subnet", jstr(eni, "SubnetId"));
    json_t *assigned = json_array();
    int rc = subnet ? assign_addresses(c, eni, subnet, assigned) : -1;
    if (rc == 0)
        rc = ec2_save(c, "network-interface", id, eni);
    if (rc == 0) {
        jset_str(call_out(c), "NetworkInterfaceId", id);
        json_object_set_new(c->out, "AssignedPrivateIpAddresses", assigned);
        json_object_set_new(c->out, "AssignedIpv4Prefixes", json_array());
    } else {
        json_decref(assigned);
    }
    json_decref(subnet);
    json_decref(eni);
    return rc;
}

static int unassign_address(struct call *c, json_t *eni, const char *addr)
{
    int i = addr ? address_index(eni, addr) : -1;
    json_t *ips = json_object_get(eni, "PrivateIpAddresses");
    uint32_t ip;
    if (i < 0)
        return call_error(c, "InvalidParameterValue",
                          "Some of the specified addresses are not assigned to interface %s",
                          jstr(eni, "NetworkInterfaceId"));
    if (json_is_true(json_object_get(json_array_get(ips, (size_t)i), "Primary")))
        return call_error(c, "InvalidParameterValue",
                          "The primary IP address %s of interface %s cannot be unassigned.",
                          addr, jstr(eni, "NetworkInterfaceId"));
    if (ip_parse(addr, &ip) < 0 ||
        store_release(c->db, &c->scope, jstr(eni, "SubnetId"), ip) != STORE_OK)
        return call_internal(c, "releasing a private address");
    json_array_remove(ips, (size_t)i);
    return 0;
}

int ec2_unassign_private_ip_addresses(struct call *c)
{
    const char *id = in_str(c, "NetworkInterfaceId");
    json_t *list = in_get(c, "PrivateIpAddresses");
    if (json_array_size(in_get(c, "Ipv4Prefixes")) > 0)
        return call_error(c, "UnsupportedOperation",
                          "IPv4 prefix delegation is not emulated by ecslocal.");
    if (json_array_size(list) == 0)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter privateIpAddress");
    json_t *eni = ec2_get(c, "network-interface", id);
    if (!eni)
        return -1;
    int rc = 0;
    if (requester_managed(eni))
        rc = call_error(c, "AuthFailure", "%s", no_permission);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (rc < 0)
            break;
        rc = unassign_address(c, eni, json_string_value(v));
    }
    if (rc == 0)
        rc = ec2_save(c, "network-interface", id, eni);
    json_decref(eni);
    return rc;
}
