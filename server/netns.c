/*
 * Named network namespaces (see netns.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"

void netns_path(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", NETNS_DIR, name);
}

int netns_exists(const char *name)
{
    char path[256];
    struct stat st;
    netns_path(name, path, sizeof(path));
    return stat(path, &st) == 0;
}

int netns_open(const char *name)
{
    char path[256];
    netns_path(name, path, sizeof(path));
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Make NETNS_DIR a shared mount point, as iproute2 does, so the pins are
 * seen (and removed) consistently in every mount namespace. */
static int prepare_dir(char *err, size_t errlen)
{
    if (mkdir("/var/run", 0755) < 0 && errno != EEXIST)
        goto fail;
    if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
        goto fail;
    if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
        return 0;
    if (errno != EINVAL)
        goto fail;
    if (mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
        mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "preparing %s: %s", NETNS_DIR, strerror(errno));
    return -1;
}

static int loopback_up(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
    return rc;
}

int netns_create(const char *name, char *err, size_t errlen)
{
    char path[256];
    if (strncmp(name, NETNS_PREFIX, strlen(NETNS_PREFIX)) != 0 ||
        strchr(name, '/') || strlen(name) > 64) {
        snprintf(err, errlen, "refusing namespace name '%s'", name);
        return -1;
    }
    if (netns_exists(name))
        return 0;
    if (prepare_dir(err, errlen) < 0)
        return -1;
    netns_path(name, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) {
        snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);

    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) {
        snprintf(err, errlen, "opening own namespace: %s", strerror(errno));
        unlink(path);
        return -1;
    }
    int rc = -1;
    if (unshare(CLONE_NEWNET) < 0) {
        snprintf(err, errlen, "unshare(CLONE_NEWNET): %s", strerror(errno));
        goto out;
    }
    if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) {
        snprintf(err, errlen, "pinning %s: %s", path, strerror(errno));
        goto back;
    }
    if (loopback_up() < 0) {
        snprintf(err, errlen, "bringing up lo in %s: %s", name, strerror(errno));
        umount2(path, MNT_DETACH);
        goto back;
    }
    rc = 0;
back:
    if (setns(self, CLONE_NEWNET) < 0) {
        /* The thread would stay in the new namespace: nothing else this
         * thread does could be trusted. */
        snprintf(err, errlen, "cannot return to own namespace: %s", strerror(errno));
        rc = -2;
    }
out:
    close(self);
    if (rc == -1)
        unlink(path);
    return rc < 0 ? -1 : 0;
}

int netns_delete(const char *name)
{
    char path[256];
    if (strncmp(name, NETNS_PREFIX, strlen(NETNS_PREFIX)) != 0 || strchr(name, '/'))
        return -1;
    netns_path(name, path, sizeof(path));
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return -1;
    if (unlink(path) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

int netns_run(int nsfd, int (*fn)(void *arg), void *arg)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -1;
    if (setns(nsfd, CLONE_NEWNET) < 0) {
        close(self);
        return -1;
    }
    int rc = fn(arg);
    if (setns(self, CLONE_NEWNET) < 0)
        rc = -1;
    close(self);
    return rc;
}

struct socket_args {
    int domain, type, protocol;
};

static int make_socket(void *arg)
{
    struct socket_args *a = arg;
    return socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
}

int netns_socket(int nsfd, int domain, int type, int protocol)
{
    struct socket_args a = { domain, type, protocol };
    return netns_run(nsfd, make_socket, &a);
}

int netns_each(const char *prefix, void (*fn)(const char *name, void *arg), void *arg)
{
    DIR *d = opendir(NETNS_DIR);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            fn(e->d_name, arg);
    closedir(d);
    return 0;
}

int netns_available(char *why, size_t len)
{
    char name[64], err[256];
    if (geteuid() != 0) {
        snprintf(why, len, "not running as root (network namespaces need "
                 "CAP_NET_ADMIN and CAP_SYS_ADMIN)");
        return 0;
    }
    snprintf(name, sizeof(name), "ecsl-probe-%d", (int)getpid());
    if (netns_create(name, err, sizeof(err)) < 0) {
        snprintf(why, len, "cannot create network namespaces: %s", err);
        return 0;
    }
    netns_delete(name);
    snprintf(why, len, "network namespaces available");
    return 1;
}

struct sysctl_write {
    const char *path;
    const char *value;
};

static int write_sysctl(void *arg)
{
    struct sysctl_write *w = arg;
    int fd = open(w->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, w->value, strlen(w->value));
    close(fd);
    return n < 0 ? -1 : 0;
}

int netns_sysctl(int nsfd, const char *path, const char *value)
{
    struct sysctl_write w = { path, value };
    return netns_run(nsfd, write_sysctl, &w);
}
