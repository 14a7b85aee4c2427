/*
 * `ecslocal exec TASK [CONTAINER] -- CMD...` and
 * `ecslocal port-forward TASK LOCALPORT:CONTAINERPORT`: reaching into a
 * running task from the machine, for debugging and tests.
 *
 * Both ask the server where the task's processes are
 * (GET /_ecslocal/tasks/<id>), then join the container's namespaces
 * through /proc/PID/ns -- as nsenter does -- so they need the same
 * privileges as the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../api/buf.h"
#include "server.h"

/* The task's supervisor status, from the server. */
static json_t *task_status(const struct config *cfg, const char *task)
{
    char url[700];
    const char *id = strrchr(task, '/') ? strrchr(task, '/') + 1 : task;
    snprintf(url, sizeof(url), "%s/_ecslocal/tasks/%s", cfg->endpoint, id);
    struct buf body;
    char err[800];
    buf_init(&body, 1u << 20);
    long code = client_http("GET", url, 30, &body, err, sizeof(err));
    json_t *doc = NULL;
    if (code < 0)
        fprintf(stderr, "ecslocal: %s\n", err);
    else if (code != 200)
        fprintf(stderr, "ecslocal: task %s: %s\n", id, body.data ? body.data : "not found");
    else
        doc = json_loads(body.data ? body.data : "", 0, NULL);
    buf_free(&body);
    return doc;
}

/* The pid of a running container of the task (the first one when name is
 * NULL). */
static pid_t container_pid(json_t *info, const char *name)
{
    json_t *containers = json_object_get(json_object_get(info, "status"), "containers");
    const char *key;
    json_t *c;
    json_object_foreach(containers, key, c) {
        const char *state = json_string_value(json_object_get(c, "state"));
        if (name && strcmp(key, name) != 0)
            continue;
        if (state && strcmp(state, "RUNNING") == 0)
            return (pid_t)json_integer_value(json_object_get(c, "pid"));
    }
    return 0;
}

static int join(pid_t pid, const char *ns, int type)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = setns(fd, type);
    close(fd);
    return rc;
}

/* Join the network namespace only (port-forward), or all of the
 * container's (exec). */
static int enter(pid_t pid, int all)
{
    if (join(pid, "net", CLONE_NEWNET) < 0)
        return -1;
    if (!all)
        return 0;
    join(pid, "uts", CLONE_NEWUTS);
    join(pid, "pid", CLONE_NEWPID);
    /* Last: after it, /proc is the task's. */
    return join(pid, "mnt", CLONE_NEWNS);
}

/* The container's environment, so the command sees what it sees. */
static char **container_env(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 1u << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    size_t count = 0;
    for (size_t i = 0; i < b.len; i++)
        count += b.data[i] == '\0';
    char **env = calloc(count + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; env && i < b.len && k < count; i += strlen(b.data + i) + 1)
        env[k++] = strdup(b.data + i);
    buf_free(&b);
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

int client_exec(const struct config *cfg, const char *task, const char *container,
                int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: ecslocal exec TASK [CONTAINER] -- COMMAND [ARG...]\n");
        return 2;
    }
    json_t *info = task_status(cfg, task);
    pid_t pid = info ? container_pid(info, container) : 0;
    json_decref(info);
    if (pid <= 0) {
        fprintf(stderr, "ecslocal: no running container%s%s in task %s\n",
                container ? " " : "", container ? container : "", task);
        return 1;
    }
    char **env = container_env(pid);
    /* Only the child joins the task: this process keeps its own /proc and
     * namespaces (a sanitizer's exit-time checks need them).  A new pid
     * namespace applies to children, so the child forks once more. */
    pid_t child = fork();
    if (child < 0) {
        free_env(env);
        return 1;
    }
    if (child == 0) {
        if (enter(pid, 1) < 0) {
            fprintf(stderr, "ecslocal: cannot enter the task's namespaces: %s (run as root)\n",
                    strerror(errno));
            _exit(126);
        }
        pid_t inner = fork();
        if (inner < 0)
            _exit(126);
        if (inner == 0) {
            execvpe(argv[0], argv, env ? env : (char *[]){ NULL });
            fprintf(stderr, "ecslocal: %s: %s\n", argv[0], strerror(errno));
            _exit(127);
        }
        int st;
        while (waitpid(inner, &st, 0) < 0 && errno == EINTR)
            ;
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    free_env(env);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- port-forward ---- */

struct relay {
    int a, b;
};

static void *relay_loop(void *arg)
{
    struct relay *r = arg;
    char buf[65536];
    struct pollfd p[2] = { { r->a, POLLIN, 0 }, { r->b, POLLIN, 0 } };
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        int done = 0;
        for (int i = 0; i < 2 && !done; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                done = 1;
                break;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(p[1 - i].fd, buf + off, (size_t)(n - off));
                if (w <= 0) {
                    done = 1;
                    break;
                }
                off += w;
            }
        }
        if (done)
            break;
    }
    close(r->a);
    close(r->b);
    free(r);
    return NULL;
}

int client_port_forward(const struct config *cfg, int argc, char **argv)
{
    int local, remote;
    if (argc != 2 || sscanf(argv[1], "%d:%d", &local, &remote) != 2 || local <= 0 ||
        local > 65535 || remote <= 0 || remote > 65535) {
        fprintf(stderr, "usage: ecslocal port-forward TASK LOCALPORT:CONTAINERPORT\n");
        return 2;
    }
    json_t *info = task_status(cfg, argv[0]);
    pid_t pid = info ? container_pid(info, NULL) : 0;
    json_decref(info);
    if (pid <= 0) {
        fprintf(stderr, "ecslocal: no running container in task %s\n", argv[0]);
        return 1;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || self < 0) {
        fprintf(stderr, "ecslocal: cannot open the task's namespace: %s\n", strerror(errno));
        return 1;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons((uint16_t)local),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(lfd, (struct sockaddr *)&la, sizeof(la)) < 0 || listen(lfd, 64) < 0) {
        fprintf(stderr, "ecslocal: 127.0.0.1:%d: %s\n", local, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("Forwarding from 127.0.0.1:%d -> %d\n", local, remote);
    fflush(stdout);
    for (;;) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        /* The upstream socket is made inside the task's namespace and
         * connects to the port on the task's own loopback. */
        int ufd = -1;
        if (setns(nsfd, CLONE_NEWNET) == 0) {
            ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            setns(self, CLONE_NEWNET);
        }
        struct sockaddr_in ra = { .sin_family = AF_INET, .sin_port = htons((uint16_t)remote),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (ufd < 0 || connect(ufd, (struct sockaddr *)&ra, sizeof(ra)) < 0) {
            if (ufd >= 0)
                close(ufd);
            close(cfd);
            continue;
        }
        struct relay *r = malloc(sizeof(*r));
        pthread_t th;
        if (!r) {
            close(cfd);
            close(ufd);
            continue;
        }
        r->a = cfd;
        r->b = ufd;
        if (pthread_create(&th, NULL, relay_loop, r) == 0)
            pthread_detach(th);
        else
            relay_loop(r);
    }
    return 1;
}
