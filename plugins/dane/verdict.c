/*
 * verdict.c - the DANE verdict from DNS facts, and its cache form (see verdict.h).
 *
 * The rules follow RFC 7672 section 2 and what Postfix does with them, so
 * that the policy we hand Postfix never contradicts what Postfix will find
 * itself when it looks the same records up:
 *   - an insecure MX RRset means no DANE at all (Postfix: "non DNSSEC
 *     destination"), so NONE, whatever TLSA records exist;
 *   - a host with insecure addresses has no DANE (its name could be forged
 *     into the answer, so its TLSA records prove nothing);
 *   - insecure TLSA records, and NXDOMAIN or NODATA, mean no TLSA;
 *   - bogus anywhere, or a failed lookup of a record that decides, is FAIL:
 *     RFC 7672 section 2.1.1 forbids treating it as "no DANE".
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verdict.h"

void
mw_dane_rr_set(struct mw_dane_rr *rr, const struct mw_dns_answer *a)
{
    rr->done = 1;
    rr->status = a->status;
    rr->dnssec = a->dnssec;
    rr->ttl = a->ttl;
    rr->records = a->count > 0xffff ? 0xffff : (unsigned int)a->count;
    rr->usable = 0;
    if (a->status != MW_DNS_OK || a->qtype != MW_DNS_TLSA)
        return;
    for (size_t i = 0; i < a->count; i++)
        rr->usable += (unsigned int)mw_dane_tlsa_usable(a->rr[i].data, a->rr[i].len);
}

int
mw_dane_tlsa_usable(const unsigned char *rd, size_t len)
{
    struct mw_dns_tlsa t;
    struct mw_err err;

    if (mw_dns_tlsa_decode(rd, len, &t, &err) < 0)
        return 0;
    if (t.usage != 2 && t.usage != 3)
        return 0; /* PKIX-TA and PKIX-EE do not apply to SMTP (RFC 7672 section 3.1.3) */
    if (t.selector > 1)
        return 0;
    switch (t.matching_type) {
    case 0:
        return 1;
    case 1:
        return t.data_len == 32;
    case 2:
        return t.data_len == 64;
    default:
        return 0;
    }
}

static int
mw_dane_rr_failed(const struct mw_dane_rr *rr)
{
    return rr->status == MW_DNS_TEMPFAIL || rr->status == MW_DNS_TIMEOUT;
}

enum mw_dane_addr
mw_dane_addr_state(const struct mw_dane_host *h)
{
    const struct mw_dane_rr *v[2] = {&h->a, &h->aaaa};
    int ok = 0, insecure = 0, failed = 0;

    for (size_t i = 0; i < 2; i++) {
        if (!v[i]->done)
            return MW_DANE_ADDR_PENDING;
        if (v[i]->dnssec == MW_DNSSEC_BOGUS)
            return MW_DANE_ADDR_BOGUS;
        if (v[i]->status == MW_DNS_OK) {
            ok = 1;
            insecure |= v[i]->dnssec != MW_DNSSEC_SECURE;
        }
        failed |= mw_dane_rr_failed(v[i]);
    }
    if (ok)
        return insecure ? MW_DANE_ADDR_INSECURE : MW_DANE_ADDR_SECURE;
    return failed ? MW_DANE_ADDR_FAIL : MW_DANE_ADDR_NONE;
}

const struct mw_dane_rr *
mw_dane_tlsa_pick(const struct mw_dane_host *h)
{
    if (h->tlsa_canon.asked) {
        if (!h->tlsa_canon.done)
            return NULL;
        if (h->tlsa_canon.status != MW_DNS_NXDOMAIN && h->tlsa_canon.status != MW_DNS_NODATA)
            return &h->tlsa_canon;
    }
    return h->tlsa.done ? &h->tlsa : NULL;
}

static uint32_t
mw_dane_min(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Counts over the hosts; 0, or -1 with v filled (FAIL). */
struct mw_dane_tally {
    unsigned int considered; /* hosts with addresses */
    unsigned int dane;       /* ... and a secure TLSA RRset */
    unsigned int covered;    /* ... with a usable record */
    unsigned int failed;     /* hosts whose addresses could not be looked up */
    uint32_t ttl;
};

static int mw_dane_fail(struct mw_dane_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* v becomes FAIL with a reason; returns -1. */
static int
mw_dane_fail(struct mw_dane_verdict *v, const char *fmt, ...)
{
    va_list ap;

    v->cls = MW_DANE_FAIL;
    v->ttl = 0;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
    va_end(ap);
    return -1;
}

/* One host into t; -1 (v = FAIL) when its answers forbid any verdict. */
static int
mw_dane_host_tally(const struct mw_dane_host *h, struct mw_dane_tally *t, struct mw_dane_verdict *v)
{
    const struct mw_dane_rr *tlsa;

    switch (mw_dane_addr_state(h)) {
    case MW_DANE_ADDR_BOGUS:
        return mw_dane_fail(v, "DNSSEC validation of the addresses of %s failed", h->name);
    case MW_DANE_ADDR_PENDING:
        return mw_dane_fail(v, "address lookup of %s did not finish", h->name);
    case MW_DANE_ADDR_FAIL:
        t->failed++;
        return 0;
    case MW_DANE_ADDR_NONE:
        return 0;
    case MW_DANE_ADDR_INSECURE:
        t->considered++;
        return 0;
    case MW_DANE_ADDR_SECURE:
        break;
    }
    t->considered++;
    /* Both answers count, NODATA too: an AAAA record appearing could change the verdict. */
    t->ttl = mw_dane_min(t->ttl, mw_dane_min(h->a.ttl, h->aaaa.ttl));
    if ((tlsa = mw_dane_tlsa_pick(h)) == NULL)
        return mw_dane_fail(v, "TLSA lookup for %s did not finish", h->name);
    if (tlsa->dnssec == MW_DNSSEC_BOGUS)
        return mw_dane_fail(v, "DNSSEC validation of the TLSA records of %s failed", h->name);
    if (mw_dane_rr_failed(tlsa))
        return mw_dane_fail(v, "TLSA lookup for %s failed (%s)", h->name,
                            tlsa->status == MW_DNS_TIMEOUT ? "timeout" : "server failure");
    t->ttl = mw_dane_min(t->ttl, tlsa->ttl);
    if (tlsa->status != MW_DNS_OK || tlsa->dnssec != MW_DNSSEC_SECURE)
        return 0;
    t->dane++;
    t->covered += tlsa->usable > 0;
    return 0;
}

/* The MX answer alone; 1 when it settles the verdict (v filled), else 0. */
static int
mw_dane_decide_mx(const struct mw_dane_facts *f, struct mw_dane_verdict *v)
{
    v->ttl = f->mx.ttl;
    if (f->mx.dnssec == MW_DNSSEC_BOGUS) {
        (void)mw_dane_fail(v, "DNSSEC validation of the MX records of %s failed", f->domain);
        return 1;
    }
    if (!f->mx.done || mw_dane_rr_failed(&f->mx)) {
        (void)mw_dane_fail(v, "MX lookup for %s failed (%s)", f->domain,
                           f->mx.status == MW_DNS_TIMEOUT ? "timeout" : "server failure");
        return 1;
    }
    v->cls = MW_DANE_NONE;
    if (f->mx.status == MW_DNS_NXDOMAIN) {
        snprintf(v->reason, sizeof(v->reason), "%s does not exist", f->domain);
        return 1;
    }
    if (f->null_mx) {
        snprintf(v->reason, sizeof(v->reason), "%s has a null MX", f->domain);
        return 1;
    }
    if (f->mx.dnssec != MW_DNSSEC_SECURE) {
        snprintf(v->reason, sizeof(v->reason), "the MX records of %s are not DNSSEC-signed",
                 f->domain);
        return 1;
    }
    return 0;
}

void
mw_dane_decide(const struct mw_dane_facts *f, struct mw_dane_verdict *v)
{
    struct mw_dane_tally t;

    memset(v, 0, sizeof(*v));
    if (mw_dane_decide_mx(f, v))
        return;
    memset(&t, 0, sizeof(t));
    t.ttl = f->mx.ttl;
    for (size_t i = 0; i < f->nhosts; i++)
        if (mw_dane_host_tally(&f->host[i], &t, v) < 0)
            return;
    v->ttl = t.ttl;
    if (t.considered > 0 && t.covered == t.considered) {
        v->cls = MW_DANE_ALL;
        snprintf(v->reason, sizeof(v->reason), "usable TLSA records at %u MX host%s%s", t.covered,
                 t.covered == 1 ? "" : "s", t.failed ? " (hosts without addresses left out)" : "");
    } else if (t.failed > 0) {
        (void)mw_dane_fail(v, "address lookup of %u MX host%s of %s failed", t.failed,
                           t.failed == 1 ? "" : "s", f->domain);
    } else if (t.considered == 0) {
        v->cls = MW_DANE_NONE;
        snprintf(v->reason, sizeof(v->reason), "no MX host of %s has an address", f->domain);
    } else if (t.dane == 0) {
        v->cls = MW_DANE_NONE;
        snprintf(v->reason, sizeof(v->reason), "no MX host of %s has secure TLSA records",
                 f->domain);
    } else {
        v->cls = MW_DANE_SOME;
        snprintf(v->reason, sizeof(v->reason),
                 "%u of %u MX hosts have TLSA records, %u of them usable", t.dane, t.considered,
                 t.covered);
    }
}

static const char *const mw_dane_class_names[] = {"none", "some", "all", "fail"};

const char *
mw_dane_class_name(enum mw_dane_class c)
{
    return (unsigned int)c < 4 ? mw_dane_class_names[c] : "?";
}

void
mw_dane_verdict_format(const struct mw_dane_verdict *v, struct mw_buf *out)
{
    mw_buf_printf(out, "%s %s", mw_dane_class_name(v->cls), v->reason);
}

int
mw_dane_verdict_parse(const char *buf, size_t len, struct mw_dane_verdict *v, struct mw_err *err)
{
    const char *sp = len > 0 ? memchr(buf, ' ', len) : NULL;
    size_t wlen = sp ? (size_t)(sp - buf) : len, rlen = sp ? len - wlen - 1 : 0;
    int c;

    memset(v, 0, sizeof(*v));
    if (len == 0)
        return mw_err_set(err, "cached DANE verdict: empty");
    for (c = MW_DANE_NONE; c <= MW_DANE_ALL; c++)
        if (strlen(mw_dane_class_names[c]) == wlen &&
            memcmp(buf, mw_dane_class_names[c], wlen) == 0)
            break;
    if (c > MW_DANE_ALL)
        return mw_err_set(err, "cached DANE verdict: unknown class");
    v->cls = (enum mw_dane_class)c;
    if (rlen >= sizeof(v->reason))
        return mw_err_set(err, "cached DANE verdict: reason too long");
    for (size_t i = 0; i < rlen; i++)
        if ((unsigned char)sp[1 + i] < 0x20 || sp[1 + i] == 0x7f)
            return mw_err_set(err, "cached DANE verdict: control character in reason");
    if (rlen > 0)
        memcpy(v->reason, sp + 1, rlen);
    v->reason[rlen] = '\0';
    return 0;
}
