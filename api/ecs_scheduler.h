/*
 * The service scheduler: keeps every ACTIVE service at its desiredCount,
 * rolls deployments out within minimumHealthyPercent / maximumPercent,
 * replaces tasks that stop or turn unhealthy, trips the deployment circuit
 * breaker (and rolls back when asked), drains DRAINING services to
 * INACTIVE, and writes the events and counters the services-stable waiter
 * reads.  The reconciler runs it a few times a second.
 */
#ifndef ECSL_ECS_SCHEDULER_H
#define ECSL_ECS_SCHEDULER_H

struct db;

/* One pass over every service of every account and region, each in its
 * own transaction.  Returns how many tasks it started or stopped. */
int ecs_scheduler_run(struct db *db, double now);

#endif
