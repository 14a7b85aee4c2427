/*
 * Reading members of jansson objects, for the many places that only want
 * a member's string (NULL when it is missing or not a string).
 */
#ifndef ECSL_JGET_H
#define ECSL_JGET_H

#include <jansson.h>

static inline const char *jstr(json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

#endif
