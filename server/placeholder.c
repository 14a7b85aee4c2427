/*
 * The built-in placeholder server (`ecslocal placeholder`, flags in
 * placeholder.h): answers every HTTP request on its ports with 200 and a
 * fixed body.  One thread, one poll loop over the listening sockets, the
 * connections and a signalfd; no request is ever held for more than its
 * headers, so memory is bounded by the connection limit.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "placeholder.h"

#define MAX_PORTS 64
#define MAX_CONNS 512
#define REQ_MAX 16384               /* request line + headers */
#define IDLE_MS 60000
#define LINGER_MS 2000              /* reading what a closed client still sends */

struct conn {
    int fd;
    int64_t last;                   /* monotonic ms of the last activity */
    size_t inlen;
    uint64_t body_left;             /* request body bytes still to skip */
    int close_after;                /* after the response in flight */
    int lingering;                  /* answered and shut down: discard input */
    /* The response in flight: hdr, then body (unless HEAD). */
    int responding;
    char hdr[512];
    size_t hdrlen;
    const char *body;
    size_t bodylen;
    size_t sent;
    char in[REQ_MAX];
};

struct placeholder {
    const char *body;
    size_t bodylen;
    const char *content_type;
    int listeners[2 * MAX_PORTS];
    int nlisteners;
    struct conn *conns[MAX_CONNS];
    int nconns;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(void)
{
    fprintf(stderr, "usage: ecslocal placeholder [--port N]... [--body TEXT] "
                    "[--content-type TYPE]\n");
}

static int listen_on(struct placeholder *p, int family, int port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (family == AF_INET6 && errno == EAFNOSUPPORT)
            return 0;               /* no IPv6 here: IPv4 only */
        fprintf(stderr, "placeholder: socket: %s\n", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_any;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        len = sizeof(*a);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
        int e = errno;
        close(fd);
        if (family == AF_INET6 && e == EADDRNOTAVAIL)
            return 0;               /* IPv6 disabled in this namespace */
        fprintf(stderr, "placeholder: cannot listen on %s:%d: %s\n",
                family == AF_INET6 ? "[::]" : "0.0.0.0", port, strerror(e));
        return family == AF_INET6 ? 0 : -1;
    }
    p->listeners[p->nlisteners++] = fd;
    return 0;
}

static void conn_close(struct placeholder *p, int i)
{
    close(p->conns[i]->fd);
    free(p->conns[i]);
    p->conns[i] = p->conns[--p->nconns];
}

static void accept_all(struct placeholder *p, int lfd)
{
    while (p->nconns < MAX_CONNS) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;                 /* EAGAIN, or a transient error: next poll */
        struct conn *c = malloc(sizeof(*c));
        if (!c) {
            close(fd);
            return;
        }
        c->fd = fd;
        c->last = mono_ms();
        c->inlen = 0;
        c->body_left = 0;
        c->close_after = 0;
        c->lingering = 0;
        c->responding = 0;
        p->conns[p->nconns++] = c;
    }
}

/* A header's value if the line is "Name: value" (case-insensitive name). */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

static int has_token(const char *v, size_t len, const char *token)
{
    size_t n = strlen(token);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(v + i, token, n) == 0 && (i == 0 || v[i - 1] == ' ' || v[i - 1] == ',') &&
            (i + n == len || v[i + n] == ' ' || v[i + n] == ','))
            return 1;
    return 0;
}

static void respond(struct placeholder *p, struct conn *c, int status, int head)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    const char *body = status == 200 ? p->body : "Bad Request\n";
    size_t bodylen = status == 200 ? p->bodylen : strlen(body);
    int n = snprintf(c->hdr, sizeof(c->hdr),
                     "HTTP/1.1 %s\r\nServer: ecslocal-placeholder\r\nDate: %s\r\n"
                     "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n",
                     status == 200 ? "200 OK" : status == 431
                         ? "431 Request Header Fields Too Large" : "400 Bad Request",
                     date, status == 200 ? p->content_type : "text/plain; charset=utf-8",
                     bodylen, c->close_after ? "close" : "keep-alive");
    c->hdrlen = n < 0 ? 0 : (size_t)n < sizeof(c->hdr) ? (size_t)n : sizeof(c->hdr) - 1;
    c->body = body;
    c->bodylen = head ? 0 : bodylen;
    c->sent = 0;
    c->responding = 1;
}

/* Parses the next request in c->in, if complete, and starts its answer. */
static void next_request(struct placeholder *p, struct conn *c)
{
    while (!c->responding) {
        if (c->body_left) {
            size_t k = c->body_left < c->inlen ? (size_t)c->body_left : c->inlen;
            memmove(c->in, c->in + k, c->inlen - k);
            c->inlen -= k;
            c->body_left -= k;
            if (c->body_left)
                return;
        }
        size_t skip = 0;                    /* blank lines before a request */
        while (skip < c->inlen && (c->in[skip] == '\r' || c->in[skip] == '\n'))
            skip++;
        if (skip) {
            memmove(c->in, c->in + skip, c->inlen - skip);
            c->inlen -= skip;
        }
        char *end = NULL;
        for (size_t i = 0; i + 1 < c->inlen; i++) {
            if (c->in[i] == '\n' && (c->in[i + 1] == '\n' ||
                                     (c->in[i + 1] == '\r' && i + 2 < c->inlen &&
                                      c->in[i + 2] == '\n'))) {
                end = c->in + i + (c->in[i + 1] == '\n' ? 2 : 3);
                break;
            }
        }
        if (!end) {
            if (c->inlen == REQ_MAX) {
                c->close_after = 1;
                respond(p, c, 431, 0);
            }
            return;
        }
        size_t used = (size_t)(end - c->in);
        char *line = c->in, *nl = memchr(line, '\n', used);
        size_t llen = (size_t)(nl - line);
        char *sp1 = memchr(line, ' ', llen);
        char *sp2 = sp1 ? memchr(sp1 + 1, ' ', llen - (size_t)(sp1 + 1 - line)) : NULL;
        if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
            c->close_after = 1;
            respond(p, c, 400, 0);
            return;
        }
        int head = sp1 - line == 4 && memcmp(line, "HEAD", 4) == 0;
        int http10 = sp2[8] == '0';
        int keep = !http10, close_req = 0, chunked = 0;
        uint64_t length = 0;
        for (char *h = nl + 1; h < end;) {
            char *hn = memchr(h, '\n', (size_t)(end - h));
            size_t hl = (size_t)(hn - h);
            size_t vl;
            const char *v;
            if ((v = header_value(h, hl, "Connection", &vl))) {
                if (has_token(v, vl, "close"))
                    close_req = 1;
                if (has_token(v, vl, "keep-alive"))
                    keep = 1;
            } else if ((v = header_value(h, hl, "Content-Length", &vl))) {
                length = strtoull(v, NULL, 10);
            } else if ((v = header_value(h, hl, "Transfer-Encoding", &vl))) {
                chunked = !(vl == 8 && strncasecmp(v, "identity", 8) == 0);
            }
            h = hn + 1;
        }
        memmove(c->in, c->in + used, c->inlen - used);
        c->inlen -= used;
        c->body_left = chunked ? 0 : length;
        /* A chunked body is not parsed: answer, then close. */
        c->close_after = close_req || !keep || chunked;
        respond(p, c, 200, head);
    }
}

/* Sends what it can; 1 when the connection is finished. */
static int conn_write(struct placeholder *p, struct conn *c)
{
    while (c->responding) {
        struct iovec iov[2];
        int cnt = 0;
        if (c->sent < c->hdrlen)
            iov[cnt++] = (struct iovec){ c->hdr + c->sent, c->hdrlen - c->sent };
        size_t boff = c->sent > c->hdrlen ? c->sent - c->hdrlen : 0;
        if (boff < c->bodylen)
            iov[cnt++] = (struct iovec){ (void *)(c->body + boff), c->bodylen - boff };
        if (cnt == 0) {
            c->responding = 0;
            if (c->close_after) {
                /* Closing with unread input would reset the connection
                 * and could destroy the answer: shut down our side and
                 * read until the client closes (or LINGER_MS). */
                shutdown(c->fd, SHUT_WR);
                c->lingering = 1;
                c->last = mono_ms();
                return 0;
            }
            next_request(p, c);
            continue;
        }
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : 1;
        c->sent += (size_t)w;
    }
    return 0;
}

/* Reads what arrived; 1 when the connection is finished. */
static int conn_read(struct placeholder *p, struct conn *c)
{
    if (c->lingering) {
        ssize_t r = recv(c->fd, c->in, REQ_MAX, 0);
        return r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
    }
    ssize_t r = recv(c->fd, c->in + c->inlen, REQ_MAX - c->inlen, 0);
    if (r == 0)
        return 1;
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : 1;
    c->inlen += (size_t)r;
    next_request(p, c);
    return conn_write(p, c);
}

static int parse_args(struct placeholder *p, int argc, char **argv, int *ports, int *nports)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "placeholder: %s needs a value\n", a);
            usage();
            return -1;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0) {
            char *end;
            long port = strtol(v, &end, 10);
            if (*end || port < 1 || port > 65535 || *nports == MAX_PORTS) {
                fprintf(stderr, "placeholder: bad --port '%s'\n", v);
                return -1;
            }
            ports[(*nports)++] = (int)port;
        } else if (strcmp(a, "--body") == 0) {
            p->body = v;
        } else if (strcmp(a, "--content-type") == 0) {
            p->content_type = v;
        } else {
            fprintf(stderr, "placeholder: unknown option '%s'\n", a);
            usage();
            return -1;
        }
    }
    return 0;
}

static int serve(struct placeholder *p, int sigfd)
{
    struct pollfd pfd[1 + 2 * MAX_PORTS + MAX_CONNS];
    for (;;) {
        int np = 0;
        pfd[np++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
        int accepting = p->nconns < MAX_CONNS;
        for (int i = 0; i < p->nlisteners; i++)
            pfd[np++] = (struct pollfd){ .fd = p->listeners[i], .events = accepting ? POLLIN : 0 };
        int64_t now = mono_ms(), next = INT64_MAX;
        for (int i = 0; i < p->nconns; i++) {
            struct conn *c = p->conns[i];
            pfd[np++] = (struct pollfd){ .fd = c->fd, .events = c->responding ? POLLOUT : POLLIN };
            int64_t idle = c->last + (c->lingering ? LINGER_MS : IDLE_MS);
            if (idle < next)
                next = idle;
        }
        int timeout = next == INT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
        int rc = poll(pfd, (nfds_t)np, timeout);
        if (rc < 0 && errno != EINTR) {
            fprintf(stderr, "placeholder: poll: %s\n", strerror(errno));
            return 1;
        }
        if (rc > 0 && pfd[0].revents) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                printf("placeholder: signal %u, exiting\n", si.ssi_signo);
                return 0;
            }
        }
        now = mono_ms();
        /* Connections first (their pfd slots follow the listeners), from
         * the end so closing one (swap with the last) keeps the rest. */
        int base = 1 + p->nlisteners;
        for (int i = p->nconns - 1; i >= 0; i--) {
            struct conn *c = p->conns[i];
            short ev = rc > 0 ? pfd[base + i].revents : 0;
            int done = 0;
            if (ev & (POLLIN | POLLHUP | POLLERR))
                done = c->responding ? conn_write(p, c) : conn_read(p, c);
            else if (ev & POLLOUT)
                done = conn_write(p, c);
            if (ev && !c->lingering)
                c->last = now;
            if (now >= c->last + (c->lingering ? LINGER_MS : IDLE_MS))
                done = 1;
            if (done)
                conn_close(p, i);
        }
        for (int i = 0; rc > 0 && i < p->nlisteners; i++)
            if (pfd[1 + i].revents & POLLIN)
                accept_all(p, p->listeners[i]);
    }
}

int placeholder_main(int argc, char **argv)
{
    struct placeholder p;
    memset(&p, 0, sizeof(p));
    p.body = "ok\n";
    int ports[MAX_PORTS], nports = 0;
    int rc = parse_args(&p, argc, argv, ports, &nports);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    p.bodylen = strlen(p.body);
    if (!p.content_type) {
        const char *b = p.body;
        while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
            b++;
        p.content_type = *b == '{' || *b == '[' ? "application/json"
                                                : "text/plain; charset=utf-8";
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sigfd < 0) {
        fprintf(stderr, "placeholder: signalfd: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < nports; i++) {
        if (listen_on(&p, AF_INET, ports[i]) < 0 || listen_on(&p, AF_INET6, ports[i]) < 0) {
            for (int k = 0; k < p.nlisteners; k++)
                close(p.listeners[k]);
            close(sigfd);
            return 1;
        }
    }
    printf("placeholder: listening on");
    for (int i = 0; i < nports; i++)
        printf("%s %d", i ? "," : " port(s)", ports[i]);
    printf("%s\n", nports ? "" : " no port");
    fflush(stdout);

    rc = serve(&p, sigfd);
    fflush(stdout);
    while (p.nconns > 0)
        conn_close(&p, p.nconns - 1);
    for (int k = 0; k < p.nlisteners; k++)
        close(p.listeners[k]);
    close(sigfd);
    return rc;
}
