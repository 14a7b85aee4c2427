/*
 * EC2 internet gateways: CreateInternetGateway, DeleteInternetGateway,
 * DescribeInternetGateways, AttachInternetGateway, DetachInternetGateway.
 *
 * A gateway is recorded and attached like in AWS (one VPC per gateway, one
 * gateway per VPC, attachment state "available" as AWS reports it), but
 * ecslocal routes nothing to the outside unless started with --egress nat
 * (DESIGN.md).  Routes that name a gateway are kept when it is detached;
 * DescribeRouteTables reports them as blackholes until it is back.
 */
#include <stdio.h>
#include <string.h>

#include "ec2.h"

int ec2_igw_create(struct call *c, json_t *tags, json_t **out)
{
    char id[32];
    ec2_new_id("igw", id, sizeof(id));
    json_t *igw = json_pack("{s:s, s:s, s:[], s:o}", "InternetGatewayId", id,
                            "OwnerId", c->account, "Attachments",
                            "Tags", tags ? json_incref(tags) : json_array());
    if (!igw)
        return call_internal(c, "building internet gateway");
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

/* The VPC an internet gateway document is attached to, or NULL. */
static const char *attached_vpc(json_t *igw)
{
    json_t *a = json_array_get(json_object_get(igw, "Attachments"), 0);
    return a ? jstr(a, "VpcId") : NULL;
}

struct igw_of_vpc {
    const char *vpc_id;
    char igw_id[32];
};

static int find_igw_of_vpc(json_t *doc, const char *id, void *arg)
{
    struct igw_of_vpc *f = arg;
    const char *vpc = attached_vpc(doc);
    if (vpc && strcmp(vpc, f->vpc_id) == 0) {
        snprintf(f->igw_id, sizeof(f->igw_id), "%s", id);
        return 1;
    }
    return 0;
}

int ec2_vpc_igw(struct call *c, const char *vpc_id, char *igw_id, size_t len)
{
    struct igw_of_vpc f = { vpc_id, "" };
    if (store_each(c->db, &c->scope, "internet-gateway", NULL, NULL, find_igw_of_vpc,
                   &f) < 0)
        return call_internal(c, "listing internet gateways");
    snprintf(igw_id, len, "%s", f.igw_id);
    return f.igw_id[0] ? 1 : 0;
}

/* Record the attachment; the caller has checked that it is allowed. */
static int record_attachment(struct call *c, json_t *igw, const char *vpc_id)
{
    json_array_append_new(json_object_get(igw, "Attachments"),
                          json_pack("{s:s, s:s}", "State", "available", "VpcId", vpc_id));
    return ec2_save(c, "internet-gateway", jstr(igw, "InternetGatewayId"), igw);
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

/* Used when the default VPC is built: AWS gives it a gateway and a default
 * route to it in the main route table from the start. */
int ec2_igw_attach(struct call *c, const char *igw_id, const char *vpc_id)
{
    json_t *igw = ec2_get(c, "internet-gateway", igw_id);
    if (!igw)
        return -1;
    int rc = record_attachment(c, igw, vpc_id);
    json_decref(igw);
    if (rc < 0)
        return -1;
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

int ec2_create_internet_gateway(struct call *c)
{
    json_t *tags = ec2_spec_tags(c, "internet-gateway");
    if (!tags)
        return -1;
    json_t *igw;
    int rc = ec2_igw_create(c, tags, &igw);
    json_decref(tags);
    if (rc < 0)
        return -1;
    json_object_set_new(call_out(c), "InternetGateway", igw);
    return 0;
}

int ec2_delete_internet_gateway(struct call *c)
{
    const char *id = in_str(c, "InternetGatewayId");
    json_t *igw = ec2_get(c, "internet-gateway", id);
    if (!igw)
        return -1;
    int attached = attached_vpc(igw) != NULL;
    json_decref(igw);
    if (attached)
        return call_error(c, "DependencyViolation",
                          "The internetGateway '%s' has dependencies and cannot be "
                          "deleted.", id);
    if (store_delete(c->db, &c->scope, "internet-gateway", id) != STORE_OK)
        return call_internal(c, "deleting internet gateway");
    return 0;
}

static const struct ec2_filter_field igw_filters[] = {
    { "attachment.state", "Attachments.State" },
    { "attachment.vpc-id", "Attachments.VpcId" },
    { "internet-gateway-id", "InternetGatewayId" },
    { "owner-id", "OwnerId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_igws = {
    "internet-gateway", "InternetGatewayIds", "internetGatewayIdSet",
    "InternetGateways", igw_filters, NULL, 5, 1000,
};

int ec2_describe_internet_gateways(struct call *c)
{
    return ec2_describe(c, &describe_igws);
}

int ec2_attach_internet_gateway(struct call *c)
{
    const char *igw_id = in_str(c, "InternetGatewayId");
    const char *vpc_id = in_str(c, "VpcId");
    json_t *igw = ec2_get(c, "internet-gateway", igw_id);
    if (!igw)
        return -1;
    json_t *vpc = ec2_get(c, "vpc", vpc_id);
    if (!vpc) {
        json_decref(igw);
        return -1;
    }
    json_decref(vpc);
    const char *current = attached_vpc(igw);
    if (current) {
        int rc = call_error(c, "Resource.AlreadyAssociated",
                            "resource %s is already attached to network %s", igw_id,
                            current);
        json_decref(igw);
        return rc;
    }
    char other[32];
    int has = ec2_vpc_igw(c, vpc_id, other, sizeof(other));
    if (has != 0) {
        json_decref(igw);
        return has < 0 ? -1
                       : call_error(c, "InvalidParameterValue",
                                    "Network %s already has an internet gateway attached",
                                    vpc_id);
    }
    int rc = record_attachment(c, igw, vpc_id);
    json_decref(igw);
    return rc;
}

int ec2_detach_internet_gateway(struct call *c)
{
    const char *igw_id = in_str(c, "InternetGatewayId");
    const char *vpc_id = in_str(c, "VpcId");
    json_t *igw = ec2_get(c, "internet-gateway", igw_id);
    if (!igw)
        return -1;
    json_t *vpc = ec2_get(c, "vpc", vpc_id);
    if (!vpc) {
        json_decref(igw);
        return -1;
    }
    json_decref(vpc);
    const char *current = attached_vpc(igw);
    if (!current || strcmp(current, vpc_id) != 0) {
        /* No capture of AWS's text for this case; worded like its
         * Resource.AlreadyAssociated message. */
        int rc = call_error(c, "Gateway.NotAttached",
                            "resource %s is not attached to network %s", igw_id, vpc_id);
        json_decref(igw);
        return rc;
    }
    json_array_clear(json_object_get(igw, "Attachments"));
    int rc = ec2_save(c, "internet-gateway", igw_id, igw);
    json_decref(igw);
    return rc;
}
