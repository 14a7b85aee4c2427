/*
 * Unit tests of the resource store (storage/store.c) on an in-memory
 * database: address pools, documents, names unique among siblings,
 * counters, scope isolation and rollback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../storage/db.h"
#include "../../storage/store.h"
#include "test.h"

static const struct scope A = { "000000000000", "us-east-1" };
static const struct scope B = { "111111111111", "us-east-1" };
static const struct scope A_WEST = { "000000000000", "us-west-2" };

static struct db *open_db(void)
{
    struct db *db = NULL;
    char err[256] = "";
    if (db_open(&db, NULL, err, sizeof(err)) < 0) {
        test_fail(__FILE__, __LINE__, "db_open(NULL): %s", err);
        return NULL;
    }
    return db;
}

static int insert(struct db *db, const struct scope *s, const char *type,
                  const char *id, const char *parent, const char *name,
                  const char *text)
{
    json_t *d = test_json(text);
    int rc = store_insert(db, s, type, id, parent, name, d);
    json_decref(d);
    return rc;
}

TEST(store, opens_in_memory_at_current_schema)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT(db_schema_version(db) >= 2);
    db_close(db);
}

TEST(store, address_pool_hands_out_lowest_free)
{
    struct db *db = open_db();
    ASSERT(db);
    int64_t v;
    ASSERT_INT_EQ(store_take_lowest(db, &A, "subnet-1", 10, 20, "eni-a", &v), STORE_OK);
    ASSERT_INT_EQ(v, 10);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "subnet-1", 10, 20, "eni-b", &v), STORE_OK);
    ASSERT_INT_EQ(v, 11);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "subnet-1", 10, 20, "eni-c", &v), STORE_OK);
    ASSERT_INT_EQ(v, 12);
    /* A hole below the top is filled first. */
    ASSERT_INT_EQ(store_release(db, &A, "subnet-1", 11), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "subnet-1", 10, 20, "eni-d", &v), STORE_OK);
    ASSERT_INT_EQ(v, 11);
    ASSERT_INT_EQ(store_pool_used(db, &A, "subnet-1"), 3);

    char owner[64];
    ASSERT_INT_EQ(store_pool_owner(db, &A, "subnet-1", 11, owner, sizeof(owner)),
                  STORE_OK);
    ASSERT_STR_EQ(owner, "eni-d");
    ASSERT_INT_EQ(store_pool_owner(db, &A, "subnet-1", 13, owner, sizeof(owner)),
                  STORE_NOT_FOUND);
    db_close(db);
}

TEST(store, address_taken_explicitly_is_never_handed_out_again)
{
    struct db *db = open_db();
    ASSERT(db);
    int64_t v;
    ASSERT_INT_EQ(store_take(db, &A, "p", 5, "eni-fixed"), STORE_OK);
    ASSERT_INT_EQ(store_take(db, &A, "p", 5, "eni-other"), STORE_EXISTS);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "p", 4, 8, "eni-x", &v), STORE_OK);
    ASSERT_INT_EQ(v, 4);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "p", 4, 8, "eni-y", &v), STORE_OK);
    ASSERT_INT_EQ(v, 6);
    db_close(db);
}

TEST(store, address_pool_never_gives_a_value_twice)
{
    struct db *db = open_db();
    ASSERT(db);
    enum { LO = 100, HI = 355 };
    char seen[HI - LO + 1] = { 0 };
    for (int i = LO; i <= HI; i++) {
        int64_t v;
        char owner[32];
        snprintf(owner, sizeof(owner), "eni-%d", i);
        ASSERT_INT_EQ(store_take_lowest(db, &A, "big", LO, HI, owner, &v), STORE_OK);
        ASSERT(v >= LO && v <= HI);
        if (seen[v - LO])
            FAIL("value %lld handed out twice", (long long)v);
        seen[v - LO] = 1;
    }
    int64_t v = -1;
    ASSERT_INT_EQ(store_take_lowest(db, &A, "big", LO, HI, "eni-late", &v), STORE_FULL);
    ASSERT_INT_EQ(v, -1);
    ASSERT_INT_EQ(store_pool_used(db, &A, "big"), HI - LO + 1);
    db_close(db);
}

TEST(store, full_pool_and_release)
{
    struct db *db = open_db();
    ASSERT(db);
    int64_t v;
    ASSERT_INT_EQ(store_take_lowest(db, &A, "tiny", 1, 2, "a", &v), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "tiny", 1, 2, "b", &v), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "tiny", 1, 2, "c", &v), STORE_FULL);
    ASSERT_INT_EQ(store_release(db, &A, "tiny", 2), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "tiny", 1, 2, "c", &v), STORE_OK);
    ASSERT_INT_EQ(v, 2);
    /* Releasing a free value is harmless. */
    ASSERT_INT_EQ(store_release(db, &A, "tiny", 99), STORE_OK);
    /* An empty range is full at once. */
    ASSERT_INT_EQ(store_take_lowest(db, &A, "tiny", 5, 4, "d", &v), STORE_FULL);
    db_close(db);
}

TEST(store, release_owner_frees_all_of_its_values)
{
    struct db *db = open_db();
    ASSERT(db);
    int64_t v;
    ASSERT_INT_EQ(store_take_lowest(db, &A, "s1", 1, 9, "eni-1", &v), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "s1", 1, 9, "eni-2", &v), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "s1", 1, 9, "eni-1", &v), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "s2", 1, 9, "eni-1", &v), STORE_OK);
    ASSERT_INT_EQ(store_release_owner(db, &A, "eni-1"), STORE_OK);
    ASSERT_INT_EQ(store_pool_used(db, &A, "s1"), 1);
    ASSERT_INT_EQ(store_pool_used(db, &A, "s2"), 0);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "s1", 1, 9, "eni-3", &v), STORE_OK);
    ASSERT_INT_EQ(v, 1);
    db_close(db);
}

TEST(store, pools_are_per_scope_and_per_pool)
{
    struct db *db = open_db();
    ASSERT(db);
    int64_t v;
    ASSERT_INT_EQ(store_take_lowest(db, &A, "subnet-1", 4, 10, "x", &v), STORE_OK);
    ASSERT_INT_EQ(v, 4);
    ASSERT_INT_EQ(store_take_lowest(db, &B, "subnet-1", 4, 10, "x", &v), STORE_OK);
    ASSERT_INT_EQ(v, 4);
    ASSERT_INT_EQ(store_take_lowest(db, &A_WEST, "subnet-1", 4, 10, "x", &v), STORE_OK);
    ASSERT_INT_EQ(v, 4);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "subnet-2", 4, 10, "x", &v), STORE_OK);
    ASSERT_INT_EQ(v, 4);
    ASSERT_INT_EQ(store_release_owner(db, &B, "x"), STORE_OK);
    ASSERT_INT_EQ(store_pool_used(db, &A, "subnet-1"), 1);
    db_close(db);
}

TEST(store, documents_round_trip)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT_INT_EQ(insert(db, &A, "vpc", "vpc-1", NULL, NULL,
                         "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.0.0/16\","
                         "\"IsDefault\":false,\"_private\":{\"n\":1},"
                         "\"Created\":1700000000.125}"), STORE_OK);
    json_t *got = store_get(db, &A, "vpc", "vpc-1");
    ASSERT_JSON_EQ(got, "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.0.0/16\","
                        "\"IsDefault\":false,\"_private\":{\"n\":1},"
                        "\"Created\":1700000000.125}");
    json_decref(got);

    ASSERT_NULL(store_get(db, &A, "vpc", "vpc-2"));
    ASSERT_NULL(store_get(db, &A, "subnet", "vpc-1"));
    ASSERT_NULL(store_get(db, &B, "vpc", "vpc-1"));

    json_t *d = test_json("{\"VpcId\":\"vpc-1\",\"State\":\"available\"}");
    ASSERT_INT_EQ(store_update(db, &A, "vpc", "vpc-1", d), STORE_OK);
    ASSERT_INT_EQ(store_update(db, &A, "vpc", "vpc-9", d), STORE_NOT_FOUND);
    json_decref(d);
    got = store_get(db, &A, "vpc", "vpc-1");
    ASSERT_JSON_EQ(got, "{\"VpcId\":\"vpc-1\",\"State\":\"available\"}");
    json_decref(got);

    ASSERT_INT_EQ(store_delete(db, &A, "vpc", "vpc-1"), STORE_OK);
    ASSERT_INT_EQ(store_delete(db, &A, "vpc", "vpc-1"), STORE_NOT_FOUND);
    ASSERT_NULL(store_get(db, &A, "vpc", "vpc-1"));
    db_close(db);
}

TEST(store, ids_are_unique_per_scope_and_type)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT_INT_EQ(insert(db, &A, "vpc", "vpc-1", NULL, NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "vpc", "vpc-1", NULL, NULL, "{}"), STORE_EXISTS);
    ASSERT_INT_EQ(insert(db, &A, "subnet", "vpc-1", NULL, NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &B, "vpc", "vpc-1", NULL, NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A_WEST, "vpc", "vpc-1", NULL, NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(store_count(db, &A, "vpc", NULL), 1);
    db_close(db);
}

TEST(store, names_are_unique_among_siblings)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT_INT_EQ(insert(db, &A, "sg", "sg-1", "vpc-1", "web", "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "sg", "sg-2", "vpc-1", "web", "{}"), STORE_EXISTS);
    /* Same name under another parent, type or scope is fine. */
    ASSERT_INT_EQ(insert(db, &A, "sg", "sg-3", "vpc-2", "web", "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "tg", "tg-1", "vpc-1", "web", "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &B, "sg", "sg-1", "vpc-1", "web", "{}"), STORE_OK);
    /* Without a parent, names are unique among the parentless. */
    ASSERT_INT_EQ(insert(db, &A, "cluster", "c-1", NULL, "default", "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "cluster", "c-2", NULL, "default", "{}"), STORE_EXISTS);
    /* Unnamed resources never collide. */
    ASSERT_INT_EQ(insert(db, &A, "eni", "eni-1", "subnet-1", NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "eni", "eni-2", "subnet-1", NULL, "{}"), STORE_OK);

    char id[64];
    ASSERT_INT_EQ(store_find_name(db, &A, "sg", "vpc-1", "web", id, sizeof(id)), STORE_OK);
    ASSERT_STR_EQ(id, "sg-1");
    ASSERT_INT_EQ(store_find_name(db, &A, "sg", "vpc-2", "web", id, sizeof(id)), STORE_OK);
    ASSERT_STR_EQ(id, "sg-3");
    ASSERT_INT_EQ(store_find_name(db, &A, "sg", "vpc-3", "web", id, sizeof(id)),
                  STORE_NOT_FOUND);
    ASSERT_INT_EQ(store_find_name(db, &A, "cluster", NULL, "default", id, sizeof(id)),
                  STORE_OK);
    ASSERT_STR_EQ(id, "c-1");

    /* A deleted resource's name is free again. */
    ASSERT_INT_EQ(store_delete(db, &A, "sg", "sg-1"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "sg", "sg-4", "vpc-1", "web", "{}"), STORE_OK);
    db_close(db);
}

TEST(store, rename_keeps_names_unique)
{
    struct db *db = open_db();
    ASSERT(db);
    char id[64];
    ASSERT_INT_EQ(insert(db, &A, "lb", "lb-1", NULL, "one", "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "lb", "lb-2", NULL, "two", "{}"), STORE_OK);
    ASSERT_INT_EQ(store_rename(db, &A, "lb", "lb-2", "one"), STORE_EXISTS);
    ASSERT_INT_EQ(store_rename(db, &A, "lb", "lb-2", "three"), STORE_OK);
    ASSERT_INT_EQ(store_find_name(db, &A, "lb", NULL, "three", id, sizeof(id)), STORE_OK);
    ASSERT_STR_EQ(id, "lb-2");
    ASSERT_INT_EQ(store_find_name(db, &A, "lb", NULL, "two", id, sizeof(id)),
                  STORE_NOT_FOUND);
    ASSERT_INT_EQ(store_rename(db, &A, "lb", "lb-1", NULL), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "lb", "lb-3", NULL, "one", "{}"), STORE_OK);
    db_close(db);
}

struct walk {
    char ids[16][32];
    int n;
    int stop_after;
};

static int collect(json_t *d, const char *id, void *arg)
{
    struct walk *w = arg;
    (void)d;
    if (w->n < 16)
        snprintf(w->ids[w->n], sizeof(w->ids[0]), "%s", id);
    w->n++;
    return w->stop_after && w->n >= w->stop_after ? 42 : 0;
}

TEST(store, each_walks_in_id_order_with_parent_and_after)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT_INT_EQ(insert(db, &A, "subnet", "subnet-c", "vpc-1", NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "subnet", "subnet-a", "vpc-1", NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "subnet", "subnet-b", "vpc-2", NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "subnet", "subnet-d", "vpc-1", NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &B, "subnet", "subnet-0", "vpc-1", NULL, "{}"), STORE_OK);

    struct walk w = { 0 };
    ASSERT_INT_EQ(store_each(db, &A, "subnet", NULL, NULL, collect, &w), 0);
    ASSERT_INT_EQ(w.n, 4);
    ASSERT_STR_EQ(w.ids[0], "subnet-a");
    ASSERT_STR_EQ(w.ids[1], "subnet-b");
    ASSERT_STR_EQ(w.ids[3], "subnet-d");

    memset(&w, 0, sizeof(w));
    ASSERT_INT_EQ(store_each(db, &A, "subnet", "vpc-1", NULL, collect, &w), 0);
    ASSERT_INT_EQ(w.n, 3);
    ASSERT_STR_EQ(w.ids[0], "subnet-a");
    ASSERT_STR_EQ(w.ids[1], "subnet-c");
    ASSERT_STR_EQ(w.ids[2], "subnet-d");

    /* Keyset paging: everything after the last id seen. */
    memset(&w, 0, sizeof(w));
    ASSERT_INT_EQ(store_each(db, &A, "subnet", "vpc-1", "subnet-a", collect, &w), 0);
    ASSERT_INT_EQ(w.n, 2);
    ASSERT_STR_EQ(w.ids[0], "subnet-c");

    /* A visitor's non-zero return stops the walk and is returned. */
    memset(&w, 0, sizeof(w));
    w.stop_after = 2;
    ASSERT_INT_EQ(store_each(db, &A, "subnet", NULL, NULL, collect, &w), 42);
    ASSERT_INT_EQ(w.n, 2);

    ASSERT_INT_EQ(store_count(db, &A, "subnet", NULL), 4);
    ASSERT_INT_EQ(store_count(db, &A, "subnet", "vpc-1"), 3);
    ASSERT_INT_EQ(store_count(db, &A, "subnet", "vpc-9"), 0);
    ASSERT_INT_EQ(store_count(db, &B, "subnet", NULL), 1);
    db_close(db);
}

static int delete_visited(json_t *d, const char *id, void *arg)
{
    struct db *db = arg;
    (void)d;
    return store_delete(db, &A, "eni", id) == STORE_OK ? 0 : 1;
}

TEST(store, visitor_may_delete_what_it_visits)
{
    struct db *db = open_db();
    ASSERT(db);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof(id), "eni-%d", i);
        ASSERT_INT_EQ(insert(db, &A, "eni", id, NULL, NULL, "{}"), STORE_OK);
    }
    ASSERT_INT_EQ(store_each(db, &A, "eni", NULL, NULL, delete_visited, db), 0);
    ASSERT_INT_EQ(store_count(db, &A, "eni", NULL), 0);
    db_close(db);
}

struct all_walk {
    int n;
    char last[64];
};

static int collect_all(const struct scope *s, json_t *d, const char *id, void *arg)
{
    struct all_walk *w = arg;
    (void)d;
    snprintf(w->last, sizeof(w->last), "%s/%s/%s", s->account, s->region, id);
    w->n++;
    return 0;
}

TEST(store, each_all_crosses_scopes)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT_INT_EQ(insert(db, &A, "task", "t-1", NULL, NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &B, "task", "t-2", NULL, NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A_WEST, "task", "t-3", NULL, NULL, "{}"), STORE_OK);
    ASSERT_INT_EQ(insert(db, &A, "other", "o-1", NULL, NULL, "{}"), STORE_OK);
    struct all_walk w = { 0 };
    ASSERT_INT_EQ(store_each_all(db, "task", collect_all, &w), 0);
    ASSERT_INT_EQ(w.n, 3);
    ASSERT_STR_EQ(w.last, "111111111111/us-east-1/t-2");
    db_close(db);
}

TEST(store, counters_count_per_scope_and_name)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT_INT_EQ(store_next(db, &A, "family:web"), 1);
    ASSERT_INT_EQ(store_next(db, &A, "family:web"), 2);
    ASSERT_INT_EQ(store_next(db, &A, "family:web"), 3);
    ASSERT_INT_EQ(store_next(db, &A, "family:db"), 1);
    ASSERT_INT_EQ(store_next(db, &B, "family:web"), 1);
    ASSERT_INT_EQ(store_next(db, &A_WEST, "family:web"), 1);
    ASSERT_INT_EQ(store_next(db, &A, "family:web"), 4);
    db_close(db);
}

TEST(store, scopes_are_marked_once)
{
    struct db *db = open_db();
    ASSERT(db);
    ASSERT_INT_EQ(store_scope_known(db, &A), 0);
    ASSERT_INT_EQ(store_scope_mark(db, &A, 1700000000.0), STORE_OK);
    ASSERT_INT_EQ(store_scope_mark(db, &A, 1700000001.0), STORE_OK);
    ASSERT_INT_EQ(store_scope_known(db, &A), 1);
    ASSERT_INT_EQ(store_scope_known(db, &B), 0);
    ASSERT_INT_EQ(store_scope_known(db, &A_WEST), 0);
    db_close(db);
}

TEST(store, rollback_undoes_everything)
{
    /* What the dispatcher relies on: a failed call changes nothing. */
    struct db *db = open_db();
    ASSERT(db);
    int64_t v;
    db_lock(db);
    ASSERT_INT_EQ(db_begin(db), 0);
    ASSERT_INT_EQ(insert(db, &A, "vpc", "vpc-keep", NULL, "keep", "{}"), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "p", 1, 9, "keep", &v), STORE_OK);
    ASSERT_INT_EQ(store_next(db, &A, "n"), 1);
    ASSERT_INT_EQ(db_commit(db), 0);

    long long before = db_total_changes(db);
    ASSERT_INT_EQ(db_begin(db), 0);
    ASSERT_INT_EQ(insert(db, &A, "vpc", "vpc-gone", NULL, "gone", "{}"), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "p", 1, 9, "gone", &v), STORE_OK);
    ASSERT_INT_EQ(v, 2);
    ASSERT_INT_EQ(store_next(db, &A, "n"), 2);
    ASSERT_INT_EQ(store_delete(db, &A, "vpc", "vpc-keep"), STORE_OK);
    ASSERT(db_total_changes(db) > before);
    db_rollback(db);
    db_unlock(db);

    json_t *kept = store_get(db, &A, "vpc", "vpc-keep");
    ASSERT(kept);
    json_decref(kept);
    ASSERT_NULL(store_get(db, &A, "vpc", "vpc-gone"));
    ASSERT_INT_EQ(store_pool_used(db, &A, "p"), 1);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "p", 1, 9, "again", &v), STORE_OK);
    ASSERT_INT_EQ(v, 2);
    ASSERT_INT_EQ(store_next(db, &A, "n"), 2);
    db_close(db);
}

TEST(store, wipe_empties_every_table)
{
    struct db *db = open_db();
    ASSERT(db);
    int64_t v;
    ASSERT_INT_EQ(insert(db, &A, "vpc", "vpc-1", NULL, "x", "{}"), STORE_OK);
    ASSERT_INT_EQ(store_take_lowest(db, &A, "p", 1, 9, "o", &v), STORE_OK);
    ASSERT_INT_EQ(store_next(db, &A, "n"), 1);
    ASSERT_INT_EQ(store_scope_mark(db, &A, 1.0), STORE_OK);
    db_lock(db);
    ASSERT_INT_EQ(db_wipe(db), 0);
    db_unlock(db);
    ASSERT_INT_EQ(store_count(db, &A, "vpc", NULL), 0);
    ASSERT_INT_EQ(store_pool_used(db, &A, "p"), 0);
    ASSERT_INT_EQ(store_next(db, &A, "n"), 1);
    ASSERT_INT_EQ(store_scope_known(db, &A), 0);
    db_close(db);
}
