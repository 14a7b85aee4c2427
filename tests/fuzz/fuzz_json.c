/*
 * libFuzzer target: the awsJson1_1 codec and the validator.
 *
 * The input is "X-Amz-Target\nbody".  A target naming a listed JSON
 * operation decodes the body against its input shape; any other first line
 * picks a listed operation by its bytes, whatever its service (the JSON
 * codec walks any shape by member name), so every input shape in the
 * models is reachable.  The decoded input is re-encoded under the output
 * shape, errors through the error encoder, and the body is also handed to
 * the timestamp parser the codecs share.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/call.h"
#include "../../api/proto.h"
#include "../../api/validate.h"
#include "fuzz_common.h"

static int any_protocol(enum protocol p)
{
    (void)p;
    return 1;
}

static const struct operation *route(const uint8_t *line, size_t n)
{
    const uint8_t *dot = memrchr(line, '.', n);
    if (dot) {
        const struct service *svc =
            model_service_by_target((const char *)line, (size_t)(dot - line));
        char name[128];
        size_t len = n - (size_t)(dot + 1 - line);
        if (svc && len < sizeof(name)) {
            memcpy(name, dot + 1, len);
            name[len] = '\0';
            const struct operation *op = model_operation(svc->id, name);
            if (op && op->listed)
                return op;
        }
    }
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ line[i]) * 16777619u;
    return fuzz_pick_op(h, any_protocol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : 0;
    const uint8_t *rest = nl ? nl + 1 : data;
    size_t len = size - (size_t)(rest - data);

    char *text = fuzz_strndup(rest, len);
    double t;
    time_parse(text, &t);
    free(text);

    const struct operation *op = route(data, head);
    if (!op)
        return 0;
    struct call c;
    memset(&c, 0, sizeof(c));
    c.op = op;
    c.svc = model_service(op->svc);
    if (c.svc->protocol != PROTO_JSON)
        c.svc = model_service(SVC_ECS);
    snprintf(c.request_id, sizeof(c.request_id), "fuzz");
    char *body = fuzz_memdup(rest, len);
    size_t outlen;
    if (codec_json.decode(&c, body, len, NULL) == 0 && validate_input(&c) == 0) {
        c.out = json_incref(c.in);
        free(codec_json.encode(&c, &outlen));
        /* The XML encoders walk the same shapes another way. */
        free(codec_query.encode(&c, &outlen));
        free(codec_ec2.encode(&c, &outlen));
    } else {
        free(codec_json.encode_error(&c, &outlen));
    }
    json_decref(c.in);
    json_decref(c.out);
    free(body);
    return 0;
}
