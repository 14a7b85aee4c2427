/*
 * Libraries loaded when first needed instead of at exec (libcurl for the
 * client commands, ldns at the first DNS query, libnftables at the first
 * rule): each one linked normally costs every start of ecslocal its share
 * of the dynamic loader's time and resident memory.
 */
#ifndef ECSL_DL_H
#define ECSL_DL_H

#include <stddef.h>

struct dl_sym {
    void **fn;              /* where the function's address goes */
    const char *name;
};

/* dlopen soname and resolve every symbol; the handle, or NULL with err
 * (nothing resolved is kept). */
void *dl_load(const char *soname, const struct dl_sym *syms, size_t n, char *err,
              size_t errlen);

#endif
