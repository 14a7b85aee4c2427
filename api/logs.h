/*
 * CloudWatch Logs handlers: what api/logs_groups.c, api/logs_streams.c and
 * api/logs_events.c share (api/logs_common.c, api/logs_filter.c).
 *
 * Log groups and streams are documents in the store (storage/events.h has
 * the layout); events live in log_events and only storage/events.c touches
 * that table.  Times on this API are epoch milliseconds (the model's
 * Timestamp is a long), never the float seconds of other services.
 */
#ifndef ECSL_LOGS_H
#define ECSL_LOGS_H

#include "call.h"
#include "gen/handlers.h"
#include "../storage/events.h"

/* The call's time in epoch milliseconds. */
long long logs_now_ms(const struct call *c);

/* Check the input's strings against the patterns of the model's shapes
 * (the generic validator checks lengths, ranges and enums but no
 * patterns), answering the Coral-style InvalidParameterException AWS
 * gives.  Every Logs handler calls this first.  0, or -1 with the error. */
int logs_check_patterns(struct call *c);

/* The document of a log group / log stream, or NULL with
 * ResourceNotFoundException set on the call. */
json_t *logs_find_group(struct call *c, const char *group);
json_t *logs_find_stream(struct call *c, const char *group,
                         const char *stream);

/* The log group a call names, with logGroupName or with
 * logGroupIdentifier (a name or a log-group ARN); exactly one must be
 * given.  Copied into name; -1 with the error set. */
int logs_group_from_input(struct call *c, const char *identifier_member,
                          char *name, size_t len);

/* Parse a log-group ARN of this call's scope ("...:log-group:NAME",
 * with ":*" only when allow_star).  0 with the name; LOGS_ARN_OTHER when
 * it is a well-formed ARN of something else (another account, region or
 * resource type); LOGS_ARN_INVALID when it is not a logs ARN at all. */
#define LOGS_ARN_OTHER (-2)
#define LOGS_ARN_INVALID (-1)
int logs_parse_group_arn(const struct call *c, const char *arn,
                         int allow_star, char *name, size_t len);

/* Refuse to delete (the group, or a stream in it) while the group's
 * deletion protection is on.  0, or -1 with ValidationException. */
int logs_check_deletable(struct call *c, json_t *group);

/* Opaque paging tokens for the Describe calls: kind and payload,
 * base64url.  Decode gives -1 for anything that is not a token of that
 * kind. */
void logs_token_encode(const char *kind, const char *payload, char *out,
                       size_t len);
int logs_token_decode(const char *token, const char *kind, char *payload,
                      size_t len);
/* InvalidParameterException "The specified nextToken is invalid." */
int logs_invalid_token(struct call *c);

/* A position in (timestamp, id) order as the 56 digits AWS's event
 * tokens and event ids have: timestamp, id and a check, so a mangled
 * token is refused rather than read as some other position. */
#define LOGS_POSITION_DIGITS 56
void logs_position_format(long long ts, long long id,
                          char out[LOGS_POSITION_DIGITS + 1]);
int logs_position_parse(const char *digits, size_t n, long long *ts,
                        long long *id);

/* Filter patterns (api/logs_filter.c).  Compiling answers
 * InvalidParameterException for what is malformed and for the syntax
 * ecslocal does not evaluate. */
struct logs_pattern;
int logs_pattern_compile(struct call *c, const char *text,
                         struct logs_pattern **out);
int logs_pattern_match(const struct logs_pattern *p, const char *msg,
                       size_t len);
void logs_pattern_free(struct logs_pattern *p);

#endif
