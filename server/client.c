/*
 * Client subcommands that talk to a running server over HTTP (libcurl):
 * `ecslocal status` and `ecslocal reset`.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "../api/buf.h"
#include "server.h"

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    buf_add(arg, data, size * n);
    return size * n;
}

/* Perform one request; prints the body.  Returns the HTTP status or -1. */
static long perform(const struct config *cfg, const char *method, const char *path,
                    int newline)
{
    char url[600];
    struct buf body;
    long status = -1;
    snprintf(url, sizeof(url), "%s%s", cfg->endpoint, path);
    buf_init(&body, 1u << 20);
    CURL *curl = curl_easy_init();
    if (!curl)
        return -1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "ecslocal: %s: %s (is the server running?)\n", url,
                curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (body.data)
            fputs(body.data, status >= 400 ? stderr : stdout);
        if (newline && body.data)
            fputc('\n', status >= 400 ? stderr : stdout);
    }
    curl_easy_cleanup(curl);
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
