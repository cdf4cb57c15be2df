/*
 * lookup.c - one domain's DANE lookups on the event loop (see lookup.h).
 *
 * A walk owns its facts (verdict.h) and counts the lookups in flight. Each
 * lookup carries a small query record naming the slot its answer fills;
 * the callback files the answer, starts what it unlocks (the hosts after the
 * MX answer, the TLSA records at a CNAME target after both address
 * answers), and the walk finishes when the count drops to zero. Lookups of
 * one stage run in parallel, so a domain costs about three round trips.
 *
 * Names from DNS answers are untrusted: an MX exchange that is not a name
 * we can query (too long, escapes) is left out, as a host that cannot be
 * reached, and the TLSA owner name is built with an explicit length check.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lookup.h"
#include "mw/alloc.h"
#include "mw/log.h"

enum mw_dane_kind { MW_DANE_Q_MX, MW_DANE_Q_ADDR, MW_DANE_Q_TLSA };

struct mw_dane_walk {
    struct mw_dns *dns;
    struct event_base *base;
    struct mw_dane_facts facts;
    unsigned int outstanding;
    mw_dane_lookup_cb *cb;
    void *arg;
};

struct mw_dane_query {
    struct mw_dane_walk *w;
    enum mw_dane_kind kind;
    struct mw_dane_rr *rr;     /* the slot the answer fills */
    struct mw_dane_host *host; /* NULL for the MX lookup */
};

static void mw_dane_answer(void *arg, struct mw_dns_answer *a);

/* Start one lookup for slot rr. A lookup that cannot start is filed as a failure at once. */
static void
mw_dane_ask(struct mw_dane_walk *w, const char *name, int rrtype, enum mw_dane_kind kind,
            struct mw_dane_rr *rr, struct mw_dane_host *host)
{
    struct mw_dane_query *q = mw_calloc(1, sizeof(*q));
    struct mw_err err;

    q->w = w;
    q->kind = kind;
    q->rr = rr;
    q->host = host;
    rr->asked = 1;
    if (mw_dns_resolve_async(w->dns, w->base, name, rrtype, mw_dane_answer, q, &err) < 0) {
        mw_log_debug("dane: %s: cannot look up %s: %s", w->facts.domain, name, err.text);
        rr->done = 1;
        rr->status = MW_DNS_TEMPFAIL;
        mw_free(&q);
        return;
    }
    w->outstanding++;
}

/* _25._tcp.NAME into out; -1 when it would be too long to query. */
static int
mw_dane_tlsa_name(const char *name, char out[MW_DNS_NAME_MAX + 1])
{
    int n = snprintf(out, MW_DNS_NAME_MAX + 1, "_25._tcp.%s", name);

    return n < 0 || n > MW_DNS_NAME_MAX ? -1 : 0;
}

static void
mw_dane_ask_host(struct mw_dane_walk *w, struct mw_dane_host *h)
{
    char tlsa[MW_DNS_NAME_MAX + 1];

    mw_dane_ask(w, h->name, MW_DNS_A, MW_DANE_Q_ADDR, &h->a, h);
    mw_dane_ask(w, h->name, MW_DNS_AAAA, MW_DANE_Q_ADDR, &h->aaaa, h);
    if (mw_dane_tlsa_name(h->name, tlsa) == 0) {
        mw_dane_ask(w, tlsa, MW_DNS_TLSA, MW_DANE_Q_TLSA, &h->tlsa, h);
    } else {
        /* No TLSA name fits: the host can have no TLSA records. */
        h->tlsa.asked = h->tlsa.done = 1;
        h->tlsa.status = MW_DNS_NXDOMAIN;
        h->tlsa.dnssec = MW_DNSSEC_SECURE;
        h->tlsa.ttl = UINT32_MAX;
    }
}

static int
mw_dane_mx_cmp(const void *x, const void *y)
{
    const struct mw_dns_mx *a = x, *b = y;

    return a->preference < b->preference ? -1 : a->preference > b->preference;
}

/* Add name as a host unless it is there already, unusable, or the list is full. */
static void
mw_dane_add_host(struct mw_dane_facts *f, const char *name)
{
    struct mw_err err;

    if (f->nhosts == MW_DANE_HOSTS_MAX || strlen(name) > MW_DNS_NAME_MAX ||
        mw_dns_name_check(name, &err) < 0)
        return;
    for (size_t i = 0; i < f->nhosts; i++)
        if (strcasecmp(f->host[i].name, name) == 0)
            return;
    snprintf(f->host[f->nhosts++].name, sizeof(f->host[0].name), "%s", name);
}

/* The hosts of an MX answer, by preference (qsort is not stable: equal ones keep no order). */
static void
mw_dane_hosts_from_mx(struct mw_dane_facts *f, const struct mw_dns_answer *a)
{
    struct mw_dns_mx *mx = mw_calloc(a->count, sizeof(*mx));
    size_t n = 0;
    struct mw_err err;

    for (size_t i = 0; i < a->count; i++)
        if (mw_dns_mx_decode(a->rr[i].data, a->rr[i].len, &mx[n], &err) == 0)
            n++;
    if (n > 0)
        qsort(mx, n, sizeof(*mx), mw_dane_mx_cmp);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(mx[i].exchange, ".") == 0)
            f->null_mx = 1;
        else
            mw_dane_add_host(f, mx[i].exchange);
    }
    mw_free(&mx);
}

static void
mw_dane_on_mx(struct mw_dane_walk *w, const struct mw_dns_answer *a)
{
    struct mw_dane_facts *f = &w->facts;

    if (a->dnssec != MW_DNSSEC_SECURE)
        return; /* insecure, bogus or failed: the verdict needs no more */
    if (a->status == MW_DNS_OK) {
        mw_dane_hosts_from_mx(f, a);
        if (f->null_mx)
            return;
    } else if (a->status == MW_DNS_NODATA) {
        f->implicit = 1;
        mw_dane_add_host(f, f->domain);
    } else {
        return;
    }
    for (size_t i = 0; i < f->nhosts; i++)
        mw_dane_ask_host(w, &f->host[i]);
}

/* An address answer of h: note its CNAME target; with both in, maybe ask TLSA there. */
static void
mw_dane_on_addr(struct mw_dane_walk *w, struct mw_dane_host *h, const struct mw_dns_answer *a)
{
    char tlsa[MW_DNS_NAME_MAX + 1];

    if (a->status == MW_DNS_OK && a->canonname != NULL && h->canon[0] == '\0' &&
        strlen(a->canonname) <= MW_DNS_NAME_MAX)
        snprintf(h->canon, sizeof(h->canon), "%s", a->canonname);
    if (mw_dane_addr_state(h) != MW_DANE_ADDR_SECURE || h->canon[0] == '\0' ||
        strcasecmp(h->canon, h->name) == 0 || h->tlsa_canon.asked)
        return;
    if (mw_dane_tlsa_name(h->canon, tlsa) == 0)
        mw_dane_ask(w, tlsa, MW_DNS_TLSA, MW_DANE_Q_TLSA, &h->tlsa_canon, h);
}

static void
mw_dane_finish(struct mw_dane_walk *w)
{
    struct mw_dane_verdict v;

    mw_dane_decide(&w->facts, &v);
    w->cb(w->arg, &v);
    mw_free(&w);
}

static void
mw_dane_answer(void *arg, struct mw_dns_answer *a)
{
    struct mw_dane_query *q = arg;
    struct mw_dane_walk *w = q->w;

    mw_dane_rr_set(q->rr, a);
    mw_log_debug("dane: %s: %s type %d: %s, %s, ttl %u", w->facts.domain, a->qname, a->qtype,
                 mw_dns_status_name(a->status), mw_dns_dnssec_name(a->dnssec), a->ttl);
    if (a->why_bogus != NULL)
        mw_log_warn("dane: %s: %s type %d is bogus: %s", w->facts.domain, a->qname, a->qtype,
                    a->why_bogus);
    switch (q->kind) {
    case MW_DANE_Q_MX:
        mw_dane_on_mx(w, a);
        break;
    case MW_DANE_Q_ADDR:
        mw_dane_on_addr(w, q->host, a);
        break;
    case MW_DANE_Q_TLSA:
        break;
    }
    mw_dns_answer_free(&a);
    mw_free(&q);
    if (--w->outstanding == 0)
        mw_dane_finish(w);
}

int
mw_dane_lookup_start(struct mw_dns *dns, struct event_base *base, const char *domain,
                     mw_dane_lookup_cb *cb, void *arg, struct mw_err *err)
{
    struct mw_dane_walk *w;
    struct mw_dane_query *q;

    if (strlen(domain) > MW_DNS_NAME_MAX)
        return mw_err_set(err, "domain too long");
    w = mw_calloc(1, sizeof(*w));
    w->dns = dns;
    w->base = base;
    w->cb = cb;
    w->arg = arg;
    snprintf(w->facts.domain, sizeof(w->facts.domain), "%s", domain);
    w->facts.mx.asked = 1;
    q = mw_calloc(1, sizeof(*q));
    q->w = w;
    q->kind = MW_DANE_Q_MX;
    q->rr = &w->facts.mx;
    if (mw_dns_resolve_async(dns, base, domain, MW_DNS_MX, mw_dane_answer, q, err) < 0) {
        mw_free(&q);
        mw_free(&w);
        return -1;
    }
    w->outstanding = 1;
    return 0;
}
