/*
 * entry.h - what the mta-sts plugin keeps in the shared cache for a domain.
 *
 * SYNOPSIS
 *   mw_sts_entry_encode(&e, &buf);                  (then mw_cache_set_async)
 *   if (mw_sts_entry_decode(val, len, &e, &err) == 0) ...
 *
 * DESCRIPTION
 *   One value per domain under the key "mta-sts:DOMAIN", text:
 *     "mw-sts1 policy FETCHED NEXT_CHECK ID\n" followed by the policy body
 *     exactly as fetched (it is parsed again, strictly, on every use), or
 *     "mw-sts1 none" when the domain has no usable policy (kept for
 *     negative_ttl).
 *   FETCHED and NEXT_CHECK are Unix times: when the body was fetched (the
 *   policy expires max_age later) and when the _mta-sts TXT id is due to be
 *   checked again. The cache entry's own TTL ends when the policy expires.
 *   A value that does not decode is treated as a miss: the cache may be a
 *   Redis server other hosts write too.
 *
 * MEMORY
 *   Decoding does not copy the body: e->body points into the value given.
 */
#ifndef MW_STS_ENTRY_H
#define MW_STS_ENTRY_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/err.h"
#include "policy.h"

/* Largest time accepted in an entry (year 2100 or so): sums with max_age cannot overflow. */
#define MW_STS_TIME_MAX 4102444800LL

struct mw_sts_entry {
    int has_policy;       /* 0: "none" (the fields below are unused) */
    long long fetched;    /* Unix time of the fetch */
    long long next_check; /* Unix time the TXT id is due to be checked */
    char id[MW_STS_ID_MAX + 1];
    const char *body; /* the policy as fetched */
    size_t body_len;
};

/* Append the encoded entry to out. */
void mw_sts_entry_encode(const struct mw_sts_entry *e, struct mw_buf *out);
/* Decode a cached value; -1 with the reason when it is not one this module wrote. */
int mw_sts_entry_decode(const char *val, size_t len, struct mw_sts_entry *e, struct mw_err *err);

#endif
