/*
 * application/x-www-form-urlencoded bodies (the query and EC2 protocols).
 *
 * The body is split into key/value pairs, percent-decoded and sorted by
 * key, so the shape walker can ask "is there Filter.1.Value.2?" or "is
 * there anything under TagSpecification.1?" with a binary search.  Counts
 * and lengths are bounded; a body over the bounds is an error, not a crash.
 */
#ifndef ECSL_FORM_H
#define ECSL_FORM_H

#include <stddef.h>

#define FORM_MAX_PARAMS 10000
#define FORM_MAX_KEY    512

struct form_pair {
    char *key;
    char *value;
};

struct form {
    struct form_pair *pairs;
    size_t n;
};

/* Parse and append pairs from text (a body or a URL query string).
 * Returns 0, or -1 with a reason in err. */
int form_parse(struct form *f, const char *text, size_t len, char *err,
               size_t errlen);
/* Sort after the last form_parse; later duplicates of a key win. */
void form_finish(struct form *f);
void form_free(struct form *f);

const char *form_get(const struct form *f, const char *key);
/* Whether any key equals prefix or starts with prefix followed by '.'. */
int form_has_prefix(const struct form *f, const char *prefix);

#endif
