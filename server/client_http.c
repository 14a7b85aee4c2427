/*
 * The HTTP requests of the client commands (status, reset, logs, exec,
 * port-forward), through libcurl loaded when the first one is made.
 *
 * Why load it then and not link it: the same binary is the server, and
 * libcurl brings some twenty libraries with it (TLS, Kerberos, LDAP, SSH,
 * HTTP/2...) that a server which never makes a request would still map
 * and initialise at every start: about 4 MiB of its resident memory and
 * several milliseconds before its first answer.  systemd loads its
 * optional libraries the same way.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "../api/buf.h"
#include "dl.h"
#include "server.h"

static struct {
    void *lib;
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
} curl;

static int load_curl(char *err, size_t errlen)
{
    if (curl.lib)
        return 0;
    const struct dl_sym syms[] = {
        { (void **)&curl.global_init, "curl_global_init" },
        { (void **)&curl.easy_init, "curl_easy_init" },
        { (void **)&curl.easy_setopt, "curl_easy_setopt" },
        { (void **)&curl.easy_perform, "curl_easy_perform" },
        { (void **)&curl.easy_getinfo, "curl_easy_getinfo" },
        { (void **)&curl.easy_cleanup, "curl_easy_cleanup" },
        { (void **)&curl.easy_strerror, "curl_easy_strerror" },
    };
    void *lib = dl_load("libcurl.so.4", syms, sizeof(syms) / sizeof(syms[0]), err, errlen);
    if (!lib)
        return -1;
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init failed");
        return -1;
    }
    curl.lib = lib;
    return 0;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    buf_add(arg, data, size * n);
    return size * n;
}

long client_http(const char *method, const char *url, long timeout, struct buf *body,
                 char *err, size_t errlen)
{
    if (load_curl(err, errlen) < 0)
        return -1;
    CURL *c = curl.easy_init();
    if (!c) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    curl.easy_setopt(c, CURLOPT_URL, url);
    curl.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0)
        curl.easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl.easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl.easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    /* The server is local: never through a proxy from the environment. */
    curl.easy_setopt(c, CURLOPT_NOPROXY, "*");
    long status = -1;
    CURLcode rc = curl.easy_perform(c);
    if (rc != CURLE_OK)
        snprintf(err, errlen, "%s: %s", url, curl.easy_strerror(rc));
    else
        curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl.easy_cleanup(c);
    return status;
}
