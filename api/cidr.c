/*
 * IPv4 CIDR arithmetic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

int ip_parse(const char *text, uint32_t *out)
{
    uint32_t ip = 0;
    const char *p = text;
    for (int part = 0; part < 4; part++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned)(*p - '0');
            if (++digits > 3 || v > 255)
                return -1;
            p++;
        }
        /* No leading zeros ("010" is ambiguous: octal to some parsers). */
        if (digits > 1 && p[-digits] == '0')
            return -1;
        ip = (ip << 8) | v;
        if (part < 3) {
            if (*p != '.')
                return -1;
            p++;
        }
    }
    if (*p != '\0')
        return -1;
    *out = ip;
    return 0;
}

uint32_t cidr_mask(int prefix)
{
    return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

int cidr_parse(const char *text, struct cidr *out)
{
    char ipbuf[16];
    const char *slash = strchr(text, '/');
    if (!slash || (size_t)(slash - text) >= sizeof(ipbuf))
        return -1;
    memcpy(ipbuf, text, (size_t)(slash - text));
    ipbuf[slash - text] = '\0';
    uint32_t ip;
    if (ip_parse(ipbuf, &ip) < 0)
        return -1;
    const char *p = slash + 1;
    if (*p < '0' || *p > '9' || strlen(p) > 2)
        return -1;
    char *end;
    long n = strtol(p, &end, 10);
    if (*end != '\0' || n < 0 || n > 32)
        return -1;
    out->prefix = (int)n;
    out->base = ip & cidr_mask(out->prefix);
    return 0;
}

void ip_format(uint32_t ip, char *out, size_t len)
{
    snprintf(out, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
             ip & 255);
}

void cidr_format(const struct cidr *c, char *out, size_t len)
{
    char ip[16];
    ip_format(c->base, ip, sizeof(ip));
    snprintf(out, len, "%s/%d", ip, c->prefix);
}

uint32_t cidr_last(const struct cidr *c)
{
    return c->base | ~cidr_mask(c->prefix);
}

uint64_t cidr_size(const struct cidr *c)
{
    return (uint64_t)1 << (32 - c->prefix);
}

int cidr_contains_ip(const struct cidr *c, uint32_t ip)
{
    return (ip & cidr_mask(c->prefix)) == c->base;
}

int cidr_within(const struct cidr *inner, const struct cidr *outer)
{
    return inner->prefix >= outer->prefix && cidr_contains_ip(outer, inner->base);
}

int cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
    return cidr_within(a, b) || cidr_within(b, a);
}

int cidr_usable_range(const struct cidr *c, uint32_t *lo, uint32_t *hi)
{
    if (cidr_size(c) < 8)
        return -1;
    *lo = c->base + 4;
    *hi = cidr_last(c) - 1;
    return 0;
}
