/*
 * policy.h - MTA-STS records and policies (RFC 8461): strict parsers and the
 * Postfix answer.
 *
 * SYNOPSIS
 *   if (mw_sts_txt_pick(recs, n, id, &err) == 0) ...           (_mta-sts TXT)
 *   if (mw_sts_policy_parse(text, len, &p, &err) == 0) ...     (mta-sts.txt)
 *   mw_sts_policy_answer(p, "example.com", tlsrpt, &buf, &err);
 *   mw_sts_policy_free(&p);
 *
 * DESCRIPTION
 *   Pure functions: bytes in, a struct or a one-line reason out; every input
 *   is distrusted (the TXT record and the policy come from the network, the
 *   cached copy from a Redis that other hosts share).
 *
 *   TXT (RFC 8461 section 3.1): of the records of _mta-sts.DOMAIN, those not
 *   starting with "v=STSv1" (then ";", blank or the end) are discarded; the
 *   rest must be exactly one record, and it must follow the grammar: fields
 *   "name=value" separated by ";" with optional blanks, exactly one
 *   "id=" of 1 to 32 letters and digits, extensions with names of 1 to 32
 *   letters, digits, "_", "-", "." and values of visible characters other
 *   than ";" and "="; an optional final ";" and trailing blanks. Anything
 *   else means "no policy".
 *
 *   Policy (section 3.2): lines "key: value" ended by LF or CRLF (the last
 *   one may lack it). Keys are case-sensitive. version (exactly "STSv1"),
 *   mode (enforce, testing or none) and max_age (1 to 10 digits; values
 *   above 31557600 are capped to it) must appear exactly once; mx at least
 *   once unless mode is none. An mx pattern is a domain name (letters,
 *   digits and inner hyphens, labels of 1 to 63 bytes, at most 253 bytes,
 *   no final dot), optionally preceded by "*." (a wildcard is only ever the
 *   whole left-most label). Unknown keys are ignored but their line must
 *   still be a well-formed field (name as for TXT extensions, a value of
 *   visible ASCII or UTF-8 and blanks). Empty lines are tolerated. Anything
 *   else (NUL, a stray CR, a line without ":", a duplicate key, a bad
 *   pattern) makes the whole policy invalid. At most MW_STS_POLICY_MAX bytes.
 *
 *   Answer: what postfix-mta-sts-resolver answers, so sites can switch:
 *   "secure match=P1:P2 servername=hostname", each pattern lower-cased and
 *   once only, in policy order, "*.example.net" written ".example.net"
 *   (Postfix's syntax: note that Postfix lets ".example.net" match names at
 *   any depth below example.net, where RFC 8461 allows one label only).
 *   With tlsrpt, the Postfix 3.10 TLSRPT attributes follow (TLSRPT_README):
 *   "policy_type=sts policy_domain=DOMAIN", one "mx_host_pattern=P" per
 *   pattern as written, one "{ policy_string = KEY: VALUE }" per known line.
 *
 * MEMORY
 *   A parsed policy belongs to the caller (mw_sts_policy_free()).
 */
#ifndef MW_STS_POLICY_H
#define MW_STS_POLICY_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/err.h"

#define MW_STS_ID_MAX 32
#define MW_STS_MAX_AGE_MAX 31557600UL
#define MW_STS_POLICY_MAX 65536

enum mw_sts_mode {
    MW_STS_MODE_NONE,
    MW_STS_MODE_TESTING,
    MW_STS_MODE_ENFORCE,
};

struct mw_sts_policy {
    enum mw_sts_mode mode;
    unsigned long max_age; /* seconds, capped at MW_STS_MAX_AGE_MAX */
    size_t nmx;
    char **mx; /* patterns lower-cased, as written otherwise: "mx.example.com", "*.example.net" */
};

/*
 * One TXT record (its strings concatenated): 0 and its id when it is a valid
 * STSv1 record, -1 with the reason otherwise.
 */
int mw_sts_txt_parse(const char *rec, size_t len, char id[MW_STS_ID_MAX + 1], struct mw_err *err);
/* Non-zero when the record claims to be STSv1 ("v=STSv1" then ";", a blank or the end). */
int mw_sts_txt_is_sts(const char *rec, size_t len);
/*
 * Discovery over all n records of _mta-sts.DOMAIN: 0 and the id when exactly
 * one claims STSv1 and that one is valid; -1 with the reason otherwise.
 */
int mw_sts_txt_pick(const struct mw_buf *recs, size_t n, char id[MW_STS_ID_MAX + 1],
                    struct mw_err *err);

/* Parse a policy body; 0 and *out, or -1 with the reason (naming the line). */
int mw_sts_policy_parse(const char *text, size_t len, struct mw_sts_policy **out,
                        struct mw_err *err);
void mw_sts_policy_free(struct mw_sts_policy **pp);

/*
 * Append the Postfix answer text (without "OK ") for an enforced policy to
 * out; -1 when it would be longer than max bytes.
 */
int mw_sts_policy_answer(const struct mw_sts_policy *p, const char *domain, int tlsrpt, size_t max,
                         struct mw_buf *out, struct mw_err *err);

/* "enforce", "testing", "none". */
const char *mw_sts_mode_name(enum mw_sts_mode m);

#endif
