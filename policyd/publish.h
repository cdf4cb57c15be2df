/*
 * publish.h - mailward-policyd's HTTPS listener for the domains whose
 * MTA-STS policy we publish ([mta-sts-publish]), and for TLS reports sent
 * to us by HTTPS POST (RFC 8460 section 3).
 *
 * SYNOPSIS
 *   mw_publish_new(base, cfg, err)      read the sites and certificates (no socket yet);
 *                                       *NULL with no error when listen is empty
 *   mw_publish_listen(p, err)           bind [mta-sts-publish] listen and serve
 *   mw_publish_reload(p, cfg, err)      SIGHUP: new sites and certificates for new
 *                                       connections; open connections keep theirs
 *   mw_publish_free(&p)                 close the listener and every connection
 *
 * Requests: GET or HEAD /.well-known/mta-sts.txt with Host mta-sts.DOMAIN of
 * a configured DOMAIN gets 200, text/plain, the policy (RFC 8461 3.2) and
 * Strict-Transport-Security; POST report_path gets the report parsed by
 * lib/tlsrpt.c (201, 400, 413 or 415); anything else 404 (501, from
 * libevent, for methods other than GET, HEAD and POST). Limits: max_header_size, max_body_size, and
 * timeout seconds for each read or write (an idle or stalled client is closed).
 *
 * TLS: TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites only, no
 * renegotiation, no compression. SNI mta-sts.DOMAIN picks DOMAIN's
 * certificate (cert= in policy_file), else the section's cert_file.
 *
 * Single thread (policyd's event loop).
 */
#ifndef MW_POLICYD_PUBLISH_H
#define MW_POLICYD_PUBLISH_H

#include "mw/config.h"
#include "mw/err.h"

struct event_base;
struct mw_publish;

int mw_publish_new(struct mw_publish **pp, struct event_base *base, const struct mw_config *cfg,
                   struct mw_err *err);
int mw_publish_listen(struct mw_publish *p, struct mw_err *err);
int mw_publish_reload(struct mw_publish *p, const struct mw_config *cfg, struct mw_err *err);
void mw_publish_free(struct mw_publish **pp);

#endif
