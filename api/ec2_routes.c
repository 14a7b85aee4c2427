/*
 * EC2 route tables and routes.
 *
 * Every VPC has a main route table with the local route for its CIDR; a
 * subnet without an explicit association uses the main table.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

int ec2_route_table_create(struct call *c, json_t *vpc, int is_main, json_t *tags,
                           json_t **out)
{
    char id[32], assoc[40], arn[200];
    const char *vpc_id = jstr(vpc, "VpcId");
    ec2_new_id("rtb", id, sizeof(id));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:route-table/%s", c->region,
             c->account, id);
    json_t *rt = json_pack(
        "{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}], s:[], s:[], s:o}",
        "RouteTableId", id, "VpcId", vpc_id, "OwnerId", c->account,
        "RouteTableArn", arn,
        "Routes", "DestinationCidrBlock", jstr(vpc, "CidrBlock"), "GatewayId", "local",
        "Origin", "CreateRouteTable", "State", "active",
        "Associations", "PropagatingVgws",
        "Tags", tags ? json_incref(tags) : json_array());
    if (is_main) {
        ec2_new_id("rtbassoc", assoc, sizeof(assoc));
        json_array_append_new(json_object_get(rt, "Associations"),
                              json_pack("{s:b, s:s, s:s, s:{s:s}}", "Main", 1,
                                        "RouteTableAssociationId", assoc,
                                        "RouteTableId", id, "AssociationState",
                                        "State", "associated"));
    }
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
