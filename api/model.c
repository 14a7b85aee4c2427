/*
 * Lookups over the generated model tables.
 *
 * The tables are static arrays built from the api/gen .def files (X-macros) and
 * api/gen/shapes.c.  Operations are found by binary search over a copy
 * sorted once at start-up, so dispatch costs O(log n) string compares.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "gen/handlers.h"

static const struct service services[SVC__COUNT] = {
#define SVC(id, key, proto, target, version, ns, signing) \
    [id] = { id, key, proto, target, version, ns, signing },
#include "gen/services.def"
#undef SVC
};

static struct operation operations[] = {
#define OP(svc, name, in, out, wrap, fn) { svc, name, in, out, wrap, fn, 1 },
#include "gen/ops.def"
#undef OP
#define NOOP(svc, name) { svc, name, SH__NONE, SH__NONE, NULL, NULL, 0 },
#include "gen/noops.def"
#undef NOOP
};

static const struct error_def errors[] = {
#define ERR(svc, shape, code, status, sender) { svc, shape, code, status, sender },
#include "gen/errors.def"
#undef ERR
};

struct filter_def {
    enum service_id svc;
    const char *op;
    const char *name;
};

static const struct filter_def filters[] = {
#define FILTER(svc, op, name) { svc, op, name },
#include "gen/filters.def"
#undef FILTER
    { SVC__COUNT, NULL, NULL }
};

#define NOPS (sizeof(operations) / sizeof(operations[0]))

static int compare_ops(const void *a, const void *b)
{
    const struct operation *x = a, *y = b;
    if (x->svc != y->svc)
        return x->svc < y->svc ? -1 : 1;
    return strcmp(x->name, y->name);
}

static pthread_once_t sort_once = PTHREAD_ONCE_INIT;

static void sort_operations(void)
{
    qsort(operations, NOPS, sizeof(operations[0]), compare_ops);
}

const struct service *model_service(enum service_id id)
{
    return id < SVC__COUNT ? &services[id] : NULL;
}

const struct service *model_service_by_key(const char *key)
{
    for (int i = 0; i < SVC__COUNT; i++)
        if (strcmp(services[i].key, key) == 0 ||
            strcmp(services[i].signing_name, key) == 0)
            return &services[i];
    return NULL;
}

const struct service *model_service_by_target(const char *prefix, size_t len)
{
    for (int i = 0; i < SVC__COUNT; i++) {
        const char *t = services[i].target_prefix;
        if (t && strlen(t) == len && memcmp(t, prefix, len) == 0)
            return &services[i];
    }
    return NULL;
}

const struct service *model_service_by_version(const char *version)
{
    for (int i = 0; i < SVC__COUNT; i++)
        if (services[i].protocol != PROTO_JSON &&
            strcmp(services[i].version, version) == 0)
            return &services[i];
    return NULL;
}

const struct operation *model_operation(enum service_id svc, const char *name)
{
    pthread_once(&sort_once, sort_operations);
    struct operation key = { .svc = svc, .name = name };
    return bsearch(&key, operations, NOPS, sizeof(operations[0]), compare_ops);
}

const struct operation *model_operations(size_t *count)
{
    pthread_once(&sort_once, sort_operations);
    *count = NOPS;
    return operations;
}

const struct error_def *model_error(enum service_id svc, const char *name)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].svc == svc && strcmp(errors[i].shape, name) == 0)
            return &errors[i];
    return NULL;
}

int model_filter_valid(enum service_id svc, const char *op, const char *filter)
{
    for (const struct filter_def *f = filters; f->op; f++) {
        if (f->svc != svc || strcmp(f->op, op) != 0)
            continue;
        if (strcmp(f->name, filter) == 0)
            return 1;
        /* "tag" in the documentation stands for "tag:<key>". */
        if (strcmp(f->name, "tag") == 0 && strncmp(filter, "tag:", 4) == 0 &&
            filter[4] != '\0')
            return 1;
    }
    return 0;
}

const struct member *shape_find_member(const struct shape *s, const char *name)
{
    int lo = 0, hi = s->nmembers - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const struct member *m = shape_member(s, mid);
        int cmp = strcmp(name, m->name);
        if (cmp == 0)
            return m;
        if (cmp < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int shape_enum_has(const struct shape *s, const char *value)
{
    for (int i = 0; i < s->nenums; i++)
        if (strcmp(model_enums[s->enums_off + i], value) == 0)
            return 1;
    return 0;
}
