/*
 * The resource store: every AWS resource is a JSON document keyed by
 * (account, region, type, id), with an optional parent (the VPC of a
 * subnet, the cluster of a task) and an optional name that is unique among
 * its siblings (a security group's name in its VPC, a cluster's name).
 *
 * Documents hold the resource in the shape the API returns it (so Describe
 * calls return what they read), plus private members starting with '_'
 * that the serializer never sends because they are not in the model.
 *
 * Addresses are a separate table so that allocating one is a single
 * indexed insert that cannot hand the same value out twice.  Every call
 * here runs inside the caller's transaction.
 */
#ifndef ECSL_STORE_H
#define ECSL_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;

struct scope {
    const char *account;
    const char *region;
};

enum store_result {
    STORE_OK = 0,
    STORE_ERROR = -1,       /* SQLite failed; see db_errmsg */
    STORE_EXISTS = -2,      /* the id, or the name among siblings, is taken */
    STORE_NOT_FOUND = -3,
    STORE_FULL = -4         /* no free address in the pool */
};

/* A new reference to the document, or NULL when there is none. */
json_t *store_get(struct db *db, const struct scope *s, const char *type,
                  const char *id);
/* The same, telling apart STORE_NOT_FOUND and STORE_ERROR (a database
 * that failed, or a document that does not parse); *out is NULL unless
 * STORE_OK. */
int store_read(struct db *db, const struct scope *s, const char *type, const char *id,
               json_t **out);

/* The id of the resource of this type named name under parent, copied into
 * id (idlen bytes); STORE_NOT_FOUND when there is none. */
int store_find_name(struct db *db, const struct scope *s, const char *type,
                    const char *parent, const char *name, char *id,
                    size_t idlen);

/* Insert a new resource; STORE_EXISTS when the id or the name is taken. */
int store_insert(struct db *db, const struct scope *s, const char *type,
                 const char *id, const char *parent, const char *name,
                 json_t *doc);

/* Replace the document of an existing resource (parent and name kept). */
int store_update(struct db *db, const struct scope *s, const char *type,
                 const char *id, json_t *doc);

/* Change the name (NULL: none) of an existing resource. */
int store_rename(struct db *db, const struct scope *s, const char *type,
                 const char *id, const char *name);

int store_delete(struct db *db, const struct scope *s, const char *type,
                 const char *id);

/* Visit the resources of a type in id order, optionally only the children
 * of parent and only ids greater than after.  The callback gets a borrowed
 * document; returning non-zero stops the walk (and is returned). */
typedef int (*store_visit_fn)(json_t *doc, const char *id, void *arg);
int store_each(struct db *db, const struct scope *s, const char *type,
               const char *parent, const char *after, store_visit_fn fn,
               void *arg);

/* The same across every account and region (the reconciler's view). */
typedef int (*store_visit_all_fn)(const struct scope *s, json_t *doc,
                                  const char *id, void *arg);
int store_each_all(struct db *db, const char *type, store_visit_all_fn fn,
                   void *arg);
/* Resources noted during a walk, to be worked on after it (a visitor
 * must not change what is being walked). */
struct store_ref {
    char account[16], region[32], id[600];
};
struct store_refs {
    struct store_ref *list;
    size_t n, cap;
};
/* Returns STORE_ERROR when out of memory. */
int store_refs_add(struct store_refs *r, const struct scope *s, const char *id);

/* Each document of a type in every account and region, unread, with its
 * version: a number that changes whenever the document does.  For a
 * caller that keeps parsed documents and reads (store_get) only those
 * whose version moved; the walk reads the type's index alone. */
typedef int (*store_visit_version_fn)(const struct scope *s, const char *id,
                                      long long version, void *arg);
int store_each_version(struct db *db, const char *type, store_visit_version_fn fn,
                       void *arg);

/* Conditions on a document, evaluated by SQLite on the stored text (no
 * document is parsed for a row that fails them).  Paths are SQLite JSON
 * paths ("$.desiredStatus"). */
#define STORE_MAX_EQ 5
struct store_filter {
    const char *eq_path[STORE_MAX_EQ];   /* document[path] == value; NULL: unused */
    const char *eq_value[STORE_MAX_EQ];
    const char *tail_path, *tail_value; /* document[path] ends with "/" value */
};

/* store_each, visiting only the documents that match f (NULL: all). */
int store_each_where(struct db *db, const struct scope *s, const char *type,
                     const char *parent, const char *after, const struct store_filter *f,
                     store_visit_fn fn, void *arg);

/* Listing without parsing: the ids of the resources (a parent's, or all
 * of the type when parent is NULL; after `after`, in id order) that match
 * f, with the string at value_path of each.  fn returning non-zero stops
 * the walk (and is returned). */
typedef int (*store_list_fn)(const char *id, const char *value, void *arg);
int store_list(struct db *db, const struct scope *s, const char *type,
               const char *parent, const char *after, const struct store_filter *f,
               const char *value_path, store_list_fn fn, void *arg);

long long store_count(struct db *db, const struct scope *s, const char *type,
                      const char *parent);

/* Addresses: integers (IPv4 addresses, ports) taken from a named pool.
 * store_take_lowest takes the lowest free value in [lo, hi]. */
int store_take(struct db *db, const struct scope *s, const char *pool,
               int64_t value, const char *owner);
int store_take_lowest(struct db *db, const struct scope *s, const char *pool,
                      int64_t lo, int64_t hi, const char *owner,
                      int64_t *value);
int store_release(struct db *db, const struct scope *s, const char *pool,
                  int64_t value);
int store_release_owner(struct db *db, const struct scope *s,
                        const char *owner);
long long store_pool_used(struct db *db, const struct scope *s,
                          const char *pool);
/* The owner of a taken value, copied into owner; STORE_NOT_FOUND if free. */
int store_pool_owner(struct db *db, const struct scope *s, const char *pool,
                     int64_t value, char *owner, size_t ownerlen);

/* Every holder of a value in any pool of any account and region (an
 * address: the ENIs that hold it in their subnets); fn returns nonzero to
 * stop. */
typedef int (*store_owner_fn)(const struct scope *s, const char *pool, const char *owner,
                              void *arg);
int store_value_owners(struct db *db, int64_t value, store_owner_fn fn, void *arg);

/* A counter per scope (task definition revisions, ...): increments and
 * returns the new value, starting at 1. */
long long store_next(struct db *db, const struct scope *s, const char *name);

/* A counter that moves whenever a resource of this type is inserted,
 * updated, renamed or deleted (by anyone, committed or not): the
 * reconciler compares it with what it last saw to know, without reading
 * anything, whether the network it built may be out of date.  Types that
 * hash alike share a counter, which only costs an extra look. */
unsigned long store_generation(const char *type);

/* The reconciler's work list: API calls mark a resource whose desired
 * state changed; the reconciler takes the marks of a type (removing them)
 * in its own transaction. */
int store_mark_dirty(struct db *db, const struct scope *s, const char *type,
                     const char *id);
typedef void (*store_dirty_fn)(const struct scope *s, const char *id, void *arg);
int store_take_dirty(struct db *db, const char *type, store_dirty_fn fn,
                     void *arg);

/* Whether this scope's defaults (default VPC, ...) exist; marks them. */
int store_scope_known(struct db *db, const struct scope *s);
int store_scope_mark(struct db *db, const struct scope *s, double now);

#endif
