/*
 * The HTTP front door: libmicrohttpd, one port for every service.
 *
 * Bodies are collected up to --max-body; a request that announces a larger
 * Content-Length is refused with 413 before its body is read, and a chunked
 * one is cut off when it crosses the limit.  Everything that is not an
 * admin path goes to api_handle, and each request is logged on one line.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../api/api.h"
#include "../api/buf.h"
#include "log.h"
#include "server.h"
#include "tmds.h"

#define MAX_HEADERS 128

struct request_state {
    struct buf body;
    int too_large;
    struct timespec start;
};

struct header_list {
    struct api_header items[MAX_HEADERS];
    size_t n;
};

static struct MHD_Daemon *daemon_handle;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
    (void)kind;
    struct header_list *h = cls;
    if (h->n < MAX_HEADERS) {
        h->items[h->n].name = key;
        h->items[h->n].value = value ? value : "";
        h->n++;
    }
    return MHD_YES;
}

static void add_encoded(struct buf *b, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_addc(b, (char)*p);
        } else {
            buf_addc(b, '%');
            buf_addc(b, hexd[*p >> 4]);
            buf_addc(b, hexd[*p & 15]);
        }
    }
}

/* libmicrohttpd hands out decoded query arguments; rebuild an encoded
 * query string for the form parser and for SigV4 (whose canonical form
 * decodes and re-encodes anyway). */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    (void)kind;
    struct buf *b = cls;
    if (b->len)
        buf_addc(b, '&');
    add_encoded(b, key);
    buf_addc(b, '=');
    if (value)
        add_encoded(b, value);
    return MHD_YES;
}

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1000.0 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, int status,
                                  const char *content_type, char *body,
                                  size_t len, const char *request_id)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (char *)"",
                                        body ? MHD_RESPMEM_MUST_FREE
                                             : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    if (request_id && *request_id) {
        MHD_add_response_header(resp, "x-amzn-RequestId", request_id);
        MHD_add_response_header(resp, "x-amz-request-id", request_id);
    }
    MHD_add_response_header(resp, "Server", "ecslocal");
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* 413 in an envelope every AWS parser understands: JSON for JSON
 * protocols, else EC2's <Response><Errors> which botocore's query parser
 * reads as well. */
static enum MHD_Result too_large(struct MHD_Connection *conn)
{
    char id[37], *body;
    api_uuid(id);
    const char *target = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Target");
    size_t cap = 512;
    body = malloc(cap);
    if (!body)
        return MHD_NO;
    if (target)
        snprintf(body, cap, "{\"__type\":\"RequestEntityTooLargeException\","
                 "\"message\":\"Request body is larger than %lld bytes\"}",
                 server.cfg.max_body);
    else
        snprintf(body, cap, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>"
                 "<Errors><Error><Code>RequestEntityTooLarge</Code><Message>Request "
                 "body is larger than %lld bytes</Message></Error></Errors><RequestID>"
                 "%s</RequestID></Response>", server.cfg.max_body, id);
    log_info("- - 413 body over %lld bytes refused", server.cfg.max_body);
    return send_reply(conn, 413, target ? "application/x-amz-json-1.1" : "text/xml",
                      body, strlen(body), id);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct request_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        buf_init(&st->body, (size_t)server.cfg.max_body + 1);
        clock_gettime(CLOCK_MONOTONIC, &st->start);
        *con_cls = st;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > server.cfg.max_body) {
            st->too_large = 1;
            return too_large(conn);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large) {
            buf_add(&st->body, upload_data, *upload_data_size);
            if (st->body.failed)
                st->too_large = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large)
        return too_large(conn);

    struct http_reply admin = { 0 };
    if (tmds_handle(method, url, &admin)) {
        enum MHD_Result r = send_reply(conn, admin.status, admin.content_type,
                                       admin.body, admin.body_len, NULL);
        log_debug("metadata %s %s %d %.2fms", method, url, admin.status,
                  elapsed_ms(&st->start));
        return r;
    }
    if (admin_handle(method, url, &admin)) {
        enum MHD_Result r = send_reply(conn, admin.status, admin.content_type,
                                       admin.body, admin.body_len, NULL);
        log_info("admin %s %s %d %.2fms", method, url, admin.status,
                 elapsed_ms(&st->start));
        return r;
    }

    struct header_list headers = { .n = 0 };
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &headers);
    struct buf query;
    buf_init(&query, 1u << 20);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &query);
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    char endpoint[300];
    snprintf(endpoint, sizeof(endpoint), "http://%s", host ? host : server.cfg.listen);

    struct api_request rq = {
        method, url, query.data, headers.items, headers.n,
        st->body.data ? st->body.data : "", st->body.len, endpoint,
    };
    struct api_response rs;
    api_handle(&rq, &rs);
    buf_free(&query);
    double ms = elapsed_ms(&st->start);
    if (rs.error_code[0])
        log_info("%s %s %d %.2fms account=%s region=%s error=%s", rs.service[0] ? rs.service : "-",
                 rs.operation[0] ? rs.operation : "-", rs.status, ms, rs.account[0] ? rs.account : "-",
                 rs.region[0] ? rs.region : "-", rs.error_code);
    else
        log_info("%s %s %d %.2fms account=%s region=%s", rs.service, rs.operation,
                 rs.status, ms, rs.account, rs.region);
    return send_reply(conn, rs.status, rs.content_type, rs.body, rs.body_len,
                      rs.request_id);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct request_state *st = *con_cls;
    if (st) {
        buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host))
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -1;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("http: %s", line);
}

int http_start(void)
{
    static struct sockaddr_in sa;
    if (parse_listen(server.cfg.listen, &sa) < 0) {
        log_error("--listen %s: expected IPv4-ADDRESS:PORT", server.cfg.listen);
        return -1;
    }
    daemon_handle = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)server.cfg.threads,
        MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_TIMEOUT, 300u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (!daemon_handle) {
        log_error("cannot listen on %s (in use, or not an address of this machine)",
                  server.cfg.listen);
        return -1;
    }
    return 0;
}

int http_adopt(int fd, const struct sockaddr *addr, unsigned int len)
{
    if (!daemon_handle || MHD_add_connection(daemon_handle, fd, addr, len) != MHD_YES) {
        close(fd);
        return -1;
    }
    return 0;
}

void http_stop(void)
{
    if (daemon_handle)
        MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
}
