/*
 * The reconciler: one thread that makes the kernel match the database.
 *
 * It wakes when an API call changed desired state (reconcile_kick), when a
 * task's supervisor reports (inotify on status.json), and a few times a
 * second to read logs and run the service scheduler.  At start it adopts
 * every task the database says is not STOPPED, so a restart (even after
 * kill -9) loses nothing.
 */
#ifndef ECSL_RECONCILE_H
#define ECSL_RECONCILE_H

int reconcile_start(void);
void reconcile_stop(void);
void reconcile_kick(void);

/* Tear down everything built for the current state (every task's
 * processes, namespaces, listeners) and forget it; blocks until done.
 * The reconciler then builds nothing until reconcile_resume: POST
 * /_ecslocal/reset wipes the database in between. */
void reconcile_teardown(void);
void reconcile_resume(void);

/* Remove every kernel object and process an ecslocal left behind (the
 * `ecslocal cleanup` command; no daemon needs to run). */
int reconcile_cleanup_host(void);

#endif
