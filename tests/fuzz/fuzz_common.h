/*
 * Shared by the libFuzzer targets: picking a listed operation and making
 * exactly-sized copies of the input, so AddressSanitizer sees any read
 * past what a parser was given.
 */
#ifndef ECSL_FUZZ_COMMON_H
#define ECSL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/model.h"

/* A NUL-terminated copy of data[0..n) in a buffer of exactly n+1 bytes. */
static inline char *fuzz_strndup(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* A copy without a terminator (for parsers that take a length). */
static inline char *fuzz_memdup(const uint8_t *data, size_t n)
{
    char *s = malloc(n ? n : 1);
    if (!s)
        abort();
    memcpy(s, data, n);
    return s;
}

/* The n-th listed operation (modulo their number) whose service speaks a
 * protocol accepted by want(); NULL when there is none. */
static inline const struct operation *fuzz_pick_op(unsigned n,
                                                   int (*want)(enum protocol))
{
    size_t count, matching = 0;
    const struct operation *ops = model_operations(&count);
    for (size_t i = 0; i < count; i++)
        if (ops[i].listed && want(model_service(ops[i].svc)->protocol))
            matching++;
    if (!matching)
        return NULL;
    size_t k = n % matching;
    for (size_t i = 0; i < count; i++)
        if (ops[i].listed && want(model_service(ops[i].svc)->protocol) && k-- == 0)
            return &ops[i];
    return NULL;
}

#endif
