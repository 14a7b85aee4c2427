/*
 * netprobe: the network end of the networking bench phases.  It runs as a
 * task's command or inside a task through `ecslocal exec`, so what it
 * measures crosses the same veths, bridges, VPC router and nftables rules
 * as any task's traffic.
 *
 *   netprobe probe           read "IP PORT" lines on stdin; for each, try a
 *                            TCP connect every millisecond until one
 *                            succeeds (or 30 s pass) and answer
 *                            "ok MS" or "timeout MS" on stdout
 *   netprobe sink PORT       accept connections forever; read each one to
 *                            EOF, then write one byte back and close
 *   netprobe send IP PORT MB connect, write MB MiB, wait for the sink's
 *                            byte; print {"bytes":..,"seconds":..}
 *
 * The sink's byte makes the sender's clock stop when the receiver has read
 * everything, not when the data left the sender's socket buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)atoi(port));
    if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
        fprintf(stderr, "netprobe: bad address %s\n", ip);
        return -1;
    }
    return 0;
}

/* One non-blocking connect with a short timeout: 1 if it was accepted. */
static int try_connect(const struct sockaddr_in *sa, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = 0;
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
        ok = 1;
    } else if (errno == EINPROGRESS) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (poll(&p, 1, timeout_ms) == 1) {
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            ok = err == 0;
        }
    }
    close(fd);
    return ok;
}

static int probe(void)
{
    char ip[64], port[16];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (scanf("%63s %15s", ip, port) == 2) {
        struct sockaddr_in sa;
        if (parse_addr(ip, port, &sa) < 0) {
            printf("bad 0\n");
            continue;
        }
        double t0 = now_ms();
        int ok = 0;
        /* A SYN sent before the task's link is up is dropped and would
         * be sent again only after a second: give each try 1 ms (an
         * answer on this machine takes well under that), so the probe
         * sees the task ready within about a millisecond. */
        while (!(ok = try_connect(&sa, 1)) && now_ms() - t0 < 30000)
            usleep(1000);
        printf("%s %.3f\n", ok ? "ok" : "timeout", now_ms() - t0);
    }
    return 0;
}

static void drain(int fd)
{
    static char buf[CHUNK];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        ;
    char ack = 'k';
    if (write(fd, &ack, 1) != 1)
        perror("netprobe: sink ack");
}

static int sink(const char *port)
{
    int one = 1;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((unsigned short)atoi(port)) };
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 64) < 0) {
        perror("netprobe: sink listen");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("netprobe: accept");
            return 1;
        }
        drain(fd);
        close(fd);
    }
}

static int send_bytes(const char *ip, const char *port, const char *mib)
{
    struct sockaddr_in sa;
    if (parse_addr(ip, port, &sa) < 0)
        return 2;
    long long total = atoll(mib) * 1024 * 1024, sent = 0;
    static char buf[CHUNK];
    memset(buf, 'x', sizeof(buf));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("netprobe: send connect");
        return 1;
    }
    double t0 = now_ms();
    while (sent < total) {
        size_t want = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        ssize_t n = write(fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror("netprobe: send write");
            return 1;
        }
        sent += n;
    }
    shutdown(fd, SHUT_WR);
    char ack;
    if (read(fd, &ack, 1) != 1) {
        fprintf(stderr, "netprobe: the sink did not acknowledge\n");
        return 1;
    }
    double secs = (now_ms() - t0) / 1e3;
    close(fd);
    printf("{\"bytes\": %lld, \"seconds\": %.6f}\n", sent, secs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "probe") == 0)
        return probe();
    if (argc == 3 && strcmp(argv[1], "sink") == 0)
        return sink(argv[2]);
    if (argc == 5 && strcmp(argv[1], "send") == 0)
        return send_bytes(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: netprobe probe | sink PORT | send IP PORT MIB\n");
    return 2;
}
