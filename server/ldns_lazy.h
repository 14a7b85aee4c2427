/*
 * ldns on demand (see ldns_lazy.c): call ldns_lazy_load() before any ldns
 * function.  Returns NULL when ldns is ready, or why it is not.
 */
#ifndef ECSL_LDNS_LAZY_H
#define ECSL_LDNS_LAZY_H

const char *ldns_lazy_load(void);

#endif
