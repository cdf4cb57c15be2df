/*
 * test-dane.c - unit tests of the dane plugin's verdict module
 * (plugins/dane/verdict.c): TLSA usability, the state of a host's address
 * lookups, which TLSA RRset counts, the verdict over whole domains (RFC 7672
 * section 2), and the cache form of a verdict.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dane/verdict.h"

/* A TLSA rdata: usage, selector, matching type, then n bytes of association data. */
static size_t
tlsa(unsigned char *rd, int usage, int selector, int mtype, size_t n)
{
    rd[0] = (unsigned char)usage;
    rd[1] = (unsigned char)selector;
    rd[2] = (unsigned char)mtype;
    memset(rd + 3, 0xab, n);
    return 3 + n;
}

static void
test_tlsa_usable(void **state)
{
    unsigned char rd[128];

    assert_true(mw_dane_tlsa_usable(rd, tlsa(rd, 3, 1, 1, 32)));
    assert_true(mw_dane_tlsa_usable(rd, tlsa(rd, 2, 0, 2, 64)));
    assert_true(mw_dane_tlsa_usable(rd, tlsa(rd, 3, 0, 0, 100)));
    /* PKIX usages do not apply to SMTP */
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 0, 1, 1, 32)));
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 1, 1, 1, 32)));
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 4, 1, 1, 32)));
    /* unknown selector or matching type */
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 3, 2, 1, 32)));
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 3, 1, 3, 32)));
    /* a digest of the wrong length */
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 3, 1, 1, 31)));
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 3, 1, 2, 32)));
    /* no association data, truncated */
    assert_false(mw_dane_tlsa_usable(rd, tlsa(rd, 3, 1, 0, 0)));
    assert_false(mw_dane_tlsa_usable(rd, 2));
    assert_false(mw_dane_tlsa_usable(rd, 0));
}

/* An answer slot. */
static struct mw_dane_rr
rr(enum mw_dns_status st, enum mw_dnssec sec, uint32_t ttl, unsigned int usable)
{
    struct mw_dane_rr r;

    memset(&r, 0, sizeof(r));
    r.asked = r.done = 1;
    r.status = st;
    r.dnssec = sec;
    r.ttl = ttl;
    r.records = st == MW_DNS_OK;
    r.usable = usable;
    return r;
}

#define SEC MW_DNSSEC_SECURE
#define INSEC MW_DNSSEC_INSECURE
#define BOGUS MW_DNSSEC_BOGUS

/* A host with secure A, no AAAA, and the given TLSA slot. */
static void
host(struct mw_dane_facts *f, const char *name, struct mw_dane_rr a, struct mw_dane_rr tlsa)
{
    struct mw_dane_host *h = &f->host[f->nhosts++];

    memset(h, 0, sizeof(*h));
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->a = a;
    h->aaaa = rr(MW_DNS_NODATA, a.dnssec, 300, 0);
    h->tlsa = tlsa;
}

static void
facts(struct mw_dane_facts *f, struct mw_dane_rr mx)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->domain, sizeof(f->domain), "example.net");
    f->mx = mx;
}

static enum mw_dane_class
decide(const struct mw_dane_facts *f, struct mw_dane_verdict *v)
{
    mw_dane_decide(f, v);
    return v->cls;
}

static void
test_addr_state(void **state)
{
    struct mw_dane_facts f;

    facts(&f, rr(MW_DNS_OK, SEC, 300, 0));
    host(&f, "mx", rr(MW_DNS_OK, SEC, 300, 0), rr(MW_DNS_NODATA, SEC, 300, 0));
    assert_int_equal(mw_dane_addr_state(&f.host[0]), MW_DANE_ADDR_SECURE);
    f.host[0].aaaa = rr(MW_DNS_OK, INSEC, 300, 0);
    assert_int_equal(mw_dane_addr_state(&f.host[0]), MW_DANE_ADDR_INSECURE);
    f.host[0].aaaa = rr(MW_DNS_TEMPFAIL, BOGUS, 0, 0);
    assert_int_equal(mw_dane_addr_state(&f.host[0]), MW_DANE_ADDR_BOGUS);
    f.host[0].a = rr(MW_DNS_NXDOMAIN, SEC, 300, 0);
    f.host[0].aaaa = rr(MW_DNS_NXDOMAIN, SEC, 300, 0);
    assert_int_equal(mw_dane_addr_state(&f.host[0]), MW_DANE_ADDR_NONE);
    f.host[0].aaaa = rr(MW_DNS_TIMEOUT, INSEC, 0, 0);
    assert_int_equal(mw_dane_addr_state(&f.host[0]), MW_DANE_ADDR_FAIL);
    /* one address family failing while the other answers: the host has addresses */
    f.host[0].a = rr(MW_DNS_OK, SEC, 300, 0);
    assert_int_equal(mw_dane_addr_state(&f.host[0]), MW_DANE_ADDR_SECURE);
    f.host[0].aaaa.done = 0;
    assert_int_equal(mw_dane_addr_state(&f.host[0]), MW_DANE_ADDR_PENDING);
}

static void
test_tlsa_pick(void **state)
{
    struct mw_dane_host h;

    memset(&h, 0, sizeof(h));
    h.tlsa = rr(MW_DNS_OK, SEC, 300, 1);
    assert_ptr_equal(mw_dane_tlsa_pick(&h), &h.tlsa);
    /* the CNAME target's TLSA records count first (RFC 7672 section 2.2.2) */
    h.tlsa_canon = rr(MW_DNS_OK, SEC, 300, 0);
    assert_ptr_equal(mw_dane_tlsa_pick(&h), &h.tlsa_canon);
    h.tlsa_canon = rr(MW_DNS_TEMPFAIL, INSEC, 0, 0);
    assert_ptr_equal(mw_dane_tlsa_pick(&h), &h.tlsa_canon);
    /* none there: back to the MX name's */
    h.tlsa_canon = rr(MW_DNS_NODATA, SEC, 300, 0);
    assert_ptr_equal(mw_dane_tlsa_pick(&h), &h.tlsa);
    h.tlsa_canon.done = 0;
    assert_null(mw_dane_tlsa_pick(&h));
    memset(&h, 0, sizeof(h));
    assert_null(mw_dane_tlsa_pick(&h));
}

static void
test_decide_mx(void **state)
{
    struct mw_dane_facts f;
    struct mw_dane_verdict v;

    facts(&f, rr(MW_DNS_TEMPFAIL, BOGUS, 0, 0));
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    assert_non_null(strstr(v.reason, "DNSSEC validation of the MX records of example.net failed"));
    assert_int_equal(v.ttl, 0);
    facts(&f, rr(MW_DNS_TIMEOUT, INSEC, 0, 0));
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    assert_non_null(strstr(v.reason, "timeout"));
    facts(&f, rr(MW_DNS_TEMPFAIL, INSEC, 0, 0));
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    assert_non_null(strstr(v.reason, "server failure"));
    facts(&f, rr(MW_DNS_NXDOMAIN, SEC, 120, 0));
    assert_int_equal(decide(&f, &v), MW_DANE_NONE);
    assert_int_equal(v.ttl, 120);
    assert_non_null(strstr(v.reason, "does not exist"));
    /* an insecure MX RRset: no DANE, even with usable TLSA at a secure host */
    facts(&f, rr(MW_DNS_OK, INSEC, 300, 0));
    host(&f, "mx.example.net", rr(MW_DNS_OK, SEC, 300, 0), rr(MW_DNS_OK, SEC, 300, 1));
    assert_int_equal(decide(&f, &v), MW_DANE_NONE);
    assert_non_null(strstr(v.reason, "not DNSSEC-signed"));
    facts(&f, rr(MW_DNS_OK, SEC, 300, 0));
    f.null_mx = 1;
    assert_int_equal(decide(&f, &v), MW_DANE_NONE);
    assert_non_null(strstr(v.reason, "null MX"));
}

static void
test_decide_hosts(void **state)
{
    struct mw_dane_facts f;
    struct mw_dane_verdict v;

    /* one host, usable TLSA: ALL, ttl = the smallest */
    facts(&f, rr(MW_DNS_OK, SEC, 3600, 0));
    host(&f, "mx1", rr(MW_DNS_OK, SEC, 600, 0), rr(MW_DNS_OK, SEC, 900, 2));
    assert_int_equal(decide(&f, &v), MW_DANE_ALL);
    assert_int_equal(v.ttl, 300); /* the AAAA NODATA of host() */
    /* a second host without TLSA: SOME */
    host(&f, "mx2", rr(MW_DNS_OK, SEC, 600, 0), rr(MW_DNS_NXDOMAIN, SEC, 60, 0));
    assert_int_equal(decide(&f, &v), MW_DANE_SOME);
    assert_int_equal(v.ttl, 60);
    /* ... or with insecure addresses: SOME as well */
    f.host[1] = f.host[0];
    f.host[1].a = rr(MW_DNS_OK, INSEC, 600, 0);
    f.host[1].aaaa = rr(MW_DNS_NODATA, INSEC, 600, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_SOME);
    /* TLSA records but none usable at the only host: SOME (Postfix: mandatory TLS) */
    f.nhosts = 1;
    f.host[0].tlsa = rr(MW_DNS_OK, SEC, 300, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_SOME);
    /* insecure TLSA records are no TLSA records */
    f.host[0].tlsa = rr(MW_DNS_OK, INSEC, 300, 1);
    assert_int_equal(decide(&f, &v), MW_DANE_NONE);
    assert_non_null(strstr(v.reason, "no MX host of example.net has secure TLSA records"));
    /* bogus TLSA, failed TLSA lookup: FAIL */
    f.host[0].tlsa = rr(MW_DNS_TEMPFAIL, BOGUS, 0, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    assert_non_null(strstr(v.reason, "TLSA records of mx1"));
    f.host[0].tlsa = rr(MW_DNS_TIMEOUT, INSEC, 0, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    assert_non_null(strstr(v.reason, "TLSA lookup for mx1 failed (timeout)"));
    /* ... but not at a host with insecure addresses, whose TLSA records are never used */
    f.host[0].a = rr(MW_DNS_OK, INSEC, 300, 0);
    f.host[0].aaaa = rr(MW_DNS_NODATA, INSEC, 300, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_NONE);
    /* bogus addresses: FAIL */
    f.host[0].a = rr(MW_DNS_TEMPFAIL, BOGUS, 0, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    assert_non_null(strstr(v.reason, "addresses of mx1"));
}

static void
test_decide_failed_hosts(void **state)
{
    struct mw_dane_facts f;
    struct mw_dane_verdict v;

    /* a host whose addresses cannot be looked up is left out when the others are covered */
    facts(&f, rr(MW_DNS_OK, SEC, 300, 0));
    host(&f, "mx1", rr(MW_DNS_OK, SEC, 300, 0), rr(MW_DNS_OK, SEC, 300, 1));
    host(&f, "mx2", rr(MW_DNS_TIMEOUT, INSEC, 0, 0), rr(MW_DNS_TIMEOUT, INSEC, 0, 0));
    f.host[1].aaaa = rr(MW_DNS_TIMEOUT, INSEC, 0, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_ALL);
    /* ... but never turns "some" or "none" into an answer: that could be weaker */
    f.host[0].tlsa = rr(MW_DNS_NODATA, SEC, 300, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    assert_non_null(strstr(v.reason, "address lookup of 1 MX host of example.net failed"));
    f.nhosts = 1;
    f.host[0] = f.host[1];
    assert_int_equal(decide(&f, &v), MW_DANE_FAIL);
    /* no addresses at all (and no failure): NONE */
    f.host[0].a = rr(MW_DNS_NXDOMAIN, SEC, 300, 0);
    f.host[0].aaaa = rr(MW_DNS_NXDOMAIN, SEC, 300, 0);
    assert_int_equal(decide(&f, &v), MW_DANE_NONE);
    assert_non_null(strstr(v.reason, "no MX host of example.net has an address"));
    /* no hosts at all (MX records that are no usable names) */
    f.nhosts = 0;
    assert_int_equal(decide(&f, &v), MW_DANE_NONE);
}

static void
test_verdict_codec(void **state)
{
    struct mw_dane_verdict v, w;
    struct mw_buf b;
    struct mw_err err;

    memset(&v, 0, sizeof(v));
    v.cls = MW_DANE_SOME;
    snprintf(v.reason, sizeof(v.reason), "1 of 2 MX hosts have TLSA records");
    mw_buf_init(&b);
    mw_dane_verdict_format(&v, &b);
    assert_string_equal(b.data, "some 1 of 2 MX hosts have TLSA records");
    assert_int_equal(mw_dane_verdict_parse(b.data, b.len, &w, &err), 0);
    assert_int_equal(w.cls, MW_DANE_SOME);
    assert_string_equal(w.reason, v.reason);
    mw_buf_release(&b);

    assert_int_equal(mw_dane_verdict_parse("all", 3, &w, &err), 0);
    assert_int_equal(w.cls, MW_DANE_ALL);
    assert_string_equal(w.reason, "");
    assert_int_equal(mw_dane_verdict_parse("none x", 6, &w, &err), 0);
    assert_int_equal(w.cls, MW_DANE_NONE);
    assert_int_equal(mw_dane_verdict_parse("fail x", 6, &w, &err), -1);
    assert_int_equal(mw_dane_verdict_parse("al", 2, &w, &err), -1);
    assert_int_equal(mw_dane_verdict_parse("allx", 4, &w, &err), -1);
    assert_int_equal(mw_dane_verdict_parse("", 0, &w, &err), -1);
    assert_int_equal(mw_dane_verdict_parse("all a\nb", 7, &w, &err), -1);
    assert_non_null(strstr(err.text, "control character"));
    assert_int_equal(mw_dane_verdict_parse("all a\0b", 7, &w, &err), -1);
    {
        char big[MW_DANE_REASON_MAX + 8];
        memset(big, 'x', sizeof(big));
        memcpy(big, "all ", 4);
        assert_int_equal(mw_dane_verdict_parse(big, sizeof(big), &w, &err), -1);
    }
    assert_string_equal(mw_dane_class_name(MW_DANE_FAIL), "fail");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlsa_usable),   cmocka_unit_test(test_addr_state),
        cmocka_unit_test(test_tlsa_pick),     cmocka_unit_test(test_decide_mx),
        cmocka_unit_test(test_decide_hosts),  cmocka_unit_test(test_decide_failed_hosts),
        cmocka_unit_test(test_verdict_codec),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
