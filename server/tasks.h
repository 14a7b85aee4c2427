/*
 * One task's way through its lifecycle, as the reconciler drives it.
 *
 *   phase (doc._rt.phase)   lastStatus shown          kernel action
 *   ---------------------   -----------------------   ---------------------------
 *   new                     PROVISIONING              provision: namespace,
 *                                                     metadata listener
 *   ready                   PENDING                   start the supervisor
 *   running                 PENDING -> ACTIVATING     (watch status.json)
 *                           -> RUNNING
 *   stopping                DEACTIVATING -> STOPPING  ask the supervisor to stop
 *   exited                  DEPROVISIONING            flush logs, tear down
 *   gone                    STOPPED                   nothing
 *
 * A desiredStatus of STOPPED moves a task to stopping (or straight to
 * exited when nothing was started yet).  Each step is one short
 * transaction that reads the document, decides, and writes it back; the
 * kernel work happens between transactions, outside the database lock.
 */
#ifndef ECSL_TASKS_H
#define ECSL_TASKS_H

#include <sys/types.h>

struct task_ref {
    char account[16];
    char region[32];
    char id[40];
    pid_t shim;             /* supervisor pid once known */
    int watch;              /* inotify watch descriptor, -1 if none */
    int step;               /* needs a step soon */
    double next_flush;      /* when to read its logs again */
    double next_look;       /* when a step is due without any event */
    int steady;             /* running, supervisor reporting changes */
    int ships_logs;         /* has awslogs output to read periodically */
    struct task_ref *next;
};

/* Advance the task as far as it can go now.  Returns 1 when the task is
 * STOPPED (or gone) and needs no more attention. */
int task_step(struct task_ref *t, double now);

/* On a tick, whether the task needs a step without an event having
 * asked for one.  A steady task only needs its supervisor to be alive,
 * which is checked here (cheaply) instead of with a whole step. */
int task_due(struct task_ref *t, double now);

/* After a restart: take over a task found in the database that is not
 * STOPPED (re-open its listener, check its supervisor). */
void task_adopt(struct task_ref *t);

/* Kill everything of the task at once and remove its kernel objects
 * (reset and cleanup; no graceful stop). */
void task_destroy(struct task_ref *t);

/* Remove STOPPED tasks older than keep_seconds (AWS shows them at least an
 * hour) with their files. */
void tasks_expire(double now, double keep_seconds);

#endif
