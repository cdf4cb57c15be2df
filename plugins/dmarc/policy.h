/*
 * policy.h - a DMARC record and the verdict on one message (RFC 7489).
 *
 * SYNOPSIS
 *   mw_dmarc_record_parse(text, from, org_or_NULL, &rec, &err);
 *   mw_dmarc_evaluate(psl, &in, &verdict);
 *   mw_dmarc_aligned(psl, from, id, strict);
 *
 * DESCRIPTION
 *   mw_dmarc_record_parse() hands a record that policy discovery found to
 *   libopendmarc (opendmarc_policy_store_dmarc) and reads back the tags
 *   that matter here: p, sp, pct, adkim, aspf (§6.3, defaults applied).
 *
 *   mw_dmarc_evaluate() is the pure part of §6.6.2 and §6.6.4: the
 *   identifiers the spf and dkim plugins authenticated (mw_auth_result) are
 *   compared with the From domain, relaxed (same organizational domain) or
 *   strict (same name) per adkim/aspf (§3.1). One aligned pass is a pass.
 *   Without one, an aligned identifier that only failed temporarily makes
 *   the result temperror (a DNS hiccup at the signer never turns into a
 *   reject); otherwise the result is fail, and the policy that applies is
 *   sp when the record was found at the organizational domain of a
 *   subdomain and has sp, p otherwise. pct samples: a message whose roll
 *   (0..99) is not below pct gets the next weaker policy (reject becomes
 *   quarantine, quarantine becomes none).
 *
 *   Alignment is computed here, not by libopendmarc: its check calls a
 *   d= that is a subdomain of a strict From domain aligned, and relaxes
 *   against public suffixes (From example.co.uk, d=co.uk).
 *
 * THREADS
 *   Reentrant: libopendmarc gets a context of its own per call.
 */
#ifndef MW_DMARC_POLICY_H
#define MW_DMARC_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc/psl.h"
#include "mw/err.h"
#include "mw/msg.h"

/* Longer records are refused (libopendmarc copies into 8 KB and cuts). */
#define MW_DMARC_RECORD_MAX 4096

enum mw_dmarc_p {
    MW_DMARC_P_NONE,
    MW_DMARC_P_QUARANTINE,
    MW_DMARC_P_REJECT,
};

struct mw_dmarc_record {
    enum mw_dmarc_p p;
    enum mw_dmarc_p sp; /* p when the record has no sp */
    bool has_sp;
    int pct; /* 0..100 */
    bool adkim_strict, aspf_strict;
};

/*
 * Parse text, the record discovered for from_domain; org_domain is the
 * organizational domain where it was found when that is not from_domain
 * (NULL otherwise). Returns 0, or -1 with a short reason.
 */
int mw_dmarc_record_parse(const char *text, const char *from_domain, const char *org_domain,
                          struct mw_dmarc_record *r, struct mw_err *err);

struct mw_dmarc_input {
    const char *from; /* the From domain, lowercase */
    bool fallback;    /* the record came from its organizational domain */
    const struct mw_dmarc_record *rec;
    const struct mw_auth_result *const *results; /* what spf and dkim recorded */
    size_t nresults;
    bool bounce;       /* MAIL FROM was <>: SPF's helo result stands for it */
    unsigned int roll; /* uniform in 0..99, for pct */
};

struct mw_dmarc_verdict {
    const char *result;          /* "pass", "fail" or "temperror" */
    enum mw_dmarc_p policy;      /* what the record asks for this domain */
    bool used_sp;                /* policy is the record's sp */
    enum mw_dmarc_p disposition; /* fail: policy after pct sampling; else none */
    bool dkim_aligned, spf_aligned;
};

void mw_dmarc_evaluate(const struct mw_psl *psl, const struct mw_dmarc_input *in,
                       struct mw_dmarc_verdict *v);

/*
 * Is the authenticated domain id aligned with from (lowercase host name)?
 * strict: the same name; relaxed: the same organizational domain. id may
 * be anything a message carried: it is checked and lowercased first.
 */
bool mw_dmarc_aligned(const struct mw_psl *psl, const char *from, const char *id, bool strict);

/* "none", "quarantine", "reject". */
const char *mw_dmarc_p_name(enum mw_dmarc_p p);

#endif
