/*
 * Listeners inside other network namespaces (see listeners.h): one thread
 * waits on all of them with epoll and hands each accepted connection to
 * libmicrohttpd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listeners.h"
#include "log.h"
#include "netns.h"
#include "server.h"

struct listener {
    char owner[64];
    int fd;
    struct listener *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct listener *all;
static int epfd = -1, wakefd = -1;
static pthread_t thread;
static int running;

static void *accept_loop(void *arg)
{
    (void)arg;
    struct epoll_event ev[32];
    while (__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
        int n = epoll_wait(epfd, ev, 32, -1);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == wakefd) {
                uint64_t v;
                ssize_t r = read(wakefd, &v, sizeof(v));
                (void)r;
                continue;
            }
            struct sockaddr_storage sa;
            socklen_t len = sizeof(sa);
            int fd = accept4(ev[i].data.fd, (struct sockaddr *)&sa, &len,
                             SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            http_adopt(fd, (struct sockaddr *)&sa, len);
        }
    }
    return NULL;
}

int listeners_start(void)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epfd < 0 || wakefd < 0)
        return -1;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = wakefd };
    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    running = 1;
    if (pthread_create(&thread, NULL, accept_loop, NULL) != 0) {
        running = 0;
        return -1;
    }
    return 0;
}

void listeners_stop(void)
{
    if (!running)
        return;
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    uint64_t one = 1;
    ssize_t w = write(wakefd, &one, sizeof(one));
    (void)w;
    pthread_join(thread, NULL);
    pthread_mutex_lock(&lock);
    while (all) {
        struct listener *l = all;
        all = l->next;
        close(l->fd);
        free(l);
    }
    pthread_mutex_unlock(&lock);
    close(epfd);
    close(wakefd);
}

int listeners_add(const char *owner, int nsfd, uint32_t ip, int port, char *err,
                  size_t errlen)
{
    int fd = netns_socket(nsfd, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket in namespace: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(ip) };
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "listening on port %d in namespace: %s", port,
                 strerror(errno));
        close(fd);
        return -1;
    }
    struct listener *l = calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(l->owner, sizeof(l->owner), "%s", owner);
    l->fd = fd;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        close(fd);
        free(l);
        return -1;
    }
    pthread_mutex_lock(&lock);
    l->next = all;
    all = l;
    pthread_mutex_unlock(&lock);
    return 0;
}

void listeners_remove(const char *owner)
{
    pthread_mutex_lock(&lock);
    struct listener **pp = &all;
    while (*pp) {
        struct listener *l = *pp;
        if (strcmp(l->owner, owner) == 0) {
            *pp = l->next;
            epoll_ctl(epfd, EPOLL_CTL_DEL, l->fd, NULL);
            close(l->fd);
            free(l);
        } else {
            pp = &l->next;
        }
    }
    pthread_mutex_unlock(&lock);
}

int listeners_has(const char *owner)
{
    int found = 0;
    pthread_mutex_lock(&lock);
    for (struct listener *l = all; l && !found; l = l->next)
        found = strcmp(l->owner, owner) == 0;
    pthread_mutex_unlock(&lock);
    return found;
}
