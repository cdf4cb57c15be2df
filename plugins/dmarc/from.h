/*
 * from.h - the author domain(s) of a From header value (RFC 5322 §3.4, §3.6.2).
 *
 * SYNOPSIS
 *   struct mw_dmarc_from f;
 *   mw_dmarc_from_parse(value, len, &f, &err);
 *
 * DESCRIPTION
 *   A pure parser of what a sender writes after "From:": mailboxes with or
 *   without display names, comments, quoted strings, obsolete routes, groups
 *   (one level), folding. It returns how many mailboxes there are, the domain
 *   of the first one and the first domain that differs from it, so that DMARC
 *   can refuse to judge a header whose addresses are in several domains
 *   instead of judging only one of them (the OpenDMARC CVE-2019-16378 lesson).
 *
 *   Domains are returned lowercased and must be host names: letters, digits,
 *   '-' and '_' in labels of 1..63 bytes, at most 253 bytes, no final dot.
 *   Anything ambiguous fails: an address literal, a phrase before a bare
 *   address ("Alice alice@example.org"), text after an address, an unclosed
 *   quote, comment, bracket or group, a group inside a group, a NUL or
 *   control byte, a non-ASCII domain (an IDN would need converting first).
 */
#ifndef MW_DMARC_FROM_H
#define MW_DMARC_FROM_H

#include <stddef.h>

#include "mw/dns.h"
#include "mw/err.h"

struct mw_dmarc_from {
    size_t mailboxes;                 /* mailboxes found, group members included */
    char domain[MW_DNS_NAME_MAX + 1]; /* domain of the first mailbox; "" if none */
    char other[MW_DNS_NAME_MAX + 1];  /* the first domain differing from domain; "" if none */
};

/*
 * Parse len bytes of a From header value. Returns 0 and fills *f (mailboxes
 * may be 0: an empty group), or -1 with a short reason in err (no input
 * bytes in it, so it can go into a reply or a header comment).
 */
int mw_dmarc_from_parse(const char *value, size_t len, struct mw_dmarc_from *f, struct mw_err *err);

#endif
