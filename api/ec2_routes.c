/*
 * EC2 route tables and routes: CreateRouteTable, DeleteRouteTable,
 * DescribeRouteTables, AssociateRouteTable, DisassociateRouteTable,
 * ReplaceRouteTableAssociation, CreateRoute, DeleteRoute, ReplaceRoute.
 *
 * Every VPC has a main route table with the local route for its CIDR; a
 * subnet without an explicit association uses the main table.  A table's
 * associations live in its document ("Associations"), so an association id
 * is found by walking the scope's tables.
 *
 * Routes can target an internet gateway, a network interface or an
 * instance; the other targets (NAT gateways, peering, transit gateways...)
 * are resources ecslocal does not emulate and are refused by name.  A
 * route's State is worked out when it is read: a route to a gateway that is
 * no longer attached to the VPC, or to an interface that is gone, is a
 * blackhole, as in AWS.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

static json_t *association(const char *rt_id, int is_main, const char *member,
                           const char *target)
{
    char assoc[40];
    ec2_new_id("rtbassoc", assoc, sizeof(assoc));
    json_t *a = json_pack("{s:b, s:s, s:s, s:{s:s}}", "Main", is_main,
                          "RouteTableAssociationId", assoc, "RouteTableId", rt_id,
                          "AssociationState", "State", "associated");
    if (a && member)
        jset_str(a, member, target);
    return a;
}

int ec2_route_table_create(struct call *c, json_t *vpc, int is_main, json_t *tags,
                           json_t **out)
{
    char id[32];
    const char *vpc_id = jstr(vpc, "VpcId");
    ec2_new_id("rtb", id, sizeof(id));
    json_t *rt = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}], s:[], s:[], s:o}",
        "RouteTableId", id, "VpcId", vpc_id, "OwnerId", c->account,
        "Routes", "DestinationCidrBlock", jstr(vpc, "CidrBlock"), "GatewayId", "local",
        "Origin", "CreateRouteTable", "State", "active",
        "Associations", "PropagatingVgws",
        "Tags", tags ? json_incref(tags) : json_array());
    if (!rt)
        return call_internal(c, "building route table");
    if (is_main)
        json_array_append_new(json_object_get(rt, "Associations"),
                              association(id, 1, NULL, NULL));
    if (store_insert(c->db, &c->scope, "route-table", id, vpc_id, NULL, rt) != STORE_OK) {
        json_decref(rt);
        return call_internal(c, "storing route table");
    }
    if (out)
        *out = rt;
    else
        json_decref(rt);
    return 0;
}

/* ---- associations ---- */

struct assoc_find {
    const char *member;     /* "RouteTableAssociationId", "SubnetId", ... */
    const char *value;
    json_t *table;          /* new reference to the table holding it */
    size_t index;
};

static int find_assoc(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct assoc_find *f = arg;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "Associations"), i, a) {
        const char *v = jstr(a, f->member);
        if (v && strcmp(v, f->value) == 0) {
            f->table = json_incref(doc);
            f->index = i;
            return 1;
        }
    }
    return 0;
}

/* The table holding the association whose member equals value, searched
 * among the tables of vpc_id (NULL: every table of the scope).  Returns
 * 1 (f->table set), 0 when there is none, or -1 with the error set. */
static int lookup_assoc(struct call *c, const char *vpc_id, const char *member,
                        const char *value, struct assoc_find *f)
{
    f->member = member;
    f->value = value;
    f->table = NULL;
    f->index = 0;
    if (store_each(c->db, &c->scope, "route-table", vpc_id, NULL, find_assoc, f) < 0)
        return call_internal(c, "listing route tables");
    return f->table ? 1 : 0;
}

static int assoc_not_found(struct call *c, const char *id)
{
    return call_error(c, "InvalidAssociationID.NotFound",
                      "The association ID '%s' does not exist", id);
}

int ec2_route_table_release_subnet(struct call *c, const char *vpc_id,
                                   const char *subnet_id)
{
    struct assoc_find f;
    int found = lookup_assoc(c, vpc_id, "SubnetId", subnet_id, &f);
    if (found <= 0)
        return found;
    json_array_remove(json_object_get(f.table, "Associations"), f.index);
    int rc = ec2_save(c, "route-table", jstr(f.table, "RouteTableId"), f.table);
    json_decref(f.table);
    return rc;
}

/* What a route table may be associated with: a subnet or a gateway of its
 * own VPC.  Sets *member to the association member naming it. */
static int check_assoc_target(struct call *c, json_t *rt, const char *subnet_id,
                              const char *gateway_id, const char **member)
{
    const char *rt_id = jstr(rt, "RouteTableId");
    const char *vpc_id = jstr(rt, "VpcId");
    if (subnet_id && gateway_id)
        return call_error(c, "InvalidParameterCombination",
                          "The parameter subnetId cannot be used with the parameter "
                          "gatewayId");
    if (!subnet_id && !gateway_id)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter subnetId or gatewayId");
    if (subnet_id) {
        json_t *subnet = ec2_get(c, "subnet", subnet_id);
        if (!subnet)
            return -1;
        int same = strcmp(jstr(subnet, "VpcId"), vpc_id) == 0;
        json_decref(subnet);
        if (!same)
            return call_error(c, "InvalidParameterValue",
                              "route table %s and subnet %s belong to different networks",
                              rt_id, subnet_id);
        *member = "SubnetId";
        return 0;
    }
    if (strncmp(gateway_id, "igw-", 4) != 0)
        return call_error(c, "UnsupportedOperation",
                          "ecslocal emulates gateway route table associations with "
                          "internet gateways only, not '%s'.", gateway_id);
    json_t *igw = ec2_get(c, "internet-gateway", gateway_id);
    if (!igw)
        return -1;
    json_t *a = json_array_get(json_object_get(igw, "Attachments"), 0);
    int same = a && jstr(a, "VpcId") && strcmp(jstr(a, "VpcId"), vpc_id) == 0;
    json_decref(igw);
    if (!same)
        return call_error(c, "InvalidParameterValue",
                          "route table %s and network gateway %s belong to different "
                          "networks", rt_id, gateway_id);
    *member = "GatewayId";
    return 0;
}

int ec2_associate_route_table(struct call *c)
{
    const char *rt_id = in_str(c, "RouteTableId");
    const char *subnet_id = in_str(c, "SubnetId");
    const char *gateway_id = in_str(c, "GatewayId");
    const char *member = NULL;
    if (in_str(c, "PublicIpv4Pool"))
        return call_error(c, "UnsupportedOperation",
                          "Public IPv4 pools are not emulated by ecslocal.");
    json_t *rt = ec2_get(c, "route-table", rt_id);
    if (!rt)
        return -1;
    if (check_assoc_target(c, rt, subnet_id, gateway_id, &member) < 0) {
        json_decref(rt);
        return -1;
    }
    /* A subnet or gateway has at most one explicit association. */
    struct assoc_find f;
    int taken = lookup_assoc(c, jstr(rt, "VpcId"), member,
                             subnet_id ? subnet_id : gateway_id, &f);
    if (taken != 0) {
        json_decref(f.table);
        json_decref(rt);
        return taken < 0 ? -1
                         : call_error(c, "Resource.AlreadyAssociated",
                                      "the specified association for route table %s "
                                      "conflicts with an existing association", rt_id);
    }
    json_t *a = association(rt_id, 0, member, subnet_id ? subnet_id : gateway_id);
    json_array_append(json_object_get(rt, "Associations"), a);
    int rc = ec2_save(c, "route-table", rt_id, rt);
    json_decref(rt);
    if (rc == 0) {
        jset_str(call_out(c), "AssociationId", jstr(a, "RouteTableAssociationId"));
        json_object_set(c->out, "AssociationState", json_object_get(a, "AssociationState"));
    }
    json_decref(a);
    return rc;
}

int ec2_disassociate_route_table(struct call *c)
{
    const char *id = in_str(c, "AssociationId");
    struct assoc_find f;
    int found = lookup_assoc(c, NULL, "RouteTableAssociationId", id, &f);
    if (found <= 0)
        return found < 0 ? -1 : assoc_not_found(c, id);
    json_t *assocs = json_object_get(f.table, "Associations");
    int rc;
    if (json_is_true(json_object_get(json_array_get(assocs, f.index), "Main"))) {
        rc = call_error(c, "InvalidParameterValue",
                        "cannot disassociate the main route table association %s", id);
    } else {
        json_array_remove(assocs, f.index);
        rc = ec2_save(c, "route-table", jstr(f.table, "RouteTableId"), f.table);
    }
    json_decref(f.table);
    return rc;
}

/* Moves an association (the main one too) to another table of the VPC;
 * the association gets a new id, as in AWS. */
int ec2_replace_route_table_association(struct call *c)
{
    const char *id = in_str(c, "AssociationId");
    const char *rt_id = in_str(c, "RouteTableId");
    json_t *target = ec2_get(c, "route-table", rt_id);
    if (!target)
        return -1;
    struct assoc_find f;
    int found = lookup_assoc(c, NULL, "RouteTableAssociationId", id, &f);
    if (found <= 0) {
        json_decref(target);
        return found < 0 ? -1 : assoc_not_found(c, id);
    }
    int rc = 0;
    if (strcmp(jstr(f.table, "VpcId"), jstr(target, "VpcId")) != 0) {
        rc = call_error(c, "InvalidParameterValue",
                        "route table %s and association %s belong to different networks",
                        rt_id, id);
        goto out;
    }
    json_t *old = json_array_get(json_object_get(f.table, "Associations"), f.index);
    const char *member = jstr(old, "SubnetId") ? "SubnetId"
                       : jstr(old, "GatewayId") ? "GatewayId" : NULL;
    json_t *a = association(rt_id, json_is_true(json_object_get(old, "Main")), member,
                            member ? jstr(old, member) : NULL);
    json_array_remove(json_object_get(f.table, "Associations"), f.index);
    if (ec2_save(c, "route-table", jstr(f.table, "RouteTableId"), f.table) < 0) {
        json_decref(a);
        rc = -1;
        goto out;
    }
    /* The target may be the same table: re-read it after the removal. */
    json_decref(target);
    target = ec2_get(c, "route-table", rt_id);
    if (!target) {
        json_decref(a);
        rc = -1;
        goto out;
    }
    json_array_append(json_object_get(target, "Associations"), a);
    rc = ec2_save(c, "route-table", rt_id, target);
    if (rc == 0) {
        jset_str(call_out(c), "NewAssociationId", jstr(a, "RouteTableAssociationId"));
        json_object_set(c->out, "AssociationState", json_object_get(a, "AssociationState"));
    }
    json_decref(a);
out:
    json_decref(f.table);
    json_decref(target);
    return rc;
}

/* ---- tables ---- */

int ec2_create_route_table(struct call *c)
{
    json_t *vpc = ec2_get(c, "vpc", in_str(c, "VpcId"));
    if (!vpc)
        return -1;
    json_t *tags = ec2_spec_tags(c, "route-table");
    if (!tags) {
        json_decref(vpc);
        return -1;
    }
    json_t *rt;
    int rc = ec2_route_table_create(c, vpc, 0, tags, &rt);
    json_decref(tags);
    json_decref(vpc);
    if (rc < 0)
        return -1;
    json_object_set_new(call_out(c), "RouteTable", rt);
    if (in_str(c, "ClientToken"))
        jset_str(c->out, "ClientToken", in_str(c, "ClientToken"));
    return 0;
}

int ec2_delete_route_table(struct call *c)
{
    const char *id = in_str(c, "RouteTableId");
    json_t *rt = ec2_get(c, "route-table", id);
    if (!rt)
        return -1;
    /* The main association counts: the main table is never deletable. */
    size_t n = json_array_size(json_object_get(rt, "Associations"));
    json_decref(rt);
    if (n > 0)
        return call_error(c, "DependencyViolation",
                          "The routeTable '%s' has dependencies and cannot be deleted.",
                          id);
    if (store_delete(c->db, &c->scope, "route-table", id) != STORE_OK)
        return call_internal(c, "deleting route table");
    return 0;
}

/* A route is active while its target is there: a gateway attached to the
 * table's VPC, an interface or instance that exists. */
static const char *route_state(struct call *c, json_t *route, const char *vpc_id)
{
    const char *gw = jstr(route, "GatewayId");
    const char *eni = jstr(route, "NetworkInterfaceId");
    const char *instance = jstr(route, "InstanceId");
    if (gw && strcmp(gw, "local") == 0)
        return "active";
    if (gw && strncmp(gw, "igw-", 4) == 0) {
        json_t *igw = store_get(c->db, &c->scope, "internet-gateway", gw);
        json_t *a = json_array_get(json_object_get(igw, "Attachments"), 0);
        int ok = a && jstr(a, "VpcId") && strcmp(jstr(a, "VpcId"), vpc_id) == 0;
        json_decref(igw);
        return ok ? "active" : "blackhole";
    }
    if (instance) {
        json_t *doc = store_get(c->db, &c->scope, "instance", instance);
        const char *st = jstr(json_object_get(doc, "State"), "Name");
        int gone = !doc || (st && strcmp(st, "terminated") == 0);
        json_decref(doc);
        if (gone)
            return "blackhole";
    }
    if (eni) {
        json_t *doc = store_get(c->db, &c->scope, "network-interface", eni);
        json_decref(doc);
        return doc ? "active" : "blackhole";
    }
    return jstr(route, "State") ? jstr(route, "State") : "active";
}

static int decorate_table(struct call *c, json_t *rt)
{
    size_t i;
    json_t *route;
    json_array_foreach(json_object_get(rt, "Routes"), i, route)
        jset_str(route, "State", route_state(c, route, jstr(rt, "VpcId")));
    return 0;
}

static const struct ec2_filter_field rt_filters[] = {
    { "association.gateway-id", "Associations.GatewayId" },
    { "association.main", "Associations.Main" },
    { "association.route-table-association-id", "Associations.RouteTableAssociationId" },
    { "association.route-table-id", "Associations.RouteTableId" },
    { "association.subnet-id", "Associations.SubnetId" },
    { "owner-id", "OwnerId" },
    { "route-table-id", "RouteTableId" },
    { "route.destination-cidr-block", "Routes.DestinationCidrBlock" },
    { "route.destination-ipv6-cidr-block", "Routes.DestinationIpv6CidrBlock" },
    { "route.destination-prefix-list-id", "Routes.DestinationPrefixListId" },
    { "route.egress-only-internet-gateway-id", "Routes.EgressOnlyInternetGatewayId" },
    { "route.gateway-id", "Routes.GatewayId" },
    { "route.instance-id", "Routes.InstanceId" },
    { "route.nat-gateway-id", "Routes.NatGatewayId" },
    { "route.origin", "Routes.Origin" },
    { "route.state", "Routes.State" },
    { "route.transit-gateway-id", "Routes.TransitGatewayId" },
    { "route.vpc-peering-connection-id", "Routes.VpcPeeringConnectionId" },
    { "vpc-id", "VpcId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_rts = {
    "route-table", "RouteTableIds", "routeTableIdSet", "RouteTables", rt_filters,
    decorate_table, 5, 100,
};

int ec2_describe_route_tables(struct call *c)
{
    return ec2_describe(c, &describe_rts);
}

/* ---- routes ---- */

/* The route targets of CreateRoute/ReplaceRoute that name resources
 * ecslocal does not emulate, with what to call them in the error. */
static const struct {
    const char *member;
    const char *what;
} foreign_targets[] = {
    { "NatGatewayId", "NAT gateways" },
    { "VpcPeeringConnectionId", "VPC peering connections" },
    { "TransitGatewayId", "transit gateways" },
    { "EgressOnlyInternetGatewayId", "egress-only internet gateways" },
    { "CarrierGatewayId", "carrier gateways" },
    { "LocalGatewayId", "local gateways" },
    { "VpcEndpointId", "Gateway Load Balancer endpoints as route targets" },
    { "CoreNetworkArn", "Cloud WAN core networks" },
    { "OdbNetworkArn", "ODB networks" },
};

#define NFOREIGN (sizeof(foreign_targets) / sizeof(foreign_targets[0]))

static const char *const target_members[] = {
    "GatewayId", "NetworkInterfaceId", "InstanceId", "NatGatewayId",
    "VpcPeeringConnectionId", "TransitGatewayId", "EgressOnlyInternetGatewayId",
    "CarrierGatewayId", "LocalGatewayId", "VpcEndpointId", "CoreNetworkArn",
    "OdbNetworkArn", NULL,
};

/* The wire name of a member: its first letter lowered (gatewayId). */
static void wire(const char *member, char *out, size_t len)
{
    snprintf(out, len, "%s", member);
    if (out[0] >= 'A' && out[0] <= 'Z')
        out[0] = (char)(out[0] - 'A' + 'a');
}

/* The destination of a route request, canonical ("10.0.0.0/16"). */
static int route_destination(struct call *c, struct cidr *dest, char *text, size_t len)
{
    const char *given = in_str(c, "DestinationCidrBlock");
    if (!given && in_str(c, "DestinationIpv6CidrBlock"))
        return call_error(c, "UnsupportedOperation",
                          "IPv6 routes are not emulated by ecslocal.");
    if (!given && in_str(c, "DestinationPrefixListId"))
        return call_error(c, "UnsupportedOperation",
                          "Routes to prefix lists are not emulated by ecslocal.");
    if (!given)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter destinationCidrBlock "
                          "or destinationIpv6CidrBlock");
    if (cidr_parse(given, dest) < 0)
        return call_error(c, "InvalidParameterValue",
                          "Value (%s) for parameter destinationCidrBlock is invalid. This "
                          "is not a valid CIDR block.", given);
    cidr_format(dest, text, len);
    return 0;
}

static int is_local_route(json_t *route)
{
    const char *gw = jstr(route, "GatewayId");
    return gw && strcmp(gw, "local") == 0;
}

/* Index of the route for destination text in rt, or -1. */
static int find_route(json_t *rt, const char *text)
{
    size_t i;
    json_t *route;
    json_array_foreach(json_object_get(rt, "Routes"), i, route) {
        const char *d = jstr(route, "DestinationCidrBlock");
        if (d && strcmp(d, text) == 0)
            return (int)i;
    }
    return -1;
}

/* The document of an instance's primary interface (device index 0), a new
 * reference, or NULL.  The stored instance names its interfaces in the
 * private "_Enis" (ec2_instances.h); a stored "NetworkInterfaces" list is
 * read the same way. */
static json_t *primary_eni(struct call *c, json_t *inst)
{
    json_t *found = NULL;
    json_t *list = json_object_get(inst, "_Enis");
    json_t *nis = json_object_get(inst, "NetworkInterfaces");
    size_t n = list ? json_array_size(list) : json_array_size(nis);
    for (size_t i = 0; i < n; i++) {
        const char *eni_id = list ? json_string_value(json_array_get(list, i))
                                  : jstr(json_array_get(nis, i), "NetworkInterfaceId");
        json_t *eni = eni_id ? store_get(c->db, &c->scope, "network-interface", eni_id)
                             : NULL;
        if (!eni)
            continue;
        json_t *att = json_object_get(eni, "Attachment");
        if (!found || json_integer_value(json_object_get(att, "DeviceIndex")) == 0) {
            json_decref(found);
            found = eni;
        } else {
            json_decref(eni);
        }
    }
    return found;
}

/* Check the one target of a CreateRoute/ReplaceRoute request against the
 * table and fill route with it. */
static int route_target(struct call *c, json_t *rt, const struct cidr *dest,
                        json_t *route)
{
    const char *rt_id = jstr(rt, "RouteTableId");
    const char *vpc_id = jstr(rt, "VpcId");
    const char *given = NULL;
    char a[48], b[48];
    for (const char *const *m = target_members; *m; m++) {
        if (!in_str(c, *m))
            continue;
        if (given) {
            wire(given, a, sizeof(a));
            wire(*m, b, sizeof(b));
            return call_error(c, "InvalidParameterCombination",
                              "The parameter %s cannot be used with the parameter %s",
                              a, b);
        }
        given = *m;
    }
    if (!given)
        return call_error(c, "MissingParameter",
                          "The request must contain exactly one route target: gatewayId, "
                          "networkInterfaceId, instanceId, natGatewayId, "
                          "vpcPeeringConnectionId, transitGatewayId, "
                          "egressOnlyInternetGatewayId, carrierGatewayId, "
                          "localGatewayId, vpcEndpointId or coreNetworkArn");
    for (size_t i = 0; i < NFOREIGN; i++)
        if (strcmp(given, foreign_targets[i].member) == 0)
            return call_error(c, "UnsupportedOperation",
                              "ecslocal does not emulate %s; a route can target an "
                              "internet gateway, a network interface or an instance.",
                              foreign_targets[i].what);
    const char *id = in_str(c, given);

    /* A route more specific than the VPC's own CIDR (the local route) may
     * only lead to an interface or an instance. */
    struct cidr vpc_cidr;
    const char *local = NULL;
    json_t *r0;
    size_t i;
    json_array_foreach(json_object_get(rt, "Routes"), i, r0)
        if (is_local_route(r0))
            local = jstr(r0, "DestinationCidrBlock");
    if (strcmp(given, "GatewayId") == 0 && local && cidr_parse(local, &vpc_cidr) == 0 &&
        cidr_within(dest, &vpc_cidr) &&
        !(dest->prefix == vpc_cidr.prefix && dest->base == vpc_cidr.base))
        return call_error(c, "InvalidParameterValue",
                          "Route target is not supported. This route only supports "
                          "interface and instance targets.");

    if (strcmp(given, "GatewayId") == 0) {
        if (strcmp(id, "local") == 0)
            return call_error(c, "InvalidGatewayID.NotFound",
                              "The gateway ID 'local' does not exist");
        if (strncmp(id, "vgw-", 4) == 0 || strncmp(id, "vpce-", 5) == 0)
            return call_error(c, "UnsupportedOperation",
                              "ecslocal does not emulate %s as route targets; a route "
                              "can target an internet gateway, a network interface or "
                              "an instance.",
                              id[1] == 'g' ? "virtual private gateways" : "VPC endpoints");
        if (strncmp(id, "igw-", 4) != 0)
            return call_error(c, "InvalidParameterValue",
                              "invalid value for parameter gateway-id: %s", id);
        json_t *igw = ec2_get(c, "internet-gateway", id);
        if (!igw)
            return -1;
        json_t *att = json_array_get(json_object_get(igw, "Attachments"), 0);
        int same = att && jstr(att, "VpcId") && strcmp(jstr(att, "VpcId"), vpc_id) == 0;
        json_decref(igw);
        if (!same)
            return call_error(c, "InvalidParameterValue",
                              "route table %s and network gateway %s belong to different "
                              "networks", rt_id, id);
        jset_str(route, "GatewayId", id);
        return 0;
    }
    if (strcmp(given, "NetworkInterfaceId") == 0) {
        json_t *eni = ec2_get(c, "network-interface", id);
        if (!eni)
            return -1;
        int same = jstr(eni, "VpcId") && strcmp(jstr(eni, "VpcId"), vpc_id) == 0;
        json_decref(eni);
        if (!same)
            return call_error(c, "InvalidParameterValue",
                              "route table %s and interface %s belong to different "
                              "networks", rt_id, id);
        jset_str(route, "NetworkInterfaceId", id);
        return 0;
    }
    /* InstanceId: the route leads to the instance's primary interface. */
    json_t *inst = ec2_get(c, "instance", id);
    if (!inst)
        return -1;
    json_t *eni = primary_eni(c, inst);
    json_decref(inst);
    int same = eni && jstr(eni, "VpcId") && strcmp(jstr(eni, "VpcId"), vpc_id) == 0;
    if (same) {
        jset_str(route, "InstanceId", id);
        jset_str(route, "InstanceOwnerId", c->account);
        jset_str(route, "NetworkInterfaceId", jstr(eni, "NetworkInterfaceId"));
    }
    json_decref(eni);
    if (!same)
        return call_error(c, "InvalidParameterValue",
                          "route table %s and instance %s belong to different networks",
                          rt_id, id);
    return 0;
}

int ec2_create_route(struct call *c)
{
    const char *rt_id = in_str(c, "RouteTableId");
    struct cidr dest;
    char text[32];
    json_t *rt = ec2_get(c, "route-table", rt_id);
    if (!rt)
        return -1;
    json_t *route = json_object();
    int rc = route_destination(c, &dest, text, sizeof(text));
    if (rc == 0 && find_route(rt, text) >= 0)
        rc = call_error(c, "RouteAlreadyExists",
                        "The route identified by %s already exists.", text);
    if (rc == 0)
        rc = route_target(c, rt, &dest, route);
    if (rc == 0) {
        jset_str(route, "DestinationCidrBlock", text);
        jset_str(route, "Origin", "CreateRoute");
        jset_str(route, "State", "active");
        json_array_append(json_object_get(rt, "Routes"), route);
        rc = ec2_save(c, "route-table", rt_id, rt);
    }
    json_decref(route);
    json_decref(rt);
    if (rc == 0)
        json_object_set_new(call_out(c), "Return", json_true());
    return rc;
}

int ec2_delete_route(struct call *c)
{
    const char *rt_id = in_str(c, "RouteTableId");
    struct cidr dest;
    char text[32];
    json_t *rt = ec2_get(c, "route-table", rt_id);
    if (!rt)
        return -1;
    int rc = route_destination(c, &dest, text, sizeof(text));
    int at = rc == 0 ? find_route(rt, text) : -1;
    json_t *routes = json_object_get(rt, "Routes");
    if (rc == 0 && at < 0)
        rc = call_error(c, "InvalidRoute.NotFound",
                        "no route with destination-cidr-block %s in route table %s",
                        text, rt_id);
    if (rc == 0 && is_local_route(json_array_get(routes, (size_t)at)))
        rc = call_error(c, "InvalidParameterValue",
                        "cannot remove local route %s in route table %s", text, rt_id);
    if (rc == 0) {
        json_array_remove(routes, (size_t)at);
        rc = ec2_save(c, "route-table", rt_id, rt);
    }
    json_decref(rt);
    return rc;
}

int ec2_replace_route(struct call *c)
{
    const char *rt_id = in_str(c, "RouteTableId");
    struct cidr dest;
    char text[32];
    json_t *rt = ec2_get(c, "route-table", rt_id);
    if (!rt)
        return -1;
    int rc = route_destination(c, &dest, text, sizeof(text));
    int at = rc == 0 ? find_route(rt, text) : -1;
    if (rc == 0 && at < 0)
        rc = call_error(c, "InvalidParameterValue",
                        "There is no route defined for '%s' in the route table. Use "
                        "CreateRoute instead.", text);
    int is_local = at >= 0 &&
                   is_local_route(json_array_get(json_object_get(rt, "Routes"), (size_t)at));
    int local_target = in_bool(c, "LocalTarget", 0);
    if (rc == 0 && local_target) {
        /* Restoring the local route's own target: it never changed here. */
        if (!is_local)
            rc = call_error(c, "InvalidParameterValue",
                            "The route %s in route table %s is not a local route; "
                            "localTarget applies only to local routes.", text, rt_id);
        json_decref(rt);
        return rc;
    }
    if (rc == 0 && is_local)
        rc = call_error(c, "UnsupportedOperation",
                        "Replacing the target of the local route %s in route table %s "
                        "is not emulated by ecslocal.", text, rt_id);
    json_t *route = json_object();
    if (rc == 0)
        rc = route_target(c, rt, &dest, route);
    if (rc == 0) {
        jset_str(route, "DestinationCidrBlock", text);
        jset_str(route, "Origin", "CreateRoute");
        jset_str(route, "State", "active");
        json_array_set(json_object_get(rt, "Routes"), (size_t)at, route);
        rc = ec2_save(c, "route-table", rt_id, rt);
    }
    json_decref(route);
    json_decref(rt);
    return rc;
}
