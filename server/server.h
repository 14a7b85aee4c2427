/*
 * The running server's shared state: configuration, database, and what
 * the health endpoint reports.
 */
#ifndef ECSL_SERVER_H
#define ECSL_SERVER_H

#include "config.h"

struct db;

struct server {
    struct config cfg;
    struct db *db;
    double started;             /* epoch seconds */
    int networking;             /* 1: real namespaces; 0: off */
    char networking_reason[256];
    char runtime_dir[600];      /* per-task files: logs, exit codes */
};

extern struct server server;

/* HTTP front door (server/http.c). */
int http_start(void);
void http_stop(void);
/* Serve a connection accepted elsewhere (a listener inside a task's
 * namespace) like one of our own; takes ownership of fd. */
struct sockaddr;
int http_adopt(int fd, const struct sockaddr *addr, unsigned int len);

/* Admin endpoints (server/admin.c): health, reset and the aliases other
 * emulators' tools call.  Returns 1 and fills the reply if path is one. */
struct http_reply {
    int status;
    const char *content_type;
    char *body;                 /* malloc'd */
    size_t body_len;
};
int admin_handle(const char *method, const char *path, struct http_reply *reply);

/* Wipe all state and everything built for it (POST /_ecslocal/reset). */
int server_reset(void);

/* Client subcommands (server/client.c). */
/* One request of a client command to the server (libcurl, loaded on first
 * use: see client_http.c): the HTTP status with the body appended to
 * body, or -1 with err. */
struct buf;
long client_http(const char *method, const char *url, long timeout, struct buf *body,
                 char *err, size_t errlen);

int client_status(const struct config *cfg);
int client_reset(const struct config *cfg);
/* `ecslocal logs TASK [CONTAINER]`: print a task's container output. */
int client_logs(const struct config *cfg, int argc, char **argv);
/* `ecslocal exec TASK [CONTAINER] -- CMD...` (server/client_exec.c). */
int client_exec(const struct config *cfg, const char *task, const char *container,
                int argc, char **argv);
/* `ecslocal port-forward TASK LOCALPORT:CONTAINERPORT`. */
int client_port_forward(const struct config *cfg, int argc, char **argv);

#endif
