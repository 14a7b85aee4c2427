/*
 * The task supervisor ("shim"): `ecslocal shim DIR` runs the ECS task that
 * DIR/spec.json describes and reports on it through files only
 * (docs/task-runtime.md), so the daemon can restart without losing it.
 *
 * Set-up: the shim enters the task's mount and uts namespaces (its own
 * /etc/hosts, /etc/resolv.conf, hostname) and network namespace, then
 * starts a pause process as pid 1 of a new pid namespace.  Every container
 * is a child of the shim in its own process group, started when its
 * dependsOn conditions hold.  One thread runs one poll loop over a signalfd
 * (SIGCHLD, SIGTERM, SIGINT), a look for DIR/stop every second, the containers'
 * output pipes and the health checks' pipes; deadlines (health check
 * intervals and timeouts, stop timeouts) become the poll timeout.  When
 * every container has stopped, the pause process is killed, which takes
 * anything left in the pid namespace with it, and status.json says done.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "netns.h"
#include "shim.h"
#include "taskspec.h"

#define LOG_LINE_MAX (256 * 1024)       /* longer output lines are split */
#define HEALTH_OUTPUT_MAX 1024          /* health check output kept */
#define REASON_MAX 1024                 /* ECS's limit on Container.reason */
#define DEFAULT_STOP_TIMEOUT 30.0
/* The daemon sends SIGTERM with the stop file; the file is also looked
 * for every second (inotify would cost one of the user's 128 instances
 * per task). */
#define STOP_FILE_POLL_MS 1000
#define START_ERROR "CannotStartContainerError: "
#define INIT_ERROR "ResourceInitializationError: "

enum cstate { PENDING, RUNNING, STOPPED };
enum hstate { H_NONE, H_UNKNOWN, H_HEALTHY, H_UNHEALTHY };
enum cond { COND_START, COND_COMPLETE, COND_SUCCESS, COND_HEALTHY };

static const char *const state_names[] = { "PENDING", "RUNNING", "STOPPED" };
static const char *const health_names[] = { NULL, "UNKNOWN", "HEALTHY", "UNHEALTHY" };
static const char *const cond_names[] = { "START", "COMPLETE", "SUCCESS", "HEALTHY" };

struct dep {
    const char *name;
    enum cond cond;
    int idx;                    /* into task.c; -1: no such container */
};

/* One output pipe of a container and the part of a line not yet logged. */
struct stream {
    int fd;                     /* -1 once closed */
    char *buf;
    size_t len, cap;
};

/* A health check run in progress. */
struct probe {
    pid_t pid;                  /* 0: none running */
    int fd;
    int64_t started;            /* monotonic ms */
    int64_t deadline;
    int timed_out;
    char out[HEALTH_OUTPUT_MAX];
    size_t outlen;
};

struct ctr {
    /* From spec.json (strings point into the spec document). */
    const char *name;
    const char **argv;          /* NULL-terminated */
    const char **env;           /* NULL-terminated */
    const char *cwd;
    const char *user;
    const char *netns;          /* its own network namespace, or NULL */
    int netns_fd;               /* netns, opened at start-up */
    int netns_errno;            /* why it could not be opened */
    int essential;
    double stop_timeout;
    struct dep *deps;
    int ndeps;
    int placeholder;            /* argv is `ecslocal placeholder ...` */
    char *ph_strings;           /* storage for the placeholder's port args */
    const char **hc_argv;       /* health check command, or NULL */
    char *hc_joined;            /* CMD-SHELL's command line */
    double hc_interval, hc_timeout, hc_start_period;
    int hc_retries;

    /* What happened. */
    enum cstate state;
    pid_t pid;
    int has_exit, exit_code;
    char *reason;
    double started_at, finished_at;     /* epoch seconds; 0: null */
    int64_t started_mono;
    int logfd;
    struct stream out[2];               /* stdout, stderr */
    int term_sent;
    int64_t kill_at;                    /* SIGKILL deadline; 0: none */
    enum hstate health;
    double health_since;
    int has_hresult, hexit;
    char *houtput;
    size_t houtlen;
    int streak;                         /* consecutive counted failures */
    int64_t next_probe;
    struct probe probe;
};

struct task {
    char dir[PATH_MAX];         /* absolute */
    int dirfd;
    json_t *spec;
    const char *hostname, *hosts, *resolv_conf, *netns;
    int isolate;
    struct ctr *c;
    int n;
    pid_t pause_pid;
    int proc_mounted;
    int exe_fd;                 /* O_PATH to our own binary (the placeholder) */
    int own_pidns;              /* our pid namespace, to fork in again at the end */
    int sigfd, nullfd;
    int64_t next_stop_check;
    int stop_requested, stopping, done;
    const char *stop_code;
    char *stop_reason;
    int dirty;                  /* status.json needs writing */
};

/* ---- small helpers ---------------------------------------------------- */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t seconds_ms(double s)
{
    return s <= 0 ? 0 : (int64_t)(s * 1000.0 + 0.5);
}

/* strerror as Go prints errors: lower-case first letter. */
static const char *errtext(int e, char *buf, size_t n)
{
    snprintf(buf, n, "%s", strerror(e));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        log_error("out of memory");
        _exit(1);
    }
    return d;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        log_error("out of memory");
        _exit(1);
    }
    return p;
}

static int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int writev_all(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        while (cnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Writes DIR/name atomically: name.tmp, then rename. */
static int write_file_at(int dirfd, const char *name, const char *data, size_t len)
{
    char tmp[NAME_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", name);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    struct iovec iov = { (void *)data, len };
    int rc = writev_all(fd, &iov, 1);
    int e = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0) {
        rc = -1;
        e = errno;
    }
    if (rc < 0) {
        unlinkat(dirfd, tmp, 0);
        errno = e;
    }
    return rc;
}

/* A JSON string from arbitrary bytes: invalid UTF-8 and NULs become
 * U+FFFD, so program output never makes status.json unreadable. */
static json_t *jbytes(const char *s, size_t n)
{
    char *out = xcalloc(n * 3 + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t len = 0;
        uint32_t cp = 0;
        if (p[0] >= 0x01 && p[0] < 0x80) {
            len = 1;
        } else if (p[0] >= 0xC2 && p[0] < 0xE0) {
            len = 2;
            cp = p[0] & 0x1F;
        } else if (p[0] >= 0xE0 && p[0] < 0xF0) {
            len = 3;
            cp = p[0] & 0x0F;
        } else if (p[0] >= 0xF0 && p[0] < 0xF5) {
            len = 4;
            cp = p[0] & 0x07;
        }
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) {
            if ((p[k] & 0xC0) != 0x80)
                ok = 0;
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        if (ok && len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
            ok = 0;
        if (ok && len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
            ok = 0;
        if (ok) {
            memcpy(out + o, p, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j ? j : json_string("");
}

static json_t *jtext(const char *s)
{
    return s ? jbytes(s, strlen(s)) : json_null();
}

/* Epoch seconds with milliseconds, or null. */
static json_t *jtime(double t)
{
    return t > 0 ? json_real(floor(t * 1000.0 + 0.5) / 1000.0) : json_null();
}

/* ---- status.json ------------------------------------------------------ */

static json_t *container_status(const struct ctr *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(state_names[c->state]));
    json_object_set_new(o, "pid", c->pid > 0 ? json_integer(c->pid) : json_null());
    json_object_set_new(o, "exit_code", c->has_exit ? json_integer(c->exit_code) : json_null());
    json_object_set_new(o, "reason", jtext(c->reason));
    json_object_set_new(o, "started_at", jtime(c->started_at));
    json_object_set_new(o, "finished_at", jtime(c->finished_at));
    json_object_set_new(o, "health", c->health == H_NONE ? json_null()
                                                          : json_string(health_names[c->health]));
    json_object_set_new(o, "health_since", jtime(c->health_since));
    json_object_set_new(o, "health_exit_code", c->has_hresult ? json_integer(c->hexit)
                                                              : json_null());
    json_object_set_new(o, "health_output", c->has_hresult ? jbytes(c->houtput, c->houtlen)
                                                           : json_null());
    return o;
}

static void status_write(struct task *t)
{
    json_t *cs = json_object();
    for (int i = 0; i < t->n; i++)
        json_object_set_new(cs, t->c[i].name, container_status(&t->c[i]));
    json_t *doc = json_object();
    json_object_set_new(doc, "shim_pid", json_integer(getpid()));
    json_object_set_new(doc, "pause_pid", t->pause_pid > 0 ? json_integer(t->pause_pid)
                                                           : json_null());
    json_object_set_new(doc, "updated", jtime(wall_now()));
    json_object_set_new(doc, "stopping", json_boolean(t->stopping));
    json_object_set_new(doc, "done", json_boolean(t->done));
    json_object_set_new(doc, "stop_code", t->stop_code ? json_string(t->stop_code) : json_null());
    json_object_set_new(doc, "stop_reason", jtext(t->stop_reason));
    json_object_set_new(doc, "containers", cs);
    /* 13 significant digits: epoch seconds with milliseconds. */
    char *text = json_dumps(doc, JSON_REAL_PRECISION(13));
    json_decref(doc);
    if (!text) {
        log_error("status.json: cannot serialize");
        return;
    }
    if (write_file_at(t->dirfd, "status.json", text, strlen(text)) < 0)
        log_error("status.json in %s: %s", t->dir, strerror(errno));
    else
        t->dirty = 0;
    free(text);
}

/* ---- spec.json -------------------------------------------------------- */

static int errf(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *opt_string(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double opt_number(json_t *o, const char *key, double def)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : def;
}

/* A NULL-terminated copy of a JSON array of strings (null: empty). */
static int string_array(json_t *a, const char ***out, const char *what, char *err, size_t n)
{
    if (!a || json_is_null(a)) {
        *out = xcalloc(1, sizeof(char *));
        return 0;
    }
    if (!json_is_array(a))
        return errf(err, n, "%s must be an array of strings", what);
    size_t k = json_array_size(a);
    const char **v = xcalloc(k + 1, sizeof(char *));
    for (size_t i = 0; i < k; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s)) {
            free(v);
            return errf(err, n, "%s must be an array of strings", what);
        }
        v[i] = json_string_value(s);
    }
    *out = v;
    return 0;
}

/* ECS container names: up to 255 letters, digits, underscores, hyphens.
 * They name files in the task directory, so nothing else gets through. */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static int parse_placeholder(struct ctr *c, json_t *ph, char *err, size_t n)
{
    json_t *ports = json_object_get(ph, "ports");
    size_t np = json_is_array(ports) ? json_array_size(ports) : 0;
    if (ports && !json_is_null(ports) && !json_is_array(ports))
        return errf(err, n, "container %s: placeholder.ports must be an array", c->name);
    const char *body = opt_string(ph, "body");
    c->argv = xcalloc(2 * np + 5, sizeof(char *));
    c->ph_strings = xcalloc(np + 1, 8);
    int k = 0;
    c->argv[k++] = "ecslocal";
    c->argv[k++] = "placeholder";
    for (size_t i = 0; i < np; i++) {
        json_t *p = json_array_get(ports, i);
        if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 65535)
            return errf(err, n, "container %s: bad placeholder port", c->name);
        char *s = c->ph_strings + 8 * i;
        snprintf(s, 8, "%d", (int)json_integer_value(p));
        c->argv[k++] = "--port";
        c->argv[k++] = s;
    }
    if (body) {
        c->argv[k++] = "--body";
        c->argv[k++] = body;
    }
    c->placeholder = 1;
    return 0;
}

static int parse_health(struct ctr *c, json_t *h, char *err, size_t n)
{
    const char **cmd;
    if (string_array(json_object_get(h, "command"), &cmd, "health.command", err, n) < 0)
        return -1;
    if (!cmd[0] || strcmp(cmd[0], "NONE") == 0) {
        free(cmd);
        return 0;
    }
    if (strcmp(cmd[0], "CMD-SHELL") == 0) {
        size_t len = 1;
        for (int i = 1; cmd[i]; i++)
            len += strlen(cmd[i]) + 1;
        c->hc_joined = xcalloc(len, 1);
        for (int i = 1; cmd[i]; i++) {
            if (i > 1)
                strcat(c->hc_joined, " ");
            strcat(c->hc_joined, cmd[i]);
        }
        c->hc_argv = xcalloc(4, sizeof(char *));
        c->hc_argv[0] = "/bin/sh";
        c->hc_argv[1] = "-c";
        c->hc_argv[2] = c->hc_joined;
        free(cmd);
    } else if (strcmp(cmd[0], "CMD") == 0 && cmd[1]) {
        for (int i = 0; cmd[i]; i++)        /* drop "CMD", keep the NULL */
            cmd[i] = cmd[i + 1];
        c->hc_argv = cmd;
    } else {
        free(cmd);
        return errf(err, n, "container %s: health.command must start with CMD, "
                          "CMD-SHELL or NONE", c->name);
    }
    c->hc_interval = opt_number(h, "interval", 30);
    c->hc_timeout = opt_number(h, "timeout", 5);
    c->hc_start_period = opt_number(h, "start_period", 0);
    c->hc_retries = (int)opt_number(h, "retries", 3);
    if (c->hc_interval <= 0 || c->hc_timeout <= 0)
        return errf(err, n, "container %s: health interval and timeout must be positive",
                          c->name);
    if (c->hc_retries < 1)
        c->hc_retries = 1;
    c->health = H_UNKNOWN;
    return 0;
}

static int parse_container(struct ctr *c, json_t *j, char *err, size_t n)
{
    if (!json_is_object(j))
        return errf(err, n, "containers[] must be objects");
    c->name = opt_string(j, "name");
    if (!c->name || !valid_name(c->name))
        return errf(err, n, "bad container name");
    json_t *argv = json_object_get(j, "argv");
    json_t *ph = json_object_get(j, "placeholder");
    if (argv && !json_is_null(argv)) {
        if (string_array(argv, &c->argv, "argv", err, n) < 0)
            return -1;
        if (!c->argv[0] || !c->argv[0][0])
            return errf(err, n, "container %s: argv is empty", c->name);
    } else if (json_is_object(ph)) {
        if (parse_placeholder(c, ph, err, n) < 0)
            return -1;
    } else {
        return errf(err, n, "container %s: neither argv nor placeholder", c->name);
    }
    if (string_array(json_object_get(j, "env"), &c->env, "env", err, n) < 0)
        return -1;
    c->cwd = opt_string(j, "cwd");
    if (!c->cwd || !c->cwd[0])
        c->cwd = "/";
    c->user = opt_string(j, "user");
    c->netns = opt_string(j, "netns");
    if (c->netns && (!c->netns[0] || strcmp(c->netns, "host") == 0))
        c->netns = NULL;
    json_t *ess = json_object_get(j, "essential");
    c->essential = ess && json_is_boolean(ess) ? json_is_true(ess) : 1;
    c->stop_timeout = opt_number(j, "stop_timeout", DEFAULT_STOP_TIMEOUT);
    if (c->stop_timeout < 0)
        c->stop_timeout = 0;

    json_t *deps = json_object_get(j, "depends_on");
    if (deps && !json_is_null(deps)) {
        if (!json_is_array(deps))
            return errf(err, n, "container %s: depends_on must be an array", c->name);
        c->ndeps = (int)json_array_size(deps);
        c->deps = xcalloc((size_t)c->ndeps, sizeof(struct dep));
        for (int i = 0; i < c->ndeps; i++) {
            json_t *d = json_array_get(deps, (size_t)i);
            const char *name = opt_string(d, "container");
            const char *cond = opt_string(d, "condition");
            int k = 0;
            while (cond && k < 4 && strcmp(cond, cond_names[k]) != 0)
                k++;
            if (!name || !cond || k == 4)
                return errf(err, n, "container %s: bad depends_on entry", c->name);
            c->deps[i].name = name;
            c->deps[i].cond = (enum cond)k;
        }
    }
    json_t *h = json_object_get(j, "health");
    if (json_is_object(h) && parse_health(c, h, err, n) < 0)
        return -1;
    return 0;
}

/* 1 if following depends_on from container i comes back to a container on
 * the path (mark: 0 unvisited, 1 on the path, 2 done). */
static int dep_cycle(struct task *t, int i, char *mark)
{
    if (mark[i] != 0)
        return mark[i] == 1;
    mark[i] = 1;
    for (int d = 0; d < t->c[i].ndeps; d++)
        if (t->c[i].deps[d].idx >= 0 && dep_cycle(t, t->c[i].deps[d].idx, mark))
            return 1;
    mark[i] = 2;
    return 0;
}

static int spec_load(struct task *t, char *err, size_t n)
{
    json_error_t je;
    int fd = openat(t->dirfd, "spec.json", O_RDONLY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return errf(err, n, "spec.json: %s", strerror(e));
    }
    /* Through stdio: json_loadfd reads a byte per system call. */
    t->spec = json_loadf(f, 0, &je);
    fclose(f);
    if (!t->spec)
        return errf(err, n, "spec.json line %d: %s", je.line, je.text);
    if (!json_is_object(t->spec))
        return errf(err, n, "spec.json is not an object");
    t->hostname = opt_string(t->spec, "hostname");
    t->hosts = opt_string(t->spec, "hosts");
    t->resolv_conf = opt_string(t->spec, "resolv_conf");
    t->netns = opt_string(t->spec, "netns");
    if (t->netns && (!t->netns[0] || strcmp(t->netns, "host") == 0))
        t->netns = NULL;
    t->isolate = json_is_true(json_object_get(t->spec, "isolate"));
    json_t *cs = json_object_get(t->spec, "containers");
    if (!json_is_array(cs) || json_array_size(cs) == 0)
        return errf(err, n, "spec.json has no containers");
    t->n = (int)json_array_size(cs);
    t->c = xcalloc((size_t)t->n, sizeof(struct ctr));
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        c->logfd = c->out[0].fd = c->out[1].fd = c->probe.fd = c->netns_fd = -1;
        if (parse_container(c, json_array_get(cs, (size_t)i), err, n) < 0)
            return -1;
        for (int k = 0; k < i; k++)
            if (strcmp(t->c[k].name, c->name) == 0)
                return errf(err, n, "container name %s appears twice", c->name);
    }
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        for (int d = 0; d < c->ndeps; d++) {
            c->deps[d].idx = -1;
            for (int k = 0; k < t->n; k++)
                if (strcmp(t->c[k].name, c->deps[d].name) == 0)
                    c->deps[d].idx = k;
        }
    }
    /* A loop would leave its containers PENDING forever. */
    char *mark = xcalloc((size_t)t->n, 1);
    int cycle = -1;
    for (int i = 0; i < t->n && cycle < 0; i++)
        if (dep_cycle(t, i, mark))
            cycle = i;
    free(mark);
    if (cycle >= 0)
        return errf(err, n, "depends_on of container %s forms a cycle", t->c[cycle].name);
    return 0;
}

static void task_free(struct task *t)
{
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        free(c->argv);
        free(c->env);
        free(c->deps);
        free(c->ph_strings);
        free(c->hc_argv);
        free(c->hc_joined);
        free(c->reason);
        free(c->houtput);
        free(c->out[0].buf);
        free(c->out[1].buf);
    }
    free(t->c);
    free(t->stop_reason);
    json_decref(t->spec);
}

/* ---- starting processes ---------------------------------------------- */

struct ids {
    int set;                    /* 0: keep the shim's (root) */
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int ngroups;
};

static int parse_id(const char *s, unsigned long *out)
{
    if (!*s)
        return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    *out = strtoul(s, NULL, 10);
    return errno || *out > 0x7fffffffUL ? -1 : 0;
}

/* Docker's rules: "uid", "uid:gid", "name", "name:group"; a numeric user
 * without a passwd entry gets gid 0; supplementary groups from /etc/group. */
static int resolve_user(const char *spec, struct ids *ids, char *err, size_t n)
{
    memset(ids, 0, sizeof(*ids));
    if (!spec || !*spec)
        return 0;
    char user[256], *group = NULL;
    snprintf(user, sizeof(user), "%s", spec);
    char *colon = strchr(user, ':');
    if (colon) {
        *colon = '\0';
        group = colon + 1;
    }
    unsigned long v;
    struct passwd *pw;
    if (parse_id(user, &v) == 0) {
        ids->uid = (uid_t)v;
        pw = getpwuid(ids->uid);
        ids->gid = pw ? pw->pw_gid : 0;
    } else {
        pw = getpwnam(user);
        if (!pw)
            return errf(err, n, "unable to find user %s: no matching entries in passwd file",
                              user);
        ids->uid = pw->pw_uid;
        ids->gid = pw->pw_gid;
    }
    if (group && *group) {
        if (parse_id(group, &v) == 0) {
            ids->gid = (gid_t)v;
        } else {
            struct group *gr = getgrnam(group);
            if (!gr)
                return errf(err, n,
                                  "unable to find group %s: no matching entries in group file",
                                  group);
            ids->gid = gr->gr_gid;
        }
    }
    if (pw) {
        int count = 32;
        for (;;) {
            ids->groups = xcalloc((size_t)count, sizeof(gid_t));
            int want = count;
            if (getgrouplist(pw->pw_name, ids->gid, ids->groups, &want) >= 0) {
                ids->ngroups = want;
                break;
            }
            free(ids->groups);
            ids->groups = NULL;
            if (want <= count || want > 65536)
                break;
            count = want;
        }
    }
    ids->set = 1;
    return 0;
}

static const char *env_get(const char **env, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

/* Is this (cwd-relative) path an executable non-directory, as Go's
 * exec.LookPath checks?  0, or an errno. */
static int check_exec(const char *path, const char *cwd)
{
    char full[PATH_MAX];
    if (path[0] != '/') {
        snprintf(full, sizeof(full), "%s/%s", cwd, path);
        path = full;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return errno;
    if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111))
        return EACCES;
    return 0;
}

/* Finds the program as runc does (exec.LookPath with the container's PATH),
 * with runc's messages. */
static int look_path(const char *file, const char **env, const char *cwd, char *out, size_t outn,
                     char *err, size_t n)
{
    char eb[128];
    if (strchr(file, '/')) {
        int e = check_exec(file, cwd);
        if (e == EACCES)
            return errf(err, n, "exec: \"%s\": permission denied", file);
        if (e)
            return errf(err, n, "exec: \"%s\": stat %s: %s", file, file,
                              errtext(e, eb, sizeof(eb)));
        snprintf(out, outn, "%s", file);
        return 0;
    }
    const char *path = env_get(env, "PATH");
    if (!path)
        path = TASK_DEFAULT_PATH;
    while (1) {
        const char *end = strchrnul(path, ':');
        int len = (int)(end - path);
        if (len == 0)
            snprintf(out, outn, "./%s", file);
        else
            snprintf(out, outn, "%.*s/%s", len, path, file);
        if (check_exec(out, cwd) == 0)
            return 0;
        if (!*end)
            break;
        path = end + 1;
    }
    return errf(err, n, "exec: \"%s\": executable file not found in $PATH", file);
}

enum stage { ST_DUP = 1, ST_SETNS, ST_CHDIR, ST_GROUPS, ST_GID, ST_UID, ST_EXEC };

/* Everything a forked child needs to become a container or health check. */
struct spawn {
    const char *path;           /* program; NULL: exec exe_fd */
    int exe_fd;
    const char **argv;
    const char **env;
    const char *cwd;
    const struct ids *ids;
    int netns_fd;               /* -1: stay in the shim's */
    const char *netns;
    int in_fd, out_fd, err_fd;
    int report_fd;              /* CLOEXEC pipe for {stage, errno}; -1: print */
    int die_with_parent;
    pid_t parent;
};

/* A failed step in runc's words. */
static void spawn_error(char *buf, size_t n, int stage, int e, const struct spawn *s)
{
    char eb[128];
    const char *what = errtext(e, eb, sizeof(eb));
    switch (stage) {
    case ST_SETNS:
        snprintf(buf, n, "failed to join network namespace %s: %s", s->netns, what);
        break;
    case ST_CHDIR:
        snprintf(buf, n, "chdir to cwd (\"%s\") set in config.json failed: %s", s->cwd, what);
        break;
    case ST_GROUPS:
        snprintf(buf, n, "setgroups: %s", what);
        break;
    case ST_GID:
        snprintf(buf, n, "setgid: %s", what);
        break;
    case ST_UID:
        snprintf(buf, n, "setuid: %s", what);
        break;
    case ST_EXEC:
        snprintf(buf, n, "exec %s: %s", s->path ? s->path : s->argv[0], what);
        break;
    default:
        snprintf(buf, n, "failed to set up stdio: %s", what);
        break;
    }
}

static void __attribute__((noreturn)) child_fail(const struct spawn *s, int stage, int e)
{
    if (s->report_fd >= 0) {
        int msg[2] = { stage, e };
        ssize_t w = write(s->report_fd, msg, sizeof(msg));
        (void)w;
    } else {
        char buf[512];
        spawn_error(buf, sizeof(buf), stage, e, s);
        dprintf(STDERR_FILENO, "%s\n", buf);
    }
    _exit(stage == ST_EXEC && e == ENOENT ? 127 : 126);
}

/* In the forked child: become the program.  Only system calls from here. */
static void __attribute__((noreturn)) child_run(const struct spawn *s)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    setpgid(0, 0);
    if (s->die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != s->parent)
            _exit(1);
    }
    if (dup2(s->in_fd, STDIN_FILENO) < 0 || dup2(s->out_fd, STDOUT_FILENO) < 0 ||
        dup2(s->err_fd, STDERR_FILENO) < 0)
        child_fail(s, ST_DUP, errno);
    if (s->netns_fd >= 0 && setns(s->netns_fd, CLONE_NEWNET) < 0)
        child_fail(s, ST_SETNS, errno);
    if (chdir(s->cwd) < 0)
        child_fail(s, ST_CHDIR, errno);
    if (s->ids->set) {
        if (setgroups((size_t)s->ids->ngroups, s->ids->groups) < 0)
            child_fail(s, ST_GROUPS, errno);
        if (setgid(s->ids->gid) < 0)
            child_fail(s, ST_GID, errno);
        if (setuid(s->ids->uid) < 0)
            child_fail(s, ST_UID, errno);
    }
    if (s->path)
        execve(s->path, (char *const *)s->argv, (char *const *)s->env);
    else
        fexecve(s->exe_fd, (char *const *)s->argv, (char *const *)s->env);
    child_fail(s, ST_EXEC, errno);
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- container output -> <name>.log ----------------------------------- */

static void log_line(struct ctr *c, int which, int64_t ms, const char *a, size_t alen,
                     const char *b, size_t blen)
{
    if (c->logfd < 0)
        return;
    char prefix[32];
    int pn = snprintf(prefix, sizeof(prefix), "%lld %d ", (long long)ms, which + 1);
    struct iovec iov[4] = {
        { prefix, (size_t)pn }, { (void *)a, alen }, { (void *)b, blen }, { "\n", 1 },
    };
    if (writev_all(c->logfd, iov, 4) < 0) {
        log_error("%s.log: %s; its output is dropped from now on", c->name, strerror(errno));
        close_fd(&c->logfd);
    }
}

/* Splits what was read into lines; a line never grows past LOG_LINE_MAX. */
static void stream_feed(struct ctr *c, int which, const char *p, size_t n, int64_t ms)
{
    struct stream *s = &c->out[which];
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        size_t room = LOG_LINE_MAX - s->len;
        if (seg > room) {
            log_line(c, which, ms, s->buf, s->len, p, room);
            s->len = 0;
            p += room;
            n -= room;
        } else if (nl) {
            log_line(c, which, ms, s->buf, s->len, p, seg);
            s->len = 0;
            p += seg + 1;
            n -= seg + 1;
        } else {
            if (s->len + seg > s->cap) {
                size_t cap = s->cap ? s->cap : 4096;
                while (cap < s->len + seg)
                    cap *= 2;
                if (cap > LOG_LINE_MAX)
                    cap = LOG_LINE_MAX;
                char *nb = realloc(s->buf, cap);
                if (!nb) {
                    log_error("out of memory");
                    _exit(1);
                }
                s->buf = nb;
                s->cap = cap;
            }
            memcpy(s->buf + s->len, p, seg);
            s->len += seg;
            n = 0;
        }
    }
}

static void stream_close(struct ctr *c, int which, int64_t ms)
{
    struct stream *s = &c->out[which];
    if (s->len)
        log_line(c, which, ms, s->buf, s->len, "", 0);
    s->len = 0;
    close_fd(&s->fd);
}

/* Reads what the pipe has (once, or until it is empty when draining). */
static void stream_read(struct ctr *c, int which, int drain)
{
    static char chunk[65536];
    struct stream *s = &c->out[which];
    while (s->fd >= 0) {
        ssize_t r = read(s->fd, chunk, sizeof(chunk));
        int64_t ms = (int64_t)(wall_now() * 1000.0);
        if (r > 0) {
            stream_feed(c, which, chunk, (size_t)r, ms);
            if (!drain)
                return;
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
            stream_close(c, which, ms);
        } else if (errno == EAGAIN) {
            return;
        }
    }
}

/* ---- container lifecycle ---------------------------------------------- */

static void begin_stop(struct task *t, const char *code, const char *reason);

static void ctr_failed(struct task *t, struct ctr *c, const char *prefix, const char *why)
{
    char reason[REASON_MAX + 1];
    snprintf(reason, sizeof(reason), "%s%s", prefix, why);
    free(c->reason);
    c->reason = xstrdup(reason);
    c->state = STOPPED;
    log_warn("container %s: %s", c->name, c->reason);
    if (c->essential)
        begin_stop(t, "TaskFailedToStart", c->reason);
    t->dirty = 1;
}

static void ctr_start(struct task *t, struct ctr *c)
{
    char err[REASON_MAX], path[PATH_MAX], eb[128];
    struct ids ids;
    int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2] = { -1, -1 };

    if (resolve_user(c->user, &ids, err, sizeof(err)) < 0)
        goto fail;
    if (!c->placeholder && look_path(c->argv[0], c->env, c->cwd, path, sizeof(path), err,
                                     sizeof(err)) < 0)
        goto fail;
    if (c->placeholder && t->exe_fd < 0) {
        snprintf(err, sizeof(err), "cannot run the placeholder: /proc/self/exe was not open");
        goto fail;
    }
    if (c->netns && c->netns_fd < 0) {
        snprintf(err, sizeof(err), "failed to open network namespace %s: %s", c->netns,
                 errtext(c->netns_errno, eb, sizeof(eb)));
        goto fail;
    }
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
        snprintf(err, sizeof(err), "pipe: %s", errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    if (c->logfd < 0) {
        char name[NAME_MAX + 1];
        snprintf(name, sizeof(name), "%s.log", c->name);
        c->logfd = openat(t->dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (c->logfd < 0)
            log_error("%s/%s: %s; the container's output is dropped", t->dir, name,
                      strerror(errno));
    }
    struct spawn s = {
        .path = c->placeholder ? NULL : path, .exe_fd = t->exe_fd,
        .argv = c->argv, .env = c->env, .cwd = c->cwd, .ids = &ids,
        .netns_fd = c->netns_fd, .netns = c->netns,
        .in_fd = t->nullfd, .out_fd = outp[1], .err_fd = errp[1], .report_fd = rep[1],
        .die_with_parent = !t->isolate, .parent = getpid(),
    };
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, sizeof(err), "fork: %s", errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    if (pid == 0)
        child_run(&s);
    setpgid(pid, pid);          /* the child does it too; whoever is first */
    close_fd(&outp[1]);
    close_fd(&errp[1]);
    close_fd(&rep[1]);
    free(ids.groups);
    ids.groups = NULL;

    int msg[2];
    ssize_t r = read_full(rep[0], msg, sizeof(msg));
    close_fd(&rep[0]);
    if (r == (ssize_t)sizeof(msg)) {
        spawn_error(err, sizeof(err), msg[0], msg[1], &s);
        waitpid(pid, NULL, 0);
        goto fail;
    }
    c->pid = pid;
    c->state = RUNNING;
    c->started_at = wall_now();
    c->started_mono = mono_ms();
    c->out[0].fd = outp[0];
    c->out[1].fd = errp[0];
    set_nonblock(outp[0]);
    set_nonblock(errp[0]);
    if (c->hc_argv)
        c->next_probe = c->started_mono + seconds_ms(c->hc_interval);
    log_info("container %s started: pid %d", c->name, (int)pid);
    t->dirty = 1;
    return;

fail:
    free(ids.groups);
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&rep[0]);
    close_fd(&rep[1]);
    ctr_failed(t, c, START_ERROR, err);
}

/* 1: met, 0: not yet, -1: never (why says so, in the agent's words). */
static int dep_state(struct task *t, struct ctr *c, struct dep *d, char *why, size_t n)
{
    const char *pre = "dependency graph: failed to resolve container ordering dependency";
    if (d->idx < 0) {
        snprintf(why, n, "dependency graph: container ordering dependency [%s] for target [%s] "
                 "does not exist.", d->name, c->name);
        return -1;
    }
    struct ctr *o = &t->c[d->idx];
    if (o->state == STOPPED && o->started_at == 0) {
        snprintf(why, n, "%s [%s] for target [%s] because dependency will never start", pre,
                 o->name, c->name);
        return -1;
    }
    switch (d->cond) {
    case COND_START:
        return o->state != PENDING;
    case COND_COMPLETE:
        return o->state == STOPPED;
    case COND_SUCCESS:
        if (o->state != STOPPED)
            return 0;
        if (o->has_exit && o->exit_code == 0)
            return 1;
        snprintf(why, n, "%s [%s] for target [%s] as dependency did not exit successfully.", pre,
                 o->name, c->name);
        return -1;
    case COND_HEALTHY:
        if (o->health == H_NONE) {
            snprintf(why, n, "%s [%s] for target [%s] as dependency has no health check.", pre,
                     o->name, c->name);
            return -1;
        }
        if (o->state == RUNNING && o->health == H_HEALTHY)
            return 1;
        if (o->state == STOPPED) {
            snprintf(why, n, "%s [%s] for target [%s] as dependency stopped before becoming "
                     "healthy.", pre, o->name, c->name);
            return -1;
        }
        return 0;
    }
    return 0;
}

/* Starts every pending container whose dependencies hold, until nothing
 * changes (a start can satisfy another container's START condition). */
static void start_ready(struct task *t)
{
    int changed = 1;
    while (changed && !t->stopping) {
        changed = 0;
        for (int i = 0; i < t->n && !t->stopping; i++) {
            struct ctr *c = &t->c[i];
            if (c->state != PENDING)
                continue;
            char why[REASON_MAX];
            int ready = 1;
            for (int d = 0; d < c->ndeps && ready == 1; d++) {
                int r = dep_state(t, c, &c->deps[d], why, sizeof(why));
                if (r < 0)
                    ready = -1;
                else if (r == 0)
                    ready = 0;
            }
            if (ready < 0)
                ctr_failed(t, c, START_ERROR, why);
            else if (ready > 0)
                ctr_start(t, c);
            changed |= ready != 0;
        }
    }
}

static void begin_stop(struct task *t, const char *code, const char *reason)
{
    if (t->stopping)
        return;
    t->stopping = 1;
    t->stop_code = code;
    t->stop_reason = reason ? xstrdup(reason) : NULL;
    log_info("stopping the task%s%s", code ? ": " : " (asked to)", code ? code : "");
    for (int i = 0; i < t->n; i++)
        if (t->c[i].state == PENDING)
            t->c[i].state = STOPPED;
    t->dirty = 1;
}

static void signal_group(pid_t pid, int sig)
{
    if (kill(-pid, sig) < 0 && errno == ESRCH)
        kill(pid, sig);         /* it left its process group */
}

static void ctr_term(struct ctr *c)
{
    log_info("container %s: SIGTERM, SIGKILL in %gs", c->name, c->stop_timeout);
    signal_group(c->pid, SIGTERM);
    c->term_sent = 1;
    c->kill_at = mono_ms() + seconds_ms(c->stop_timeout);
    if (c->kill_at == 0)
        c->kill_at = 1;
}

static int has_running_dependent(struct task *t, int idx)
{
    for (int i = 0; i < t->n; i++) {
        if (i == idx || t->c[i].state != RUNNING)
            continue;
        for (int d = 0; d < t->c[i].ndeps; d++)
            if (t->c[i].deps[d].idx == idx)
                return 1;
    }
    return 0;
}

/* SIGTERM in reverse dependency order: a container once every running
 * container that depends on it has stopped. */
static void stop_step(struct task *t)
{
    int running = 0, in_flight = 0, sent = 0;
    for (int i = 0; i < t->n; i++) {
        if (t->c[i].state != RUNNING)
            continue;
        running++;
        in_flight += t->c[i].term_sent;
    }
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        if (c->state == RUNNING && !c->term_sent && !has_running_dependent(t, i)) {
            ctr_term(c);
            sent++;
        }
    }
    if (running && !in_flight && !sent) {
        /* Only a dependency cycle (refused by spec_load) could block every
         * container; make sure a stop always gets somewhere anyway. */
        for (int i = 0; i < t->n; i++)
            if (t->c[i].state == RUNNING && !t->c[i].term_sent)
                ctr_term(&t->c[i]);
    }
}

static void ctr_exited(struct task *t, struct ctr *c, int status)
{
    c->state = STOPPED;
    c->has_exit = 1;
    c->exit_code = exit_code_of(status);
    c->finished_at = wall_now();
    c->kill_at = 0;
    stream_read(c, 0, 1);
    stream_read(c, 1, 1);
    if (c->probe.pid > 0)
        signal_group(c->probe.pid, SIGKILL);
    log_info("container %s exited: %d", c->name, c->exit_code);
    if (c->essential)
        begin_stop(t, "EssentialContainerExited", "Essential container in task exited");
    t->dirty = 1;
}

/* ---- health checks ---------------------------------------------------- */

static void set_health(struct ctr *c, enum hstate h)
{
    if (c->health == h)
        return;
    log_info("container %s: health %s", c->name, health_names[h]);
    c->health = h;
    c->health_since = wall_now();
}

/* Docker's rules: a success makes it HEALTHY; `retries` consecutive
 * failures make it UNHEALTHY; failures during the start period do not
 * count until the first success. */
static void health_result(struct task *t, struct ctr *c, int code, const char *out, size_t len,
                          int64_t started)
{
    c->has_hresult = 1;
    c->hexit = code;
    free(c->houtput);
    c->houtput = xcalloc(len + 1, 1);
    memcpy(c->houtput, out, len);
    c->houtlen = len;
    if (code == 0) {
        c->streak = 0;
        set_health(c, H_HEALTHY);
    } else {
        int in_start = c->health != H_HEALTHY &&
                       started - c->started_mono < seconds_ms(c->hc_start_period);
        if (!in_start && ++c->streak >= c->hc_retries)
            set_health(c, H_UNHEALTHY);
    }
    c->next_probe = mono_ms() + seconds_ms(c->hc_interval);
    t->dirty = 1;
}

static void probe_start(struct task *t, struct ctr *c)
{
    char err[REASON_MAX], path[PATH_MAX], eb[128];
    struct ids ids;
    int pp[2] = { -1, -1 };
    int64_t now = mono_ms();
    int code = 126;

    if (resolve_user(c->user, &ids, err, sizeof(err)) < 0)
        goto fail;
    if (look_path(c->hc_argv[0], c->env, c->cwd, path, sizeof(path), err, sizeof(err)) < 0) {
        code = 127;
        goto fail;
    }
    if (c->netns && c->netns_fd < 0) {
        snprintf(err, sizeof(err), "failed to open network namespace %s: %s", c->netns,
                 errtext(c->netns_errno, eb, sizeof(eb)));
        goto fail;
    }
    if (pipe2(pp, O_CLOEXEC) < 0) {
        snprintf(err, sizeof(err), "pipe: %s", errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    struct spawn s = {
        .path = path, .exe_fd = -1, .argv = c->hc_argv, .env = c->env, .cwd = c->cwd,
        .ids = &ids, .netns_fd = c->netns_fd, .netns = c->netns,
        .in_fd = t->nullfd, .out_fd = pp[1], .err_fd = pp[1], .report_fd = -1,
        .die_with_parent = !t->isolate, .parent = getpid(),
    };
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, sizeof(err), "fork: %s", errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    if (pid == 0)
        child_run(&s);
    setpgid(pid, pid);
    close_fd(&pp[1]);
    free(ids.groups);
    set_nonblock(pp[0]);
    c->probe.pid = pid;
    c->probe.fd = pp[0];
    c->probe.started = now;
    c->probe.deadline = now + seconds_ms(c->hc_timeout);
    c->probe.timed_out = 0;
    c->probe.outlen = 0;
    return;

fail:
    free(ids.groups);
    close_fd(&pp[0]);
    close_fd(&pp[1]);
    log_warn("container %s: health check: %s", c->name, err);
    health_result(t, c, code, err, strlen(err), now);
}

/* Keeps the first HEALTH_OUTPUT_MAX bytes and throws the rest away. */
static void probe_read(struct ctr *c, int drain)
{
    char chunk[4096];
    while (c->probe.fd >= 0) {
        ssize_t r = read(c->probe.fd, chunk, sizeof(chunk));
        if (r > 0) {
            size_t room = HEALTH_OUTPUT_MAX - c->probe.outlen;
            size_t k = (size_t)r < room ? (size_t)r : room;
            memcpy(c->probe.out + c->probe.outlen, chunk, k);
            c->probe.outlen += k;
            if (!drain)
                return;
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
            close_fd(&c->probe.fd);
        } else if (errno == EAGAIN) {
            return;
        }
    }
}

static void probe_done(struct task *t, struct ctr *c, int status)
{
    probe_read(c, 1);
    close_fd(&c->probe.fd);
    c->probe.pid = 0;
    if (c->state != RUNNING)
        return;                 /* the container is gone; so is the question */
    if (c->probe.timed_out) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Health check exceeded timeout (%gs)", c->hc_timeout);
        health_result(t, c, -1, msg, strlen(msg), c->probe.started);
    } else {
        health_result(t, c, exit_code_of(status), c->probe.out, c->probe.outlen,
                      c->probe.started);
    }
}

/* ---- the pause process ------------------------------------------------ */

static void pause_stop(int sig)
{
    (void)sig;
    _exit(0);
}

static void pause_reap(int sig)
{
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    errno = saved;
}

/* pid 1 of the task: mounts the namespace's /proc, reaps orphans, exits
 * only on SIGTERM/SIGINT (as the ECS pause container) or SIGKILL. */
static void __attribute__((noreturn)) pause_main(int ready_fd)
{
    prctl(PR_SET_NAME, "ecsl-pause");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int e = 0;
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        e = errno;
    ssize_t w = write(ready_fd, &e, sizeof(e));
    (void)w;
    if (e)
        _exit(1);
    close_range(3, ~0U, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = pause_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = pause_reap;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    int ignored[] = { SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM };
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        sigaction(ignored[i], &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    pause_reap(SIGCHLD);
    for (;;)
        pause();
}

/* ---- namespaces ------------------------------------------------------- */

static int bind_file(struct task *t, const char *name, const char *content, const char *target,
                     char *err, size_t n)
{
    char src[PATH_MAX + 64];
    if (!content)
        return 0;
    if (write_file_at(t->dirfd, name, content, strlen(content)) < 0)
        return errf(err, n, "writing %s/%s: %s", t->dir, name, strerror(errno));
    struct stat st;
    if (stat(target, &st) < 0) {
        log_info("%s does not exist here; not replaced", target);
        return 0;
    }
    snprintf(src, sizeof(src), "%s/%s", t->dir, name);
    if (mount(src, target, NULL, MS_BIND, NULL) < 0)
        return errf(err, n, "bind-mounting %s on %s: %s", src, target, strerror(errno));
    return 0;
}

/* A bridge-mode container has a network namespace of its own, opened
 * once here: its path may not be visible later (see detach_netns_dir). */
static void open_container_netns(struct task *t)
{
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        if (c->netns && (c->netns_fd = open(c->netns, O_RDONLY | O_CLOEXEC)) < 0)
            c->netns_errno = errno;
    }
}

/* A copy of the host's mounts (when the daemon handed over no namespace
 * for tasks) holds a bind mount of every namespace ecslocal made, and a
 * mount keeps its namespace alive: a stopped task's network would live on
 * until every task started after it had stopped too.  The task's mount
 * namespace needs none of them once its own are open. */
static void detach_netns_dir(void)
{
    if (umount2(NETNS_DIR, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        log_warn("detaching %s: %s", NETNS_DIR, strerror(errno));
}

/* The mount namespace the daemon hands over for tasks to copy (shim
 * --mounts FD; see make_mount_base in runtime.c), or -1. */
static int mount_base = -1;

/* The task's own mount and UTS namespaces, copied from the daemon's
 * namespace for tasks when it handed one over, with the task's
 * /etc/hosts, /etc/resolv.conf, /etc/hostname and hostname. */
static int own_mounts(struct task *t, char *err, size_t n)
{
    if (mount_base >= 0 && setns(mount_base, CLONE_NEWNS) < 0)
        log_warn("joining the daemon's mount namespace for tasks: %s", strerror(errno));
    if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0)
        return errf(err, n, "unshare(mount, uts): %s", strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return errf(err, n, "making / private: %s", strerror(errno));
    char hostname_file[300];
    snprintf(hostname_file, sizeof(hostname_file), "%s\n", t->hostname ? t->hostname : "");
    if (bind_file(t, "hosts", t->hosts, "/etc/hosts", err, n) < 0 ||
        bind_file(t, "resolv.conf", t->resolv_conf, "/etc/resolv.conf", err, n) < 0 ||
        bind_file(t, "hostname", t->hostname ? hostname_file : NULL, "/etc/hostname", err,
                  n) < 0)
        return -1;
    if (t->hostname && sethostname(t->hostname, strlen(t->hostname)) < 0)
        return errf(err, n, "sethostname %s: %s", t->hostname, strerror(errno));
    return 0;
}

/* Puts the shim (and so everything it starts) into the task's namespaces
 * and starts the pause process. */
static int setup_namespaces(struct task *t, char *err, size_t n)
{
    /* Every network namespace first: their paths are pins under
     * NETNS_DIR, which the task's mount namespace does not have. */
    open_container_netns(t);
    int netfd = -1;
    if (t->netns && (netfd = open(t->netns, O_RDONLY | O_CLOEXEC)) < 0)
        return errf(err, n, "opening network namespace %s: %s", t->netns, strerror(errno));
    int rc = t->isolate ? own_mounts(t, err, n) : 0;
    if (mount_base >= 0) {
        close(mount_base);
        mount_base = -1;
    }
    if (rc < 0) {
        if (netfd >= 0)
            close(netfd);
        return -1;
    }
    if (t->netns) {
        rc = setns(netfd, CLONE_NEWNET);
        int e = errno;
        close(netfd);
        if (rc < 0)
            return errf(err, n, "joining network namespace %s: %s", t->netns, strerror(e));
        /* /sys shows the network namespace of whoever mounted it; as
         * `ip netns exec` does, mount one for ours (only in our own mount
         * namespace, never the host's). */
        if (t->isolate && (umount2("/sys", MNT_DETACH) < 0 ||
                           mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                 NULL) < 0))
            log_warn("remounting /sys for %s: %s", t->netns, strerror(errno));
    }
    if (t->isolate)
        detach_netns_dir();
    if (!t->isolate)
        return 0;
    if (unshare(CLONE_NEWPID) < 0)
        return errf(err, n, "unshare(pid): %s", strerror(errno));
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return errf(err, n, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(ready[0]);
        close(ready[1]);
        return errf(err, n, "fork (pause): %s", strerror(e));
    }
    if (pid == 0) {
        close(ready[0]);
        pause_main(ready[1]);
    }
    close(ready[1]);
    t->pause_pid = pid;
    int e = 0;
    ssize_t r = read_full(ready[0], &e, sizeof(e));
    close(ready[0]);
    if (r != (ssize_t)sizeof(e))
        return errf(err, n, "the pause process died while starting");
    if (e)
        return errf(err, n, "mounting /proc for the task: %s", strerror(e));
    t->proc_mounted = 1;
    log_info("pause process %d is pid 1 of the task", (int)pid);
    return 0;
}

/* ---- the end ---------------------------------------------------------- */

/* Without a pid namespace, orphans come to us (we are a subreaper);
 * SIGKILL every child we still have. */
static void kill_children(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (r <= 0)
            continue;
        buf[r] = '\0';
        char *p = strrchr(buf, ')');
        int ppid;
        char st;
        if (p && sscanf(p + 1, " %c %d", &st, &ppid) == 2 && ppid == self)
            kill(atoi(e->d_name), SIGKILL);
    }
    closedir(d);
}

static struct ctr *by_pid(struct task *t, pid_t pid, int probe)
{
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        if (probe ? c->probe.pid == pid : (c->pid == pid && c->state == RUNNING))
            return c;
    }
    return NULL;
}

static void reaped(struct task *t, pid_t pid, int status)
{
    struct ctr *c;
    if ((c = by_pid(t, pid, 0))) {
        ctr_exited(t, c, status);
    } else if ((c = by_pid(t, pid, 1))) {
        probe_done(t, c, status);
    } else if (pid == t->pause_pid) {
        t->pause_pid = 0;
        t->dirty = 1;
        if (!t->done) {
            log_warn("the pause process exited (%d); the task's pid namespace is gone",
                     exit_code_of(status));
            begin_stop(t, NULL, NULL);
        }
    }
}

/* Reaps every exited child.  A container's process group is killed before
 * its leader is reaped, so the group id cannot have been reused. */
static void reap(struct task *t)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
            return;
        pid_t pid = si.si_pid;
        if (by_pid(t, pid, 0))
            kill(-pid, SIGKILL);
        int status = 0;
        if (waitpid(pid, &status, 0) < 0) {
            log_error("waitpid %d: %s", (int)pid, strerror(errno));
            return;
        }
        reaped(t, pid, status);
    }
}

/* Every container has stopped: end whatever is left, then say done. */
static void finish(struct task *t)
{
    t->done = 1;
    for (int i = 0; i < t->n; i++)
        if (t->c[i].probe.pid > 0)
            signal_group(t->c[i].probe.pid, SIGKILL);
    if (t->pause_pid > 0)
        kill(t->pause_pid, SIGKILL);        /* the kernel kills the namespace */
    for (;;) {
        if (!t->isolate)
            kill_children();
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0) {
            if (errno != ECHILD)
                log_error("waitpid: %s", strerror(errno));
            break;
        }
        reaped(t, pid, status);
    }
    /* The task's pid namespace is dead and nothing can be forked into it:
     * new children (if any, e.g. a sanitizer's helper) go back to ours. */
    if (t->isolate && t->own_pidns >= 0 && setns(t->own_pidns, CLONE_NEWPID) < 0)
        log_warn("returning to our own pid namespace: %s", strerror(errno));
    if (t->proc_mounted && umount2("/proc", MNT_DETACH) < 0)
        log_warn("unmounting the task's /proc: %s", strerror(errno));
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        stream_read(c, 0, 1);
        stream_read(c, 1, 1);
        stream_close(c, 0, (int64_t)(wall_now() * 1000.0));
        stream_close(c, 1, (int64_t)(wall_now() * 1000.0));
        close_fd(&c->probe.fd);
        close_fd(&c->logfd);
        close_fd(&c->netns_fd);
    }
    status_write(t);
    log_info("task done");
}

/* ---- the event loop --------------------------------------------------- */

static int all_stopped(struct task *t)
{
    for (int i = 0; i < t->n; i++)
        if (t->c[i].state != STOPPED)
            return 0;
    return 1;
}

static int stop_file_present(struct task *t)
{
    return faccessat(t->dirfd, "stop", F_OK, 0) == 0;
}

static void read_signals(struct task *t)
{
    struct signalfd_siginfo si;
    int chld = 0;
    while (read(t->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            chld = 1;
        } else if (!t->stop_requested) {
            log_info("signal %u: stopping", si.ssi_signo);
            t->stop_requested = 1;
        }
    }
    if (chld)
        reap(t);
}

/* Deadlines that are due: SIGKILL after stop timeouts, health checks. */
static void run_timers(struct task *t)
{
    int64_t now = mono_ms();
    if (now >= t->next_stop_check) {
        t->next_stop_check = now + STOP_FILE_POLL_MS;
        if (!t->stop_requested && stop_file_present(t)) {
            log_info("stop file: stopping");
            t->stop_requested = 1;
        }
    }
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        if (c->state == RUNNING && c->kill_at && now >= c->kill_at) {
            log_info("container %s: stop timeout; SIGKILL", c->name);
            signal_group(c->pid, SIGKILL);
            c->kill_at = 0;
        }
        if (c->probe.pid > 0 && !c->probe.timed_out && now >= c->probe.deadline) {
            signal_group(c->probe.pid, SIGKILL);
            c->probe.timed_out = 1;
        }
        if (c->state == RUNNING && c->hc_argv && !c->term_sent && c->probe.pid == 0 &&
            now >= c->next_probe)
            probe_start(t, c);
    }
}

static int poll_timeout(struct task *t)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < t->n; i++) {
        struct ctr *c = &t->c[i];
        if (c->state == RUNNING && c->kill_at && c->kill_at < next)
            next = c->kill_at;
        if (c->probe.pid > 0 && !c->probe.timed_out && c->probe.deadline < next)
            next = c->probe.deadline;
        if (c->state == RUNNING && c->hc_argv && !c->term_sent && c->probe.pid == 0 &&
            c->next_probe < next)
            next = c->next_probe;
    }
    if (t->next_stop_check < next)
        next = t->next_stop_check;
    if (next == INT64_MAX)
        return -1;
    int64_t wait = next - mono_ms();
    return wait < 0 ? 0 : wait > 3600000 ? 3600000 : (int)wait;
}

static void run(struct task *t)
{
    int max = 1 + 3 * t->n;
    struct pollfd *pfd = xcalloc((size_t)max, sizeof(struct pollfd));
    int *owner = xcalloc((size_t)max, sizeof(int));   /* container * 3 + kind */
    for (;;) {
        if (t->stop_requested)
            begin_stop(t, NULL, NULL);
        if (!t->stopping)
            start_ready(t);
        if (t->stopping)
            stop_step(t);
        if (all_stopped(t))
            break;
        if (t->dirty)
            status_write(t);

        int np = 0;
        pfd[np++] = (struct pollfd){ .fd = t->sigfd, .events = POLLIN };
        for (int i = 0; i < t->n; i++) {
            struct ctr *c = &t->c[i];
            int fds[3] = { c->out[0].fd, c->out[1].fd, c->probe.fd };
            for (int k = 0; k < 3; k++) {
                if (fds[k] < 0)
                    continue;
                owner[np] = i * 3 + k;
                pfd[np++] = (struct pollfd){ .fd = fds[k], .events = POLLIN };
            }
        }
        int rc = poll(pfd, (nfds_t)np, poll_timeout(t));
        if (rc < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            begin_stop(t, NULL, NULL);
            continue;
        }
        for (int k = 1; rc > 0 && k < np; k++) {
            if (!pfd[k].revents)
                continue;
            struct ctr *c = &t->c[owner[k] / 3];
            int kind = owner[k] % 3;
            if (kind < 2)
                stream_read(c, kind, 0);
            else
                probe_read(c, 0);
        }
        if (rc > 0 && pfd[0].revents)
            read_signals(t);
        run_timers(t);
    }
    free(pfd);
    free(owner);
}

/* ---- entry point ------------------------------------------------------ */

/* The task could not be set up: every container STOPPED with the reason. */
static void fail_task(struct task *t, const char *why)
{
    char reason[REASON_MAX + 1];
    snprintf(reason, sizeof(reason), "%s%s", INIT_ERROR, why);
    log_error("%s", reason);
    for (int i = 0; i < t->n; i++) {
        if (t->c[i].state == PENDING) {
            t->c[i].state = STOPPED;
            t->c[i].reason = xstrdup(reason);
        }
    }
    begin_stop(t, "TaskFailedToStart", reason);
    finish(t);
}

/* Standard streams: stdin and stdout /dev/null, stderr DIR/shim.log. */
static int setup_stdio(struct task *t)
{
    int fd;
    do {
        fd = open("/dev/null", O_RDWR);
    } while (fd >= 0 && fd <= 2);
    if (fd >= 0)
        close(fd);
    t->nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int logfd = openat(t->dirfd, "shim.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (t->nullfd < 0 || logfd < 0) {
        fprintf(stderr, "ecslocal shim: %s/shim.log: %s\n", t->dir, strerror(errno));
        if (logfd >= 0)
            close(logfd);
        return -1;
    }
    dup2(t->nullfd, STDIN_FILENO);
    dup2(t->nullfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    close(logfd);
    return 0;
}

int shim_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: ecslocal shim TASK_DIR\n");
        return 2;
    }
    /* Signals are read from a signalfd; block them before anything else so
     * an early SIGTERM is a stop request, not death. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);

    struct task t;
    memset(&t, 0, sizeof(t));
    t.dirfd = t.exe_fd = t.own_pidns = t.sigfd = t.nullfd = -1;

    /* Nothing the daemon had open may reach a container (the mount
     * namespace it handed over is kept, and closed once joined). */
    if (mount_base >= 3) {
        close_range(3, (unsigned)mount_base - 1, 0);
        close_range((unsigned)mount_base + 1, ~0U, 0);
        fcntl(mount_base, F_SETFD, FD_CLOEXEC);
    } else {
        close_range(3, ~0U, 0);
    }
    prctl(PR_SET_NAME, "ecsl-shim");
    umask(022);
    if (!realpath(argv[1], t.dir) ||
        (t.dirfd = open(t.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "ecslocal shim: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (setup_stdio(&t) < 0)
        return 1;
    if (chdir("/") < 0)
        log_warn("chdir /: %s", strerror(errno));

    char sigerr[128] = "";
    t.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (t.sigfd < 0)
        snprintf(sigerr, sizeof(sigerr), "signalfd: %s", strerror(errno));
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_warn("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
    /* Before the task's /proc hides ours. */
    t.exe_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
    if (t.exe_fd < 0)
        log_warn("/proc/self/exe: %s; placeholders cannot start", strerror(errno));
    t.own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);

    log_info("shim %d for %s", (int)getpid(), t.dir);
    char err[REASON_MAX];
    int rc = 0;
    if (spec_load(&t, err, sizeof(err)) < 0) {
        /* No containers to report on, only the task's failure. */
        task_free(&t);
        t.c = NULL;
        t.n = 0;
        t.spec = NULL;
        fail_task(&t, err);
        rc = 1;
    } else if (sigerr[0]) {
        fail_task(&t, sigerr);
        rc = 1;
    } else {
        status_write(&t);
        if (setup_namespaces(&t, err, sizeof(err)) < 0) {
            fail_task(&t, err);
            rc = 1;
        } else {
            if (stop_file_present(&t))
                t.stop_requested = 1;
            run(&t);
            finish(&t);
        }
    }
    task_free(&t);
    close_fd(&t.sigfd);
    close(t.nullfd);
    close(t.dirfd);
    if (t.exe_fd >= 0)
        close(t.exe_fd);
    if (t.own_pidns >= 0)
        close(t.own_pidns);
    return rc;
}

int shim_command(int argc, char **argv)
{
    if (argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: ecslocal shim DIR [--parent PID] [--mounts FD]\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--parent") == 0) {
            pid_t parent = (pid_t)atoi(argv[i + 1]);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                raise(SIGTERM);
        } else if (strcmp(argv[i], "--mounts") == 0) {
            mount_base = atoi(argv[i + 1]);
        }
    }
    char *args[] = { argv[1], argv[2], NULL };
    int rc = shim_main(2, args);
    /* The task's /proc is mounted over ours in this mount namespace; exit
     * without the atexit work (a sanitizer's leak check walks /proc and
     * would not find us there). */
    fflush(NULL);
    _exit(rc);
}
