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


#include "../api/api.h"
#include "../storage/db.h"
#include "dns.h"
#include "listeners.h"
#include "log.h"
#include "netns.h"
#include "placeholder.h"
#include "reconcile.h"
#include "runtime.h"
#include "server.h"
#include "shim.h"


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

static void on_change(void *arg)
{
    (void)arg;
    reconcile_kick();
}

/* Where task directories live: under the data directory, or (in memory)
 * a directory of this process that goes away with it. */
static int runtime_dir_init(char *err, size_t errlen)
{
    if (server.cfg.in_memory) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
            tmp = "/tmp";
        int swept = runtime_sweep_orphans(tmp);
        if (swept)
            log_info("removed what %d killed in-memory ecslocal(s) left behind", swept);
        snprintf(server.runtime_dir, sizeof(server.runtime_dir), "%s/ecsl-run-%d", tmp,
                 (int)getpid());
    } else {
        snprintf(server.runtime_dir, sizeof(server.runtime_dir), "%s/run",
                 server.cfg.data_dir);
    }
    return runtime_init(server.runtime_dir, server.cfg.in_memory, err, errlen);
}

static void detect_networking(void)
{
    if (strcmp(server.cfg.networking, "off") == 0) {
        server.networking = 0;
        snprintf(server.networking_reason, sizeof(server.networking_reason),
                 "--networking off: tasks run without namespaces of their own");
        return;
    }
    server.networking = netns_available(server.networking_reason,
                                        sizeof(server.networking_reason));
    if (!server.networking)
        strncat(server.networking_reason,
                "; every API is served, tasks run without a network of their own",
                sizeof(server.networking_reason) - strlen(server.networking_reason) - 1);
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

    detect_networking();
    if (runtime_dir_init(err, sizeof(err)) < 0) {
        log_error("task runtime: %s", err);
        db_close(server.db);
        return 1;
    }

    struct api_config api = {
        .db = server.db,
        .default_account = server.cfg.account,
        .default_region = server.cfg.region,
        .strict_auth = strcmp(server.cfg.auth, "strict") == 0,
        .auto_instances = server.cfg.auto_instances,
        .keys = server.cfg.keys,
        .nkeys = server.cfg.nkeys,
        .on_change = on_change,
        .on_change_arg = NULL,
    };
    if (api_init(&api) < 0 || http_start() < 0) {
        db_close(server.db);
        return 1;
    }
    if (dns_start(server.cfg.dns_listen, err, sizeof(err)) < 0) {
        log_error("dns: %s", err);
        http_stop();
        db_close(server.db);
        return 1;
    }
    if (listeners_start() < 0 || reconcile_start() < 0) {
        log_error("cannot start the reconciler: %s", strerror(errno));
        http_stop();
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
    /* In memory, nothing could adopt the tasks after a restart: take them
     * down with us.  With a data directory they keep running and the next
     * start adopts them. */
    if (server.cfg.in_memory)
        reconcile_teardown();
    reconcile_stop();
    listeners_stop();
    dns_stop();
    if (server.cfg.in_memory) {
        /* Nothing could adopt these tasks: their supervisors stop them as
         * this process exits; their files go now. */
        runtime_destroy();
    }
    db_close(server.db);
    log_info("stopped");
    return 0;
}

static int run_cleanup(void)
{
    int killed = reconcile_cleanup_host();
    printf("ecslocal cleanup: stopped %d supervisor or pause process(es); removed "
           "ecsl- namespaces\n", killed < 0 ? 0 : killed);
    return killed < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *cmd = "serve";
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "shim") == 0)
        return shim_command(argc, argv);
    if (argc > 1 && strcmp(argv[1], "placeholder") == 0)
        return placeholder_main(argc - 1, argv + 1);
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
    /* exec: everything after "--" is the command, untouched. */
    int cmd_at = argc;
    if (strcmp(cmd, "exec") == 0)
        for (int i = first; i < argc; i++)
            if (strcmp(argv[i], "--") == 0) {
                cmd_at = i;
                break;
            }
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0;
    if (!rest || config_parse(&server.cfg, cmd_at, argv, first, rest, &nrest) < 0) {
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
    } else if (strcmp(cmd, "cleanup") == 0) {
        rc = run_cleanup();
    } else if (strcmp(cmd, "exec") == 0) {
        if (cmd_at >= argc - 1 || nrest < 1 || nrest > 2) {
            fprintf(stderr, "usage: ecslocal exec TASK [CONTAINER] -- COMMAND [ARG...]\n");
            rc = 2;
        } else {
            rc = client_exec(&server.cfg, rest[0], nrest == 2 ? rest[1] : NULL,
                             argc - cmd_at - 1, argv + cmd_at + 1);
        }
    } else if (strcmp(cmd, "port-forward") == 0) {
        rc = client_port_forward(&server.cfg, nrest, rest);
    } else if (strcmp(cmd, "logs") == 0) {
        rc = client_logs(&server.cfg, nrest, rest);
    } else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "reset") == 0) {
        rc = strcmp(cmd, "status") == 0 ? client_status(&server.cfg)
                                        : client_reset(&server.cfg);
    } else {
        fprintf(stderr, "ecslocal: unknown command '%s' (see ecslocal --help)\n", cmd);
        rc = 2;
    }
    free(rest);
    return rc;
}
