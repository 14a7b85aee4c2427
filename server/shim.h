/*
 * The per-task supervisor ("shim"), the role conmon and containerd-shim
 * play: `ecslocal shim DIR` runs the ECS task described by DIR/spec.json
 * and reports on it in DIR/status.json and DIR/<container>.log.  The file
 * interface is docs/task-runtime.md; this header only names the entry point.
 *
 * Details the doc leaves open, decided here:
 * - A container without a health check has "health": null in status.json
 *   (ECS calls that UNKNOWN); "health_since" is null until the first change.
 * - A health check that times out reports health_exit_code -1 and the output
 *   "Health check exceeded timeout (Ns)" (Docker's words); one whose program
 *   cannot be found reports 127 and runc's message.
 * - A dependency that can no longer be met stops the dependent container
 *   with the reason "CannotStartContainerError: dependency graph: ..." (the
 *   ECS agent's dependency-graph wording).
 * - When a container's main process exits, the rest of its process group is
 *   killed (Docker kills everything in a container when its init exits).
 * - On a stop, containers get SIGTERM in reverse dependsOn order (a
 *   container is signalled once every running container that depends on it
 *   has stopped), as the ECS agent stops them.
 * - Setup failures (unreadable spec, namespaces) end the task at once:
 *   stop_code TaskFailedToStart, stop_reason "ResourceInitializationError:
 *   ...", done true, and the shim exits 1.
 * - The pause process dies with the shim (PR_SET_PDEATHSIG), so a shim
 *   killed with SIGKILL takes its whole task with it rather than leaving it
 *   unsupervised; without isolation each container's main process does.
 */
#ifndef ECSL_SHIM_H
#define ECSL_SHIM_H

/* argv[0] is the subcommand name ("shim"), argv[1] the task directory.
 * Returns the process exit status: 0 when the task ran to the end (done),
 * 1 when it could not be set up, 2 on bad usage. */
int shim_main(int argc, char **argv);

/* The `shim DIR [--parent PID]` command line: with --parent the task is
 * stopped when that process (an in-memory daemon) exits. */
int shim_command(int argc, char **argv);

#endif
