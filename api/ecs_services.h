/*
 * Shared between ECS service handlers and the scheduler: deployments and
 * service events.
 */
#ifndef ECSL_ECS_SERVICES_H
#define ECSL_ECS_SERVICES_H

#include <jansson.h>

#include "call.h"

/* A new PRIMARY deployment of the service's current settings, put first
 * in its deployments (the previous PRIMARY becomes ACTIVE). */
void ecs_service_new_deployment(struct call *c, json_t *service);

/* Prepend an event "(service NAME) ..." (newest first, at most 100). */
void ecs_service_event(struct call *c, json_t *service, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The store id of a service: "CLUSTER/NAME". */
void ecs_service_id(const char *cluster, const char *name, char *out, size_t len);

#endif
