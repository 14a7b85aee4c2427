/*
 * Unit tests of the generated model tables (api/gen, api/model.c): every
 * listed operation has a handler, the tables are consistent enough for the
 * codecs to walk them, and the lookups the dispatcher uses find what they
 * should.
 */
#include <string.h>

#include "../../api/model.h"
#include "test.h"

TEST(model, every_listed_operation_has_a_handler)
{
    size_t n, missing = 0, listed = 0;
    const struct operation *ops = model_operations(&n);
    for (size_t i = 0; i < n; i++) {
        if (!ops[i].listed)
            continue;
        listed++;
        if (!ops[i].handler) {
            fprintf(stderr, "    no handler: %s:%s\n",
                    model_service(ops[i].svc)->key, ops[i].name);
            missing++;
        }
    }
    ASSERT(listed > 0);
    if (missing)
        FAIL("%zu of %zu listed operations have no handler (listed in "
             "api/model/ops/*.list, not written yet)", missing, listed);
}

TEST(model, unlisted_operations_have_no_handler_and_no_shapes)
{
    /* What answers NotImplemented: in the model, not emulated. */
    size_t n, unlisted = 0;
    const struct operation *ops = model_operations(&n);
    for (size_t i = 0; i < n; i++) {
        if (ops[i].listed)
            continue;
        unlisted++;
        if (ops[i].handler || ops[i].input != SH__NONE || ops[i].output != SH__NONE)
            FAIL("%s:%s is not listed but has a handler or shapes",
                 model_service(ops[i].svc)->key, ops[i].name);
    }
    ASSERT(unlisted > 0);
}

TEST(model, operations_are_sorted_unique_and_found)
{
    size_t n;
    const struct operation *ops = model_operations(&n);
    ASSERT(n > 0);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            int order = ops[i - 1].svc != ops[i].svc
                        ? (ops[i - 1].svc < ops[i].svc ? -1 : 1)
                        : strcmp(ops[i - 1].name, ops[i].name);
            if (order >= 0)
                FAIL("operations out of order or repeated: %s then %s",
                     ops[i - 1].name, ops[i].name);
        }
        if (model_operation(ops[i].svc, ops[i].name) != &ops[i])
            FAIL("model_operation does not find %s:%s",
                 model_service(ops[i].svc)->key, ops[i].name);
    }
    ASSERT_NULL(model_operation(SVC_EC2, "NoSuchOperation"));
    ASSERT_NULL(model_operation(SVC_EC2, ""));
    /* Names are case-sensitive, as in AWS. */
    ASSERT_NULL(model_operation(SVC_EC2, "describevpcs"));
}

TEST(model, listed_operations_have_structure_shapes)
{
    size_t n;
    const struct operation *ops = model_operations(&n);
    for (size_t i = 0; i < n; i++) {
        if (!ops[i].listed)
            continue;
        const struct shape *in = shape_get(ops[i].input);
        const struct shape *out = shape_get(ops[i].output);
        if (ops[i].input != SH__NONE && (!in || in->type != T_STRUCT))
            FAIL("%s: input is not a structure", ops[i].name);
        if (ops[i].output != SH__NONE && (!out || out->type != T_STRUCT))
            FAIL("%s: output is not a structure", ops[i].name);
        const struct service *svc = model_service(ops[i].svc);
        if (svc->protocol == PROTO_QUERY && out && !ops[i].result_wrapper)
            FAIL("%s: a query operation with output needs a result wrapper",
                 ops[i].name);
    }
}

/* The codecs binary-search members by name and index shapes blindly. */
TEST(model, shapes_are_walkable)
{
    for (int id = 0; id < SH__COUNT; id++) {
        const struct shape *s = &model_shapes[id];
        if (!s->name || !*s->name)
            FAIL("shape %d has no name", id);
        for (int i = 0; i < s->nmembers; i++) {
            const struct member *m = shape_member(s, i);
            if (!m->name || !shape_get(m->shape))
                FAIL("%s: member %d is broken", s->name, i);
            if (i > 0 && strcmp(shape_member(s, i - 1)->name, m->name) >= 0)
                FAIL("%s: members not sorted: %s before %s", s->name,
                     shape_member(s, i - 1)->name, m->name);
            if (shape_find_member(s, m->name) != m)
                FAIL("%s: shape_find_member misses %s", s->name, m->name);
        }
        if (s->type == T_LIST && !shape_get(s->inner))
            FAIL("%s: list without a member shape", s->name);
        if (s->type == T_MAP && (!shape_get(s->inner) || !shape_get(s->value)))
            FAIL("%s: map without key or value shape", s->name);
        if (s->type != T_STRUCT && s->nmembers)
            FAIL("%s: members on a non-structure", s->name);
        for (int i = 0; i < s->nenums; i++)
            if (!model_enums[s->enums_off + i])
                FAIL("%s: enum value %d missing", s->name, i);
        if ((s->flags & SF_HAS_MIN) && (s->flags & SF_HAS_MAX) && s->min > s->max)
            FAIL("%s: min %lld > max %lld", s->name, s->min, s->max);
    }
}

TEST(model, member_lookup)
{
    const struct operation *op = model_operation(SVC_EC2, "DescribeVpcs");
    if (!op || !op->listed)
        SKIP("ec2:DescribeVpcs is not listed");
    const struct shape *s = shape_get(op->input);
    ASSERT(s);
    const struct member *m = shape_find_member(s, "Filters");
    ASSERT(m);
    ASSERT_STR_EQ(m->location_name, "Filter");
    ASSERT_NULL(shape_find_member(s, "filters"));
    ASSERT_NULL(shape_find_member(s, ""));
    ASSERT_NULL(shape_find_member(s, "Zzz"));
}

TEST(model, services_route_by_key_target_and_version)
{
    for (int i = 0; i < SVC__COUNT; i++) {
        const struct service *s = model_service((enum service_id)i);
        ASSERT(s);
        ASSERT_INT_EQ(s->id, i);
        ASSERT(model_service_by_key(s->key) == s);
        ASSERT(model_service_by_key(s->signing_name) == s);
        if (s->protocol == PROTO_JSON) {
            ASSERT(s->target_prefix);
            ASSERT(model_service_by_target(s->target_prefix,
                                           strlen(s->target_prefix)) == s);
        } else {
            ASSERT(s->xml_ns);
            ASSERT(model_service_by_version(s->version) == s);
        }
    }
    ASSERT(model_service_by_version("2016-11-15") == model_service(SVC_EC2));
    ASSERT(model_service_by_version("2015-12-01") == model_service(SVC_ELBV2));
    ASSERT(model_service_by_version("2011-06-15") == model_service(SVC_STS));
    ASSERT(model_service_by_key("elasticloadbalancing") == model_service(SVC_ELBV2));
    ASSERT(model_service_by_target("Logs_20140328", 13) == model_service(SVC_LOGS));
    /* A prefix of a prefix is not a service. */
    ASSERT_NULL(model_service_by_target("Logs_2014032", 12));
    ASSERT_NULL(model_service_by_version("2014-11-13"));      /* ECS is JSON */
    ASSERT_NULL(model_service_by_version("1999-01-01"));
    ASSERT_NULL(model_service_by_key("s3"));
    ASSERT(model_service(SVC_EC2)->protocol == PROTO_EC2);
    ASSERT(model_service(SVC_ELBV2)->protocol == PROTO_QUERY);
    ASSERT(model_service(SVC_STS)->protocol == PROTO_QUERY);
    ASSERT(model_service(SVC_ECS)->protocol == PROTO_JSON);
}

TEST(model, errors_map_shapes_to_codes_and_statuses)
{
    const struct error_def *e = model_error(SVC_ECS, "ClusterNotFoundException");
    ASSERT(e);
    ASSERT_STR_EQ(e->code, "ClusterNotFoundException");
    ASSERT_INT_EQ(e->http_status, 400);
    ASSERT_INT_EQ(e->sender, 1);
    e = model_error(SVC_ECS, "ServerException");
    ASSERT(e);
    ASSERT_INT_EQ(e->http_status, 500);
    ASSERT_INT_EQ(e->sender, 0);
    e = model_error(SVC_ELBV2, "DuplicateLoadBalancerNameException");
    ASSERT(e);
    ASSERT_STR_EQ(e->code, "DuplicateLoadBalancerName");
    /* Errors belong to their service. */
    ASSERT_NULL(model_error(SVC_EC2, "ClusterNotFoundException"));
    ASSERT_NULL(model_error(SVC_ECS, "NoSuchException"));
}

TEST(model, ec2_filter_names)
{
    const struct operation *op = model_operation(SVC_EC2, "DescribeVpcs");
    if (!op || !op->listed)
        SKIP("ec2:DescribeVpcs is not listed");
    ASSERT(model_filter_valid(SVC_EC2, "DescribeVpcs", "vpc-id"));
    ASSERT(model_filter_valid(SVC_EC2, "DescribeVpcs", "cidr"));
    ASSERT(model_filter_valid(SVC_EC2, "DescribeVpcs", "tag-key"));
    ASSERT(model_filter_valid(SVC_EC2, "DescribeVpcs", "tag:Name"));
    ASSERT(!model_filter_valid(SVC_EC2, "DescribeVpcs", "tag:"));
    ASSERT(!model_filter_valid(SVC_EC2, "DescribeVpcs", "vpc-idx"));
    ASSERT(!model_filter_valid(SVC_EC2, "DescribeVpcs", ""));
    ASSERT(!model_filter_valid(SVC_EC2, "NoSuchOperation", "vpc-id"));
}
