/*
 * The VPC network in the kernel (DESIGN.md, "The network").
 *
 *   VPC          namespace ecsl-v-<vpc hex>: the VPC router.  IP forwarding
 *                on; the VPC resolver address (base+2) on its loopback; an
 *                nftables table (sgfilter.c) enforcing security groups on
 *                everything it forwards.  No link to the host or to any
 *                other VPC, so overlapping CIDRs just work.
 *   subnet       bridge ecsl-b<subnet hex> in the VPC namespace with the
 *                gateway (subnet base+1); its ports are isolated and the
 *                bridge answers ARP for them (proxy_arp_pvlan), so even
 *                traffic between ENIs of one subnet is routed, and so
 *                filtered, by the VPC router.
 *   ENI          veth pair: ecsl-e<eni hex> on its subnet's bridge, and in
 *                the namespace of what it is attached to eth<N> with the
 *                ENI's MAC, addresses and (eth0) a default route via the
 *                subnet gateway.
 *   instance     namespace ecsl-i-<instance hex> with its ENIs (EC2
 *                instances, including ECS container instances).
 *
 * vpcnet_sync makes the kernel match the database and is cheap to call
 * again: every step checks before it creates.  Namespaces ecslocal made
 * are remembered as marker files under the runtime root, so a restart
 * knows which ones are its own (and removes those no longer wanted) even
 * when other ecslocal servers share the machine.
 */
#ifndef ECSL_VPCNET_H
#define ECSL_VPCNET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct scope;

/* Bring VPCs, subnets, instances and their ENIs and filters up to date
 * with the database.  Returns 0, or -1 when something failed (logged). */
int vpcnet_sync(void);

/* Whether the network state may have changed since the last sync. */
int vpcnet_stale(void);

/* Remove every namespace this server made (reset). */
void vpcnet_teardown(void);

/* The key of a VPC document ("account/region/vpc-id") in the memories
 * of what was done to its namespace (here and in sgfilter.c). */
void vpcnet_key(json_t *vpc, char *out, size_t len);

/* Plug an ENI (its NetworkInterface document) into the namespace nsfd as
 * ifname, with its MAC, addresses and, when primary, the default route.
 * Creates the VPC namespace and subnet bridge if they are missing. */
int vpcnet_plug(const struct scope *s, json_t *eni, int nsfd, const char *ifname,
                int primary, char *err, size_t errlen);

/* Remove an ENI's veth (both ends). */
void vpcnet_unplug(const struct scope *s, const char *vpc_id, const char *eni_id);

/* The namespace names ecslocal uses. */
void vpcnet_vpc_netns(const char *vpc_id, char *out, size_t len);
void vpcnet_instance_netns(const char *instance_id, char *out, size_t len);

/* A locally administered MAC derived from id, the same every time. */
void vpcnet_stable_mac(const char *id, uint8_t mac[6]);

/* Remember or forget that a namespace is ours (marker files). */
void vpcnet_own(const char *name);
void vpcnet_disown(const char *name);

#endif
