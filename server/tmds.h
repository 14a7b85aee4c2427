/*
 * The task metadata endpoint (v3/v4) and the container credentials
 * endpoint.  Returns 1 and fills the reply if path is one of theirs.
 */
#ifndef ECSL_TMDS_H
#define ECSL_TMDS_H

#include "server.h"

int tmds_handle(const char *method, const char *path, struct http_reply *reply);

#endif
