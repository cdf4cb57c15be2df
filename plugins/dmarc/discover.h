/*
 * discover.h - DMARC policy discovery (RFC 7489 §6.6.3) through lib/dns.
 *
 * SYNOPSIS
 *   struct mw_dmarc_lookup l;
 *   mw_dmarc_discover(dns, "mail.example.org", "example.org", &l);
 *   ... l.status, l.record, l.fallback, l.why ...
 *   mw_dmarc_lookup_release(&l);
 *
 *   mw_dmarc_record_is_v1(text, len)
 *
 * DESCRIPTION
 *   Asks for the TXT records of _dmarc.FROM with the host's blocking
 *   resolver (one cache and one DNSSEC validator for every check, instead
 *   of libopendmarc's own libresolv lookups). Of the answer only records
 *   that start with "v=DMARC1" count. None there (or NXDOMAIN, NODATA):
 *   the same at _dmarc.ORG, the organizational domain, unless it is FROM
 *   itself. A temporary DNS failure or timeout at either step is TEMPFAIL;
 *   more than one DMARC record at a name, or one that holds a NUL or is
 *   longer than MW_DMARC_RECORD_MAX, is INVALID. Nothing is cached here:
 *   libunbound caches the answers for their TTL.
 *
 * THREADS
 *   Any connection thread; blocks for at most two lookups.
 */
#ifndef MW_DMARC_DISCOVER_H
#define MW_DMARC_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "mw/dns.h"
#include "mw/err.h"

enum mw_dmarc_found {
    MW_DMARC_FOUND,    /* record holds the one DMARC record */
    MW_DMARC_NORECORD, /* no policy published: DMARC does not apply */
    MW_DMARC_TEMPFAIL, /* why says which lookup failed how */
    MW_DMARC_INVALID,  /* why says what is wrong */
};

struct mw_dmarc_lookup {
    enum mw_dmarc_found status;
    char *record;      /* FOUND: the record text; free with mw_dmarc_lookup_release */
    bool fallback;     /* it came from the organizational domain */
    struct mw_err why; /* TEMPFAIL, INVALID: the reason */
};

/* dns may be NULL (no resolver yet): TEMPFAIL. from and org are lowercase host names. */
void mw_dmarc_discover(struct mw_dns *dns, const char *from, const char *org,
                       struct mw_dmarc_lookup *l);
void mw_dmarc_lookup_release(struct mw_dmarc_lookup *l);

/* Does this TXT record start with the DMARC version tag ("v" *WSP "=" *WSP "DMARC1")? */
bool mw_dmarc_record_is_v1(const char *text, size_t len);

#endif
