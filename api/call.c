/*
 * Errors and input accessors for handlers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "call.h"

static void set_error(struct call *c, int status, const char *code,
                      const char *fmt, va_list ap)
{
    c->status = status;
    snprintf(c->code, sizeof(c->code), "%s", code);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
}

int call_error(struct call *c, const char *code, const char *fmt, ...)
{
    const struct error_def *e = model_error(c->svc->id, code);
    va_list ap;
    va_start(ap, fmt);
    set_error(c, e ? e->http_status : 400, code, fmt, ap);
    va_end(ap);
    return -1;
}

int call_error_status(struct call *c, int status, const char *code,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(c, status, code, fmt, ap);
    va_end(ap);
    return -1;
}

int call_internal(struct call *c, const char *what)
{
    const char *code = "InternalError";
    if (c->svc->id == SVC_ECS)
        code = "ServerException";
    else if (c->svc->id == SVC_LOGS)
        code = "ServiceUnavailableException";
    else if (c->svc->id == SVC_SD)
        code = "InternalError";
    fprintf(stderr, "ecslocal: %s %s: internal error: %s\n", c->svc->key,
            c->op ? c->op->name : "?", what);
    return call_error_status(c, 500, code,
                             "An internal error has occurred (%s).", what);
}

json_t *in_get(const struct call *c, const char *name)
{
    return c->in ? json_object_get(c->in, name) : NULL;
}

const char *in_str(const struct call *c, const char *name)
{
    return json_string_value(in_get(c, name));
}

long long in_int(const struct call *c, const char *name, long long dflt)
{
    json_t *v = in_get(c, name);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int in_bool(const struct call *c, const char *name, int dflt)
{
    json_t *v = in_get(c, name);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

json_t *call_out(struct call *c)
{
    if (!c->out)
        c->out = json_object();
    return c->out;
}
