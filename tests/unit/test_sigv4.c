/*
 * Unit tests of SigV4 (api/sigv4.c): parsing the Authorization header and
 * verifying signatures against requests botocore signed.
 *
 * The fixtures were signed offline by Debian's botocore with its clock
 * pinned (tests/unit/gen_sigv4_fixtures.py prints them); the last one is
 * the "get-vanilla" case of AWS's published SigV4 test suite.
 */
#include <string.h>

#include "../../api/sigv4.h"
#include "test.h"

#define MAX_FIXTURE_HEADERS 8

struct fixture {
    const char *method, *path, *query, *body;
    struct api_header headers[MAX_FIXTURE_HEADERS];
    const char *secret;
};

static const struct fixture ec2_post = {
    "POST", "/", "",
    "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=cidr"
    "&Filter.1.Value.1=10.0.0.0%2F16",
    {
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
        { "Host", "127.0.0.1:4566" },
        { "X-Amz-Date", "20240102T030405Z" },
        { "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/"
          "us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
          "Signature=43db67c6e66afc2222bc61cb0c4207c9988370025ad1bcb2439d6e0549a6ac09" },
    },
    "secret",
};

static const struct fixture sts_get_query = {
    "GET", "/",
    "Version=2011-06-15&Action=GetCallerIdentity&Zeta=a+b%2Fc&Alpha=x~y%2Az",
    "",
    {
        { "Host", "localhost:4566" },
        { "X-Amz-Date", "20240102T030405Z" },
        { "Authorization", "AWS4-HMAC-SHA256 Credential=123456789012/20240102/"
          "eu-west-1/sts/aws4_request, SignedHeaders=host;x-amz-date, "
          "Signature=5f6d0daa8b297d522ffe191403079d9f5891aa7c736cc37b080597bdff81ecad" },
    },
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

static const struct fixture ecs_json = {
    "POST", "/", NULL, "{\"maxResults\": 10}",
    {
        { "Content-Type", "application/x-amz-json-1.1" },
        { "X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters" },
        { "X-Custom", "  spaced    out  value " },
        { "Host", "127.0.0.1:4566" },
        { "X-Amz-Date", "20240102T030405Z" },
        { "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/"
          "us-west-2/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
          "x-amz-target;x-custom, "
          "Signature=9713534277d90a7c22bd03cdd269155e6336e03eb62492a3481854019ef45c63" },
    },
    "secret",
};

static const struct fixture aws_get_vanilla = {
    "GET", "/", NULL, "",
    {
        { "Host", "example.amazonaws.com" },
        { "X-Amz-Date", "20150830T123600Z" },
        { "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
          "us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
          "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    },
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

static size_t nheaders(const struct fixture *f)
{
    size_t n = 0;
    while (n < MAX_FIXTURE_HEADERS && f->headers[n].name)
        n++;
    return n;
}

static const char *authorization(const struct fixture *f)
{
    for (size_t i = 0; i < nheaders(f); i++)
        if (strcmp(f->headers[i].name, "Authorization") == 0)
            return f->headers[i].value;
    return NULL;
}

static struct sigv4_request request_of(const struct fixture *f)
{
    struct sigv4_request rq = {
        f->method, f->path, f->query, f->headers, nheaders(f), f->body,
        strlen(f->body),
    };
    return rq;
}

/* Parse and verify a fixture as it is, or with secret instead of its own. */
static int verify(const struct fixture *f, const char *secret)
{
    struct sigv4_auth a;
    char why[512];
    int rc = sigv4_parse(authorization(f), &a, why, sizeof(why));
    if (rc != SIGV4_OK) {
        test_fail(__FILE__, __LINE__, "fixture does not parse: %s", why);
        return -100;
    }
    struct sigv4_request rq = request_of(f);
    return sigv4_verify(&rq, &a, secret ? secret : f->secret);
}

TEST(sigv4, parse_reads_the_credential_scope)
{
    struct sigv4_auth a;
    char why[512] = "";
    ASSERT_INT_EQ(sigv4_parse(authorization(&ecs_json), &a, why, sizeof(why)), SIGV4_OK);
    ASSERT_INT_EQ(a.present, 1);
    ASSERT_STR_EQ(a.access_key, "AKIDEXAMPLE");
    ASSERT_STR_EQ(a.date, "20240102");
    ASSERT_STR_EQ(a.region, "us-west-2");
    ASSERT_STR_EQ(a.service, "ecs");
    ASSERT_STR_EQ(a.signed_headers, "content-type;host;x-amz-date;x-amz-target;x-custom");
    ASSERT_STR_EQ(a.signature,
                  "9713534277d90a7c22bd03cdd269155e6336e03eb62492a3481854019ef45c63");
}

TEST(sigv4, parse_accepts_any_parameter_order_and_spacing)
{
    struct sigv4_auth a;
    char why[512] = "";
    ASSERT_INT_EQ(sigv4_parse("AWS4-HMAC-SHA256 Signature=abc,SignedHeaders=host,"
                              "Credential=123456789012/20240102/eu-central-1/sts/"
                              "aws4_request", &a, why, sizeof(why)), SIGV4_OK);
    ASSERT_STR_EQ(a.access_key, "123456789012");
    ASSERT_STR_EQ(a.region, "eu-central-1");
    ASSERT_STR_EQ(a.service, "sts");
    ASSERT_STR_EQ(a.signature, "abc");
    ASSERT_STR_EQ(a.signed_headers, "host");
}

TEST(sigv4, parse_missing_header)
{
    struct sigv4_auth a;
    char why[512] = "";
    ASSERT_INT_EQ(sigv4_parse(NULL, &a, why, sizeof(why)), SIGV4_MISSING);
    ASSERT_INT_EQ(a.present, 0);
    ASSERT_INT_EQ(sigv4_parse("", &a, why, sizeof(why)), SIGV4_MISSING);
    ASSERT_INT_EQ(a.present, 0);
}

TEST(sigv4, parse_incomplete_headers_say_what_is_missing)
{
    struct sigv4_auth a;
    char why[512] = "";
    ASSERT_INT_EQ(sigv4_parse("Bearer token", &a, why, sizeof(why)), SIGV4_INCOMPLETE);
    ASSERT_INT_EQ(a.present, 1);
    ASSERT_CONTAINS(why, "Authorization header requires 'Credential' parameter.");

    ASSERT_INT_EQ(sigv4_parse("AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/"
                              "ec2/aws4_request", &a, why, sizeof(why)),
                  SIGV4_INCOMPLETE);
    ASSERT_NOT_CONTAINS(why, "'Credential'");
    ASSERT_CONTAINS(why, "Authorization header requires 'Signature' parameter.");
    ASSERT_CONTAINS(why, "Authorization header requires 'SignedHeaders' parameter.");

    /* "AWS4-HMAC-SHA256" glued to its parameters is not SigV4. */
    ASSERT_INT_EQ(sigv4_parse("AWS4-HMAC-SHA256Credential=x", &a, why, sizeof(why)),
                  SIGV4_INCOMPLETE);
}

TEST(sigv4, parse_rejects_bad_credential_scopes)
{
    static const char *const bad[] = {
        "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/ec2, SignedHeaders=host, Signature=a",
        "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/ec2/aws4_requestX, SignedHeaders=host, Signature=a",
        "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature=a",
        "AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=a",
        "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=host, Signature=a",
        "AWS4-HMAC-SHA256 Credential=AKID/202401020000000000/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=a",
        "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1-but-much-much-much-longer-than-any-region/ec2/aws4_request, SignedHeaders=host, Signature=a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sigv4_auth a;
        char why[512] = "";
        if (sigv4_parse(bad[i], &a, why, sizeof(why)) != SIGV4_INCOMPLETE)
            FAIL("accepted: %s", bad[i]);
        ASSERT(why[0]);
    }
}

TEST(sigv4, parse_bounds_long_values)
{
    /* Values longer than their fields are refused, never overflowed. */
    char header[4096];
    char sig[600];
    memset(sig, 'a', sizeof(sig) - 1);
    sig[sizeof(sig) - 1] = '\0';
    snprintf(header, sizeof(header), "AWS4-HMAC-SHA256 Credential=AKID/20240102/"
             "us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=%s", sig);
    struct sigv4_auth a;
    char why[512] = "";
    ASSERT_INT_EQ(sigv4_parse(header, &a, why, sizeof(why)), SIGV4_INCOMPLETE);

    char akid[300];
    memset(akid, 'K', sizeof(akid) - 1);
    akid[sizeof(akid) - 1] = '\0';
    snprintf(header, sizeof(header), "AWS4-HMAC-SHA256 Credential=%s/20240102/"
             "us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=abc", akid);
    ASSERT_INT_EQ(sigv4_parse(header, &a, why, sizeof(why)), SIGV4_INCOMPLETE);
}

TEST(sigv4, verifies_botocore_ec2_form_post)
{
    ASSERT_INT_EQ(verify(&ec2_post, NULL), SIGV4_OK);
}

TEST(sigv4, verifies_botocore_query_string_get)
{
    /* Sorted, decoded and re-encoded query ('+' is a space, '*' and '/'
     * percent-encoded, '~' not). */
    ASSERT_INT_EQ(verify(&sts_get_query, NULL), SIGV4_OK);
}

TEST(sigv4, verifies_botocore_json_with_extra_signed_headers)
{
    /* Header values are trimmed and inner runs of spaces collapsed. */
    ASSERT_INT_EQ(verify(&ecs_json, NULL), SIGV4_OK);
}

TEST(sigv4, verifies_aws_test_suite_get_vanilla)
{
    ASSERT_INT_EQ(verify(&aws_get_vanilla, NULL), SIGV4_OK);
}

TEST(sigv4, wrong_secret_is_a_mismatch)
{
    ASSERT_INT_EQ(verify(&ec2_post, "not-the-secret"), SIGV4_MISMATCH);
    ASSERT_INT_EQ(verify(&sts_get_query, "secret"), SIGV4_MISMATCH);
    ASSERT_INT_EQ(verify(&ecs_json, ""), SIGV4_MISMATCH);
}

TEST(sigv4, tampering_is_a_mismatch)
{
    struct fixture f = ec2_post;
    f.body = "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=cidr"
             "&Filter.1.Value.1=10.0.0.0%2F17";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_MISMATCH);

    f = ec2_post;
    f.headers[1].value = "127.0.0.1:4567";          /* Host */
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_MISMATCH);

    f = ec2_post;
    f.headers[2].value = "20240102T030406Z";        /* X-Amz-Date */
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_MISMATCH);

    f = ec2_post;
    f.method = "PUT";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_MISMATCH);

    f = ec2_post;
    f.path = "/other";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_MISMATCH);

    f = sts_get_query;
    f.query = "Version=2011-06-15&Action=GetCallerIdentity&Zeta=a+b%2Fc&Alpha=x~y%2Ay";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_MISMATCH);

    f = ecs_json;
    f.headers[1].value = "AmazonEC2ContainerServiceV20141113.DeleteCluster";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_MISMATCH);
}

TEST(sigv4, unsigned_headers_may_change)
{
    struct fixture f = ec2_post;
    f.headers[4].name = "User-Agent";
    f.headers[4].value = "something/else";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_OK);
}

TEST(sigv4, header_names_match_case_insensitively)
{
    struct fixture f = ec2_post;
    f.headers[0].name = "content-type";
    f.headers[1].name = "HOST";
    f.headers[2].name = "x-amz-date";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_OK);
}

TEST(sigv4, query_order_does_not_matter)
{
    struct fixture f = sts_get_query;
    f.query = "Alpha=x~y%2Az&Zeta=a%20b%2fc&Action=GetCallerIdentity&Version=2011-06-15";
    ASSERT_INT_EQ(verify(&f, NULL), SIGV4_OK);
}

TEST(sigv4, signature_of_wrong_length_is_a_mismatch)
{
    struct sigv4_auth a;
    char why[512];
    ASSERT_INT_EQ(sigv4_parse(authorization(&ec2_post), &a, why, sizeof(why)), SIGV4_OK);
    a.signature[63] = '\0';
    struct sigv4_request rq = request_of(&ec2_post);
    ASSERT_INT_EQ(sigv4_verify(&rq, &a, ec2_post.secret), SIGV4_MISMATCH);
    a.signature[0] = '\0';
    ASSERT_INT_EQ(sigv4_verify(&rq, &a, ec2_post.secret), SIGV4_MISMATCH);
}

TEST(sigv4, sha256_hex)
{
    char out[65];
    sigv4_sha256_hex("", 0, out);
    ASSERT_STR_EQ(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sigv4_sha256_hex("abc", 3, out);
    ASSERT_STR_EQ(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
