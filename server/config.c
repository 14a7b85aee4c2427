/*
 * Command line and configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

enum opt_kind {
    OPT_STRING = 0,
    OPT_BOOL,               /* --flag / --no-flag */
    OPT_INT,
    OPT_KEY,                /* --auth-key AKID:SECRET, repeatable */
    OPT_ENUM
};

struct option_def {
    const char *name;
    enum opt_kind kind;
    size_t offset;
    size_t size;            /* strings: buffer size */
    const char *dflt;
    long long min, max;     /* ints */
    const char *choices;    /* enums: "a|b" */
    const char *help;
};

#define STR(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define FLD(field) offsetof(struct config, field), 0

static const struct option_def options[] = {
    { "listen", OPT_STRING, STR(listen), "127.0.0.1:4566", 0, 0, NULL,
      "address and port of the API (every service)" },
    { "dns-listen", OPT_STRING, STR(dns_listen), "127.0.0.1:4553", 0, 0, NULL,
      "address and port of the DNS server (UDP and TCP)" },
    { "data-dir", OPT_STRING, STR(data_dir), "", 0, 0, NULL,
      "directory of the state database (created if missing; default "
      "/var/lib/ecslocal as root, else ~/.local/share/ecslocal)" },
    { "in-memory", OPT_BOOL, FLD(in_memory), "0", 0, 0, NULL,
      "keep state in memory only (for CI); nothing survives a restart" },
    { "account", OPT_STRING, STR(account), "000000000000", 0, 0, NULL,
      "account id for credentials whose access key is not a 12-digit account id" },
    { "region", OPT_STRING, STR(region), "us-east-1", 0, 0, NULL,
      "region for unsigned requests" },
    { "log-level", OPT_ENUM, STR(log_level), "info", 0, 0, "debug|info|warn|error",
      "how much to log" },
    { "auth", OPT_ENUM, STR(auth), "off", 0, 0, "off|strict",
      "off: accept any signature; strict: verify SigV4 against --auth-key/--auth-file" },
    { "auth-key", OPT_KEY, FLD(keys), NULL, 0, 0, NULL,
      "ACCESS_KEY_ID:SECRET accepted in strict mode (repeatable)" },
    { "auth-file", OPT_STRING, STR(auth_file), "", 0, 0, NULL,
      "file of 'ACCESS_KEY_ID SECRET' lines accepted in strict mode" },
    { "auto-instances", OPT_BOOL, FLD(auto_instances), "1", 0, 0, NULL,
      "give an EC2 cluster without instances an emulated one on demand" },
    { "egress", OPT_ENUM, STR(egress), "none", 0, 0, "none|nat",
      "nat (not implemented yet): subnets routed to an internet gateway reach outside via NAT" },
    { "networking", OPT_ENUM, STR(networking), "auto", 0, 0, "auto|off",
      "auto: real namespaces when privileged; off: never touch the kernel" },
    { "sync-full", OPT_BOOL, FLD(sync_full), "0", 0, 0, NULL,
      "fsync every transaction (survives power loss, slower writes)" },
    { "max-body", OPT_INT, FLD(max_body), "16777216", 1024, 1LL << 30, NULL,
      "largest request body accepted, in bytes (larger: 413)" },
    { "threads", OPT_INT, FLD(threads), "4", 1, 64, NULL,
      "HTTP worker threads" },
    { "endpoint", OPT_STRING, STR(endpoint), "", 0, 0, NULL,
      "client commands: URL of the running server (default from --listen)" },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static int add_key(struct config *cfg, const char *akid, const char *secret)
{
    if (cfg->nkeys >= MAX_KEYS) {
        fprintf(stderr, "ecslocal: too many keys (max %d)\n", MAX_KEYS);
        return -1;
    }
    if (!*akid || !*secret || strlen(akid) >= sizeof(cfg->keys[0].access_key) ||
        strlen(secret) >= sizeof(cfg->keys[0].secret)) {
        fprintf(stderr, "ecslocal: bad key '%s'\n", akid);
        return -1;
    }
    snprintf(cfg->keys[cfg->nkeys].access_key, sizeof(cfg->keys[0].access_key), "%s", akid);
    snprintf(cfg->keys[cfg->nkeys].secret, sizeof(cfg->keys[0].secret), "%s", secret);
    cfg->nkeys++;
    return 0;
}

static int set_option(struct config *cfg, const struct option_def *o,
                      const char *value)
{
    char *field = (char *)cfg + o->offset;
    switch (o->kind) {
    case OPT_STRING:
        if (strlen(value) >= o->size) {
            fprintf(stderr, "ecslocal: --%s: value too long\n", o->name);
            return -1;
        }
        snprintf(field, o->size, "%s", value);
        return 0;
    case OPT_ENUM: {
        size_t n = strlen(value);
        const char *p = o->choices;
        while (p && *p) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == n && strncmp(p, value, n) == 0) {
                snprintf(field, o->size, "%s", value);
                return 0;
            }
            p = bar ? bar + 1 : NULL;
        }
        fprintf(stderr, "ecslocal: --%s: expected one of %s\n", o->name, o->choices);
        return -1;
    }
    case OPT_BOOL:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 ||
            strcmp(value, "yes") == 0 || strcmp(value, "on") == 0)
            *(int *)field = 1;
        else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                 strcmp(value, "no") == 0 || strcmp(value, "off") == 0)
            *(int *)field = 0;
        else {
            fprintf(stderr, "ecslocal: --%s: expected true or false\n", o->name);
            return -1;
        }
        return 0;
    case OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || *end || v < o->min || v > o->max) {
            fprintf(stderr, "ecslocal: --%s: expected an integer from %lld to %lld\n",
                    o->name, o->min, o->max);
            return -1;
        }
        if (o->offset == offsetof(struct config, max_body))
            *(long long *)field = v;
        else
            *(int *)field = (int)v;
        return 0;
    }
    case OPT_KEY: {
        const char *colon = strchr(value, ':');
        char akid[256];
        if (!colon || (size_t)(colon - value) >= sizeof(akid)) {
            fprintf(stderr, "ecslocal: --%s: expected ACCESS_KEY_ID:SECRET\n", o->name);
            return -1;
        }
        memcpy(akid, value, (size_t)(colon - value));
        akid[colon - value] = '\0';
        return add_key(cfg, akid, colon + 1);
    }
    }
    return -1;
}

static int load_auth_file(struct config *cfg)
{
    FILE *f = fopen(cfg->auth_file, "r");
    if (!f) {
        fprintf(stderr, "ecslocal: --auth-file %s: %s\n", cfg->auth_file, strerror(errno));
        return -1;
    }
    char line[600];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        n++;
        char akid[256], secret[256];
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        if (sscanf(line, "%255s %255s", akid, secret) != 2) {
            fprintf(stderr, "ecslocal: %s:%d: expected 'ACCESS_KEY_ID SECRET'\n",
                    cfg->auth_file, n);
            fclose(f);
            return -1;
        }
        if (add_key(cfg, akid, secret) < 0) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

void config_usage(void)
{
    printf("usage: ecslocal [serve] [options]       run the server\n"
           "       ecslocal status [--endpoint URL]  ask a running server how it is\n"
           "       ecslocal reset [--endpoint URL]   wipe all state of a running server\n"
           "       ecslocal cleanup                  remove kernel objects a dead server left\n"
           "       ecslocal logs TASK [CONTAINER]    print what a task's containers wrote\n"
           "       ecslocal exec TASK [CONTAINER] -- CMD...   run a command inside a task\n"
           "       ecslocal port-forward TASK LOCAL:REMOTE    forward 127.0.0.1:LOCAL into a task\n"
           "       ecslocal --version\n\noptions:\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option_def *o = &options[i];
        char left[64];
        if (o->kind == OPT_BOOL)
            snprintf(left, sizeof(left), "--[no-]%s", o->name);
        else if (o->kind == OPT_ENUM)
            snprintf(left, sizeof(left), "--%s %s", o->name, o->choices);
        else
            snprintf(left, sizeof(left), "--%s VALUE", o->name);
        printf("  %-34s %s", left, o->help);
        if (o->dflt && *o->dflt && o->kind != OPT_BOOL)
            printf(" (default %s)", o->dflt);
        else if (o->kind == OPT_BOOL)
            printf(" (default %s)", strcmp(o->dflt, "1") == 0 ? "on" : "off");
        printf("\n");
    }
}

static void default_data_dir(struct config *cfg)
{
    const char *env = getenv("ECSLOCAL_DATA_DIR");
    const char *home = getenv("HOME");
    if (env && *env)
        snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", env);
    else if (geteuid() == 0 || !home)
        snprintf(cfg->data_dir, sizeof(cfg->data_dir), "/var/lib/ecslocal");
    else
        snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s/.local/share/ecslocal", home);
}

int config_parse(struct config *cfg, int argc, char **argv, int first,
                 char **rest, int *nrest)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].dflt && set_option(cfg, &options[i], options[i].dflt) < 0)
            return -1;
    *nrest = 0;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++)
                rest[(*nrest)++] = argv[i];
            break;
        }
        if (strncmp(arg, "--", 2) != 0) {
            rest[(*nrest)++] = argv[i];
            continue;
        }
        char name[64];
        const char *value = NULL;
        const char *eq = strchr(arg + 2, '=');
        size_t nlen = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
        if (nlen >= sizeof(name)) {
            fprintf(stderr, "ecslocal: unknown option %s\n", arg);
            return -1;
        }
        memcpy(name, arg + 2, nlen);
        name[nlen] = '\0';
        int negate = 0;
        const struct option_def *o = NULL;
        for (size_t k = 0; k < NOPTIONS && !o; k++)
            if (strcmp(options[k].name, name) == 0)
                o = &options[k];
        if (!o && strncmp(name, "no-", 3) == 0) {
            for (size_t k = 0; k < NOPTIONS && !o; k++)
                if (options[k].kind == OPT_BOOL && strcmp(options[k].name, name + 3) == 0)
                    o = &options[k];
            negate = 1;
        }
        if (!o) {
            fprintf(stderr, "ecslocal: unknown option --%s (see ecslocal --help)\n", name);
            return -1;
        }
        if (o->kind == OPT_BOOL && !eq)
            value = negate ? "0" : "1";
        else if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "ecslocal: --%s needs a value\n", name);
            return -1;
        }
        if (set_option(cfg, o, value) < 0)
            return -1;
    }
    if (!cfg->data_dir[0])
        default_data_dir(cfg);
    if (cfg->auth_file[0] && load_auth_file(cfg) < 0)
        return -1;
    if (strcmp(cfg->auth, "strict") == 0 && cfg->nkeys == 0) {
        fprintf(stderr, "ecslocal: --auth strict needs --auth-key or --auth-file\n");
        return -1;
    }
    if (strcmp(cfg->egress, "nat") == 0) {
        /* Refused rather than accepted and ignored: nothing routes a VPC
         * to the outside in this version. */
        fprintf(stderr, "ecslocal: --egress nat is not implemented yet; VPCs reach nothing "
                        "outside the machine's namespaces\n");
        return -1;
    }
    if (strlen(cfg->account) != 12 || strspn(cfg->account, "0123456789") != 12) {
        fprintf(stderr, "ecslocal: --account must be 12 digits\n");
        return -1;
    }
    if (!cfg->endpoint[0])
        snprintf(cfg->endpoint, sizeof(cfg->endpoint), "http://%s", cfg->listen);
    return 0;
}
