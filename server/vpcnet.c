/*
 * The VPC network in the kernel (see vpcnet.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../api/jget.h"
#include "../api/cidr.h"
#include "../storage/db.h"
#include "../storage/store.h"
#include "dns.h"
#include "listeners.h"
#include "log.h"
#include "netlink.h"
#include "netns.h"
#include "runtime.h"
#include "server.h"
#include "sgfilter.h"
#include "vpcnet.h"

/* Inside a VPC, ENIs have jumbo frames: the ECS ENI plugin sets 9001 on
 * every task's eth0, and so do EC2 instances' ENIs. */
#define VPC_MTU 9001

static const char *const watched[] = {
    "vpc", "subnet", "network-interface", "instance", "security-group",
    "security-group-rule",
};
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))
static unsigned long seen[NWATCHED];
static void forget_memo(json_t *vpc);
static json_t *vpc_memo(json_t *vpc, const char *what, json_t *replace);
static int setup_done(json_t *vpc, const char *what);
static void setup_mark(json_t *vpc, const char *what);
static int synced_once;

/* The hex part of an AWS id ("vpc-0abc..." -> "0abc..."). */
static const char *hexpart(const char *id)
{
    const char *dash = id ? strrchr(id, '-') : NULL;
    return dash ? dash + 1 : (id ? id : "");
}

/* The last n characters of the hex part, for interface names (15 bytes). */
static void short_hex(const char *id, size_t n, char *out, size_t len)
{
    const char *h = hexpart(id);
    size_t l = strlen(h);
    snprintf(out, len, "%s", l > n ? h + l - n : h);
}

void vpcnet_vpc_netns(const char *vpc_id, char *out, size_t len)
{
    snprintf(out, len, "ecsl-v-%s", hexpart(vpc_id));
}

void vpcnet_instance_netns(const char *instance_id, char *out, size_t len)
{
    snprintf(out, len, "ecsl-i-%s", hexpart(instance_id));
}

static void bridge_name(const char *subnet_id, char *out, size_t len)
{
    char h[16];
    short_hex(subnet_id, 9, h, sizeof(h));
    snprintf(out, len, "ecsl-b%s", h);
}

static void veth_names(const char *eni_id, char *vpc_side, char *peer, size_t len)
{
    char h[16];
    short_hex(eni_id, 9, h, sizeof(h));
    snprintf(vpc_side, len, "ecsl-e%s", h);
    snprintf(peer, len, "ecsl-p%s", h);
}

/* A locally administered MAC derived from an id (FNV-1a), stable across
 * restarts. */
void vpcnet_stable_mac(const char *id, uint8_t mac[6])
{
    unsigned long long h = 1469598103934665603ULL;
    for (const char *p = id ? id : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    mac[0] = 0x02;
    for (int i = 1; i < 6; i++)
        mac[i] = (uint8_t)(h >> (8 * i));
}

#define stable_mac vpcnet_stable_mac

/* ---- ownership markers ---- */

static void marker_path(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/netns/%s", runtime_root(), name);
}

void vpcnet_own(const char *name)
{
    char dir[700], path[800];
    snprintf(dir, sizeof(dir), "%s/netns", runtime_root());
    mkdir(dir, 0755);
    marker_path(name, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}

void vpcnet_disown(const char *name)
{
    char path[800];
    marker_path(name, path, sizeof(path));
    unlink(path);
}

/* ---- the desired state, read in one go ---- */

struct netstate {
    json_t *vpcs, *subnets, *enis, *instances, *rules;
    /* The ENIs new since the last sync, when nothing else changed (no
     * other ENI, VPC, subnet, instance or rule): what starting tasks
     * does.  NULL otherwise. */
    json_t *added;
    json_t *changed;        /* "account/region/id" of ENIs that changed */
    int subnet_gone;        /* a subnet was deleted */
};

/* Parsed documents of the last sync, by "type/account/region/id" ->
 * [version, document, mark]: a sync reads only the index of versions and
 * parses only what changed since, so its cost hardly grows with the
 * number of ENIs that stay as they were.  Only the reconciler thread
 * syncs. */
static json_t *doc_cache;
static json_int_t sync_mark;

struct collect_args {
    const char *type;
    json_t *out;
    json_t *added;          /* new ENIs */
    json_t *changed_enis;   /* "account/region/id" of ENIs that changed */
    int *changed;           /* set when anything else is new or different */
};

static int collect(const struct scope *s, const char *id, long long version, void *arg)
{
    struct collect_args *c = arg;
    char key[400];
    snprintf(key, sizeof(key), "%s/%s/%s/%s", c->type, s->account, s->region, id);
    json_t *hit = json_object_get(doc_cache, key);
    int eni = strcmp(c->type, "network-interface") == 0;
    json_t *doc;
    if (hit && json_integer_value(json_array_get(hit, 0)) == version) {
        doc = json_array_get(hit, 1);
        json_integer_set(json_array_get(hit, 2), sync_mark);
    } else {
        if (hit || !eni)
            *c->changed = 1;
        if (hit && eni)
            json_object_set_new(c->changed_enis, key + strlen("network-interface/"),
                                json_true());
        doc = store_get(server.db, s, c->type, id);
        if (!doc) {
            log_warn("network: unreadable %s %s", c->type, id);
            return 0;
        }
        json_object_set_new(doc, "_account", json_string(s->account));
        json_object_set_new(doc, "_region", json_string(s->region));
        json_object_set_new(doc_cache, key, json_pack("[I,o,I]", (json_int_t)version, doc,
                                                      sync_mark));
        if (!hit && eni)
            json_array_append(c->added, doc);
    }
    json_array_append(c->out, doc);
    return 0;
}

static void read_state(struct netstate *st)
{
    if (!doc_cache)
        doc_cache = json_object();
    sync_mark++;
    st->vpcs = json_array();
    st->subnets = json_array();
    st->enis = json_array();
    st->instances = json_array();
    st->rules = json_array();
    st->added = json_array();
    st->changed = json_object();
    st->subnet_gone = 0;
    int changed = 0;
    struct { const char *type; json_t *out; } kinds[] = {
        { "vpc", st->vpcs }, { "subnet", st->subnets }, { "network-interface", st->enis },
        { "instance", st->instances }, { "security-group-rule", st->rules },
    };
    db_lock(server.db);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct collect_args c = { kinds[i].type, kinds[i].out, st->added, st->changed,
                                  &changed };
        store_each_version(server.db, kinds[i].type, collect, &c);
    }
    db_unlock(server.db);
    /* Forget what is gone: whatever this walk did not mark. */
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(doc_cache, tmp, key, v)
        if (json_integer_value(json_array_get(v, 2)) != sync_mark) {
            if (strncmp(key, "subnet/", 7) == 0)
                st->subnet_gone = 1;
            json_object_del(doc_cache, key);
            changed = 1;
        }
    if (changed) {
        json_decref(st->added);
        st->added = NULL;
    }
}

static void free_state(struct netstate *st)
{
    json_decref(st->vpcs);
    json_decref(st->subnets);
    json_decref(st->enis);
    json_decref(st->instances);
    json_decref(st->rules);
    json_decref(st->added);
    json_decref(st->changed);
}

static int same_scope(json_t *a, json_t *b)
{
    const char *aa = jstr(a, "_account"), *ab = jstr(b, "_account");
    const char *ra = jstr(a, "_region"), *rb = jstr(b, "_region");
    return aa && ab && ra && rb && strcmp(aa, ab) == 0 && strcmp(ra, rb) == 0;
}

/* Whether doc (an ENI or a subnet) belongs to the VPC vpc. */
static int in_vpc(json_t *doc, json_t *vpc)
{
    return same_scope(doc, vpc) && jstr(doc, "VpcId") &&
           strcmp(jstr(doc, "VpcId"), jstr(vpc, "VpcId")) == 0;
}

static json_t *find_doc(json_t *list, const char *key, const char *id, json_t *scope_of)
{
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
        if (jstr(d, key) && id && strcmp(jstr(d, key), id) == 0 &&
            (!scope_of || same_scope(d, scope_of)))
            return d;
    return NULL;
}

/* ---- VPCs and subnets ---- */

/* The VPC router: a namespace with forwarding on, redirects off and the
 * resolver address on its loopback.  Whether that setup was completed is
 * remembered (setup_done), not inferred from the namespace existing: a
 * setup that failed half-way, or a server killed during one, leaves a
 * namespace that exists but does not route, and the next sync must finish
 * the job.  Once done, a sync only checks that the namespace is there. */
static int ensure_vpc(json_t *vpc, char *err, size_t errlen)
{
    char name[64];
    struct cidr cidr;
    vpcnet_vpc_netns(jstr(vpc, "VpcId"), name, sizeof(name));
    if (cidr_parse(jstr(vpc, "CidrBlock") ? jstr(vpc, "CidrBlock") : "", &cidr) < 0) {
        snprintf(err, errlen, "VPC %s has no CIDR block", jstr(vpc, "VpcId"));
        return -1;
    }
    int fresh = !netns_exists(name);
    if (fresh) {
        if (netns_create(name, err, errlen) < 0)
            return -1;
        /* A namespace made anew has none of what was applied to it, not
         * even the resolver's sockets (bound in the namespace it
         * replaces, if one was removed behind our back). */
        forget_memo(vpc);
        dns_unlisten_vpc(name);
    }
    if (!setup_done(vpc, "router"))
        vpcnet_own(name);
    int fd = netns_open(name);
    if (fd < 0) {
        snprintf(err, errlen, "opening %s: %s", name, strerror(errno));
        return -1;
    }
    if (!setup_done(vpc, "router")) {
        /* The VPC router: forwards between its subnets, never redirects
         * (an ENI's traffic goes back out the bridge it came from). */
        static const char *const sysctls[][2] = {
            { "/proc/sys/net/ipv4/ip_forward", "1" },
            { "/proc/sys/net/ipv4/conf/all/send_redirects", "0" },
            { "/proc/sys/net/ipv4/conf/default/send_redirects", "0" },
        };
        for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++)
            if (netns_sysctl(fd, sysctls[i][0], sysctls[i][1]) < 0) {
                snprintf(err, errlen, "%s: writing %s failed", name, sysctls[i][0]);
                close(fd);
                return -1;
            }
        /* The Amazon-provided resolver at VPC base + 2. */
        struct nl nl;
        int rc = nl_open(&nl, fd);
        if (rc == 0) {
            rc = nl_addr_add(&nl, 1, cidr.base + 2, 32);
            nl_close(&nl);
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s: the resolver address: %s", name, strerror(-rc));
            close(fd);
            return -1;
        }
        setup_mark(vpc, "router");
    }
    dns_listen_vpc(fd, cidr.base + 2, jstr(vpc, "_account"), jstr(vpc, "_region"),
                   jstr(vpc, "VpcId"));
    close(fd);
    return 0;
}

/* A subnet's bridge.  As for the VPC, a bridge that exists is done only if
 * a setup of it completed since the namespace was last made or this server
 * started; every step is safe to repeat on a bridge set up before. */
static int ensure_bridge(json_t *vpc, int vpcfd, json_t *subnet, char *err, size_t errlen)
{
    char br[32], path[128];
    struct cidr cidr;
    if (cidr_parse(jstr(subnet, "CidrBlock") ? jstr(subnet, "CidrBlock") : "", &cidr) < 0) {
        snprintf(err, errlen, "subnet %s has no CIDR", jstr(subnet, "SubnetId"));
        return -1;
    }
    bridge_name(jstr(subnet, "SubnetId"), br, sizeof(br));
    struct nl nl;
    int rc = nl_open(&nl, vpcfd);
    if (rc < 0) {
        snprintf(err, errlen, "netlink: %s", strerror(-rc));
        return -1;
    }
    int idx = nl_ifindex(&nl, br);
    if (idx > 0 && setup_done(vpc, br)) {
        nl_close(&nl);
        return 0;
    }
    if (idx < 0) {
        rc = nl_bridge_create(&nl, br, VPC_MTU);
        if (rc < 0 && rc != -EEXIST)
            goto fail;
        idx = nl_ifindex(&nl, br);
        if (idx < 0) {
            rc = idx;
            goto fail;
        }
        /* The router's neighbour entries on the bridge it replaces (if it
         * was removed behind our back) went with it. */
        vpc_memo(vpc, "neigh", json_null());
    }
    /* A MAC of its own: a bridge otherwise takes the lowest of its
     * ports' and changes it as ENIs come and go, and every task's ARP
     * entry for its gateway goes stale (the ECS bridge plugin does the
     * same for this reason). */
    uint8_t mac[6];
    stable_mac(jstr(subnet, "SubnetId"), mac);
    if ((rc = nl_link_set_mac(&nl, idx, mac)) < 0)
        goto fail;
    /* The gateway; and answer ARP for the isolated ports. */
    if ((rc = nl_addr_add(&nl, idx, cidr.base + 1, cidr.prefix)) < 0 ||
        (rc = nl_link_up(&nl, idx)) < 0)
        goto fail;
    /* The kernel holds each proxy ARP answer back a random 0-800 ms
     * (proxy_delay); a task's first packet to a neighbour in its subnet
     * would wait that long. */
    static const char *const sysctls[][3] = {
        { "conf", "proxy_arp_pvlan", "1" },
        { "conf", "send_redirects", "0" },
        { "neigh", "proxy_delay", "0" },
    };
    for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
        snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s/%s/%s", sysctls[i][0], br,
                 sysctls[i][1]);
        if (netns_sysctl(vpcfd, path, sysctls[i][2]) < 0) {
            snprintf(err, errlen, "bridge %s: writing %s failed", br, path);
            nl_close(&nl);
            return -1;
        }
    }
    nl_close(&nl);
    setup_mark(vpc, br);
    return 0;
fail:
    snprintf(err, errlen, "bridge %s: %s", br, strerror(-rc));
    nl_close(&nl);
    return -1;
}

/* ---- ENIs ---- */

static json_t *lookup(const struct scope *s, const char *type, const char *id)
{
    db_lock(server.db);
    json_t *doc = store_get(server.db, s, type, id);
    db_unlock(server.db);
    return doc;
}

int vpcnet_plug(const struct scope *s, json_t *eni, int nsfd, const char *ifname, int primary,
                char *err, size_t errlen)
{
    const char *eni_id = jstr(eni, "NetworkInterfaceId");
    json_t *subnet = lookup(s, "subnet", jstr(eni, "SubnetId"));
    json_t *vpc = subnet ? lookup(s, "vpc", jstr(subnet, "VpcId")) : NULL;
    char vpcns[64], vside[32], peer[32], br[32];
    struct cidr cidr;
    int rc = -1, vpcfd = -1;
    struct nl vnl = { 0 }, tnl = { 0 };
    if (!subnet || !vpc) {
        snprintf(err, errlen, "the subnet or VPC of %s is gone", eni_id);
        goto out;
    }
    json_object_set_new(vpc, "_account", json_string(s->account));
    json_object_set_new(vpc, "_region", json_string(s->region));
    if (ensure_vpc(vpc, err, errlen) < 0)
        goto out;
    vpcnet_vpc_netns(jstr(vpc, "VpcId"), vpcns, sizeof(vpcns));
    if ((vpcfd = netns_open(vpcns)) < 0 || ensure_bridge(vpc, vpcfd, subnet, err, errlen) < 0)
        goto out;
    cidr_parse(jstr(subnet, "CidrBlock"), &cidr);
    veth_names(eni_id, vside, peer, sizeof(vside));
    bridge_name(jstr(subnet, "SubnetId"), br, sizeof(br));
    int e;
    if ((e = nl_open(&vnl, vpcfd)) < 0 || (e = nl_open(&tnl, nsfd)) < 0) {
        snprintf(err, errlen, "netlink: %s", strerror(-e));
        goto out;
    }
    int old = nl_ifindex(&vnl, vside);
    if (old > 0)
        nl_link_delete(&vnl, old);
    if ((e = nl_veth_create(&vnl, vside, peer, nsfd, VPC_MTU)) < 0) {
        snprintf(err, errlen, "creating veth %s: %s", vside, strerror(-e));
        goto out;
    }
    int vidx = nl_ifindex(&vnl, vside), bidx = nl_ifindex(&vnl, br);
    if (vidx < 0 || bidx < 0 || (e = nl_link_set_master(&vnl, vidx, bidx)) < 0 ||
        (e = nl_bridge_port_isolate(&vnl, vidx)) < 0 || (e = nl_link_up(&vnl, vidx)) < 0) {
        snprintf(err, errlen, "attaching %s to %s: %s", vside, br, strerror(e < 0 ? -e : ENODEV));
        goto undo;
    }
    int tidx = nl_ifindex(&tnl, peer);
    uint8_t mac[6];
    if (tidx < 0 || (e = nl_link_rename(&tnl, tidx, ifname)) < 0) {
        snprintf(err, errlen, "naming %s %s: %s", peer, ifname, strerror(e < 0 ? -e : ENODEV));
        goto undo;
    }
    if (jstr(eni, "MacAddress") && mac_parse(jstr(eni, "MacAddress"), mac) == 0 &&
        (e = nl_link_set_mac(&tnl, tidx, mac)) < 0) {
        snprintf(err, errlen, "setting the MAC of %s: %s", ifname, strerror(-e));
        goto undo;
    }
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), i, a) {
        uint32_t ip;
        if (ip_parse(jstr(a, "PrivateIpAddress") ? jstr(a, "PrivateIpAddress") : "", &ip) == 0 &&
            (e = nl_addr_add(&tnl, tidx, ip, cidr.prefix)) < 0) {
            snprintf(err, errlen, "adding an address to %s: %s", ifname, strerror(-e));
            goto undo;
        }
    }
    if ((e = nl_link_up(&tnl, tidx)) < 0) {
        snprintf(err, errlen, "bringing %s up: %s", ifname, strerror(-e));
        goto undo;
    }
    if (primary && (e = nl_route_add(&tnl, 0, 0, cidr.base + 1, tidx)) < 0) {
        snprintf(err, errlen, "default route via the subnet gateway: %s", strerror(-e));
        goto undo;
    }
    rc = 0;
    goto out;
undo:
    vidx = nl_ifindex(&vnl, vside);
    if (vidx > 0)
        nl_link_delete(&vnl, vidx);
out:
    if (vnl.sock)
        nl_close(&vnl);
    if (tnl.sock)
        nl_close(&tnl);
    if (vpcfd >= 0)
        close(vpcfd);
    json_decref(subnet);
    json_decref(vpc);
    return rc;
}

void vpcnet_unplug(const struct scope *s, const char *vpc_id, const char *eni_id)
{
    (void)s;
    char vpcns[64], vside[32], peer[32];
    vpcnet_vpc_netns(vpc_id, vpcns, sizeof(vpcns));
    veth_names(eni_id, vside, peer, sizeof(vside));
    int fd = netns_open(vpcns);
    if (fd < 0)
        return;
    struct nl nl;
    if (nl_open(&nl, fd) == 0) {
        int idx = nl_ifindex(&nl, vside);
        if (idx > 0)
            nl_link_delete(&nl, idx);
        nl_close(&nl);
    }
    close(fd);
}

/* ---- instances ---- */

static int instance_wanted(json_t *inst)
{
    const char *state = jstr(json_object_get(inst, "State"), "Name");
    return !state || (strcmp(state, "terminated") != 0 && strcmp(state, "shutting-down") != 0);
}

struct wanted_addrs {
    json_t *want;           /* "a.b.c.d" -> true, taken off as found */
    uint32_t drop[64];
    int prefix[64], ndrop;
};

static int note_addr(uint32_t ip, int prefix, void *arg)
{
    struct wanted_addrs *w = arg;
    char text[16];
    ip_format(ip, text, sizeof(text));
    if (json_object_get(w->want, text))
        json_object_del(w->want, text);
    else if (w->ndrop < 64) {
        w->drop[w->ndrop] = ip;
        w->prefix[w->ndrop++] = prefix;
    }
    return 0;
}

/* An instance's interface holds the ENI's addresses of today: secondary
 * addresses assigned or unassigned since it was plugged come or go. */
static void sync_addresses(struct nl *nl, int ifindex, json_t *eni, json_t *subnet)
{
    struct cidr cidr;
    if (!subnet || cidr_parse(jstr(subnet, "CidrBlock") ? jstr(subnet, "CidrBlock") : "",
                              &cidr) < 0)
        return;
    struct wanted_addrs w = { json_object(), { 0 }, { 0 }, 0 };
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), i, a)
        if (jstr(a, "PrivateIpAddress"))
            json_object_set_new(w.want, jstr(a, "PrivateIpAddress"), json_true());
    int rc = nl_addr_each(nl, ifindex, note_addr, &w);
    for (int k = 0; rc == 0 && k < w.ndrop; k++)
        rc = nl_addr_del(nl, ifindex, w.drop[k], w.prefix[k]);
    const char *ip;
    json_t *v;
    json_object_foreach(w.want, ip, v) {
        uint32_t addr;
        if (rc == 0 && ip_parse(ip, &addr) == 0)
            rc = nl_addr_add(nl, ifindex, addr, cidr.prefix);
    }
    if (rc < 0)
        log_warn("network: addresses of %s: %s", jstr(eni, "NetworkInterfaceId"),
                 strerror(-rc));
    json_decref(w.want);
}

static void plug_instance(json_t *inst, struct netstate *st, json_t *desired)
{
    json_t *enis = st->enis;
    char name[64], err[300];
    const char *iid = jstr(inst, "InstanceId");
    vpcnet_instance_netns(iid, name, sizeof(name));
    if (netns_create(name, err, sizeof(err)) < 0) {
        log_warn("instance %s: %s", iid, err);
        return;
    }
    vpcnet_own(name);
    json_object_set_new(desired, name, json_true());
    int fd = netns_open(name);
    if (fd < 0)
        return;
    struct nl nl;
    if (nl_open(&nl, fd) < 0) {
        close(fd);
        return;
    }
    struct scope s = { jstr(inst, "_account"), jstr(inst, "_region") };
    size_t i;
    json_t *eni;
    json_array_foreach(enis, i, eni) {
        json_t *att = json_object_get(eni, "Attachment");
        if (!same_scope(eni, inst) || !jstr(att, "InstanceId") || strcmp(jstr(att, "InstanceId"), iid) != 0)
            continue;
        /* A task's ENI (requester-managed) is attached to the instance in
         * EC2's books but plugged into the task's own namespace. */
        if (json_is_true(json_object_get(eni, "RequesterManaged")))
            continue;
        long long dev = json_integer_value(json_object_get(att, "DeviceIndex"));
        char ifname[16];
        snprintf(ifname, sizeof(ifname), "eth%lld", dev);
        /* eth<N> is the ENI attached at N, told apart by its MAC (each
         * ENI's is unique): one left by an ENI detached or moved since the
         * last sync makes way.  Deleting either end of a veth deletes both. */
        uint8_t have[6], want[6];
        int idx = nl_link_mac(&nl, ifname, have);
        if (idx > 0) {
            if (!jstr(eni, "MacAddress") || mac_parse(jstr(eni, "MacAddress"), want) < 0)
                continue;
            if (memcmp(have, want, 6) == 0) {
                char key[300];
                snprintf(key, sizeof(key), "%s/%s/%s", s.account, s.region,
                         jstr(eni, "NetworkInterfaceId"));
                if (json_object_get(st->changed, key))
                    sync_addresses(&nl, idx, eni,
                                   find_doc(st->subnets, "SubnetId", jstr(eni, "SubnetId"), eni));
                continue;
            }
            int e = nl_link_delete(&nl, idx);
            if (e < 0) {
                log_warn("instance %s: removing the %s of another interface: %s", iid,
                         ifname, strerror(-e));
                continue;
            }
            log_info("network: instance %s: %s is now %s", iid, ifname,
                     jstr(eni, "NetworkInterfaceId"));
        }
        if (vpcnet_plug(&s, eni, fd, ifname, dev == 0, err, sizeof(err)) < 0)
            log_warn("instance %s: plugging %s: %s", iid, jstr(eni, "NetworkInterfaceId"), err);
    }
    nl_close(&nl);
    close(fd);
}

/* ---- stale objects ---- */

struct stale_links {
    json_t *keep;       /* names to keep */
    const char *prefix; /* of the links looked at: "ecsl-e" veths, "ecsl-b" bridges */
    char names[256][32];
    int n, more;        /* more: there were more than names holds */
};

static int note_link(const char *name, int ifindex, void *arg)
{
    (void)ifindex;
    struct stale_links *s = arg;
    if (strncmp(name, s->prefix, strlen(s->prefix)) != 0 || json_object_get(s->keep, name))
        return 0;
    if (s->n < 256)
        snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
    else
        s->more = 1;
    return 0;
}

/* What the last sync left in each VPC namespace ("account/region/vpc" ->
 * {"links": {veth: true}, "neigh": {"ifindex/ip": mac}, "ready": {"router"
 * or bridge: true}}), so the next one asks the kernel only about what
 * changed.  Forgotten with the namespace and whenever the kernel refused
 * something. */
static json_t *memo;

void vpcnet_key(json_t *vpc, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s", jstr(vpc, "_account") ? jstr(vpc, "_account") : "",
             jstr(vpc, "_region") ? jstr(vpc, "_region") : "",
             jstr(vpc, "VpcId") ? jstr(vpc, "VpcId") : "");
}

static json_t *vpc_memo(json_t *vpc, const char *what, json_t *replace)
{
    char key[128];
    vpcnet_key(vpc, key, sizeof(key));
    if (!memo)
        memo = json_object();
    json_t *m = json_object_get(memo, key);
    if (!m) {
        m = json_object();
        json_object_set_new(memo, key, m);
    }
    if (replace)
        json_object_set_new(m, what, replace);
    json_t *v = json_object_get(m, what);
    return json_is_object(v) ? v : NULL;
}

/* Whether the setup of what (the VPC router, or a bridge by name) in the
 * VPC's namespace completed: only a complete one is marked, so one that
 * failed half-way is done again by the next sync. */
static int setup_done(json_t *vpc, const char *what)
{
    return json_object_get(vpc_memo(vpc, "ready", NULL), what) != NULL;
}

static void setup_mark(json_t *vpc, const char *what)
{
    json_t *ready = vpc_memo(vpc, "ready", NULL);
    if (!ready)
        ready = vpc_memo(vpc, "ready", json_object());
    json_object_set_new(ready, what, json_true());
}

/* Forget what was done in the VPC (NULL: in every VPC), the security
 * group table applied included. */
static void forget_memo(json_t *vpc)
{
    char key[128];
    sgfilter_forget(vpc);
    if (memo && !vpc) {
        json_object_clear(memo);
    } else if (memo) {
        vpcnet_key(vpc, key, sizeof(key));
        json_object_del(memo, key);
    }
}

/* Whether every key of old is still in now (nothing went away). */
static int only_added(json_t *old, json_t *now)
{
    const char *k;
    json_t *v;
    json_object_foreach(old, k, v)
        if (!json_object_get(now, k))
            return 0;
    return 1;
}

static void instance_key(json_t *doc, const char *iid, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s", jstr(doc, "_account") ? jstr(doc, "_account") : "",
             jstr(doc, "_region") ? jstr(doc, "_region") : "", iid ? iid : "");
}

/* Whether an ENI's veth is to stay.  A task's ENI (requester-managed) is
 * plugged and unplugged by its task (tasks.c), which deletes the ENI only
 * after unplugging it: its veth stays as long as the ENI does, whatever
 * its attachment says (terminating an instance detaches the ENIs of its
 * tasks before they have stopped).  Any other ENI is plugged only into an
 * instance it is attached to (plug_instance): detached, or on an instance
 * that is gone, it has no interface anywhere, as in EC2. */
static int veth_wanted(json_t *eni, json_t *running)
{
    if (json_is_true(json_object_get(eni, "RequesterManaged")))
        return 1;
    const char *iid = jstr(json_object_get(eni, "Attachment"), "InstanceId");
    char key[200];
    if (!iid)
        return 0;
    instance_key(eni, iid, key, sizeof(key));
    return json_object_get(running, key) != NULL;
}

/* Delete the veths of ENIs that no longer exist or are no longer attached
 * (veth_wanted; running: the instances that run, by instance_key): a dump
 * of the namespace's links, done only when one went away since the last
 * look. */
static void prune_links(json_t *vpc, json_t *enis, json_t *running, int only_added_enis)
{
    /* New ENIs take nothing away (the memory of links may lack them: the
     * next full look only asks whether what it holds is still wanted). */
    if (only_added_enis && vpc_memo(vpc, "links", NULL))
        return;
    char vpcns[64];
    vpcnet_vpc_netns(jstr(vpc, "VpcId"), vpcns, sizeof(vpcns));
    int fd = netns_open(vpcns);
    if (fd < 0)
        return;
    struct stale_links s = { json_object(), "ecsl-e", { { 0 } }, 0, 0 };
    size_t i;
    json_t *eni;
    json_array_foreach(enis, i, eni) {
        if (!in_vpc(eni, vpc) || !veth_wanted(eni, running))
            continue;
        char vside[32], peer[32];
        veth_names(jstr(eni, "NetworkInterfaceId"), vside, peer, sizeof(vside));
        json_object_set_new(s.keep, vside, json_true());
    }
    json_t *last = vpc_memo(vpc, "links", NULL);
    if (last && only_added(last, s.keep)) {
        vpc_memo(vpc, "links", json_incref(s.keep));
        json_decref(s.keep);
        close(fd);
        return;
    }
    struct nl nl;
    if (nl_open(&nl, fd) == 0) {
        nl_link_each(&nl, note_link, &s);
        for (int k = 0; k < s.n; k++) {
            int idx = nl_ifindex(&nl, s.names[k]);
            if (idx > 0)
                nl_link_delete(&nl, idx);
        }
        /* More than one look's worth: the next sync looks again. */
        vpc_memo(vpc, "links", s.more ? json_null() : json_incref(s.keep));
        nl_close(&nl);
    }
    json_decref(s.keep);
    close(fd);
}

/* Delete the bridges of the VPC's subnets that are gone: a subnet made
 * later with the same CIDR would find its gateway address taken. */
static void prune_bridges(json_t *vpc, json_t *subnets)
{
    char vpcns[64];
    vpcnet_vpc_netns(jstr(vpc, "VpcId"), vpcns, sizeof(vpcns));
    int fd = netns_open(vpcns);
    if (fd < 0)
        return;
    struct stale_links s = { json_object(), "ecsl-b", { { 0 } }, 0, 0 };
    size_t i;
    json_t *subnet;
    json_array_foreach(subnets, i, subnet) {
        if (!in_vpc(subnet, vpc))
            continue;
        char br[32];
        bridge_name(jstr(subnet, "SubnetId"), br, sizeof(br));
        json_object_set_new(s.keep, br, json_true());
    }
    struct nl nl;
    if (nl_open(&nl, fd) == 0) {
        nl_link_each(&nl, note_link, &s);
        json_t *ready = vpc_memo(vpc, "ready", NULL);
        for (int k = 0; k < s.n; k++) {
            int idx = nl_ifindex(&nl, s.names[k]);
            if (idx > 0 && nl_link_delete(&nl, idx) == 0)
                log_info("network: removed the bridge %s of a deleted subnet", s.names[k]);
            json_object_del(ready, s.names[k]);
        }
        nl_close(&nl);
    }
    json_decref(s.keep);
    close(fd);
}

/* ---- neighbours ---- */

struct neigh_sync {
    json_t *want;                 /* "ifindex/ip" -> "mac", of every ENI */
    struct { int ifindex; uint32_t ip; } *drop;
    size_t ndrop, cap;
};

static void neigh_key(int ifindex, uint32_t ip, char *out, size_t len)
{
    snprintf(out, len, "%d/%u", ifindex, ip);
}

static int push_drop(struct neigh_sync *ns, int ifindex, uint32_t ip)
{
    if (ns->ndrop == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 16;
        void *p = realloc(ns->drop, cap * sizeof(*ns->drop));
        if (!p)
            return 1;
        ns->drop = p;
        ns->cap = cap;
    }
    ns->drop[ns->ndrop].ifindex = ifindex;
    ns->drop[ns->ndrop++].ip = ip;
    return 0;
}

/* During the dump: entries already right are taken off the wanted list,
 * the rest are remembered for deletion (a socket that is dumping cannot
 * also be asked to change anything). */
static int note_neigh(int ifindex, uint32_t ip, const uint8_t mac[6], void *arg)
{
    struct neigh_sync *ns = arg;
    char key[32], text[18];
    neigh_key(ifindex, ip, key, sizeof(key));
    snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5]);
    const char *want = json_string_value(json_object_get(ns->want, key));
    if (want && strcasecmp(want, text) == 0) {
        json_object_del(ns->want, key);
        return 0;
    }
    if (!want)
        return push_drop(ns, ifindex, ip);
    return 0;
}

static void note_drop(struct neigh_sync *ns, const char *key)
{
    int ifindex;
    uint32_t ip;
    if (sscanf(key, "%d/%u", &ifindex, &ip) == 2)
        push_drop(ns, ifindex, ip);
}

/* The router of a VPC knows the MAC of every ENI of the VPC before any of
 * them comes up: a packet for a task that is still starting waits in no
 * ARP queue (the kernel would ask again only after a second) and reaches
 * it the moment its link is up. */
static void sync_neighbours(int vpcfd, json_t *vpc, json_t *enis, json_t *added)
{
    struct nl nl;
    if (nl_open(&nl, vpcfd) < 0)
        return;
    /* Only new ENIs (and a memory to add them to): only their entries. */
    json_t *last = vpc_memo(vpc, "neigh", NULL);
    if (added && last)
        enis = added;
    else
        added = NULL;
    struct neigh_sync ns = { json_object(), NULL, 0, 0 };
    json_t *bridges = json_object();         /* subnet id -> ifindex */
    size_t i, j;
    json_t *eni, *a;
    json_array_foreach(enis, i, eni) {
        const char *subnet = jstr(eni, "SubnetId"), *mac = jstr(eni, "MacAddress");
        if (!in_vpc(eni, vpc) || !subnet || !mac)
            continue;
        json_t *known = json_object_get(bridges, subnet);
        if (!known) {
            char br[32];
            bridge_name(subnet, br, sizeof(br));
            known = json_integer(nl_ifindex(&nl, br));
            json_object_set_new(bridges, subnet, known);
        }
        int bidx = (int)json_integer_value(known);
        if (bidx <= 0)
            continue;
        json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), j, a) {
            uint32_t ip;
            char key[32];
            if (ip_parse(jstr(a, "PrivateIpAddress") ? jstr(a, "PrivateIpAddress") : "", &ip) < 0)
                continue;
            neigh_key(bidx, ip, key, sizeof(key));
            json_object_set_new(ns.want, key, json_string(mac));
        }
    }
    json_t *all = added ? NULL : json_deep_copy(ns.want);
    const char *key;
    json_t *mac, *tmp;
    if (added) {
        json_object_foreach_safe(ns.want, tmp, key, mac) {
            json_t *had = json_object_get(last, key);
            if (had && json_equal(had, mac))
                json_object_del(ns.want, key);
        }
    } else if (last) {
        /* Only the difference from what the last sync left. */
        json_object_foreach(last, key, mac) {
            json_t *now = json_object_get(ns.want, key);
            if (now && json_equal(now, mac))
                json_object_del(ns.want, key);
            else if (!now)
                note_drop(&ns, key);
        }
    } else {
        nl_neigh_each_permanent(&nl, note_neigh, &ns);
    }
    int rc = 0;
    for (size_t k = 0; k < ns.ndrop; k++)
        rc |= nl_neigh_del(&nl, ns.drop[k].ifindex, ns.drop[k].ip);
    json_object_foreach(ns.want, key, mac) {
        int ifindex;
        uint32_t ip;
        uint8_t m[6];
        if (sscanf(key, "%d/%u", &ifindex, &ip) == 2 && mac_parse(json_string_value(mac), m) == 0)
            rc |= nl_neigh_set(&nl, ifindex, ip, m);
    }
    /* After a refusal the next sync looks at the kernel again. */
    if (added && !rc)
        json_object_update(last, ns.want);
    else
        vpc_memo(vpc, "neigh", rc ? json_null() : all);
    if (rc) {
        json_decref(all);
        log_warn("network: neighbour entries of %s: %s", jstr(vpc, "VpcId"), strerror(-rc));
    }
    free(ns.drop);
    json_decref(ns.want);
    json_decref(bridges);
    nl_close(&nl);
}

/* Remove our VPC and instance namespaces that are no longer wanted. */
static void prune_namespaces(json_t *desired)
{
    char dir[700];
    snprintf(dir, sizeof(dir), "%s/netns", runtime_root());
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "ecsl-v-", 7) != 0 && strncmp(e->d_name, "ecsl-i-", 7) != 0)
            continue;
        if (json_object_get(desired, e->d_name))
            continue;
        if (strncmp(e->d_name, "ecsl-v-", 7) == 0) {
            dns_unlisten_vpc(e->d_name);
        } else {
            /* Our metadata listener would keep the namespace alive. */
            char owner[64];
            snprintf(owner, sizeof(owner), "instance:i-%s", e->d_name + 7);
            listeners_remove(owner);
        }
        netns_delete(e->d_name);
        vpcnet_disown(e->d_name);
        log_info("network: removed %s", e->d_name);
    }
    closedir(d);
}

/* After a sync that could not do everything (a namespace, bridge or
 * table the kernel refused), when to try again though nothing changed:
 * 1 s later, then twice as long each time, up to a minute. */
static double retry_at, retry_wait;

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int vpcnet_stale(void)
{
    if (!synced_once)
        return 1;
    if (retry_at > 0 && mono_seconds() >= retry_at)
        return 1;
    for (size_t i = 0; i < NWATCHED; i++)
        if (store_generation(watched[i]) != seen[i])
            return 1;
    return 0;
}

int vpcnet_sync(void)
{
    if (!server.networking)
        return 0;
    for (size_t i = 0; i < NWATCHED; i++)
        seen[i] = store_generation(watched[i]);
    synced_once = 1;
    struct netstate st;
    read_state(&st);
    json_t *desired = json_object();
    int rc = 0;
    char err[300];
    size_t i;
    json_t *vpc, *subnet, *inst;
    json_array_foreach(st.vpcs, i, vpc) {
        char name[64];
        vpcnet_vpc_netns(jstr(vpc, "VpcId"), name, sizeof(name));
        json_object_set_new(desired, name, json_true());
        if (ensure_vpc(vpc, err, sizeof(err)) < 0) {
            log_warn("network: VPC %s: %s", jstr(vpc, "VpcId"), err);
            rc = -1;
        }
    }
    json_array_foreach(st.subnets, i, subnet) {
        json_t *v = find_doc(st.vpcs, "VpcId", jstr(subnet, "VpcId"), subnet);
        char name[64];
        if (!v)
            continue;
        vpcnet_vpc_netns(jstr(v, "VpcId"), name, sizeof(name));
        int fd = netns_open(name);
        if (fd < 0 || ensure_bridge(v, fd, subnet, err, sizeof(err)) < 0) {
            log_warn("network: subnet %s: %s", jstr(subnet, "SubnetId"), fd < 0 ? "no VPC namespace" : err);
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
    }
    json_t *running = json_object();
    json_array_foreach(st.instances, i, inst) {
        if (!instance_wanted(inst))
            continue;
        char key[200];
        instance_key(inst, jstr(inst, "InstanceId"), key, sizeof(key));
        json_object_set_new(running, key, json_true());
        plug_instance(inst, &st, desired);
    }
    json_array_foreach(st.vpcs, i, vpc) {
        prune_links(vpc, st.enis, running, st.added != NULL);
        if (st.subnet_gone)
            prune_bridges(vpc, st.subnets);
        char name[64];
        vpcnet_vpc_netns(jstr(vpc, "VpcId"), name, sizeof(name));
        int fd = netns_open(name);
        if (fd >= 0) {
            sync_neighbours(fd, vpc, st.enis, st.added);
            if ((!st.added || sgfilter_add(fd, vpc, st.added, err, sizeof(err)) <= 0) &&
                sgfilter_apply(fd, vpc, st.enis, st.rules, err, sizeof(err)) < 0) {
                log_warn("network: security groups of %s: %s", jstr(vpc, "VpcId"), err);
                rc = -1;
            }
            close(fd);
        }
    }
    prune_namespaces(desired);
    json_decref(running);
    json_decref(desired);
    free_state(&st);
    if (rc < 0) {
        retry_wait = retry_wait > 0 ? (retry_wait * 2 > 60 ? 60 : retry_wait * 2) : 1;
        retry_at = mono_seconds() + retry_wait;
    } else {
        retry_at = retry_wait = 0;
    }
    return rc;
}

void vpcnet_teardown(void)
{
    char dir[700];
    snprintf(dir, sizeof(dir), "%s/netns", runtime_root());
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, "ecsl-", 5) != 0)
                continue;
            if (strncmp(e->d_name, "ecsl-v-", 7) == 0) {
                dns_unlisten_vpc(e->d_name);
            } else if (strncmp(e->d_name, "ecsl-i-", 7) == 0) {
                char owner[64];
                snprintf(owner, sizeof(owner), "instance:i-%s", e->d_name + 7);
                listeners_remove(owner);
            }
            netns_delete(e->d_name);
            vpcnet_disown(e->d_name);
        }
        closedir(d);
    }
    forget_memo(NULL);
    synced_once = 0;
    retry_at = retry_wait = 0;
}
