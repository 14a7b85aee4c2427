/*
 * Named network namespaces, the way `ip netns` keeps them: a namespace
 * "ecsl-x" is pinned by a bind mount of its nsfs inode on
 * /var/run/netns/ecsl-x, so it outlives the process that made it and any
 * process can join it by path.  Sockets are created inside a namespace
 * with the HAProxy technique (setns, socket, setns back): a socket stays in
 * the namespace it was made in.
 *
 * Every function that switches namespaces does so on the calling thread
 * only and always switches back before returning.
 */
#ifndef ECSL_NETNS_H
#define ECSL_NETNS_H

#include <stddef.h>

#define NETNS_DIR "/var/run/netns"
#define NETNS_PREFIX "ecsl-"

/* Create namespace name (which must start with "ecsl-") with its loopback
 * up.  Succeeds if it already exists.  Returns 0 or -1 with err. */
int netns_create(const char *name, char *err, size_t errlen);

/* Remove the namespace's pin; the kernel frees it when the last process
 * and socket in it are gone.  Missing is not an error. */
int netns_delete(const char *name);

int netns_exists(const char *name);

/* An O_CLOEXEC descriptor of the namespace, or -1. */
int netns_open(const char *name);

/* The path of a namespace: NETNS_DIR/name. */
void netns_path(const char *name, char *out, size_t len);

/* A socket created inside the namespace nsfd. */
int netns_socket(int nsfd, int domain, int type, int protocol);

/* Run fn(arg) with the calling thread inside the namespace nsfd; returns
 * fn's result, or -1 if the namespace could not be entered. */
int netns_run(int nsfd, int (*fn)(void *arg), void *arg);

/* Write value to the sysctl file path (/proc/sys/...) as seen from inside
 * the namespace nsfd (net.* sysctls are per namespace).  0 or -1. */
int netns_sysctl(int nsfd, const char *path, const char *value);

/* Call fn for every namespace whose name starts with prefix. */
int netns_each(const char *prefix, void (*fn)(const char *name, void *arg),
               void *arg);

/* Whether this process may create namespaces (probes by making and
 * removing one); a reason is written when it may not. */
int netns_available(char *why, size_t len);

#endif
