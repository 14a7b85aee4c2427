/*
 * The wire protocols: one codec per protocol, each a parser for requests
 * and a serializer for results and errors, all driven by the model shapes.
 *
 *   json   awsJson1_1: JSON bodies, X-Amz-Target, {"__type", "message"}
 *   query  awsQuery: form bodies (Name.member.N), XML with <OpResult>
 *   ec2    ec2Query: form bodies (Name.N), XML with <requestId>, <item>
 *
 * Decoding walks the input shape and asks the request for each member,
 * never the other way round, so unknown keys cannot create anything.
 * Encoding walks the output shape, so members a handler keeps privately
 * (names starting with '_') or that the model lacks never reach the wire.
 */
#ifndef ECSL_PROTO_H
#define ECSL_PROTO_H

#include <stddef.h>
#include <jansson.h>

#include "form.h"
#include "model.h"

struct call;

struct codec {
    enum protocol protocol;
    /* Decode the request into c->in.  For JSON the input is the raw body;
     * for the form protocols it is the parsed form.  Returns 0 or -1 with
     * the error set on c. */
    int (*decode)(struct call *c, const char *body, size_t len,
                  const struct form *form);
    /* Serialize c->out (success) into a malloc'd body. */
    char *(*encode)(struct call *c, size_t *len);
    /* Serialize the error recorded on c into a malloc'd body. */
    char *(*encode_error)(struct call *c, size_t *len);
    const char *content_type;
};

extern const struct codec codec_json;
extern const struct codec codec_query;
extern const struct codec codec_ec2;

const struct codec *codec_for(enum protocol p);

/* Largest response we build (a Describe of everything in a big account). */
#define RESPONSE_LIMIT (256u << 20)
/* Nesting depth beyond any real shape; a guard against hostile input. */
#define MAX_DEPTH 64

/* Timestamps: epoch seconds (what handlers store) to and from text. */
void time_iso8601(double t, char *out, size_t len);
int time_parse(const char *text, double *out);

#endif
