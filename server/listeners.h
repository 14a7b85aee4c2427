/*
 * Listening sockets inside other network namespaces (a task's, a VPC's),
 * whose connections the HTTP front door serves like its own.  This is how
 * a task reaches the metadata endpoint and the API at 169.254.170.2 without
 * any route out of its namespace: the daemon's socket is already inside.
 */
#ifndef ECSL_LISTENERS_H
#define ECSL_LISTENERS_H

#include <stddef.h>
#include <stdint.h>

int listeners_start(void);
void listeners_stop(void);

/* Listen on ip:port inside the namespace nsfd for owner (a key, e.g. a task
 * id; one owner may have several).  Returns 0 or -1 with err. */
int listeners_add(const char *owner, int nsfd, uint32_t ip, int port,
                  char *err, size_t errlen);
/* Close every listener of owner. */
void listeners_remove(const char *owner);
/* Whether owner has a listener. */
int listeners_has(const char *owner);

#endif
