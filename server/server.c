/*
 * The running server's shared state and what resets it (POST
 * /_ecslocal/reset).  Kept apart from main() so the unit tests, which
 * have a main of their own, link everything else.
 */
#include "../api/api.h"
#include "../storage/db.h"
#include "log.h"
#include "reconcile.h"
#include "server.h"

struct server server;

int server_reset(void)
{
    /* Everything built for the state goes first, so nothing of it is
     * left running once the reset is acknowledged. */
    reconcile_teardown();
    db_lock(server.db);
    int rc = db_wipe(server.db);
    db_unlock(server.db);
    api_reset_caches();
    reconcile_resume();
    if (rc < 0)
        log_error("reset: %s", db_errmsg(server.db));
    else
        log_info("reset: all state wiped");
    return rc;
}
