/*
 * Command line and configuration, as one typed table (Redis's
 * static_configs idea): each option has its name, kind, default, bounds
 * and help line, and the same table prints --help.
 */
#ifndef ECSL_CONFIG_H
#define ECSL_CONFIG_H

#include <stddef.h>

#include "../api/api.h"

#define ECSL_VERSION "0.1.0"
#define MAX_KEYS 64

struct config {
    char listen[128];           /* API: host:port */
    char dns_listen[128];       /* DNS: host:port */
    char data_dir[512];
    int in_memory;
    char account[16];
    char region[32];
    char log_level[16];
    char auth[16];              /* "off" | "strict" */
    char auth_file[512];
    struct api_key keys[MAX_KEYS];
    size_t nkeys;
    int auto_instances;
    char egress[16];            /* "none" | "nat" */
    char networking[16];        /* "auto" | "off" */
    int sync_full;
    long long max_body;         /* bytes */
    int threads;
    char endpoint[256];         /* client commands: where the server is */
};

/* Fill defaults, then parse argv from index first; returns 0, or -1 with a
 * message printed.  Positional arguments are collected into rest. */
int config_parse(struct config *cfg, int argc, char **argv, int first,
                 char **rest, int *nrest);
void config_usage(void);

#endif
