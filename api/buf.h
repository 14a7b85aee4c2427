/*
 * A growable byte buffer with a size limit.
 *
 * Appends past the limit (or past memory) set buf->failed and are dropped,
 * so a writer can append freely and check once at the end (curl's dynbuf
 * idea: every buffer that holds untrusted or unbounded data has a cap).
 */
#ifndef ECSL_BUF_H
#define ECSL_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len, cap, limit;
    int failed;
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char ch);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Detach the NUL-terminated contents (caller frees); NULL if it failed. */
char *buf_take(struct buf *b, size_t *len);

#endif
