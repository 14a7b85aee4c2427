/*
 * The reconciler thread (see reconcile.h).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "../api/ecs_scheduler.h"
#include "../storage/db.h"
#include "../storage/store.h"
#include "listeners.h"
#include "log.h"
#include "netns.h"
#include "reconcile.h"
#include "runtime.h"
#include "server.h"
#include "tasks.h"
#include "vpcnet.h"

#define TICK_MS 250
#define EXPIRE_EVERY 60.0
#define KEEP_STOPPED 3600.0

static pthread_t thread;
static int running;
static int kickfd = -1, inofd = -1;
static struct task_ref *active;

/* Teardown requests from other threads. */
static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_done = PTHREAD_COND_INITIALIZER;
static int teardown_requested, teardown_generation;
static int paused;              /* between a teardown and reconcile_resume */

static double now_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void reconcile_kick(void)
{
    uint64_t one = 1;
    if (kickfd >= 0) {
        ssize_t w = write(kickfd, &one, sizeof(one));
        (void)w;
    }
}

static struct task_ref *find_task(const char *account, const char *region, const char *id)
{
    for (struct task_ref *t = active; t; t = t->next)
        if (strcmp(t->id, id) == 0 && strcmp(t->account, account) == 0 &&
            strcmp(t->region, region) == 0)
            return t;
    return NULL;
}

static void watch_task(struct task_ref *t)
{
    char dir[600];
    if (t->watch >= 0 || inofd < 0)
        return;
    runtime_task_dir(t->id, dir, sizeof(dir));
    /* The supervisor replaces status.json by renaming a new one over it;
     * other files of the directory change too, and wake nobody. */
    t->watch = inotify_add_watch(inofd, dir, IN_MOVED_TO);
}

static struct task_ref *add_task(const char *account, const char *region, const char *id)
{
    struct task_ref *t = find_task(account, region, id);
    if (t) {
        t->step = 1;
        return t;
    }
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    snprintf(t->account, sizeof(t->account), "%s", account);
    snprintf(t->region, sizeof(t->region), "%s", region);
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->watch = -1;
    t->step = 1;
    t->next = active;
    active = t;
    return t;
}

static void drop_task(struct task_ref *t)
{
    struct task_ref **pp = &active;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    if (t->watch >= 0)
        inotify_rm_watch(inofd, t->watch);
    free(t);
}

static void on_dirty(const struct scope *s, const char *id, void *arg)
{
    (void)arg;
    add_task(s->account, s->region, id);
}

static void take_dirty(void)
{
    db_lock(server.db);
    if (db_begin(server.db) == 0) {
        store_take_dirty(server.db, "ecs-task", on_dirty, NULL);
        db_commit(server.db);
    }
    db_unlock(server.db);
}

static int adopt_one(const struct scope *s, json_t *doc, const char *id, void *arg)
{
    (void)arg;
    const char *status = json_string_value(json_object_get(doc, "lastStatus"));
    if (status && strcmp(status, "STOPPED") == 0)
        return 0;
    add_task(s->account, s->region, id);
    return 0;
}

static void adopt_all(void)
{
    db_lock(server.db);
    store_each_all(server.db, "ecs-task", adopt_one, NULL);
    db_unlock(server.db);
    int n = 0;
    for (struct task_ref *t = active; t; t = t->next) {
        task_adopt(t);
        watch_task(t);
        n++;
    }
    if (n)
        log_info("reconciler: adopted %d task(s) from the database", n);
}

static void read_inotify(void)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(inofd, buf, sizeof(buf));
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            /* An overflowed queue lost events: everyone looks again. */
            int all = (ev->mask & IN_Q_OVERFLOW) != 0;
            int status = ev->len && strcmp(ev->name, "status.json") == 0;
            for (struct task_ref *t = active; t; t = t->next)
                if (all || (status && t->watch == ev->wd))
                    t->step = 1;
            p += sizeof(*ev) + ev->len;
        }
    }
}

static void teardown_all(void)
{
    int n = 0;
    while (active) {
        task_destroy(active);
        drop_task(active);
        n++;
    }
    /* STOPPED tasks keep only their files; other ecslocal processes on
     * this machine keep theirs (no host-wide sweep here). */
    runtime_remove_all();
    vpcnet_teardown();
    log_info("reconciler: tore down %d task(s)", n);
}

static void step_tasks(double now, int everything)
{
    struct task_ref *t = active;
    while (t) {
        struct task_ref *next = t->next;
        /* On the tick, a task is stepped when it is due (see next_look),
         * or always when no inotify event would tell of its changes. */
        int due = everything && (inofd < 0 || t->watch < 0 || task_due(t, now));
        if (due || t->step) {
            t->step = 0;
            if (task_step(t, now)) {
                drop_task(t);
            } else if (t->watch < 0) {
                /* Writes before the watch existed sent no event: one
                 * more step reads what they wrote. */
                watch_task(t);
                t->step = t->watch >= 0;
            }
        }
        t = next;
    }
}

static void *loop(void *arg)
{
    (void)arg;
    double last_tick = 0, last_expire = now_epoch();
    adopt_all();
    while (__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
        struct pollfd pfd[2] = { { kickfd, POLLIN, 0 }, { inofd, POLLIN, 0 } };   /* -1: ignored */
        int any_step = 0;
        for (struct task_ref *t = active; t; t = t->next)
            any_step |= t->step;
        poll(pfd, 2, any_step ? 0 : TICK_MS);
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(kickfd, &v, sizeof(v));
            (void)r;
        }
        if (pfd[1].revents & POLLIN)
            read_inotify();

        pthread_mutex_lock(&req_lock);
        int teardown = teardown_requested;
        int hold = paused;
        pthread_mutex_unlock(&req_lock);
        if (teardown) {
            teardown_all();
            pthread_mutex_lock(&req_lock);
            teardown_requested = 0;
            paused = 1;
            teardown_generation++;
            pthread_cond_broadcast(&req_done);
            pthread_mutex_unlock(&req_lock);
            continue;
        }
        /* After a teardown nothing is rebuilt until the caller has wiped
         * the database and says so. */
        if (hold)
            continue;

        double now = now_epoch();
        int tick = now - last_tick >= TICK_MS / 1000.0;
        if (tick) {
            last_tick = now;
            if (ecs_scheduler_run(server.db, now) > 0)
                reconcile_kick();
        }
        /* New tasks first, then the network they need (their ENIs are
         * committed with them, so this sync sees them), then the tasks:
         * a task never starts before its security groups apply. */
        take_dirty();
        if (vpcnet_stale())
            vpcnet_sync();
        step_tasks(now, tick);
        runtime_reap();
        if (tick)
            db_checkpoint(server.db);
        if (now - last_expire >= EXPIRE_EVERY) {
            last_expire = now;
            tasks_expire(now, KEEP_STOPPED);
        }
    }
    return NULL;
}

int reconcile_start(void)
{
    kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (kickfd < 0)
        return -1;
    /* Without inotify (the user's instances used up) status changes are
     * still seen, on the next tick. */
    inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (inofd < 0)
        log_warn("inotify: %s; task status is read every %d ms", strerror(errno), TICK_MS);
    running = 1;
    if (pthread_create(&thread, NULL, loop, NULL) != 0) {
        running = 0;
        return -1;
    }
    return 0;
}

void reconcile_stop(void)
{
    if (!running)
        return;
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    reconcile_kick();
    pthread_join(thread, NULL);
    while (active)
        drop_task(active);
    close(kickfd);
    if (inofd >= 0)
        close(inofd);
    kickfd = inofd = -1;
}

void reconcile_resume(void)
{
    pthread_mutex_lock(&req_lock);
    paused = 0;
    pthread_mutex_unlock(&req_lock);
    reconcile_kick();
}

void reconcile_teardown(void)
{
    if (!running) {
        teardown_all();
        return;
    }
    pthread_mutex_lock(&req_lock);
    int gen = teardown_generation;
    teardown_requested = 1;
    reconcile_kick();
    while (teardown_generation == gen)
        pthread_cond_wait(&req_done, &req_lock);
    pthread_mutex_unlock(&req_lock);
}

/* ---- host cleanup: what a dead ecslocal may have left ---- */

static void delete_ns(const char *name, void *arg)
{
    (void)arg;
    netns_delete(name);
}

/* Kill every supervisor and pause process of ecslocal's (their comm names
 * carry the ecsl- prefix); killing a pause process kills its whole task. */
static int kill_ecsl_processes(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    int n = 0;
    pid_t self = getpid();
    while ((e = readdir(d)) != NULL) {
        char path[300], comm[64];
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || pid == self)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f) &&
            (strncmp(comm, "ecsl-shim", 9) == 0 || strncmp(comm, "ecsl-pause", 10) == 0)) {
            kill(pid, SIGKILL);
            n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

int reconcile_cleanup_host(void)
{
    int killed = kill_ecsl_processes();
    netns_each(NETNS_PREFIX, delete_ns, NULL);
    return killed;
}
