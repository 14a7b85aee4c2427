/*
 * CloudWatch Logs log groups: CreateLogGroup, DeleteLogGroup,
 * DescribeLogGroups, retention, deletion protection and tags (the old
 * TagLogGroup family and the ARN-based TagResource family).
 *
 * A group is stored as the LogGroup document DescribeLogGroups returns,
 * with its tags in the private member _tags.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "logs.h"

#define MAX_TAGS 50

static const int retention_days[] = {
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
    1827, 2192, 2557, 2922, 3288, 3653,
};

int logs_create_log_group(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    const char *name = in_str(c, "logGroupName");
    if (strncasecmp(name, "aws/", 4) == 0)
        return call_error(c, "InvalidParameterException",
                          "Log groups starting with AWS/ are reserved for AWS.");
    json_t *doc = events_group_doc(&c->scope, name, logs_now_ms(c));
    if (!doc)
        return call_internal(c, "building log group");
    const char *kms = in_str(c, "kmsKeyId");
    const char *cls = in_str(c, "logGroupClass");
    if (kms)
        json_object_set_new(doc, "kmsKeyId", json_string(kms));
    if (cls)
        json_object_set_new(doc, "logGroupClass", json_string(cls));
    json_object_set_new(doc, "deletionProtectionEnabled",
                        json_boolean(in_bool(c, "deletionProtectionEnabled", 0)));
    if (in_get(c, "tags"))
        json_object_set(doc, "_tags", in_get(c, "tags"));
    int rc = store_insert(c->db, &c->scope, EVENTS_GROUP_TYPE, name, NULL, NULL, doc);
    json_decref(doc);
    if (rc == STORE_EXISTS)
        return call_error(c, "ResourceAlreadyExistsException",
                          "The specified log group already exists");
    return rc == STORE_OK ? 0 : call_internal(c, "storing log group");
}

struct delete_walk {
    struct call *c;
    int failed;
};

static int delete_stream_doc(json_t *doc, const char *id, void *arg)
{
    struct delete_walk *w = arg;
    (void)doc;
    if (store_delete(w->c->db, &w->c->scope, EVENTS_STREAM_TYPE, id) != STORE_OK) {
        w->failed = 1;
        return 1;
    }
    return 0;
}

int logs_delete_log_group(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    const char *name = in_str(c, "logGroupName");
    json_t *group = logs_find_group(c, name);
    if (!group)
        return -1;
    int rc = logs_check_deletable(c, group);
    json_decref(group);
    if (rc < 0)
        return -1;
    struct delete_walk w = { c, 0 };
    if (store_each(c->db, &c->scope, EVENTS_STREAM_TYPE, name, NULL,
                   delete_stream_doc, &w) < 0 || w.failed)
        return call_internal(c, "deleting log streams");
    if (events_delete_group(c->db, &c->scope, name) != STORE_OK)
        return call_internal(c, "deleting log events");
    if (store_delete(c->db, &c->scope, EVENTS_GROUP_TYPE, name) != STORE_OK)
        return call_internal(c, "deleting log group");
    return 0;
}

/* ---- DescribeLogGroups ---- */

struct describe_groups {
    struct call *c;
    const char *prefix;
    const char *pattern;            /* case-sensitive substring */
    const char *cls;
    json_t *names;                  /* logGroupIdentifiers as names, or NULL */
    long long limit;
    json_t *out;
    int more;
};

static int wanted_group(const struct describe_groups *d, json_t *doc,
                        const char *name)
{
    const char *cls = json_string_value(json_object_get(doc, "logGroupClass"));
    if (d->prefix && strncmp(name, d->prefix, strlen(d->prefix)) != 0)
        return 0;
    if (d->pattern && !strstr(name, d->pattern))
        return 0;
    if (d->cls && (!cls || strcmp(cls, d->cls) != 0))
        return 0;
    if (d->names) {
        size_t i;
        json_t *n;
        json_array_foreach(d->names, i, n)
            if (strcmp(json_string_value(n), name) == 0)
                return 1;
        return 0;
    }
    return 1;
}

static int describe_group(json_t *doc, const char *id, void *arg)
{
    struct describe_groups *d = arg;
    if (!wanted_group(d, doc, id))
        return 0;
    if ((long long)json_array_size(d->out) == d->limit) {
        d->more = 1;
        return 1;
    }
    if (d->pattern) {
        /* With a pattern AWS returns only these three. */
        json_array_append_new(d->out, json_pack("{s:O, s:O, s:O}",
            "logGroupName", json_object_get(doc, "logGroupName"),
            "creationTime", json_object_get(doc, "creationTime"),
            "arn", json_object_get(doc, "arn")));
    } else {
        json_array_append(d->out, doc);
    }
    return 0;
}

/* logGroupIdentifiers: names or ARNs, as names of this scope (ARNs of other
 * accounts or regions name nothing here). */
static json_t *identifier_names(struct call *c)
{
    json_t *ids = in_get(c, "logGroupIdentifiers");
    if (!ids)
        return NULL;
    json_t *names = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        const char *id = json_string_value(v);
        char name[600];
        if (strncmp(id, "arn:", 4) != 0)
            json_array_append_new(names, json_string(id));
        else if (logs_parse_group_arn(c, id, 1, name, sizeof(name)) == 0)
            json_array_append_new(names, json_string(name));
    }
    return names;
}

/* accountIdentifiers restricts the answer to those accounts; this
 * emulator links no accounts, so only the caller's own can be listed. */
static int own_account_listed(struct call *c)
{
    json_t *ids = in_get(c, "accountIdentifiers");
    if (!ids || json_array_size(ids) == 0)
        return 1;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
        if (strcmp(json_string_value(v), c->account) == 0)
            return 1;
    return 0;
}

int logs_describe_log_groups(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    struct describe_groups d = {
        c, in_str(c, "logGroupNamePrefix"), in_str(c, "logGroupNamePattern"),
        in_str(c, "logGroupClass"), NULL, in_int(c, "limit", 50), NULL, 0,
    };
    if (d.prefix && d.pattern)
        return call_error(c, "InvalidParameterException",
                          "LogGroup name prefix and LogGroup name pattern are "
                          "mutually exclusive parameters.");
    if (d.pattern && !*d.pattern)
        d.pattern = NULL;
    char after[600] = "";
    const char *token = in_str(c, "nextToken");
    if (token && logs_token_decode(token, "groups", after, sizeof(after)) < 0)
        return logs_invalid_token(c);
    d.out = json_array();
    d.names = identifier_names(c);
    int rc = 0;
    if (own_account_listed(c))
        rc = store_each(c->db, &c->scope, EVENTS_GROUP_TYPE, NULL, after,
                        describe_group, &d);
    json_decref(d.names);
    if (rc < 0) {
        json_decref(d.out);
        return call_internal(c, "listing log groups");
    }
    if (d.more) {
        char next[1600];
        json_t *last = json_array_get(d.out, json_array_size(d.out) - 1);
        logs_token_encode("groups",
                          json_string_value(json_object_get(last, "logGroupName")),
                          next, sizeof(next));
        json_object_set_new(call_out(c), "nextToken", json_string(next));
    }
    json_object_set_new(call_out(c), "logGroups", d.out);
    return 0;
}

/* ---- retention and deletion protection ---- */

static int update_group(struct call *c, const char *name, json_t *doc)
{
    return store_update(c->db, &c->scope, EVENTS_GROUP_TYPE, name, doc) == STORE_OK
               ? 0 : call_internal(c, "updating log group");
}

static int valid_retention(long long days)
{
    for (size_t i = 0; i < sizeof(retention_days) / sizeof(retention_days[0]); i++)
        if (retention_days[i] == days)
            return 1;
    return 0;
}

int logs_put_retention_policy(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    const char *name = in_str(c, "logGroupName");
    long long days = in_int(c, "retentionInDays", 0);
    if (!valid_retention(days))
        return call_error(c, "InvalidParameterException",
                          "Invalid retention value. Valid values are: [1, 3, 5, 7, "
                          "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
                          "1827, 2192, 2557, 2922, 3288, 3653]");
    json_t *group = logs_find_group(c, name);
    if (!group)
        return -1;
    /* AWS expires events past the retention "eventually"; here at once. */
    long long removed = 0;
    if (events_expire(c->db, &c->scope, name, logs_now_ms(c) - days * 86400000LL,
                      &removed) != STORE_OK) {
        json_decref(group);
        return call_internal(c, "expiring log events");
    }
    json_int_t stored = json_integer_value(json_object_get(group, "storedBytes"));
    json_object_set_new(group, "storedBytes",
                        json_integer(stored > removed ? stored - removed : 0));
    json_object_set_new(group, "retentionInDays", json_integer(days));
    int rc = update_group(c, name, group);
    json_decref(group);
    return rc;
}

int logs_delete_retention_policy(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    const char *name = in_str(c, "logGroupName");
    json_t *group = logs_find_group(c, name);
    if (!group)
        return -1;
    json_object_del(group, "retentionInDays");
    int rc = update_group(c, name, group);
    json_decref(group);
    return rc;
}

int logs_put_log_group_deletion_protection(struct call *c)
{
    char name[600];
    if (logs_check_patterns(c) < 0 ||
        logs_group_from_input(c, "logGroupIdentifier", name, sizeof(name)) < 0)
        return -1;
    json_t *group = logs_find_group(c, name);
    if (!group)
        return -1;
    json_object_set_new(group, "deletionProtectionEnabled",
                        json_boolean(in_bool(c, "deletionProtectionEnabled", 0)));
    int rc = update_group(c, name, group);
    json_decref(group);
    return rc;
}

/* ---- tags ---- */

/* Merge tags into the group's; over MAX_TAGS in all is refused with code
 * (TagLogGroup and TagResource report it differently). */
static int add_tags(struct call *c, const char *name, json_t *tags,
                    const char *too_many_code)
{
    json_t *group = logs_find_group(c, name);
    if (!group)
        return -1;
    json_t *have = json_object_get(group, "_tags");
    if (!json_is_object(have)) {
        have = json_object();
        json_object_set_new(group, "_tags", have);
    }
    json_object_update(have, tags);
    if (json_object_size(have) > MAX_TAGS) {
        json_decref(group);
        return call_error(c, too_many_code,
                          "A log group can have at most %d tags.", MAX_TAGS);
    }
    int rc = update_group(c, name, group);
    json_decref(group);
    return rc;
}

static int remove_tags(struct call *c, const char *name, json_t *keys)
{
    json_t *group = logs_find_group(c, name);
    if (!group)
        return -1;
    json_t *have = json_object_get(group, "_tags");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
        json_object_del(have, json_string_value(k));
    int rc = update_group(c, name, group);
    json_decref(group);
    return rc;
}

static int list_tags(struct call *c, const char *name)
{
    json_t *group = logs_find_group(c, name);
    if (!group)
        return -1;
    json_t *have = json_object_get(group, "_tags");
    json_object_set_new(call_out(c), "tags",
                        json_is_object(have) ? json_deep_copy(have) : json_object());
    json_decref(group);
    return 0;
}

/* The log group a tagging ARN names.  ARNs with the ":*" of
 * DescribeLogGroups' arn are refused the way AWS refuses them. */
static int group_from_resource_arn(struct call *c, char *name, size_t len)
{
    const char *arn = in_str(c, "resourceArn");
    int rc = logs_parse_group_arn(c, arn, 0, name, len);
    if (rc == LOGS_ARN_INVALID)
        return call_error(c, "ValidationException", "Invalid resourceArn");
    if (rc == LOGS_ARN_OTHER)
        return call_error(c, "ResourceNotFoundException",
                          "The specified resource does not exist.");
    return 0;
}

int logs_tag_log_group(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    return add_tags(c, in_str(c, "logGroupName"), in_get(c, "tags"),
                    "InvalidParameterException");
}

int logs_untag_log_group(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    return remove_tags(c, in_str(c, "logGroupName"), in_get(c, "tags"));
}

int logs_list_tags_log_group(struct call *c)
{
    if (logs_check_patterns(c) < 0)
        return -1;
    return list_tags(c, in_str(c, "logGroupName"));
}

int logs_tag_resource(struct call *c)
{
    char name[600];
    if (logs_check_patterns(c) < 0 || group_from_resource_arn(c, name, sizeof(name)) < 0)
        return -1;
    return add_tags(c, name, in_get(c, "tags"), "TooManyTagsException");
}

int logs_untag_resource(struct call *c)
{
    char name[600];
    if (logs_check_patterns(c) < 0 || group_from_resource_arn(c, name, sizeof(name)) < 0)
        return -1;
    return remove_tags(c, name, in_get(c, "tagKeys"));
}

int logs_list_tags_for_resource(struct call *c)
{
    char name[600];
    if (logs_check_patterns(c) < 0 || group_from_resource_arn(c, name, sizeof(name)) < 0)
        return -1;
    return list_tags(c, name);
}
