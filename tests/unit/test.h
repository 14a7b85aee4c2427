/*
 * A tiny unit test framework in the libuv/Redis style.
 *
 * A test is a function declared with TEST(suite, name); a constructor
 * registers it, so adding a test is writing it, nothing else.  The runner
 * (test_main.c) runs every test in a child process of its own, so a crash,
 * a sanitizer report or a leak fails that one test and names it, and the
 * others still run.
 *
 * ASSERT* record the failure with file and line and return from the
 * current function; helpers called from a test may use them too (the
 * failure is recorded either way, the helper just stops early).
 */
#ifndef ECSL_TEST_H
#define ECSL_TEST_H

#include <stdio.h>
#include <string.h>

#include <jansson.h>

struct test {
    const char *suite;
    const char *name;
    void (*fn)(void);
    struct test *next;
};

void test_register(struct test *t);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Mark the running test skipped (what the model cannot offer yet). */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether the running test has failed so far. */
int test_failed(void);
/* A JSON document written in the test (a bad one fails the test). */
json_t *test_json(const char *text);

#define TEST(suite, name)                                                    \
    static void test_##suite##_##name(void);                                 \
    static struct test test_rec_##suite##_##name = {                         \
        #suite, #name, test_##suite##_##name, NULL };                        \
    __attribute__((constructor)) static void test_reg_##suite##_##name(void) \
    {                                                                        \
        test_register(&test_rec_##suite##_##name);                           \
    }                                                                        \
    static void test_##suite##_##name(void)

#define FAIL(...)                                                            \
    do {                                                                     \
        test_fail(__FILE__, __LINE__, __VA_ARGS__);                          \
        return;                                                              \
    } while (0)

#define SKIP(...)                                                            \
    do {                                                                     \
        test_skip(__VA_ARGS__);                                              \
        return;                                                              \
    } while (0)

#define ASSERT(x)                                                            \
    do {                                                                     \
        if (!(x))                                                            \
            FAIL("ASSERT(%s)", #x);                                          \
    } while (0)

#define ASSERT_INT_EQ(a, b)                                                  \
    do {                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                  \
        if (a_ != b_)                                                        \
            FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);                  \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                  \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                               \
            FAIL("%s == %s:\n      got      \"%s\"\n      expected \"%s\"",  \
                 #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");            \
    } while (0)

#define ASSERT_NULL(a)                                                       \
    do {                                                                     \
        if ((a) != NULL)                                                     \
            FAIL("%s is not NULL", #a);                                      \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                         \
    do {                                                                     \
        const char *h_ = (hay), *n_ = (needle);                              \
        if (!h_ || !strstr(h_, n_))                                          \
            FAIL("%s does not contain \"%s\":\n      %s", #hay, n_,          \
                 h_ ? h_ : "(null)");                                        \
    } while (0)

#define ASSERT_NOT_CONTAINS(hay, needle)                                     \
    do {                                                                     \
        const char *h_ = (hay), *n_ = (needle);                              \
        if (h_ && strstr(h_, n_))                                            \
            FAIL("%s contains \"%s\":\n      %s", #hay, n_, h_);             \
    } while (0)

/* The JSON value v equals the JSON text expected (order-insensitive for
 * objects, exact for arrays and numbers). */
int test_json_eq(json_t *v, const char *expected, char *why, size_t whylen);

#define ASSERT_JSON_EQ(v, expected)                                          \
    do {                                                                     \
        char why_[4096];                                                     \
        if (!test_json_eq((v), (expected), why_, sizeof(why_)))              \
            FAIL("%s == %s\n%s", #v, #expected, why_);                       \
    } while (0)

#endif
