/*
 * Unit tests of the protocol codecs (api/proto_query.c, api/proto_json.c)
 * and the validator (api/validate.c), driven by the real model shapes:
 * request bodies as the SDKs send them are decoded into the jansson object
 * a handler sees, handler results are encoded into the bytes a client
 * parses, and errors into each protocol's envelope.
 *
 * Shapes are found through their operations at run time, so these tests
 * follow the trimmed models as areas are added.  An operation no ops list
 * names yet has no shapes; its tests are skipped and say so.
 */
#include <stdlib.h>
#include <string.h>

#include "../../api/call.h"
#include "../../api/form.h"
#include "../../api/model.h"
#include "../../api/proto.h"
#include "../../api/validate.h"
#include "test.h"

#define REQ_ID "11111111-2222-4333-8444-555555555555"
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define EC2_NS "http://ec2.amazonaws.com/doc/2016-11-15/"
#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define ELB_NS "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

/* Prepare a call of svc:op as the dispatcher would; 0 when the operation
 * is not in the trimmed models. */
static int setup(struct call *c, enum service_id svc, const char *op)
{
    memset(c, 0, sizeof(*c));
    c->svc = model_service(svc);
    c->op = model_operation(svc, op);
    snprintf(c->request_id, sizeof(c->request_id), "%s", REQ_ID);
    snprintf(c->account, sizeof(c->account), "000000000000");
    snprintf(c->region, sizeof(c->region), "us-east-1");
    return c->op && c->op->listed;
}

#define NEED(c, svc, op)                                                     \
    do {                                                                     \
        if (!setup((c), (svc), (op)))                                        \
            SKIP("%s:%s is in no ops list yet, so its shapes are not in "    \
                 "the trimmed model", model_service(svc)->key, (op));        \
    } while (0)

static void done(struct call *c)
{
    json_decref(c->in);
    json_decref(c->out);
    c->in = c->out = NULL;
}

/* Decode a form body (query and ec2 protocols) and validate it, as
 * api_handle does.  Returns 0 or -1 with the error on c. */
static int decode_form(struct call *c, const char *body)
{
    struct form f = { 0 };
    char err[256];
    size_t len = strlen(body);
    if (form_parse(&f, body, len, err, sizeof(err)) < 0) {
        test_fail(__FILE__, __LINE__, "form_parse: %s", err);
        form_free(&f);
        return -2;
    }
    form_finish(&f);
    int rc = codec_for(c->svc->protocol)->decode(c, body, len, &f);
    if (rc == 0)
        rc = validate_input(c);
    form_free(&f);
    return rc;
}

/* Decode a JSON body with the JSON codec whatever the service's own
 * protocol, and validate it. */
static int decode_json(struct call *c, const char *body)
{
    int rc = codec_json.decode(c, body, strlen(body), NULL);
    if (rc == 0)
        rc = validate_input(c);
    return rc;
}

static void set_out(struct call *c, const char *text)
{
    json_error_t e;
    c->out = json_loads(text, 0, &e);
    if (!c->out)
        test_fail(__FILE__, __LINE__, "bad JSON in the test: %s", e.text);
}

/* Encode c->out with codec; the caller frees. */
static char *encode(struct call *c, const struct codec *codec)
{
    size_t len = 0;
    char *body = codec->encode(c, &len);
    if (!body)
        test_fail(__FILE__, __LINE__, "encode returned NULL");
    else if (strlen(body) != len)
        test_fail(__FILE__, __LINE__, "encode length %zu but %zu bytes", len,
                  strlen(body));
    return body;
}

static char *encode_error(struct call *c)
{
    size_t len = 0;
    char *body = codec_for(c->svc->protocol)->encode_error(c, &len);
    if (!body)
        test_fail(__FILE__, __LINE__, "encode_error returned NULL");
    else if (strlen(body) != len)
        test_fail(__FILE__, __LINE__, "encode_error length %zu but %zu bytes",
                  len, strlen(body));
    return body;
}

/* ---- ec2 protocol: decoding ---- */

TEST(proto, ec2_filters_values_and_id_lists)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    ASSERT_INT_EQ(decode_form(&c,
        "Action=DescribeVpcs&Version=2016-11-15"
        "&Filter.1.Name=tag%3AName&Filter.1.Value.1=web&Filter.1.Value.2=db"
        "&Filter.2.Name=cidr&Filter.2.Value.1=10.0.0.0%2F16"
        "&VpcId.1=vpc-1&VpcId.2=vpc-2&MaxResults=10&NextToken=abc"), 0);
    ASSERT_JSON_EQ(c.in,
        "{\"Filters\":[{\"Name\":\"tag:Name\",\"Values\":[\"web\",\"db\"]},"
        "{\"Name\":\"cidr\",\"Values\":[\"10.0.0.0/16\"]}],"
        "\"VpcIds\":[\"vpc-1\",\"vpc-2\"],\"MaxResults\":10,\"NextToken\":\"abc\"}");
    done(&c);
}

TEST(proto, ec2_list_indexes_sort_numerically)
{
    /* Filter.10 comes after Filter.9, not after Filter.1. */
    struct call c;
    char body[2048];
    NEED(&c, SVC_EC2, "DescribeVpcs");
    size_t len = (size_t)snprintf(body, sizeof(body), "Action=DescribeVpcs&Version=2016-11-15");
    for (int i = 1; i <= 11; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "&VpcId.%d=vpc-%d", i, i);
    ASSERT_INT_EQ(decode_form(&c, body), 0);
    json_t *ids = json_object_get(c.in, "VpcIds");
    ASSERT_INT_EQ(json_array_size(ids), 11);
    ASSERT_STR_EQ(json_string_value(json_array_get(ids, 1)), "vpc-2");
    ASSERT_STR_EQ(json_string_value(json_array_get(ids, 9)), "vpc-10");
    ASSERT_STR_EQ(json_string_value(json_array_get(ids, 10)), "vpc-11");
    done(&c);
}

TEST(proto, ec2_tag_specifications_nest_lists_in_lists)
{
    struct call c;
    NEED(&c, SVC_EC2, "CreateVpc");
    ASSERT_INT_EQ(decode_form(&c,
        "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16"
        "&AmazonProvidedIpv6CidrBlock=false&InstanceTenancy=default&DryRun=true"
        "&TagSpecification.1.ResourceType=vpc"
        "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=main+vpc"
        "&TagSpecification.1.Tag.2.Key=env&TagSpecification.1.Tag.2.Value="), 0);
    ASSERT_JSON_EQ(c.in,
        "{\"CidrBlock\":\"10.0.0.0/16\",\"AmazonProvidedIpv6CidrBlock\":false,"
        "\"InstanceTenancy\":\"default\",\"DryRun\":true,"
        "\"TagSpecifications\":[{\"ResourceType\":\"vpc\",\"Tags\":["
        "{\"Key\":\"Name\",\"Value\":\"main vpc\"},{\"Key\":\"env\",\"Value\":\"\"}]}]}");
    done(&c);
}

TEST(proto, ec2_unknown_parameters_create_nothing)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    ASSERT_INT_EQ(decode_form(&c, "Action=DescribeVpcs&Version=2016-11-15"
                                  "&Filters.1.Name=x&filter.1.Name=y&_private=1"), 0);
    ASSERT_JSON_EQ(c.in, "{}");
    done(&c);
}

TEST(proto, ec2_wrong_types_are_invalid_parameter_values)
{
    static const char *const bodies[] = {
        "Action=DescribeVpcs&Version=2016-11-15&MaxResults=abc",
        "Action=DescribeVpcs&Version=2016-11-15&MaxResults=10abc",
        "Action=DescribeVpcs&Version=2016-11-15&MaxResults=",
        "Action=DescribeVpcs&Version=2016-11-15&MaxResults=99999999999",
        "Action=DescribeVpcs&Version=2016-11-15&MaxResults=1.5",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct call c;
        NEED(&c, SVC_EC2, "DescribeVpcs");
        if (decode_form(&c, bodies[i]) != -1)
            FAIL("accepted: %s", bodies[i]);
        ASSERT_INT_EQ(c.status, 400);
        ASSERT_STR_EQ(c.code, "InvalidParameterValue");
        ASSERT_CONTAINS(c.message, "for parameter MaxResults is invalid. "
                                   "Expecting a value of type Integer.");
        done(&c);
    }
    struct call c;
    NEED(&c, SVC_EC2, "CreateVpc");
    ASSERT_INT_EQ(decode_form(&c, "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16"
                                  "&AmazonProvidedIpv6CidrBlock=yes"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterValue");
    ASSERT_STR_EQ(c.message, "Value (yes) for parameter AmazonProvidedIpv6CidrBlock "
                             "is invalid. Expecting a value of type Boolean.");
    done(&c);
}

TEST(proto, ec2_missing_required_parameter)
{
    struct call c;
    NEED(&c, SVC_EC2, "DeleteVpc");
    ASSERT_INT_EQ(decode_form(&c, "Action=DeleteVpc&Version=2016-11-15"), -1);
    ASSERT_INT_EQ(c.status, 400);
    ASSERT_STR_EQ(c.code, "MissingParameter");
    ASSERT_STR_EQ(c.message, "The request must contain the parameter vpcId");
    done(&c);

    NEED(&c, SVC_EC2, "DeleteVpc");
    ASSERT_INT_EQ(decode_form(&c, "Action=DeleteVpc&Version=2016-11-15&VpcId=vpc-1"), 0);
    ASSERT_JSON_EQ(c.in, "{\"VpcId\":\"vpc-1\"}");
    done(&c);
}

TEST(proto, ec2_bad_enum_values)
{
    struct call c;
    NEED(&c, SVC_EC2, "CreateVpc");
    ASSERT_INT_EQ(decode_form(&c, "Action=CreateVpc&Version=2016-11-15"
                                  "&CidrBlock=10.0.0.0%2F16&InstanceTenancy=bogus"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterValue");
    ASSERT_STR_EQ(c.message, "Value (bogus) for parameter instanceTenancy is invalid.");
    done(&c);

    NEED(&c, SVC_EC2, "CreateVpc");
    ASSERT_INT_EQ(decode_form(&c, "Action=CreateVpc&Version=2016-11-15"
                                  "&CidrBlock=10.0.0.0%2F16"
                                  "&TagSpecification.1.ResourceType=not-a-type"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterValue");
    ASSERT_CONTAINS(c.message, "Value (not-a-type) for parameter");
    done(&c);
}

TEST(proto, ec2_numeric_ranges)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    ASSERT_INT_EQ(decode_form(&c, "Action=DescribeVpcs&Version=2016-11-15&MaxResults=4"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterValue");
    ASSERT_STR_EQ(c.message, "Value ( 4 ) for parameter maxResults is invalid. "
                             "Expecting a value greater than or equal to 5.");
    done(&c);

    NEED(&c, SVC_EC2, "DescribeVpcs");
    ASSERT_INT_EQ(decode_form(&c, "Action=DescribeVpcs&Version=2016-11-15&MaxResults=1001"), -1);
    ASSERT_STR_EQ(c.message, "Value ( 1001 ) for parameter maxResults is invalid. "
                             "Expecting a value smaller than or equal to 1000.");
    done(&c);

    NEED(&c, SVC_EC2, "DescribeVpcs");
    ASSERT_INT_EQ(decode_form(&c, "Action=DescribeVpcs&Version=2016-11-15&MaxResults=5"), 0);
    done(&c);
}

/* ---- query protocol (ELBv2, STS): decoding ---- */

TEST(proto, query_member_lists)
{
    struct call c;
    NEED(&c, SVC_ELBV2, "DescribeLoadBalancers");
    ASSERT_INT_EQ(decode_form(&c,
        "Action=DescribeLoadBalancers&Version=2015-12-01"
        "&Names.member.1=alb-one&Names.member.2=alb-two&PageSize=20&Marker=m"), 0);
    ASSERT_JSON_EQ(c.in, "{\"Names\":[\"alb-one\",\"alb-two\"],\"PageSize\":20,"
                         "\"Marker\":\"m\"}");
    done(&c);

    /* "Name=" is the query protocol's explicit empty list; EC2-style
     * "Names.1" is not a list item here. */
    NEED(&c, SVC_ELBV2, "DescribeLoadBalancers");
    ASSERT_INT_EQ(decode_form(&c, "Action=DescribeLoadBalancers&Version=2015-12-01"
                                  "&Names=&LoadBalancerArns.1=arn"), 0);
    ASSERT_JSON_EQ(c.in, "{\"Names\":[]}");
    done(&c);
}

TEST(proto, query_lists_of_structures)
{
    struct call c;
    NEED(&c, SVC_ELBV2, "CreateLoadBalancer");
    ASSERT_INT_EQ(decode_form(&c,
        "Action=CreateLoadBalancer&Version=2015-12-01&Name=my-alb"
        "&Subnets.member.1=subnet-1&Subnets.member.2=subnet-2"
        "&SecurityGroups.member.1=sg-1&Scheme=internal&Type=application"
        "&Tags.member.1.Key=team&Tags.member.1.Value=a%26b"
        "&Tags.member.2.Key=solo"), 0);
    ASSERT_JSON_EQ(c.in,
        "{\"Name\":\"my-alb\",\"Subnets\":[\"subnet-1\",\"subnet-2\"],"
        "\"SecurityGroups\":[\"sg-1\"],\"Scheme\":\"internal\",\"Type\":\"application\","
        "\"Tags\":[{\"Key\":\"team\",\"Value\":\"a&b\"},{\"Key\":\"solo\"}]}");
    done(&c);

    NEED(&c, SVC_ELBV2, "CreateLoadBalancer");
    ASSERT_INT_EQ(decode_form(&c,
        "Action=CreateLoadBalancer&Version=2015-12-01&Name=nlb&Type=network"
        "&SubnetMappings.member.1.SubnetId=subnet-1"
        "&SubnetMappings.member.1.PrivateIPv4Address=10.0.1.10"), 0);
    ASSERT_JSON_EQ(c.in,
        "{\"Name\":\"nlb\",\"Type\":\"network\",\"SubnetMappings\":"
        "[{\"SubnetId\":\"subnet-1\",\"PrivateIPv4Address\":\"10.0.1.10\"}]}");
    done(&c);
}

TEST(proto, query_validation_errors_are_coral_style)
{
    struct call c;
    NEED(&c, SVC_ELBV2, "CreateLoadBalancer");
    ASSERT_INT_EQ(decode_form(&c, "Action=CreateLoadBalancer&Version=2015-12-01"
                                  "&Subnets.member.1=subnet-1"), -1);
    ASSERT_INT_EQ(c.status, 400);
    ASSERT_STR_EQ(c.code, "ValidationError");
    ASSERT_STR_EQ(c.message, "1 validation error detected: Value null at 'name' "
                             "failed to satisfy constraint: Member must not be null");
    done(&c);

    NEED(&c, SVC_ELBV2, "CreateLoadBalancer");
    ASSERT_INT_EQ(decode_form(&c, "Action=CreateLoadBalancer&Version=2015-12-01"
                                  "&Name=x&Scheme=sideways"), -1);
    ASSERT_STR_EQ(c.code, "ValidationError");
    ASSERT_CONTAINS(c.message, "1 validation error detected: Value 'sideways' at "
                               "'scheme' failed to satisfy constraint: Member must "
                               "satisfy enum value set: [");
    ASSERT_CONTAINS(c.message, "internal");
    done(&c);

    /* Several problems are all reported, counted. */
    NEED(&c, SVC_ELBV2, "CreateLoadBalancer");
    ASSERT_INT_EQ(decode_form(&c, "Action=CreateLoadBalancer&Version=2015-12-01"
                                  "&Scheme=sideways&Type=round"), -1);
    ASSERT_CONTAINS(c.message, "3 validation errors detected: ");
    ASSERT_CONTAINS(c.message, "Value null at 'name'");
    ASSERT_CONTAINS(c.message, "Value 'round' at 'type'");
    done(&c);

    NEED(&c, SVC_ELBV2, "DescribeLoadBalancers");
    ASSERT_INT_EQ(decode_form(&c, "Action=DescribeLoadBalancers&Version=2015-12-01"
                                  "&PageSize=many"), -1);
    ASSERT_STR_EQ(c.code, "ValidationError");
    ASSERT_CONTAINS(c.message, "Value 'many' at '");
    ASSERT_CONTAINS(c.message, "' failed to satisfy constraint: Member must be of "
                               "type Integer");
    done(&c);

    NEED(&c, SVC_ELBV2, "DescribeLoadBalancers");
    ASSERT_INT_EQ(decode_form(&c, "Action=DescribeLoadBalancers&Version=2015-12-01"
                                  "&PageSize=401"), -1);
    ASSERT_CONTAINS(c.message, "Value '401' at 'pageSize' failed to satisfy constraint: "
                               "Member must have value less than or equal to 400");
    done(&c);
}

TEST(proto, query_sts_without_members)
{
    struct call c;
    NEED(&c, SVC_STS, "GetCallerIdentity");
    ASSERT_INT_EQ(decode_form(&c, "Action=GetCallerIdentity&Version=2011-06-15&Extra=1"), 0);
    ASSERT_JSON_EQ(c.in, "{}");
    done(&c);
}

/* ---- json protocol: decoding ---- */

TEST(proto, json_walks_any_shape_by_member_name)
{
    /* The JSON codec uses member names, never locationNames; any real
     * input shape will do, so this runs whatever JSON areas exist. */
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    c.svc = model_service(SVC_ECS);
    ASSERT_INT_EQ(decode_json(&c,
        " {\"Filters\":[{\"Name\":\"vpc-id\",\"Values\":[\"vpc-1\",\"vpc-2\"]}],"
        "\"MaxResults\":5.0,\"NextToken\":null,\"Unknown\":{\"x\":1},"
        "\"VpcIds\":[]}\n"), 0);
    ASSERT_JSON_EQ(c.in, "{\"Filters\":[{\"Name\":\"vpc-id\",\"Values\":[\"vpc-1\","
                         "\"vpc-2\"]}],\"MaxResults\":5,\"VpcIds\":[]}");
    done(&c);
}

TEST(proto, json_empty_bodies_are_empty_input)
{
    static const char *const bodies[] = { "", "   \r\n\t", "{}" };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct call c;
        NEED(&c, SVC_EC2, "DescribeVpcs");
        c.svc = model_service(SVC_ECS);
        ASSERT_INT_EQ(decode_json(&c, bodies[i]), 0);
        ASSERT_JSON_EQ(c.in, "{}");
        done(&c);
    }
}

struct json_case {
    const char *body;
    const char *message;            /* a part of it */
};

TEST(proto, json_type_errors_are_serialization_exceptions)
{
    static const struct json_case cases[] = {
        { "{\"MaxResults\":\"5\"}", "STRING_VALUE cannot be converted to Integer" },
        { "{\"MaxResults\":5.5}", "NUMBER_VALUE cannot be converted to Integer" },
        { "{\"MaxResults\":true}", "TRUE_VALUE cannot be converted to Integer" },
        { "{\"MaxResults\":1e300}", "NUMBER_VALUE cannot be converted to Integer" },
        { "{\"NextToken\":7}", "NUMBER_VALUE cannot be converted to String" },
        { "{\"DryRun\":\"true\"}", "STRING_VALUE cannot be converted to Boolean" },
        { "{\"Filters\":{}}", "Start of structure or map found where not expected." },
        { "{\"Filters\":[[]]}", "Start of list found where not expected." },
        { "{\"Filters\":[{\"Values\":\"x\"}]}", "Expected list or null" },
        { "{\"Filters\":[\"x\"]}", "Expected structure or null" },
        { "{\"NextToken\":{}}", "Start of structure or map found where not expected." },
        { "[]", "Start of structure or map found where not expected." },
        { "\"text\"", "" },
        { "{not json", "Could not parse the request body as JSON" },
        { "{\"NextToken\":\"a\",\"NextToken\":\"b\"}", "" },
        { "{\"NextToken\":\"a\"} trailing", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct call c;
        NEED(&c, SVC_EC2, "DescribeVpcs");
        c.svc = model_service(SVC_ECS);
        if (decode_json(&c, cases[i].body) != -1)
            FAIL("accepted: %s", cases[i].body);
        ASSERT_INT_EQ(c.status, 400);
        ASSERT_STR_EQ(c.code, "SerializationException");
        ASSERT_CONTAINS(c.message, cases[i].message);
        done(&c);
    }
}

TEST(proto, json_validation_errors_use_the_service_code)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    c.svc = model_service(SVC_ECS);
    ASSERT_INT_EQ(decode_json(&c, "{\"MaxResults\":1}"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterException");
    ASSERT_STR_EQ(c.message, "1 validation error detected: Value '1' at 'maxResults' "
                             "failed to satisfy constraint: Member must have value "
                             "greater than or equal to 5");
    done(&c);

    NEED(&c, SVC_EC2, "DeleteVpc");
    c.svc = model_service(SVC_SD);
    ASSERT_INT_EQ(decode_json(&c, "{}"), -1);
    ASSERT_STR_EQ(c.code, "InvalidInput");
    ASSERT_CONTAINS(c.message, "Value null at 'vpcId' failed to satisfy constraint: "
                               "Member must not be null");
    done(&c);
}

TEST(proto, json_logs_maps_and_required_members)
{
    struct call c;
    NEED(&c, SVC_LOGS, "CreateLogGroup");
    ASSERT_INT_EQ(decode_json(&c, "{\"logGroupName\":\"/ecs/web\",\"logGroupClass\":"
                                  "\"STANDARD\",\"tags\":{\"team\":\"a\",\"env\":\"\"}}"),
                  0);
    ASSERT_JSON_EQ(c.in, "{\"logGroupName\":\"/ecs/web\",\"logGroupClass\":\"STANDARD\","
                         "\"tags\":{\"team\":\"a\",\"env\":\"\"}}");
    done(&c);

    NEED(&c, SVC_LOGS, "CreateLogGroup");
    ASSERT_INT_EQ(decode_json(&c, "{\"tags\":{\"team\":7}}"), -1);
    ASSERT_STR_EQ(c.code, "SerializationException");
    done(&c);

    NEED(&c, SVC_LOGS, "CreateLogGroup");
    ASSERT_INT_EQ(decode_json(&c, "{\"logGroupClass\":\"CHEAP\"}"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterException");
    ASSERT_CONTAINS(c.message, "2 validation errors detected: ");
    ASSERT_CONTAINS(c.message, "Value 'CHEAP' at 'logGroupClass' failed to satisfy "
                               "constraint: Member must satisfy enum value set: [");
    ASSERT_CONTAINS(c.message, "Value null at 'logGroupName' failed to satisfy "
                               "constraint: Member must not be null");
    done(&c);

    NEED(&c, SVC_LOGS, "CreateLogGroup");
    ASSERT_INT_EQ(decode_json(&c, "{\"logGroupName\":\"\"}"), -1);
    ASSERT_CONTAINS(c.message, "Value '' at 'logGroupName' failed to satisfy constraint: "
                               "Member must have length greater than or equal to 1");
    done(&c);
}

TEST(proto, json_map_length_is_validated)
{
    /* Logs' Tags map is 1..50 entries, like a list's bounds. */
    struct call c;
    NEED(&c, SVC_LOGS, "CreateLogGroup");
    ASSERT_INT_EQ(decode_json(&c, "{\"logGroupName\":\"g\",\"tags\":{}}"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterException");
    ASSERT_CONTAINS(c.message, "at 'tags' failed to satisfy constraint: Member must "
                               "have length greater than or equal to 1");
    done(&c);
}

TEST(proto, json_lists_of_structures_report_member_paths)
{
    struct call c;
    NEED(&c, SVC_LOGS, "PutLogEvents");
    ASSERT_INT_EQ(decode_json(&c, "{\"logGroupName\":\"g\",\"logStreamName\":\"s\","
                                  "\"logEvents\":[{\"timestamp\":1700000000000,"
                                  "\"message\":\"hello\"},{\"timestamp\":1,"
                                  "\"message\":\"x\"}]}"), 0);
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_array_get(
        json_object_get(c.in, "logEvents"), 0), "timestamp")), 1700000000000LL);
    done(&c);

    NEED(&c, SVC_LOGS, "PutLogEvents");
    ASSERT_INT_EQ(decode_json(&c, "{\"logGroupName\":\"g\",\"logStreamName\":\"s\","
                                  "\"logEvents\":[{\"timestamp\":1}]}"), -1);
    ASSERT_CONTAINS(c.message, "Value null at 'logEvents.1.member.message' failed to "
                               "satisfy constraint: Member must not be null");
    done(&c);

    NEED(&c, SVC_LOGS, "PutLogEvents");
    ASSERT_INT_EQ(decode_json(&c, "{\"logGroupName\":\"g\",\"logStreamName\":\"s\","
                                  "\"logEvents\":[]}"), -1);
    ASSERT_CONTAINS(c.message, "at 'logEvents' failed to satisfy constraint: Member "
                               "must have length greater than or equal to 1");
    done(&c);
}

TEST(proto, json_ecs_nested_structures)
{
    struct call c;
    NEED(&c, SVC_ECS, "RunTask");
    ASSERT_INT_EQ(decode_json(&c,
        "{\"cluster\":\"default\",\"taskDefinition\":\"web:1\",\"count\":2,"
        "\"launchType\":\"FARGATE\",\"networkConfiguration\":{\"awsvpcConfiguration\":"
        "{\"subnets\":[\"subnet-1\"],\"securityGroups\":[\"sg-1\"],"
        "\"assignPublicIp\":\"DISABLED\"}},\"overrides\":{\"containerOverrides\":"
        "[{\"name\":\"app\",\"environment\":[{\"name\":\"A\",\"value\":\"1\"}]}]}}"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(json_object_get(
        c.in, "networkConfiguration"), "awsvpcConfiguration"), "assignPublicIp")),
        "DISABLED");
    done(&c);

    NEED(&c, SVC_ECS, "RunTask");
    ASSERT_INT_EQ(decode_json(&c, "{\"taskDefinition\":\"web:1\",\"networkConfiguration\":"
                                  "{\"awsvpcConfiguration\":{}}}"), -1);
    ASSERT_STR_EQ(c.code, "InvalidParameterException");
    ASSERT_CONTAINS(c.message, "Value null at 'networkConfiguration.awsvpcConfiguration."
                               "subnets' failed to satisfy constraint: Member must not "
                               "be null");
    done(&c);

    NEED(&c, SVC_ECS, "RunTask");
    ASSERT_INT_EQ(decode_json(&c, "{\"taskDefinition\":\"t\",\"launchType\":\"BOAT\"}"), -1);
    ASSERT_CONTAINS(c.message, "Value 'BOAT' at 'launchType' failed to satisfy "
                               "constraint: Member must satisfy enum value set: [");
    done(&c);
}

/* ---- encoding ---- */

TEST(proto, ec2_encodes_item_lists_booleans_and_escapes)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    set_out(&c, "{\"NextToken\":\"tok\",\"Vpcs\":[{\"VpcId\":\"vpc-1\","
                "\"CidrBlock\":\"10.0.0.0/16\",\"IsDefault\":true,\"State\":\"available\","
                "\"Tags\":[{\"Key\":\"Name\",\"Value\":\"a<b&c\\\"d'e>\"}],"
                "\"_private\":\"never sent\",\"NotInModel\":\"x\"},"
                "{\"VpcId\":\"vpc-2\",\"IsDefault\":false,\"Tags\":[]}]}");
    char *xml = encode(&c, &codec_ec2);
    ASSERT_STR_EQ(xml, XML_HEAD
        "<DescribeVpcsResponse xmlns=\"" EC2_NS "\"><requestId>" REQ_ID "</requestId>"
        "<nextToken>tok</nextToken><vpcSet>"
        "<item><cidrBlock>10.0.0.0/16</cidrBlock><isDefault>true</isDefault>"
        "<state>available</state><tagSet><item><key>Name</key>"
        "<value>a&lt;b&amp;c&quot;d&apos;e&gt;</value></item></tagSet>"
        "<vpcId>vpc-1</vpcId></item>"
        "<item><isDefault>false</isDefault><tagSet></tagSet><vpcId>vpc-2</vpcId></item>"
        "</vpcSet></DescribeVpcsResponse>");
    free(xml);
    done(&c);
}

TEST(proto, ec2_encodes_integers_and_drops_wrong_types)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeSubnets");
    set_out(&c, "{\"Subnets\":[{\"SubnetId\":\"subnet-1\",\"AvailableIpAddressCount\":251.0,"
                "\"DefaultForAz\":false,\"MapPublicIpOnLaunch\":\"yes\","
                "\"VpcId\":42}]}");
    char *xml = encode(&c, &codec_ec2);
    ASSERT_STR_EQ(xml, XML_HEAD
        "<DescribeSubnetsResponse xmlns=\"" EC2_NS "\"><requestId>" REQ_ID "</requestId>"
        "<subnetSet><item><availableIpAddressCount>251</availableIpAddressCount>"
        "<defaultForAz>false</defaultForAz><subnetId>subnet-1</subnetId></item>"
        "</subnetSet></DescribeSubnetsResponse>");
    free(xml);
    done(&c);
}

TEST(proto, ec2_void_operations_return_true)
{
    struct call c;
    NEED(&c, SVC_EC2, "DeleteVpc");
    char *xml = encode(&c, &codec_ec2);
    ASSERT_STR_EQ(xml, XML_HEAD "<DeleteVpcResponse xmlns=\"" EC2_NS "\"><requestId>"
                  REQ_ID "</requestId><return>true</return></DeleteVpcResponse>");
    free(xml);
    done(&c);
}

TEST(proto, xml_drops_control_characters)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    set_out(&c, "{\"NextToken\":\"a\\u0001b\\tc\\nd\\re\\u001ff\"}");
    char *xml = encode(&c, &codec_ec2);
    ASSERT_CONTAINS(xml, "<nextToken>ab\tc\nd&#13;ef</nextToken>");
    free(xml);
    done(&c);
}

TEST(proto, query_encodes_result_wrapper_and_metadata)
{
    struct call c;
    NEED(&c, SVC_STS, "GetCallerIdentity");
    set_out(&c, "{\"UserId\":\"AID<&>\",\"Account\":\"123456789012\","
                "\"Arn\":\"arn:aws:iam::123456789012:root\"}");
    char *xml = encode(&c, &codec_query);
    ASSERT_STR_EQ(xml, XML_HEAD
        "<GetCallerIdentityResponse xmlns=\"" STS_NS "\"><GetCallerIdentityResult>"
        "<Account>123456789012</Account><Arn>arn:aws:iam::123456789012:root</Arn>"
        "<UserId>AID&lt;&amp;&gt;</UserId></GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>" REQ_ID "</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>");
    free(xml);
    done(&c);
}

TEST(proto, query_encodes_member_lists_and_timestamps)
{
    struct call c;
    NEED(&c, SVC_ELBV2, "DescribeLoadBalancers");
    set_out(&c, "{\"LoadBalancers\":[{\"LoadBalancerName\":\"alb\","
                "\"CreatedTime\":1700000000.5,\"SecurityGroups\":[\"sg-1\",\"sg-2\"],"
                "\"AvailabilityZones\":[{\"ZoneName\":\"us-east-1a\",\"SubnetId\":\"subnet-1\"}],"
                "\"State\":{\"Code\":\"active\"},\"_vpc\":\"x\"}]}");
    char *xml = encode(&c, &codec_query);
    ASSERT_STR_EQ(xml, XML_HEAD
        "<DescribeLoadBalancersResponse xmlns=\"" ELB_NS "\"><DescribeLoadBalancersResult>"
        "<LoadBalancers><member><AvailabilityZones><member><SubnetId>subnet-1</SubnetId>"
        "<ZoneName>us-east-1a</ZoneName></member></AvailabilityZones>"
        "<CreatedTime>2023-11-14T22:13:20.500Z</CreatedTime>"
        "<LoadBalancerName>alb</LoadBalancerName>"
        "<SecurityGroups><member>sg-1</member><member>sg-2</member></SecurityGroups>"
        "<State><Code>active</Code></State></member></LoadBalancers>"
        "</DescribeLoadBalancersResult><ResponseMetadata><RequestId>" REQ_ID
        "</RequestId></ResponseMetadata></DescribeLoadBalancersResponse>");
    free(xml);
    done(&c);
}

TEST(proto, json_encodes_only_model_members)
{
    struct call c;
    NEED(&c, SVC_LOGS, "DescribeLogGroups");
    set_out(&c, "{\"logGroups\":[{\"logGroupName\":\"/a\",\"creationTime\":1700000000123.0,"
                "\"storedBytes\":0,\"retentionInDays\":\"7\",\"_owner\":\"x\","
                "\"arn\":\"arn:aws:logs:us-east-1:000000000000:log-group:/a:*\"}],"
                "\"nextToken\":null,\"extra\":1}");
    char *body = encode(&c, &codec_json);
    json_t *got = body ? json_loads(body, 0, NULL) : NULL;
    ASSERT_JSON_EQ(got, "{\"logGroups\":[{\"logGroupName\":\"/a\","
                        "\"creationTime\":1700000000123,\"storedBytes\":0,"
                        "\"arn\":\"arn:aws:logs:us-east-1:000000000000:log-group:/a:*\"}]}");
    json_decref(got);
    free(body);
    done(&c);

    /* No output at all is "{}". */
    NEED(&c, SVC_LOGS, "CreateLogGroup");
    body = encode(&c, &codec_json);
    ASSERT_STR_EQ(body, "{}");
    free(body);
    done(&c);
}

TEST(proto, json_encodes_timestamps_as_epoch_seconds)
{
    struct call c;
    NEED(&c, SVC_ECS, "DescribeServices");
    set_out(&c, "{\"services\":[{\"serviceName\":\"web\",\"createdAt\":1700000000.0,"
                "\"desiredCount\":2.0,\"enableExecuteCommand\":false},"
                "{\"serviceName\":\"db\",\"createdAt\":1700000000.1234}]}");
    char *body = encode(&c, &codec_json);
    ASSERT_CONTAINS(body, "\"createdAt\":1700000000,");
    ASSERT_CONTAINS(body, "\"createdAt\":1700000000.123,");
    json_t *got = body ? json_loads(body, 0, NULL) : NULL;
    ASSERT_JSON_EQ(json_object_get(got, "services"),
                   "[{\"serviceName\":\"web\",\"createdAt\":1700000000,\"desiredCount\":2,"
                   "\"enableExecuteCommand\":false},"
                   "{\"serviceName\":\"db\",\"createdAt\":1700000000.123}]");
    json_decref(got);
    free(body);
    done(&c);
}

/* ---- timestamps ---- */

TEST(proto, iso8601_formatting)
{
    char text[40];
    time_iso8601(0, text, sizeof(text));
    ASSERT_STR_EQ(text, "1970-01-01T00:00:00.000Z");
    time_iso8601(1700000000.5, text, sizeof(text));
    ASSERT_STR_EQ(text, "2023-11-14T22:13:20.500Z");
    time_iso8601(1700000000.9996, text, sizeof(text));
    ASSERT_STR_EQ(text, "2023-11-14T22:13:21.000Z");
    time_iso8601(951782400, text, sizeof(text));       /* a leap day */
    ASSERT_STR_EQ(text, "2000-02-29T00:00:00.000Z");
}

TEST(proto, timestamp_parsing)
{
    double t = -1;
    ASSERT_INT_EQ(time_parse("2023-11-14T22:13:20.500Z", &t), 0);
    ASSERT(t == 1700000000.5);
    ASSERT_INT_EQ(time_parse("2023-11-14T22:13:20Z", &t), 0);
    ASSERT(t == 1700000000.0);
    ASSERT_INT_EQ(time_parse("2023-11-14T23:13:20+01:00", &t), 0);
    ASSERT(t == 1700000000.0);
    ASSERT_INT_EQ(time_parse("2023-11-14T21:43:20-00:30", &t), 0);
    ASSERT(t == 1700000000.0);
    ASSERT_INT_EQ(time_parse("1700000000.25", &t), 0);
    ASSERT(t == 1700000000.25);
    ASSERT_INT_EQ(time_parse("", &t), -1);
    ASSERT_INT_EQ(time_parse("yesterday", &t), -1);
    ASSERT_INT_EQ(time_parse("2023-11-14", &t), -1);
    ASSERT_INT_EQ(time_parse("2023-11-14T22:13:20Zjunk", &t), -1);
    ASSERT_INT_EQ(time_parse("2023-11-14T22:13:20+0100", &t), -1);
    ASSERT_INT_EQ(time_parse("inf", &t), -1);
    ASSERT_INT_EQ(time_parse("nan", &t), -1);
}

TEST(proto, timestamp_short_offsets_are_rejected_within_the_string)
{
    /* "+1:2" is five bytes short of "+01:00"; the parser must not step
     * past the end of the text (the copy is exactly sized so AddressSanitizer
     * sees any read beyond it). */
    static const char *const bad[] = {
        "2023-11-14T22:13:20+1:2", "2023-11-14T22:13:20+01:0", "2023-11-14T22:13:20-1:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]) + 1;
        char *exact = malloc(n);
        ASSERT(exact);
        memcpy(exact, bad[i], n);
        double t;
        int rc = time_parse(exact, &t);
        free(exact);
        if (rc != -1)
            FAIL("time_parse accepted \"%s\"", bad[i]);
    }
}

/* ---- the three error envelopes ---- */

TEST(proto, ec2_error_envelope)
{
    struct call c;
    NEED(&c, SVC_EC2, "DescribeVpcs");
    ASSERT_INT_EQ(call_error(&c, "InvalidVpcID.NotFound",
                             "The vpc ID '%s' does not exist", "vpc-<x>"), -1);
    ASSERT_INT_EQ(c.status, 400);
    char *xml = encode_error(&c);
    ASSERT_STR_EQ(xml, XML_HEAD "<Response><Errors><Error><Code>InvalidVpcID.NotFound"
                  "</Code><Message>The vpc ID &apos;vpc-&lt;x&gt;&apos; does not exist"
                  "</Message></Error></Errors><RequestID>" REQ_ID "</RequestID></Response>");
    free(xml);
    done(&c);
}

TEST(proto, query_error_envelope)
{
    struct call c;
    NEED(&c, SVC_STS, "GetCallerIdentity");
    call_error_status(&c, 403, "InvalidClientTokenId",
                      "The security token included in the request is invalid");
    char *xml = encode_error(&c);
    ASSERT_STR_EQ(xml, XML_HEAD "<ErrorResponse xmlns=\"" STS_NS "\"><Error>"
                  "<Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The "
                  "security token included in the request is invalid</Message></Error>"
                  "<RequestId>" REQ_ID "</RequestId></ErrorResponse>");
    free(xml);
    done(&c);

    /* Internal failures are the receiver's fault. */
    NEED(&c, SVC_STS, "GetCallerIdentity");
    call_error_status(&c, 500, "InternalFailure", "boom");
    xml = encode_error(&c);
    ASSERT_CONTAINS(xml, "<Type>Receiver</Type><Code>InternalFailure</Code>");
    free(xml);
    done(&c);
}

TEST(proto, query_error_codes_come_from_the_model)
{
    /* Handlers raise the exception shape name; the wire carries the
     * model's code and HTTP status. */
    struct call c;
    memset(&c, 0, sizeof(c));
    c.svc = model_service(SVC_ELBV2);
    snprintf(c.request_id, sizeof(c.request_id), "%s", REQ_ID);
    const struct error_def *e = model_error(SVC_ELBV2, "LoadBalancerNotFoundException");
    ASSERT(e);
    call_error(&c, "LoadBalancerNotFoundException", "One or more load balancers not found");
    ASSERT_INT_EQ(c.status, e->http_status);
    char *xml = encode_error(&c);
    ASSERT_STR_EQ(xml, XML_HEAD "<ErrorResponse xmlns=\"" ELB_NS "\"><Error>"
                  "<Type>Sender</Type><Code>LoadBalancerNotFound</Code><Message>One or "
                  "more load balancers not found</Message></Error><RequestId>" REQ_ID
                  "</RequestId></ErrorResponse>");
    free(xml);
}

TEST(proto, json_error_envelope)
{
    struct call c;
    memset(&c, 0, sizeof(c));
    c.svc = model_service(SVC_ECS);
    snprintf(c.request_id, sizeof(c.request_id), "%s", REQ_ID);
    call_error(&c, "ClusterNotFoundException", "Cluster \"x\" not found.");
    ASSERT_INT_EQ(c.status, 400);
    char *body = encode_error(&c);
    json_t *got = body ? json_loads(body, 0, NULL) : NULL;
    ASSERT_JSON_EQ(got, "{\"__type\":\"ClusterNotFoundException\","
                        "\"message\":\"Cluster \\\"x\\\" not found.\"}");
    json_decref(got);
    free(body);

    /* A server fault takes its status from the model. */
    memset(&c, 0, sizeof(c));
    c.svc = model_service(SVC_ECS);
    call_error(&c, "ServerException", "oops");
    ASSERT_INT_EQ(c.status, 500);

    /* No message, no "message" member. */
    memset(&c, 0, sizeof(c));
    c.svc = model_service(SVC_ECS);
    call_error_status(&c, 400, "UnknownOperationException", "%s", "");
    body = encode_error(&c);
    ASSERT_STR_EQ(body, "{\"__type\":\"UnknownOperationException\"}");
    free(body);
}

/* Whether s is well-formed UTF-8 (what every XML and JSON parser wants). */
static int utf8_valid(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        int len = *s < 0x80 ? 1 : (*s & 0xe0) == 0xc0 ? 2 : (*s & 0xf0) == 0xe0 ? 3 :
                  (*s & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || (len == 2 && *s < 0xc2))
            return 0;
        for (int k = 1; k < len; k++)
            if ((s[k] & 0xc0) != 0x80)
                return 0;
        s += len;
    }
    return 1;
}

TEST(proto, error_envelopes_are_utf8_whatever_the_message)
{
    /* Messages quote client input (an unknown Action, a bad id); bytes
     * that are not UTF-8 must not make the document unparseable. */
    static const enum service_id svcs[] = { SVC_EC2, SVC_STS, SVC_ECS };
    for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
        struct call c;
        memset(&c, 0, sizeof(c));
        c.svc = model_service(svcs[i]);
        snprintf(c.request_id, sizeof(c.request_id), "%s", REQ_ID);
        call_error(&c, "InvalidAction", "The action %s is not valid for this web service.",
                   "\xff\xfe\xc3");
        char *body = encode_error(&c);
        if (body && !utf8_valid(body))
            FAIL("%s error envelope is not UTF-8: %s", c.svc->key, body);
        free(body);
    }
}

TEST(proto, content_types)
{
    ASSERT_STR_EQ(codec_json.content_type, "application/x-amz-json-1.1");
    ASSERT_STR_EQ(codec_query.content_type, "text/xml");
    ASSERT_CONTAINS(codec_ec2.content_type, "text/xml");
    ASSERT(codec_for(PROTO_JSON) == &codec_json);
    ASSERT(codec_for(PROTO_QUERY) == &codec_query);
    ASSERT(codec_for(PROTO_EC2) == &codec_ec2);
}
