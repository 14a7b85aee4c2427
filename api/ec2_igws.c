/*
 * EC2 internet gateways.
 *
 * A gateway is recorded and attached like in AWS, but ecslocal routes
 * nothing to the outside unless started with --egress nat (DESIGN.md).
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

int ec2_igw_create(struct call *c, json_t *tags, json_t **out)
{
    char id[32], arn[200];
    ec2_new_id("igw", id, sizeof(id));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:internet-gateway/%s", c->region,
             c->account, id);
    json_t *igw = json_pack("{s:s, s:s, s:[], s:o}", "InternetGatewayId", id,
                            "OwnerId", c->account, "Attachments",
                            "Tags", tags ? json_incref(tags) : json_array());
    if (store_insert(c->db, &c->scope, "internet-gateway", id, "", NULL, igw) != STORE_OK) {
        json_decref(igw);
        return call_internal(c, "storing internet gateway");
    }
    if (out)
        *out = igw;
    else
        json_decref(igw);
    return 0;
}

static int find_main_table(json_t *doc, const char *id, void *arg)
{
    (void)id;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "Associations"), i, a) {
        if (json_is_true(json_object_get(a, "Main"))) {
            *(json_t **)arg = json_incref(doc);
            return 1;
        }
    }
    return 0;
}

int ec2_igw_attach(struct call *c, const char *igw_id, const char *vpc_id)
{
    json_t *igw = ec2_get(c, "internet-gateway", igw_id);
    if (!igw)
        return -1;
    json_array_append_new(json_object_get(igw, "Attachments"),
                          json_pack("{s:s, s:s}", "State", "available", "VpcId", vpc_id));
    int rc = ec2_save(c, "internet-gateway", igw_id, igw);
    json_decref(igw);
    if (rc < 0)
        return -1;
    /* The default VPC routes 0.0.0.0/0 to its gateway from the start. */
    json_t *vpc = store_get(c->db, &c->scope, "vpc", vpc_id);
    int is_default = vpc && json_is_true(json_object_get(vpc, "IsDefault"));
    json_decref(vpc);
    if (!is_default)
        return 0;
    json_t *rt = NULL;
    store_each(c->db, &c->scope, "route-table", vpc_id, NULL, find_main_table, &rt);
    if (!rt)
        return 0;
    json_array_append_new(json_object_get(rt, "Routes"),
                          json_pack("{s:s, s:s, s:s, s:s}", "DestinationCidrBlock",
                                    "0.0.0.0/0", "GatewayId", igw_id, "Origin",
                                    "CreateRoute", "State", "active"));
    rc = ec2_save(c, "route-table", jstr(rt, "RouteTableId"), rt);
    json_decref(rt);
    return rc;
}
