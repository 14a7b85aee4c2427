/*
 * nftables commands, through libnftables loaded at the first use (see
 * dl.h: it brings libnftnl, libxtables and libgmp, which a server that
 * never filters a packet need not map).
 */
#ifndef ECSL_NFT_H
#define ECSL_NFT_H

#include <stddef.h>

/* Run text (nft's own syntax) in the network namespace nsfd as one
 * transaction.  0, or -1 with err (nft's own message when it refused). */
int nft_apply(int nsfd, const char *text, char *err, size_t errlen);

#endif
