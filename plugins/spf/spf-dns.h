/*
 * spf-dns.h - the SPF evaluators' DNS callback (struct mw_spf_dns) on top
 * of the host's one resolver (mw/dns.h).
 *
 * SYNOPSIS
 *   struct mw_spf_dns d;
 *   mw_spf_dns_init(&d, host->dns);
 *   engine->check_host(&d, ...);
 *
 * DESCRIPTION
 *   Every lookup of an SPF evaluation (TXT, A, AAAA, MX, PTR) goes through
 *   mw_dns_resolve(), blocking, so the milter's libunbound cache and DNSSEC
 *   validator serve SPF as they serve every other check. Answers are
 *   decoded with the mw/dns.h decoders and handed over as a struct
 *   mw_spf_rrset:
 *     OK with records     MW_SPF_DNS_OK (undecodable records are skipped;
 *                         none left: NODATA)
 *     NXDOMAIN / NODATA   the same
 *     TEMPFAIL, TIMEOUT,  MW_SPF_DNS_TEMP (SPF temperror)
 *     a bogus answer,
 *     no resolver
 *   The evaluator hands over raw label text; lib/dns takes presentation
 *   form without escapes, so a name it refuses (mw_dns_name_check: a blank,
 *   a backslash or a byte outside printable ASCII, e.g. from a %{l} macro)
 *   cannot be asked: TEMP, as spf-eval.h prescribes for a name the
 *   resolver cannot encode.
 *
 * THREADS
 *   The callback holds no state of its own: any number of evaluations may
 *   run at once, each in its connection's thread.
 */
#ifndef MW_SPF_DNS_H
#define MW_SPF_DNS_H

#include "spf-eval.h"

struct mw_dns;

/* Fill d with the callback over dns (NULL: every lookup is TEMP). */
void mw_spf_dns_init(struct mw_spf_dns *d, struct mw_dns *dns);

#endif
