/*
 * ECS clusters: CreateCluster, DescribeClusters, ListClusters,
 * UpdateCluster, UpdateClusterSettings, PutClusterCapacityProviders,
 * DeleteCluster.
 *
 * A cluster is stored as the Cluster shape under its name.  Its counters
 * (running and pending tasks, active services, registered instances) and
 * statistics are not stored: every answer counts them from the task,
 * service and container instance documents under the cluster, so they are
 * always true.  A deleted cluster stays describable as INACTIVE, as in
 * AWS, and CreateCluster of its name makes it ACTIVE again.
 */
#include <stdio.h>
#include <string.h>

#include "ecs.h"
#include "gen/handlers.h"

/* ---- live counters ---- */

struct cluster_counts {
    long long running, pending, services, instances;
    long long running_ec2, running_fargate, pending_ec2, pending_fargate;
    long long active_ec2_svc, active_fargate_svc;
    long long draining_ec2_svc, draining_fargate_svc;
};

static int is_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static const char *const pending_states[] = {
    "PROVISIONING", "PENDING", "ACTIVATING", NULL
};

static int count_task(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct cluster_counts *n = arg;
    const char *status = ecs_str(doc, "lastStatus");
    const char *launch = ecs_str(doc, "launchType");
    int fargate = launch && strcmp(launch, "FARGATE") == 0;
    if (status && strcmp(status, "RUNNING") == 0) {
        n->running++;
        if (fargate)
            n->running_fargate++;
        else
            n->running_ec2++;
    } else if (is_one_of(status, pending_states)) {
        n->pending++;
        if (fargate)
            n->pending_fargate++;
        else
            n->pending_ec2++;
    }
    return 0;
}

/* Whether a service runs on Fargate: its launch type, or a strategy of
 * the Fargate capacity providers. */
static int service_on_fargate(json_t *svc)
{
    const char *launch = ecs_str(svc, "launchType");
    if (launch)
        return strcmp(launch, "FARGATE") == 0;
    json_t *item = json_array_get(json_object_get(svc, "capacityProviderStrategy"), 0);
    const char *cp = ecs_str(item, "capacityProvider");
    return cp && strncmp(cp, "FARGATE", 7) == 0;
}

static int count_service(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct cluster_counts *n = arg;
    const char *status = ecs_str(doc, "status");
    int fargate = service_on_fargate(doc);
    if (status && strcmp(status, "ACTIVE") == 0) {
        n->services++;
        if (fargate)
            n->active_fargate_svc++;
        else
            n->active_ec2_svc++;
    } else if (status && strcmp(status, "DRAINING") == 0) {
        if (fargate)
            n->draining_fargate_svc++;
        else
            n->draining_ec2_svc++;
    }
    return 0;
}

static int count_instance(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct cluster_counts *n = arg;
    const char *status = ecs_str(doc, "status");
    if (status && (strcmp(status, "ACTIVE") == 0 || strcmp(status, "DRAINING") == 0))
        n->instances++;
    return 0;
}

static int count_cluster(struct call *c, const char *name, struct cluster_counts *n)
{
    memset(n, 0, sizeof(*n));
    if (store_each(c->db, &c->scope, ECS_T_TASK, name, NULL, count_task, n) != 0 ||
        store_each(c->db, &c->scope, ECS_T_SERVICE, name, NULL, count_service, n) != 0 ||
        store_each(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, name, NULL,
                   count_instance, n) != 0)
        return call_internal(c, "counting cluster resources");
    return 0;
}

static void add_stat(json_t *list, const char *name, long long value)
{
    char text[32];
    snprintf(text, sizeof(text), "%lld", value);
    json_array_append_new(list, json_pack("{s:s, s:s}", "name", name, "value", text));
}

json_t *ecs_cluster_view(struct call *c, json_t *cluster, unsigned flags)
{
    struct cluster_counts n;
    json_t *v = json_deep_copy(cluster);
    if (!v || count_cluster(c, ecs_str(cluster, "clusterName"), &n) < 0) {
        json_decref(v);
        return NULL;
    }
    json_object_set_new(v, "registeredContainerInstancesCount", json_integer(n.instances));
    json_object_set_new(v, "runningTasksCount", json_integer(n.running));
    json_object_set_new(v, "pendingTasksCount", json_integer(n.pending));
    json_object_set_new(v, "activeServicesCount", json_integer(n.services));
    if (flags & ECS_CV_NO_COUNTS) {
        json_object_set_new(v, "statistics", json_array());
    } else if (flags & ECS_CV_STATISTICS) {
        json_t *stats = json_array();
        add_stat(stats, "runningEC2TasksCount", n.running_ec2);
        add_stat(stats, "runningFargateTasksCount", n.running_fargate);
        add_stat(stats, "pendingEC2TasksCount", n.pending_ec2);
        add_stat(stats, "pendingFargateTasksCount", n.pending_fargate);
        add_stat(stats, "activeEC2ServiceCount", n.active_ec2_svc);
        add_stat(stats, "activeFargateServiceCount", n.active_fargate_svc);
        add_stat(stats, "drainingEC2ServiceCount", n.draining_ec2_svc);
        add_stat(stats, "drainingFargateServiceCount", n.draining_fargate_svc);
        json_object_set_new(v, "statistics", stats);
    } else {
        json_object_del(v, "statistics");
    }
    if (!(flags & ECS_CV_SETTINGS))
        json_object_del(v, "settings");
    if (!(flags & ECS_CV_TAGS))
        json_object_del(v, "tags");
    if (!(flags & ECS_CV_CONFIGURATIONS))
        json_object_del(v, "configuration");
    json_t *att = json_object_get(v, "attachments");
    if (!(flags & ECS_CV_ATTACHMENTS) ||
        ((flags & ECS_CV_NO_COUNTS) && json_array_size(att) == 0)) {
        json_object_del(v, "attachments");
        json_object_del(v, "attachmentsStatus");
    }
    return v;
}

/* What mutations answer: everything, statistics as an empty list. */
#define FULL_VIEW (ECS_CV_ALL | ECS_CV_NO_COUNTS)

static int answer_cluster(struct call *c, json_t *cluster)
{
    json_t *v = ecs_cluster_view(c, cluster, FULL_VIEW);
    if (!v)
        return -1;
    json_object_set_new(call_out(c), "cluster", v);
    return 0;
}

static int save_cluster(struct call *c, json_t *cluster)
{
    if (store_update(c->db, &c->scope, ECS_T_CLUSTER, ecs_str(cluster, "clusterName"),
                     cluster) != STORE_OK)
        return call_internal(c, "storing cluster");
    return 0;
}

/* ---- settings ---- */

/* The request's cluster settings, checked; a new list (NULL: error). */
static json_t *request_settings(struct call *c, json_t *settings)
{
    json_t *out = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(settings, i, s) {
        const char *name = ecs_str(s, "name");
        const char *value = ecs_str(s, "value");
        if (!name || !value) {
            json_decref(out);
            call_error(c, "InvalidParameterException",
                       "Cluster settings must have a name and a value.");
            return NULL;
        }
        static const char *const insights[] = { "enabled", "disabled", "enhanced", NULL };
        if (strcmp(name, "containerInsights") == 0 && !is_one_of(value, insights)) {
            json_decref(out);
            call_error(c, "InvalidParameterException",
                       "Invalid value '%.64s' for the containerInsights setting. "
                       "Valid values are enabled, enhanced and disabled.", value);
            return NULL;
        }
        /* A later setting of the same name wins. */
        size_t j;
        json_t *have;
        json_array_foreach(out, j, have) {
            if (strcmp(ecs_str(have, "name"), name) == 0) {
                json_array_remove(out, j);
                break;
            }
        }
        json_array_append_new(out, json_pack("{s:s, s:s}", "name", name, "value", value));
    }
    return out;
}

/* Merge new settings into a cluster's list (same name: replaced). */
static void merge_settings(json_t *cluster, json_t *settings)
{
    json_t *have = json_object_get(cluster, "settings");
    if (!json_is_array(have)) {
        have = json_array();
        json_object_set_new(cluster, "settings", have);
    }
    size_t i, j;
    json_t *s, *h;
    json_array_foreach(settings, i, s) {
        int replaced = 0;
        json_array_foreach(have, j, h) {
            if (strcmp(ecs_str(h, "name"), ecs_str(s, "name")) == 0) {
                json_array_set(have, j, s);
                replaced = 1;
                break;
            }
        }
        if (!replaced)
            json_array_append(have, s);
    }
}

/* ---- CreateCluster ---- */

static json_t *new_cluster(struct call *c, const char *name, json_t *tags,
                           json_t *settings, json_t *providers, json_t *strategy)
{
    char arn[ECS_ARN_MAX];
    ecs_cluster_arn(c, name, arn, sizeof(arn));
    json_t *cluster = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:[]}",
                                "clusterArn", arn, "clusterName", name,
                                "status", "ACTIVE", "tags", tags,
                                "settings", settings, "capacityProviders", providers,
                                "defaultCapacityProviderStrategy", strategy,
                                "attachments");
    if (!cluster)
        return NULL;
    json_t *conf = in_get(c, "configuration");
    if (conf)
        json_object_set(cluster, "configuration", conf);
    json_t *scd = in_get(c, "serviceConnectDefaults");
    if (scd)
        json_object_set_new(cluster, "serviceConnectDefaults",
                            json_pack("{s:s}", "namespace", ecs_str(scd, "namespace")));
    return cluster;
}

int ecs_create_cluster(struct call *c)
{
    const char *name = in_str(c, "clusterName");
    if (!name || !*name)
        name = "default";
    if (!ecs_name_valid(name, 255))
        return call_error(c, "InvalidParameterException",
                          "Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %.300s",
                          name);
    json_t *tags = ecs_request_tags(c);
    if (!tags)
        return -1;
    json_t *settings = request_settings(c, in_get(c, "settings"));
    json_t *providers = NULL, *strategy = NULL;
    int rc = -1;
    if (!settings)
        goto out;
    if (json_array_size(settings) == 0) {
        /* AWS reports the account's containerInsights default. */
        char value[32];
        if (ecs_account_setting(c, "containerInsights", value, sizeof(value)))
            json_array_append_new(settings, json_pack("{s:s, s:s}", "name",
                                                      "containerInsights", "value", value));
    }
    if (ecs_cluster_providers_check(c, name, in_get(c, "capacityProviders"),
                                    in_get(c, "defaultCapacityProviderStrategy"),
                                    &providers, &strategy) < 0)
        goto out;
    json_t *have = store_get(c->db, &c->scope, ECS_T_CLUSTER, name);
    const char *have_status = have ? ecs_str(have, "status") : NULL;
    if (have && (!have_status || strcmp(have_status, "INACTIVE") != 0)) {
        /* CreateCluster is idempotent: the existing cluster, unchanged. */
        rc = answer_cluster(c, have);
        json_decref(have);
        goto out;
    }
    json_t *cluster = new_cluster(c, name, tags, settings, providers, strategy);
    if (!cluster) {
        json_decref(have);
        rc = call_internal(c, "building cluster");
        goto out;
    }
    if (ecs_cluster_attachments(c, cluster) < 0) {
        json_decref(have);
        json_decref(cluster);
        goto out;
    }
    int st = have ? store_update(c->db, &c->scope, ECS_T_CLUSTER, name, cluster)
                  : store_insert(c->db, &c->scope, ECS_T_CLUSTER, name, NULL, NULL, cluster);
    json_decref(have);
    if (st != STORE_OK)
        rc = call_internal(c, "storing cluster");
    else
        rc = answer_cluster(c, cluster);
    json_decref(cluster);
out:
    json_decref(tags);
    json_decref(settings);
    json_decref(providers);
    json_decref(strategy);
    return rc;
}

/* ---- DescribeClusters ---- */

static unsigned include_flags(const struct call *c)
{
    unsigned f = 0;
    if (ecs_include_has(c, "SETTINGS"))
        f |= ECS_CV_SETTINGS;
    if (ecs_include_has(c, "STATISTICS"))
        f |= ECS_CV_STATISTICS;
    if (ecs_include_has(c, "TAGS"))
        f |= ECS_CV_TAGS;
    if (ecs_include_has(c, "ATTACHMENTS"))
        f |= ECS_CV_ATTACHMENTS;
    if (ecs_include_has(c, "CONFIGURATIONS"))
        f |= ECS_CV_CONFIGURATIONS;
    return f;
}

/* The cluster name a DescribeClusters entry names, or "" when it cannot
 * name one of this scope's clusters (reported MISSING with arn). */
static int describe_ref(struct call *c, const char *ref, char *name, size_t len,
                        char *arn, size_t arnlen)
{
    if (strncmp(ref, "arn:", 4) == 0) {
        struct ecs_arn a;
        if (ecs_arn_parse(ref, &a) < 0 || a.kind != ECS_K_CLUSTER)
            return call_error(c, "InvalidParameterException",
                              "Unsupported resource type: cluster");
        snprintf(arn, arnlen, "%s", ref);
        if (strcmp(a.account, c->account) != 0 || strcmp(a.region, c->region) != 0)
            name[0] = '\0';
        else
            snprintf(name, len, "%s", a.name);
        return 0;
    }
    if (!ecs_name_valid(ref, 255))
        return call_error(c, "InvalidParameterException",
                          "Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %.300s",
                          ref);
    snprintf(name, len, "%s", ref);
    ecs_cluster_arn(c, ref, arn, arnlen);
    return 0;
}

int ecs_describe_clusters(struct call *c)
{
    json_t *refs = in_get(c, "clusters");
    json_t *deflt = NULL;
    if (json_array_size(refs) == 0)
        refs = deflt = json_pack("[s]", "default");
    if (json_array_size(refs) > 100) {
        json_decref(deflt);
        return call_error(c, "InvalidParameterException",
                          "Clusters can have at most 100 items.");
    }
    unsigned flags = include_flags(c);
    json_t *clusters = json_array(), *failures = json_array();
    int rc = 0;
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r) {
        const char *ref = json_string_value(r);
        char name[ECS_NAME_MAX], arn[ECS_ARN_MAX];
        if (!ref || !*ref) {
            rc = call_error(c, "InvalidParameterException", "Clusters can not be blank.");
            break;
        }
        if ((rc = describe_ref(c, ref, name, sizeof(name), arn, sizeof(arn))) < 0)
            break;
        json_t *doc = *name ? store_get(c->db, &c->scope, ECS_T_CLUSTER, name) : NULL;
        if (!doc) {
            ecs_add_failure(failures, arn, "MISSING", NULL);
            continue;
        }
        json_t *v = ecs_cluster_view(c, doc, flags);
        json_decref(doc);
        if (!v) {
            rc = -1;
            break;
        }
        json_array_append_new(clusters, v);
    }
    json_decref(deflt);
    if (rc < 0) {
        json_decref(clusters);
        json_decref(failures);
        return -1;
    }
    json_object_set_new(call_out(c), "clusters", clusters);
    json_object_set_new(call_out(c), "failures", failures);
    return 0;
}

/* ---- ListClusters ---- */

struct list_walk {
    json_t *arns;
    long long limit;
    char last[ECS_ARN_MAX];
    int more;
};

static int list_cluster(json_t *doc, const char *id, void *arg)
{
    struct list_walk *w = arg;
    const char *status = ecs_str(doc, "status");
    if (status && strcmp(status, "INACTIVE") == 0)
        return 0;
    if ((long long)json_array_size(w->arns) == w->limit) {
        w->more = 1;
        return 1;
    }
    json_array_append_new(w->arns, json_string(ecs_str(doc, "clusterArn")));
    snprintf(w->last, sizeof(w->last), "%s", id);
    return 0;
}

int ecs_list_clusters(struct call *c)
{
    struct list_walk w = { NULL, 0, "", 0 };
    char after[ECS_ARN_MAX] = "";
    w.limit = ecs_max_results(c, 100, 100);
    if (w.limit < 0)
        return -1;
    if (in_str(c, "nextToken") &&
        ecs_token_read(c, in_str(c, "nextToken"), after, sizeof(after)) < 0)
        return -1;
    w.arns = json_array();
    int st = store_each(c->db, &c->scope, ECS_T_CLUSTER, NULL, after, list_cluster, &w);
    if (st < 0) {
        json_decref(w.arns);
        return call_internal(c, "listing clusters");
    }
    json_object_set_new(call_out(c), "clusterArns", w.arns);
    if (w.more) {
        char token[2 * ECS_ARN_MAX + 8];
        ecs_token_make(w.last, token, sizeof(token));
        ecs_set_str(call_out(c), "nextToken", token);
    }
    return 0;
}

/* ---- UpdateCluster, UpdateClusterSettings ---- */

int ecs_update_cluster(struct call *c)
{
    char name[ECS_NAME_MAX];
    json_t *settings = request_settings(c, in_get(c, "settings"));
    if (!settings)
        return -1;
    json_t *cluster = ecs_cluster_get(c, in_str(c, "cluster"), 0, name, sizeof(name));
    if (!cluster) {
        json_decref(settings);
        return -1;
    }
    merge_settings(cluster, settings);
    json_decref(settings);
    json_t *conf = in_get(c, "configuration");
    if (conf)
        json_object_set(cluster, "configuration", conf);
    json_t *scd = in_get(c, "serviceConnectDefaults");
    if (scd) {
        const char *ns = ecs_str(scd, "namespace");
        /* An empty namespace removes the default, as in AWS. */
        if (ns && *ns)
            json_object_set_new(cluster, "serviceConnectDefaults",
                                json_pack("{s:s}", "namespace", ns));
        else
            json_object_del(cluster, "serviceConnectDefaults");
    }
    int rc = save_cluster(c, cluster);
    if (rc == 0)
        rc = answer_cluster(c, cluster);
    json_decref(cluster);
    return rc;
}

/* Its input is UpdateCluster's without configuration and
 * serviceConnectDefaults: the same handler serves it. */
int ecs_update_cluster_settings(struct call *c)
{
    return ecs_update_cluster(c);
}

/* ---- PutClusterCapacityProviders ---- */

struct provider_use {
    json_t *removed;        /* provider names leaving the cluster */
    int found;
};

static int service_uses_removed(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct provider_use *u = arg;
    const char *status = ecs_str(doc, "status");
    if (!status || strcmp(status, "INACTIVE") == 0)
        return 0;
    size_t i, j;
    json_t *item, *r;
    json_array_foreach(json_object_get(doc, "capacityProviderStrategy"), i, item)
        json_array_foreach(u->removed, j, r)
            if (ecs_str(item, "capacityProvider") &&
                strcmp(ecs_str(item, "capacityProvider"), json_string_value(r)) == 0)
                u->found = 1;
    return u->found;
}

static int array_has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

int ecs_put_cluster_capacity_providers(struct call *c)
{
    char name[ECS_NAME_MAX];
    json_t *cluster = ecs_cluster_get(c, in_str(c, "cluster"), 0, name, sizeof(name));
    if (!cluster)
        return -1;
    json_t *providers = NULL, *strategy = NULL;
    struct provider_use u = { json_array(), 0 };
    int rc = ecs_cluster_providers_check(c, name, in_get(c, "capacityProviders"),
                                         in_get(c, "defaultCapacityProviderStrategy"),
                                         &providers, &strategy);
    if (rc < 0)
        goto out;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(cluster, "capacityProviders"), i, p)
        if (json_is_string(p) && !array_has_string(providers, json_string_value(p)))
            json_array_append(u.removed, p);
    if (json_array_size(u.removed) > 0) {
        if (store_each(c->db, &c->scope, ECS_T_SERVICE, name, NULL,
                       service_uses_removed, &u) < 0) {
            rc = call_internal(c, "reading services");
            goto out;
        }
        if (u.found) {
            rc = call_error(c, "ResourceInUseException",
                            "The capacity provider cannot be deleted because it is "
                            "associated with a service.");
            goto out;
        }
    }
    json_object_set(cluster, "capacityProviders", providers);
    json_object_set(cluster, "defaultCapacityProviderStrategy", strategy);
    if ((rc = ecs_cluster_attachments(c, cluster)) < 0 ||
        (rc = save_cluster(c, cluster)) < 0)
        goto out;
    rc = answer_cluster(c, cluster);
out:
    json_decref(u.removed);
    json_decref(providers);
    json_decref(strategy);
    json_decref(cluster);
    return rc;
}

/* ---- DeleteCluster ---- */

struct busy {
    int services, tasks, instances, providers;
    json_t *auto_instances;     /* ids of ecslocal's own instances */
};

static int busy_service(json_t *doc, const char *id, void *arg)
{
    (void)id;
    static const char *const live[] = { "ACTIVE", "DRAINING", NULL };
    ((struct busy *)arg)->services |= is_one_of(ecs_str(doc, "status"), live);
    return 0;
}

static int busy_task(json_t *doc, const char *id, void *arg)
{
    (void)id;
    const char *status = ecs_str(doc, "lastStatus");
    ((struct busy *)arg)->tasks |= !status || strcmp(status, "STOPPED") != 0;
    return 0;
}

static int busy_instance(json_t *doc, const char *id, void *arg)
{
    struct busy *b = arg;
    static const char *const live[] = { "ACTIVE", "DRAINING", "REGISTERING", NULL };
    if (!is_one_of(ecs_str(doc, "status"), live))
        return 0;
    if (json_is_true(json_object_get(doc, "_auto")))
        json_array_append_new(b->auto_instances, json_string(id));
    else
        b->instances = 1;
    return 0;
}

struct scoped_providers {
    const char *cluster;
    int found;
};

static int provider_of_cluster(json_t *doc, const char *id, void *arg)
{
    (void)id;
    struct scoped_providers *s = arg;
    const char *owner = ecs_str(doc, "cluster");
    const char *status = ecs_str(doc, "status");
    if (owner && strcmp(owner, s->cluster) == 0 && status &&
        strcmp(status, "INACTIVE") != 0)
        s->found = 1;
    return s->found;
}

/* Deregister ecslocal's own on-demand instances of a deleted cluster. */
static int retire_auto_instances(struct call *c, json_t *ids)
{
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        json_t *doc = store_get(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE,
                                json_string_value(id));
        if (!doc)
            continue;
        ecs_set_str(doc, "status", "INACTIVE");
        int st = store_update(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE,
                              json_string_value(id), doc);
        json_decref(doc);
        if (st != STORE_OK)
            return call_internal(c, "deregistering container instance");
    }
    return 0;
}

int ecs_delete_cluster(struct call *c)
{
    char name[ECS_NAME_MAX];
    json_t *cluster = ecs_cluster_get(c, in_str(c, "cluster"), 0, name, sizeof(name));
    if (!cluster)
        return -1;
    struct busy b = { 0, 0, 0, 0, json_array() };
    struct scoped_providers sp = { name, 0 };
    int rc = -1;
    if (store_each(c->db, &c->scope, ECS_T_SERVICE, name, NULL, busy_service, &b) < 0 ||
        store_each(c->db, &c->scope, ECS_T_TASK, name, NULL, busy_task, &b) < 0 ||
        store_each(c->db, &c->scope, ECS_T_CONTAINER_INSTANCE, name, NULL,
                   busy_instance, &b) < 0 ||
        store_each(c->db, &c->scope, ECS_T_CAPACITY_PROVIDER, NULL, NULL,
                   provider_of_cluster, &sp) < 0) {
        rc = call_internal(c, "reading cluster resources");
        goto out;
    }
    if (b.services) {
        rc = call_error(c, "ClusterContainsServicesException",
                        "The Cluster cannot be deleted while Services are active.");
        goto out;
    }
    if (b.tasks) {
        rc = call_error(c, "ClusterContainsTasksException",
                        "The Cluster cannot be deleted while Tasks are active.");
        goto out;
    }
    if (b.instances) {
        rc = call_error(c, "ClusterContainsContainerInstancesException",
                        "The Cluster cannot be deleted while Container Instances "
                        "are active or draining.");
        goto out;
    }
    if (sp.found) {
        rc = call_error(c, "ClusterContainsCapacityProviderException",
                        "The Cluster cannot be deleted while Capacity Providers "
                        "are associated with it.");
        goto out;
    }
    if (retire_auto_instances(c, b.auto_instances) < 0)
        goto out;
    ecs_set_str(cluster, "status", "INACTIVE");
    if (save_cluster(c, cluster) < 0)
        goto out;
    rc = answer_cluster(c, cluster);
out:
    json_decref(b.auto_instances);
    json_decref(cluster);
    return rc;
}
