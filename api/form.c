/*
 * application/x-www-form-urlencoded parsing.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "form.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into a new string; '+' is a space. */
static char *decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t j = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[j++] = ' ';
        } else if (s[i] == '%' && i + 2 < n &&
                   hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

int form_parse(struct form *f, const char *text, size_t len, char *err,
               size_t errlen)
{
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && text[i] != '&')
            i++;
        size_t end = i;
        if (i < len)
            i++;            /* skip '&' */
        if (end == start)
            continue;
        const char *eq = memchr(text + start, '=', end - start);
        size_t klen = eq ? (size_t)(eq - (text + start)) : end - start;
        if (klen == 0)
            continue;
        if (klen > FORM_MAX_KEY * 3) {
            snprintf(err, errlen, "parameter name too long");
            return -1;
        }
        if (f->n >= FORM_MAX_PARAMS) {
            snprintf(err, errlen, "too many parameters (over %d)",
                     FORM_MAX_PARAMS);
            return -1;
        }
        struct form_pair *grown = realloc(f->pairs, (f->n + 1) * sizeof(*grown));
        if (!grown) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        f->pairs = grown;
        char *key = decode(text + start, klen);
        char *value = eq ? decode(eq + 1, (size_t)(text + end - (eq + 1)))
                         : strdup("");
        if (!key || !value) {
            free(key);
            free(value);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (strlen(key) > FORM_MAX_KEY) {
            free(key);
            free(value);
            snprintf(err, errlen, "parameter name too long");
            return -1;
        }
        f->pairs[f->n].key = key;
        f->pairs[f->n].value = value;
        f->n++;
    }
    return 0;
}

struct indexed {
    struct form_pair pair;
    size_t order;
};

static int compare_indexed(const void *a, const void *b)
{
    const struct indexed *x = a, *y = b;
    int c = strcmp(x->pair.key, y->pair.key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

void form_finish(struct form *f)
{
    if (f->n < 2)
        return;
    struct indexed *tmp = malloc(f->n * sizeof(*tmp));
    if (!tmp) {
        /* Unsorted lookups would be wrong; drop everything instead. */
        form_free(f);
        return;
    }
    for (size_t i = 0; i < f->n; i++) {
        tmp[i].pair = f->pairs[i];
        tmp[i].order = i;
    }
    qsort(tmp, f->n, sizeof(*tmp), compare_indexed);
    /* Keep the last of equal keys, as a form reader would. */
    size_t j = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (i + 1 < f->n && strcmp(tmp[i].pair.key, tmp[i + 1].pair.key) == 0) {
            free(tmp[i].pair.key);
            free(tmp[i].pair.value);
            continue;
        }
        f->pairs[j++] = tmp[i].pair;
    }
    f->n = j;
    free(tmp);
}

void form_free(struct form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->pairs[i].key);
        free(f->pairs[i].value);
    }
    free(f->pairs);
    f->pairs = NULL;
    f->n = 0;
}

/* The index of the first key >= key. */
static size_t lower_bound(const struct form *f, const char *key)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(f->pairs[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *form_get(const struct form *f, const char *key)
{
    size_t i = lower_bound(f, key);
    if (i < f->n && strcmp(f->pairs[i].key, key) == 0)
        return f->pairs[i].value;
    return NULL;
}

int form_has_prefix(const struct form *f, const char *prefix)
{
    size_t n = strlen(prefix);
    size_t i = lower_bound(f, prefix);
    /* Keys equal to prefix sort first, then "prefix!..." etc.; '.' (0x2e)
     * sorts after '!'..'-', so scan the short run of keys that share the
     * prefix until one continues with '.' or none can. */
    for (; i < f->n; i++) {
        const char *k = f->pairs[i].key;
        if (strncmp(k, prefix, n) != 0)
            return 0;
        if (k[n] == '\0' || k[n] == '.')
            return 1;
        if ((unsigned char)k[n] > '.')
            return 0;
    }
    return 0;
}
