/*
 * fetch.h - HTTPS fetches of MTA-STS policies: libcurl's multi interface
 * driven by the daemon's libevent loop, so a fetch never blocks the loop.
 *
 * SYNOPSIS
 *   f = mw_sts_fetcher_new(base, &err);
 *   x = mw_sts_fetch_start(f, "mta-sts.example.com", "192.0.2.1,[2001:db8::1]",
 *                          &opts, done, arg, &err);
 *   ...  done(arg, ok, body, len, why) runs once, later, from the loop
 *   mw_sts_fetch_cancel(&x);             (done is then never called)
 *   mw_sts_fetcher_free(&f);             (cancels whatever is left)
 *
 * DESCRIPTION
 *   GET https://HOST/.well-known/mta-sts.txt, connecting to the addresses
 *   given (the caller resolved HOST through the daemon's resolver; libcurl
 *   does no DNS of its own). RFC 8461 section 3.3: the server certificate
 *   must chain to the trusted CAs (ca_file, or the system store) and be
 *   valid for HOST, which is also sent as SNI; redirects are not followed;
 *   only a 200 with media type text/plain counts; the body may be at most
 *   MW_STS_POLICY_MAX bytes (a longer one is cut off when it gets there);
 *   the whole transfer takes at most timeout_ms. HTTPS only, TLS 1.2 or
 *   later, no connection reuse. Anything else fails with a one-line reason.
 *
 * MEMORY
 *   The body passed to done is valid during the call only.
 *
 * THREADS
 *   Event-loop thread only.
 */
#ifndef MW_STS_FETCH_H
#define MW_STS_FETCH_H

#include <stddef.h>

#include "mw/err.h"

struct event_base;
struct mw_sts_fetcher;
struct mw_sts_fetch;

struct mw_sts_fetch_opts {
    const char *ca_file; /* CA bundle; NULL or "" = the system store */
    long timeout_ms;     /* whole transfer, connect included */
};

/* ok 1: body/len hold the policy; ok 0: why says what failed. */
typedef void mw_sts_fetch_cb(void *arg, int ok, const char *body, size_t len, const char *why);

struct mw_sts_fetcher *mw_sts_fetcher_new(struct event_base *base, struct mw_err *err);
/* Cancel every transfer (their callbacks are not called) and free; NULL is fine. */
void mw_sts_fetcher_free(struct mw_sts_fetcher **fp);

/*
 * Start fetching the policy of HOST from addrs (a comma-separated list, IPv6
 * in brackets). Returns the transfer, or NULL with err (cb is then never
 * called). cb runs exactly once, from the loop, never before this returns.
 */
struct mw_sts_fetch *mw_sts_fetch_start(struct mw_sts_fetcher *f, const char *host,
                                        const char *addrs, const struct mw_sts_fetch_opts *o,
                                        mw_sts_fetch_cb *cb, void *arg, struct mw_err *err);
/* Stop a transfer whose callback has not run yet, and NULL the pointer. */
void mw_sts_fetch_cancel(struct mw_sts_fetch **xp);

/* Transfers in progress. */
size_t mw_sts_fetcher_active(const struct mw_sts_fetcher *f);

#endif
