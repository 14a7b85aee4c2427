/*
 * CloudWatch Logs filter patterns (FilterLogEvents' filterPattern), for
 * unstructured log events:
 *
 *   ERROR                  events containing the term ERROR
 *   ERROR Exception        ... both terms (AND)
 *   "Server Error 500"     an exact phrase (terms with other characters
 *                          than letters, digits and '_' must be quoted)
 *   ?ERROR ?"bad thing"    any of the terms (OR)
 *   ERROR -DEBUG           ... and not DEBUG
 *   %ERRORS?%              a regular expression (the whole pattern)
 *   (empty)                every event
 *
 * Matching is case sensitive and by whole terms, as CloudWatch's: a term
 * matches where it is not part of a longer word (ERROR matches "[ERROR]"
 * and "ERROR:", not "ERRORS"); a regular expression matches anywhere.
 *
 * Not evaluated, and answered with InvalidParameterException rather than
 * ignored: JSON patterns ({ $.field = ... }), space-delimited patterns
 * ([ip, user, ...]), and ?alternatives mixed with other terms.  Regular
 * expressions are POSIX extended ones limited to the characters
 * CloudWatch allows (no parentheses, no multi-byte characters); \d, \w
 * and \s are translated.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logs.h"

#define MAX_TERMS 64

enum term_kind { TERM_ALL, TERM_ANY, TERM_NOT };

struct term {
    enum term_kind kind;
    char *text;
    size_t len;
};

struct logs_pattern {
    int is_regex;
    regex_t re;
    struct term terms[MAX_TERMS];
    int nterms;
};

static int word_char(unsigned char ch)
{
    return isalnum(ch) || ch == '_' || ch >= 0x80;
}

static int invalid_pattern(struct call *c, const char *fmt, const char *arg)
{
    return call_error(c, "InvalidParameterException", fmt, arg);
}

/* The regular expression between the % signs, checked against what
 * CloudWatch accepts and translated to POSIX ERE. */
static int compile_regex(struct call *c, struct logs_pattern *p,
                         const char *body, size_t n)
{
    static const char allowed[] = "_#=@/;,-: ^$?[]{}|\\*+.";
    struct buf ere;
    buf_init(&ere, 8192);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[i];
        if (ch >= 0x80 || (!isalnum(ch) && !strchr(allowed, ch))) {
            buf_free(&ere);
            return call_error(c, "InvalidParameterException",
                              "Invalid filter pattern: the regular expression "
                              "contains '%c', which filter patterns do not support.",
                              ch >= 0x80 ? '?' : ch);
        }
        if (ch == '\\' && i + 1 < n && strchr("dws", body[i + 1])) {
            char cls = body[++i];
            buf_adds(&ere, cls == 'd' ? "[0-9]" : cls == 'w' ? "[A-Za-z0-9_]"
                                                             : "[[:space:]]");
            continue;
        }
        buf_addc(&ere, (char)ch);
    }
    char *text = buf_take(&ere, NULL);
    if (!text)
        return call_internal(c, "building the regular expression");
    int rc = regcomp(&p->re, text, REG_EXTENDED | REG_NOSUB);
    free(text);
    if (rc != 0)
        return call_error(c, "InvalidParameterException",
                          "Invalid filter pattern: the regular expression %%%.*s%% "
                          "does not compile.", (int)n, body);
    p->is_regex = 1;
    return 0;
}

/* A quoted phrase at *pp (just past the opening quote), unescaped into a
 * new string. */
static int read_quoted(struct call *c, const char **pp, struct term *t)
{
    const char *p = *pp;
    struct buf b;
    buf_init(&b, 4096);
    while (*p && *p != '"') {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
            p++;
        buf_addc(&b, *p++);
    }
    if (*p != '"') {
        buf_free(&b);
        return invalid_pattern(c, "Invalid filter pattern: %s",
                               "a quoted term has no closing quote.");
    }
    *pp = p + 1;
    if (b.len == 0) {
        buf_free(&b);
        return invalid_pattern(c, "Invalid character(s) in term '%s'", "\"\"");
    }
    t->text = buf_take(&b, &t->len);
    return t->text ? 0 : call_internal(c, "reading the filter pattern");
}

static int read_word(struct call *c, const char **pp, const char *start,
                     struct term *t)
{
    const char *p = *pp, *end = p;
    while (*end && !isspace((unsigned char)*end))
        end++;
    int ok = end > p;
    for (const char *q = p; ok && q < end; q++)
        ok = word_char((unsigned char)*q);
    if (!ok) {
        char shown[256];
        snprintf(shown, sizeof(shown), "%.*s", (int)(end - start), start);
        return invalid_pattern(c, "Invalid character(s) in term '%s'", shown);
    }
    t->text = strndup(p, (size_t)(end - p));
    t->len = (size_t)(end - p);
    *pp = end;
    return t->text ? 0 : call_internal(c, "reading the filter pattern");
}

static int compile_terms(struct call *c, struct logs_pattern *p, const char *s)
{
    int any = 0, other = 0;
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (p->nterms == MAX_TERMS)
            return call_error(c, "InvalidParameterException",
                              "Invalid filter pattern: more than %d terms.", MAX_TERMS);
        struct term *t = &p->terms[p->nterms];
        const char *start = s;
        t->kind = TERM_ALL;
        if (*s == '?' || *s == '-') {
            t->kind = *s == '?' ? TERM_ANY : TERM_NOT;
            s++;
        }
        int rc;
        if (*s == '"') {
            s++;
            rc = read_quoted(c, &s, t);
        } else {
            rc = read_word(c, &s, start, t);
        }
        if (rc < 0)
            return -1;
        p->nterms++;
        if (t->kind == TERM_ANY)
            any = 1;
        else
            other = 1;
    }
    if (any && other)
        return call_error(c, "InvalidParameterException",
                          "ecslocal does not evaluate filter patterns that mix "
                          "?alternatives with other terms; use either only "
                          "?terms or only required and -excluded terms.");
    return 0;
}

int logs_pattern_compile(struct call *c, const char *text,
                         struct logs_pattern **out)
{
    *out = NULL;
    while (text && isspace((unsigned char)*text))
        text++;
    if (!text || !*text)
        return 0;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    if (text[0] == '{')
        return call_error(c, "InvalidParameterException",
                          "ecslocal does not evaluate JSON filter patterns "
                          "({ $.field = value }); use terms, \"quoted phrases\", "
                          "?alternatives, -exclusions or a %%regular expression%%.");
    if (text[0] == '[')
        return call_error(c, "InvalidParameterException",
                          "ecslocal does not evaluate space-delimited filter "
                          "patterns ([field, ...]); use terms, \"quoted phrases\", "
                          "?alternatives, -exclusions or a %%regular expression%%.");
    struct logs_pattern *p = calloc(1, sizeof(*p));
    if (!p)
        return call_internal(c, "compiling the filter pattern");
    int rc;
    if (text[0] == '%' && n >= 2 && text[n - 1] == '%') {
        rc = compile_regex(c, p, text + 1, n - 2);
    } else {
        char *copy = strndup(text, n);
        rc = copy ? compile_terms(c, p, copy) : call_internal(c, "filter pattern");
        free(copy);
    }
    if (rc < 0) {
        logs_pattern_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

/* Whether t occurs in msg as whole terms: not preceded or followed by a
 * word character where the term itself starts or ends with one. */
static int term_in(const struct term *t, const char *msg, size_t len)
{
    const unsigned char *m = (const unsigned char *)msg;
    int word_start = word_char((unsigned char)t->text[0]);
    int word_end = word_char((unsigned char)t->text[t->len - 1]);
    const char *at = msg;
    size_t left = len;
    while (left >= t->len) {
        const char *hit = memmem(at, left, t->text, t->len);
        if (!hit)
            return 0;
        size_t i = (size_t)(hit - msg), end = i + t->len;
        if ((!word_start || i == 0 || !word_char(m[i - 1])) &&
            (!word_end || end == len || !word_char(m[end])))
            return 1;
        at = hit + 1;
        left = len - (i + 1);
    }
    return 0;
}

int logs_pattern_match(const struct logs_pattern *p, const char *msg,
                       size_t len)
{
    if (!p)
        return 1;
    if (p->is_regex)
        return regexec(&p->re, msg, 0, NULL, 0) == 0;
    int any_seen = 0, any_hit = 0;
    for (int i = 0; i < p->nterms; i++) {
        const struct term *t = &p->terms[i];
        int hit = term_in(t, msg, len);
        if (t->kind == TERM_ALL && !hit)
            return 0;
        if (t->kind == TERM_NOT && hit)
            return 0;
        if (t->kind == TERM_ANY) {
            any_seen = 1;
            any_hit |= hit;
        }
    }
    return !any_seen || any_hit;
}

void logs_pattern_free(struct logs_pattern *p)
{
    if (!p)
        return;
    if (p->is_regex)
        regfree(&p->re);
    for (int i = 0; i < p->nterms; i++)
        free(p->terms[i].text);
    free(p);
}
