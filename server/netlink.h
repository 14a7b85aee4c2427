/*
 * rtnetlink through libmnl: the links, addresses and routes ecslocal makes
 * inside its own namespaces (veth pairs, bridges, addresses, default
 * routes).  One struct nl is one netlink socket bound to one namespace.
 *
 * Functions return 0 (or an ifindex) on success and -errno on failure.
 * IPv4 addresses are host-order uint32_t.
 */
#ifndef ECSL_NETLINK_H
#define ECSL_NETLINK_H

#include <stdint.h>

struct mnl_socket;

struct nl {
    struct mnl_socket *sock;
    unsigned int portid;
    unsigned int seq;
};

/* Open a socket in the namespace nsfd (-1: the caller's). */
int nl_open(struct nl *nl, int nsfd);
void nl_close(struct nl *nl);

int nl_ifindex(struct nl *nl, const char *name);
/* nl_ifindex that also reads the link's MAC (zeros when it has none), in
 * the same request. */
int nl_link_mac(struct nl *nl, const char *name, uint8_t mac[6]);
int nl_link_up(struct nl *nl, int ifindex);
int nl_link_delete(struct nl *nl, int ifindex);
int nl_link_set_mac(struct nl *nl, int ifindex, const uint8_t mac[6]);
int nl_link_set_master(struct nl *nl, int ifindex, int master_ifindex);
int nl_link_rename(struct nl *nl, int ifindex, const char *name);

/* A veth pair: name here, peer in peer_nsfd (-1: here too); mtu 0 leaves
 * the kernel's default. */
int nl_veth_create(struct nl *nl, const char *name, const char *peer,
                   int peer_nsfd, unsigned mtu);
int nl_bridge_create(struct nl *nl, const char *name, unsigned mtu);
/* Make a bridge port isolated: it only talks to the bridge itself, never
 * to other ports (everything between ENIs is routed, and so filtered). */
int nl_bridge_port_isolate(struct nl *nl, int ifindex);

int nl_addr_add(struct nl *nl, int ifindex, uint32_t ip, int prefix);
int nl_addr_del(struct nl *nl, int ifindex, uint32_t ip, int prefix);
/* Call fn for every IPv4 address on ifindex; stops when fn returns
 * non-zero. */
int nl_addr_each(struct nl *nl, int ifindex, int (*fn)(uint32_t ip, int prefix, void *arg),
                 void *arg);
/* A route to dst/prefix via gw (0: directly on the link). */
int nl_route_add(struct nl *nl, uint32_t dst, int prefix, uint32_t gw,
                 int ifindex);

/* Permanent IPv4 neighbour entries (ip -> mac on ifindex): the VPC router
 * knows every ENI's MAC, as AWS's mapping service does, so no packet
 * waits for ARP. */
int nl_neigh_set(struct nl *nl, int ifindex, uint32_t ip, const uint8_t mac[6]);
int nl_neigh_del(struct nl *nl, int ifindex, uint32_t ip);
/* Call fn for every permanent IPv4 entry; stops when fn returns non-zero. */
int nl_neigh_each_permanent(struct nl *nl,
                            int (*fn)(int ifindex, uint32_t ip, const uint8_t mac[6],
                                      void *arg),
                            void *arg);

/* Call fn for every link (name, ifindex); stops when fn returns non-zero. */
int nl_link_each(struct nl *nl, int (*fn)(const char *name, int ifindex,
                                          void *arg), void *arg);

/* Parse "0e:12:34:56:78:9a". */
int mac_parse(const char *text, uint8_t mac[6]);

#endif
