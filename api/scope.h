/*
 * Per-scope (account + region) defaults that exist from first use, as in
 * AWS: the default VPC with its subnets, security group, route table and
 * network ACL.  The dispatcher calls this inside the first call's
 * transaction for a scope.
 */
#ifndef ECSL_SCOPE_H
#define ECSL_SCOPE_H

struct call;

int scope_create_defaults(struct call *c);

#endif
