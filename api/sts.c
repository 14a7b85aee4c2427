/*
 * STS: GetCallerIdentity, the call every tool makes first to learn which
 * account its credentials belong to.
 */
#include <stdio.h>

#include "call.h"

int sts_get_caller_identity(struct call *c)
{
    char arn[96];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:root", c->account);
    json_t *out = call_out(c);
    json_object_set_new(out, "Account", json_string(c->account));
    json_object_set_new(out, "Arn", json_string(arn));
    json_object_set_new(out, "UserId", json_string(c->account));
    return 0;
}
