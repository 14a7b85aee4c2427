/*
 * ldns, loaded when the first DNS query arrives instead of at exec.
 *
 * libldns brings libssl and libcrypto with it: linked normally they cost
 * every start of ecslocal about two milliseconds and two megabytes, most
 * often for a server that never answers a DNS query.  So ecslocal is not
 * linked against ldns; this file defines the ldns functions dns.c calls,
 * each forwarding to the real one found with dlsym after ldns_lazy_load().
 * The prototypes come from ldns's own headers, so a mismatch does not
 * compile.  Only dns.c calls these, and only after ldns_lazy_load()
 * succeeded.
 */
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>

#include "dl.h"
#include "ldns_lazy.h"

/* Every function dns.c uses: X(return type, name, parameters, arguments). */
#define LDNS_FUNCTIONS(X)                                                              \
    X(ldns_status, ldns_wire2pkt, (ldns_pkt **packet, const uint8_t *data, size_t len), \
      (packet, data, len))                                                             \
    X(ldns_status, ldns_pkt2wire, (uint8_t **dest, const ldns_pkt *p, size_t *size),   \
      (dest, p, size))                                                                 \
    X(ldns_pkt *, ldns_pkt_new, (void), ())                                            \
    X(uint16_t, ldns_pkt_id, (const ldns_pkt *p), (p))                                 \
    X(bool, ldns_pkt_rd, (const ldns_pkt *p), (p))                                     \
    X(ldns_pkt_opcode, ldns_pkt_get_opcode, (const ldns_pkt *p), (p))                  \
    X(ldns_rr_list *, ldns_pkt_question, (const ldns_pkt *p), (p))                     \
    X(bool, ldns_pkt_push_rr, (ldns_pkt *packet, ldns_pkt_section section, ldns_rr *rr), \
      (packet, section, rr))                                                           \
    X(ldns_rr *, ldns_rr_clone, (const ldns_rr *rr), (rr))                             \
    X(ldns_rr_type, ldns_rr_get_type, (const ldns_rr *rr), (rr))                       \
    X(ldns_rdf *, ldns_rr_owner, (const ldns_rr *rr), (rr))                            \
    X(ldns_rr *, ldns_rr_list_rr, (const ldns_rr_list *rr_list, size_t nr), (rr_list, nr)) \
    X(size_t, ldns_rr_list_rr_count, (const ldns_rr_list *rr_list), (rr_list))         \
    X(char *, ldns_rdf2str, (const ldns_rdf *rdf), (rdf))                              \
    X(ldns_status, ldns_rr_new_frm_str,                                                \
      (ldns_rr **n, const char *str, uint32_t default_ttl, const ldns_rdf *origin,     \
       ldns_rdf **prev),                                                               \
      (n, str, default_ttl, origin, prev))

#define VOID_FUNCTIONS(X)                                                              \
    X(ldns_pkt_free, (ldns_pkt *packet), (packet))                                     \
    X(ldns_pkt_set_id, (ldns_pkt *p, uint16_t id), (p, id))                            \
    X(ldns_pkt_set_qr, (ldns_pkt *p, bool b), (p, b))                                  \
    X(ldns_pkt_set_aa, (ldns_pkt *p, bool b), (p, b))                                  \
    X(ldns_pkt_set_rd, (ldns_pkt *p, bool b), (p, b))                                  \
    X(ldns_pkt_set_opcode, (ldns_pkt *p, ldns_pkt_opcode c), (p, c))                   \
    X(ldns_pkt_set_rcode, (ldns_pkt *p, uint8_t c), (p, c))

#define POINTER(ret, name, params, args) ret(*name) params;
#define VOID_POINTER(name, params, args) void(*name) params;
static struct {
    LDNS_FUNCTIONS(POINTER)
    VOID_FUNCTIONS(VOID_POINTER)
} real;

#define FORWARD(ret, name, params, args) \
    ret name params { return real.name args; }
#define VOID_FORWARD(name, params, args) \
    void name params { real.name args; }
LDNS_FUNCTIONS(FORWARD)
VOID_FUNCTIONS(VOID_FORWARD)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char load_error[300];

static void load(void)
{
#define SYM(ret, name, params, args) { (void **)&real.name, #name },
#define VOID_SYM(name, params, args) { (void **)&real.name, #name },
    const struct dl_sym syms[] = { LDNS_FUNCTIONS(SYM) VOID_FUNCTIONS(VOID_SYM) };
    loaded = dl_load("libldns.so.3", syms, sizeof(syms) / sizeof(syms[0]), load_error,
                     sizeof(load_error)) != NULL;
}

const char *ldns_lazy_load(void)
{
    pthread_once(&once, load);
    return loaded ? NULL : load_error;
}
