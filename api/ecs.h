/*
 * What the ECS handlers share: the storage conventions of every ECS
 * resource, ARNs, cluster and task definition references, `failures`
 * entries, tags given as [{key, value}], pagination tokens and ids.
 *
 * Storage.  Every ECS resource is a store document in the shape its
 * Describe call returns (member names as in the model, lowerCamel), with
 * private bookkeeping in members starting with '_':
 *
 *   type                     id                    parent        name
 *   "ecs-cluster"            cluster name          -             -
 *       Cluster shape; "status" ACTIVE or INACTIVE (deleted clusters stay
 *       describable as INACTIVE; CreateCluster of the name revives them);
 *       tags in "tags".  The counters are computed live on Describe.
 *   "ecs-task-definition"    ecs_taskdef_id()      family        family:rev
 *       TaskDefinition shape; "status" ACTIVE, INACTIVE or
 *       DELETE_IN_PROGRESS; tags in "_tags" (the shape has none).  The id
 *       "family#00000042" sorts by family, then by numeric revision ('#'
 *       sorts before every character a family may hold, so "a" comes
 *       before "a-b" as in AWS's listing).
 *   "ecs-capacity-provider"  provider name         -             -
 *       CapacityProvider shape (FARGATE and FARGATE_SPOT are built in and
 *       never stored); tags in "tags".
 *   "ecs-account-setting"    "name principalArn"   -             -
 *       Setting shape; the account default is the setting of the root
 *       principal (arn:aws:iam::ACCOUNT:root).
 *   "ecs-service"            "CLUSTER/NAME"        cluster name  -
 *       Service shape; "status" ACTIVE, DRAINING or INACTIVE; "launchType"
 *       or "capacityProviderStrategy"; tags in "tags".  A deleted service
 *       keeps its id, so recreating it reuses the document.
 *   "ecs-task"               task id (32 hex)      cluster name  -
 *       Task shape; "lastStatus", "launchType", tags in "tags".
 *   "ecs-container-instance" instance id (32 hex)  cluster name  -
 *       ContainerInstance shape; "status" (REGISTERING, ACTIVE, DRAINING,
 *       INACTIVE, ...); tags in "tags".  "_auto": true marks an instance
 *       ecslocal provisioned on demand: it does not keep DeleteCluster from
 *       succeeding, which deregisters it (status INACTIVE) instead.
 *
 * What DescribeClusters counts from these documents, per cluster:
 * runningTasksCount (lastStatus RUNNING), pendingTasksCount (PROVISIONING,
 * PENDING, ACTIVATING), activeServicesCount (status ACTIVE),
 * registeredContainerInstancesCount (status ACTIVE or DRAINING).
 * DeleteCluster is refused while a service is ACTIVE or DRAINING, a task
 * is not STOPPED, a container instance (other than an _auto one) is
 * REGISTERING, ACTIVE or DRAINING, or a capacity provider scoped to the
 * cluster (managed instances, "cluster" member) is not INACTIVE.
 */
#ifndef ECSL_ECS_H
#define ECSL_ECS_H

#include <jansson.h>

#include "call.h"

#define ECS_T_CLUSTER            "ecs-cluster"
#define ECS_T_TASK_DEFINITION    "ecs-task-definition"
#define ECS_T_CAPACITY_PROVIDER  "ecs-capacity-provider"
#define ECS_T_ACCOUNT_SETTING    "ecs-account-setting"
#define ECS_T_SERVICE            "ecs-service"
#define ECS_T_TASK               "ecs-task"
#define ECS_T_CONTAINER_INSTANCE "ecs-container-instance"

/* Room for any ARN or id ecslocal builds. */
#define ECS_ARN_MAX 640
#define ECS_NAME_MAX 256

/* ---- small JSON helpers ---- */

/* A string member, or NULL. */
const char *ecs_str(json_t *doc, const char *key);
/* Set a string member (a copy of value). */
void ecs_set_str(json_t *doc, const char *key, const char *value);

/* ---- ARNs (current long format) ---- */

/* arn:aws:ecs:REGION:ACCOUNT:<resource> */
void ecs_arn(const struct call *c, const char *resource, char *out, size_t len);
void ecs_cluster_arn(const struct call *c, const char *cluster, char *out,
                     size_t len);
void ecs_service_arn(const struct call *c, const char *cluster,
                     const char *service, char *out, size_t len);
void ecs_task_arn(const struct call *c, const char *cluster, const char *id,
                  char *out, size_t len);
void ecs_container_instance_arn(const struct call *c, const char *cluster,
                                const char *id, char *out, size_t len);
void ecs_taskdef_arn(const struct call *c, const char *family,
                     long long revision, char *out, size_t len);
void ecs_capacity_provider_arn(const struct call *c, const char *name,
                               char *out, size_t len);
/* The ARN of the caller (ecslocal's callers are their account's root). */
void ecs_principal_arn(const struct call *c, char *out, size_t len);

enum ecs_kind {
    ECS_K_NONE = 0,
    ECS_K_CLUSTER,
    ECS_K_SERVICE,
    ECS_K_TASK,
    ECS_K_CONTAINER_INSTANCE,
    ECS_K_TASK_DEFINITION,
    ECS_K_CAPACITY_PROVIDER
};

struct ecs_arn {
    enum ecs_kind kind;
    char region[32];
    char account[16];
    char cluster[ECS_NAME_MAX];  /* service, task, container instance */
    char name[ECS_NAME_MAX];     /* cluster, service, task id, instance id,
                                  * task definition family, provider */
    long long revision;          /* task definition; 0 when absent */
    int long_format;             /* 0: the old task/ID, service/NAME form */
};

/* Parse an ECS ARN of a kind above; -1 when it is not one. */
int ecs_arn_parse(const char *arn, struct ecs_arn *out);

/* The store type and id of the resource an ARN names; -1 for an ARN that
 * names no storable resource (old format, a built-in provider). */
int ecs_arn_store_key(const struct ecs_arn *a, const char **type, char *id,
                      size_t idlen);

/* The member a stored document keeps its tags in: "_tags" for task
 * definitions, "tags" for everything else. */
const char *ecs_tags_member(const char *type);

/* ---- ids ---- */

/* 32 lower-case hex digits (task and container instance ids). */
void ecs_new_id(char out[33]);
/* A random UUID (attachments, deployments). */
void ecs_uuid(char out[37]);
/* The store id of a task definition revision. */
void ecs_taskdef_id(const char *family, long long revision, char *out,
                    size_t len);

/* ---- names ---- */

/* Whether s is 1..max of [A-Za-z0-9_-] (cluster, family, container and
 * capacity provider names). */
int ecs_name_valid(const char *s, size_t max);

/* ---- clusters ---- */

#define ECS_CLUSTER_ANY_STATUS 1   /* accept an INACTIVE cluster */

/* The cluster a request names: a name, an ARN, or NULL/"" for "default".
 * Returns its document (a new reference) and copies its name into name,
 * or returns NULL with the error set: ClusterNotFoundException "Cluster not
 * found." when there is none, "The referenced cluster was inactive." for an
 * INACTIVE one unless flags has ECS_CLUSTER_ANY_STATUS, and
 * InvalidParameterException for a reference that is neither. */
json_t *ecs_cluster_get(struct call *c, const char *ref, int flags,
                        char *name, size_t len);

/* The cluster the request's "cluster" member names must exist (and be
 * ACTIVE unless flags has ECS_CLUSTER_ANY_STATUS): 0 with its name copied,
 * or -1 with the error set, as ecs_cluster_get. */
int ecs_request_cluster(struct call *c, int flags, char *name, size_t len);

/* Only parse a cluster reference into its name; -1 with the error set. */
int ecs_cluster_name(struct call *c, const char *ref, char *name, size_t len);

/* ---- task definitions ---- */

enum ecs_td_result {
    ECS_TD_FOUND = 0,
    ECS_TD_MISSING,          /* no such family, revision or ACTIVE revision */
    ECS_TD_BAD_REVISION,     /* "family:abc" */
    ECS_TD_BAD_REFERENCE,    /* not a family, family:revision or ARN */
    ECS_TD_ERROR             /* storage failed; the error is set */
};

/* The task definition a reference names: "family" (its latest ACTIVE
 * revision), "family:revision" or an ARN (with or without revision).
 * Returns a new reference or NULL, and the reason in *why; sets no error
 * except for ECS_TD_ERROR. */
json_t *ecs_taskdef_lookup(struct call *c, const char *ref,
                           enum ecs_td_result *why);

/* The same, recording the error ECS gives: InvalidParameterException
 * "Invalid revision number. Number: X" for a revision that is not a number,
 * and ClientException with missing_message (e.g. "Unable to describe task
 * definition." for DescribeTaskDefinition, "TaskDefinition not found." for
 * CreateService) otherwise. */
json_t *ecs_taskdef_get(struct call *c, const char *ref,
                        const char *missing_message);

/* The network mode a task definition runs with ("bridge" when unset). */
const char *ecs_taskdef_network_mode(json_t *taskdef);

/* ---- failures ---- */

/* Append {arn, reason[, detail]} to a `failures` array. */
void ecs_add_failure(json_t *failures, const char *arn, const char *reason,
                     const char *detail);

/* ---- include lists ---- */

/* Whether the request's "include" list holds value. */
int ecs_include_has(const struct call *c, const char *value);

/* ---- tags ([{key, value}]) ---- */

/* Check a tag list from a request: the key/value patterns and the
 * reserved "aws:" prefix.  0, or -1 with InvalidParameterException set.
 * member names the list in messages ("tags"). */
int ecs_check_tags(struct call *c, json_t *tags, const char *member);

/* A new list: have with add merged in (a key already present takes the new
 * value).  NULL with the error set when the result has more than 50. */
json_t *ecs_tags_merge(struct call *c, json_t *have, json_t *add);

/* The request's "tags" checked and normalised into a new list (empty when
 * absent); NULL with the error set. */
json_t *ecs_request_tags(struct call *c);

/* Remove the tags whose keys are in keys (an array of strings). */
void ecs_tags_remove(json_t *tags, json_t *keys);

/* ---- pagination ---- */

/* An opaque nextToken that resumes after key. */
void ecs_token_make(const char *key, char *out, size_t len);
/* The key of a nextToken; -1 with InvalidParameterException set. */
int ecs_token_read(struct call *c, const char *token, char *key, size_t len);
/* The request's maxResults checked against [1, max]; dflt when absent;
 * -1 with the error set. */
long long ecs_max_results(struct call *c, long long dflt, long long max);

/* ---- the shapes Describe* and List* calls share ---- */

/* A document for a reference (name, id or ARN) in a cluster; NULL if none. */
typedef json_t *(*ecs_find_fn)(struct call *c, const char *cluster, const char *ref);
/* The ARN of a resource named name in cluster. */
typedef void (*ecs_arn_fn)(const struct call *c, const char *cluster, const char *name,
                           char *out, size_t len);

/* Describe calls: every reference resolved into out_member, or a MISSING
 * failure with its ARN (the reference itself when it is one); "tags" only
 * with include TAGS. */
void ecs_describe_refs(struct call *c, json_t *refs, const char *cluster,
                       ecs_find_fn find, ecs_arn_fn arn, const char *out_member);

/* List calls: the ARNs (arn_member of each document kept by keep) of the
 * resources of type under parent, one page of maxResults (dflt, at most
 * max) from nextToken on, into out_member, with nextToken when more
 * remain.  0, or -1 with the error set. */
typedef int (*ecs_keep_fn)(json_t *doc, void *arg);
int ecs_list_arns(struct call *c, const char *type, const char *parent,
                  long long dflt, long long max, ecs_keep_fn keep, void *arg,
                  const char *arn_member, const char *out_member);
/* The same with the filter evaluated by SQLite (no document is parsed):
 * for lists whose every filter is an equality (see store_list). */
int ecs_list_arns_where(struct call *c, const char *type, const char *parent,
                        long long dflt, long long max, const struct store_filter *f,
                        const char *arn_path, const char *out_member);

/* ---- capacity providers ---- */

/* The capacity provider a name or ARN names: FARGATE and FARGATE_SPOT
 * (built in) or a stored one, in any status.  New reference or NULL (no
 * error set). */
json_t *ecs_capacity_provider_find(struct call *c, const char *ref);

/* Check the capacity providers and default strategy a cluster is given
 * (CreateCluster, PutClusterCapacityProviders): every provider exists and
 * is ACTIVE, an Auto Scaling group provider belongs to no other cluster,
 * the strategy only names the cluster's providers, one base at most.
 * *providers and *strategy get new normalised lists (names, not ARNs;
 * weight and base filled in).  0, or -1 with the error set. */
int ecs_cluster_providers_check(struct call *c, const char *cluster,
                                json_t *providers, json_t *strategy,
                                json_t **providers_out, json_t **strategy_out);

/* Check a capacityProviderStrategy given to RunTask or CreateService
 * against the cluster's providers (InvalidParameterException "The
 * specified capacity provider strategy cannot contain a capacity provider
 * that is not associated with the cluster. ..." otherwise).  0 or -1. */
int ecs_strategy_check(struct call *c, json_t *cluster, json_t *strategy);

/* Rebuild a cluster's "attachments" (the scaling policy and managed
 * draining attachments of its Auto Scaling group providers) and
 * "attachmentsStatus".  0 or -1. */
int ecs_cluster_attachments(struct call *c, json_t *cluster);

/* ---- cross-area answers for Describe calls ---- */

/* The Cluster shape a Describe call returns for a stored cluster: the
 * stored document with the live counters filled in and, unless flags say
 * otherwise, the include-only members removed.  New reference. */
#define ECS_CV_SETTINGS       (1u << 0)
#define ECS_CV_STATISTICS     (1u << 1)
#define ECS_CV_TAGS           (1u << 2)
#define ECS_CV_ATTACHMENTS    (1u << 3)
#define ECS_CV_CONFIGURATIONS (1u << 4)
#define ECS_CV_ALL            0x1fu
/* Statistics as an empty list, as AWS returns them from mutations. */
#define ECS_CV_NO_COUNTS      (1u << 5)
json_t *ecs_cluster_view(struct call *c, json_t *cluster, unsigned flags);

/* The effective value of an account setting for the caller ("enabled",
 * "disabled", ...): the caller's own, else the account default, else
 * AWS's default.  NULL for an unknown name. */
const char *ecs_account_setting(struct call *c, const char *name, char *buf,
                                size_t len);

#endif
