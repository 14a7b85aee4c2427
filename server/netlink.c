/*
 * rtnetlink requests through libmnl (see netlink.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netlink.h"
#include "netns.h"

int nl_open(struct nl *nl, int nsfd)
{
    memset(nl, 0, sizeof(*nl));
    int fd = nsfd >= 0 ? netns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)
                       : socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    nl->sock = mnl_socket_fdopen(fd);
    if (!nl->sock) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        mnl_socket_close(nl->sock);
        nl->sock = NULL;
        return -e;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->seq = (unsigned int)time(NULL);
    return 0;
}

void nl_close(struct nl *nl)
{
    if (nl->sock)
        mnl_socket_close(nl->sock);
    nl->sock = NULL;
}

/* Send one request and wait for its acknowledgement (or answers, passed to
 * cb).  Returns 0 or -errno. */
static int transact(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlh->nlmsg_seq = ++nl->seq;
    nlh->nlmsg_flags |= NLM_F_ACK;
    if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
        if (n < 0)
            return -errno;
        int rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, nl->portid, cb, arg);
        if (rc == MNL_CB_ERROR)
            return -errno;
        if (rc == MNL_CB_STOP)
            return 0;
    }
}

static struct nlmsghdr *link_msg(char *buf, int type, int flags, int ifindex,
                                 struct ifinfomsg **ifm)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (uint16_t)type;
    nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
    *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifm));
    (*ifm)->ifi_family = AF_UNSPEC;
    (*ifm)->ifi_index = ifindex;
    return nlh;
}

struct find_link {
    const char *name;
    int ifindex;
    uint8_t *mac;       /* when wanted: the link's MAC (zeros if it has none) */
    int (*fn)(const char *name, int ifindex, void *arg);
    void *arg;
    int stop;
};

static int link_attr(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);
    if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
        return MNL_CB_OK;
    tb[type] = attr;
    return MNL_CB_OK;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
    struct find_link *f = data;
    struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
    mnl_attr_parse(nlh, sizeof(*ifm), link_attr, tb);
    if (!tb[IFLA_IFNAME] || f->stop)
        return MNL_CB_OK;
    const char *name = mnl_attr_get_str(tb[IFLA_IFNAME]);
    if (f->fn) {
        if (f->fn(name, ifm->ifi_index, f->arg))
            f->stop = 1;
    } else if (strcmp(name, f->name) == 0) {
        f->ifindex = ifm->ifi_index;
        if (f->mac && tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
            memcpy(f->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
    }
    return MNL_CB_OK;
}

/* Send a dump request (built in req) and run cb on every answer. */
static int dump(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *arg)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    req->nlmsg_seq = ++nl->seq;
    if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
        return -errno;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
        if (n < 0)
            return -errno;
        int rc = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, nl->portid, cb, arg);
        if (rc == MNL_CB_ERROR)
            return -errno;
        if (rc == MNL_CB_STOP)
            return 0;
    }
}

static int dump_links(struct nl *nl, struct find_link *f)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_DUMP, 0, &ifm);
    return dump(nl, nlh, on_link, f);
}

int nl_ifindex(struct nl *nl, const char *name)
{
    return nl_link_mac(nl, name, NULL);
}

int nl_link_mac(struct nl *nl, const char *name, uint8_t mac[6])
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct find_link f = { .name = name, .ifindex = -ENODEV, .mac = mac };
    if (mac)
        memset(mac, 0, 6);
    struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, 0, &ifm);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    int rc = transact(nl, nlh, on_link, &f);
    if (rc < 0)
        return rc;
    return f.ifindex;
}

int nl_link_each(struct nl *nl, int (*fn)(const char *name, int ifindex, void *arg),
                 void *arg)
{
    struct find_link f = { .fn = fn, .arg = arg };
    return dump_links(nl, &f);
}

static int set_link(struct nl *nl, int ifindex, void (*fill)(struct nlmsghdr *, struct ifinfomsg *, const void *),
                    const void *arg)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex, &ifm);
    fill(nlh, ifm, arg);
    return transact(nl, nlh, NULL, NULL);
}

static void fill_up(struct nlmsghdr *nlh, struct ifinfomsg *ifm, const void *arg)
{
    (void)nlh;
    (void)arg;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
}

int nl_link_up(struct nl *nl, int ifindex)
{
    return set_link(nl, ifindex, fill_up, NULL);
}

static void fill_mac(struct nlmsghdr *nlh, struct ifinfomsg *ifm, const void *arg)
{
    (void)ifm;
    mnl_attr_put(nlh, IFLA_ADDRESS, 6, arg);
}

int nl_link_set_mac(struct nl *nl, int ifindex, const uint8_t mac[6])
{
    return set_link(nl, ifindex, fill_mac, mac);
}

static void fill_master(struct nlmsghdr *nlh, struct ifinfomsg *ifm, const void *arg)
{
    (void)ifm;
    mnl_attr_put_u32(nlh, IFLA_MASTER, *(const uint32_t *)arg);
}

int nl_link_set_master(struct nl *nl, int ifindex, int master_ifindex)
{
    uint32_t m = (uint32_t)master_ifindex;
    return set_link(nl, ifindex, fill_master, &m);
}

static void fill_name(struct nlmsghdr *nlh, struct ifinfomsg *ifm, const void *arg)
{
    (void)ifm;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, arg);
}

int nl_link_rename(struct nl *nl, int ifindex, const char *name)
{
    return set_link(nl, ifindex, fill_name, name);
}

int nl_link_delete(struct nl *nl, int ifindex)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, ifindex, &ifm);
    return transact(nl, nlh, NULL, NULL);
}

static int create_kind(struct nl *nl, const char *name, const char *kind, unsigned mtu)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, &ifm);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
    mnl_attr_nest_end(nlh, info);
    return transact(nl, nlh, NULL, NULL);
}

int nl_bridge_create(struct nl *nl, const char *name, unsigned mtu)
{
    return create_kind(nl, name, "bridge", mtu);
}

int nl_bridge_port_isolate(struct nl *nl, int ifindex)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex, &ifm);
    ifm->ifi_family = AF_BRIDGE;
    struct nlattr *pi = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
    mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, 1);
    mnl_attr_nest_end(nlh, pi);
    return transact(nl, nlh, NULL, NULL);
}

int nl_veth_create(struct nl *nl, const char *name, const char *peer, int peer_nsfd,
                   unsigned mtu)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, &ifm);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
    memset(pifm, 0, sizeof(*pifm));
    pifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    if (peer_nsfd >= 0)
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
    mnl_attr_nest_end(nlh, peer_attr);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    return transact(nl, nlh, NULL, NULL);
}

static int addr_request(struct nl *nl, int type, int flags, int ifindex,
                        uint32_t ip, int prefix)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (uint16_t)type;
    nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)ifindex;
    uint32_t be = htonl(ip);
    mnl_attr_put_u32(nlh, IFA_LOCAL, be);
    mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
    return transact(nl, nlh, NULL, NULL);
}

int nl_addr_add(struct nl *nl, int ifindex, uint32_t ip, int prefix)
{
    int rc = addr_request(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, ip, prefix);
    return rc == -EEXIST ? 0 : rc;
}

int nl_addr_del(struct nl *nl, int ifindex, uint32_t ip, int prefix)
{
    int rc = addr_request(nl, RTM_DELADDR, 0, ifindex, ip, prefix);
    return rc == -EADDRNOTAVAIL ? 0 : rc;
}

struct addr_walk {
    int ifindex;
    int (*fn)(uint32_t ip, int prefix, void *arg);
    void *arg;
    int stop;
};

static int addr_attr(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    if (mnl_attr_type_valid(attr, IFA_MAX) >= 0)
        tb[mnl_attr_get_type(attr)] = attr;
    return MNL_CB_OK;
}

static int on_addr(const struct nlmsghdr *nlh, void *data)
{
    struct addr_walk *w = data;
    struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[IFA_MAX + 1] = { 0 };
    if (w->stop || ifa->ifa_family != AF_INET || (int)ifa->ifa_index != w->ifindex)
        return MNL_CB_OK;
    mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
    const struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
    if (!a || mnl_attr_get_payload_len(a) != 4)
        return MNL_CB_OK;
    if (w->fn(ntohl(mnl_attr_get_u32(a)), ifa->ifa_prefixlen, w->arg))
        w->stop = 1;
    return MNL_CB_OK;
}

int nl_addr_each(struct nl *nl, int ifindex, int (*fn)(uint32_t ip, int prefix, void *arg),
                 void *arg)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct addr_walk w = { ifindex, fn, arg, 0 };
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = AF_INET;
    return dump(nl, nlh, on_addr, &w);
}

int nl_route_add(struct nl *nl, uint32_t dst, int prefix, uint32_t gw, int ifindex)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = (unsigned char)prefix;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
    if (prefix > 0)
        mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
    if (gw)
        mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
    mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
    return transact(nl, nlh, NULL, NULL);
}

/* ---- neighbours ---- */

static struct nlmsghdr *neigh_msg(char *buf, int type, int flags, int ifindex, uint32_t ip)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (uint16_t)type;
    nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
    struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
    ndm->ndm_family = AF_INET;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_state = NUD_PERMANENT;
    if (ip)
        mnl_attr_put_u32(nlh, NDA_DST, htonl(ip));
    return nlh;
}

int nl_neigh_set(struct nl *nl, int ifindex, uint32_t ip, const uint8_t mac[6])
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = neigh_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
                                     ifindex, ip);
    mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
    return transact(nl, nlh, NULL, NULL);
}

int nl_neigh_del(struct nl *nl, int ifindex, uint32_t ip)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    int rc = transact(nl, neigh_msg(buf, RTM_DELNEIGH, 0, ifindex, ip), NULL, NULL);
    return rc == -ENOENT ? 0 : rc;
}

struct neigh_walk {
    int (*fn)(int ifindex, uint32_t ip, const uint8_t mac[6], void *arg);
    void *arg;
    int stop;
};

static int neigh_attr(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    if (mnl_attr_type_valid(attr, NDA_MAX) >= 0)
        tb[mnl_attr_get_type(attr)] = attr;
    return MNL_CB_OK;
}

static int on_neigh(const struct nlmsghdr *nlh, void *data)
{
    struct neigh_walk *w = data;
    struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[NDA_MAX + 1] = { 0 };
    if (w->stop || ndm->ndm_family != AF_INET || !(ndm->ndm_state & NUD_PERMANENT))
        return MNL_CB_OK;
    mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr, tb);
    if (!tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != 4 || !tb[NDA_LLADDR] ||
        mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
        return MNL_CB_OK;
    uint32_t ip = ntohl(mnl_attr_get_u32(tb[NDA_DST]));
    if (w->fn(ndm->ndm_ifindex, ip, mnl_attr_get_payload(tb[NDA_LLADDR]), w->arg))
        w->stop = 1;
    return MNL_CB_OK;
}

int nl_neigh_each_permanent(struct nl *nl,
                            int (*fn)(int ifindex, uint32_t ip, const uint8_t mac[6],
                                      void *arg),
                            void *arg)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct neigh_walk w = { fn, arg, 0 };
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
    ndm->ndm_family = AF_INET;
    return dump(nl, nlh, on_neigh, &w);
}

int mac_parse(const char *text, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}
