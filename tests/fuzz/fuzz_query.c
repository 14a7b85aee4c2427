/*
 * libFuzzer target: the form parser and the query/ec2 codecs.
 *
 * The input is a form body as an SDK sends it.  It is routed the way the
 * dispatcher routes it (Action + Version), or, when that names no listed
 * operation, to a listed query/ec2 operation chosen by the first byte, so
 * mutated bodies still reach deep into real input shapes.  The decoded
 * input is validated, then fed back through the output encoder and the
 * error encoder, which must cope with any JSON a handler could produce.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/call.h"
#include "../../api/form.h"
#include "../../api/proto.h"
#include "../../api/validate.h"
#include "fuzz_common.h"

static int form_protocol(enum protocol p)
{
    return p == PROTO_QUERY || p == PROTO_EC2;
}

static const struct operation *route(const struct form *f, uint8_t selector)
{
    const char *version = form_get(f, "Version");
    const char *action = form_get(f, "Action");
    const struct service *svc = version ? model_service_by_version(version) : NULL;
    const struct operation *op = svc && action ? model_operation(svc->id, action) : NULL;
    if (op && op->listed)
        return op;
    return fuzz_pick_op(selector, form_protocol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_memdup(data, size);
    struct form f = { 0 };
    char err[256];
    if (form_parse(&f, body, size, err, sizeof(err)) < 0) {
        form_free(&f);
        free(body);
        return 0;
    }
    form_finish(&f);

    const struct operation *op = route(&f, size ? data[0] : 0);
    if (op) {
        struct call c;
        memset(&c, 0, sizeof(c));
        c.svc = model_service(op->svc);
        c.op = op;
        snprintf(c.request_id, sizeof(c.request_id), "fuzz");
        const struct codec *codec = codec_for(c.svc->protocol);
        size_t len;
        if (codec->decode(&c, body, size, &f) == 0 && validate_input(&c) == 0) {
            /* Input members under the output shape: wrong types and
             * unknown members must be dropped, never crash. */
            c.out = json_incref(c.in);
            free(codec->encode(&c, &len));
        } else {
            free(codec->encode_error(&c, &len));
        }
        json_decref(c.in);
        json_decref(c.out);
    }
    form_free(&f);
    free(body);
    return 0;
}
