/*
 * ECS capacity providers (CreateCapacityProvider, DescribeCapacityProviders,
 * UpdateCapacityProvider, DeleteCapacityProvider, and the checks clusters
 * make of the providers they are given) and account settings
 * (PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting,
 * ListAccountSettings).
 *
 * FARGATE and FARGATE_SPOT exist in every account and region and are never
 * stored.  AWS applies capacity provider changes asynchronously; ecslocal
 * completes them at once, so an answer says UPDATE_IN_PROGRESS or
 * DELETE_IN_PROGRESS while what is stored (and the next Describe) already
 * says UPDATE_COMPLETE or INACTIVE.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ecs.h"
#include "gen/handlers.h"

/* ---- finding providers ---- */

static int is_builtin(const char *name)
{
    return strcmp(name, "FARGATE") == 0 || strcmp(name, "FARGATE_SPOT") == 0;
}

static json_t *builtin_provider(struct call *c, const char *name)
{
    char arn[ECS_ARN_MAX];
    ecs_capacity_provider_arn(c, name, arn, sizeof(arn));
    return json_pack("{s:s, s:s, s:s, s:[], s:s}", "capacityProviderArn", arn,
                     "name", name, "status", "ACTIVE", "tags", "type", name);
}

/* The provider name a reference (name or ARN) gives; -1 if it gives none
 * of this scope's. */
static int provider_name(struct call *c, const char *ref, char *name, size_t len)
{
    if (!ref || !*ref)
        return -1;
    if (strncmp(ref, "arn:", 4) == 0) {
        struct ecs_arn a;
        if (ecs_arn_parse(ref, &a) < 0 || a.kind != ECS_K_CAPACITY_PROVIDER ||
            strcmp(a.account, c->account) != 0 || strcmp(a.region, c->region) != 0)
            return -1;
        snprintf(name, len, "%s", a.name);
        return 0;
    }
    snprintf(name, len, "%s", ref);
    return 0;
}

json_t *ecs_capacity_provider_find(struct call *c, const char *ref)
{
    char name[ECS_NAME_MAX];
    if (provider_name(c, ref, name, sizeof(name)) < 0)
        return NULL;
    if (is_builtin(name))
        return builtin_provider(c, name);
    return store_get(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, name);
}

static int provider_active(json_t *p)
{
    const char *status = ecs_str(p, "status");
    return status && strcmp(status, "ACTIVE") == 0;
}

/* ---- cluster associations ---- */

struct other_cluster {
    const char *cluster;        /* the cluster being given the provider */
    const char *provider;
    char found[ECS_NAME_MAX];
};

static int uses_provider(json_t *doc, const char *id, void *arg)
{
    struct other_cluster *o = arg;
    const char *status = ecs_str(doc, "status");
    if (!status || strcmp(status, "ACTIVE") != 0 ||
        (o->cluster && strcmp(id, o->cluster) == 0))
        return 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "capacityProviders"), i, p) {
        if (json_is_string(p) && strcmp(json_string_value(p), o->provider) == 0) {
            snprintf(o->found, sizeof(o->found), "%s", id);
            return 1;
        }
    }
    return 0;
}

/* The ACTIVE cluster other than `except` that holds provider (its name in
 * found, "" when none); -1 on a storage error. */
static int provider_cluster(struct call *c, const char *provider,
                            const char *except, char *found, size_t len)
{
    struct other_cluster o = { except, provider, "" };
    if (store_each(c->db, &c->scope, ECS_T_CLUSTER, NULL, NULL, uses_provider, &o) < 0)
        return call_internal(c, "reading clusters");
    snprintf(found, len, "%s", o.found);
    return 0;
}

#define NOT_ASSOCIATED \
    "The specified capacity provider strategy cannot contain a capacity " \
    "provider that is not associated with the cluster. Associate the " \
    "capacity provider with the cluster or specify a valid capacity " \
    "provider and try again."

/* A strategy normalised: provider names, weight and base filled in; checked
 * against the providers it may name.  NULL with the error set. */
static json_t *normalize_strategy(struct call *c, json_t *strategy,
                                  json_t *providers)
{
    json_t *out = json_array();
    int bases = 0;
    size_t i, j;
    json_t *item, *p;
    json_array_foreach(strategy, i, item) {
        char name[ECS_NAME_MAX];
        int known = 0;
        if (provider_name(c, ecs_str(item, "capacityProvider"), name, sizeof(name)) == 0)
            json_array_foreach(providers, j, p)
                known |= strcmp(json_string_value(p), name) == 0;
        if (!known) {
            json_decref(out);
            call_error(c, "InvalidParameterException", NOT_ASSOCIATED);
            return NULL;
        }
        json_array_foreach(out, j, p) {
            if (strcmp(ecs_str(p, "capacityProvider"), name) == 0) {
                json_decref(out);
                call_error(c, "InvalidParameterException",
                           "The capacity provider strategy cannot contain a "
                           "capacity provider more than once: %s.", name);
                return NULL;
            }
        }
        long long weight = json_integer_value(json_object_get(item, "weight"));
        long long base = json_integer_value(json_object_get(item, "base"));
        if (base > 0 && ++bases > 1) {
            json_decref(out);
            call_error(c, "InvalidParameterException",
                       "Only one capacity provider in a capacity provider strategy "
                       "can have a base defined.");
            return NULL;
        }
        json_array_append_new(out, json_pack("{s:s, s:I, s:I}", "capacityProvider",
                                             name, "weight", (json_int_t)weight,
                                             "base", (json_int_t)base));
    }
    return out;
}

int ecs_cluster_providers_check(struct call *c, const char *cluster,
                                json_t *providers, json_t *strategy,
                                json_t **providers_out, json_t **strategy_out)
{
    json_t *names = json_array();
    size_t i, j;
    json_t *ref, *have;
    *providers_out = *strategy_out = NULL;
    json_array_foreach(providers, i, ref) {
        json_t *p = ecs_capacity_provider_find(c, json_string_value(ref));
        if (!p) {
            json_decref(names);
            return call_error(c, "InvalidParameterException",
                              "The specified capacity provider was not found. Specify "
                              "a valid capacity provider and try again.");
        }
        const char *name = ecs_str(p, "name");
        if (!provider_active(p)) {
            call_error(c, "InvalidParameterException",
                       "The specified capacity provider '%s' is not in an ACTIVE "
                       "state. Specify a valid capacity provider and try again.", name);
            json_decref(p);
            json_decref(names);
            return -1;
        }
        const char *owner = ecs_str(p, "cluster");
        char other[ECS_NAME_MAX] = "";
        if (owner && strcmp(owner, cluster) != 0) {
            snprintf(other, sizeof(other), "%s", owner);
        } else if (!is_builtin(name) &&
                   provider_cluster(c, name, cluster, other, sizeof(other)) < 0) {
            json_decref(p);
            json_decref(names);
            return -1;
        }
        if (*other) {
            call_error(c, "InvalidParameterException",
                       "The specified capacity provider '%s' is already associated "
                       "with cluster '%s'. A capacity provider can only be "
                       "associated with one cluster.", name, other);
            json_decref(p);
            json_decref(names);
            return -1;
        }
        int dup = 0;
        json_array_foreach(names, j, have)
            dup |= strcmp(json_string_value(have), name) == 0;
        if (!dup)
            json_array_append_new(names, json_string(name));
        json_decref(p);
    }
    json_t *s = normalize_strategy(c, strategy, names);
    if (!s) {
        json_decref(names);
        return -1;
    }
    *providers_out = names;
    *strategy_out = s;
    return 0;
}

int ecs_strategy_check(struct call *c, json_t *cluster, json_t *strategy)
{
    json_t *s = normalize_strategy(c, strategy, json_object_get(cluster, "capacityProviders"));
    if (!s)
        return -1;
    json_decref(s);
    return 0;
}

/* The attachment of this type a cluster already has for a provider, kept
 * so attachments do not change identity on every update; borrowed. */
static json_t *old_attachment(json_t *cluster, const char *type,
                              const char *provider)
{
    size_t i, j;
    json_t *a, *d;
    json_array_foreach(json_object_get(cluster, "attachments"), i, a) {
        if (!ecs_str(a, "type") || strcmp(ecs_str(a, "type"), type) != 0)
            continue;
        json_array_foreach(json_object_get(a, "details"), j, d)
            if (ecs_str(d, "name") && strcmp(ecs_str(d, "name"), "capacityProviderName") == 0 &&
                ecs_str(d, "value") && strcmp(ecs_str(d, "value"), provider) == 0)
                return a;
    }
    return NULL;
}

static json_t *attachment(json_t *cluster, const char *type, const char *provider,
                          const char *detail, const char *value)
{
    json_t *old = old_attachment(cluster, type, provider);
    if (old)
        return json_deep_copy(old);
    char id[37];
    ecs_uuid(id);
    return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "id", id,
                     "type", type, "status", "ACTIVE", "details",
                     "name", "capacityProviderName", "value", provider,
                     "name", detail, "value", value);
}

int ecs_cluster_attachments(struct call *c, json_t *cluster)
{
    json_t *out = json_array();
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(cluster, "capacityProviders"), i, ref) {
        const char *name = json_string_value(ref);
        if (!name || is_builtin(name))
            continue;
        json_t *p = store_get(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, name);
        json_t *asg = json_object_get(p, "autoScalingGroupProvider");
        const char *scaling = ecs_str(json_object_get(asg, "managedScaling"), "status");
        const char *draining = ecs_str(asg, "managedDraining");
        if (scaling && strcmp(scaling, "ENABLED") == 0) {
            char uuid[37], policy[80];
            ecs_uuid(uuid);
            snprintf(policy, sizeof(policy), "ECSManagedAutoScalingPolicy-%s", uuid);
            json_array_append_new(out, attachment(cluster, "as_policy", name,
                                                  "scalingPolicyName", policy));
        }
        if (draining && strcmp(draining, "ENABLED") == 0)
            json_array_append_new(out, attachment(cluster, "managed_draining", name,
                                                  "autoScalingLifecycleHookName",
                                                  "ecs-managed-draining-termination-hook"));
        json_decref(p);
    }
    json_object_set_new(cluster, "attachments", out);
    if (json_array_size(out) > 0)
        ecs_set_str(cluster, "attachmentsStatus", "UPDATE_COMPLETE");
    else
        json_object_del(cluster, "attachmentsStatus");
    return 0;
}

/* ---- CreateCapacityProvider ---- */

static void fill_int(json_t *obj, const char *key, long long value)
{
    if (!json_object_get(obj, key))
        json_object_set_new(obj, key, json_integer(value));
}

static void fill_str(json_t *obj, const char *key, const char *value)
{
    if (!json_object_get(obj, key))
        ecs_set_str(obj, key, value);
}

/* AWS's defaults for managed scaling. */
static void fill_managed_scaling(json_t *ms)
{
    fill_str(ms, "status", "DISABLED");
    fill_int(ms, "targetCapacity", 100);
    fill_int(ms, "minimumScalingStepSize", 1);
    fill_int(ms, "maximumScalingStepSize", 10000);
    fill_int(ms, "instanceWarmupPeriod", 300);
}

static int check_managed_scaling(struct call *c, json_t *ms)
{
    json_t *lo = json_object_get(ms, "minimumScalingStepSize");
    json_t *hi = json_object_get(ms, "maximumScalingStepSize");
    if (lo && hi && json_integer_value(lo) > json_integer_value(hi))
        return call_error(c, "InvalidParameterException",
                          "The minimumScalingStepSize value must be less than or equal "
                          "to the maximumScalingStepSize value.");
    return 0;
}

struct asg_owner {
    const char *asg;
    const char *except;
    int found;
};

static int asg_taken(json_t *doc, const char *id, void *arg)
{
    struct asg_owner *o = arg;
    const char *status = ecs_str(doc, "status");
    const char *asg = ecs_str(json_object_get(doc, "autoScalingGroupProvider"),
                              "autoScalingGroupArn");
    if (!status || strcmp(status, "INACTIVE") == 0 || !asg ||
        (o->except && strcmp(id, o->except) == 0))
        return 0;
    o->found = strcmp(asg, o->asg) == 0;
    return o->found;
}

static json_t *provider_view(json_t *p, int with_tags)
{
    json_t *v = json_deep_copy(p);
    if (v && !with_tags)
        json_object_set_new(v, "tags", json_array());
    return v;
}

static int check_new_name(struct call *c, const char *name)
{
    if (!ecs_name_valid(name, 255))
        return call_error(c, "InvalidParameterException",
                          "The capacity provider name is invalid. Up to 255 letters "
                          "(uppercase and lowercase), numbers, underscores, and hyphens "
                          "are allowed.");
    if (strncasecmp(name, "aws", 3) == 0 || strncasecmp(name, "ecs", 3) == 0 ||
        strncasecmp(name, "fargate", 7) == 0)
        return call_error(c, "InvalidParameterException",
                          "The capacity provider name is invalid. The name can't be "
                          "prefixed with \"aws\", \"ecs\", or \"fargate\".");
    return 0;
}

int ecs_create_capacity_provider(struct call *c)
{
    const char *name = in_str(c, "name");
    json_t *asg = in_get(c, "autoScalingGroupProvider");
    json_t *mip = in_get(c, "managedInstancesProvider");
    char owner[ECS_NAME_MAX] = "";
    if (check_new_name(c, name) < 0)
        return -1;
    if (!asg == !mip)
        return call_error(c, "InvalidParameterException",
                          "Specify either an autoScalingGroupProvider or a "
                          "managedInstancesProvider for the capacity provider.");
    if (asg && check_managed_scaling(c, json_object_get(asg, "managedScaling")) < 0)
        return -1;
    if (mip) {
        /* Managed instances providers belong to one cluster. */
        if (!in_str(c, "cluster"))
            return call_error(c, "InvalidParameterException",
                              "A cluster must be specified for a capacity provider "
                              "with a managedInstancesProvider.");
        if (ecs_request_cluster(c, 0, owner, sizeof(owner)) < 0)
            return -1;
    }
    json_t *tags = ecs_request_tags(c);
    if (!tags)
        return -1;
    json_t *have = store_get(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, name);
    const char *have_status = have ? ecs_str(have, "status") : NULL;
    if (have && (!have_status || strcmp(have_status, "INACTIVE") != 0)) {
        json_decref(have);
        json_decref(tags);
        return call_error(c, "ClientException",
                          "The specified capacity provider already exists. To change "
                          "the configuration of an existing capacity provider, update "
                          "the capacity provider.");
    }
    if (asg) {
        struct asg_owner o = { ecs_str(asg, "autoScalingGroupArn"), name, 0 };
        if (store_each(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, NULL, NULL,
                       asg_taken, &o) < 0) {
            json_decref(have);
            json_decref(tags);
            return call_internal(c, "reading capacity providers");
        }
        if (o.found) {
            json_decref(have);
            json_decref(tags);
            return call_error(c, "ClientException",
                              "The specified Auto Scaling group ARN is already being used "
                              "by another capacity provider. Specify a unique Auto Scaling "
                              "group ARN and try again.");
        }
    }
    char arn[ECS_ARN_MAX];
    ecs_capacity_provider_arn(c, name, arn, sizeof(arn));
    json_t *p = json_pack("{s:s, s:s, s:s, s:O, s:s}", "capacityProviderArn", arn,
                          "name", name, "status", "ACTIVE", "tags", tags,
                          "type", asg ? "EC2_AUTOSCALING" : "MANAGED_INSTANCES");
    json_decref(tags);
    if (asg) {
        json_t *a = json_deep_copy(asg);
        json_t *ms = json_object_get(a, "managedScaling");
        if (!ms) {
            ms = json_object();
            json_object_set_new(a, "managedScaling", ms);
        }
        fill_managed_scaling(ms);
        fill_str(a, "managedTerminationProtection", "DISABLED");
        fill_str(a, "managedDraining", "ENABLED");
        json_object_set_new(p, "autoScalingGroupProvider", a);
    } else {
        json_object_set(p, "managedInstancesProvider", mip);
        ecs_set_str(p, "cluster", owner);
    }
    int st = have ? store_update(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, name, p)
                  : store_insert(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, name, NULL,
                                 NULL, p);
    json_decref(have);
    if (st != STORE_OK) {
        json_decref(p);
        return call_internal(c, "storing capacity provider");
    }
    json_object_set_new(call_out(c), "capacityProvider", provider_view(p, 1));
    json_decref(p);
    return 0;
}

/* ---- DescribeCapacityProviders ---- */

struct provider_walk {
    json_t *names;          /* in listing order */
    const char *cluster;    /* only those of this cluster */
    json_t *cluster_doc;
};

static int provider_in_cluster(struct provider_walk *w, json_t *p)
{
    if (!w->cluster)
        return 1;
    const char *owner = ecs_str(p, "cluster");
    if (owner && strcmp(owner, w->cluster) == 0)
        return 1;
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(w->cluster_doc, "capacityProviders"), i, n)
        if (json_is_string(n) && strcmp(json_string_value(n), ecs_str(p, "name")) == 0)
            return 1;
    return 0;
}

static int collect_provider(json_t *doc, const char *id, void *arg)
{
    struct provider_walk *w = arg;
    if (provider_active(doc) && provider_in_cluster(w, doc))
        json_array_append_new(w->names, json_string(id));
    return 0;
}

/* Every provider name a listing shows, in order: the created ones, then
 * the built-in ones. */
static json_t *listing_names(struct call *c, struct provider_walk *w)
{
    w->names = json_array();
    if (store_each(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, NULL, NULL,
                   collect_provider, w) < 0) {
        json_decref(w->names);
        call_internal(c, "listing capacity providers");
        return NULL;
    }
    static const char *const builtins[] = { "FARGATE", "FARGATE_SPOT" };
    for (size_t i = 0; i < 2; i++) {
        json_t *b = builtin_provider(c, builtins[i]);
        if (provider_in_cluster(w, b))
            json_array_append_new(w->names, json_string(builtins[i]));
        json_decref(b);
    }
    return w->names;
}

int ecs_describe_capacity_providers(struct call *c)
{
    int with_tags = ecs_include_has(c, "TAGS");
    json_t *refs = in_get(c, "capacityProviders");
    json_t *out = json_array(), *failures = json_array();
    struct provider_walk w = { NULL, NULL, NULL };
    char cname[ECS_NAME_MAX];
    size_t i;
    json_t *r;
    long long limit = ecs_max_results(c, 10, 10);
    if (limit < 0)
        goto fail;
    if (in_str(c, "cluster")) {
        w.cluster_doc = ecs_cluster_get(c, in_str(c, "cluster"), 0, cname, sizeof(cname));
        if (!w.cluster_doc)
            goto fail;
        w.cluster = cname;
    }
    if (json_array_size(refs) > 0) {
        json_array_foreach(refs, i, r) {
            const char *ref = json_string_value(r);
            json_t *p = ecs_capacity_provider_find(c, ref);
            if (!p || (w.cluster && !provider_in_cluster(&w, p))) {
                char arn[ECS_ARN_MAX];
                if (ref && strncmp(ref, "arn:", 4) == 0)
                    snprintf(arn, sizeof(arn), "%s", ref);
                else
                    ecs_capacity_provider_arn(c, ref ? ref : "", arn, sizeof(arn));
                ecs_add_failure(failures, arn, "MISSING", NULL);
                json_decref(p);
                continue;
            }
            json_array_append_new(out, provider_view(p, with_tags));
            json_decref(p);
        }
    } else {
        char after[ECS_ARN_MAX] = "";
        if (in_str(c, "nextToken") &&
            ecs_token_read(c, in_str(c, "nextToken"), after, sizeof(after)) < 0)
            goto fail;
        json_t *names = listing_names(c, &w);
        if (!names)
            goto fail;
        /* Resume after the token's provider; if it is gone, the listing is
         * over rather than restarted, so a paginator cannot loop. */
        size_t start = *after ? json_array_size(names) : 0;
        if (*after) {
            json_array_foreach(names, i, r)
                if (strcmp(json_string_value(r), after) == 0)
                    start = i + 1;
        }
        for (i = start; i < json_array_size(names); i++) {
            const char *name = json_string_value(json_array_get(names, i));
            if ((long long)json_array_size(out) == limit) {
                char token[2 * ECS_ARN_MAX + 8];
                ecs_token_make(json_string_value(json_array_get(names, i - 1)),
                               token, sizeof(token));
                ecs_set_str(call_out(c), "nextToken", token);
                break;
            }
            json_t *p = ecs_capacity_provider_find(c, name);
            if (p)
                json_array_append_new(out, provider_view(p, with_tags));
            json_decref(p);
        }
        json_decref(names);
    }
    json_decref(w.cluster_doc);
    json_object_set_new(call_out(c), "capacityProviders", out);
    json_object_set_new(call_out(c), "failures", failures);
    return 0;
fail:
    json_decref(w.cluster_doc);
    json_decref(out);
    json_decref(failures);
    return -1;
}

/* ---- UpdateCapacityProvider, DeleteCapacityProvider ---- */

#define NO_SUCH_PROVIDER \
    "The specified capacity provider does not exist. Specify a valid name or " \
    "ARN and try again."

/* A stored, not deleted provider (new reference) or NULL with the error. */
static json_t *live_provider(struct call *c, const char *ref, const char *reserved)
{
    char name[ECS_NAME_MAX];
    if (provider_name(c, ref, name, sizeof(name)) == 0 && is_builtin(name)) {
        call_error(c, "ClientException", "%s", reserved);
        return NULL;
    }
    json_t *p = ecs_capacity_provider_find(c, ref);
    if (!p || !provider_active(p)) {
        json_decref(p);
        call_error(c, "ClientException", NO_SUCH_PROVIDER);
        return NULL;
    }
    return p;
}

int ecs_update_capacity_provider(struct call *c)
{
    json_t *upd = in_get(c, "autoScalingGroupProvider");
    json_t *mip = in_get(c, "managedInstancesProvider");
    json_t *p = live_provider(c, in_str(c, "name"),
                              "The FARGATE and FARGATE_SPOT capacity providers are "
                              "reserved and can't be updated.");
    if (!p)
        return -1;
    json_t *asg = json_object_get(p, "autoScalingGroupProvider");
    if ((upd && !asg) || (mip && asg) || (!upd && !mip)) {
        json_decref(p);
        return call_error(c, "InvalidParameterException",
                          "Specify the %s of the capacity provider to update it.",
                          asg ? "autoScalingGroupProvider" : "managedInstancesProvider");
    }
    if (upd) {
        json_t *ms = json_object_get(asg, "managedScaling");
        json_t *new_ms = json_object_get(upd, "managedScaling");
        json_t *merged = ms ? json_deep_copy(ms) : json_object();
        if (new_ms)
            json_object_update(merged, new_ms);
        if (check_managed_scaling(c, merged) < 0) {
            json_decref(merged);
            json_decref(p);
            return -1;
        }
        fill_managed_scaling(merged);
        json_object_set_new(asg, "managedScaling", merged);
        if (ecs_str(upd, "managedTerminationProtection"))
            ecs_set_str(asg, "managedTerminationProtection",
                        ecs_str(upd, "managedTerminationProtection"));
        if (ecs_str(upd, "managedDraining"))
            ecs_set_str(asg, "managedDraining", ecs_str(upd, "managedDraining"));
    } else {
        json_t *have = json_object_get(p, "managedInstancesProvider");
        json_object_update(have, mip);
    }
    ecs_set_str(p, "updateStatus", "UPDATE_COMPLETE");
    if (store_update(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, ecs_str(p, "name"),
                     p) != STORE_OK) {
        json_decref(p);
        return call_internal(c, "storing capacity provider");
    }
    json_t *v = provider_view(p, 1);
    ecs_set_str(v, "updateStatus", "UPDATE_IN_PROGRESS");
    json_object_set_new(call_out(c), "capacityProvider", v);
    json_decref(p);
    return 0;
}

int ecs_delete_capacity_provider(struct call *c)
{
    json_t *p = live_provider(c, in_str(c, "capacityProvider"),
                              "The FARGATE and FARGATE_SPOT capacity providers are "
                              "reserved and can't be deleted.");
    if (!p)
        return -1;
    const char *name = ecs_str(p, "name");
    char holder[ECS_NAME_MAX];
    if (provider_cluster(c, name, NULL, holder, sizeof(holder)) < 0) {
        json_decref(p);
        return -1;
    }
    json_t *v;
    if (*holder) {
        /* AWS accepts the call and reports the failed deletion on the
         * provider, which stays ACTIVE. */
        char reason[512];
        snprintf(reason, sizeof(reason),
                 "The capacity provider cannot be deleted because it is associated "
                 "with cluster: %s. Remove the capacity provider from the cluster "
                 "and try again.", holder);
        ecs_set_str(p, "updateStatus", "DELETE_FAILED");
        ecs_set_str(p, "updateStatusReason", reason);
        v = provider_view(p, 1);
    } else {
        v = provider_view(p, 1);
        ecs_set_str(v, "updateStatus", "DELETE_IN_PROGRESS");
        json_object_del(v, "updateStatusReason");
        ecs_set_str(p, "status", "INACTIVE");
        ecs_set_str(p, "updateStatus", "DELETE_COMPLETE");
        json_object_del(p, "updateStatusReason");
    }
    if (store_update(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, name, p) != STORE_OK) {
        json_decref(v);
        json_decref(p);
        return call_internal(c, "storing capacity provider");
    }
    json_object_set_new(call_out(c), "capacityProvider", v);
    json_decref(p);
    return 0;
}

/* ---- account settings ---- */

struct setting_def {
    const char *name;
    const char *dflt;
    const char *values[4];
};

/* Sorted by name, as ListAccountSettings answers. */
static const struct setting_def settings[] = {
    { "awsvpcTrunking", "disabled", { "enabled", "disabled" } },
    { "containerInsights", "disabled", { "enabled", "disabled", "enhanced" } },
    { "containerInstanceLongArnFormat", "enabled", { "enabled" } },
    { "defaultLogDriverMode", "non-blocking", { "blocking", "non-blocking" } },
    { "fargateEventWindows", "disabled", { "enabled", "disabled" } },
    { "fargateFIPSMode", "disabled", { "enabled", "disabled" } },
    { "fargateTaskRetirementWaitPeriod", "7", { "0", "7", "14" } },
    { "guardDutyActivate", "off", { "on", "off" } },
    { "serviceLongArnFormat", "enabled", { "enabled" } },
    { "tagResourceAuthorization", "on", { "on", "off" } },
    { "taskLongArnFormat", "enabled", { "enabled" } },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct setting_def *setting_def(const char *name)
{
    for (size_t i = 0; name && i < NSETTINGS; i++)
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    return NULL;
}

static int check_setting_value(struct call *c, const struct setting_def *d,
                               const char *value)
{
    if (strstr(d->name, "LongArnFormat") && strcmp(value, "disabled") == 0)
        return call_error(c, "InvalidParameterException",
                          "The %s setting can no longer be disabled: Amazon ECS "
                          "uses the long ARN and resource ID format for all resources.",
                          d->name);
    if (strcmp(d->name, "guardDutyActivate") == 0)
        return call_error(c, "InvalidParameterException",
                          "The guardDutyActivate setting is read only in Amazon ECS; "
                          "it is managed by Amazon GuardDuty.");
    for (int i = 0; i < 4 && d->values[i]; i++)
        if (strcmp(d->values[i], value) == 0)
            return 0;
    char valid[96] = "";
    for (int i = 0; i < 4 && d->values[i]; i++) {
        strncat(valid, i ? ", " : "", sizeof(valid) - strlen(valid) - 1);
        strncat(valid, d->values[i], sizeof(valid) - strlen(valid) - 1);
    }
    return call_error(c, "InvalidParameterException",
                      "Invalid value '%.64s' for the %s setting. Valid values are: %s.",
                      value, d->name, valid);
}

/* The principal a request names (the caller when absent), checked. */
static int request_principal(struct call *c, char *out, size_t len)
{
    const char *p = in_str(c, "principalArn");
    if (!p) {
        ecs_principal_arn(c, out, len);
        return 0;
    }
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "arn:aws:iam::%s:", c->account);
    const char *rest = strncmp(p, prefix, strlen(prefix)) == 0 ? p + strlen(prefix) : NULL;
    if (!rest || (strcmp(rest, "root") != 0 && strncmp(rest, "user/", 5) != 0 &&
                  strncmp(rest, "role/", 5) != 0) ||
        strlen(p) >= len)
        return call_error(c, "InvalidParameterException",
                          "The principalArn '%.300s' is not valid. Specify the ARN of "
                          "an IAM user, an IAM role or the root user of this account.", p);
    snprintf(out, len, "%s", p);
    return 0;
}

static void setting_id(const char *name, const char *principal, char *out, size_t len)
{
    snprintf(out, len, "%.64s %.500s", name, principal);
}

/* The stored setting of one principal (new reference) or NULL. */
static json_t *stored_setting(struct call *c, const char *name, const char *principal)
{
    char id[ECS_ARN_MAX];
    setting_id(name, principal, id, sizeof(id));
    return store_get(c->db, &c->scope, ECS_T_ACCOUNT_SETTING, id);
}

/* The effective setting for a principal: its own, the account default (the
 * root principal's), or AWS's default.  New reference. */
static json_t *effective_setting(struct call *c, const struct setting_def *d,
                                 const char *principal)
{
    char root[96];
    ecs_principal_arn(c, root, sizeof(root));
    json_t *s = stored_setting(c, d->name, principal);
    if (!s)
        s = stored_setting(c, d->name, root);
    if (s)
        return s;
    return json_pack("{s:s, s:s, s:s, s:s}", "name", d->name, "value", d->dflt,
                     "principalArn", root, "type", "aws_managed");
}

const char *ecs_account_setting(struct call *c, const char *name, char *buf,
                                size_t len)
{
    const struct setting_def *d = setting_def(name);
    char root[96];
    if (!d)
        return NULL;
    ecs_principal_arn(c, root, sizeof(root));
    json_t *s = effective_setting(c, d, root);
    snprintf(buf, len, "%s", ecs_str(s, "value") ? ecs_str(s, "value") : d->dflt);
    json_decref(s);
    return buf;
}

static int put_setting(struct call *c, const char *principal)
{
    const char *name = in_str(c, "name");
    const char *value = in_str(c, "value");
    const struct setting_def *d = setting_def(name);
    if (!d)
        return call_error(c, "InvalidParameterException", "Unknown setting %s.", name);
    if (check_setting_value(c, d, value) < 0)
        return -1;
    char id[ECS_ARN_MAX];
    setting_id(name, principal, id, sizeof(id));
    json_t *s = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "value", value,
                          "principalArn", principal, "type", "user");
    int st = store_update(c->db, &c->scope, ECS_T_ACCOUNT_SETTING, id, s);
    if (st == STORE_NOT_FOUND)
        st = store_insert(c->db, &c->scope, ECS_T_ACCOUNT_SETTING, id, NULL, NULL, s);
    if (st != STORE_OK) {
        json_decref(s);
        return call_internal(c, "storing account setting");
    }
    json_object_set_new(call_out(c), "setting", s);
    return 0;
}

int ecs_put_account_setting(struct call *c)
{
    char principal[ECS_ARN_MAX];
    if (request_principal(c, principal, sizeof(principal)) < 0)
        return -1;
    return put_setting(c, principal);
}

int ecs_put_account_setting_default(struct call *c)
{
    char root[96];
    ecs_principal_arn(c, root, sizeof(root));
    return put_setting(c, root);
}

int ecs_delete_account_setting(struct call *c)
{
    char principal[ECS_ARN_MAX];
    const struct setting_def *d = setting_def(in_str(c, "name"));
    if (!d)
        return call_error(c, "InvalidParameterException", "Unknown setting %s.",
                          in_str(c, "name"));
    if (request_principal(c, principal, sizeof(principal)) < 0)
        return -1;
    json_t *s = stored_setting(c, d->name, principal);
    if (s) {
        char id[ECS_ARN_MAX];
        setting_id(d->name, principal, id, sizeof(id));
        if (store_delete(c->db, &c->scope, ECS_T_ACCOUNT_SETTING, id) != STORE_OK) {
            json_decref(s);
            return call_internal(c, "deleting account setting");
        }
    } else {
        /* Nothing of the principal's own: report what now applies. */
        s = effective_setting(c, d, principal);
    }
    json_object_set_new(call_out(c), "setting", s);
    return 0;
}

int ecs_list_account_settings(struct call *c)
{
    char principal[ECS_ARN_MAX], after[ECS_ARN_MAX] = "";
    const char *name = in_str(c, "name");
    const char *value = in_str(c, "value");
    int effective = in_bool(c, "effectiveSettings", 0);
    long long limit = ecs_max_results(c, 10, 10);
    if (limit < 0 || request_principal(c, principal, sizeof(principal)) < 0)
        return -1;
    if (in_str(c, "nextToken") &&
        ecs_token_read(c, in_str(c, "nextToken"), after, sizeof(after)) < 0)
        return -1;
    json_t *out = json_array();
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting_def *d = &settings[i];
        if ((name && strcmp(name, d->name) != 0) || strcmp(d->name, after) <= 0)
            continue;
        json_t *s = effective ? effective_setting(c, d, principal)
                              : stored_setting(c, d->name, principal);
        if (!s)
            continue;
        if (value && strcmp(ecs_str(s, "value"), value) != 0) {
            json_decref(s);
            continue;
        }
        if ((long long)json_array_size(out) == limit) {
            json_decref(s);
            char token[2 * ECS_ARN_MAX + 8];
            ecs_token_make(ecs_str(json_array_get(out, json_array_size(out) - 1), "name"),
                           token, sizeof(token));
            ecs_set_str(call_out(c), "nextToken", token);
            break;
        }
        json_array_append_new(out, s);
    }
    json_object_set_new(call_out(c), "settings", out);
    return 0;
}
