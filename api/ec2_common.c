/*
 * Shared EC2 machinery: ids, errors, tags, Describe filters and paging,
 * regions and zones.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "buf.h"
#include "ec2.h"

static const struct ec2_kind kinds[] = {
    { "vpc", "vpc", "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist",
      "InvalidVpcId.Malformed", "The vpc ID %s is malformed" },
    { "subnet", "subnet", "InvalidSubnetID.NotFound",
      "The subnet ID '%s' does not exist",
      "InvalidSubnetID.Malformed", "The subnet ID '%s' is malformed" },
    { "security-group", "sg", "InvalidGroup.NotFound",
      "The security group '%s' does not exist",
      "InvalidGroupId.Malformed", "Invalid id: \"%s\" (expecting \"sg-...\")" },
    { "security-group-rule", "sgr", "InvalidSecurityGroupRuleId.NotFound",
      "The security group rule ID '%s' does not exist",
      "InvalidSecurityGroupRuleId.Malformed",
      "Invalid id: \"%s\" (expecting \"sgr-...\")" },
    { "network-interface", "eni", "InvalidNetworkInterfaceID.NotFound",
      "The networkInterface ID '%s' does not exist",
      "InvalidNetworkInterfaceId.Malformed",
      "Invalid id: \"%s\" (expecting \"eni-...\")" },
    { "internet-gateway", "igw", "InvalidInternetGatewayID.NotFound",
      "The internetGateway ID '%s' does not exist",
      "InvalidInternetGatewayId.Malformed", "Invalid id: \"%s\"" },
    { "route-table", "rtb", "InvalidRouteTableID.NotFound",
      "The routeTable ID '%s' does not exist",
      "InvalidRouteTableId.Malformed", "Invalid id: \"%s\"" },
    { "network-acl", "acl", "InvalidNetworkAclID.NotFound",
      "The networkAcl ID '%s' does not exist",
      "InvalidNetworkAclId.Malformed", "Invalid id: \"%s\"" },
    { "dhcp-options", "dopt", "InvalidDhcpOptionID.NotFound",
      "The dhcpOption ID '%s' does not exist",
      "InvalidDhcpOptionsId.Malformed", "Invalid id: \"%s\"" },
    { "instance", "i", "InvalidInstanceID.NotFound",
      "The instance ID '%s' does not exist",
      "InvalidInstanceID.Malformed", "Invalid id: \"%s\" (expecting \"i-...\")" },
    { "vpc-endpoint", "vpce", "InvalidVpcEndpointId.NotFound",
      "The VpcEndpoint Id '%s' does not exist",
      "InvalidVpcEndpointId.Malformed", "Invalid id: \"%s\"" },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct ec2_kind *ec2_kind(const char *type)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}

const struct ec2_kind *ec2_kind_of_id(const char *id)
{
    const char *dash = strchr(id, '-');
    if (!dash)
        return NULL;
    for (size_t i = 0; i < NKINDS; i++)
        if (strlen(kinds[i].prefix) == (size_t)(dash - id) &&
            strncmp(kinds[i].prefix, id, (size_t)(dash - id)) == 0)
            return &kinds[i];
    return NULL;
}

void ec2_new_id(const char *prefix, char *out, size_t len)
{
    unsigned char r[9];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        memset(r, 0x5a, sizeof(r));
    /* AWS's long ids are 17 lower-case hex digits after the prefix, and in
     * practice begin with 0. */
    snprintf(out, len, "%s-0%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7]);
}

int ec2_id_wellformed(const struct ec2_kind *k, const char *id)
{
    size_t plen = strlen(k->prefix);
    if (strncmp(id, k->prefix, plen) != 0 || id[plen] != '-')
        return 0;
    const char *hexpart = id + plen + 1;
    size_t n = strlen(hexpart);
    if (n != 8 && n != 17)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)hexpart[i]) || isupper((unsigned char)hexpart[i]))
            return 0;
    return 1;
}

int ec2_not_found(struct call *c, const char *type, const char *id)
{
    const struct ec2_kind *k = ec2_kind(type);
    if (!k)
        return call_internal(c, "unknown resource kind");
    if (!ec2_id_wellformed(k, id))
        return call_error(c, k->malformed_code, k->malformed_fmt, id);
    return call_error(c, k->notfound_code, k->notfound_fmt, id);
}

json_t *ec2_get(struct call *c, const char *type, const char *id)
{
    json_t *doc = store_get(c->db, &c->scope, type, id);
    if (!doc)
        ec2_not_found(c, type, id);
    return doc;
}

int ec2_save(struct call *c, const char *type, const char *id, json_t *doc)
{
    if (store_update(c->db, &c->scope, type, id, doc) != STORE_OK)
        return call_internal(c, "storing resource");
    return 0;
}

void jset_str(json_t *doc, const char *key, const char *value)
{
    json_object_set_new(doc, key, json_string(value));
}

/* ---- tags ---- */

int ec2_check_tags(struct call *c, json_t *tags)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        const char *key = jstr(t, "Key");
        const char *value = jstr(t, "Value");
        if (!key)
            return call_error(c, "InvalidParameterValue",
                              "Tag keys must not be empty");
        if (strlen(key) > 128)
            return call_error(c, "InvalidParameterValue",
                              "Tag key exceeds the maximum length of 128 characters");
        if (value && strlen(value) > 256)
            return call_error(c, "InvalidParameterValue",
                              "Tag value exceeds the maximum length of 256 characters");
        if (strncasecmp(key, "aws:", 4) == 0)
            return call_error(c, "InvalidParameterValue",
                              "Value ( %s ) for parameter key is invalid. Tag keys "
                              "starting with 'aws:' are reserved for internal use",
                              key);
    }
    if (json_array_size(tags) > 50)
        return call_error(c, "TagLimitExceeded",
                          "The maximum number of Tags for a resource has been reached.");
    return 0;
}

json_t *ec2_spec_tags(struct call *c, const char *type)
{
    json_t *specs = in_get(c, "TagSpecifications");
    json_t *out = json_array();
    size_t i;
    json_t *spec;
    json_array_foreach(specs, i, spec) {
        const char *rt = jstr(spec, "ResourceType");
        if (!rt) {
            json_decref(out);
            call_error(c, "InvalidParameterValue",
                       "Tag specification resource type must have a value");
            return NULL;
        }
        if (strcmp(rt, type) != 0) {
            json_decref(out);
            call_error(c, "InvalidParameterValue",
                       "'%s' is not a valid taggable resource type for this operation.",
                       rt);
            return NULL;
        }
        json_t *tags = json_object_get(spec, "Tags");
        size_t j;
        json_t *t;
        json_array_foreach(tags, j, t) {
            /* A later duplicate key replaces the earlier one. */
            size_t k;
            json_t *have;
            json_array_foreach(out, k, have) {
                if (strcmp(jstr(have, "Key"), jstr(t, "Key") ? jstr(t, "Key") : "") == 0) {
                    json_array_remove(out, k);
                    break;
                }
            }
            if (!jstr(t, "Key"))
                continue;
            json_array_append_new(out, json_pack("{s:s, s:s}", "Key", jstr(t, "Key"),
                                                 "Value", jstr(t, "Value") ? jstr(t, "Value") : ""));
        }
    }
    if (ec2_check_tags(c, out) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- filters ---- */

int ec2_glob(const char *p, const char *t)
{
    /* Iterative matcher with one backtrack point: linear in practice and
     * never exponential on hostile patterns. */
    const char *star = NULL, *mark = NULL;
    while (*t) {
        if (*p == '\\' && (p[1] == '*' || p[1] == '?' || p[1] == '\\')) {
            if (p[1] != *t)
                goto backtrack;
            p += 2;
            t++;
            continue;
        }
        if (*p == '?' || (*p != '*' && *p == *t)) {
            p++;
            t++;
            continue;
        }
        if (*p == '*') {
            star = p++;
            mark = t;
            continue;
        }
backtrack:
        if (!star)
            return 0;
        p = star + 1;
        t = ++mark;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static void value_text(json_t *v, char *out, size_t len)
{
    if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(out, len, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_real(v))
        snprintf(out, len, "%g", json_real_value(v));
    else
        out[0] = '\0';
}

static int any_value_matches(json_t *values, json_t *v)
{
    char text[1024];
    value_text(v, text, sizeof(text));
    size_t i;
    json_t *pat;
    json_array_foreach(values, i, pat)
        if (json_is_string(pat) && ec2_glob(json_string_value(pat), text))
            return 1;
    return 0;
}

/* Whether any value reached by path (dot-separated members; arrays fan
 * out) matches any of the filter values. */
static int path_matches(json_t *node, const char *path, json_t *values)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *item;
        json_array_foreach(node, i, item)
            if (path_matches(item, path, values))
                return 1;
        return 0;
    }
    if (!*path)
        return node && !json_is_object(node) && any_value_matches(values, node);
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    char key[128];
    if (n >= sizeof(key) || !json_is_object(node))
        return 0;
    memcpy(key, path, n);
    key[n] = '\0';
    json_t *child = json_object_get(node, key);
    if (!child)
        return 0;
    return path_matches(child, dot ? dot + 1 : "", values);
}

json_t *ec2_doc_tags(json_t *doc)
{
    json_t *tags = json_object_get(doc, "Tags");
    return tags ? tags : json_object_get(doc, "TagSet");
}

static int tags_match(json_t *doc, const char *key, const char *field,
                      json_t *values)
{
    size_t i;
    json_t *t;
    json_array_foreach(ec2_doc_tags(doc), i, t) {
        if (key && strcmp(jstr(t, "Key") ? jstr(t, "Key") : "", key) != 0)
            continue;
        if (any_value_matches(values, json_object_get(t, field)))
            return 1;
    }
    return 0;
}

int ec2_filters_match(struct call *c, json_t *filters, json_t *doc,
                      const struct ec2_filter_field *fields)
{
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f) {
        const char *name = jstr(f, "Name");
        json_t *values = json_object_get(f, "Values");
        if (!name)
            return call_error(c, "InvalidParameterValue",
                              "The filter 'null' is invalid");
        if (!model_filter_valid(c->svc->id, c->op->name, name)) {
            int documented = 0;
            for (const struct ec2_filter_field *ff = fields; ff && ff->name; ff++)
                documented |= strcmp(ff->name, name) == 0;
            if (!documented)
                return call_error(c, "InvalidParameterValue",
                                  "The filter '%.128s' is invalid", name);
        }
        int ok;
        if (strncmp(name, "tag:", 4) == 0) {
            ok = tags_match(doc, name + 4, "Value", values);
        } else if (strcmp(name, "tag-key") == 0) {
            ok = tags_match(doc, NULL, "Key", values);
        } else if (strcmp(name, "tag-value") == 0) {
            ok = tags_match(doc, NULL, "Value", values);
        } else {
            const struct ec2_filter_field *ff = fields;
            while (ff && ff->name && strcmp(ff->name, name) != 0)
                ff++;
            if (!ff || !ff->name)
                return call_error(c, "InvalidParameterValue",
                                  "The filter '%.128s' is not supported by ecslocal",
                                  name);
            ok = path_matches(doc, ff->path, values);
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- Describe ---- */

/* NextToken: the id of the last item returned, hex-encoded behind a
 * version tag so a foreign token is recognisably invalid. */
static void make_token(const char *id, char *out, size_t len)
{
    size_t j = (size_t)snprintf(out, len, "ecsl1");
    for (const char *p = id; *p && j + 2 < len; p++)
        j += (size_t)snprintf(out + j, len - j, "%02x", (unsigned char)*p);
}

static int read_token(const char *token, char *id, size_t len)
{
    if (strncmp(token, "ecsl1", 5) != 0)
        return -1;
    const char *h = token + 5;
    size_t n = strlen(h);
    if (n % 2 || n / 2 >= len || n == 0)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (!isxdigit((unsigned char)h[2 * i]) || !isxdigit((unsigned char)h[2 * i + 1]) ||
            sscanf(h + 2 * i, "%2x", &v) != 1)
            return -1;
        id[i] = (char)v;
    }
    id[n / 2] = '\0';
    return 0;
}

struct describe_walk {
    struct call *c;
    const struct ec2_describe *d;
    json_t *filters;
    json_t *out;
    long long limit;            /* 0: no limit */
    char last[128];
    int more;
    int failed;
};

static int describe_visit(json_t *doc, const char *id, void *arg)
{
    struct describe_walk *w = arg;
    if (w->limit && (long long)json_array_size(w->out) >= w->limit) {
        w->more = 1;
        return 1;
    }
    if (w->d->decorate && w->d->decorate(w->c, doc) < 0) {
        w->failed = 1;
        return 1;
    }
    int m = ec2_filters_match(w->c, w->filters, doc, w->d->filters);
    if (m < 0) {
        w->failed = 1;
        return 1;
    }
    if (m) {
        json_array_append(w->out, doc);
        snprintf(w->last, sizeof(w->last), "%s", id);
    }
    return 0;
}

int ec2_describe(struct call *c, const struct ec2_describe *d)
{
    json_t *ids = d->ids_member ? in_get(c, d->ids_member) : NULL;
    json_t *filters = in_get(c, "Filters");
    const char *token = in_str(c, "NextToken");
    json_t *max = in_get(c, "MaxResults");
    struct describe_walk w = { c, d, filters, json_array(), 0, "", 0, 0 };
    char after[128] = "";

    if (max && d->max_results_min) {
        long long m = json_integer_value(max);
        if (json_array_size(ids) > 0) {
            json_decref(w.out);
            return call_error(c, "InvalidParameterCombination",
                              "The parameter %s cannot be used with the parameter "
                              "maxResults", d->ids_wire);
        }
        if (m < d->max_results_min || m > d->max_results_max) {
            json_decref(w.out);
            return call_error(c, "InvalidParameterValue",
                              "Value ( %lld ) for parameter maxResults is invalid. "
                              "Expecting a value %s %d.", m,
                              m < d->max_results_min ? "greater than or equal to"
                                                     : "smaller than or equal to",
                              m < d->max_results_min ? d->max_results_min
                                                     : d->max_results_max);
        }
        w.limit = m;
    }
    if (token && read_token(token, after, sizeof(after)) < 0) {
        json_decref(w.out);
        return call_error(c, "InvalidParameterValue",
                          "Value ( %.128s ) for parameter NextToken is invalid. The "
                          "token is invalid.", token);
    }

    if (json_array_size(ids) > 0) {
        size_t i;
        json_t *idv;
        json_array_foreach(ids, i, idv) {
            const char *id = json_string_value(idv);
            json_t *doc = id ? store_get(c->db, &c->scope, d->type, id) : NULL;
            if (!doc) {
                json_decref(w.out);
                return ec2_not_found(c, d->type, id ? id : "");
            }
            int dup = 0;
            size_t k;
            json_t *prev;
            json_array_foreach(ids, k, prev) {
                if (k >= i)
                    break;
                dup |= json_equal(prev, idv);
            }
            if (!dup)
                describe_visit(doc, id, &w);
            json_decref(doc);
            if (w.failed) {
                json_decref(w.out);
                return -1;
            }
        }
    } else {
        if (store_each(c->db, &c->scope, d->type, NULL, after[0] ? after : NULL,
                       describe_visit, &w) < 0 && !w.failed) {
            json_decref(w.out);
            return call_internal(c, "listing resources");
        }
        if (w.failed) {
            json_decref(w.out);
            return -1;
        }
    }
    json_object_set_new(call_out(c), d->out_member, w.out);
    if (w.more) {
        char next[300];
        make_token(w.last, next, sizeof(next));
        jset_str(c->out, "NextToken", next);
    }
    return 0;
}

/* ---- regions and zones ---- */

const char *const ec2_regions[] = {
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ca-central-1",
    "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
    "me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
    "us-west-2", NULL,
};

/* us-east-1 -> use1, ap-southeast-2 -> apse2: the prefix of AZ ids. */
static void region_code(const char *region, char *out, size_t len)
{
    static const struct { const char *word, *code; } dirs[] = {
        { "northeast", "ne" }, { "northwest", "nw" }, { "southeast", "se" },
        { "southwest", "sw" }, { "north", "n" }, { "south", "s" },
        { "east", "e" }, { "west", "w" }, { "central", "c" },
    };
    char copy[40];
    snprintf(copy, sizeof(copy), "%s", region);
    char *save = NULL, *geo = strtok_r(copy, "-", &save);
    char *dir = strtok_r(NULL, "-", &save), *num = strtok_r(NULL, "-", &save);
    const char *d = "";
    for (size_t i = 0; dir && i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (strcmp(dir, dirs[i].word) == 0) {
            d = dirs[i].code;
            break;
        }
    snprintf(out, len, "%s%s%s", geo ? geo : "x", d, num ? num : "");
}

int ec2_region_zones(const char *region, struct ec2_zone *zones, int max)
{
    /* us-east-1 has six zones, the others three here; the letters are what
     * clients expect to see (a, b, c, ...). */
    int n = strcmp(region, "us-east-1") == 0 ? 6 : 3;
    char code[32];
    region_code(region, code, sizeof(code));
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        snprintf(zones[i].name, sizeof(zones[i].name), "%s%c", region, 'a' + i);
        snprintf(zones[i].id, sizeof(zones[i].id), "%s-az%d", code, i + 1);
    }
    return n;
}

int ec2_find_zone(const char *region, const char *name, const char *id,
                  struct ec2_zone *out)
{
    struct ec2_zone zones[8];
    int n = ec2_region_zones(region, zones, 8);
    for (int i = 0; i < n; i++) {
        if ((name && strcmp(zones[i].name, name) == 0) ||
            (id && strcmp(zones[i].id, id) == 0)) {
            *out = zones[i];
            return 0;
        }
    }
    return -1;
}

void ec2_private_dns_name(const char *region, uint32_t ip, char *out, size_t len)
{
    if (strcmp(region, "us-east-1") == 0)
        snprintf(out, len, "ip-%u-%u-%u-%u.ec2.internal", ip >> 24, (ip >> 16) & 255,
                 (ip >> 8) & 255, ip & 255);
    else
        snprintf(out, len, "ip-%u-%u-%u-%u.%s.compute.internal", ip >> 24,
                 (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, region);
}
