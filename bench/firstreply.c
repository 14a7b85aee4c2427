/*
 * bench/firstreply.c: time from exec to the first answered request.
 *
 *   firstreply --target HOST:PORT --body FORM [--header "K: V"]... [--log FILE]
 *              -- PROGRAM ARGS...
 *
 * Takes the clock, forks and execs PROGRAM, and polls HOST:PORT in a tight loop (a
 * connect attempt every 20 us) until a POST / with BODY gets a 2xx answer.
 * Then it stops the program (SIGTERM, SIGKILL after 5 s) and prints JSON:
 * when the port first accepted a connection and when the first 2xx answer
 * arrived, in milliseconds since the spawn.  A separate C program, so no
 * interpreter start-up or garbage collector sits between the two clocks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void usage(void)
{
    fprintf(stderr, "usage: firstreply --target HOST:PORT --body FORM [--header 'K: V']... "
                    "[--log FILE] [--timeout S] -- PROGRAM ARGS...\n");
    exit(2);
}

/* Send the request and read until the headers are complete; returns the
 * status or -1 (connection reset, closed early). */
static int ask(int fd, const char *req, size_t len)
{
    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        return -1;
    char buf[8192];
    size_t n = 0;
    while (n < sizeof(buf) - 1) {
        ssize_t k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        n += (size_t)k;
        buf[n] = '\0';
        int status;
        if (strstr(buf, "\r\n\r\n") && sscanf(buf, "HTTP/%*d.%*d %d", &status) == 1)
            return status;
    }
    return -1;
}

/* Polling a port nobody listens on can make Linux connect the socket to
 * itself (simultaneous open when the kernel picks the target port as the
 * source port); such a socket would hold the port the server wants. */
static int self_connected(int fd)
{
    struct sockaddr_in a, b;
    socklen_t la = sizeof(a), lb = sizeof(b);
    if (getsockname(fd, (struct sockaddr *)&a, &la) < 0 ||
        getpeername(fd, (struct sockaddr *)&b, &lb) < 0)
        return 1;
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    const char *target = NULL, *body = "", *log = "/dev/null";
    char headers[4096] = "";
    double timeout_s = 60;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--target") == 0)
            target = v;
        else if (strcmp(argv[i - 1], "--body") == 0)
            body = v;
        else if (strcmp(argv[i - 1], "--log") == 0)
            log = v;
        else if (strcmp(argv[i - 1], "--timeout") == 0)
            timeout_s = atof(v);
        else if (strcmp(argv[i - 1], "--header") == 0) {
            size_t hl = strlen(headers);
            snprintf(headers + hl, sizeof(headers) - hl, "%s\r\n", v);
        } else
            usage();
    }
    if (!target || i >= argc)
        usage();

    char host[100];
    int port;
    if (sscanf(target, "%99[^:]:%d", host, &port) != 2)
        usage();
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        usage();
    char req[16384];
    int rl = snprintf(req, sizeof(req),
                      "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: "
                      "application/x-www-form-urlencoded; charset=utf-8\r\n%sContent-Length: "
                      "%zu\r\nConnection: close\r\n\r\n%s",
                      target, headers, strlen(body), body);
    if (rl <= 0 || rl >= (int)sizeof(req))
        usage();

    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (in < 0 || out < 0) {
        fprintf(stderr, "firstreply: cannot open %s: %s\n", log, strerror(errno));
        return 1;
    }

    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        perror("firstreply: fork");
        return 1;
    }
    if (pid == 0) {
        /* The server must not outlive us if we are killed mid-measure. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execv(argv[i], argv + i);
        fprintf(stderr, "firstreply: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    double listen_ms = -1, answer_ms = -1;
    long attempts = 0;
    int last_status = 0;
    struct timespec pause = { 0, 20000 };
    while (now_ms() - t0 < timeout_s * 1000.0) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "firstreply: %s exited before answering (see %s)\n", argv[i], log);
            return 1;
        }
        attempts++;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("firstreply: socket");
            stop_child(pid);
            return 1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && !self_connected(fd)) {
            struct timeval tv = { 10, 0 };
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            if (listen_ms < 0)
                listen_ms = now_ms() - t0;
            last_status = ask(fd, req, (size_t)rl);
            if (last_status >= 200 && last_status < 300) {
                answer_ms = now_ms() - t0;
                close(fd);
                break;
            }
        }
        close(fd);
        nanosleep(&pause, NULL);
    }
    stop_child(pid);
    if (answer_ms < 0) {
        fprintf(stderr, "firstreply: no 2xx answer within %.0f s (last status %d)\n",
                timeout_s, last_status);
        return 1;
    }
    printf("{\"listen_ms\": %.3f, \"first_answer_ms\": %.3f, \"attempts\": %ld}\n", listen_ms,
           answer_ms, attempts);
    return 0;
}
