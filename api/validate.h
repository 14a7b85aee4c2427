/*
 * Input validation against the model, before any handler runs: required
 * members, enum values, numeric ranges and lengths.  The protocols share
 * it, and each service answers in its own words (EC2's MissingParameter,
 * the Coral-style "1 validation error detected: ..." of the others).
 */
#ifndef ECSL_VALIDATE_H
#define ECSL_VALIDATE_H

#include <jansson.h>

#include "model.h"

struct call;

/* Check c->in against the operation's input shape; 0 or -1 with the
 * error set on c. */
int validate_input(struct call *c);

/* A value of the wrong type at path (member names joined by '.'); v is the
 * offending value (a JSON string for the form protocols).  Returns -1. */
int validate_type_error(struct call *c, const char *path,
                        const struct shape *s, json_t *v);

#endif
