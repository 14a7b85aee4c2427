/*
 * EC2 security groups: CreateSecurityGroup, DeleteSecurityGroup,
 * DescribeSecurityGroups, Authorize/RevokeSecurityGroupIngress/Egress,
 * DescribeSecurityGroupRules, ModifySecurityGroupRules and
 * UpdateSecurityGroupRuleDescriptionsIngress/Egress.
 *
 * A group is stored as its SecurityGroup document without rules; each rule
 * is a "security-group-rule" resource under the group (the
 * SecurityGroupRule shape, with its sgr- id), as AWS models them since
 * DescribeSecurityGroupRules.  IpPermissions and IpPermissionsEgress are
 * composed from the rules when a group is read: one IpPermission per
 * protocol and port range, holding every peer of that range.
 *
 * Requests name rules in the IpPermission shape (or, for ingress, the
 * legacy top-level CidrIp/IpProtocol/... form).  Both are turned into a
 * list of normalised rule specs first, one per peer, so that authorizing,
 * revoking, duplicate checks and description updates all compare the same
 * thing: direction, protocol, ports and peer.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ec2.h"
#include "ec2_sgs.h"

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* ---- rules in the store ---- */

/* Insert one rule of group_id; fields holds IpProtocol, FromPort, ToPort
 * and one peer (CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupInfo),
 * optionally Description.  It is copied, and so are tags (NULL: none). */
static int insert_rule(struct call *c, const char *group_id, int egress,
                       json_t *fields, json_t *tags, json_t **out)
{
    char id[32], arn[200];
    ec2_new_id("sgr", id, sizeof(id));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:security-group-rule/%s", c->region,
             c->account, id);
    json_t *rule = json_deep_copy(fields);
    if (!rule)
        return call_internal(c, "building security group rule");
    jset_str(rule, "SecurityGroupRuleId", id);
    jset_str(rule, "SecurityGroupRuleArn", arn);
    jset_str(rule, "GroupId", group_id);
    jset_str(rule, "GroupOwnerId", c->account);
    json_object_set_new(rule, "IsEgress", json_boolean(egress));
    json_object_set_new(rule, "Tags", tags ? json_deep_copy(tags) : json_array());
    int rc = store_insert(c->db, &c->scope, "security-group-rule", id, group_id, NULL, rule);
    if (rc != STORE_OK) {
        json_decref(rule);
        return call_internal(c, "storing security group rule");
    }
    if (out)
        *out = rule;
    else
        json_decref(rule);
    return 0;
}

static int collect_doc(json_t *doc, const char *id, void *arg)
{
    (void)id;
    json_array_append((json_t *)arg, doc);
    return 0;
}

json_t *ec2_sg_rules(struct db *db, const struct scope *s, const char *group_id)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    if (store_each(db, s, "security-group-rule", group_id, NULL, collect_doc, out) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static const char *rule_ref_group(json_t *rule)
{
    return jstr(json_object_get(rule, "ReferencedGroupInfo"), "GroupId");
}

static int array_has_string(json_t *array, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
        if (streq(json_string_value(v), s))
            return 1;
    return 0;
}

struct referrers {
    const char *group_id;
    json_t *ids;
};

static int collect_referrer(json_t *rule, const char *id, void *arg)
{
    (void)id;
    struct referrers *r = arg;
    const char *owner = jstr(rule, "GroupId");
    if (streq(rule_ref_group(rule), r->group_id) && owner &&
        !array_has_string(r->ids, owner))
        json_array_append_new(r->ids, json_string(owner));
    return 0;
}

json_t *ec2_sg_referencing_groups(struct db *db, const struct scope *s,
                                  const char *group_id)
{
    struct referrers r = { group_id, json_array() };
    if (!r.ids)
        return NULL;
    if (store_each(db, s, "security-group-rule", NULL, NULL, collect_referrer, &r) < 0) {
        json_decref(r.ids);
        return NULL;
    }
    return r.ids;
}

/* ---- groups ---- */

int ec2_sg_create(struct call *c, const char *vpc_id, const char *name,
                  const char *description, json_t *tags, int is_default,
                  json_t **out)
{
    char id[32], arn[200];
    ec2_new_id("sg", id, sizeof(id));
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:security-group/%s", c->region,
             c->account, id);
    json_t *sg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
                           "GroupId", id, "GroupName", name, "Description", description,
                           "VpcId", vpc_id, "OwnerId", c->account,
                           "SecurityGroupArn", arn,
                           "Tags", tags ? json_incref(tags) : json_array());
    if (!sg)
        return call_internal(c, "building security group");
    int rc = store_insert(c->db, &c->scope, "security-group", id, vpc_id, name, sg);
    if (rc == STORE_EXISTS) {
        json_decref(sg);
        return call_error(c, "InvalidGroup.Duplicate",
                          "The security group '%s' already exists for VPC '%s'", name,
                          vpc_id);
    }
    if (rc != STORE_OK) {
        json_decref(sg);
        return call_internal(c, "storing security group");
    }
    /* Every VPC group starts allowing all egress; the default group also
     * admits everything from its own members. */
    json_t *egress = json_pack("{s:s, s:i, s:i, s:s}", "IpProtocol", "-1",
                               "FromPort", -1, "ToPort", -1, "CidrIpv4", "0.0.0.0/0");
    rc = insert_rule(c, id, 1, egress, NULL, NULL);
    json_decref(egress);
    if (rc == 0 && is_default) {
        json_t *self = json_pack("{s:s, s:i, s:i, s:{s:s, s:s}}", "IpProtocol", "-1",
                                 "FromPort", -1, "ToPort", -1, "ReferencedGroupInfo",
                                 "GroupId", id, "UserId", c->account);
        rc = insert_rule(c, id, 0, self, NULL, NULL);
        json_decref(self);
    }
    if (rc < 0) {
        json_decref(sg);
        return -1;
    }
    if (out)
        *out = sg;
    else
        json_decref(sg);
    return 0;
}

int ec2_default_sg(struct call *c, const char *vpc_id, char *id, size_t len)
{
    int rc = store_find_name(c->db, &c->scope, "security-group", vpc_id, "default", id,
                             len);
    if (rc == STORE_OK)
        return 0;
    if (rc == STORE_NOT_FOUND)
        return call_error(c, "InvalidGroup.NotFound",
                          "The security group 'default' does not exist in VPC '%s'",
                          vpc_id);
    return call_internal(c, "finding the default security group");
}

/* The default VPC's id into id (32 bytes): 0, 1 when the region has none
 * (it was deleted), -1 on a storage error (set on c). */
static int default_vpc_id(struct call *c, char id[32])
{
    json_t *vpc;
    id[0] = '\0';
    if (ec2_default_vpc(c, &vpc) < 0)
        return -1;
    snprintf(id, 32, "%s", vpc && jstr(vpc, "VpcId") ? jstr(vpc, "VpcId") : "");
    json_decref(vpc);
    return id[0] ? 0 : 1;
}

static int in_default_vpc(struct call *c, json_t *group)
{
    json_t *vpc = store_get(c->db, &c->scope, "vpc", jstr(group, "VpcId"));
    int yes = json_is_true(json_object_get(vpc, "IsDefault"));
    json_decref(vpc);
    return yes;
}

/* A group named in the default VPC, as the [Default VPC] GroupName
 * parameters mean; NULL with the error set when there is none. */
static json_t *group_in_default_vpc(struct call *c, const char *name)
{
    char vpc[32], id[32];
    int rc = default_vpc_id(c, vpc);
    if (rc < 0)
        return NULL;
    if (rc > 0) {
        call_error(c, "InvalidGroup.NotFound",
                   "The security group '%.255s' does not exist in default VPC 'none'", name);
        return NULL;
    }
    rc = store_find_name(c->db, &c->scope, "security-group", vpc, name, id, sizeof(id));
    if (rc == STORE_NOT_FOUND) {
        call_error(c, "InvalidGroup.NotFound",
                   "The security group '%.255s' does not exist in default VPC '%s'", name,
                   vpc);
        return NULL;
    }
    json_t *group = rc == STORE_OK ? store_get(c->db, &c->scope, "security-group", id) : NULL;
    if (!group)
        call_internal(c, "loading security group");
    return group;
}

/* The group a call is about: GroupId, or GroupName in the default VPC. */
static json_t *target_group(struct call *c)
{
    const char *id = in_str(c, "GroupId");
    const char *name = in_str(c, "GroupName");
    if (id) {
        if (!*id) {
            call_error(c, "InvalidParameterValue",
                       "Value () for parameter groupId is invalid. The value cannot be "
                       "empty");
            return NULL;
        }
        return ec2_get(c, "security-group", id);
    }
    if (name)
        return group_in_default_vpc(c, name);
    call_error(c, "MissingParameter",
               "The request must contain the parameter groupName or groupId");
    return NULL;
}

/* ---- rule specs: what a request says, normalised ---- */

enum peer_kind { PEER_CIDR4, PEER_CIDR6, PEER_PREFIX_LIST, PEER_GROUP };

struct rule_spec {
    char proto[8];          /* tcp, udp, icmp, icmpv6, -1 or a number */
    int from, to;           /* -1 when the protocol has no ports */
    enum peer_kind kind;
    char peer[64];          /* canonical CIDR, pl- id or sg- id */
    int has_description;
    char description[256];
};

struct spec_list {
    struct rule_spec *v;
    size_t n, cap;
};

static struct rule_spec *spec_add(struct call *c, struct spec_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct rule_spec *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            call_internal(c, "out of memory");
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    struct rule_spec *s = &l->v[l->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

static int spec_equal(const struct rule_spec *a, const struct rule_spec *b)
{
    return strcmp(a->proto, b->proto) == 0 && a->from == b->from && a->to == b->to &&
           a->kind == b->kind && strcmp(a->peer, b->peer) == 0;
}

static int is_tcp_udp(const char *proto)
{
    return strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0;
}

static int is_icmp(const char *proto)
{
    return strcmp(proto, "icmp") == 0 || strcmp(proto, "icmpv6") == 0;
}

/* AWS keeps the names of the four protocols it knows and the numbers of
 * the rest: "6" is stored as "tcp", "50" stays "50". */
static int parse_protocol(struct call *c, const char *text, char *out, size_t len)
{
    static const struct { const char *name, *number; } known[] = {
        { "tcp", "6" }, { "udp", "17" }, { "icmp", "1" }, { "icmpv6", "58" },
    };
    char lower[16];
    size_t n;
    if (!text)
        return call_error(c, "InvalidParameterValue",
                          "Invalid value 'null' for protocol. VPC security group rules "
                          "must specify protocols explicitly.");
    n = strlen(text);
    if (n == 0 || n >= sizeof(lower))
        goto unknown;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)text[i]);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(lower, known[i].name) == 0 || strcmp(lower, known[i].number) == 0) {
            snprintf(out, len, "%s", known[i].name);
            return 0;
        }
    }
    if (strcmp(lower, "-1") == 0) {
        snprintf(out, len, "-1");
        return 0;
    }
    unsigned number = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)lower[i]))
            goto unknown;
        number = number * 10 + (unsigned)(lower[i] - '0');
        if (number > 255)
            goto unknown;
    }
    snprintf(out, len, "%u", number & 0xff);
    return 0;
unknown:
    return call_error(c, "InvalidParameterValue",
                      "Invalid value '%.64s' for IP protocol. Unknown protocol.", text);
}

/* Ports matter for TCP/UDP (a range) and ICMP (type and code); every other
 * protocol admits all traffic of that protocol and is stored with -1/-1. */
static int parse_ports(struct call *c, struct rule_spec *s, json_t *from, json_t *to)
{
    s->from = s->to = -1;
    int tcp_udp = is_tcp_udp(s->proto);
    if (!tcp_udp && !is_icmp(s->proto))
        return 0;
    if (!json_is_integer(from) || !json_is_integer(to))
        return call_error(c, "InvalidParameterValue",
                          "Invalid value 'Must specify both from and to ports with %s.' "
                          "for portRange.", tcp_udp ? "TCP/UDP" : "ICMP");
    long long a = json_integer_value(from), b = json_integer_value(to);
    if (tcp_udp) {
        if (a < 0 || a > 65535)
            return call_error(c, "InvalidParameterValue",
                              "TCP/UDP (from) port (%lld) out of range", a);
        if (b < 0 || b > 65535)
            return call_error(c, "InvalidParameterValue",
                              "TCP/UDP (to) port (%lld) out of range", b);
        if (a > b)
            return call_error(c, "InvalidParameterValue",
                              "Invalid value 'The from port (%lld) must not be greater "
                              "than the to port (%lld).' for portRange.", a, b);
    } else {
        if (a < -1 || a > 255)
            return call_error(c, "InvalidParameterValue", "ICMP type (%lld) out of range", a);
        if (b < -1 || b > 255)
            return call_error(c, "InvalidParameterValue", "ICMP code (%lld) out of range", b);
        if (a == -1 && b != -1)
            return call_error(c, "InvalidParameterValue",
                              "Invalid value 'The ICMP code must be -1 when the ICMP type "
                              "is -1.' for portRange.");
    }
    s->from = (int)a;
    s->to = (int)b;
    return 0;
}

static int malformed_cidr(struct call *c, const char *text)
{
    return call_error(c, "InvalidParameterValue", "CIDR block %.64s is malformed",
                      text ? text : "null");
}

static int parse_cidr4(struct call *c, const char *text, struct rule_spec *s)
{
    struct cidr cidr;
    if (!text || cidr_parse(text, &cidr) < 0)
        return malformed_cidr(c, text);
    cidr_format(&cidr, s->peer, sizeof(s->peer));
    s->kind = PEER_CIDR4;
    return 0;
}

/* An IPv6 CIDR, canonicalised like IPv4 ones: host bits cleared, the
 * address in its shortest form. */
static int parse_cidr6(struct call *c, const char *text, struct rule_spec *s)
{
    char addr[64], shown[INET6_ADDRSTRLEN];
    unsigned char bytes[16];
    const char *slash = text ? strchr(text, '/') : NULL;
    if (!slash || (size_t)(slash - text) >= sizeof(addr) || !slash[1] || strlen(slash) > 4)
        return malformed_cidr(c, text);
    int prefix = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return malformed_cidr(c, text);
        prefix = prefix * 10 + (*p - '0');
    }
    memcpy(addr, text, (size_t)(slash - text));
    addr[slash - text] = '\0';
    if (prefix > 128 || inet_pton(AF_INET6, addr, bytes) != 1)
        return malformed_cidr(c, text);
    for (int i = 0; i < 16; i++) {
        int bits = prefix - 8 * i;
        if (bits <= 0)
            bytes[i] = 0;
        else if (bits < 8)
            bytes[i] &= (unsigned char)(0xff << (8 - bits));
    }
    if (!inet_ntop(AF_INET6, bytes, shown, sizeof(shown)))
        return malformed_cidr(c, text);
    snprintf(s->peer, sizeof(s->peer), "%s/%d", shown, prefix);
    s->kind = PEER_CIDR6;
    return 0;
}

/* Prefix lists are not stored by ecslocal (no managed prefix lists yet),
 * so a well-formed id is all that can be checked. */
static int parse_prefix_list(struct call *c, const char *id, struct rule_spec *s)
{
    size_t n = id ? strlen(id) : 0;
    int ok = n > 3 && strncmp(id, "pl-", 3) == 0 && (n - 3 == 8 || n - 3 == 17);
    for (size_t i = 3; ok && i < n; i++)
        ok = isxdigit((unsigned char)id[i]) && !isupper((unsigned char)id[i]);
    if (!ok)
        return call_error(c, "InvalidPrefixListId.Malformed",
                          "Invalid id: \"%.64s\" (expecting \"pl-...\")", id ? id : "");
    snprintf(s->peer, sizeof(s->peer), "%s", id);
    s->kind = PEER_PREFIX_LIST;
    return 0;
}

/* A referenced group: by id, or by name in the target group's VPC.  It
 * must be in the same VPC (ecslocal has no VPC peering) and account. */
static int parse_group_ref(struct call *c, json_t *group, json_t *pair,
                           struct rule_spec *s)
{
    const char *id = jstr(pair, "GroupId");
    const char *name = jstr(pair, "GroupName");
    const char *user = jstr(pair, "UserId");
    const char *vpc = jstr(group, "VpcId");
    json_t *ref;
    if (!id && !name)
        return call_error(c, "MissingParameter", "Source group ID missing.");
    if (user && *user && strcmp(user, c->account) != 0)
        return call_error(c, "InvalidGroup.NotFound", "The security group '%.64s' does not exist",
                          id ? id : name);
    if (id) {
        ref = ec2_get(c, "security-group", id);
        if (!ref)
            return -1;
    } else {
        char found[32];
        int rc = store_find_name(c->db, &c->scope, "security-group", vpc, name, found,
                                 sizeof(found));
        if (rc == STORE_NOT_FOUND)
            return call_error(c, "InvalidGroup.NotFound",
                              "The security group '%.255s' does not exist in VPC '%s'", name,
                              vpc);
        ref = rc == STORE_OK ? store_get(c->db, &c->scope, "security-group", found) : NULL;
        if (!ref)
            return call_internal(c, "loading security group");
    }
    int same_vpc = streq(jstr(ref, "VpcId"), vpc);
    snprintf(s->peer, sizeof(s->peer), "%s", jstr(ref, "GroupId"));
    json_decref(ref);
    if (!same_vpc)
        return call_error(c, "InvalidGroup.NotFound",
                          "You have specified two resources that belong to different "
                          "networks.");
    s->kind = PEER_GROUP;
    return 0;
}

static int valid_description(const char *d)
{
    static const char extra[] = ". _-:/()#,@[]+=&;{}!$*";
    if (strlen(d) > 255)
        return 0;
    for (const char *p = d; *p; p++)
        if (!isalnum((unsigned char)*p) || (unsigned char)*p > 127)
            if (!strchr(extra, *p))
                return 0;
    return 1;
}

static int parse_description(struct call *c, const char *d, struct rule_spec *s)
{
    s->has_description = 0;
    if (!d || !*d)
        return 0;
    if (!valid_description(d))
        return call_error(c, "InvalidParameterValue",
                          "Invalid rule description. Valid descriptions are strings less "
                          "than 256 characters from the following set:  "
                          "a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*");
    s->has_description = 1;
    snprintf(s->description, sizeof(s->description), "%s", d);
    return 0;
}

/* One IpPermission: a spec per peer it lists (none when it lists none). */
static int parse_permission(struct call *c, json_t *group, json_t *perm,
                            struct spec_list *out)
{
    struct rule_spec base;
    memset(&base, 0, sizeof(base));
    if (parse_protocol(c, jstr(perm, "IpProtocol"), base.proto, sizeof(base.proto)) < 0 ||
        parse_ports(c, &base, json_object_get(perm, "FromPort"),
                    json_object_get(perm, "ToPort")) < 0)
        return -1;
    static const struct { const char *list, *member; enum peer_kind kind; } peers[] = {
        { "IpRanges", "CidrIp", PEER_CIDR4 },
        { "Ipv6Ranges", "CidrIpv6", PEER_CIDR6 },
        { "PrefixListIds", "PrefixListId", PEER_PREFIX_LIST },
        { "UserIdGroupPairs", NULL, PEER_GROUP },
    };
    for (size_t k = 0; k < sizeof(peers) / sizeof(peers[0]); k++) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(perm, peers[k].list), i, item) {
            struct rule_spec *s = spec_add(c, out);
            if (!s)
                return -1;
            *s = base;
            const char *value = peers[k].member ? jstr(item, peers[k].member) : NULL;
            int rc;
            switch (peers[k].kind) {
            case PEER_CIDR4: rc = parse_cidr4(c, value, s); break;
            case PEER_CIDR6: rc = parse_cidr6(c, value, s); break;
            case PEER_PREFIX_LIST: rc = parse_prefix_list(c, value, s); break;
            default: rc = parse_group_ref(c, group, item, s); break;
            }
            if (rc < 0 || parse_description(c, jstr(item, "Description"), s) < 0)
                return -1;
        }
    }
    return 0;
}

static const char *const legacy_members[] = {
    "CidrIp", "IpProtocol", "FromPort", "ToPort", "SourceSecurityGroupName",
    "SourceSecurityGroupOwnerId", NULL,
};

static const char *legacy_given(struct call *c)
{
    for (int i = 0; legacy_members[i]; i++)
        if (in_get(c, legacy_members[i]))
            return legacy_members[i];
    return NULL;
}

/* The ingress calls' older form: one CidrIp or one source group by name,
 * with IpProtocol and ports at the top level.  A source group without a
 * protocol grants TCP, UDP and ICMP, as the API documentation says. */
static int parse_legacy(struct call *c, json_t *group, struct spec_list *out)
{
    const char *cidr = in_str(c, "CidrIp");
    const char *source = in_str(c, "SourceSecurityGroupName");
    const char *owner = in_str(c, "SourceSecurityGroupOwnerId");
    const char *proto = in_str(c, "IpProtocol");
    if (cidr && (source || owner))
        return call_error(c, "InvalidParameterCombination",
                          "The parameter cidrIp cannot be used with the parameter "
                          "sourceSecurityGroupName");
    if (owner && !source)
        return call_error(c, "MissingParameter", "Source group ID missing.");
    json_t *perm = json_object();
    if (proto)
        jset_str(perm, "IpProtocol", proto);
    if (in_get(c, "FromPort"))
        json_object_set(perm, "FromPort", in_get(c, "FromPort"));
    if (in_get(c, "ToPort"))
        json_object_set(perm, "ToPort", in_get(c, "ToPort"));
    if (cidr)
        json_object_set_new(perm, "IpRanges", json_pack("[{s:s}]", "CidrIp", cidr));
    if (source) {
        json_t *pair = json_pack("{s:s}", "GroupName", source);
        if (owner)
            jset_str(pair, "UserId", owner);
        json_object_set_new(perm, "UserIdGroupPairs", json_pack("[o]", pair));
    }
    int rc = 0;
    if (source && !proto) {
        static const struct { const char *proto; int from, to; } all[] = {
            { "tcp", 0, 65535 }, { "udp", 0, 65535 }, { "icmp", -1, -1 },
        };
        for (size_t i = 0; rc == 0 && i < sizeof(all) / sizeof(all[0]); i++) {
            jset_str(perm, "IpProtocol", all[i].proto);
            json_object_set_new(perm, "FromPort", json_integer(all[i].from));
            json_object_set_new(perm, "ToPort", json_integer(all[i].to));
            rc = parse_permission(c, group, perm, out);
        }
    } else {
        rc = parse_permission(c, group, perm, out);
    }
    json_decref(perm);
    return rc;
}

/* The rules a call names by IpPermissions (or the legacy form, ingress
 * only).  Naming none is an error. */
static int parse_request_rules(struct call *c, json_t *group, int egress,
                               struct spec_list *out)
{
    json_t *perms = in_get(c, "IpPermissions");
    const char *legacy = legacy_given(c);
    if (legacy && egress)
        return call_error(c, "InvalidParameterCombination",
                          "The parameter %s is not supported for egress rules; use "
                          "IpPermissions", legacy);
    if (legacy && json_array_size(perms) > 0)
        return call_error(c, "InvalidParameterCombination",
                          "The parameter ipPermissions cannot be used with the parameter %s",
                          legacy);
    if (legacy)
        return parse_legacy(c, group, out);
    if (json_array_size(perms) == 0)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter ipPermissions");
    size_t i;
    json_t *perm;
    json_array_foreach(perms, i, perm)
        if (parse_permission(c, group, perm, out) < 0)
            return -1;
    return 0;
}

/* The same rule named twice in one request. */
static int check_repeats(struct call *c, const struct spec_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < i; j++)
            if (spec_equal(&l->v[i], &l->v[j]))
                return call_error(c, "InvalidParameterValue",
                                  "The same permission must not appear multiple times");
    return 0;
}

/* ---- specs and stored rules ---- */

static const char *const peer_members[] = {
    "CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupInfo",
};

static int rule_is_egress(json_t *rule)
{
    return json_is_true(json_object_get(rule, "IsEgress"));
}

static int rule_matches(json_t *rule, int egress, const struct rule_spec *s)
{
    if (rule_is_egress(rule) != egress || !streq(jstr(rule, "IpProtocol"), s->proto) ||
        json_integer_value(json_object_get(rule, "FromPort")) != s->from ||
        json_integer_value(json_object_get(rule, "ToPort")) != s->to)
        return 0;
    if (s->kind == PEER_GROUP)
        return streq(rule_ref_group(rule), s->peer);
    return streq(jstr(rule, peer_members[s->kind]), s->peer);
}

/* The first rule of rules matching s in that direction, skipping those in
 * skip (may be NULL); borrowed, NULL when none. */
static json_t *find_rule(json_t *rules, int egress, const struct rule_spec *s,
                         json_t *skip)
{
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        if (!rule_matches(rule, egress, s))
            continue;
        size_t k;
        json_t *v;
        int skipped = 0;
        json_array_foreach(skip, k, v)
            skipped |= v == rule;
        if (!skipped)
            return rule;
    }
    return NULL;
}

static json_t *find_rule_id(json_t *rules, const char *id)
{
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
        if (streq(jstr(rule, "SecurityGroupRuleId"), id))
            return rule;
    return NULL;
}

/* Set a rule's protocol, ports, peer and description from a spec. */
static void rule_set_spec(json_t *rule, const struct rule_spec *s, const char *account)
{
    for (size_t i = 0; i < sizeof(peer_members) / sizeof(peer_members[0]); i++)
        json_object_del(rule, peer_members[i]);
    json_object_del(rule, "Description");
    jset_str(rule, "IpProtocol", s->proto);
    json_object_set_new(rule, "FromPort", json_integer(s->from));
    json_object_set_new(rule, "ToPort", json_integer(s->to));
    if (s->kind == PEER_GROUP)
        json_object_set_new(rule, "ReferencedGroupInfo",
                            json_pack("{s:s, s:s}", "GroupId", s->peer, "UserId", account));
    else
        jset_str(rule, peer_members[s->kind], s->peer);
    if (s->has_description)
        jset_str(rule, "Description", s->description);
}

static int duplicate_error(struct call *c, const struct rule_spec *s)
{
    char what[96];
    if (is_tcp_udp(s->proto))
        snprintf(what, sizeof(what), "%s, from port: %d, to port: %d",
                 strcmp(s->proto, "tcp") == 0 ? "TCP" : "UDP", s->from, s->to);
    else if (is_icmp(s->proto))
        snprintf(what, sizeof(what), "%s, type: %d, code: %d",
                 strcmp(s->proto, "icmp") == 0 ? "ICMP" : "ICMPv6", s->from, s->to);
    else if (strcmp(s->proto, "-1") == 0)
        snprintf(what, sizeof(what), "ALL");
    else
        snprintf(what, sizeof(what), "protocol: %s", s->proto);
    return call_error(c, "InvalidPermission.Duplicate",
                      "the specified rule \"peer: %s, %s, ALLOW\" already exists", s->peer,
                      what);
}

/* ---- IpPermissions: rules as DescribeSecurityGroups shows them ---- */

static int has_ports(const char *proto)
{
    return is_tcp_udp(proto) || is_icmp(proto);
}

/* The IpPermission of perms with rule's protocol and ports, added when
 * there is none yet. */
static json_t *permission_for(json_t *perms, json_t *rule)
{
    const char *proto = jstr(rule, "IpProtocol");
    json_t *from = json_object_get(rule, "FromPort"), *to = json_object_get(rule, "ToPort");
    size_t i;
    json_t *p;
    json_array_foreach(perms, i, p) {
        if (!streq(jstr(p, "IpProtocol"), proto))
            continue;
        if (!has_ports(proto) || (json_equal(json_object_get(p, "FromPort"), from) &&
                                  json_equal(json_object_get(p, "ToPort"), to)))
            return p;
    }
    /* Empty lists are sent too: clients index them directly. */
    p = json_pack("{s:s, s:[], s:[], s:[], s:[]}", "IpProtocol", proto ? proto : "-1",
                  "IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs");
    if (has_ports(proto ? proto : "")) {
        json_object_set(p, "FromPort", from);
        json_object_set(p, "ToPort", to);
    }
    json_array_append_new(perms, p);
    return p;
}

static void add_peer(struct call *c, json_t *perm, json_t *rule)
{
    const char *list;
    json_t *entry;
    const char *ref = rule_ref_group(rule);
    if (jstr(rule, "CidrIpv4")) {
        list = "IpRanges";
        entry = json_pack("{s:s}", "CidrIp", jstr(rule, "CidrIpv4"));
    } else if (jstr(rule, "CidrIpv6")) {
        list = "Ipv6Ranges";
        entry = json_pack("{s:s}", "CidrIpv6", jstr(rule, "CidrIpv6"));
    } else if (jstr(rule, "PrefixListId")) {
        list = "PrefixListIds";
        entry = json_pack("{s:s}", "PrefixListId", jstr(rule, "PrefixListId"));
    } else if (ref) {
        list = "UserIdGroupPairs";
        entry = json_pack("{s:s, s:s}", "GroupId", ref, "UserId",
                          jstr(json_object_get(rule, "ReferencedGroupInfo"), "UserId")
                              ? jstr(json_object_get(rule, "ReferencedGroupInfo"), "UserId")
                              : c->account);
        /* For the ip-permission.group-name filter; AWS does not show the
         * name of a VPC group here, and '_' members are never sent. */
        json_t *group = store_get(c->db, &c->scope, "security-group", ref);
        if (group && jstr(group, "GroupName"))
            jset_str(entry, "_GroupName", jstr(group, "GroupName"));
        json_decref(group);
    } else {
        return;
    }
    if (jstr(rule, "Description"))
        jset_str(entry, "Description", jstr(rule, "Description"));
    json_array_append_new(json_object_get(perm, list), entry);
}

static json_t *compose_permissions(struct call *c, json_t *rules, int egress)
{
    json_t *perms = json_array();
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
        if (rule_is_egress(rule) == egress)
            add_peer(c, permission_for(perms, rule), rule);
    return perms;
}

static int decorate_group(struct call *c, json_t *group)
{
    json_t *rules = ec2_sg_rules(c->db, &c->scope, jstr(group, "GroupId"));
    if (!rules)
        return call_internal(c, "listing security group rules");
    json_object_set_new(group, "IpPermissions", compose_permissions(c, rules, 0));
    json_object_set_new(group, "IpPermissionsEgress", compose_permissions(c, rules, 1));
    json_decref(rules);
    return 0;
}

/* ---- CreateSecurityGroup, DeleteSecurityGroup ---- */

static int check_group_text(struct call *c, const char *param, const char *value)
{
    if (strlen(value) > 255)
        return call_error(c, "InvalidParameterValue",
                          "Value (%.300s) for parameter %s is invalid. Length exceeds "
                          "maximum of 255.", value, param);
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p > 126 || (unsigned char)*p < 32)
            return call_error(c, "InvalidParameterValue",
                              "Value (%.300s) for parameter %s is invalid. Character sets "
                              "beyond ASCII are not supported.", value, param);
    return 0;
}

int ec2_create_security_group(struct call *c)
{
    const char *name = in_str(c, "GroupName");
    const char *description = in_str(c, "Description");
    const char *vpc_id = in_str(c, "VpcId");
    char default_vpc[32];
    if (!name || !*name)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter GroupName");
    if (!description || !*description)
        return call_error(c, "MissingParameter",
                          "The request must contain the parameter GroupDescription");
    if (check_group_text(c, "GroupName", name) < 0 ||
        check_group_text(c, "GroupDescription", description) < 0)
        return -1;
    if (strncasecmp(name, "sg-", 3) == 0)
        return call_error(c, "InvalidParameterValue",
                          "Value (%s) for parameter GroupName is invalid. Group names may "
                          "not be in the format sg-*.", name);
    if (strcmp(name, "default") == 0)
        return call_error(c, "InvalidGroup.Reserved",
                          "The security group 'default' is reserved");
    if (vpc_id) {
        json_t *vpc = ec2_get(c, "vpc", vpc_id);
        if (!vpc)
            return -1;
        json_decref(vpc);
    } else {
        int rc = default_vpc_id(c, default_vpc);
        if (rc < 0)
            return -1;
        if (rc > 0)
            return call_error(c, "VPCIdNotSpecified", "No default VPC for this user");
        vpc_id = default_vpc;
    }
    json_t *tags = ec2_spec_tags(c, "security-group");
    if (!tags)
        return -1;
    json_t *sg;
    int rc = ec2_sg_create(c, vpc_id, name, description, tags, 0, &sg);
    json_decref(tags);
    if (rc < 0)
        return -1;
    json_t *out = call_out(c);
    jset_str(out, "GroupId", jstr(sg, "GroupId"));
    jset_str(out, "SecurityGroupArn", jstr(sg, "SecurityGroupArn"));
    json_object_set(out, "Tags", json_object_get(sg, "Tags"));
    json_decref(sg);
    return 0;
}

struct eni_scan {
    const char *group_id;
    int found;
};

static int eni_uses_group(json_t *eni, const char *id, void *arg)
{
    (void)id;
    struct eni_scan *e = arg;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(eni, "Groups"), i, g)
        if (streq(jstr(g, "GroupId"), e->group_id))
            e->found = 1;
    return e->found;
}

/* Whether anything but the group itself depends on it: another group's
 * rule referring to it, or a network interface in it.  -1 on error. */
static int group_in_use(struct call *c, const char *group_id)
{
    json_t *referrers = ec2_sg_referencing_groups(c->db, &c->scope, group_id);
    if (!referrers)
        return call_internal(c, "listing security group rules");
    size_t i;
    json_t *v;
    int used = 0;
    json_array_foreach(referrers, i, v)
        used |= !streq(json_string_value(v), group_id);
    json_decref(referrers);
    if (used)
        return 1;
    struct eni_scan e = { group_id, 0 };
    if (store_each(c->db, &c->scope, "network-interface", NULL, NULL, eni_uses_group, &e) < 0)
        return call_internal(c, "listing network interfaces");
    return e.found;
}

int ec2_delete_security_group(struct call *c)
{
    json_t *group = target_group(c);
    if (!group)
        return -1;
    char id[32];
    snprintf(id, sizeof(id), "%s", jstr(group, "GroupId"));
    int is_default = streq(jstr(group, "GroupName"), "default");
    json_decref(group);
    if (is_default)
        return call_error(c, "CannotDelete",
                          "the specified group: \"%s\" name: \"default\" cannot be deleted "
                          "by a user", id);
    int used = group_in_use(c, id);
    if (used < 0)
        return -1;
    if (used)
        return call_error(c, "DependencyViolation", "resource %s has a dependent object", id);
    json_t *rules = ec2_sg_rules(c->db, &c->scope, id);
    if (!rules)
        return call_internal(c, "listing security group rules");
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        if (store_delete(c->db, &c->scope, "security-group-rule",
                         jstr(rule, "SecurityGroupRuleId")) != STORE_OK) {
            json_decref(rules);
            return call_internal(c, "deleting security group rule");
        }
    }
    json_decref(rules);
    if (store_delete(c->db, &c->scope, "security-group", id) != STORE_OK)
        return call_internal(c, "deleting security group");
    json_t *out = call_out(c);
    json_object_set_new(out, "Return", json_true());
    jset_str(out, "GroupId", id);
    return 0;
}

/* ---- DescribeSecurityGroups, DescribeSecurityGroupRules ---- */

static const struct ec2_filter_field group_filters[] = {
    { "description", "Description" },
    { "egress.ip-permission.cidr", "IpPermissionsEgress.IpRanges.CidrIp" },
    { "egress.ip-permission.from-port", "IpPermissionsEgress.FromPort" },
    { "egress.ip-permission.group-id", "IpPermissionsEgress.UserIdGroupPairs.GroupId" },
    { "egress.ip-permission.group-name", "IpPermissionsEgress.UserIdGroupPairs._GroupName" },
    { "egress.ip-permission.ipv6-cidr", "IpPermissionsEgress.Ipv6Ranges.CidrIpv6" },
    { "egress.ip-permission.prefix-list-id", "IpPermissionsEgress.PrefixListIds.PrefixListId" },
    { "egress.ip-permission.protocol", "IpPermissionsEgress.IpProtocol" },
    { "egress.ip-permission.to-port", "IpPermissionsEgress.ToPort" },
    { "egress.ip-permission.user-id", "IpPermissionsEgress.UserIdGroupPairs.UserId" },
    { "group-id", "GroupId" },
    { "group-name", "GroupName" },
    { "ip-permission.cidr", "IpPermissions.IpRanges.CidrIp" },
    { "ip-permission.from-port", "IpPermissions.FromPort" },
    { "ip-permission.group-id", "IpPermissions.UserIdGroupPairs.GroupId" },
    { "ip-permission.group-name", "IpPermissions.UserIdGroupPairs._GroupName" },
    { "ip-permission.ipv6-cidr", "IpPermissions.Ipv6Ranges.CidrIpv6" },
    { "ip-permission.prefix-list-id", "IpPermissions.PrefixListIds.PrefixListId" },
    { "ip-permission.protocol", "IpPermissions.IpProtocol" },
    { "ip-permission.to-port", "IpPermissions.ToPort" },
    { "ip-permission.user-id", "IpPermissions.UserIdGroupPairs.UserId" },
    { "owner-id", "OwnerId" },
    { "vpc-id", "VpcId" },
    { NULL, NULL },
};

static const struct ec2_describe describe_groups = {
    "security-group", "GroupIds", "groupIdSet", "SecurityGroups", group_filters,
    decorate_group, 5, 1000,
};

int ec2_describe_security_groups(struct call *c)
{
    json_t *names = in_get(c, "GroupNames");
    if (json_array_size(names) > 0) {
        /* Names stand for groups of the default VPC: describe them by id. */
        if (in_get(c, "MaxResults"))
            return call_error(c, "InvalidParameterCombination",
                              "The parameter groupNameSet cannot be used with the "
                              "parameter maxResults");
        json_t *ids = json_deep_copy(in_get(c, "GroupIds"));
        if (!ids)
            ids = json_array();
        size_t i;
        json_t *name;
        json_array_foreach(names, i, name) {
            json_t *group = group_in_default_vpc(c, json_string_value(name)
                                                        ? json_string_value(name) : "");
            if (!group) {
                json_decref(ids);
                return -1;
            }
            json_array_append_new(ids, json_string(jstr(group, "GroupId")));
            json_decref(group);
        }
        json_object_set_new(c->in, "GroupIds", ids);
    }
    return ec2_describe(c, &describe_groups);
}

static const struct ec2_filter_field rule_filters[] = {
    { "group-id", "GroupId" },
    { "security-group-rule-id", "SecurityGroupRuleId" },
    { "tag-key", "Tags.Key" },
    { NULL, NULL },
};

static const struct ec2_describe describe_rules = {
    "security-group-rule", "SecurityGroupRuleIds", "SecurityGroupRuleId",
    "SecurityGroupRules", rule_filters, NULL, 5, 1000,
};

int ec2_describe_security_group_rules(struct call *c)
{
    return ec2_describe(c, &describe_rules);
}

/* ---- Authorize ---- */

static int authorize(struct call *c, int egress)
{
    struct spec_list specs = { NULL, 0, 0 };
    json_t *rules = NULL, *tags = NULL, *created = NULL;
    int rc = -1;
    json_t *group = target_group(c);
    if (!group)
        return -1;
    const char *group_id = jstr(group, "GroupId");
    if (parse_request_rules(c, group, egress, &specs) < 0 || check_repeats(c, &specs) < 0)
        goto done;
    tags = ec2_spec_tags(c, "security-group-rule");
    if (!tags)
        goto done;
    rules = ec2_sg_rules(c->db, &c->scope, group_id);
    if (!rules) {
        call_internal(c, "listing security group rules");
        goto done;
    }
    for (size_t i = 0; i < specs.n; i++)
        if (find_rule(rules, egress, &specs.v[i], NULL)) {
            duplicate_error(c, &specs.v[i]);
            goto done;
        }
    created = json_array();
    for (size_t i = 0; i < specs.n; i++) {
        json_t *fields = json_object(), *rule;
        rule_set_spec(fields, &specs.v[i], c->account);
        int ins = insert_rule(c, group_id, egress, fields, tags, &rule);
        json_decref(fields);
        if (ins < 0)
            goto done;
        json_array_append_new(created, rule);
    }
    json_object_set_new(call_out(c), "Return", json_true());
    json_object_set(c->out, "SecurityGroupRules", created);
    rc = 0;
done:
    free(specs.v);
    json_decref(group);
    json_decref(rules);
    json_decref(tags);
    json_decref(created);
    return rc;
}

int ec2_authorize_security_group_ingress(struct call *c)
{
    return authorize(c, 0);
}

int ec2_authorize_security_group_egress(struct call *c)
{
    return authorize(c, 1);
}

/* ---- Revoke ---- */

static json_t *revoked_entry(json_t *rule)
{
    static const char *const copied[] = {
        "SecurityGroupRuleId", "GroupId", "IsEgress", "IpProtocol", "FromPort", "ToPort",
        "CidrIpv4", "CidrIpv6", "PrefixListId", "Description",
    };
    json_t *entry = json_object();
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        if (json_object_get(rule, copied[i]))
            json_object_set(entry, copied[i], json_object_get(rule, copied[i]));
    if (rule_ref_group(rule))
        jset_str(entry, "ReferencedGroupId", rule_ref_group(rule));
    return entry;
}

/* The rules of the group that SecurityGroupRuleIds names, in direction
 * egress, appended to doomed. */
static int doomed_by_ids(struct call *c, json_t *rules, int egress, json_t *ids,
                         json_t *doomed)
{
    size_t i;
    json_t *idv;
    json_array_foreach(ids, i, idv) {
        const char *id = json_string_value(idv);
        json_t *rule = find_rule_id(rules, id);
        if (!rule || rule_is_egress(rule) != egress)
            return ec2_not_found(c, "security-group-rule", id ? id : "");
        size_t k;
        json_t *v;
        int dup = 0;
        json_array_foreach(doomed, k, v)
            dup |= v == rule;
        if (!dup)
            json_array_append(doomed, rule);
    }
    return 0;
}

static int revoke(struct call *c, int egress)
{
    struct spec_list specs = { NULL, 0, 0 };
    json_t *rules = NULL, *doomed = json_array(), *unknown = json_array();
    json_t *revoked = json_array();
    int rc = -1;
    json_t *group = target_group(c);
    if (!group)
        goto done;
    json_t *ids = in_get(c, "SecurityGroupRuleIds");
    rules = ec2_sg_rules(c->db, &c->scope, jstr(group, "GroupId"));
    if (!rules) {
        call_internal(c, "listing security group rules");
        goto done;
    }
    if (json_array_size(ids) > 0) {
        if (json_array_size(in_get(c, "IpPermissions")) > 0 || legacy_given(c)) {
            call_error(c, "InvalidParameterCombination",
                       "The parameter SecurityGroupRuleIds cannot be used with the "
                       "parameter IpPermissions");
            goto done;
        }
        if (doomed_by_ids(c, rules, egress, ids, doomed) < 0)
            goto done;
    } else {
        if (parse_request_rules(c, group, egress, &specs) < 0 ||
            check_repeats(c, &specs) < 0)
            goto done;
        for (size_t i = 0; i < specs.n; i++) {
            json_t *rule = find_rule(rules, egress, &specs.v[i], doomed);
            if (rule) {
                json_array_append(doomed, rule);
                continue;
            }
            json_t *fake = json_pack("{s:b}", "IsEgress", egress);
            rule_set_spec(fake, &specs.v[i], c->account);
            json_array_append_new(unknown, fake);
        }
        /* Outside the default VPC an unknown rule fails the whole call;
         * in it, AWS revokes what matches and reports the rest. */
        if (json_array_size(unknown) > 0 && !in_default_vpc(c, group)) {
            call_error(c, "InvalidPermission.NotFound",
                       "The specified rule does not exist in this security group.");
            goto done;
        }
    }
    size_t i;
    json_t *rule;
    json_array_foreach(doomed, i, rule) {
        if (store_delete(c->db, &c->scope, "security-group-rule",
                         jstr(rule, "SecurityGroupRuleId")) != STORE_OK) {
            call_internal(c, "deleting security group rule");
            goto done;
        }
        json_array_append_new(revoked, revoked_entry(rule));
    }
    json_t *out = call_out(c);
    json_object_set_new(out, "Return", json_boolean(json_array_size(unknown) == 0));
    json_object_set(out, "RevokedSecurityGroupRules", revoked);
    if (json_array_size(unknown) > 0)
        json_object_set_new(out, "UnknownIpPermissions",
                            compose_permissions(c, unknown, egress));
    rc = 0;
done:
    free(specs.v);
    json_decref(group);
    json_decref(rules);
    json_decref(doomed);
    json_decref(unknown);
    json_decref(revoked);
    return rc;
}

int ec2_revoke_security_group_ingress(struct call *c)
{
    return revoke(c, 0);
}

int ec2_revoke_security_group_egress(struct call *c)
{
    return revoke(c, 1);
}

/* ---- ModifySecurityGroupRules ---- */

/* A SecurityGroupRuleRequest as the IpPermission it stands for; it must
 * name exactly one peer.  NULL with the error set. */
static json_t *request_as_permission(struct call *c, json_t *req)
{
    const char *cidr4 = jstr(req, "CidrIpv4"), *cidr6 = jstr(req, "CidrIpv6");
    const char *pl = jstr(req, "PrefixListId"), *ref = jstr(req, "ReferencedGroupId");
    int peers = !!cidr4 + !!cidr6 + !!pl + !!ref;
    if (peers != 1) {
        call_error(c, peers ? "InvalidParameterCombination" : "MissingParameter",
                   "A security group rule must specify exactly one of CidrIpv4, "
                   "CidrIpv6, PrefixListId or ReferencedGroupId");
        return NULL;
    }
    json_t *perm = json_object();
    static const char *const copied[] = { "IpProtocol", "FromPort", "ToPort" };
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(req, copied[i]))
            json_object_set(perm, copied[i], json_object_get(req, copied[i]));
    json_t *entry = json_object();
    if (jstr(req, "Description"))
        jset_str(entry, "Description", jstr(req, "Description"));
    const char *list = cidr4 ? "IpRanges" : cidr6 ? "Ipv6Ranges" : pl ? "PrefixListIds"
                                                                      : "UserIdGroupPairs";
    const char *member = cidr4 ? "CidrIp" : cidr6 ? "CidrIpv6" : pl ? "PrefixListId" : "GroupId";
    jset_str(entry, member, cidr4 ? cidr4 : cidr6 ? cidr6 : pl ? pl : ref);
    json_object_set_new(perm, list, json_pack("[o]", entry));
    return perm;
}

int ec2_modify_security_group_rules(struct call *c)
{
    struct spec_list specs = { NULL, 0, 0 };
    json_t *updates = in_get(c, "SecurityGroupRules");
    json_t *targets = json_array(), *rules = NULL;
    int rc = -1;
    json_t *group = ec2_get(c, "security-group", in_str(c, "GroupId"));
    if (!group)
        goto done;
    rules = ec2_sg_rules(c->db, &c->scope, jstr(group, "GroupId"));
    if (!rules) {
        call_internal(c, "listing security group rules");
        goto done;
    }
    size_t i;
    json_t *u;
    json_array_foreach(updates, i, u) {
        const char *id = jstr(u, "SecurityGroupRuleId");
        json_t *rule = find_rule_id(rules, id);
        json_t *req = json_object_get(u, "SecurityGroupRule");
        if (!rule) {
            ec2_not_found(c, "security-group-rule", id ? id : "");
            goto done;
        }
        if (!req) {
            call_error(c, "MissingParameter",
                       "The request must contain the parameter SecurityGroupRule");
            goto done;
        }
        json_t *perm = request_as_permission(c, req);
        if (!perm)
            goto done;
        size_t before = specs.n;
        int prc = parse_permission(c, group, perm, &specs);
        json_decref(perm);
        if (prc < 0)
            goto done;
        if (specs.n != before + 1) {
            call_internal(c, "security group rule request");
            goto done;
        }
        json_array_append(targets, rule);
    }
    /* Check the new rules against each other and against the rules that
     * stay as they are, then change them all. */
    for (i = 0; i < specs.n; i++) {
        json_t *rule = json_array_get(targets, i);
        int egress = rule_is_egress(rule);
        for (size_t j = 0; j < i; j++) {
            if (json_array_get(targets, j) == rule) {
                call_error(c, "InvalidParameterValue",
                           "The security group rule ID '%s' appears more than once",
                           jstr(rule, "SecurityGroupRuleId"));
                goto done;
            }
            if (rule_is_egress(json_array_get(targets, j)) == egress &&
                spec_equal(&specs.v[i], &specs.v[j])) {
                call_error(c, "InvalidParameterValue",
                           "The same permission must not appear multiple times");
                goto done;
            }
        }
        if (find_rule(rules, egress, &specs.v[i], targets)) {
            duplicate_error(c, &specs.v[i]);
            goto done;
        }
    }
    for (i = 0; i < specs.n; i++) {
        json_t *rule = json_array_get(targets, i);
        rule_set_spec(rule, &specs.v[i], c->account);
        if (ec2_save(c, "security-group-rule", jstr(rule, "SecurityGroupRuleId"), rule) < 0)
            goto done;
    }
    json_object_set_new(call_out(c), "Return", json_true());
    rc = 0;
done:
    free(specs.v);
    json_decref(group);
    json_decref(rules);
    json_decref(targets);
    return rc;
}

/* ---- UpdateSecurityGroupRuleDescriptionsIngress/Egress ---- */

static int set_description(struct call *c, json_t *rule, const struct rule_spec *s)
{
    json_object_del(rule, "Description");
    if (s->has_description)
        jset_str(rule, "Description", s->description);
    return ec2_save(c, "security-group-rule", jstr(rule, "SecurityGroupRuleId"), rule);
}

static int update_descriptions(struct call *c, int egress)
{
    struct spec_list specs = { NULL, 0, 0 };
    json_t *rules = NULL;
    json_t *perms = in_get(c, "IpPermissions");
    json_t *by_id = in_get(c, "SecurityGroupRuleDescriptions");
    int rc = -1;
    json_t *group = target_group(c);
    if (!group)
        goto done;
    if (json_array_size(perms) == 0 && json_array_size(by_id) == 0) {
        call_error(c, "MissingParameter",
                   "The request must contain the parameter ipPermissions or "
                   "securityGroupRuleDescriptions");
        goto done;
    }
    rules = ec2_sg_rules(c->db, &c->scope, jstr(group, "GroupId"));
    if (!rules) {
        call_internal(c, "listing security group rules");
        goto done;
    }
    size_t i;
    json_t *item;
    json_array_foreach(perms, i, item)
        if (parse_permission(c, group, item, &specs) < 0)
            goto done;
    for (i = 0; i < specs.n; i++) {
        json_t *rule = find_rule(rules, egress, &specs.v[i], NULL);
        if (!rule) {
            call_error(c, "InvalidPermission.NotFound",
                       "The specified rule does not exist in this security group.");
            goto done;
        }
        if (set_description(c, rule, &specs.v[i]) < 0)
            goto done;
    }
    json_array_foreach(by_id, i, item) {
        const char *id = jstr(item, "SecurityGroupRuleId");
        json_t *rule = find_rule_id(rules, id);
        struct rule_spec s;
        if (!rule || rule_is_egress(rule) != egress) {
            ec2_not_found(c, "security-group-rule", id ? id : "");
            goto done;
        }
        if (parse_description(c, jstr(item, "Description"), &s) < 0 ||
            set_description(c, rule, &s) < 0)
            goto done;
    }
    json_object_set_new(call_out(c), "Return", json_true());
    rc = 0;
done:
    free(specs.v);
    json_decref(group);
    json_decref(rules);
    return rc;
}

int ec2_update_security_group_rule_descriptions_ingress(struct call *c)
{
    return update_descriptions(c, 0);
}

int ec2_update_security_group_rule_descriptions_egress(struct call *c)
{
    return update_descriptions(c, 1);
}
