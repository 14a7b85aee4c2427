/*
 * ecslocal: a local, AWS-compatible emulator of ECS, EC2 networking,
 * ELBv2 and Cloud Map.  This file is the entry point: subcommands, start-up
 * in order (configuration, database, API, HTTP), and a clean shutdown on
 * SIGTERM or SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../api/api.h"
#include "../storage/db.h"
#include "log.h"
#include "server.h"

struct server server;

static int make_dirs(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int server_reset(void)
{
    db_lock(server.db);
    int rc = db_wipe(server.db);
    db_unlock(server.db);
    api_reset_caches();
    if (rc < 0)
        log_error("reset: %s", db_errmsg(server.db));
    else
        log_info("reset: all state wiped");
    return rc;
}

static void on_change(void *arg)
{
    (void)arg;
}

static int serve(void)
{
    char err[512], path[600];
    enum log_level level;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    server.started = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    log_parse_level(server.cfg.log_level, &level);
    log_set_level(level);

    /* Signals are taken synchronously by the main thread; every thread
     * started from here on inherits the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *dbpath = NULL;
    if (!server.cfg.in_memory) {
        if (make_dirs(server.cfg.data_dir) < 0) {
            log_error("--data-dir %s: %s", server.cfg.data_dir, strerror(errno));
            return 1;
        }
        snprintf(path, sizeof(path), "%s/ecslocal.db", server.cfg.data_dir);
        dbpath = path;
    }
    if (db_open(&server.db, dbpath, err, sizeof(err)) < 0) {
        log_error("database: %s", err);
        return 1;
    }
    if (server.cfg.sync_full)
        db_exec(server.db, "PRAGMA synchronous=FULL");

    server.networking = 0;
    snprintf(server.networking_reason, sizeof(server.networking_reason),
             "kernel networking is not built into this version yet; every API "
             "is served without namespaces");

    struct api_config api = {
        .db = server.db,
        .default_account = server.cfg.account,
        .default_region = server.cfg.region,
        .strict_auth = strcmp(server.cfg.auth, "strict") == 0,
        .keys = server.cfg.keys,
        .nkeys = server.cfg.nkeys,
        .on_change = on_change,
        .on_change_arg = NULL,
    };
    if (api_init(&api) < 0 || http_start() < 0) {
        db_close(server.db);
        return 1;
    }
    log_info("ecslocal %s listening on http://%s (state: %s, auth: %s)", ECSL_VERSION,
             server.cfg.listen, server.cfg.in_memory ? "in memory" : dbpath,
             server.cfg.auth);
    if (!server.networking)
        log_warn("networking off: %s", server.networking_reason);

    int sig = 0;
    sigwait(&stop, &sig);
    log_info("signal %d: shutting down", sig);
    http_stop();
    db_close(server.db);
    log_info("stopped");
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = "serve";
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("ecslocal %s\n", ECSL_VERSION);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                     strcmp(argv[1], "help") == 0)) {
        config_usage();
        return 0;
    }
    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        first = 2;
    }
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0;
    if (!rest || config_parse(&server.cfg, argc, argv, first, rest, &nrest) < 0) {
        free(rest);
        return 2;
    }
    int rc;
    if (strcmp(cmd, "serve") == 0) {
        if (nrest) {
            fprintf(stderr, "ecslocal: unexpected argument '%s'\n", rest[0]);
            rc = 2;
        } else {
            rc = serve();
        }
    } else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "reset") == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = strcmp(cmd, "status") == 0 ? client_status(&server.cfg)
                                        : client_reset(&server.cfg);
        curl_global_cleanup();
    } else {
        fprintf(stderr, "ecslocal: unknown command '%s' (see ecslocal --help)\n", cmd);
        rc = 2;
    }
    free(rest);
    return rc;
}
