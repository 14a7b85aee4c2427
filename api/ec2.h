/*
 * What the EC2 handlers share: resource ids and their errors, tags,
 * Describe filters and pagination, regions and availability zones.
 *
 * Every EC2 resource is stored as the document its Describe call returns
 * (the model's Vpc, Subnet, SecurityGroup, ... shapes, with "Tags"), under
 * the store type named by its EC2 ResourceType ("vpc", "subnet",
 * "security-group", ...).  Private bookkeeping lives in members whose names
 * start with '_', which the serializer never sends.
 */
#ifndef ECSL_EC2_H
#define ECSL_EC2_H

#include <jansson.h>

#include "call.h"
#include "cidr.h"
#include "jget.h"

/* ---- resource kinds ---- */

struct ec2_kind {
    const char *type;           /* store type = EC2 ResourceType */
    const char *prefix;         /* id prefix without '-' */
    const char *notfound_code;
    const char *notfound_fmt;   /* one %s: the id */
    const char *malformed_code;
    const char *malformed_fmt;  /* one %s: the id */
};

/* The kind of a resource type ("vpc") or of an id ("vpc-0abc..."). */
const struct ec2_kind *ec2_kind(const char *type);
const struct ec2_kind *ec2_kind_of_id(const char *id);

/* A new id: prefix-<17 hex digits>. */
void ec2_new_id(const char *prefix, char *out, size_t len);

/* Whether id looks like an id of this kind (prefix-, 8 or 17 hex). */
int ec2_id_wellformed(const struct ec2_kind *k, const char *id);

/* Record the NotFound (or Malformed, when the id is not even well formed)
 * error for id; returns -1. */
int ec2_not_found(struct call *c, const char *type, const char *id);

/* Load a resource or record its NotFound error (returns NULL then). */
json_t *ec2_get(struct call *c, const char *type, const char *id);

/* Store a changed document; records an internal error on failure. */
int ec2_save(struct call *c, const char *type, const char *id, json_t *doc);

/* ---- tags ---- */

/* The tags that TagSpecifications give a new resource of this type: a new
 * array (empty when none).  A spec for another resource type, or a
 * reserved "aws:" key, is an error (returns NULL). */
json_t *ec2_spec_tags(struct call *c, const char *type);

/* A document's tag list: "Tags", or "TagSet" for the NetworkInterface
 * shape, which names it so.  Borrowed; NULL when there is none. */
json_t *ec2_doc_tags(json_t *doc);

/* Validate one tag list from a request (CreateTags, specs). */
int ec2_check_tags(struct call *c, json_t *tags);

/* ---- Describe: ids, filters, pagination ---- */

struct ec2_filter_field {
    const char *name;   /* filter name, e.g. "vpc-id" */
    const char *path;   /* member path in the document, e.g. "VpcId" or
                         * "Attachment.InstanceId"; arrays on the way match
                         * if any element does */
};

struct ec2_describe {
    const char *type;               /* store type */
    const char *ids_member;         /* input member with the ids, or NULL */
    const char *ids_wire;           /* its wire name, for errors ("vpcSet") */
    const char *out_member;         /* output list member, e.g. "Vpcs" */
    const struct ec2_filter_field *filters;
    /* Fill computed members (counts, live state) before filtering. */
    int (*decorate)(struct call *c, json_t *doc);
    int max_results_min;            /* 5 for most EC2 calls; 0: not paged */
    int max_results_max;
};

/* The whole Describe call: ids (NotFound for unknown ones), filters
 * (InvalidParameterValue for names the call does not have), MaxResults and
 * NextToken, the output list.  Returns 0 or -1. */
int ec2_describe(struct call *c, const struct ec2_describe *d);

/* Whether doc passes every filter of the request; -1 (error set) when a
 * filter name is invalid for the operation. */
int ec2_filters_match(struct call *c, json_t *filters, json_t *doc,
                      const struct ec2_filter_field *fields);

/* Glob match with EC2's wildcards: '*' any run, '?' one character. */
int ec2_glob(const char *pattern, const char *text);

/* ---- regions and zones ---- */

struct ec2_zone {
    char name[40];      /* us-east-1a */
    char id[48];        /* use1-az1 */
};

/* The availability zones of a region (up to max); returns how many. */
int ec2_region_zones(const char *region, struct ec2_zone *zones, int max);
/* Find a zone by name or id; returns 0 or -1. */
int ec2_find_zone(const char *region, const char *name, const char *id,
                  struct ec2_zone *out);
/* The regions ecslocal answers DescribeRegions with. */
extern const char *const ec2_regions[];

/* The private DNS name AWS gives an address in this region. */
void ec2_private_dns_name(const char *region, uint32_t ip, char *out,
                          size_t len);

/* ---- constructors one area uses from another ---- */

/* Each creates the resource (and what AWS creates with it), stores it and
 * returns its document (a new reference) in *out when out is not NULL.
 * Return 0 or -1 with the error set on c. */
int ec2_vpc_create(struct call *c, const struct cidr *cidr, int is_default,
                   json_t *tags, json_t **out);
int ec2_subnet_create(struct call *c, json_t *vpc, const struct cidr *cidr,
                      const struct ec2_zone *zone, int default_for_az,
                      json_t *tags, json_t **out);
int ec2_sg_create(struct call *c, const char *vpc_id, const char *name,
                  const char *description, json_t *tags, int is_default,
                  json_t **out);
int ec2_route_table_create(struct call *c, json_t *vpc, int is_main,
                           json_t *tags, json_t **out);
int ec2_network_acl_create(struct call *c, const char *vpc_id, int is_default,
                           json_t *tags, json_t **out);
/* A new subnet joins its VPC's default network ACL (AWS does this). */
int ec2_network_acl_adopt_subnet(struct call *c, const char *vpc_id,
                                 const char *subnet_id);
int ec2_network_acl_release_subnet(struct call *c, const char *vpc_id,
                                   const char *subnet_id);
int ec2_igw_create(struct call *c, json_t *tags, json_t **out);
int ec2_igw_attach(struct call *c, const char *igw_id, const char *vpc_id);
/* The internet gateway attached to a VPC: 1 (its id copied into igw_id),
 * 0 when there is none, -1 with the error set. */
int ec2_vpc_igw(struct call *c, const char *vpc_id, char *igw_id, size_t len);
/* A deleted subnet leaves its explicit route table association behind
 * (AWS drops it with the subnet). */
int ec2_route_table_release_subnet(struct call *c, const char *vpc_id,
                                   const char *subnet_id);
/* The scope's default VPC: 0 with *vpc a new reference, or NULL when the
 * region has none (it was deleted); -1 on a storage error (set on c). */
int ec2_default_vpc(struct call *c, json_t **vpc);
/* The default security group of a VPC (its id copied into id). */
int ec2_default_sg(struct call *c, const char *vpc_id, char *id, size_t len);

/* Set "Key" to a new string value on doc. */
void jset_str(json_t *doc, const char *key, const char *value);

#endif
