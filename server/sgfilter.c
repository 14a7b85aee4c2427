/*
 * Security groups as nftables rules (see sgfilter.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/jget.h"
#include "../api/buf.h"
#include "../api/cidr.h"
#include "netns.h"
#include "nft.h"
#include "sgfilter.h"
#include "vpcnet.h"

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

/* ---- the desired table, as data ----
 *
 * {"sets":  {"enis": {ip: true}, "g_<group>": {ip: true}},
 *  "chains": {"o_<groups>": "rules", "i_<groups>": "rules"},
 *  "maps":  {"out_of": {ip: "o_<groups>"}, "in_of": {ip: "i_<groups>"}}}
 *
 * The base chain is fixed and only looks things up in the sets and maps.
 * A chain holds the rules of one combination of groups, shared by every
 * ENI that has exactly those groups (the tasks of a service all do), so an
 * ENI that comes or goes is a few elements, and a new chain only when its
 * combination is new: neither the rules sent nor the chains the kernel
 * (and libnftables' cache) holds grow with the number of ENIs. */

/* The body of a combination's egress (o_) or ingress (i_) chain: the
 * rules of the ENI's groups. */
static char *chain_body(json_t *eni, json_t *rules, int egress, json_t *groups_seen)
{
    const char *verdict = egress ? "return" : "accept";
    struct buf b;
    buf_init(&b, 16u << 20);
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        if (!same_scope(r, eni) || json_is_true(json_object_get(r, "IsEgress")) != egress ||
            !eni_has_group(eni, jstr(r, "GroupId") ? jstr(r, "GroupId") : ""))
            continue;
        struct buf line;
        buf_init(&line, 4096);
        if (rule_match(&line, r, egress, groups_seen))
            buf_printf(&b, "    %s%s\n", line.data ? line.data : "", verdict);
        buf_free(&line);
    }
    buf_adds(&b, "    drop\n");
    return buf_take(&b, NULL);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The name of an ENI's combination of groups: their ids' hex parts,
 * sorted, joined by '_' ("g" when it has none); a hash of that when too
 * long for a chain name (an ENI may have 16 groups). */
static void combination_name(json_t *eni, char *out, size_t len)
{
    const char *ids[64];
    size_t n = 0, i;
    json_t *g;
    json_array_foreach(json_object_get(eni, "Groups"), i, g)
        if (jstr(g, "GroupId") && n < sizeof(ids) / sizeof(ids[0]))
            ids[n++] = hexpart(jstr(g, "GroupId"));
    qsort(ids, n, sizeof(ids[0]), compare_strings);
    char joined[64 * 24] = "g";
    size_t at = 1;
    for (i = 0; i < n; i++)
        at += (size_t)snprintf(joined + at, at < sizeof(joined) ? sizeof(joined) - at : 0, "_%s",
                               ids[i]);
    if (at < 100 && at < len) {
        memcpy(out, joined, at + 1);
        return;
    }
    uint64_t h = 14695981039346656037ull;           /* FNV-1a */
    for (const char *p = joined; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    snprintf(out, len, "h%016llx", (unsigned long long)h);
}

static void set_add_ips(json_t *set, json_t *eni)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), i, a) {
        uint32_t v;
        const char *ip = jstr(a, "PrivateIpAddress");
        if (ip && ip_parse(ip, &v) == 0)
            json_object_set_new(set, ip, json_true());
    }
}

static json_t *desired_table(json_t *vpc, json_t *enis, json_t *rules)
{
    json_t *sets = json_object(), *chains = json_object(), *maps = json_object();
    json_t *all = json_object(), *out_of = json_object(), *in_of = json_object();
    json_t *groups_seen = json_object(), *mine = json_array();
    size_t i;
    json_t *eni;
    json_array_foreach(enis, i, eni)
        if (in_vpc(eni, vpc) && json_array_size(json_object_get(eni, "PrivateIpAddresses")))
            json_array_append(mine, eni);
    json_array_foreach(mine, i, eni) {
        char combo[128], oname[160], iname[160];
        combination_name(eni, combo, sizeof(combo));
        snprintf(oname, sizeof(oname), "o_%s", combo);
        snprintf(iname, sizeof(iname), "i_%s", combo);
        if (!json_object_get(chains, oname)) {
            char *body = chain_body(eni, rules, 1, groups_seen);
            json_object_set_new(chains, oname, json_string(body ? body : "    drop\n"));
            free(body);
            body = chain_body(eni, rules, 0, groups_seen);
            json_object_set_new(chains, iname, json_string(body ? body : "    drop\n"));
            free(body);
        }
        /* Every address an ENI of the VPC holds: a packet from anywhere
         * else (an ENI the table does not know yet) is dropped, not let
         * through unchecked. */
        set_add_ips(all, eni);
        json_t *a;
        size_t k;
        json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), k, a) {
            uint32_t v;
            const char *ip = jstr(a, "PrivateIpAddress");
            if (!ip || ip_parse(ip, &v) < 0)
                continue;
            json_object_set_new(out_of, ip, json_string(oname));
            json_object_set_new(in_of, ip, json_string(iname));
        }
    }
    json_object_set_new(sets, "enis", all);
    /* Member sets of the groups that rules refer to. */
    const char *gid;
    json_t *unused;
    json_object_foreach(groups_seen, gid, unused) {
        json_t *members = json_object();
        json_array_foreach(mine, i, eni)
            if (eni_has_group(eni, gid))
                set_add_ips(members, eni);
        char name[64];
        snprintf(name, sizeof(name), "g_%s", hexpart(gid));
        json_object_set_new(sets, name, members);
    }
    json_object_set_new(maps, "out_of", out_of);
    json_object_set_new(maps, "in_of", in_of);
    json_decref(groups_seen);
    json_decref(mine);
    return json_pack("{s:o, s:o, s:o}", "sets", sets, "chains", chains, "maps", maps);
}

/* "a, b, c" of an object's keys, or of "key : jump value" for a map. */
static void elements(struct buf *b, json_t *obj, int map)
{
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach(obj, k, v) {
        if (map)
            buf_printf(b, "%s%s : jump %s", first ? "" : ", ", k, json_string_value(v));
        else
            buf_printf(b, "%s%s", first ? "" : ", ", k);
        first = 0;
    }
}

static void render_table(struct buf *b, json_t *t)
{
    const char *name;
    json_t *v;
    buf_adds(b, "table inet ecsl-sg {\n");
    /* Sets first (chains match on them), chains before the maps that jump
     * to them, the base chain last. */
    json_object_foreach(json_object_get(t, "sets"), name, v) {
        buf_printf(b, "  set %s {\n    type ipv4_addr\n", name);
        if (json_object_size(v)) {
            buf_adds(b, "    elements = { ");
            elements(b, v, 0);
            buf_adds(b, " }\n");
        }
        buf_adds(b, "  }\n");
    }
    json_object_foreach(json_object_get(t, "chains"), name, v)
        buf_printf(b, "  chain %s {\n%s  }\n", name, json_string_value(v));
    json_object_foreach(json_object_get(t, "maps"), name, v) {
        buf_printf(b, "  map %s {\n    type ipv4_addr : verdict\n", name);
        if (json_object_size(v)) {
            buf_adds(b, "    elements = { ");
            elements(b, v, 1);
            buf_adds(b, " }\n");
        }
        buf_adds(b, "  }\n");
    }
    buf_adds(b, "  chain forward {\n"
                "    type filter hook forward priority filter; policy drop;\n"
                "    ct state invalid drop\n"
                "    ct state related accept\n"
                "    ct original ip saddr != @enis drop\n"
                "    ct original ip saddr vmap @out_of\n"
                "    ct original ip daddr vmap @in_of\n"
                "  }\n"
                "}\n");
}

char *sgfilter_render(json_t *vpc, json_t *enis, json_t *rules)
{
    json_t *t = desired_table(vpc, enis, rules);
    struct buf b;
    buf_init(&b, 64u << 20);
    render_table(&b, t);
    json_decref(t);
    return buf_take(&b, NULL);
}

/* ---- from what is applied to what is wanted, in one transaction ---- */

/* Elements of want missing from (or different in) have: "a, b" or
 * "a : jump x, ...". */
static int missing(struct buf *b, json_t *want, json_t *have, int map)
{
    const char *k;
    json_t *v;
    int n = 0;
    json_object_foreach(want, k, v) {
        json_t *h = json_object_get(have, k);
        if (h && (!map || json_equal(h, v)))
            continue;
        if (map)
            buf_printf(b, "%s%s : jump %s", n ? ", " : "", k, json_string_value(v));
        else
            buf_printf(b, "%s%s", n ? ", " : "", k);
        n++;
    }
    return n;
}

/* Elements of have that want lacks or maps elsewhere: "a, b". */
static int stale(struct buf *b, json_t *have, json_t *want, int map)
{
    const char *k;
    json_t *v;
    int n = 0;
    json_object_foreach(have, k, v) {
        json_t *w = json_object_get(want, k);
        if (w && (!map || json_equal(w, v)))
            continue;
        buf_printf(b, "%s%s", n ? ", " : "", k);
        n++;
    }
    return n;
}

static void element_cmd(struct buf *b, const char *verb, const char *name, struct buf *el,
                        int n)
{
    if (n)
        buf_printf(b, "%s element inet ecsl-sg %s { %s }\n", verb, name, el->data);
}

static void render_delta(struct buf *b, json_t *have, json_t *want)
{
    json_t *hs = json_object_get(have, "sets"), *ws = json_object_get(want, "sets");
    json_t *hc = json_object_get(have, "chains"), *wc = json_object_get(want, "chains");
    json_t *hm = json_object_get(have, "maps"), *wm = json_object_get(want, "maps");
    const char *name;
    json_t *v;
    /* New sets, and the members of every set. */
    json_object_foreach(ws, name, v) {
        json_t *old = json_object_get(hs, name);
        if (!old)
            buf_printf(b, "add set inet ecsl-sg %s { type ipv4_addr; }\n", name);
        struct buf el;
        buf_init(&el, 16u << 20);
        if (old)
            element_cmd(b, "delete", name, &el, stale(&el, old, v, 0));
        buf_free(&el);
        buf_init(&el, 16u << 20);
        element_cmd(b, "add", name, &el, missing(&el, v, old, 0));
        buf_free(&el);
    }
    /* Map entries that go or change, before their chains change. */
    json_object_foreach(wm, name, v) {
        struct buf el;
        buf_init(&el, 16u << 20);
        element_cmd(b, "delete", name, &el, stale(&el, json_object_get(hm, name), v, 1));
        buf_free(&el);
    }
    /* New and changed chains. */
    json_object_foreach(wc, name, v) {
        json_t *old = json_object_get(hc, name);
        if (old && json_equal(old, v))
            continue;
        if (old)
            buf_printf(b, "flush chain inet ecsl-sg %s\n", name);
        buf_printf(b, "table inet ecsl-sg {\n  chain %s {\n%s  }\n}\n", name, json_string_value(v));
    }
    json_object_foreach(wm, name, v) {
        struct buf el;
        buf_init(&el, 16u << 20);
        element_cmd(b, "add", name, &el, missing(&el, v, json_object_get(hm, name), 1));
        buf_free(&el);
    }
    /* What nothing refers to any more. */
    json_object_foreach(hc, name, v)
        if (!json_object_get(wc, name))
            buf_printf(b, "delete chain inet ecsl-sg %s\n", name);
    json_object_foreach(hs, name, v)
        if (!json_object_get(ws, name))
            buf_printf(b, "delete set inet ecsl-sg %s\n", name);
}

/* What was last applied in each VPC ("account/region/vpc" -> the desired
 * table it was), so a sync sends only the difference, and nothing at all
 * when nothing changed.  Only the reconciler thread calls sgfilter_*. */
static json_t *applied;

void sgfilter_forget(json_t *vpc)
{
    char key[128];
    if (applied && !vpc) {
        json_object_clear(applied);
    } else if (applied) {
        vpcnet_key(vpc, key, sizeof(key));
        json_object_del(applied, key);
    }
}

/* Adds ip -> value to the element list of set or map name in adds. */
static void add_element(json_t *adds, const char *name, const char *ip, json_t *value)
{
    json_t *els = json_object_get(adds, name);
    if (!els) {
        els = json_object();
        json_object_set_new(adds, name, els);
    }
    json_object_set_new(els, ip, value);
}

int sgfilter_add(int vpcfd, json_t *vpc, json_t *added, char *err, size_t errlen)
{
    char key[128];
    vpcnet_key(vpc, key, sizeof(key));
    json_t *have = json_object_get(applied, key);
    if (!have)
        return 0;
    json_t *hs = json_object_get(have, "sets"), *hc = json_object_get(have, "chains");
    json_t *hm = json_object_get(have, "maps");
    json_t *adds = json_object();       /* set or map name -> {ip: true or chain} */
    size_t i, k, g;
    json_t *eni, *a, *grp;
    json_array_foreach(added, i, eni) {
        if (!in_vpc(eni, vpc) || !json_array_size(json_object_get(eni, "PrivateIpAddresses")))
            continue;
        char combo[128], oname[160], iname[160];
        combination_name(eni, combo, sizeof(combo));
        snprintf(oname, sizeof(oname), "o_%s", combo);
        snprintf(iname, sizeof(iname), "i_%s", combo);
        if (!json_object_get(hc, oname)) {      /* a new combination: new chains */
            json_decref(adds);
            return 0;
        }
        json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), k, a) {
            uint32_t v;
            const char *ip = jstr(a, "PrivateIpAddress");
            if (!ip || ip_parse(ip, &v) < 0)
                continue;
            add_element(adds, "enis", ip, json_true());
            add_element(adds, "out_of", ip, json_string(oname));
            add_element(adds, "in_of", ip, json_string(iname));
            /* The member sets of its groups that rules refer to. */
            json_array_foreach(json_object_get(eni, "Groups"), g, grp) {
                char name[64];
                snprintf(name, sizeof(name), "g_%s", hexpart(jstr(grp, "GroupId")));
                if (jstr(grp, "GroupId") && json_object_get(hs, name))
                    add_element(adds, name, ip, json_true());
            }
        }
    }
    struct buf text;
    buf_init(&text, 64u << 20);
    const char *name;
    json_t *els;
    json_object_foreach(adds, name, els) {
        int map = strcmp(name, "out_of") == 0 || strcmp(name, "in_of") == 0;
        struct buf el;
        buf_init(&el, 16u << 20);
        element_cmd(&text, "add", name, &el,
                    missing(&el, els, json_object_get(map ? hm : hs, name), map));
        buf_free(&el);
    }
    int rc = text.data ? nft_apply(vpcfd, text.data, err, errlen) : 0;
    buf_free(&text);
    if (rc == 0)
        json_object_foreach(adds, name, els)
            json_object_update(json_object_get(strcmp(name, "out_of") == 0 ||
                                               strcmp(name, "in_of") == 0 ? hm : hs, name), els);
    json_decref(adds);
    return rc == 0 ? 1 : 0;
}

int sgfilter_apply(int vpcfd, json_t *vpc, json_t *enis, json_t *rules, char *err,
                   size_t errlen)
{
    if (!applied && !(applied = json_object())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char key[128];
    vpcnet_key(vpc, key, sizeof(key));
    json_t *want = desired_table(vpc, enis, rules);
    json_t *have = json_object_get(applied, key);
    if (have && json_equal(have, want)) {
        json_decref(want);
        return 0;
    }
    struct buf text;
    int rc = -1;
    if (have) {
        buf_init(&text, 64u << 20);
        render_delta(&text, have, want);
        rc = text.data ? nft_apply(vpcfd, text.data, err, errlen) : 0;
        buf_free(&text);
    }
    if (rc < 0) {
        /* First time here, or the kernel's table is not what was applied
         * (someone changed it): the whole table, replaced at once. */
        buf_init(&text, 64u << 20);
        buf_adds(&text, "table inet ecsl-sg\ndelete table inet ecsl-sg\n");
        render_table(&text, want);
        rc = text.data ? nft_apply(vpcfd, text.data, err, errlen) : -1;
        buf_free(&text);
    }
    if (rc == 0)
        json_object_set_new(applied, key, want);
    else {
        json_object_del(applied, key);
        json_decref(want);
    }
    return rc;
}
