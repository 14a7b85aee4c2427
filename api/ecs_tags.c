/*
 * ECS tagging: TagResource, UntagResource, ListTagsForResource for every
 * kind of ECS resource ARN.  The ARN names the store type and id (ecs.h);
 * the tags live in the document itself ("tags", or "_tags" for task
 * definitions), so Describe calls with include TAGS read the same list.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ecs.h"
#include "gen/handlers.h"

struct tagged {
    const char *type;
    char id[ECS_ARN_MAX];
    json_t *doc;
};

/* Resolve resourceArn to its stored document; -1 with the error set. */
static int tagged_resource(struct call *c, struct tagged *t)
{
    const char *arn = in_str(c, "resourceArn");
    struct ecs_arn a;
    t->doc = NULL;
    if (!arn || ecs_arn_parse(arn, &a) < 0)
        return call_error(c, "InvalidParameterException", "The ARN provided is invalid.");
    if (!a.long_format)
        return call_error(c, "InvalidParameterException",
                          "Long arn format must be used for tagging operations");
    if (a.kind == ECS_K_CAPACITY_PROVIDER &&
        (strcmp(a.name, "FARGATE") == 0 || strcmp(a.name, "FARGATE_SPOT") == 0))
        return call_error(c, "InvalidParameterException",
                          "The FARGATE and FARGATE_SPOT capacity providers are reserved "
                          "and can't be tagged.");
    if (ecs_arn_store_key(&a, &t->type, t->id, sizeof(t->id)) < 0)
        return call_error(c, "InvalidParameterException", "The ARN provided is invalid.");
    int here = strcmp(a.account, c->account) == 0 && strcmp(a.region, c->region) == 0;
    if (a.kind == ECS_K_CLUSTER || *a.cluster) {
        const char *cluster = a.kind == ECS_K_CLUSTER ? a.name : a.cluster;
        json_t *cl = here ? store_get(c->db, &c->scope, ECS_T_CLUSTER, cluster) : NULL;
        if (!cl)
            return call_error(c, "ClusterNotFoundException", "Cluster not found.");
        json_decref(cl);
    }
    t->doc = here ? store_get(c->db, &c->scope, t->type, t->id) : NULL;
    /* A task or instance ARN must name the cluster the resource is in. */
    if (t->doc && *a.cluster && strcmp(t->type, ECS_T_SERVICE) != 0) {
        const char *carn = ecs_str(t->doc, "clusterArn");
        char want[ECS_ARN_MAX];
        ecs_cluster_arn(c, a.cluster, want, sizeof(want));
        if (carn && strcmp(carn, want) != 0) {
            json_decref(t->doc);
            t->doc = NULL;
        }
    }
    if (!t->doc)
        return call_error(c, "ResourceNotFoundException",
                          "The specified resource could not be found.");
    return 0;
}

static json_t *doc_tags(struct tagged *t)
{
    json_t *tags = json_object_get(t->doc, ecs_tags_member(t->type));
    return json_is_array(tags) ? tags : NULL;
}

static int save(struct call *c, struct tagged *t, json_t *tags)
{
    json_object_set_new(t->doc, ecs_tags_member(t->type), tags);
    if (store_update(c->db, &c->scope, t->type, t->id, t->doc) != STORE_OK)
        return call_internal(c, "storing tags");
    return 0;
}

int ecs_tag_resource(struct call *c)
{
    struct tagged t;
    json_t *add = in_get(c, "tags");
    if (ecs_check_tags(c, add, "tags") < 0 || tagged_resource(c, &t) < 0)
        return -1;
    json_t *merged = ecs_tags_merge(c, doc_tags(&t), add);
    int rc = merged ? save(c, &t, merged) : -1;
    json_decref(t.doc);
    if (rc == 0)
        call_out(c);
    return rc;
}

int ecs_untag_resource(struct call *c)
{
    struct tagged t;
    json_t *keys = in_get(c, "tagKeys");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
        if (json_is_string(k) && strncasecmp(json_string_value(k), "aws:", 4) == 0)
            return call_error(c, "InvalidParameterException",
                              "Tag keys with the prefix 'aws:' are reserved for AWS use "
                              "and cannot be added, modified or removed.");
    if (tagged_resource(c, &t) < 0)
        return -1;
    json_t *have = doc_tags(&t);
    json_t *tags = have ? json_deep_copy(have) : json_array();
    ecs_tags_remove(tags, keys);
    int rc = save(c, &t, tags);
    json_decref(t.doc);
    if (rc == 0)
        call_out(c);
    return rc;
}

int ecs_list_tags_for_resource(struct call *c)
{
    struct tagged t;
    if (tagged_resource(c, &t) < 0)
        return -1;
    json_t *tags = doc_tags(&t);
    json_object_set_new(call_out(c), "tags", tags ? json_deep_copy(tags) : json_array());
    json_decref(t.doc);
    return 0;
}
