/*
 * check.h - "mailwardctl check DOMAIN": what the checks of one domain share.
 *
 * DESCRIPTION
 *   A check fills one struct ck_item: a verdict (none, ok, warn, fail), a
 *   one-line summary, named details and notes. ck_set() only ever makes an
 *   item's verdict worse (none < ok < warn < fail), and every warn or fail
 *   message also becomes a note, so the summary names the worst problem
 *   and the notes all of them. check.c prints the items as text or JSON.
 *
 *   The checks (blocking; DNS through the configured resolver, so answers
 *   carry DNSSEC status):
 *     check-sts.c   MTA-STS: TXT record, HTTPS policy fetch, policy, MX match
 *     check-dane.c  DANE: MX, addresses and TLSA records (plugins/dane/verdict.c)
 *     check-tlsa.c  DANE: the certificate each MX serves against its TLSA records
 *     check-mail.c  SPF, DMARC and the DKIM key of --selector
 */
#ifndef MW_CTL_CHECK_H
#define MW_CTL_CHECK_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/dns.h"

enum ck_verdict { CK_NONE, CK_OK, CK_WARN, CK_FAIL };

struct ck_item {
    const char *name;
    enum ck_verdict verdict;
    char summary[512];
    struct mw_buf text;  /* "    key: value\n" lines */
    struct mw_buf json;  /* "details" members, each preceded by "," */
    struct mw_buf notes; /* "notes" elements, each preceded by "," */
    struct mw_buf noted; /* the same as text: "warn: ...\0fail: ...\0" */
};

struct ck_ctx {
    struct mw_dns *dns;
    const char *domain;   /* lowercase, no final dot, checked */
    const char *selector; /* DKIM selector or NULL */
    const char *ca_file;  /* [mta-sts] ca_file; "" = system store */
    long timeout_ms;      /* HTTPS fetch */
    const char *psl_path; /* [dmarc] public_suffix_list */
};

void ck_item_init(struct ck_item *it, const char *name);
void ck_item_release(struct ck_item *it);
/* Raise the verdict to v (never lowers it); the summary follows the worst verdict. */
void ck_set(struct ck_item *it, enum ck_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A detail line "key: value" (key unique within the item). */
void ck_detail(struct ck_item *it, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *ck_verdict_name(enum ck_verdict v);

/*
 * Look up the TXT records of name: 0 with *n records in *recs (each NUL-terminated
 * text of its strings concatenated; free with ck_txt_free), or -1 with why
 * (a failed, bogus or timed-out lookup). NXDOMAIN and NODATA are 0 records.
 * *dnssec gets the answer's DNSSEC status when not NULL.
 */
int ck_txt(const struct ck_ctx *c, const char *name, struct mw_buf **recs, size_t *n,
           enum mw_dnssec *dnssec, struct mw_err *why);
void ck_txt_free(struct mw_buf **recs, size_t n);
/* One line for an answer that is no answer (TEMPFAIL, TIMEOUT, bogus). */
void ck_dns_why(const struct mw_dns_answer *a, struct mw_err *why);

void ck_sts(const struct ck_ctx *c, struct ck_item *it);
void ck_dane(const struct ck_ctx *c, struct ck_item *it);
void ck_spf(const struct ck_ctx *c, struct ck_item *it);
void ck_dmarc(const struct ck_ctx *c, struct ck_item *it);
void ck_dkim(const struct ck_ctx *c, struct ck_item *it);
/* Warn unless the certificate host serves on port 25 matches its TLSA answer (check-tlsa.c). */
void ck_tlsa_cert(const struct ck_ctx *c, const char *host, const struct mw_dns_answer *tlsa,
                  struct ck_item *it);

#endif
