/*
 * Networking inside a container instance (see instnet.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/jget.h"
#include "../api/buf.h"
#include "../api/cidr.h"
#include "../storage/db.h"
#include "../storage/store.h"
#include "instnet.h"
#include "listeners.h"
#include "log.h"
#include "netlink.h"
#include "netns.h"
#include "nft.h"
#include "server.h"
#include "vpcnet.h"

#define METADATA_IP 0xa9feaa02u     /* 169.254.170.2 */
#define DOCKER_NET 0xac110000u      /* 172.17.0.0/16 */
#define DOCKER_PREFIX 16
#define DOCKER_BRIDGE "ecsl-d0"

/* 169.254.170.2 on the namespace's loopback, and our listener there. */
static int metadata_endpoint(int nsfd, const char *owner, char *err, size_t errlen)
{
    struct nl nl;
    int e = nl_open(&nl, nsfd);
    if (e < 0) {
        snprintf(err, errlen, "netlink: %s", strerror(-e));
        return -1;
    }
    e = nl_addr_add(&nl, 1, METADATA_IP, 32);
    nl_close(&nl);
    if (e < 0) {
        snprintf(err, errlen, "metadata address: %s", strerror(-e));
        return -1;
    }
    return listeners_add(owner, nsfd, METADATA_IP, 80, err, errlen);
}

static json_t *instance_of(const struct scope *s, const char *ci_arn, char *ec2_id, size_t len)
{
    const char *slash = ci_arn ? strrchr(ci_arn, '/') : NULL;
    if (!slash)
        return NULL;
    db_lock(server.db);
    json_t *ci = store_get(server.db, s, "ecs-container-instance", slash + 1);
    json_t *inst = ci ? store_get(server.db, s, "instance", jstr(ci, "ec2InstanceId")) : NULL;
    if (ci)
        snprintf(ec2_id, len, "%s", jstr(ci, "ec2InstanceId") ? jstr(ci, "ec2InstanceId") : "");
    db_unlock(server.db);
    json_decref(ci);
    return inst;
}

int instnet_instance(const struct scope *s, const char *ci_arn, char *name, size_t len,
                     char *err, size_t errlen)
{
    char ec2_id[32] = "";
    json_t *inst = instance_of(s, ci_arn, ec2_id, sizeof(ec2_id));
    if (!inst) {
        snprintf(err, errlen, "the container instance %s has no EC2 instance", ci_arn ? ci_arn : "?");
        return -1;
    }
    json_decref(inst);
    vpcnet_instance_netns(ec2_id, name, len);
    if (!netns_exists(name) && vpcnet_sync() < 0 && !netns_exists(name)) {
        snprintf(err, errlen, "the namespace of instance %s could not be made", ec2_id);
        return -1;
    }
    int fd = netns_open(name);
    if (fd < 0) {
        snprintf(err, errlen, "no namespace for instance %s", ec2_id);
        return -1;
    }
    char owner[64];
    snprintf(owner, sizeof(owner), "instance:%s", ec2_id);
    int rc = 0;
    if (!listeners_has(owner))
        rc = metadata_endpoint(fd, owner, err, errlen);
    close(fd);
    return rc;
}

static int ensure_docker_bridge(int instfd, char *err, size_t errlen)
{
    struct nl nl;
    int e = nl_open(&nl, instfd);
    if (e < 0) {
        snprintf(err, errlen, "netlink: %s", strerror(-e));
        return -1;
    }
    int idx = nl_ifindex(&nl, DOCKER_BRIDGE);
    if (idx < 0) {
        if ((e = nl_bridge_create(&nl, DOCKER_BRIDGE, 0)) < 0 && e != -EEXIST)
            goto fail;
        idx = nl_ifindex(&nl, DOCKER_BRIDGE);
        uint8_t mac[6];
        vpcnet_stable_mac(DOCKER_BRIDGE, mac);
        if (idx < 0 || (e = nl_link_set_mac(&nl, idx, mac)) < 0 ||
            (e = nl_addr_add(&nl, idx, DOCKER_NET + 1, DOCKER_PREFIX)) < 0 ||
            (e = nl_link_up(&nl, idx)) < 0)
            goto fail;
        netns_sysctl(instfd, "/proc/sys/net/ipv4/ip_forward", "1");
    }
    nl_close(&nl);
    return 0;
fail:
    snprintf(err, errlen, "bridge %s: %s", DOCKER_BRIDGE, strerror(e < 0 ? -e : ENODEV));
    nl_close(&nl);
    return -1;
}

static int take_ip(const struct scope *s, const char *instance_ns, const char *task_id,
                   uint32_t *ip)
{
    char pool[96];
    int64_t v = 0;
    snprintf(pool, sizeof(pool), "docker:%s", instance_ns);
    db_lock(server.db);
    int rc = db_begin(server.db);
    if (rc == 0) {
        rc = store_take_lowest(server.db, s, pool, DOCKER_NET + 2, DOCKER_NET + 0xfffe, task_id, &v);
        if (rc == STORE_OK)
            rc = db_commit(server.db);
        else
            db_rollback(server.db);
    }
    db_unlock(server.db);
    *ip = (uint32_t)v;
    return rc == STORE_OK ? 0 : -1;
}

static int plug_container(int instfd, int cfd, const char *veth, const char *peer, uint32_t ip,
                          char *err, size_t errlen)
{
    struct nl inl = { 0 }, cnl = { 0 };
    int e, rc = -1;
    if ((e = nl_open(&inl, instfd)) < 0 || (e = nl_open(&cnl, cfd)) < 0)
        goto fail;
    int old = nl_ifindex(&inl, veth);
    if (old > 0)
        nl_link_delete(&inl, old);
    if ((e = nl_veth_create(&inl, veth, peer, cfd, 0)) < 0)
        goto fail;
    int vidx = nl_ifindex(&inl, veth), bidx = nl_ifindex(&inl, DOCKER_BRIDGE);
    if (vidx < 0 || bidx < 0 || (e = nl_link_set_master(&inl, vidx, bidx)) < 0 ||
        (e = nl_link_up(&inl, vidx)) < 0)
        goto fail;
    int cidx = nl_ifindex(&cnl, peer);
    if (cidx < 0 || (e = nl_link_rename(&cnl, cidx, "eth0")) < 0 ||
        (e = nl_addr_add(&cnl, cidx, ip, DOCKER_PREFIX)) < 0 || (e = nl_link_up(&cnl, cidx)) < 0 ||
        (e = nl_route_add(&cnl, 0, 0, DOCKER_NET + 1, cidx)) < 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "container interface %s: %s", veth, strerror(e < 0 ? -e : ENODEV));
out:
    if (inl.sock)
        nl_close(&inl);
    if (cnl.sock)
        nl_close(&cnl);
    return rc;
}

int instnet_bridge_task(const struct scope *s, const char *task_id, json_t *task,
                        const char *instance_ns, json_t *netns_out, json_t *ips_out, char *err,
                        size_t errlen)
{
    int instfd = netns_open(instance_ns);
    if (instfd < 0) {
        snprintf(err, errlen, "no namespace %s", instance_ns);
        return -1;
    }
    int rc = ensure_docker_bridge(instfd, err, errlen);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(task, "containers"), i, c) {
        if (rc < 0)
            break;
        const char *name = jstr(c, "name");
        char ns[64], veth[32], peer[32], ipt[16];
        snprintf(ns, sizeof(ns), "ecsl-c-%.12s-%zu", task_id, i);
        snprintf(veth, sizeof(veth), "ecsl-k%.7s%02zu", task_id, i % 100);
        snprintf(peer, sizeof(peer), "ecsl-q%.7s%02zu", task_id, i % 100);
        uint32_t ip;
        if (netns_create(ns, err, errlen) < 0) {
            rc = -1;
            break;
        }
        vpcnet_own(ns);
        json_object_set_new(netns_out, name, json_string(ns));
        int cfd = netns_open(ns);
        if (cfd < 0 || take_ip(s, instance_ns, task_id, &ip) < 0 ||
            plug_container(instfd, cfd, veth, peer, ip, err, errlen) < 0 ||
            metadata_endpoint(cfd, task_id, err, errlen) < 0) {
            if (!err[0])
                snprintf(err, errlen, "setting up container %s", name);
            rc = -1;
        } else {
            ip_format(ip, ipt, sizeof(ipt));
            json_object_set_new(ips_out, name, json_string(ipt));
        }
        if (cfd >= 0)
            close(cfd);
    }
    close(instfd);
    return rc;
}

void instnet_bridge_task_remove(const char *task_id, json_t *netns_names)
{
    (void)task_id;
    const char *name;
    json_t *ns;
    json_object_foreach(netns_names, name, ns) {
        if (json_string_value(ns)) {
            netns_delete(json_string_value(ns));
            vpcnet_disown(json_string_value(ns));
        }
    }
}

/* ---- port publishing ---- */

struct publish_walk {
    const char *ci_arn;
    struct buf *rules;
};

static int add_task_rules(json_t *task, const char *id, void *arg)
{
    (void)id;
    struct publish_walk *w = arg;
    const char *ci = jstr(task, "containerInstanceArn");
    const char *last = jstr(task, "lastStatus");
    const char *mode = jstr(json_object_get(task, "_def"), "networkMode");
    json_t *ips = json_object_get(json_object_get(task, "_rt"), "bridge_ips");
    if (!ci || strcmp(ci, w->ci_arn) != 0 || (last && strcmp(last, "STOPPED") == 0) ||
        !mode || strcmp(mode, "bridge") != 0 || !ips)
        return 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(task, "containers"), i, c) {
        const char *ip = jstr(ips, jstr(c, "name") ? jstr(c, "name") : "");
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(c, "networkBindings"), k, b) {
            if (!ip)
                continue;
            const char *proto = jstr(b, "protocol") ? jstr(b, "protocol") : "tcp";
            buf_printf(w->rules, "fib daddr type local meta l4proto %s th dport %lld dnat to %s:%lld\n",
                       proto, (long long)json_integer_value(json_object_get(b, "hostPort")), ip,
                       (long long)json_integer_value(json_object_get(b, "containerPort")));
        }
    }
    return 0;
}

int instnet_publish(const struct scope *s, const char *ci_arn, char *err, size_t errlen)
{
    char ns[64], ec2_id[32] = "";
    json_t *inst = instance_of(s, ci_arn, ec2_id, sizeof(ec2_id));
    if (!inst) {
        snprintf(err, errlen, "no instance for %s", ci_arn);
        return -1;
    }
    json_decref(inst);
    vpcnet_instance_netns(ec2_id, ns, sizeof(ns));
    struct buf rules;
    buf_init(&rules, 16u << 20);
    struct publish_walk w = { ci_arn, &rules };
    struct ecs_cluster_name {
        char name[256];
    } cl = { "" };
    const char *p = strstr(ci_arn, ":container-instance/");
    if (p) {
        p += strlen(":container-instance/");
        const char *slash = strchr(p, '/');
        if (slash && (size_t)(slash - p) < sizeof(cl.name)) {
            memcpy(cl.name, p, (size_t)(slash - p));
            cl.name[slash - p] = '\0';
        }
    }
    db_lock(server.db);
    store_each(server.db, s, "ecs-task", cl.name, NULL, add_task_rules, &w);
    db_unlock(server.db);
    struct buf text;
    buf_init(&text, 32u << 20);
    buf_adds(&text, "table ip ecsl-nat\ndelete table ip ecsl-nat\ntable ip ecsl-nat {\n"
                    "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n");
    if (rules.data)
        buf_adds(&text, rules.data);
    buf_adds(&text, "  }\n  chain output {\n    type nat hook output priority -100; policy accept;\n");
    if (rules.data)
        buf_adds(&text, rules.data);
    buf_adds(&text, "  }\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n"
                    "    ip saddr 172.17.0.0/16 oifname != \"" DOCKER_BRIDGE "\" masquerade\n"
                    "    ip saddr 172.17.0.0/16 ip daddr 172.17.0.0/16 ct status dnat masquerade\n"
                    "  }\n}\n");
    buf_free(&rules);
    int fd = netns_open(ns);
    int rc = -1;
    if (fd >= 0 && text.data) {
        char why[500];
        rc = nft_apply(fd, text.data, why, sizeof(why));
        if (rc < 0)
            snprintf(err, errlen, "publishing ports on %s: %s", ns, why);
    } else {
        snprintf(err, errlen, "no namespace %s", ns);
    }
    if (fd >= 0)
        close(fd);
    buf_free(&text);
    return rc;
}
