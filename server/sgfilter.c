/*
 * Security groups as nftables rules (see sgfilter.h).
 */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/buf.h"
#include "../api/cidr.h"
#include "netns.h"
#include "sgfilter.h"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *hexpart(const char *id)
{
    const char *dash = id ? strrchr(id, '-') : NULL;
    return dash ? dash + 1 : (id ? id : "");
}

static int in_vpc(json_t *doc, json_t *vpc)
{
    const char *a = jstr(doc, "_account"), *r = jstr(doc, "_region"), *v = jstr(doc, "VpcId");
    return a && r && v && strcmp(a, jstr(vpc, "_account")) == 0 &&
           strcmp(r, jstr(vpc, "_region")) == 0 && strcmp(v, jstr(vpc, "VpcId")) == 0;
}

static int same_scope(json_t *a, json_t *b)
{
    const char *aa = jstr(a, "_account"), *ab = jstr(b, "_account");
    const char *ra = jstr(a, "_region"), *rb = jstr(b, "_region");
    return aa && ab && ra && rb && strcmp(aa, ab) == 0 && strcmp(ra, rb) == 0;
}

/* The ENI's addresses, as nft elements ("a, b"). */
static void add_ips(struct buf *b, json_t *eni, int *first)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), i, a) {
        const char *ip = jstr(a, "PrivateIpAddress");
        uint32_t v;
        if (!ip || ip_parse(ip, &v) < 0)
            continue;
        buf_printf(b, "%s%s", *first ? "" : ", ", ip);
        *first = 0;
    }
}

static int eni_has_group(json_t *eni, const char *group)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(eni, "Groups"), i, g)
        if (jstr(g, "GroupId") && strcmp(jstr(g, "GroupId"), group) == 0)
            return 1;
    return 0;
}

/* One rule as an nft match: 1 written, 0 when the rule cannot match an
 * IPv4 packet here (IPv6 peers, prefix lists). */
static int rule_match(struct buf *b, json_t *rule, int egress, json_t *groups_seen)
{
    const char *dir = egress ? "daddr" : "saddr";
    const char *cidr4 = jstr(rule, "CidrIpv4");
    const char *ref = jstr(json_object_get(rule, "ReferencedGroupInfo"), "GroupId");
    if (cidr4) {
        struct cidr c;
        if (cidr_parse(cidr4, &c) < 0)
            return 0;
        if (c.prefix > 0) {
            char text[32];
            cidr_format(&c, text, sizeof(text));
            buf_printf(b, "ct original ip %s %s ", dir, text);
        }
    } else if (ref) {
        buf_printf(b, "ct original ip %s @g_%s ", dir, hexpart(ref));
        json_object_set_new(groups_seen, ref, json_true());
    } else {
        return 0;
    }
    const char *proto = jstr(rule, "IpProtocol");
    long long from = json_integer_value(json_object_get(rule, "FromPort"));
    long long to = json_integer_value(json_object_get(rule, "ToPort"));
    if (!json_object_get(rule, "FromPort"))
        from = -1;
    if (!json_object_get(rule, "ToPort"))
        to = -1;
    if (!proto || strcmp(proto, "-1") == 0 || strcmp(proto, "all") == 0)
        return 1;
    const char *name = strcmp(proto, "6") == 0 ? "tcp" : strcmp(proto, "17") == 0 ? "udp"
                     : strcmp(proto, "1") == 0 ? "icmp" : proto;
    if (strcmp(name, "tcp") == 0 || strcmp(name, "udp") == 0) {
        buf_printf(b, "meta l4proto %s ", name);
        if (from > 0 || (to >= 0 && to < 65535)) {
            if (from == to)
                buf_printf(b, "ct original proto-dst %lld ", from);
            else
                buf_printf(b, "ct original proto-dst %lld-%lld ", from < 0 ? 0 : from,
                           to < 0 ? 65535 : to);
        }
    } else if (strcmp(name, "icmp") == 0) {
        buf_adds(b, "meta l4proto icmp ");
        /* A type (and code) applies to the packet that opens the exchange;
         * its replies pass with the connection. */
        if (from >= 0) {
            buf_printf(b, "ct direction original icmp type %lld ", from);
            if (to >= 0)
                buf_printf(b, "icmp code %lld ", to);
        }
    } else {
        char *end;
        long n = strtol(name, &end, 10);
        if (*end || n < 0 || n > 255)
            return 0;
        buf_printf(b, "meta l4proto %ld ", n);
    }
    return 1;
}

static void add_chain(struct buf *b, json_t *eni, json_t *rules, int egress,
                      json_t *groups_seen)
{
    const char *verdict = egress ? "return" : "accept";
    buf_printf(b, "  chain %s_%s {\n", egress ? "o" : "i",
               hexpart(jstr(eni, "NetworkInterfaceId")));
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        if (!same_scope(r, eni) || json_is_true(json_object_get(r, "IsEgress")) != egress ||
            !eni_has_group(eni, jstr(r, "GroupId") ? jstr(r, "GroupId") : ""))
            continue;
        struct buf line;
        buf_init(&line, 4096);
        if (rule_match(&line, r, egress, groups_seen))
            buf_printf(b, "    %s%s\n", line.data ? line.data : "", verdict);
        buf_free(&line);
    }
    buf_adds(b, "    drop\n  }\n");
}

char *sgfilter_render(json_t *vpc, json_t *enis, json_t *rules)
{
    struct buf b;
    buf_init(&b, 64u << 20);
    json_t *groups_seen = json_object();
    json_t *mine = json_array();
    size_t i;
    json_t *eni;
    json_array_foreach(enis, i, eni)
        if (in_vpc(eni, vpc) && json_array_size(json_object_get(eni, "PrivateIpAddresses")))
            json_array_append(mine, eni);

    struct buf chains;
    buf_init(&chains, 64u << 20);
    json_array_foreach(mine, i, eni) {
        add_chain(&chains, eni, rules, 1, groups_seen);
        add_chain(&chains, eni, rules, 0, groups_seen);
    }

    buf_adds(&b, "table inet ecsl-sg {\n");
    /* Member sets of the groups rules refer to. */
    const char *gid;
    json_t *unused;
    json_object_foreach(groups_seen, gid, unused) {
        buf_printf(&b, "  set g_%s {\n    type ipv4_addr\n", hexpart(gid));
        struct buf el;
        buf_init(&el, 16u << 20);
        int first = 1;
        json_array_foreach(mine, i, eni)
            if (eni_has_group(eni, gid))
                add_ips(&el, eni, &first);
        if (el.data && el.len)
            buf_printf(&b, "    elements = { %s }\n", el.data);
        buf_free(&el);
        buf_adds(&b, "  }\n");
    }
    /* Every address an ENI of the VPC holds: a packet from anywhere else
     * (an ENI the table does not know yet) is dropped, not let through
     * unchecked. */
    struct buf all;
    buf_init(&all, 16u << 20);
    int first_all = 1;
    json_array_foreach(mine, i, eni)
        add_ips(&all, eni, &first_all);
    buf_adds(&b, "  set enis {\n    type ipv4_addr\n");
    if (all.data && all.len)
        buf_printf(&b, "    elements = { %s }\n", all.data);
    buf_adds(&b, "  }\n");
    buf_free(&all);
    buf_adds(&b, "  chain forward {\n"
                 "    type filter hook forward priority filter; policy drop;\n"
                 "    ct state invalid drop\n"
                 "    ct state related accept\n"
                 "    ct original ip saddr != @enis drop\n");
    for (int pass = 0; pass < 2; pass++) {
        struct buf map;
        buf_init(&map, 16u << 20);
        int first = 1;
        json_array_foreach(mine, i, eni) {
            json_t *a;
            size_t k;
            json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), k, a) {
                const char *ip = jstr(a, "PrivateIpAddress");
                uint32_t v;
                if (!ip || ip_parse(ip, &v) < 0)
                    continue;
                buf_printf(&map, "%s%s : jump %s_%s", first ? "" : ", ", ip, pass ? "i" : "o",
                           hexpart(jstr(eni, "NetworkInterfaceId")));
                first = 0;
            }
        }
        if (map.data && map.len)
            buf_printf(&b, "    ct original ip %s vmap { %s }\n", pass ? "daddr" : "saddr",
                       map.data);
        buf_free(&map);
    }
    buf_adds(&b, "  }\n");
    if (chains.data)
        buf_adds(&b, chains.data);
    buf_adds(&b, "}\n");
    buf_free(&chains);
    json_decref(groups_seen);
    json_decref(mine);
    return buf_take(&b, NULL);
}

struct apply_args {
    const char *text;
    char *err;
    size_t errlen;
};

static int apply_in_ns(void *arg)
{
    struct apply_args *a = arg;
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) {
        snprintf(a->err, a->errlen, "nft_ctx_new failed");
        return -1;
    }
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    int rc = nft_run_cmd_from_buffer(ctx, a->text);
    if (rc != 0)
        snprintf(a->err, a->errlen, "nft: %.400s", nft_ctx_get_error_buffer(ctx));
    nft_ctx_free(ctx);
    return rc ? -1 : 0;
}

/* What was last applied in each VPC (by VPC id), so a sync that changes
 * nothing in a VPC costs no nftables transaction there.  Only the
 * reconciler thread calls sgfilter_apply. */
#define APPLIED_MAX 1024
static struct {
    char vpc[128];
    unsigned long long hash;
} applied[APPLIED_MAX];
static int napplied;

static unsigned long long text_hash(const char *t)
{
    unsigned long long h = 1469598103934665603ULL;     /* FNV-1a */
    for (; *t; t++)
        h = (h ^ (unsigned char)*t) * 1099511628211ULL;
    return h;
}

static int already_applied(const char *vpc, unsigned long long h, int remember)
{
    for (int i = 0; i < napplied; i++) {
        if (strcmp(applied[i].vpc, vpc) != 0)
            continue;
        if (remember)
            applied[i].hash = h;
        return applied[i].hash == h;
    }
    if (remember && napplied < APPLIED_MAX) {
        snprintf(applied[napplied].vpc, sizeof(applied[0].vpc), "%s", vpc);
        applied[napplied++].hash = h;
    }
    return 0;
}

void sgfilter_forget(void)
{
    napplied = 0;
}

int sgfilter_apply(int vpcfd, json_t *vpc, json_t *enis, json_t *rules, char *err,
                   size_t errlen)
{
    char *table = sgfilter_render(vpc, enis, rules);
    if (!table) {
        snprintf(err, errlen, "rendering the table failed");
        return -1;
    }
    char key[128];
    snprintf(key, sizeof(key), "%s/%s/%s", jstr(vpc, "_account") ? jstr(vpc, "_account") : "",
             jstr(vpc, "_region") ? jstr(vpc, "_region") : "", jstr(vpc, "VpcId") ? jstr(vpc, "VpcId") : "");
    unsigned long long h = text_hash(table);
    if (already_applied(key, h, 0)) {
        free(table);
        return 0;
    }
    /* One transaction: the old table goes and the new one comes at once. */
    size_t len = strlen(table) + 128;
    char *text = malloc(len);
    if (!text) {
        free(table);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(text, len, "table inet ecsl-sg\ndelete table inet ecsl-sg\n%s", table);
    free(table);
    struct apply_args a = { text, err, errlen };
    int rc = netns_run(vpcfd, apply_in_ns, &a);
    free(text);
    if (rc == 0)
        already_applied(key, h, 1);
    return rc;
}
