/*
 * check-tlsa.c - "mailwardctl check": does the certificate an MX host serves
 * match its published TLSA records?
 *
 * For a host with TLSA records, connect to its first address on port 25,
 * EHLO, STARTTLS, and take the certificate (ctl/tlsa.c). Every DANE-EE
 * record (usage 3) and PKIX-EE record (usage 1) is matched against it with
 * the record's own selector and matching type. DANE-TA/PKIX-TA records
 * (usages 2, 0) need the chain and are not matched here. When there are
 * end-entity records and none matches, the item gets a warning: senders
 * that do DANE will refuse this host, typically after a certificate was
 * renewed with a new key before the TLSA RRset was updated.
 */
#include "config.h"

#include <string.h>

#include "mw/alloc.h"
#include "check.h"
#include "tlsa.h"

/* The first IPv4 address of host, or -1 with why. */
static int
ck_tlsa_addr(const struct ck_ctx *c, const char *host, char out[MW_DNS_ADDR_TEXT],
             struct mw_err *why)
{
    struct mw_dns_answer *a = NULL;
    int rc = -1;

    if (mw_dns_resolve(c->dns, host, MW_DNS_A, &a, why) == 0) {
        if (a->status != MW_DNS_OK || a->count == 0)
            mw_err_set(why, "no address (%s)", mw_dns_status_name(a->status));
        else
            rc = mw_dns_addr_decode(MW_DNS_A, a->rr[0].data, a->rr[0].len, out, why);
    }
    mw_dns_answer_free(&a);
    return rc;
}

/* Does record t match x? */
static int
ck_tlsa_match(X509 *x, const struct mw_dns_tlsa *t)
{
    unsigned char *d = NULL;
    size_t len = 0;
    int same;

    if (mw_tlsa_data(x, t->selector, t->matching_type, &d, &len) < 0)
        return 0;
    same = len == t->data_len && memcmp(d, t->data, len) == 0;
    mw_free(&d);
    return same;
}

void
ck_tlsa_cert(const struct ck_ctx *c, const char *host, const struct mw_dns_answer *tlsa,
             struct ck_item *it)
{
    char addr[MW_DNS_ADDR_TEXT], key[MW_DNS_NAME_MAX + 32], hex[65];
    unsigned int ee = 0, matched = 0;
    struct mw_dns_tlsa t;
    struct mw_err why;
    X509 *x = NULL;

    snprintf(key, sizeof(key), "certificate %s", host);
    if (ck_tlsa_addr(c, host, addr, &why) < 0 ||
        mw_tlsa_smtp_cert(addr, "25", host, (int)c->timeout_ms, &x, &why) < 0) {
        ck_detail(it, key, "not fetched: %s", why.text);
        return;
    }
    for (size_t i = 0; i < tlsa->count; i++) {
        if (mw_dns_tlsa_decode(tlsa->rr[i].data, tlsa->rr[i].len, &t, &why) < 0 ||
            (t.usage != 3 && t.usage != 1))
            continue;
        ee++;
        matched += ck_tlsa_match(x, &t);
    }
    mw_tlsa_hex(x, hex);
    if (ee == 0)
        ck_detail(it, key, "3 1 1 %s; only trust-anchor TLSA records (not matched here)", hex);
    else if (matched > 0)
        ck_detail(it, key, "3 1 1 %s matches %u of %u end-entity TLSA records", hex, matched, ee);
    else {
        ck_detail(it, key, "3 1 1 %s matches none of %u end-entity TLSA records", hex, ee);
        ck_set(it, CK_WARN,
               "the TLSA records of %s do not match the certificate it serves "
               "(publish: _25._tcp.%s. IN TLSA 3 1 1 %s)",
               host, host, hex);
    }
    X509_free(x);
}
