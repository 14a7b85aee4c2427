/*
 * Shared ECS machinery: ARNs and their parsing, cluster and task
 * definition references, failures, tags, pagination tokens and ids.  The
 * storage conventions these implement are described in ecs.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "ecs.h"

/* ---- JSON helpers ---- */

const char *ecs_str(json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

void ecs_set_str(json_t *doc, const char *key, const char *value)
{
    json_object_set_new(doc, key, json_string(value));
}

/* ---- ARNs ---- */

void ecs_arn(const struct call *c, const char *resource, char *out, size_t len)
{
    snprintf(out, len, "arn:aws:ecs:%s:%s:%s", c->region, c->account, resource);
}

void ecs_cluster_arn(const struct call *c, const char *cluster, char *out,
                     size_t len)
{
    char res[ECS_ARN_MAX];
    snprintf(res, sizeof(res), "cluster/%s", cluster);
    ecs_arn(c, res, out, len);
}

void ecs_service_arn(const struct call *c, const char *cluster,
                     const char *service, char *out, size_t len)
{
    char res[ECS_ARN_MAX];
    snprintf(res, sizeof(res), "service/%s/%s", cluster, service);
    ecs_arn(c, res, out, len);
}

void ecs_task_arn(const struct call *c, const char *cluster, const char *id,
                  char *out, size_t len)
{
    char res[ECS_ARN_MAX];
    snprintf(res, sizeof(res), "task/%s/%s", cluster, id);
    ecs_arn(c, res, out, len);
}

void ecs_container_instance_arn(const struct call *c, const char *cluster,
                                const char *id, char *out, size_t len)
{
    char res[ECS_ARN_MAX];
    snprintf(res, sizeof(res), "container-instance/%s/%s", cluster, id);
    ecs_arn(c, res, out, len);
}

void ecs_taskdef_arn(const struct call *c, const char *family,
                     long long revision, char *out, size_t len)
{
    char res[ECS_ARN_MAX];
    snprintf(res, sizeof(res), "task-definition/%s:%lld", family, revision);
    ecs_arn(c, res, out, len);
}

void ecs_capacity_provider_arn(const struct call *c, const char *name,
                               char *out, size_t len)
{
    char res[ECS_ARN_MAX];
    snprintf(res, sizeof(res), "capacity-provider/%s", name);
    ecs_arn(c, res, out, len);
}

void ecs_principal_arn(const struct call *c, char *out, size_t len)
{
    snprintf(out, len, "arn:aws:iam::%s:root", c->account);
}

/* Copy the n bytes at s into out (len bytes) as a string; -1 if too long. */
static int copy_part(const char *s, size_t n, char *out, size_t len)
{
    if (n >= len)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Split "a/b" (b without further '/') into its parts. */
static int split_two(const char *s, char *a, size_t alen, char *b, size_t blen)
{
    const char *slash = strchr(s, '/');
    if (!slash || strchr(slash + 1, '/'))
        return -1;
    if (copy_part(s, (size_t)(slash - s), a, alen) < 0 ||
        copy_part(slash + 1, strlen(slash + 1), b, blen) < 0)
        return -1;
    return *a && *b ? 0 : -1;
}

int ecs_arn_parse(const char *arn, struct ecs_arn *out)
{
    memset(out, 0, sizeof(*out));
    /* arn:PARTITION:ecs:REGION:ACCOUNT:RESOURCE */
    const char *f[6];
    const char *p = arn;
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        p = strchr(p, ':');
        if (!p)
            return -1;
        p++;
    }
    f[5] = p;
    if (strncmp(f[0], "arn:", 4) != 0 || strncmp(f[2], "ecs:", 4) != 0)
        return -1;
    if (copy_part(f[3], (size_t)(f[4] - f[3] - 1), out->region,
                  sizeof(out->region)) < 0 ||
        copy_part(f[4], (size_t)(f[5] - f[4] - 1), out->account,
                  sizeof(out->account)) < 0)
        return -1;
    const char *res = f[5];
    const char *rest;
    if (strncmp(res, "cluster/", 8) == 0) {
        out->kind = ECS_K_CLUSTER;
        out->long_format = 1;
        rest = res + 8;
        if (!*rest || strchr(rest, '/'))
            return -1;
        return copy_part(rest, strlen(rest), out->name, sizeof(out->name));
    }
    if (strncmp(res, "capacity-provider/", 18) == 0) {
        out->kind = ECS_K_CAPACITY_PROVIDER;
        out->long_format = 1;
        rest = res + 18;
        if (!*rest || strchr(rest, '/'))
            return -1;
        return copy_part(rest, strlen(rest), out->name, sizeof(out->name));
    }
    if (strncmp(res, "task-definition/", 16) == 0) {
        out->kind = ECS_K_TASK_DEFINITION;
        out->long_format = 1;
        rest = res + 16;
        const char *colon = strchr(rest, ':');
        if (!colon)
            return copy_part(rest, strlen(rest), out->name, sizeof(out->name));
        if (copy_part(rest, (size_t)(colon - rest), out->name,
                      sizeof(out->name)) < 0)
            return -1;
        char *end;
        out->revision = strtoll(colon + 1, &end, 10);
        if (*end || end == colon + 1 || out->revision < 1)
            out->revision = -1;     /* present but not a revision */
        return *out->name ? 0 : -1;
    }
    static const struct {
        const char *prefix;
        enum ecs_kind kind;
    } scoped[] = {
        { "service/", ECS_K_SERVICE },
        { "task/", ECS_K_TASK },
        { "container-instance/", ECS_K_CONTAINER_INSTANCE },
    };
    for (size_t i = 0; i < sizeof(scoped) / sizeof(scoped[0]); i++) {
        size_t n = strlen(scoped[i].prefix);
        if (strncmp(res, scoped[i].prefix, n) != 0)
            continue;
        out->kind = scoped[i].kind;
        rest = res + n;
        if (!strchr(rest, '/')) {
            /* The old format: no cluster in the ARN. */
            out->long_format = 0;
            if (!*rest)
                return -1;
            return copy_part(rest, strlen(rest), out->name, sizeof(out->name));
        }
        out->long_format = 1;
        return split_two(rest, out->cluster, sizeof(out->cluster), out->name,
                         sizeof(out->name));
    }
    return -1;
}

int ecs_arn_store_key(const struct ecs_arn *a, const char **type, char *id,
                      size_t idlen)
{
    switch (a->kind) {
    case ECS_K_CLUSTER:
        *type = ECS_T_CLUSTER;
        snprintf(id, idlen, "%s", a->name);
        return 0;
    case ECS_K_CAPACITY_PROVIDER:
        *type = ECS_T_CAPACITY_PROVIDER;
        snprintf(id, idlen, "%s", a->name);
        return 0;
    case ECS_K_TASK_DEFINITION:
        if (a->revision < 1)
            return -1;
        *type = ECS_T_TASK_DEFINITION;
        ecs_taskdef_id(a->name, a->revision, id, idlen);
        return 0;
    case ECS_K_SERVICE:
        if (!a->long_format)
            return -1;
        *type = ECS_T_SERVICE;
        snprintf(id, idlen, "%s/%s", a->cluster, a->name);
        return 0;
    case ECS_K_TASK:
        if (!a->long_format)
            return -1;
        *type = ECS_T_TASK;
        snprintf(id, idlen, "%s", a->name);
        return 0;
    case ECS_K_CONTAINER_INSTANCE:
        if (!a->long_format)
            return -1;
        *type = ECS_T_CONTAINER_INSTANCE;
        snprintf(id, idlen, "%s", a->name);
        return 0;
    case ECS_K_NONE:
        break;
    }
    return -1;
}

const char *ecs_tags_member(const char *type)
{
    return strcmp(type, ECS_T_TASK_DEFINITION) == 0 ? "_tags" : "tags";
}

/* ---- ids ---- */

static void random_bytes(unsigned char *b, size_t n)
{
    if (getrandom(b, n, 0) != (ssize_t)n) {
        /* getrandom on Linux does not fail for small requests once the
         * pool is initialised; a fixed pattern beats an uninitialised id. */
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)(0x5a ^ i);
    }
}

void ecs_new_id(char out[33])
{
    unsigned char r[16];
    random_bytes(r, sizeof(r));
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

void ecs_uuid(char out[37])
{
    unsigned char r[16];
    random_bytes(r, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
}

void ecs_taskdef_id(const char *family, long long revision, char *out,
                    size_t len)
{
    snprintf(out, len, "%s#%08lld", family, revision);
}

/* ---- names ---- */

int ecs_name_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return 0;
    }
    return 1;
}

/* ---- clusters ---- */

int ecs_cluster_name(struct call *c, const char *ref, char *name, size_t len)
{
    if (!ref || !*ref) {
        snprintf(name, len, "default");
        return 0;
    }
    if (strncmp(ref, "arn:", 4) == 0) {
        struct ecs_arn a;
        if (ecs_arn_parse(ref, &a) < 0 || a.kind != ECS_K_CLUSTER)
            return call_error(c, "InvalidParameterException",
                              "Unsupported resource type: cluster");
        if (strcmp(a.account, c->account) != 0 || strcmp(a.region, c->region) != 0)
            return call_error(c, "ClusterNotFoundException", "Cluster not found.");
        snprintf(name, len, "%s", a.name);
        return 0;
    }
    if (!ecs_name_valid(ref, 255))
        return call_error(c, "InvalidParameterException",
                          "Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %.300s",
                          ref);
    snprintf(name, len, "%s", ref);
    return 0;
}

json_t *ecs_cluster_get(struct call *c, const char *ref, int flags,
                        char *name, size_t len)
{
    if (ecs_cluster_name(c, ref, name, len) < 0)
        return NULL;
    json_t *doc = store_get(c->db, &c->scope, ECS_T_CLUSTER, name);
    if (!doc) {
        call_error(c, "ClusterNotFoundException", "Cluster not found.");
        return NULL;
    }
    const char *status = ecs_str(doc, "status");
    if (!(flags & ECS_CLUSTER_ANY_STATUS) && status &&
        strcmp(status, "INACTIVE") == 0) {
        json_decref(doc);
        call_error(c, "ClusterNotFoundException",
                   "The referenced cluster was inactive.");
        return NULL;
    }
    return doc;
}

int ecs_request_cluster(struct call *c, int flags, char *name, size_t len)
{
    json_t *doc = ecs_cluster_get(c, in_str(c, "cluster"), flags, name, len);
    if (!doc)
        return -1;
    json_decref(doc);
    return 0;
}

/* ---- task definitions ---- */

struct latest_active {
    json_t *doc;
};

static int keep_active(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct latest_active *l = arg;
    const char *status = ecs_str(doc, "status");
    if (status && strcmp(status, "ACTIVE") == 0) {
        /* Ids sort by revision, so the last ACTIVE one seen is the latest. */
        json_decref(l->doc);
        l->doc = json_incref(doc);
    }
    return 0;
}

json_t *ecs_taskdef_lookup(struct call *c, const char *ref,
                           enum ecs_td_result *why)
{
    char family[ECS_NAME_MAX];
    long long revision = 0;     /* 0: latest ACTIVE; -1: not a number */
    *why = ECS_TD_BAD_REFERENCE;
    if (!ref || !*ref)
        return NULL;
    if (strncmp(ref, "arn:", 4) == 0) {
        struct ecs_arn a;
        if (ecs_arn_parse(ref, &a) < 0 || a.kind != ECS_K_TASK_DEFINITION)
            return NULL;
        if (strcmp(a.account, c->account) != 0 || strcmp(a.region, c->region) != 0) {
            *why = ECS_TD_MISSING;
            return NULL;
        }
        snprintf(family, sizeof(family), "%s", a.name);
        revision = a.revision;
    } else {
        const char *colon = strchr(ref, ':');
        size_t n = colon ? (size_t)(colon - ref) : strlen(ref);
        if (copy_part(ref, n, family, sizeof(family)) < 0)
            return NULL;
        if (colon) {
            char *end;
            revision = strtoll(colon + 1, &end, 10);
            if (*end || end == colon + 1 || revision < 1)
                revision = -1;
        }
    }
    if (!ecs_name_valid(family, 255))
        return NULL;
    if (revision < 0) {
        *why = ECS_TD_BAD_REVISION;
        return NULL;
    }
    *why = ECS_TD_MISSING;
    if (revision > 0) {
        char id[ECS_ARN_MAX];
        ecs_taskdef_id(family, revision, id, sizeof(id));
        json_t *doc = store_get(c->db, &c->scope, ECS_T_TASK_DEFINITION, id);
        if (doc)
            *why = ECS_TD_FOUND;
        return doc;
    }
    struct latest_active l = { NULL };
    if (store_each(c->db, &c->scope, ECS_T_TASK_DEFINITION, family, NULL,
                   keep_active, &l) != 0) {
        json_decref(l.doc);
        *why = ECS_TD_ERROR;
        call_internal(c, "reading task definitions");
        return NULL;
    }
    if (l.doc)
        *why = ECS_TD_FOUND;
    return l.doc;
}

json_t *ecs_taskdef_get(struct call *c, const char *ref,
                        const char *missing_message)
{
    enum ecs_td_result why;
    json_t *doc = ecs_taskdef_lookup(c, ref, &why);
    if (doc)
        return doc;
    if (why == ECS_TD_ERROR)
        return NULL;
    if (why == ECS_TD_BAD_REVISION) {
        const char *colon = strrchr(ref, ':');
        call_error(c, "InvalidParameterException",
                   "Invalid revision number. Number: %.200s", colon ? colon + 1 : "");
    } else {
        call_error(c, "ClientException", "%s", missing_message);
    }
    return NULL;
}

const char *ecs_taskdef_network_mode(json_t *taskdef)
{
    const char *mode = ecs_str(taskdef, "networkMode");
    return mode ? mode : "bridge";
}

/* ---- failures ---- */

void ecs_add_failure(json_t *failures, const char *arn, const char *reason,
                     const char *detail)
{
    json_t *f = json_object();
    if (arn)
        ecs_set_str(f, "arn", arn);
    if (reason)
        ecs_set_str(f, "reason", reason);
    if (detail)
        ecs_set_str(f, "detail", detail);
    json_array_append_new(failures, f);
}

/* ---- include lists ---- */

int ecs_include_has(const struct call *c, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(in_get(c, "include"), i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), value) == 0)
            return 1;
    return 0;
}

/* ---- tags ---- */

/* Tag keys and values: ([\p{L}\p{Z}\p{N}_.:/=+\-@]*).  Bytes of multi-byte
 * UTF-8 sequences are accepted as letters; the ASCII ones are checked. */
static int tag_text_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80 || isalnum(*p) || *p == ' ')
            continue;
        if (!strchr("_.:/=+-@", *p))
            return 0;
    }
    return 1;
}

#define TAG_PATTERN "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)"

int ecs_check_tags(struct call *c, json_t *tags, const char *member)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        const char *key = ecs_str(t, "key");
        const char *value = ecs_str(t, "value");
        if (!key)
            return call_error(c, "InvalidParameterException",
                              "1 validation error detected: Value null at "
                              "'%s.%zu.member.key' failed to satisfy constraint: "
                              "Member must not be null", member, i + 1);
        if (!tag_text_valid(key))
            return call_error(c, "InvalidParameterException",
                              "1 validation error detected: Value '%.128s' at "
                              "'%s.%zu.member.key' failed to satisfy constraint: "
                              "Member must satisfy regular expression pattern: "
                              TAG_PATTERN, key, member, i + 1);
        if (value && !tag_text_valid(value))
            return call_error(c, "InvalidParameterException",
                              "1 validation error detected: Value '%.256s' at "
                              "'%s.%zu.member.value' failed to satisfy constraint: "
                              "Member must satisfy regular expression pattern: "
                              TAG_PATTERN, value, member, i + 1);
        if (strncasecmp(key, "aws:", 4) == 0)
            return call_error(c, "InvalidParameterException",
                              "Tag keys with the prefix 'aws:' are reserved for "
                              "AWS use and cannot be added, modified or removed.");
    }
    return 0;
}

static json_t *tag_copy(json_t *t)
{
    json_t *out = json_object();
    ecs_set_str(out, "key", ecs_str(t, "key"));
    if (ecs_str(t, "value"))
        ecs_set_str(out, "value", ecs_str(t, "value"));
    return out;
}

json_t *ecs_tags_merge(struct call *c, json_t *have, json_t *add)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *t, *u;
    json_array_foreach(have, i, t)
        if (ecs_str(t, "key"))
            json_array_append_new(out, tag_copy(t));
    json_array_foreach(add, i, t) {
        const char *key = ecs_str(t, "key");
        int replaced = 0;
        json_array_foreach(out, j, u) {
            if (strcmp(ecs_str(u, "key"), key) == 0) {
                json_array_set_new(out, j, tag_copy(t));
                replaced = 1;
                break;
            }
        }
        if (!replaced)
            json_array_append_new(out, tag_copy(t));
    }
    if (json_array_size(out) > 50) {
        json_decref(out);
        call_error(c, "InvalidParameterException",
                   "The resource can have at most 50 tags; the request would "
                   "give it %zu.", json_array_size(have) + json_array_size(add));
        return NULL;
    }
    return out;
}

json_t *ecs_request_tags(struct call *c)
{
    json_t *tags = in_get(c, "tags");
    if (ecs_check_tags(c, tags, "tags") < 0)
        return NULL;
    return ecs_tags_merge(c, NULL, tags);
}

void ecs_tags_remove(json_t *tags, json_t *keys)
{
    size_t i = 0;
    while (i < json_array_size(tags)) {
        const char *key = ecs_str(json_array_get(tags, i), "key");
        int drop = 0;
        size_t j;
        json_t *k;
        json_array_foreach(keys, j, k)
            if (key && json_is_string(k) && strcmp(json_string_value(k), key) == 0)
                drop = 1;
        if (drop)
            json_array_remove(tags, i);
        else
            i++;
    }
}

/* ---- pagination ---- */

/* A token is the resume key hex-encoded behind a version tag, so a token
 * from elsewhere is recognisably invalid. */
void ecs_token_make(const char *key, char *out, size_t len)
{
    size_t j = (size_t)snprintf(out, len, "ecsl1");
    for (const char *p = key; *p && j + 2 < len; p++)
        j += (size_t)snprintf(out + j, len - j, "%02x", (unsigned char)*p);
}

int ecs_token_read(struct call *c, const char *token, char *key, size_t len)
{
    size_t n = strlen(token);
    if (strncmp(token, "ecsl1", 5) != 0 || (n - 5) % 2 || n == 5 ||
        (n - 5) / 2 >= len)
        return call_error(c, "InvalidParameterException", "Invalid nextToken.");
    const char *h = token + 5;
    for (size_t i = 0; i < (n - 5) / 2; i++) {
        unsigned v;
        if (!isxdigit((unsigned char)h[2 * i]) ||
            !isxdigit((unsigned char)h[2 * i + 1]) ||
            sscanf(h + 2 * i, "%2x", &v) != 1 || v == 0)
            return call_error(c, "InvalidParameterException", "Invalid nextToken.");
        key[i] = (char)v;
    }
    key[(n - 5) / 2] = '\0';
    return 0;
}

long long ecs_max_results(struct call *c, long long dflt, long long max)
{
    json_t *v = in_get(c, "maxResults");
    if (!v)
        return dflt;
    long long n = json_integer_value(v);
    if (n < 1 || n > max)
        return call_error(c, "InvalidParameterException",
                          "maxResults must be between 1 and %lld.", max);
    return n;
}

/* ---- Describe and List ---- */

void ecs_describe_refs(struct call *c, json_t *refs, const char *cluster,
                       ecs_find_fn find, ecs_arn_fn arn, const char *out_member)
{
    int tags = ecs_include_has(c, "TAGS");
    json_t *out = json_array(), *failures = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r) {
        const char *ref = json_string_value(r) ? json_string_value(r) : "";
        json_t *doc = find(c, cluster, ref);
        if (!doc) {
            char a[ECS_ARN_MAX];
            if (strncmp(ref, "arn:", 4) == 0)
                snprintf(a, sizeof(a), "%s", ref);
            else
                arn(c, cluster, ref, a, sizeof(a));
            ecs_add_failure(failures, a, "MISSING", NULL);
            continue;
        }
        if (!tags)
            json_object_del(doc, "tags");
        json_array_append_new(out, doc);
    }
    json_object_set_new(call_out(c), out_member, out);
    json_object_set_new(c->out, "failures", failures);
}

struct list_page {
    ecs_keep_fn keep;
    void *arg;
    const char *arn_member;
    json_t *arns;
    long long limit;
    char last[1024];
    int more;
};

/* One more ARN for the page, or 1 (stop) when the page is full and there
 * is more. */
static int page_add(struct list_page *p, const char *id, const char *arn)
{
    if ((long long)json_array_size(p->arns) >= p->limit) {
        p->more = 1;
        return 1;
    }
    json_array_append_new(p->arns, json_string(arn));
    snprintf(p->last, sizeof(p->last), "%s", id);
    return 0;
}

static int list_page_visit(json_t *doc, const char *id, void *arg)
{
    struct list_page *p = arg;
    if (p->keep && !p->keep(doc, p->arg))
        return 0;
    return page_add(p, id, ecs_str(doc, p->arn_member));
}

static int list_value_visit(const char *id, const char *arn, void *arg)
{
    return page_add(arg, id, arn);
}

/* The page's size and where it starts (from nextToken); -1 with the error
 * set. */
static int page_begin(struct call *c, long long dflt, long long max, struct list_page *p,
                      char *after, size_t len)
{
    p->limit = ecs_max_results(c, dflt, max);
    if (p->limit < 0)
        return -1;
    if (in_str(c, "nextToken") && ecs_token_read(c, in_str(c, "nextToken"), after, len) < 0)
        return -1;
    p->arns = json_array();
    return 0;
}

static int page_end(struct call *c, struct list_page *p, int rc, const char *out_member)
{
    if (rc < 0) {
        json_decref(p->arns);
        return call_internal(c, "listing resources");
    }
    json_object_set_new(call_out(c), out_member, p->arns);
    if (p->more) {
        char token[2300];
        ecs_token_make(p->last, token, sizeof(token));
        json_object_set_new(c->out, "nextToken", json_string(token));
    }
    return 0;
}

int ecs_list_arns(struct call *c, const char *type, const char *parent,
                  long long dflt, long long max, ecs_keep_fn keep, void *arg,
                  const char *arn_member, const char *out_member)
{
    char after[1024] = "";
    struct list_page p = { keep, arg, arn_member, NULL, 0, "", 0 };
    if (page_begin(c, dflt, max, &p, after, sizeof(after)) < 0)
        return -1;
    int rc = store_each(c->db, &c->scope, type, parent, after[0] ? after : NULL,
                        list_page_visit, &p);
    return page_end(c, &p, rc, out_member);
}

int ecs_list_arns_where(struct call *c, const char *type, const char *parent,
                        long long dflt, long long max, const struct store_filter *f,
                        const char *arn_path, const char *out_member)
{
    char after[1024] = "";
    struct list_page p = { NULL, NULL, NULL, NULL, 0, "", 0 };
    if (page_begin(c, dflt, max, &p, after, sizeof(after)) < 0)
        return -1;
    int rc = store_list(c->db, &c->scope, type, parent, after[0] ? after : NULL, f,
                        arn_path, list_value_visit, &p);
    return page_end(c, &p, rc, out_member);
}
