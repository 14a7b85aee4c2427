/*
 * The daemon's side of running tasks (see runtime.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "runtime.h"

extern char **environ;

static char root[512];
static char self_exe[512];
static char shim_exe[600];      /* ecslocal-shim beside us, else ourselves */
static int die_with_daemon;

/* The mount namespace task namespaces are copied from (-1: the host's;
 * see make_mount_base). */
static int mount_base = -1;
static int mount_base_tried;
static int mountinfo_fd = -1;       /* ours, polled for changes */
static uint64_t mount_base_print;   /* host_mounts_print when it was made */

/* Supervisors this process started and has not reaped yet. */
#define MAX_CHILDREN 4096
static pid_t children[MAX_CHILDREN];
static int nchildren;

static int make_dir(const char *path)
{
    return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int runtime_init(const char *dir, int die, char *err, size_t errlen)
{
    char tasks[600];
    snprintf(root, sizeof(root), "%s", dir);
    die_with_daemon = die;
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (n < 0) {
        snprintf(err, errlen, "cannot find own executable: %s", strerror(errno));
        return -1;
    }
    self_exe[n] = '\0';
    snprintf(shim_exe, sizeof(shim_exe), "%s-shim", self_exe);
    if (access(shim_exe, X_OK) < 0)
        snprintf(shim_exe, sizeof(shim_exe), "%s", self_exe);
    snprintf(tasks, sizeof(tasks), "%s/tasks", root);
    if (make_dir(root) < 0 || make_dir(tasks) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tasks, strerror(errno));
        return -1;
    }
    return 0;
}

const char *runtime_root(void)
{
    return root;
}

void runtime_task_dir(const char *task_id, char *out, size_t len)
{
    snprintf(out, len, "%s/tasks/%s", root, task_id);
}

static int write_file(const char *path, const char *data, size_t len)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    /* No fsync: a crash of the machine ends the task anyway, and the
     * rename alone keeps a reader from seeing half a file. */
    if (close(fd) < 0) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
}

/* A task's mount namespace is a copy of the one its supervisor starts in.
 * The host's holds a pin under NETNS_DIR for every namespace ecslocal made,
 * so copying it costs one mount per running task, and starting a task
 * would grow slower with every task running.  This namespace is a copy of
 * the host's without NETNS_DIR, so none of the pins made there reach it;
 * it follows the host's later mounts where they propagate (a slave of a
 * shared /), and is made again when the host's mounts change otherwise
 * (host_mounts_changed).  A forked child makes it (a threaded process
 * cannot change its own); we keep a descriptor and hand it to each
 * supervisor (shim --mounts). */
static void make_mount_base(void)
{
    int ready[2], hold[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return;
    if (pipe2(hold, O_CLOEXEC) < 0) {
        close(ready[0]);
        close(ready[1]);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* Only system calls from here: the parent has threads. */
        close(ready[0]);
        close(hold[1]);
        char ok = unshare(CLONE_NEWNS) == 0 &&
                  mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 &&
                  (umount2(NETNS_DIR, MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT);
        ssize_t w = write(ready[1], &ok, 1);
        char c;
        ssize_t r = read(hold[0], &c, 1);       /* until the parent has it open */
        (void)w;
        (void)r;
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char ok = 0;
    if (pid > 0 && read(ready[0], &ok, 1) == 1 && ok) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        mount_base = open(path, O_RDONLY | O_CLOEXEC);
    }
    close(ready[0]);
    close(hold[1]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (mount_base < 0)
        log_warn("tasks' mount namespaces are copied from the host's (the cost of starting "
                 "one grows with the number running)");
}

/* The host's mounts apart from namespace pins, as one number (FNV-1a of
 * their mountinfo lines).  Reading the file also clears its "changed"
 * mark. */
static int host_mounts_print(uint64_t *out)
{
    if (mountinfo_fd < 0 &&
        (mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    if (lseek(mountinfo_fd, 0, SEEK_SET) < 0)
        return -1;
    uint64_t h = 14695981039346656037ull;
    char buf[65536], line[4096];
    size_t at = 0;
    ssize_t n;
    while ((n = read(mountinfo_fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (at < sizeof(line) - 1)
                    line[at++] = buf[i];
                continue;
            }
            line[at] = '\0';
            at = 0;
            /* The fifth field is the mount point. */
            const char *p = line;
            for (int f = 0; f < 4 && p; f++)
                p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
            if (!p || strncmp(p, "/run/netns/", 11) == 0 ||
                strncmp(p, "/var/run/netns/", 15) == 0)
                continue;
            for (const char *c = line; *c; c++)
                h = (h ^ (unsigned char)*c) * 1099511628211ull;
        }
    }
    *out = h;
    return n < 0 ? -1 : 0;
}

/* Whether the host mounted or unmounted something (pins aside) since the
 * namespace for tasks was made: a host whose mounts propagate nowhere
 * (its / is not shared) does not pass it on, and tasks must see it. */
static int host_mounts_changed(void)
{
    struct pollfd p = { mountinfo_fd, POLLPRI, 0 };
    if (mountinfo_fd < 0 || poll(&p, 1, 0) == 0)
        return 0;
    uint64_t now;
    return host_mounts_print(&now) == 0 && now != mount_base_print;
}

int runtime_spawn(const char *task_id, json_t *spec, pid_t *pid, char *err,
                  size_t errlen)
{
    char dir[600], path[700], ppid[32];
    runtime_task_dir(task_id, dir, sizeof(dir));
    if (make_dir(dir) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    char *text = json_dumps(spec, JSON_INDENT(1));
    snprintf(path, sizeof(path), "%s/spec.json", dir);
    if (!text || write_file(path, text, strlen(text)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(text);
        return -1;
    }
    free(text);
    if (mount_base >= 0 && host_mounts_changed()) {
        close(mount_base);
        mount_base = -1;
        mount_base_tried = 0;
    }
    if (!mount_base_tried && json_is_true(json_object_get(spec, "isolate"))) {
        mount_base_tried = 1;
        if (host_mounts_print(&mount_base_print) == 0)
            make_mount_base();
    }
    char mounts[16];
    snprintf(ppid, sizeof(ppid), "%d", (int)getpid());
    snprintf(mounts, sizeof(mounts), "%d", mount_base);
    char *argv[8];
    int k = 0;
    argv[k++] = shim_exe;
    argv[k++] = "shim";
    argv[k++] = dir;
    if (die_with_daemon) {
        argv[k++] = "--parent";
        argv[k++] = ppid;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (mount_base >= 0) {
        argv[k++] = "--mounts";
        argv[k++] = mounts;
        /* The same number: the child keeps it across exec. */
        posix_spawn_file_actions_adddup2(&fa, mount_base, mount_base);
    }
    argv[k] = NULL;
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    /* A session of its own: a signal to the daemon's group never reaches
     * the tasks, and the tasks survive the daemon unless told otherwise. */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    int rc = posix_spawn(pid, shim_exe, &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the task supervisor: %s", strerror(rc));
        return -1;
    }
    if (nchildren < MAX_CHILDREN)
        children[nchildren++] = *pid;
    return 0;
}

void runtime_reap(void)
{
    /* One look whether any child has exited (the usual answer is no), not
     * one per running supervisor on every turn of the reconciler. */
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (nchildren == 0 || waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
        info.si_pid == 0)
        return;
    for (int i = 0; i < nchildren;) {
        int status;
        pid_t r = waitpid(children[i], &status, WNOHANG);
        if (r == children[i] || (r < 0 && errno == ECHILD)) {
            children[i] = children[--nchildren];
            continue;
        }
        i++;
    }
}

json_t *runtime_status(const char *task_id)
{
    char path[700];
    runtime_task_dir(task_id, path, sizeof(path));
    strncat(path, "/status.json", sizeof(path) - strlen(path) - 1);
    json_error_t e;
    return json_load_file(path, 0, &e);
}

/* For a supervisor this process started, waitpid tells the truth (its
 * /proc cmdline is empty for a moment while it execs); reaps it if done. */
static int child_state(pid_t pid)
{
    for (int i = 0; i < nchildren; i++) {
        if (children[i] != pid)
            continue;
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == 0)
            return 1;
        children[i] = children[--nchildren];
        return 0;
    }
    return -1;
}

/* Whether pid's command line is "... shim <dir> ...". */
static int shim_of(pid_t pid, const char *dir)
{
    char path[64], cmdline[2048];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    cmdline[n] = '\0';
    int saw_shim = 0;
    for (char *p = cmdline; p < cmdline + n; p += strlen(p) + 1) {
        if (strcmp(p, "shim") == 0)
            saw_shim = 1;
        else if (saw_shim && strcmp(p, dir) == 0)
            return 1;
    }
    return 0;
}

int runtime_alive(pid_t pid, const char *task_id)
{
    if (pid <= 0)
        return 0;
    int mine = child_state(pid);
    if (mine >= 0)
        return mine;
    char dir[600];
    runtime_task_dir(task_id, dir, sizeof(dir));
    return shim_of(pid, dir);
}

pid_t runtime_find_shim(const char *task_id)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    pid_t found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid > 0 && runtime_alive(pid, task_id))
            found = pid;
    }
    closedir(d);
    return found;
}

int runtime_request_stop(const char *task_id, pid_t pid)
{
    char path[700];
    runtime_task_dir(task_id, path, sizeof(path));
    strncat(path, "/stop", sizeof(path) - strlen(path) - 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    if (runtime_alive(pid, task_id))
        kill(pid, SIGTERM);
    return 0;
}

void runtime_kill(const char *task_id, pid_t pid)
{
    json_t *st = runtime_status(task_id);
    pid_t pause = (pid_t)json_integer_value(json_object_get(st, "pause_pid"));
    json_decref(st);
    /* Killing the pause process (pid 1 of the task's pid namespace) makes
     * the kernel kill everything else in it. */
    if (runtime_alive(pid, task_id)) {
        kill(pid, SIGKILL);
        if (pause > 0)
            kill(pause, SIGKILL);
    }
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int runtime_remove(const char *task_id)
{
    char dir[600];
    runtime_task_dir(task_id, dir, sizeof(dir));
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

void runtime_remove_all(void)
{
    char tasks[600];
    snprintf(tasks, sizeof(tasks), "%s/tasks", root);
    DIR *d = opendir(tasks);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            runtime_remove(e->d_name);
    closedir(d);
}

void runtime_destroy(void)
{
    if (root[0] && nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", root, strerror(errno));
}

int runtime_read_log(const char *task_id, const char *container, long long *offset,
                     runtime_line_fn fn, void *arg)
{
    char path[800];
    runtime_task_dir(task_id, path, sizeof(path));
    size_t n = strlen(path);
    snprintf(path + n, sizeof(path) - n, "/%s.log", container);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    /* Called four times a second per task with awslogs: usually nothing
     * is new, and then nothing is allocated. */
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size <= (off_t)*offset) {
        close(fd);
        return 0;
    }
    int lines = 0;
    size_t cap = 1u << 20;      /* a line the supervisor writes is at most 256 KiB */
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t got = pread(fd, buf, cap - 1, (off_t)*offset);
        if (got <= 0)
            break;
        size_t used = 0;
        for (;;) {
            char *nl = memchr(buf + used, '\n', (size_t)got - used);
            if (!nl)
                break;
            *nl = '\0';
            char *line = buf + used;
            char *end;
            long long ts = strtoll(line, &end, 10);
            int stream = 1;
            const char *text = "";
            if (*end == ' ' && (end[1] == '1' || end[1] == '2') && end[2] == ' ') {
                stream = end[1] - '0';
                text = end + 3;
            }
            if (fn(ts, stream, text, (size_t)(nl - text), arg) < 0) {
                free(buf);
                close(fd);
                return -1;
            }
            lines++;
            used = (size_t)(nl - buf) + 1;
        }
        if (used == 0)
            break;      /* a partial line: wait for the rest */
        *offset += (long long)used;
    }
    free(buf);
    close(fd);
    return lines;
}

/* Whether pid is a running ecslocal (not a reused pid). */
static int ecslocal_running(pid_t pid)
{
    char path[64], cmd[512];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    cmd[n] = '\0';
    return strstr(cmd, "ecslocal") != NULL;
}

static void sweep_root(const char *dir)
{
    char sub[800];
    /* Its task supervisors (their --parent died, so they are stopping
     * anyway; make sure), then its namespaces, then its files. */
    snprintf(sub, sizeof(sub), "%s/tasks", dir);
    DIR *d = opendir(sub);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char status[1200];
            snprintf(status, sizeof(status), "%s/%s/status.json", sub, e->d_name);
            json_t *st = json_load_file(status, 0, NULL);
            pid_t shim = (pid_t)json_integer_value(json_object_get(st, "shim_pid"));
            pid_t pause = (pid_t)json_integer_value(json_object_get(st, "pause_pid"));
            json_decref(st);
            char cmd[1200];
            snprintf(cmd, sizeof(cmd), "%s/%s", sub, e->d_name);
            if (shim > 0 && shim_of(shim, cmd)) {
                kill(shim, SIGKILL);
                if (pause > 0)
                    kill(pause, SIGKILL);
            }
        }
        closedir(d);
    }
    snprintf(sub, sizeof(sub), "%s/netns", dir);
    d = opendir(sub);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strncmp(e->d_name, "ecsl-", 5) == 0)
                netns_delete(e->d_name);
        closedir(d);
    }
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int runtime_sweep_orphans(const char *tmpdir)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "ecsl-run-", 9) != 0)
            continue;
        pid_t pid = (pid_t)atoi(e->d_name + 9);
        if (pid <= 0 || pid == getpid() || ecslocal_running(pid))
            continue;
        char dir[600];
        snprintf(dir, sizeof(dir), "%s/%s", tmpdir, e->d_name);
        sweep_root(dir);
        n++;
    }
    closedir(d);
    return n;
}
