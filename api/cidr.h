/*
 * IPv4 CIDR arithmetic for VPCs, subnets, rules and address allocation.
 * Addresses are host-order uint32_t.
 */
#ifndef ECSL_CIDR_H
#define ECSL_CIDR_H

#include <stddef.h>
#include <stdint.h>

struct cidr {
    uint32_t base;      /* network address, host bits cleared */
    int prefix;         /* 0..32 */
};

/* Parse "a.b.c.d/n".  The host bits are cleared (AWS canonicalises
 * 100.68.0.18/18 to 100.68.0.0/18).  Returns 0 or -1. */
int cidr_parse(const char *text, struct cidr *out);
/* Parse a dotted quad.  Returns 0 or -1. */
int ip_parse(const char *text, uint32_t *out);
void ip_format(uint32_t ip, char *out, size_t len);
void cidr_format(const struct cidr *c, char *out, size_t len);

uint32_t cidr_mask(int prefix);
uint32_t cidr_last(const struct cidr *c);
uint64_t cidr_size(const struct cidr *c);
int cidr_contains_ip(const struct cidr *c, uint32_t ip);
/* Whether inner lies entirely within outer. */
int cidr_within(const struct cidr *inner, const struct cidr *outer);
int cidr_overlaps(const struct cidr *a, const struct cidr *b);

/* The addresses AWS lets a subnet hand out: all but the first four and the
 * last.  Returns 0, or -1 when the subnet is too small to have any. */
int cidr_usable_range(const struct cidr *c, uint32_t *lo, uint32_t *hi);

#endif
