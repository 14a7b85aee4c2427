/*
 * Client subcommands that talk to a running server over HTTP
 * (client_http.c): `ecslocal status`, `reset` and `logs`.
 */
#include <stdio.h>
#include <string.h>

#include "../api/buf.h"
#include "server.h"

/* Perform one request; prints the body.  Returns the HTTP status or -1. */
static long perform(const struct config *cfg, const char *method, const char *path,
                    int newline)
{
    char url[600], err[700];
    struct buf body;
    snprintf(url, sizeof(url), "%s%s", cfg->endpoint, path);
    buf_init(&body, 1u << 20);
    long status = client_http(method, url, 60, &body, err, sizeof(err));
    if (status < 0) {
        fprintf(stderr, "ecslocal: %s (is the server running?)\n", err);
    } else {
        if (body.data)
            fputs(body.data, status >= 400 ? stderr : stdout);
        if (newline && body.data)
            fputc('\n', status >= 400 ? stderr : stdout);
    }
    buf_free(&body);
    return status;
}

static long request(const struct config *cfg, const char *method, const char *path)
{
    return perform(cfg, method, path, 1);
}

static long request_quiet(const struct config *cfg, const char *path)
{
    return perform(cfg, "GET", path, 0);
}

int client_status(const struct config *cfg)
{
    return request(cfg, "GET", "/_ecslocal/health") == 200 ? 0 : 1;
}

int client_reset(const struct config *cfg)
{
    return request(cfg, "POST", "/_ecslocal/reset") == 200 ? 0 : 1;
}

int client_logs(const struct config *cfg, int argc, char **argv)
{
    char path[700];
    if (argc < 1 || argc > 2) {
        fprintf(stderr, "usage: ecslocal logs TASK [CONTAINER]\n");
        return 2;
    }
    /* A task ARN or its id. */
    const char *task = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (argc == 2)
        snprintf(path, sizeof(path), "/_ecslocal/tasks/%s/logs/%s", task, argv[1]);
    else
        snprintf(path, sizeof(path), "/_ecslocal/tasks/%s/logs", task);
    long status = request_quiet(cfg, path);
    return status == 200 ? 0 : 1;
}
