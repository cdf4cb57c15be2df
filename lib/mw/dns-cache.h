/*
 * mw/dns-cache.h - decoded DNS answers kept in process for their TTL.
 *
 * SYNOPSIS
 *   c = mw_dns_cache_new(4096);
 *   a = mw_dns_cache_get(c, "example.com", MW_DNS_TXT, now);   (a copy, or NULL)
 *   mw_dns_cache_put(c, answer, now);
 *   mw_dns_cache_free(&c);
 *
 * DESCRIPTION
 *   libunbound keeps its own cache, but even a cached answer travels through
 *   its worker thread, two pipes and our service thread (mw/dns.h, dns.c):
 *   some twenty system calls and three thread switches. A milter asks the
 *   same few names for every message from a sender (SPF, the DKIM key, the
 *   DMARC record), so mw_dns_resolve() looks here first.
 *
 *   Only final answers are kept: OK, NXDOMAIN and NODATA with a TTL above
 *   zero, for that TTL, with their DNSSEC status. TEMPFAIL, TIMEOUT and
 *   bogus answers are never kept. A copy handed out carries the seconds left
 *   as its TTL. Names are compared case-insensitively, without a final dot.
 *
 *   The cache is direct-mapped: a name and type hash to one slot, and a new
 *   answer replaces whatever was there, so it never holds more than its
 *   size and needs no eviction pass. now is the caller's monotonic clock in
 *   seconds (tests pass their own).
 *
 * THREADS
 *   get and put may run in many threads at once (striped locks); new and
 *   free may not run concurrently with anything.
 */
#ifndef MW_DNS_CACHE_H
#define MW_DNS_CACHE_H

#include <stddef.h>

#include "mw/dns.h"

struct mw_dns_cache;

/* A cache of entries slots; NULL when entries is 0 (no cache: get and put do nothing). */
struct mw_dns_cache *mw_dns_cache_new(size_t entries);
void mw_dns_cache_free(struct mw_dns_cache **cp);

/* A copy of the answer kept for name/qtype if it has not expired; NULL otherwise. */
struct mw_dns_answer *mw_dns_cache_get(struct mw_dns_cache *c, const char *name, int qtype,
                                       double now);

/* Keep a copy of a (a final answer with a TTL; any other is ignored). */
void mw_dns_cache_put(struct mw_dns_cache *c, const struct mw_dns_answer *a, double now);

#endif
