/*
 * check-mail.c - the SPF, DMARC and DKIM items of "mailwardctl check".
 *
 * SPF (RFC 7208): of the domain's TXT records those selecting as SPF
 * ("v=spf1" then a blank or the end) must be exactly one (section 4.5),
 * parsed by the spf plugin's parser (plugins/spf/spf-record.c); the terms
 * that cost DNS lookups (include, a, mx, ptr, exists, redirect) are counted
 * in this record only (includes are not followed), against the limit of 10.
 *
 * DMARC (RFC 7489): discovery and parsing are the dmarc plugin's
 * (discover.c, with the fallback to the organizational domain from the
 * public suffix list, psl.c; policy.c reads p, sp, pct, adkim, aspf).
 *
 * DKIM (RFC 6376) with --selector: the key record at SEL._domainkey.DOMAIN,
 * its tags v, k, p, t (dkim-record.c); p decoded with OpenSSL (RSA: SubjectPublicKeyInfo
 * or RSAPublicKey, its size; ed25519: the raw 32-byte key of RFC 8463);
 * an empty p= is a revoked key.
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dkim-record.h"
#include "dmarc/discover.h"
#include "dmarc/policy.h"
#include "dmarc/psl.h"
#include "mw/alloc.h"
#include "spf/spf-record.h"

/* The judgement of one parsed SPF record. */
static void
ck_spf_terms(const struct mw_spf_record *r, struct ck_item *it)
{
    unsigned int lookups = 0, ptr = 0;
    const struct mw_spf_term *all = NULL;

    for (size_t i = 0; i < r->n; i++) {
        switch (r->terms[i].kind) {
        case MW_SPF_PTR_MECH:
            ptr++;
            /* fall through */
        case MW_SPF_INCLUDE:
        case MW_SPF_A_MECH:
        case MW_SPF_MX_MECH:
        case MW_SPF_EXISTS:
        case MW_SPF_REDIRECT:
            lookups++;
            break;
        case MW_SPF_ALL:
            all = &r->terms[i];
            break;
        default:
            break;
        }
    }
    ck_detail(it, "terms", "%zu", r->n);
    ck_detail(it, "dns lookups", "%u in this record (includes not followed; limit 10)", lookups);
    if (lookups > 10)
        ck_set(it, CK_FAIL, "%u DNS-querying terms: over the limit of 10 (permerror)", lookups);
    if (ptr)
        ck_set(it, CK_WARN, "the ptr mechanism is deprecated (RFC 7208 section 5.5)");
    if (all != NULL && (all->qual == '+' || all->qual == '?'))
        ck_set(it, CK_WARN, "\"%.*s\" lets any host pass or stay neutral", (int)all->tlen,
               all->text);
    else if (all == NULL && r->redirect == NULL)
        ck_set(it, CK_WARN, "no \"all\" and no redirect: unlisted hosts are neutral");
    ck_set(it, CK_OK, "one valid SPF record%s", all ? "" : " (with redirect)");
}

void
ck_spf(const struct ck_ctx *c, struct ck_item *it)
{
    struct mw_spf_record r;
    struct mw_buf *recs;
    struct mw_err why;
    size_t n, spf = 0, which = 0;

    if (ck_txt(c, c->domain, &recs, &n, NULL, &why) < 0) {
        ck_set(it, CK_FAIL, "TXT lookup: %s", why.text);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (strlen(recs[i].data) == recs[i].len && mw_spf_record_is_spf(recs[i].data)) {
            ck_detail(it, spf ? "record (another)" : "record", "%s", recs[i].data);
            which = i;
            spf++;
        }
    if (spf == 0) {
        ck_set(it, CK_NONE, "no v=spf1 record at %s", c->domain);
    } else if (spf > 1) {
        ck_set(it, CK_FAIL, "%zu v=spf1 records: exactly one allowed (permerror)", spf);
    } else {
        memset(&r, 0, sizeof(r));
        if (mw_spf_record_parse(&r, recs[which].data) < 0)
            ck_set(it, CK_FAIL, "syntax error (permerror) at %s%.*s%s", r.bad ? "\"" : "a bad byte",
                   r.bad ? (int)r.badlen : 0, r.bad ? r.bad : "", r.bad ? "\"" : "");
        else
            ck_spf_terms(&r, it);
        mw_spf_record_release(&r);
    }
    ck_txt_free(&recs, n);
}

static void
ck_dmarc_record(const struct ck_ctx *c, const struct mw_dmarc_lookup *l, const char *org,
                struct ck_item *it)
{
    struct mw_dmarc_record r;
    struct mw_err why;

    ck_detail(it, "record", "%s", l->record);
    ck_detail(it, "found at", "_dmarc.%s", l->fallback ? org : c->domain);
    if (mw_dmarc_record_parse(l->record, c->domain, l->fallback ? org : NULL, &r, &why) < 0) {
        ck_set(it, CK_FAIL, "invalid record: %s", why.text);
        return;
    }
    ck_detail(it, "p", "%s", mw_dmarc_p_name(r.p));
    ck_detail(it, "sp", "%s", mw_dmarc_p_name(r.sp));
    ck_detail(it, "pct", "%d", r.pct);
    ck_detail(it, "adkim", "%s", r.adkim_strict ? "s" : "r");
    ck_detail(it, "aspf", "%s", r.aspf_strict ? "s" : "r");
    if ((l->fallback && r.has_sp ? r.sp : r.p) == MW_DMARC_P_NONE)
        ck_set(it, CK_WARN, "policy none: failing mail is only reported");
    if (r.pct < 100)
        ck_set(it, CK_WARN, "pct=%d: the policy applies to part of the failing mail only", r.pct);
    ck_set(it, CK_OK, "policy %s", mw_dmarc_p_name(l->fallback && r.has_sp ? r.sp : r.p));
}

void
ck_dmarc(const struct ck_ctx *c, struct ck_item *it)
{
    char org[MW_DNS_NAME_MAX + 1];
    struct mw_dmarc_lookup l;
    struct mw_psl *psl;
    struct mw_err why;

    snprintf(org, sizeof(org), "%s", c->domain);
    if ((psl = mw_psl_load(c->psl_path, &why)) == NULL)
        ck_set(it, CK_WARN, "no organizational domain fallback: %s", why.text);
    else if (mw_psl_org_domain(psl, c->domain, org) < 0)
        snprintf(org, sizeof(org), "%s", c->domain);
    mw_psl_free(&psl);
    ck_detail(it, "organizational domain", "%s", org);
    mw_dmarc_discover(c->dns, c->domain, org, &l);
    switch (l.status) {
    case MW_DMARC_FOUND:
        ck_dmarc_record(c, &l, org, it);
        break;
    case MW_DMARC_NORECORD:
        ck_set(it, CK_NONE, "no DMARC record at _dmarc.%s%s%s", c->domain,
               strcmp(org, c->domain) ? " nor _dmarc." : "", strcmp(org, c->domain) ? org : "");
        break;
    case MW_DMARC_TEMPFAIL:
    case MW_DMARC_INVALID:
        ck_set(it, CK_FAIL, "%s", l.why.text);
        break;
    }
    mw_dmarc_lookup_release(&l);
}

/* The public key p= of key type k: its size in bits, or -1 with why. */
static int
ck_dkim_key(const char *k, const char *p, struct mw_err *why)
{
    size_t len = strlen(p), pad = 0;
    unsigned char *der;
    const unsigned char *q;
    EVP_PKEY *key = NULL;
    int n, bits = -1;

    if (len % 4 != 0 || len > 8192)
        return mw_err_set(why, "p= is no base64 of a plausible length");
    der = mw_malloc(len);
    if ((n = EVP_DecodeBlock(der, (const unsigned char *)p, (int)len)) < 0) {
        mw_free(&der);
        return mw_err_set(why, "p= is no valid base64");
    }
    while (pad < 2 && len > pad && p[len - 1 - pad] == '=')
        pad++;
    n -= (int)pad;
    q = der;
    if (strcmp(k, "rsa") == 0) {
        key = d2i_PUBKEY(NULL, &q, n);
        if (key == NULL) {
            q = der;
            key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, n);
        }
        if (key != NULL && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
            EVP_PKEY_free(key);
            key = NULL;
        }
    } else if (strcmp(k, "ed25519") == 0 && n == 32) {
        key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32);
    }
    if (key == NULL)
        mw_err_set(why, "p= is no %s public key", k);
    else
        bits = EVP_PKEY_get_bits(key);
    EVP_PKEY_free(key);
    mw_free(&der);
    return bits;
}

/* Judge one key record. */
static void
ck_dkim_record(const char *rec, size_t len, struct ck_item *it)
{
    struct ck_dkim_rec r;
    struct mw_err why;
    int bits;

    if (ck_dkim_rec_parse(rec, len, &r, &why) < 0) {
        ck_set(it, CK_FAIL, "invalid key record: %s", why.text);
        return;
    }
    ck_detail(it, "key type", "%s", r.k);
    if (r.testing)
        ck_set(it, CK_WARN, "t=y: the domain is testing DKIM");
    if (r.p == NULL) {
        ck_set(it, CK_FAIL, "no p= tag");
    } else if (r.p[0] == '\0') {
        ck_detail(it, "key", "revoked");
        ck_set(it, CK_FAIL, "the key is revoked (empty p=)");
    } else if ((bits = ck_dkim_key(r.k, r.p, &why)) < 0) {
        ck_set(it, CK_FAIL, "%s", why.text);
    } else {
        ck_detail(it, "key", "%s %d bits", r.k, bits);
        if (strcmp(r.k, "rsa") == 0 && bits < 1024)
            ck_set(it, CK_FAIL, "RSA key of %d bits: verifiers refuse keys below 1024 (RFC 8301)",
                   bits);
        else if (strcmp(r.k, "rsa") == 0 && bits < 2048)
            ck_set(it, CK_WARN, "RSA key of %d bits: 2048 or more recommended", bits);
        ck_set(it, CK_OK, "%s key, %d bits", r.k, bits);
    }
    ck_dkim_rec_release(&r);
}

void
ck_dkim(const struct ck_ctx *c, struct ck_item *it)
{
    char name[MW_DNS_NAME_MAX * 2 + 16];
    struct mw_buf *recs;
    struct mw_err why;
    size_t n;

    snprintf(name, sizeof(name), "%s._domainkey.%s", c->selector, c->domain);
    ck_detail(it, "selector", "%s", c->selector);
    if (ck_txt(c, name, &recs, &n, NULL, &why) < 0) {
        ck_set(it, CK_FAIL, "TXT lookup: %s", why.text);
        return;
    }
    if (n == 0)
        ck_set(it, CK_FAIL, "no key record at %s", name);
    else if (n > 1)
        ck_set(it, CK_FAIL, "%zu TXT records at %s: exactly one expected", n, name);
    else
        ck_dkim_record(recs[0].data, recs[0].len, it);
    ck_txt_free(&recs, n);
}
