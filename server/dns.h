/*
 * ecslocal's DNS server: one engine answering on --dns-listen (UDP and TCP,
 * on the host) and on VPC base+2 port 53 inside every VPC (the
 * Amazon-provided resolver).  A listener inside a VPC sees that VPC's view
 * (its ENIs' private names; honours enableDnsSupport); the host listener
 * sees every account and region.  Names ecslocal does not own are refused:
 * no VPC reaches the outside, so there is nothing to recurse to.
 */
#ifndef ECSL_DNS_H
#define ECSL_DNS_H

#include <stddef.h>
#include <stdint.h>

int dns_start(const char *listen, char *err, size_t errlen);
void dns_stop(void);

/* Answer inside a VPC namespace at ip:53 (idempotent). */
void dns_listen_vpc(int vpcfd, uint32_t ip, const char *account, const char *region,
                    const char *vpc_id);
/* Stop answering in the VPC whose namespace is netns_name. */
void dns_unlisten_vpc(const char *netns_name);

#endif
