/*
 * Unit tests of the security-group table as text (server/sgfilter.c,
 * sgfilter_render): one chain pair per combination of groups, member sets
 * of the groups that rules refer to, and maps from each address to its
 * ENI's chains.  No kernel involved.
 */
#include <stdlib.h>
#include <string.h>

#include "../../server/sgfilter.h"
#include "test.h"

/* An ENI of vpc-1 in account 1/us-east-1 with one address and groups. */
static json_t *eni(const char *id, const char *ip, const char *groups_json)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"_account\": \"1\", \"_region\": \"us-east-1\", \"VpcId\": \"vpc-1\", "
             "\"NetworkInterfaceId\": \"%s\", \"PrivateIpAddresses\": "
             "[{\"PrivateIpAddress\": \"%s\"}], \"Groups\": %s}",
             id, ip, groups_json);
    return test_json(text);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

TEST(sgfilter, one_chain_pair_per_combination_of_groups)
{
    json_t *vpc = test_json("{\"_account\": \"1\", \"_region\": \"us-east-1\", \"VpcId\": \"vpc-1\"}");
    json_t *enis = json_array();
    /* Two tasks of a service (group a), one with a and b, in another
     * order than sorted. */
    json_array_append_new(enis, eni("eni-01", "10.0.1.5", "[{\"GroupId\": \"sg-0a\"}]"));
    json_array_append_new(enis, eni("eni-02", "10.0.1.6", "[{\"GroupId\": \"sg-0a\"}]"));
    json_array_append_new(enis, eni("eni-03", "10.0.1.7",
                                    "[{\"GroupId\": \"sg-0b\"}, {\"GroupId\": \"sg-0a\"}]"));
    json_t *rules = test_json("[{\"_account\": \"1\", \"_region\": \"us-east-1\", "
                        "\"GroupId\": \"sg-0a\", \"IsEgress\": false, \"IpProtocol\": \"tcp\", "
                        "\"FromPort\": 80, \"ToPort\": 80, "
                        "\"ReferencedGroupInfo\": {\"GroupId\": \"sg-0a\"}}]");
    char *text = sgfilter_render(vpc, enis, rules);
    ASSERT(text != NULL);
    /* Chains of the two combinations, not of the three ENIs. */
    ASSERT_INT_EQ(count(text, "chain i_"), 2);
    ASSERT_INT_EQ(count(text, "chain o_"), 2);
    ASSERT_CONTAINS(text, "chain i_g_0a {");
    ASSERT_CONTAINS(text, "chain i_g_0a_0b {");
    ASSERT_NOT_CONTAINS(text, "0b_0a");
    /* Both chains hold group a's rule; the source group is a live set of
     * every member's address. */
    ASSERT_INT_EQ(count(text, "ct original ip saddr @g_0a meta l4proto tcp "
                              "ct original proto-dst 80 accept"), 2);
    ASSERT_CONTAINS(text, "set g_0a {");
    ASSERT_CONTAINS(text, "elements = { 10.0.1.5, 10.0.1.6, 10.0.1.7 }");
    /* Each address jumps to its own ENI's combination. */
    ASSERT_CONTAINS(text, "10.0.1.5 : jump i_g_0a, 10.0.1.6 : jump i_g_0a, "
                          "10.0.1.7 : jump i_g_0a_0b");
    free(text);
    json_decref(vpc);
    json_decref(enis);
    json_decref(rules);
}

TEST(sgfilter, many_groups_make_a_short_chain_name)
{
    json_t *vpc = test_json("{\"_account\": \"1\", \"_region\": \"us-east-1\", \"VpcId\": \"vpc-1\"}");
    char groups[2048] = "[";
    for (int i = 0; i < 16; i++)
        snprintf(groups + strlen(groups), sizeof(groups) - strlen(groups),
                 "%s{\"GroupId\": \"sg-0123456789abcdef%x\"}", i ? ", " : "", i);
    strcat(groups, "]");
    json_t *enis = json_array();
    json_array_append_new(enis, eni("eni-01", "10.0.1.5", groups));
    json_t *rules = json_array();
    char *text = sgfilter_render(vpc, enis, rules);
    ASSERT(text != NULL);
    /* Sixteen ids joined would pass nftables' limits on a name: a hash. */
    ASSERT_CONTAINS(text, "chain o_h");
    const char *name = strstr(text, "chain o_h") + strlen("chain ");
    ASSERT_INT_EQ((int)strcspn(name, " "), 2 + 1 + 16);
    free(text);
    json_decref(vpc);
    json_decref(enis);
    json_decref(rules);
}
