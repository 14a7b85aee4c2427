/* nftables commands in a namespace (see nft.h). */
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>

#include "dl.h"
#include "netns.h"
#include "nft.h"

static struct {
    __typeof__(nft_ctx_new) *ctx_new;
    __typeof__(nft_ctx_free) *ctx_free;
    __typeof__(nft_ctx_buffer_output) *buffer_output;
    __typeof__(nft_ctx_buffer_error) *buffer_error;
    __typeof__(nft_ctx_get_error_buffer) *get_error_buffer;
    __typeof__(nft_run_cmd_from_buffer) *run_cmd_from_buffer;
} nft;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char load_error[300];

static void load(void)
{
    const struct dl_sym syms[] = {
        { (void **)&nft.ctx_new, "nft_ctx_new" },
        { (void **)&nft.ctx_free, "nft_ctx_free" },
        { (void **)&nft.buffer_output, "nft_ctx_buffer_output" },
        { (void **)&nft.buffer_error, "nft_ctx_buffer_error" },
        { (void **)&nft.get_error_buffer, "nft_ctx_get_error_buffer" },
        { (void **)&nft.run_cmd_from_buffer, "nft_run_cmd_from_buffer" },
    };
    loaded = dl_load("libnftables.so.1", syms, sizeof(syms) / sizeof(syms[0]), load_error,
                     sizeof(load_error)) != NULL;
}

struct run {
    const char *text;
    char *err;
    size_t errlen;
};

/* In the namespace (netns_run): a context made here works here. */
static int run_here(void *arg)
{
    struct run *r = arg;
    struct nft_ctx *ctx = nft.ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) {
        snprintf(r->err, r->errlen, "nft_ctx_new failed");
        return -1;
    }
    nft.buffer_output(ctx);
    nft.buffer_error(ctx);
    int rc = nft.run_cmd_from_buffer(ctx, r->text);
    if (rc != 0)
        snprintf(r->err, r->errlen, "nft: %.400s", nft.get_error_buffer(ctx));
    nft.ctx_free(ctx);
    return rc ? -1 : 0;
}

int nft_apply(int nsfd, const char *text, char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (!loaded) {
        snprintf(err, errlen, "%s", load_error);
        return -1;
    }
    struct run r = { text, err, errlen };
    return netns_run(nsfd, run_here, &r);
}
