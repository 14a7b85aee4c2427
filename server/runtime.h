/*
 * The daemon's side of running tasks (docs/task-runtime.md): each task has
 * a directory under the runtime root; the daemon writes spec.json and
 * starts the supervisor ("ecslocal shim DIR"), then reads what it reports
 * in status.json and the containers' log files, and asks it to stop.
 */
#ifndef ECSL_RUNTIME_H
#define ECSL_RUNTIME_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* Prepare root/tasks.  die_with_daemon: supervisors stop their tasks when
 * the daemon exits (in-memory mode, where nothing could adopt them). */
int runtime_init(const char *root, int die_with_daemon, char *err, size_t errlen);
const char *runtime_root(void);
void runtime_task_dir(const char *task_id, char *out, size_t len);

/* Write spec and start the supervisor; its pid in *pid. */
int runtime_spawn(const char *task_id, json_t *spec, pid_t *pid, char *err,
                  size_t errlen);
/* The task's status.json, or NULL when there is none (yet). */
json_t *runtime_status(const char *task_id);
/* Whether pid is still the supervisor of task_id (not a reused pid). */
int runtime_alive(pid_t pid, const char *task_id);
/* A running supervisor of task_id found among all processes (one started
 * by a daemon that died before it could record its pid), or 0. */
pid_t runtime_find_shim(const char *task_id);
/* Reap supervisors this daemon started that have exited. */
void runtime_reap(void);
/* Ask the supervisor to stop the task (stop file + SIGTERM). */
int runtime_request_stop(const char *task_id, pid_t pid);
/* Kill the task's whole process tree at once (cleanup after a crash). */
void runtime_kill(const char *task_id, pid_t pid);
/* Remove the task's directory. */
int runtime_remove(const char *task_id);
/* Remove every task directory (reset). */
void runtime_remove_all(void);
/* Remove the whole runtime root (an in-memory server exiting). */
void runtime_destroy(void);

/* In-memory servers keep their files in <TMPDIR>/ecsl-run-<pid>.  One
 * that was killed (kill -9) left its namespaces and files behind, and no
 * restart can adopt them: remove what the dead ones left.  Returns how
 * many it cleaned. */
int runtime_sweep_orphans(const char *tmpdir);

/* Read log lines of a container from *offset on; fn gets each complete
 * line (timestamp ms, stream 1/2, text without newline).  *offset moves
 * past what was read.  Returns the number of lines or -1. */
typedef int (*runtime_line_fn)(long long ts_ms, int stream, const char *text,
                               size_t len, void *arg);
int runtime_read_log(const char *task_id, const char *container, long long *offset,
                     runtime_line_fn fn, void *arg);

#endif
