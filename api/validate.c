/*
 * Input validation against the model.
 *
 * Messages follow what each service really says (docs/research/aws-errors.md):
 *   EC2       MissingParameter "The request must contain the parameter %s",
 *             InvalidParameterValue "Value (%s) for parameter %s is invalid. ..."
 *   others    the Coral form "N validation error(s) detected: Value null at
 *             'name' failed to satisfy constraint: Member must not be null",
 *             under the code each service uses for it (ELBv2/STS
 *             ValidationError, ECS/Logs InvalidParameterException, Cloud Map
 *             InvalidInput).
 * JSON values of the wrong type are a SerializationException, as the JSON
 * services' front end reports them before validation.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "call.h"
#include "proto.h"
#include "validate.h"

#define MAX_REPORTED 8

struct verrors {
    int n;
    struct buf text;
    /* EC2 reports the first problem in its own words. */
    char ec2_code[48];
    char ec2_message[512];
};

static const char *coral_code(enum service_id svc)
{
    switch (svc) {
    case SVC_ECS:
    case SVC_LOGS:
        return "InvalidParameterException";
    case SVC_SD:
        return "InvalidInput";
    default:
        return "ValidationError";
    }
}

/* Coral and EC2 both name members in lowerCamel case. */
static void wire_name(const struct member *m, char *out, size_t len)
{
    snprintf(out, len, "%s", m->name);
    out[0] = (char)tolower((unsigned char)out[0]);
}

static void add_problem(struct verrors *ve, const char *path, const char *value,
                        const char *constraint, const char *ec2_code,
                        const char *ec2_message)
{
    if (ve->n == 0 && ec2_code) {
        snprintf(ve->ec2_code, sizeof(ve->ec2_code), "%s", ec2_code);
        snprintf(ve->ec2_message, sizeof(ve->ec2_message), "%s", ec2_message);
    }
    if (ve->n < MAX_REPORTED) {
        if (ve->n)
            buf_adds(&ve->text, "; ");
        if (value)
            buf_printf(&ve->text, "Value '%.128s' at '%s' failed to satisfy "
                       "constraint: %s", value, path, constraint);
        else
            buf_printf(&ve->text, "Value null at '%s' failed to satisfy "
                       "constraint: %s", path, constraint);
    }
    ve->n++;
}

static void scalar_text(json_t *v, char *out, size_t len)
{
    if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, len, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, len, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(out, len, "?");
}

static void check_value(struct call *c, struct verrors *ve,
                        const struct shape *s, json_t *v, const char *path,
                        const char *ec2_name, int depth);

static void check_struct(struct call *c, struct verrors *ve,
                         const struct shape *s, json_t *v, const char *path,
                         int depth)
{
    for (int i = 0; i < s->nmembers; i++) {
        const struct member *m = shape_member(s, i);
        char name[128], sub[512];
        wire_name(m, name, sizeof(name));
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", name);
        json_t *mv = json_object_get(v, m->name);
        if (!mv) {
            if (m->flags & MF_REQUIRED) {
                char msg[256];
                snprintf(msg, sizeof(msg),
                         "The request must contain the parameter %s", name);
                add_problem(ve, sub, NULL, "Member must not be null",
                            "MissingParameter", msg);
            }
            continue;
        }
        check_value(c, ve, shape_get(m->shape), mv, sub, name, depth + 1);
    }
}

/* Enums the service accepts more values of than botocore lists (AWS
 * answers DescribeAccountAttributes for six names; the model knows two). */
static int open_enum(const struct shape *s)
{
    return s == shape_get(SH_EC2_AccountAttributeName);
}

static void check_value(struct call *c, struct verrors *ve,
                        const struct shape *s, json_t *v, const char *path,
                        const char *ec2_name, int depth)
{
    char text[256], msg[512], constraint[256];
    if (depth > MAX_DEPTH)
        return;
    switch (s->type) {
    case T_STRUCT:
        check_struct(c, ve, s, v, path, depth);
        return;
    case T_LIST: {
        size_t n = json_array_size(v);
        if ((s->flags & SF_HAS_MIN) && (long long)n < s->min) {
            snprintf(constraint, sizeof(constraint),
                     "Member must have length greater than or equal to %lld", s->min);
            snprintf(msg, sizeof(msg), "The request must contain the parameter %s",
                     ec2_name);
            add_problem(ve, path, "[]", constraint,
                        n == 0 ? "MissingParameter" : "InvalidParameterValue", msg);
        } else if ((s->flags & SF_HAS_MAX) && (long long)n > s->max) {
            snprintf(constraint, sizeof(constraint),
                     "Member must have length less than or equal to %lld", s->max);
            snprintf(msg, sizeof(msg), "Value for parameter %s is invalid. "
                     "Expecting at most %lld items.", ec2_name, s->max);
            add_problem(ve, path, "[...]", constraint, "InvalidParameterValue", msg);
        }
        json_t *item;
        size_t i;
        json_array_foreach(v, i, item) {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s.%zu.member", path, i + 1);
            check_value(c, ve, shape_get(s->inner), item, sub, ec2_name, depth + 1);
        }
        return;
    }
    case T_MAP: {
        size_t n = json_object_size(v);
        if ((s->flags & SF_HAS_MIN) && (long long)n < s->min) {
            snprintf(constraint, sizeof(constraint),
                     "Member must have length greater than or equal to %lld", s->min);
            snprintf(msg, sizeof(msg), "The request must contain the parameter %s", ec2_name);
            add_problem(ve, path, "{}", constraint, "InvalidParameterValue", msg);
        } else if ((s->flags & SF_HAS_MAX) && (long long)n > s->max) {
            snprintf(constraint, sizeof(constraint),
                     "Member must have length less than or equal to %lld", s->max);
            snprintf(msg, sizeof(msg), "Value for parameter %s is invalid. "
                     "Expecting at most %lld entries.", ec2_name, s->max);
            add_problem(ve, path, "{...}", constraint, "InvalidParameterValue", msg);
        }
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item) {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s.%s", path, key);
            check_value(c, ve, shape_get(s->value), item, sub, ec2_name, depth + 1);
        }
        return;
    }
    case T_STRING:
        if (s->nenums > 0 && !open_enum(s) && !shape_enum_has(s, json_string_value(v))) {
            struct buf set;
            buf_init(&set, 4096);
            for (int i = 0; i < s->nenums; i++) {
                if (i)
                    buf_adds(&set, ", ");
                buf_adds(&set, model_enums[s->enums_off + i]);
            }
            snprintf(constraint, sizeof(constraint),
                     "Member must satisfy enum value set: [%.200s]",
                     set.data ? set.data : "");
            buf_free(&set);
            snprintf(msg, sizeof(msg), "Value (%.128s) for parameter %s is invalid.",
                     json_string_value(v), ec2_name);
            add_problem(ve, path, json_string_value(v), constraint,
                        "InvalidParameterValue", msg);
            return;
        }
        {
            long long len = (long long)strlen(json_string_value(v));
            if ((s->flags & SF_HAS_MIN) && len < s->min) {
                snprintf(constraint, sizeof(constraint),
                         "Member must have length greater than or equal to %lld",
                         s->min);
                snprintf(msg, sizeof(msg), "Value (%.128s) for parameter %s is "
                         "invalid. The value cannot be empty", json_string_value(v),
                         ec2_name);
                add_problem(ve, path, json_string_value(v), constraint,
                            "InvalidParameterValue", msg);
            } else if ((s->flags & SF_HAS_MAX) && len > s->max) {
                snprintf(constraint, sizeof(constraint),
                         "Member must have length less than or equal to %lld",
                         s->max);
                snprintf(msg, sizeof(msg), "Value for parameter %s is invalid. "
                         "Length exceeds %lld.", ec2_name, s->max);
                add_problem(ve, path, json_string_value(v), constraint,
                            "InvalidParameterValue", msg);
            }
        }
        return;
    case T_INTEGER:
    case T_LONG: {
        long long x = json_integer_value(v);
        scalar_text(v, text, sizeof(text));
        if ((s->flags & SF_HAS_MIN) && x < s->min) {
            snprintf(constraint, sizeof(constraint),
                     "Member must have value greater than or equal to %lld", s->min);
            snprintf(msg, sizeof(msg), "Value ( %s ) for parameter %s is invalid. "
                     "Expecting a value greater than or equal to %lld.", text,
                     ec2_name, s->min);
            add_problem(ve, path, text, constraint, "InvalidParameterValue", msg);
        } else if ((s->flags & SF_HAS_MAX) && x > s->max) {
            snprintf(constraint, sizeof(constraint),
                     "Member must have value less than or equal to %lld", s->max);
            snprintf(msg, sizeof(msg), "Value ( %s ) for parameter %s is invalid. "
                     "Expecting a value smaller than or equal to %lld.", text,
                     ec2_name, s->max);
            add_problem(ve, path, text, constraint, "InvalidParameterValue", msg);
        }
        return;
    }
    default:
        return;
    }
}

int validate_input(struct call *c)
{
    const struct shape *s = shape_get(c->op->input);
    if (!s)
        return 0;
    struct verrors ve = { 0 };
    buf_init(&ve.text, 8192);
    check_struct(c, &ve, s, c->in, "", 0);
    if (ve.n == 0) {
        buf_free(&ve.text);
        return 0;
    }
    if (c->svc->protocol == PROTO_EC2) {
        call_error(c, ve.ec2_code, "%s", ve.ec2_message);
    } else {
        call_error(c, coral_code(c->svc->id), "%d validation error%s detected: %s",
                   ve.n, ve.n == 1 ? "" : "s", ve.text.data ? ve.text.data : "");
    }
    buf_free(&ve.text);
    return -1;
}

static const char *json_kind(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return "STRING_VALUE";
    case JSON_INTEGER:
    case JSON_REAL: return "NUMBER_VALUE";
    case JSON_TRUE: return "TRUE_VALUE";
    case JSON_FALSE: return "FALSE_VALUE";
    case JSON_NULL: return "NULL_VALUE";
    case JSON_ARRAY: return "START_ARRAY";
    case JSON_OBJECT: return "START_OBJECT";
    }
    return "VALUE";
}

static const char *type_word(const struct shape *s)
{
    switch (s->type) {
    case T_INTEGER: return "Integer";
    case T_LONG: return "Long";
    case T_BOOLEAN: return "Boolean";
    case T_DOUBLE: return "Double";
    case T_TIMESTAMP: return "Date";
    case T_STRING: return "String";
    case T_BLOB: return "Blob";
    case T_LIST: return "list";
    case T_MAP: return "map";
    default: return "structure";
    }
}

int validate_type_error(struct call *c, const char *path,
                        const struct shape *s, json_t *v)
{
    char text[256];
    const char *name = strrchr(path, '.');
    name = name ? name + 1 : path;
    if (c->svc->protocol == PROTO_JSON) {
        if (json_is_object(v))
            return call_error(c, "SerializationException",
                              "Start of structure or map found where not expected.");
        if (json_is_array(v))
            return call_error(c, "SerializationException",
                              "Start of list found where not expected.");
        if (s->type == T_LIST || s->type == T_MAP || s->type == T_STRUCT)
            return call_error(c, "SerializationException", "Expected %s or null",
                              type_word(s));
        return call_error(c, "SerializationException", "%s cannot be converted to %s",
                          json_kind(v), type_word(s));
    }
    scalar_text(v, text, sizeof(text));
    if (c->svc->protocol == PROTO_EC2)
        return call_error(c, "InvalidParameterValue",
                          "Value (%.128s) for parameter %s is invalid. Expecting a "
                          "value of type %s.", text, name, type_word(s));
    return call_error(c, coral_code(c->svc->id), "1 validation error detected: "
                      "Value '%.128s' at '%s' failed to satisfy constraint: "
                      "Member must be of type %s", text, path, type_word(s));
}
