/*
 * Unit tests of the form parser (api/form.c): splitting, percent-decoding,
 * duplicate keys, prefix lookups and the bounds on hostile input.
 */
#include <stdlib.h>
#include <string.h>

#include "../../api/form.h"
#include "test.h"

/* Parse text as one form and sort it; returns the parse result. */
static int parse(struct form *f, const char *text, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    err[0] = '\0';
    int rc = form_parse(f, text, strlen(text), err, errlen);
    form_finish(f);
    return rc;
}

TEST(form, pairs_are_split_and_looked_up)
{
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1",
                        err, sizeof(err)), 0);
    ASSERT_INT_EQ(f.n, 3);
    ASSERT_STR_EQ(form_get(&f, "Action"), "DescribeVpcs");
    ASSERT_STR_EQ(form_get(&f, "Version"), "2016-11-15");
    ASSERT_STR_EQ(form_get(&f, "VpcId.1"), "vpc-1");
    ASSERT_NULL(form_get(&f, "VpcId"));
    ASSERT_NULL(form_get(&f, "action"));
    form_free(&f);
    ASSERT_INT_EQ(f.n, 0);
}

TEST(form, percent_and_plus_are_decoded)
{
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, "Filter.1.Value.1=10.0.0.0%2F16&Name=a+b%20c"
                            "&Tag%2E1%2EKey=k%3Dv%26w&Utf=%C3%A9&Lower=%2f",
                        err, sizeof(err)), 0);
    ASSERT_STR_EQ(form_get(&f, "Filter.1.Value.1"), "10.0.0.0/16");
    ASSERT_STR_EQ(form_get(&f, "Name"), "a b c");
    /* Keys are decoded too, and '=' or '&' inside a value stay in it. */
    ASSERT_STR_EQ(form_get(&f, "Tag.1.Key"), "k=v&w");
    ASSERT_STR_EQ(form_get(&f, "Utf"), "\xc3\xa9");
    ASSERT_STR_EQ(form_get(&f, "Lower"), "/");
    form_free(&f);
}

TEST(form, broken_escapes_stay_literal)
{
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, "a=%&b=%4&c=%zz&d=100%&e=%%41", err, sizeof(err)), 0);
    ASSERT_STR_EQ(form_get(&f, "a"), "%");
    ASSERT_STR_EQ(form_get(&f, "b"), "%4");
    ASSERT_STR_EQ(form_get(&f, "c"), "%zz");
    ASSERT_STR_EQ(form_get(&f, "d"), "100%");
    ASSERT_STR_EQ(form_get(&f, "e"), "%A");
    form_free(&f);
}

TEST(form, empty_pieces_and_missing_values)
{
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, "&&a&=x&b=&&c==d&", err, sizeof(err)), 0);
    /* "=x" has no key and is dropped; "a" alone is an empty value. */
    ASSERT_INT_EQ(f.n, 3);
    ASSERT_STR_EQ(form_get(&f, "a"), "");
    ASSERT_STR_EQ(form_get(&f, "b"), "");
    ASSERT_STR_EQ(form_get(&f, "c"), "=d");
    form_free(&f);

    ASSERT_INT_EQ(parse(&f, "", err, sizeof(err)), 0);
    ASSERT_INT_EQ(f.n, 0);
    ASSERT_NULL(form_get(&f, "a"));
    ASSERT(!form_has_prefix(&f, "a"));
    form_free(&f);
}

TEST(form, later_duplicates_win)
{
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, "Name=first&Other=1&Name=second&Name=third", err,
                        sizeof(err)), 0);
    ASSERT_INT_EQ(f.n, 2);
    ASSERT_STR_EQ(form_get(&f, "Name"), "third");
    form_free(&f);
}

TEST(form, query_string_and_body_merge)
{
    /* The dispatcher parses the URL query, then the body, then sorts:
     * the body's value of a key given in both wins. */
    struct form f = { 0 };
    char err[128];
    const char *query = "Action=GetCallerIdentity&Version=2011-06-15";
    const char *body = "Version=2016-11-15&Extra=1";
    ASSERT_INT_EQ(form_parse(&f, query, strlen(query), err, sizeof(err)), 0);
    ASSERT_INT_EQ(form_parse(&f, body, strlen(body), err, sizeof(err)), 0);
    form_finish(&f);
    ASSERT_INT_EQ(f.n, 3);
    ASSERT_STR_EQ(form_get(&f, "Action"), "GetCallerIdentity");
    ASSERT_STR_EQ(form_get(&f, "Version"), "2016-11-15");
    ASSERT_STR_EQ(form_get(&f, "Extra"), "1");
    form_free(&f);
}

TEST(form, length_bounds_the_parse_not_nul)
{
    /* Only len bytes are read: the rest of the buffer is not the form. */
    struct form f = { 0 };
    char err[128];
    const char *text = "a=1&b=2";
    ASSERT_INT_EQ(form_parse(&f, text, 3, err, sizeof(err)), 0);
    form_finish(&f);
    ASSERT_INT_EQ(f.n, 1);
    ASSERT_STR_EQ(form_get(&f, "a"), "1");
    ASSERT_NULL(form_get(&f, "b"));
    form_free(&f);
}

TEST(form, prefix_lookup_respects_segments)
{
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, "Filter.1.Name=a&Filter.10.Name=b&Filter.1-x=c"
                            "&Filters=d&TagSpecification.1.Tag.1.Key=k",
                        err, sizeof(err)), 0);
    ASSERT(form_has_prefix(&f, "Filter.1"));
    ASSERT(form_has_prefix(&f, "Filter.10"));
    ASSERT(form_has_prefix(&f, "Filter"));
    ASSERT(!form_has_prefix(&f, "Filter.2"));
    ASSERT(!form_has_prefix(&f, "Filter.1.Value"));
    ASSERT(form_has_prefix(&f, "Filter.1.Name"));
    ASSERT(form_has_prefix(&f, "Filters"));
    ASSERT(form_has_prefix(&f, "TagSpecification.1"));
    ASSERT(form_has_prefix(&f, "TagSpecification.1.Tag.1"));
    ASSERT(!form_has_prefix(&f, "TagSpecification.1.Tag.2"));
    ASSERT(!form_has_prefix(&f, "Tag"));
    ASSERT(!form_has_prefix(&f, "Fil"));
    form_free(&f);
}

TEST(form, prefix_found_past_keys_sorting_before_dot)
{
    /* Keys continuing with characters below '.' ("-", ",", "!") sort
     * between "X" and "X.…"; the lookup must look past them. */
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, "X!=1&X,=2&X-=3&X.a=4", err, sizeof(err)), 0);
    ASSERT(form_has_prefix(&f, "X"));
    form_free(&f);
    ASSERT_INT_EQ(parse(&f, "X!=1&X-=3&X/=4", err, sizeof(err)), 0);
    ASSERT(!form_has_prefix(&f, "X"));
    form_free(&f);
}

TEST(form, too_many_parameters_is_an_error)
{
    size_t n = FORM_MAX_PARAMS + 1;
    char *text = malloc(n * 8 + 1);
    ASSERT(text);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "k%zu=v&", i);
    struct form f = { 0 };
    char err[128] = "";
    ASSERT_INT_EQ(form_parse(&f, text, len, err, sizeof(err)), -1);
    ASSERT_CONTAINS(err, "too many parameters");
    form_free(&f);
    free(text);
}

TEST(form, exactly_the_limit_is_fine)
{
    size_t n = FORM_MAX_PARAMS;
    char *text = malloc(n * 8 + 1);
    ASSERT(text);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "k%zu=v&", i);
    struct form f = { 0 };
    char err[128] = "";
    ASSERT_INT_EQ(form_parse(&f, text, len, err, sizeof(err)), 0);
    form_finish(&f);
    ASSERT_INT_EQ(f.n, FORM_MAX_PARAMS);
    ASSERT_STR_EQ(form_get(&f, "k9999"), "v");
    form_free(&f);
    free(text);
}

TEST(form, long_keys_are_refused)
{
    char key[FORM_MAX_KEY + 2];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    char text[sizeof(key) + 8];
    snprintf(text, sizeof(text), "%s=v", key);
    struct form f;
    char err[128];
    ASSERT_INT_EQ(parse(&f, text, err, sizeof(err)), -1);
    ASSERT_CONTAINS(err, "parameter name too long");
    form_free(&f);

    /* A key at the limit is fine, even when it arrives percent-encoded
     * (three times as long on the wire). */
    char enc[FORM_MAX_KEY * 3 + 8];
    size_t len = 0;
    for (int i = 0; i < FORM_MAX_KEY; i++)
        len += (size_t)sprintf(enc + len, "%%%02X", 'k');
    sprintf(enc + len, "=v");
    ASSERT_INT_EQ(parse(&f, enc, err, sizeof(err)), 0);
    ASSERT_INT_EQ(f.n, 1);
    ASSERT_INT_EQ(strlen(f.pairs[0].key), FORM_MAX_KEY);
    form_free(&f);
}

TEST(form, nul_bytes_do_not_confuse_lengths)
{
    static const char text[] = "a=x\0y&b=%00z";
    struct form f = { 0 };
    char err[128];
    ASSERT_INT_EQ(form_parse(&f, text, sizeof(text) - 1, err, sizeof(err)), 0);
    form_finish(&f);
    ASSERT_INT_EQ(f.n, 2);
    ASSERT_STR_EQ(form_get(&f, "a"), "x");
    ASSERT_STR_EQ(form_get(&f, "b"), "");
    form_free(&f);
}
