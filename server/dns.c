/*
 * The DNS server (see dns.h): wire format through ldns, one thread, epoll
 * over every UDP and TCP socket (the host's and one pair per VPC).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../api/cidr.h"
#include "../storage/db.h"
#include "../storage/store.h"
#include "dns.h"
#include "ldns_lazy.h"
#include "log.h"
#include "netns.h"
#include "server.h"

#define TTL 60

struct dns_sock {
    int fd;
    int tcp;
    int host;                   /* the host listener: every scope */
    char key[40];               /* VPC hex id, "" for the host */
    char account[16], region[32], vpc[32];
    struct dns_sock *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_sock *socks;
static int epfd = -1, wakefd = -1, running;
static pthread_t thread;

struct view {
    int host;
    char account[16], region[32], vpc[32];
};

/* ---- lookups ---- */

struct ip_search {
    uint32_t ip;
    const struct view *v;
    int found;
    char region[32];            /* of the ENI found */
};

static int eni_has_ip(json_t *eni, uint32_t ip)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(eni, "PrivateIpAddresses"), i, a) {
        uint32_t v;
        const char *s = json_string_value(json_object_get(a, "PrivateIpAddress"));
        if (s && ip_parse(s, &v) == 0 && v == ip)
            return 1;
    }
    return 0;
}

static int match_eni(const struct scope *s, json_t *eni, const char *id, void *arg)
{
    (void)id;
    struct ip_search *q = arg;
    if (!q->v->host) {
        const char *vpc = json_string_value(json_object_get(eni, "VpcId"));
        if (strcmp(s->account, q->v->account) != 0 || strcmp(s->region, q->v->region) != 0 ||
            !vpc || strcmp(vpc, q->v->vpc) != 0)
            return 0;
    } else if (q->v->region[0] && strcmp(s->region, q->v->region) != 0) {
        return 0;
    }
    if (!eni_has_ip(eni, q->ip))
        return 0;
    q->found = 1;
    snprintf(q->region, sizeof(q->region), "%s", s->region);
    return 1;
}

/* The ENI holding q->ip that the view can see: through the addresses
 * table (indexed by value), so a query reads the few ENIs that hold the
 * address, not every ENI. */
static int check_owner(const struct scope *s, const char *pool, const char *owner, void *arg)
{
    (void)pool;
    if (strncmp(owner, "eni-", 4) != 0)
        return 0;
    json_t *eni = store_get(server.db, s, "network-interface", owner);
    int stop = eni ? match_eni(s, eni, owner, arg) : 0;
    json_decref(eni);
    return stop;
}

static void find_eni(struct ip_search *q)
{
    store_value_owners(server.db, q->ip, check_owner, q);
}

static int vpc_dns_enabled(const struct view *v)
{
    struct scope s = { v->account, v->region };
    json_t *vpc = store_get(server.db, &s, "vpc", v->vpc);
    int on = !vpc || !json_is_false(json_object_get(vpc, "_EnableDnsSupport"));
    json_decref(vpc);
    return on;
}

/* "ip-10-0-1-5.ec2.internal" or "ip-10-0-1-5.REGION.compute.internal":
 * the address, and the region the name belongs to. */
static int parse_private_name(const char *name, uint32_t *ip, char *region, size_t len)
{
    unsigned a, b, c, d;
    int n = 0;
    if (strncasecmp(name, "ip-", 3) != 0 ||
        sscanf(name + 3, "%u-%u-%u-%u%n", &a, &b, &c, &d, &n) != 4 ||
        a > 255 || b > 255 || c > 255 || d > 255)
        return -1;
    const char *rest = name + 3 + n;
    if (*rest != '.')
        return -1;
    rest++;
    if (strcasecmp(rest, "ec2.internal") == 0) {
        snprintf(region, len, "us-east-1");
    } else {
        const char *dot = strchr(rest, '.');
        if (!dot || strcasecmp(dot + 1, "compute.internal") != 0 ||
            (size_t)(dot - rest) >= len)
            return -1;
        memcpy(region, rest, (size_t)(dot - rest));
        region[dot - rest] = '\0';
    }
    *ip = (a << 24) | (b << 16) | (c << 8) | d;
    return 0;
}

static int parse_reverse(const char *name, uint32_t *ip)
{
    unsigned a, b, c, d;
    int n = 0;
    if (sscanf(name, "%u.%u.%u.%u.%n", &d, &c, &b, &a, &n) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255 || strcasecmp(name + n, "in-addr.arpa") != 0)
        return -1;
    *ip = (a << 24) | (b << 16) | (c << 8) | d;
    return 0;
}

static int owned_zone(const char *name)
{
    size_t n = strlen(name);
    static const char *const zones[] = { "ec2.internal", "compute.internal", "in-addr.arpa" };
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        size_t z = strlen(zones[i]);
        if (n >= z && strcasecmp(name + n - z, zones[i]) == 0 &&
            (n == z || name[n - z - 1] == '.'))
            return 1;
    }
    return 0;
}

/* Fill the answer section; returns the response code. */
static int resolve(const struct view *v, const char *qname, ldns_rr_type type, ldns_pkt *resp)
{
    char name[300], region[32], text[400];
    snprintf(name, sizeof(name), "%s", qname);
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        name[n - 1] = '\0';
    uint32_t ip;
    int rcode = owned_zone(name) ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_REFUSED;
    db_lock(server.db);
    if (!v->host && !vpc_dns_enabled(v)) {
        db_unlock(server.db);
        return LDNS_RCODE_REFUSED;
    }
    if (parse_private_name(name, &ip, region, sizeof(region)) == 0) {
        struct view scoped = *v;
        if (v->host)
            snprintf(scoped.region, sizeof(scoped.region), "%s", region);
        struct ip_search q = { ip, &scoped, 0, "" };
        if (v->host || strcmp(region, v->region) == 0)
            find_eni(&q);
        if (q.found) {
            rcode = LDNS_RCODE_NOERROR;
            if (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_ANY) {
                char addr[16];
                ip_format(ip, addr, sizeof(addr));
                snprintf(text, sizeof(text), "%s. %d IN A %s", name, TTL, addr);
                ldns_rr *rr = NULL;
                if (ldns_rr_new_frm_str(&rr, text, TTL, NULL, NULL) == LDNS_STATUS_OK)
                    ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, rr);
            }
        }
    } else if (parse_reverse(name, &ip) == 0) {
        struct ip_search q = { ip, v, 0, "" };
        find_eni(&q);
        if (q.found) {
            rcode = LDNS_RCODE_NOERROR;
            if (type == LDNS_RR_TYPE_PTR || type == LDNS_RR_TYPE_ANY) {
                const char *r = q.region;
                if (strcmp(r, "us-east-1") == 0)
                    snprintf(text, sizeof(text), "%s. %d IN PTR ip-%u-%u-%u-%u.ec2.internal.", name,
                             TTL, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
                else
                    snprintf(text, sizeof(text), "%s. %d IN PTR ip-%u-%u-%u-%u.%s.compute.internal.",
                             name, TTL, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, r);
                ldns_rr *rr = NULL;
                if (ldns_rr_new_frm_str(&rr, text, TTL, NULL, NULL) == LDNS_STATUS_OK)
                    ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, rr);
            }
        }
    }
    db_unlock(server.db);
    return rcode;
}

/* A response to the query in buf, in a new wire buffer. */
static uint8_t *answer(const struct view *v, const uint8_t *buf, size_t len, size_t *outlen)
{
    static int told;
    const char *why = ldns_lazy_load();
    if (why) {
        if (!told++)
            log_error("dns: %s; queries go unanswered", why);
        return NULL;
    }
    ldns_pkt *q = NULL;
    if (ldns_wire2pkt(&q, buf, len) != LDNS_STATUS_OK)
        return NULL;
    ldns_pkt *resp = ldns_pkt_new();
    ldns_pkt_set_id(resp, ldns_pkt_id(q));
    ldns_pkt_set_qr(resp, true);
    ldns_pkt_set_aa(resp, true);
    ldns_pkt_set_rd(resp, ldns_pkt_rd(q));
    ldns_pkt_set_opcode(resp, ldns_pkt_get_opcode(q));
    ldns_rr_list *questions = ldns_pkt_question(q);
    int rcode = LDNS_RCODE_FORMERR;
    if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY) {
        rcode = LDNS_RCODE_NOTIMPL;
    } else if (questions && ldns_rr_list_rr_count(questions) == 1) {
        ldns_rr *qr = ldns_rr_list_rr(questions, 0);
        ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
        char *name = ldns_rdf2str(ldns_rr_owner(qr));
        if (name) {
            rcode = resolve(v, name, ldns_rr_get_type(qr), resp);
            free(name);
        }
    }
    ldns_pkt_set_rcode(resp, (uint8_t)rcode);
    uint8_t *wire = NULL;
    if (ldns_pkt2wire(&wire, resp, outlen) != LDNS_STATUS_OK)
        wire = NULL;
    ldns_pkt_free(resp);
    ldns_pkt_free(q);
    return wire;
}

/* ---- sockets ---- */

static void view_of(const struct dns_sock *s, struct view *v)
{
    memset(v, 0, sizeof(*v));
    v->host = s->host;
    snprintf(v->account, sizeof(v->account), "%s", s->account);
    snprintf(v->region, sizeof(v->region), "%s", s->region);
    snprintf(v->vpc, sizeof(v->vpc), "%s", s->vpc);
}

static void serve_udp(struct dns_sock *s)
{
    uint8_t buf[4096];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    if (n <= 0)
        return;
    struct view v;
    view_of(s, &v);
    size_t outlen = 0;
    uint8_t *out = answer(&v, buf, (size_t)n, &outlen);
    if (out) {
        if (outlen > 512) {
            /* Too big for plain UDP: the client retries over TCP. */
            outlen = 12;
            out[2] |= 0x02;     /* TC */
        }
        sendto(s->fd, out, outlen, 0, (struct sockaddr *)&from, flen);
        free(out);
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n bytes before the deadline (monotonic ms), or -1. */
static int read_full(int fd, uint8_t *buf, size_t n, long long deadline)
{
    size_t got = 0;
    while (got < n) {
        long long left = deadline - now_ms();
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* One query on an accepted connection, outside the sockets' lock: the
 * whole exchange has one second, so a slow client holds up nobody. */
static void serve_tcp(int fd, const struct view *v)
{
    struct timeval tv = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    long long deadline = now_ms() + 1000;
    uint8_t lenbuf[2], buf[65536];
    if (read_full(fd, lenbuf, 2, deadline) == 0) {
        size_t n = (size_t)lenbuf[0] << 8 | lenbuf[1];
        if (n > 0 && read_full(fd, buf, n, deadline) == 0) {
            size_t outlen = 0;
            uint8_t *out = answer(v, buf, n, &outlen);
            if (out && outlen < 65536) {
                uint8_t hdr[2] = { (uint8_t)(outlen >> 8), (uint8_t)(outlen & 255) };
                ssize_t w = write(fd, hdr, 2);
                if (w == 2)
                    w = write(fd, out, outlen);
                (void)w;
            }
            free(out);
        }
    }
    close(fd);
}

static void *loop(void *arg)
{
    (void)arg;
    struct epoll_event ev[32];
    while (__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
        int n = epoll_wait(epfd, ev, 32, -1);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == NULL) {
                uint64_t v;
                ssize_t r = read(wakefd, &v, sizeof(v));
                (void)r;
                continue;
            }
            int conn = -1;
            struct view v;
            pthread_mutex_lock(&lock);
            struct dns_sock *s = socks;
            while (s && s != ev[i].data.ptr)
                s = s->next;
            if (s && s->tcp) {
                conn = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                view_of(s, &v);
            } else if (s) {
                serve_udp(s);
            }
            pthread_mutex_unlock(&lock);
            if (conn >= 0)
                serve_tcp(conn, &v);
        }
    }
    return NULL;
}

static void add_sock(int fd, int tcp, int host, const char *key, const char *account,
                     const char *region, const char *vpc)
{
    struct dns_sock *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return;
    }
    s->fd = fd;
    s->tcp = tcp;
    s->host = host;
    snprintf(s->key, sizeof(s->key), "%s", key);
    snprintf(s->account, sizeof(s->account), "%s", account ? account : "");
    snprintf(s->region, sizeof(s->region), "%s", region ? region : "");
    snprintf(s->vpc, sizeof(s->vpc), "%s", vpc ? vpc : "");
    pthread_mutex_lock(&lock);
    s->next = socks;
    socks = s;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    pthread_mutex_unlock(&lock);
}

static int bind_pair(int nsfd, uint32_t ip, int port, int fds[2], char *err, size_t errlen)
{
    for (int tcp = 0; tcp < 2; tcp++) {
        int type = (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK;
        int fd = nsfd >= 0 ? netns_socket(nsfd, AF_INET, type, 0)
                           : socket(AF_INET, type | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(err, errlen, "socket: %s", strerror(errno));
            if (tcp)
                close(fds[0]);
            return -1;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(ip) };
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (tcp && listen(fd, 64) < 0)) {
            snprintf(err, errlen, "binding port %d: %s", port, strerror(errno));
            close(fd);
            if (tcp)
                close(fds[0]);
            return -1;
        }
        fds[tcp] = fd;
    }
    return 0;
}

int dns_start(const char *listen_addr, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(listen_addr, ':');
    if (!colon || (size_t)(colon - listen_addr) >= sizeof(host)) {
        snprintf(err, errlen, "--dns-listen %s: expected ADDRESS:PORT", listen_addr);
        return -1;
    }
    memcpy(host, listen_addr, (size_t)(colon - listen_addr));
    host[colon - listen_addr] = '\0';
    uint32_t ip;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (ip_parse(host, &ip) < 0) {
        snprintf(err, errlen, "--dns-listen %s: expected an IPv4 address", listen_addr);
        return -1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epfd < 0 || wakefd < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    int fds[2];
    if (bind_pair(-1, ip, atoi(colon + 1), fds, err, errlen) < 0)
        return -1;
    add_sock(fds[0], 0, 1, "", NULL, NULL, NULL);
    add_sock(fds[1], 1, 1, "", NULL, NULL, NULL);
    running = 1;
    if (pthread_create(&thread, NULL, loop, NULL) != 0) {
        running = 0;
        snprintf(err, errlen, "cannot start the DNS thread");
        return -1;
    }
    return 0;
}

void dns_stop(void)
{
    if (!running)
        return;
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    uint64_t one = 1;
    ssize_t w = write(wakefd, &one, sizeof(one));
    (void)w;
    pthread_join(thread, NULL);
    pthread_mutex_lock(&lock);
    while (socks) {
        struct dns_sock *s = socks;
        socks = s->next;
        close(s->fd);
        free(s);
    }
    pthread_mutex_unlock(&lock);
    close(epfd);
    close(wakefd);
}

void dns_listen_vpc(int vpcfd, uint32_t ip, const char *account, const char *region,
                    const char *vpc_id)
{
    const char *dash = vpc_id ? strrchr(vpc_id, '-') : NULL;
    const char *key = dash ? dash + 1 : "";
    if (!running || !*key)
        return;
    pthread_mutex_lock(&lock);
    int have = 0;
    for (struct dns_sock *s = socks; s; s = s->next)
        have |= strcmp(s->key, key) == 0;
    pthread_mutex_unlock(&lock);
    if (have)
        return;
    int fds[2];
    char err[200];
    if (bind_pair(vpcfd, ip, 53, fds, err, sizeof(err)) < 0) {
        log_warn("dns: VPC %s resolver: %s", vpc_id, err);
        return;
    }
    add_sock(fds[0], 0, 0, key, account, region, vpc_id);
    add_sock(fds[1], 1, 0, key, account, region, vpc_id);
}

void dns_unlisten_vpc(const char *netns_name)
{
    const char *key = strncmp(netns_name, "ecsl-v-", 7) == 0 ? netns_name + 7 : netns_name;
    pthread_mutex_lock(&lock);
    struct dns_sock **pp = &socks;
    while (*pp) {
        struct dns_sock *s = *pp;
        if (strcmp(s->key, key) == 0) {
            *pp = s->next;
            epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
            close(s->fd);
            free(s);
        } else {
            pp = &s->next;
        }
    }
    pthread_mutex_unlock(&lock);
}
