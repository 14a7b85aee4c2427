/*
 * Unit tests of the IPv4 CIDR arithmetic (api/cidr.c).
 */
#include "../../api/cidr.h"
#include "test.h"

static uint32_t ip(const char *text)
{
    uint32_t v = 0;
    if (ip_parse(text, &v) < 0)
        test_fail(__FILE__, __LINE__, "bad address in the test: %s", text);
    return v;
}

TEST(cidr, parses_and_formats)
{
    struct cidr c;
    char text[32];
    ASSERT_INT_EQ(cidr_parse("10.0.0.0/16", &c), 0);
    ASSERT_INT_EQ(c.base, 0x0a000000u);
    ASSERT_INT_EQ(c.prefix, 16);
    cidr_format(&c, text, sizeof(text));
    ASSERT_STR_EQ(text, "10.0.0.0/16");

    ASSERT_INT_EQ(cidr_parse("0.0.0.0/0", &c), 0);
    ASSERT_INT_EQ(c.prefix, 0);
    ASSERT_INT_EQ(c.base, 0);
    ASSERT_INT_EQ(cidr_parse("255.255.255.255/32", &c), 0);
    ASSERT_INT_EQ(c.base, 0xffffffffu);
    ASSERT_INT_EQ(c.prefix, 32);
}

TEST(cidr, host_bits_are_cleared)
{
    /* AWS canonicalises 100.68.0.18/18 to 100.68.0.0/18. */
    struct cidr c;
    char text[32];
    ASSERT_INT_EQ(cidr_parse("100.68.0.18/18", &c), 0);
    cidr_format(&c, text, sizeof(text));
    ASSERT_STR_EQ(text, "100.68.0.0/18");
    ASSERT_INT_EQ(cidr_parse("10.1.2.3/8", &c), 0);
    cidr_format(&c, text, sizeof(text));
    ASSERT_STR_EQ(text, "10.0.0.0/8");
}

TEST(cidr, rejects_what_is_not_a_cidr)
{
    static const char *const bad[] = {
        "", "/", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
        "10.0.0/16", "10.0.0.0.0/16", "256.0.0.0/8", "10.0.0.0/16 ",
        " 10.0.0.0/16", "10.0.0.0/1a", "10.0.0.0/016", "010.0.0.0/8",
        "10..0.0/16", "a.b.c.d/8", "10.0.0.0/+8", "1.2.3.4/8/9",
        "10.0.0.1234/16", "4294967296.0.0.0/8", "10.0.0.0/100",
        "11111111111111111111.0.0.0/8",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cidr c;
        if (cidr_parse(bad[i], &c) != -1)
            FAIL("cidr_parse accepted \"%s\"", bad[i]);
    }
}

TEST(cidr, addresses_parse_strictly)
{
    uint32_t v;
    ASSERT_INT_EQ(ip_parse("192.168.1.254", &v), 0);
    ASSERT_INT_EQ(v, 0xc0a801feu);
    ASSERT_INT_EQ(ip_parse("0.0.0.0", &v), 0);
    ASSERT_INT_EQ(v, 0);
    ASSERT_INT_EQ(ip_parse("1.2.3", &v), -1);
    ASSERT_INT_EQ(ip_parse("1.2.3.4.", &v), -1);
    ASSERT_INT_EQ(ip_parse("1.2.3.04", &v), -1);
    ASSERT_INT_EQ(ip_parse("1.2.3.256", &v), -1);
    ASSERT_INT_EQ(ip_parse("-1.2.3.4", &v), -1);
    ASSERT_INT_EQ(ip_parse("", &v), -1);

    char text[16];
    ip_format(0x0a00010au, text, sizeof(text));
    ASSERT_STR_EQ(text, "10.0.1.10");
    ip_format(0xffffffffu, text, sizeof(text));
    ASSERT_STR_EQ(text, "255.255.255.255");
}

TEST(cidr, masks_sizes_and_last_address)
{
    ASSERT_INT_EQ(cidr_mask(0), 0);
    ASSERT_INT_EQ(cidr_mask(1), 0x80000000u);
    ASSERT_INT_EQ(cidr_mask(24), 0xffffff00u);
    ASSERT_INT_EQ(cidr_mask(32), 0xffffffffu);

    struct cidr c;
    ASSERT_INT_EQ(cidr_parse("0.0.0.0/0", &c), 0);
    ASSERT_INT_EQ(cidr_size(&c), 4294967296LL);
    ASSERT_INT_EQ(cidr_last(&c), 0xffffffffu);
    ASSERT_INT_EQ(cidr_parse("10.0.1.0/24", &c), 0);
    ASSERT_INT_EQ(cidr_size(&c), 256);
    ASSERT_INT_EQ(cidr_last(&c), ip("10.0.1.255"));
    ASSERT_INT_EQ(cidr_parse("10.0.1.7/32", &c), 0);
    ASSERT_INT_EQ(cidr_size(&c), 1);
    ASSERT_INT_EQ(cidr_last(&c), ip("10.0.1.7"));
}

TEST(cidr, containment_and_overlap)
{
    struct cidr vpc, sub, other, host, all;
    ASSERT_INT_EQ(cidr_parse("10.0.0.0/16", &vpc), 0);
    ASSERT_INT_EQ(cidr_parse("10.0.3.0/24", &sub), 0);
    ASSERT_INT_EQ(cidr_parse("10.1.0.0/16", &other), 0);
    ASSERT_INT_EQ(cidr_parse("10.0.3.9/32", &host), 0);
    ASSERT_INT_EQ(cidr_parse("0.0.0.0/0", &all), 0);

    ASSERT(cidr_contains_ip(&vpc, ip("10.0.255.255")));
    ASSERT(cidr_contains_ip(&vpc, ip("10.0.0.0")));
    ASSERT(!cidr_contains_ip(&vpc, ip("10.1.0.0")));
    ASSERT(!cidr_contains_ip(&vpc, ip("9.255.255.255")));
    ASSERT(cidr_contains_ip(&all, ip("203.0.113.1")));

    ASSERT(cidr_within(&sub, &vpc));
    ASSERT(!cidr_within(&vpc, &sub));
    ASSERT(cidr_within(&vpc, &vpc));
    ASSERT(!cidr_within(&sub, &other));
    ASSERT(cidr_within(&host, &sub));
    ASSERT(cidr_within(&vpc, &all));

    ASSERT(cidr_overlaps(&vpc, &sub));
    ASSERT(cidr_overlaps(&sub, &vpc));
    ASSERT(!cidr_overlaps(&vpc, &other));
    ASSERT(cidr_overlaps(&all, &other));
    ASSERT(cidr_overlaps(&host, &host));
}

TEST(cidr, usable_range_skips_first_four_and_last)
{
    struct cidr c;
    uint32_t lo, hi;
    ASSERT_INT_EQ(cidr_parse("10.0.1.0/24", &c), 0);
    ASSERT_INT_EQ(cidr_usable_range(&c, &lo, &hi), 0);
    ASSERT_INT_EQ(lo, ip("10.0.1.4"));
    ASSERT_INT_EQ(hi, ip("10.0.1.254"));

    /* /28 is AWS's smallest subnet: 11 usable addresses. */
    ASSERT_INT_EQ(cidr_parse("172.31.0.16/28", &c), 0);
    ASSERT_INT_EQ(cidr_usable_range(&c, &lo, &hi), 0);
    ASSERT_INT_EQ(lo, ip("172.31.0.20"));
    ASSERT_INT_EQ(hi, ip("172.31.0.30"));
    ASSERT_INT_EQ(hi - lo + 1, 11);

    ASSERT_INT_EQ(cidr_parse("10.0.0.0/29", &c), 0);
    ASSERT_INT_EQ(cidr_usable_range(&c, &lo, &hi), 0);
    ASSERT_INT_EQ(hi - lo + 1, 3);
    ASSERT_INT_EQ(cidr_parse("10.0.0.0/30", &c), 0);
    ASSERT_INT_EQ(cidr_usable_range(&c, &lo, &hi), -1);
    ASSERT_INT_EQ(cidr_parse("10.0.0.0/32", &c), 0);
    ASSERT_INT_EQ(cidr_usable_range(&c, &lo, &hi), -1);
}
