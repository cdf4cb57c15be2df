/*
 * spf-record.h - one parsed SPF record (internal to the SPF evaluator).
 * mw_spf_record_parse() copies the text into the record; terms point into
 * that copy; mw_spf_record_release() frees both. Thread-safe.
 */
#ifndef MW_SPF_RECORD_H
#define MW_SPF_RECORD_H

#include <stddef.h>

#include "spf-eval.h"

enum mw_spf_kind {
    MW_SPF_NOKIND,
    MW_SPF_ALL,
    MW_SPF_INCLUDE,
    MW_SPF_A_MECH,
    MW_SPF_MX_MECH,
    MW_SPF_PTR_MECH,
    MW_SPF_IP4,
    MW_SPF_IP6,
    MW_SPF_EXISTS,
    MW_SPF_REDIRECT,
    MW_SPF_EXP,
    MW_SPF_MODIFIER,
};

struct mw_spf_term {
    enum mw_spf_kind kind;
    char qual;        /* + - ~ ? */
    const char *text; /* the whole term, tlen bytes (not NUL-terminated) */
    size_t tlen;
    const char *arg; /* domain-spec / modifier value, alen bytes, or NULL */
    size_t alen;
    int c4, c6;          /* CIDR lengths (32 / 128 when absent) */
    struct mw_spf_ip ip; /* ip4:/ip6: network */
};

struct mw_spf_record {
    char *buf;
    struct mw_spf_term *terms;
    size_t n;
    struct mw_spf_term *redirect, *exp; /* point into terms, or NULL */
    const char *bad;                    /* parse error: the offending term (into buf) */
    size_t badlen;
};

/* Does this TXT string select as an SPF record (§4.5: "v=spf1" then SP or end)? */
int mw_spf_record_is_spf(const char *txt);
/* Parse txt into r; -1 on any syntax error (permerror; r->bad/badlen name
 * the term, or are NULL/0 for a bad byte). Release r either way. */
int mw_spf_record_parse(struct mw_spf_record *r, const char *txt);
void mw_spf_record_release(struct mw_spf_record *r);

#endif
