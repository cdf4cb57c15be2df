/*
 * lookup.h - one domain's DANE lookups on the event loop (RFC 7672 section 2.2).
 *
 * SYNOPSIS
 *   mw_dane_lookup_start(dns, base, domain, cb, arg, &err)
 *
 * DESCRIPTION
 *   Looks up the MX records of domain (no MX: the domain itself is the host,
 *   RFC 7672 section 2.2.1), then, when they are DNSSEC-secure, the A, AAAA
 *   and _25._tcp TLSA records of the first MW_DANE_HOSTS_MAX hosts by
 *   preference, all at once; when a host's address records came through a
 *   secure CNAME, also the TLSA records at the expanded name (section
 *   2.2.2). The facts go to mw_dane_decide() (verdict.h) and the verdict to
 *   cb. Nothing here blocks: every lookup is mw_dns_resolve_async() on base.
 *
 *   cb(arg, verdict) runs exactly once, from the loop, never inside
 *   mw_dane_lookup_start(); the verdict is valid during the call. A
 *   resolver that closes while lookups are pending answers them as failures
 *   (mw/dns.h), so cb still runs, with a FAIL verdict. A walk cannot be
 *   cancelled: whoever started it must stay until cb.
 *
 *   Event-loop thread only.
 */
#ifndef MW_DANE_LOOKUP_H
#define MW_DANE_LOOKUP_H

#include "mw/dns.h"
#include "verdict.h"

typedef void mw_dane_lookup_cb(void *arg, const struct mw_dane_verdict *v);

/*
 * Start the walk for domain (canonical, as mw_policy_domain_parse writes
 * it). Returns 0, or -1 with err (cb is then never called) when the MX
 * lookup cannot start (bad name, resolver closing).
 */
int mw_dane_lookup_start(struct mw_dns *dns, struct event_base *base, const char *domain,
                         mw_dane_lookup_cb *cb, void *arg, struct mw_err *err);

#endif
