/*
 * EC2 tags: CreateTags, DeleteTags, DescribeTags over every taggable EC2
 * resource ecslocal keeps.
 *
 * Tags live in each resource's own document ("Tags", or "TagSet" for a
 * network interface), where the resource's Describe call reads them, so
 * there is no tag table to keep in step.  A request naming several
 * resources changes all of them or none: an error rolls the transaction
 * back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2.h"

/* The resource types tags can be put on, in DescribeTags' walk order. */
static const char *const taggable[] = {
    "dhcp-options", "instance", "internet-gateway", "network-acl",
    "network-interface", "route-table", "security-group", "security-group-rule",
    "subnet", "vpc", "vpc-endpoint", NULL,
};

static int is_taggable(const char *type)
{
    for (const char *const *t = taggable; *t; t++)
        if (strcmp(*t, type) == 0)
            return 1;
    return 0;
}

/* The kind of a resource id a tag call names, or NULL with InvalidID set. */
static const struct ec2_kind *tag_kind(struct call *c, const char *id)
{
    const struct ec2_kind *k = ec2_kind_of_id(id);
    if (!k || !is_taggable(k->type) || !ec2_id_wellformed(k, id)) {
        call_error(c, "InvalidID", "The ID '%s' is not valid", id);
        return NULL;
    }
    return k;
}

/* A document's tag list, created under the member its shape uses when the
 * document has none yet.  Borrowed. */
static json_t *tag_list(json_t *doc, const char *type)
{
    json_t *tags = ec2_doc_tags(doc);
    if (tags)
        return tags;
    tags = json_array();
    json_object_set_new(doc, strcmp(type, "network-interface") == 0 ? "TagSet" : "Tags",
                        tags);
    return tags;
}

static int find_tag(json_t *tags, const char *key)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
        if (jstr(t, "Key") && strcmp(jstr(t, "Key"), key) == 0)
            return (int)i;
    return -1;
}

static int reserved_key(struct call *c, const char *key)
{
    return call_error(c, "InvalidParameterValue",
                      "Value ( %s ) for parameter key is invalid. Tag keys starting with "
                      "'aws:' are reserved for internal use", key);
}

/* Load every resource a request names, in order; NULL (error set) when
 * one is malformed or unknown. */
static json_t *load_resources(struct call *c)
{
    json_t *docs = json_array();
    size_t i;
    json_t *idv;
    json_array_foreach(in_get(c, "Resources"), i, idv) {
        const char *id = json_string_value(idv);
        const struct ec2_kind *k = tag_kind(c, id ? id : "");
        json_t *doc = k ? store_get(c->db, &c->scope, k->type, id) : NULL;
        if (k && !doc)
            call_error(c, k->notfound_code, k->notfound_fmt, id);
        if (!doc) {
            json_decref(docs);
            return NULL;
        }
        json_array_append_new(docs, json_pack("{s:s, s:s, s:o}", "id", id, "type",
                                              k->type, "doc", doc));
    }
    return docs;
}

int ec2_create_tags(struct call *c)
{
    json_t *tags = in_get(c, "Tags");
    if (ec2_check_tags(c, tags) < 0)
        return -1;
    json_t *docs = load_resources(c);
    if (!docs)
        return -1;
    int rc = 0;
    size_t i;
    json_t *r;
    json_array_foreach(docs, i, r) {
        const char *type = jstr(r, "type");
        json_t *doc = json_object_get(r, "doc");
        json_t *have = tag_list(doc, type);
        size_t j;
        json_t *t;
        json_array_foreach(tags, j, t) {
            const char *key = jstr(t, "Key");
            const char *value = jstr(t, "Value") ? jstr(t, "Value") : "";
            int at = find_tag(have, key);
            if (at >= 0)
                json_object_set_new(json_array_get(have, (size_t)at), "Value",
                                    json_string(value));
            else
                json_array_append_new(have, json_pack("{s:s, s:s}", "Key", key,
                                                      "Value", value));
        }
        if (json_array_size(have) > 50) {
            rc = call_error(c, "TagLimitExceeded",
                            "The maximum number of Tags for a resource has been reached.");
            break;
        }
        if ((rc = ec2_save(c, type, jstr(r, "id"), doc)) < 0)
            break;
    }
    json_decref(docs);
    return rc;
}

int ec2_delete_tags(struct call *c)
{
    json_t *tags = in_get(c, "Tags");
    size_t j;
    json_t *t;
    json_array_foreach(tags, j, t) {
        if (!jstr(t, "Key"))
            return call_error(c, "InvalidParameterValue", "Tag keys must not be empty");
        if (strncasecmp(jstr(t, "Key"), "aws:", 4) == 0)
            return reserved_key(c, jstr(t, "Key"));
    }
    json_t *docs = load_resources(c);
    if (!docs)
        return -1;
    int rc = 0;
    size_t i;
    json_t *r;
    json_array_foreach(docs, i, r) {
        const char *type = jstr(r, "type");
        json_t *doc = json_object_get(r, "doc");
        json_t *have = tag_list(doc, type);
        if (!tags) {
            /* No tags named: all of them go, except AWS's own. */
            for (size_t k = json_array_size(have); k-- > 0;)
                if (strncasecmp(jstr(json_array_get(have, k), "Key"), "aws:", 4) != 0)
                    json_array_remove(have, k);
        }
        json_array_foreach(tags, j, t) {
            int at = find_tag(have, jstr(t, "Key"));
            const char *want = jstr(t, "Value");
            /* With a value, only a tag holding exactly that value goes. */
            if (at >= 0 && (!want || strcmp(want, jstr(json_array_get(have, (size_t)at),
                                                       "Value")) == 0))
                json_array_remove(have, (size_t)at);
        }
        if ((rc = ec2_save(c, type, jstr(r, "id"), doc)) < 0)
            break;
    }
    json_decref(docs);
    return rc;
}

/* ---- DescribeTags ---- */

static const struct ec2_filter_field tag_filters[] = {
    { "key", "Key" },
    { "value", "Value" },
    { "resource-id", "ResourceId" },
    { "resource-type", "ResourceType" },
    { NULL, NULL },
};

struct tag_walk {
    struct call *c;
    const char *type;
    json_t *filters;
    json_t *out;
    int failed;
};

/* Add the tags of one resource that pass the filters.  Each candidate
 * carries the resource's tags while it is matched, so "tag:<key>" filters
 * work on it like on any resource. */
static int collect_tags(json_t *doc, const char *id, void *arg)
{
    struct tag_walk *w = arg;
    json_t *tags = ec2_doc_tags(doc);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:O}", "Key", jstr(t, "Key"),
                              "Value", jstr(t, "Value") ? jstr(t, "Value") : "",
                              "ResourceId", id, "ResourceType", w->type, "Tags", tags);
        int m = d ? ec2_filters_match(w->c, w->filters, d, tag_filters) : -1;
        if (m < 0) {
            json_decref(d);
            if (!w->c->status)
                call_internal(w->c, "building tag description");
            w->failed = 1;
            return 1;
        }
        json_object_del(d, "Tags");
        if (m)
            json_array_append(w->out, d);
        json_decref(d);
    }
    return 0;
}

static int tag_order(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int r = strcmp(jstr(x, "ResourceId"), jstr(y, "ResourceId"));
    return r ? r : strcmp(jstr(x, "Key"), jstr(y, "Key"));
}

/* The literal resource ids of a "resource-id" filter, when it has only
 * literal values (no wildcards): only those resources need reading. */
static json_t *literal_ids(json_t *filters)
{
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f) {
        if (strcmp(jstr(f, "Name") ? jstr(f, "Name") : "", "resource-id") != 0)
            continue;
        json_t *values = json_object_get(f, "Values");
        size_t j;
        json_t *v;
        json_array_foreach(values, j, v)
            if (!json_is_string(v) || strpbrk(json_string_value(v), "*?\\"))
                return NULL;
        return values;
    }
    return NULL;
}

/* NextToken: the last (resource id, key) returned, hex-encoded. */
static void make_token(json_t *last, char *out, size_t len)
{
    char raw[400];
    snprintf(raw, sizeof(raw), "%s\t%s", jstr(last, "ResourceId"), jstr(last, "Key"));
    size_t j = (size_t)snprintf(out, len, "ecsltag1");
    for (const char *p = raw; *p && j + 2 < len; p++)
        j += (size_t)snprintf(out + j, len - j, "%02x", (unsigned char)*p);
}

static int read_token(const char *token, char *id, size_t idlen, char *key,
                      size_t keylen)
{
    char raw[400];
    if (strncmp(token, "ecsltag1", 8) != 0)
        return -1;
    const char *h = token + 8;
    size_t n = strlen(h);
    if (n == 0 || n % 2 || n / 2 >= sizeof(raw))
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return -1;
        raw[i] = (char)v;
    }
    raw[n / 2] = '\0';
    char *tab = strchr(raw, '\t');
    if (!tab || strlen(raw) != n / 2)
        return -1;
    size_t idn = (size_t)(tab - raw), keyn = strlen(tab + 1);
    if (idn >= idlen || keyn >= keylen)
        return -1;
    memcpy(id, raw, idn);
    id[idn] = '\0';
    memcpy(key, tab + 1, keyn + 1);
    return 0;
}

int ec2_describe_tags(struct call *c)
{
    json_t *filters = in_get(c, "Filters");
    json_t *max = in_get(c, "MaxResults");
    const char *token = in_str(c, "NextToken");
    char after_id[128] = "", after_key[256] = "";
    long long limit = 0;
    if (max) {
        limit = json_integer_value(max);
        if (limit < 5 || limit > 1000)
            return call_error(c, "InvalidParameterValue",
                              "Value ( %lld ) for parameter maxResults is invalid. "
                              "Expecting a value %s %d.", limit,
                              limit < 5 ? "greater than or equal to"
                                        : "smaller than or equal to",
                              limit < 5 ? 5 : 1000);
    }
    if (token && read_token(token, after_id, sizeof(after_id), after_key,
                            sizeof(after_key)) < 0)
        return call_error(c, "InvalidParameterValue",
                          "Value ( %.128s ) for parameter NextToken is invalid. The "
                          "token is invalid.", token);

    struct tag_walk w = { c, NULL, filters, json_array(), 0 };
    json_t *ids = literal_ids(filters);
    if (ids) {
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v) {
            const struct ec2_kind *k = ec2_kind_of_id(json_string_value(v));
            if (!k || !is_taggable(k->type))
                continue;
            json_t *doc = store_get(c->db, &c->scope, k->type, json_string_value(v));
            w.type = k->type;
            if (doc)
                collect_tags(doc, json_string_value(v), &w);
            json_decref(doc);
            if (w.failed)
                break;
        }
    } else {
        for (const char *const *t = taggable; *t && !w.failed; t++) {
            w.type = *t;
            if (store_each(c->db, &c->scope, *t, NULL, NULL, collect_tags, &w) < 0 &&
                !w.failed) {
                json_decref(w.out);
                return call_internal(c, "listing resources");
            }
        }
    }
    if (w.failed) {
        json_decref(w.out);
        return -1;
    }

    /* Order by (resource id, key), drop what earlier pages returned, and
     * cut the page. */
    size_t n = json_array_size(w.out);
    json_t **all = calloc(n ? n : 1, sizeof(*all));
    if (!all) {
        json_decref(w.out);
        return call_internal(c, "sorting tags");
    }
    for (size_t i = 0; i < n; i++)
        all[i] = json_array_get(w.out, i);
    qsort(all, n, sizeof(*all), tag_order);
    json_t *page = json_array();
    json_t *last = NULL;
    int more = 0;
    for (size_t i = 0; i < n; i++) {
        if (token) {
            int r = strcmp(jstr(all[i], "ResourceId"), after_id);
            if (r < 0 || (r == 0 && strcmp(jstr(all[i], "Key"), after_key) <= 0))
                continue;
        }
        if (limit && (long long)json_array_size(page) >= limit) {
            more = 1;
            break;
        }
        json_array_append(page, all[i]);
        last = all[i];
    }
    json_object_set_new(call_out(c), "Tags", page);
    if (more && last) {
        char next[900];
        make_token(last, next, sizeof(next));
        jset_str(c->out, "NextToken", next);
    }
    free(all);
    json_decref(w.out);
    return 0;
}
