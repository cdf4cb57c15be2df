/*
 * check-dane.c - the DANE item of "mailwardctl check" (RFC 7672).
 *
 * The same walk as the dane plugin's lookup.c, but blocking: the MX RRset,
 * then for each host (lowest preference first, at most MW_DANE_HOSTS_MAX)
 * its A, AAAA and _25._tcp TLSA records, and the TLSA records at the
 * CNAME-expanded name when the addresses came through a secure CNAME. The
 * verdict is the plugin's own (plugins/dane/verdict.c: mw_dane_decide and
 * mw_dane_tlsa_usable), so the check says what mailward-policyd would do:
 *   all   -> ok    (dane-only would lose nothing)
 *   some  -> warn  (some MX hosts have no TLSA records)
 *   none  -> none, or warn when the MX RRset is secure and TLSA records exist
 *            but do not count (e.g. hosts with insecure addresses)
 *   fail  -> fail  (a lookup failed or was DNSSEC-bogus)
 * The TLSA records are not matched against the MX hosts' certificates
 * (no SMTP connection is made).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "dane/verdict.h"
#include "mw/alloc.h"

/* One lookup into rr; the answer is kept for its records when keep is not NULL. */
static void
ck_dane_ask(const struct ck_ctx *c, const char *name, int type, struct mw_dane_rr *rr,
            struct mw_dns_answer **keep, struct ck_item *it)
{
    char key[MW_DNS_NAME_MAX + 16];
    struct mw_dns_answer *a = NULL;
    struct mw_err err;

    rr->asked = 1;
    if (mw_dns_resolve(c->dns, name, type, &a, &err) < 0) {
        rr->done = 1;
        rr->status = MW_DNS_TEMPFAIL;
        ck_set(it, CK_FAIL, "%s: %s", name, err.text);
        return;
    }
    mw_dane_rr_set(rr, a);
    if (a->status == MW_DNS_TEMPFAIL || a->status == MW_DNS_TIMEOUT) {
        size_t skip = strlen(name);

        ck_dns_why(a, &err); /* "NAME: why" */
        if (strncmp(err.text, name, skip) != 0 || err.text[skip] != ':')
            skip = 0;
        snprintf(key, sizeof(key), "%s %s", name,
                 type == MW_DNS_MX     ? "MX"
                 : type == MW_DNS_A    ? "A"
                 : type == MW_DNS_AAAA ? "AAAA"
                                       : "TLSA");
        ck_detail(it, key, "%s", err.text + skip + (skip ? 2 : 0));
    }
    if (keep != NULL)
        *keep = a;
    else
        mw_dns_answer_free(&a);
}

static int
ck_dane_mx_cmp(const void *x, const void *y)
{
    const struct mw_dns_mx *a = x, *b = y;

    return a->preference < b->preference ? -1 : a->preference > b->preference;
}

/* The hosts of a secure MX answer, in preference order, into f. */
static void
ck_dane_hosts(struct mw_dane_facts *f, const struct mw_dns_answer *a, struct ck_item *it)
{
    struct mw_dns_mx *mx = mw_calloc(a->count + 1, sizeof(*mx));
    struct mw_buf list;
    struct mw_err err;
    size_t n = 0;

    mw_buf_init(&list);
    for (size_t i = 0; i < a->count; i++)
        if (mw_dns_mx_decode(a->rr[i].data, a->rr[i].len, &mx[n], &err) == 0)
            n++;
    qsort(mx, n, sizeof(*mx), ck_dane_mx_cmp);
    for (size_t i = 0; i < n; i++) {
        mw_buf_printf(&list, "%s%u %s", i ? ", " : "", mx[i].preference, mx[i].exchange);
        if (strcmp(mx[i].exchange, ".") == 0) {
            f->null_mx = 1;
            continue;
        }
        if (f->nhosts == MW_DANE_HOSTS_MAX || strlen(mx[i].exchange) > MW_DNS_NAME_MAX ||
            mw_dns_name_check(mx[i].exchange, &err) < 0)
            continue;
        snprintf(f->host[f->nhosts++].name, sizeof(f->host[0].name), "%s", mx[i].exchange);
        for (size_t k = 0; k + 1 < f->nhosts; k++)
            if (strcasecmp(f->host[k].name, mx[i].exchange) == 0)
                f->nhosts--;
    }
    ck_detail(it, "mx", "%s", list.len ? list.data : "none");
    mw_buf_release(&list);
    mw_free(&mx);
}

/* "3 1 1 usable, 2 0 1 usable" for a TLSA answer. */
static void
ck_dane_tlsa_text(const struct mw_dns_answer *a, struct mw_buf *out)
{
    struct mw_dns_tlsa t;
    struct mw_err err;

    for (size_t i = 0; i < a->count; i++) {
        mw_buf_puts(out, i ? ", " : ": ");
        if (mw_dns_tlsa_decode(a->rr[i].data, a->rr[i].len, &t, &err) < 0) {
            mw_buf_puts(out, "malformed");
            continue;
        }
        mw_buf_printf(out, "%u %u %u %s", t.usage, t.selector, t.matching_type,
                      mw_dane_tlsa_usable(a->rr[i].data, a->rr[i].len) ? "usable" : "UNUSABLE");
    }
}

/* Addresses, TLSA (and TLSA at the CNAME target) of one host, and its detail line. */
static void
ck_dane_host(const struct ck_ctx *c, struct mw_dane_host *h, struct ck_item *it)
{
    char tlsa[MW_DNS_NAME_MAX + 16], key[MW_DNS_NAME_MAX + 16];
    struct mw_dns_answer *a = NULL, *t = NULL;
    struct mw_buf line;

    ck_dane_ask(c, h->name, MW_DNS_A, &h->a, &a, it);
    if (a != NULL && a->status == MW_DNS_OK && a->canonname != NULL &&
        strlen(a->canonname) <= MW_DNS_NAME_MAX)
        snprintf(h->canon, sizeof(h->canon), "%s", a->canonname);
    mw_dns_answer_free(&a);
    ck_dane_ask(c, h->name, MW_DNS_AAAA, &h->aaaa, NULL, it);
    snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", h->name);
    ck_dane_ask(c, tlsa, MW_DNS_TLSA, &h->tlsa, &t, it);
    if (mw_dane_addr_state(h) == MW_DANE_ADDR_SECURE && h->canon[0] != '\0' &&
        strcasecmp(h->canon, h->name) != 0) {
        struct mw_dns_answer *t2 = NULL;

        /* The records at the expanded name count when there are any (section 2.2.2). */
        snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", h->canon);
        ck_dane_ask(c, tlsa, MW_DNS_TLSA, &h->tlsa_canon, &t2, it);
        if (t2 != NULL && t2->status == MW_DNS_OK && t2->count > 0) {
            mw_dns_answer_free(&t);
            t = t2;
        } else {
            mw_dns_answer_free(&t2);
        }
    }
    mw_buf_init(&line);
    mw_buf_printf(&line, "addresses %s, ",
                  mw_dane_addr_state(h) == MW_DANE_ADDR_SECURE     ? "secure"
                  : mw_dane_addr_state(h) == MW_DANE_ADDR_INSECURE ? "insecure"
                  : mw_dane_addr_state(h) == MW_DANE_ADDR_NONE     ? "none"
                  : mw_dane_addr_state(h) == MW_DANE_ADDR_BOGUS    ? "bogus"
                                                                   : "lookup failed");
    if (t != NULL && t->status == MW_DNS_OK) {
        mw_buf_printf(&line, "TLSA %s (%s)", mw_dns_dnssec_name(t->dnssec), t->qname);
        ck_dane_tlsa_text(t, &line);
        if (t->count > 0)
            ck_tlsa_cert(c, h->name, t, it);
    } else {
        mw_buf_puts(&line, t == NULL ? "TLSA not looked up" : "no TLSA records");
    }
    snprintf(key, sizeof(key), "host %s", h->name);
    ck_detail(it, key, "%s", line.data);
    mw_buf_release(&line);
    mw_dns_answer_free(&t);
}

void
ck_dane(const struct ck_ctx *c, struct ck_item *it)
{
    struct mw_dane_facts *f = mw_calloc(1, sizeof(*f));
    struct mw_dane_verdict v;
    struct mw_dns_answer *mx = NULL;
    unsigned int tlsa = 0;

    snprintf(f->domain, sizeof(f->domain), "%s", c->domain);
    ck_dane_ask(c, c->domain, MW_DNS_MX, &f->mx, &mx, it);
    if (mx != NULL) {
        ck_detail(it, "mx dnssec", "%s", mw_dns_dnssec_name(mx->dnssec));
        if (mx->status == MW_DNS_OK) {
            ck_dane_hosts(f, mx, it);
        } else if (mx->status == MW_DNS_NODATA) {
            f->implicit = 1;
            snprintf(f->host[f->nhosts++].name, sizeof(f->host[0].name), "%s", c->domain);
        }
        if (f->null_mx)
            f->nhosts = 0;
    }
    /* Like the plugin, an insecure MX RRset ends the walk; the hosts are still shown. */
    for (size_t i = 0; i < f->nhosts; i++) {
        ck_dane_host(c, &f->host[i], it);
        tlsa += f->host[i].tlsa.records + f->host[i].tlsa_canon.records;
    }
    if (f->mx.dnssec != MW_DNSSEC_SECURE)
        f->nhosts = 0;
    mw_dane_decide(f, &v);
    ck_detail(it, "verdict", "%s (%s)", mw_dane_class_name(v.cls), v.reason);
    if (v.cls == MW_DANE_FAIL)
        ck_set(it, CK_FAIL, "%s", v.reason);
    else if (v.cls == MW_DANE_SOME)
        ck_set(it, CK_WARN, "only some MX hosts have DANE: %s", v.reason);
    else if (v.cls == MW_DANE_ALL)
        ck_set(it, CK_OK, "every MX host has usable TLSA records: %s", v.reason);
    else if (tlsa > 0 && f->mx.dnssec == MW_DNSSEC_SECURE)
        ck_set(it, CK_WARN, "TLSA records are published but do not count: %s", v.reason);
    else
        ck_set(it, CK_NONE, "no DANE: %s", v.reason);
    mw_dns_answer_free(&mx);
    mw_free(&f);
}
