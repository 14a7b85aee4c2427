/*
 * The service models as C tables: services, operations, shapes and errors.
 *
 * Everything here is generated from botocore's service-2.json by
 * api/model/gen.py into api/gen/ and committed, the way Redis commits
 * commands.def.  The protocol parsers and serializers walk these shapes, so
 * a handler sees and returns jansson objects keyed by the model's member
 * names whatever the wire protocol was.
 */
#ifndef ECSL_MODEL_H
#define ECSL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "gen/shape_ids.h"

#define SH__NONE (-1)

enum protocol {
    PROTO_JSON = 0,   /* awsJson1_1: ECS, Cloud Map, Logs */
    PROTO_QUERY,      /* awsQuery: ELBv2, STS */
    PROTO_EC2         /* ec2Query: EC2 */
};

enum service_id {
#define SVC(id, key, proto, target, version, ns, signing) id,
#include "gen/services.def"
#undef SVC
    SVC__COUNT
};

enum shape_type {
    T_STRUCT = 0,
    T_LIST,
    T_MAP,
    T_STRING,
    T_INTEGER,
    T_LONG,
    T_BOOLEAN,
    T_DOUBLE,
    T_TIMESTAMP,
    T_BLOB,
    T_DOCUMENT
};

enum timestamp_format {
    TS_DEFAULT = 0,   /* the protocol's own: epoch for JSON, ISO 8601 for XML */
    TS_ISO8601,
    TS_EPOCH,
    TS_RFC822
};

#define MF_REQUIRED  (1u << 0)
#define MF_XMLATTR   (1u << 1)

#define SF_FLATTENED (1u << 0)
#define SF_HAS_MIN   (1u << 1)
#define SF_HAS_MAX   (1u << 2)
#define SF_EXCEPTION (1u << 3)

struct member {
    const char *name;           /* model member name: the key handlers use */
    int shape;                  /* enum shape_id */
    const char *location_name;  /* wire name (XML element / query key) */
    const char *query_name;     /* EC2 request key, when it differs */
    unsigned flags;             /* MF_* */
};

struct shape {
    const char *name;
    enum shape_type type;
    unsigned flags;             /* SF_* */
    enum timestamp_format ts_format;
    int members_off, nmembers;  /* into model_members, sorted by name */
    int enums_off, nenums;      /* into model_enums */
    int inner;                  /* list member or map key shape */
    int value;                  /* map value shape */
    const char *inner_loc;      /* list member / map key locationName */
    const char *key_loc;
    const char *value_loc;
    const char *pattern;
    long long min, max;
};

struct service {
    enum service_id id;
    const char *key;            /* "ec2", "ecs", ... */
    enum protocol protocol;
    const char *target_prefix;  /* JSON: X-Amz-Target prefix */
    const char *version;        /* apiVersion */
    const char *xml_ns;         /* XML protocols: response namespace */
    const char *signing_name;   /* SigV4 credential scope service */
};

struct call;
typedef int (*op_handler)(struct call *c);

struct operation {
    enum service_id svc;
    const char *name;
    int input;                  /* shape id or SH__NONE */
    int output;
    const char *result_wrapper; /* query protocol <OpResult> */
    op_handler handler;         /* NULL: in the model but not emulated */
    int listed;                 /* in an api/model/ops list (must have a handler) */
};

struct error_def {
    enum service_id svc;
    const char *shape;          /* the exception shape name handlers raise */
    const char *code;           /* the code on the wire */
    int http_status;
    int sender;
};

extern const struct shape model_shapes[SH__COUNT];
extern const struct member model_members[];
extern const char *const model_enums[];

const struct service *model_service(enum service_id id);
const struct service *model_service_by_key(const char *key);
const struct service *model_service_by_target(const char *prefix, size_t len);
const struct service *model_service_by_version(const char *version);
const struct operation *model_operation(enum service_id svc, const char *name);
/* Every operation of every model, sorted by service then name. */
const struct operation *model_operations(size_t *count);
const struct error_def *model_error(enum service_id svc, const char *name);
int model_filter_valid(enum service_id svc, const char *op, const char *filter);

static inline const struct shape *shape_get(int id)
{
    return id >= 0 && id < SH__COUNT ? &model_shapes[id] : NULL;
}

static inline const struct member *shape_member(const struct shape *s, int i)
{
    return &model_members[s->members_off + i];
}

const struct member *shape_find_member(const struct shape *s, const char *name);
int shape_enum_has(const struct shape *s, const char *value);

#endif
