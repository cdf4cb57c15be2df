/*
 * test-dns.c - unit tests of lib/dns-rr.c (decoders) and, when a DNS world
 * runs (tests/dns/resolve.sh sets MW_DNS_TEST_PORT and MW_DNS_TEST_ANCHORS),
 * of lib/dns.c against a real unbound: DNSSEC status, TTLs, negative
 * answers, failures and time limits, blocking from several threads and
 * async on a real event_base; and of lib/dns-cache.c (in process, no world).
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "mw/alloc.h"
#include "mw/config.h"
#include "mw/dns.h"
#include "mw/dns-cache.h"
#include "mw/metrics.h"

/* ---- decoders ---------------------------------------------------------- */

static void
test_name_check(void **state)
{
    struct mw_err err;
    char name[300];

    (void)state;
    assert_int_equal(mw_dns_name_check("example.com", &err), 0);
    assert_int_equal(mw_dns_name_check("example.com.", &err), 0);
    assert_int_equal(mw_dns_name_check("_dmarc.sel_1._domainkey.EXAMPLE.com", &err), 0);
    assert_int_equal(mw_dns_name_check("", &err), -1);
    assert_int_equal(mw_dns_name_check(".", &err), -1);
    assert_int_equal(mw_dns_name_check("a..b", &err), -1);
    assert_int_equal(mw_dns_name_check(".a", &err), -1);
    assert_int_equal(mw_dns_name_check("a b.com", &err), -1);
    assert_int_equal(mw_dns_name_check("a\\046b.com", &err), -1);
    assert_int_equal(mw_dns_name_check("caf\xc3\xa9.com", &err), -1);
    /* 63-byte label fine, 64 not. */
    memset(name, 'a', 64);
    strcpy(name + 64, ".com");
    assert_int_equal(mw_dns_name_check(name, &err), -1);
    assert_non_null(strstr(err.text, "label"));
    assert_int_equal(mw_dns_name_check(name + 1, &err), 0);
    /* 253 bytes fine (with or without the final dot), 254 not. */
    for (int i = 0; i < 253; i++)
        name[i] = i % 2 ? '.' : 'a';
    name[253] = '\0';
    assert_int_equal(mw_dns_name_check(name, &err), 0);
    strcpy(name + 253, ".");
    assert_int_equal(mw_dns_name_check(name, &err), 0);
    strcpy(name + 253, "ab");
    assert_int_equal(mw_dns_name_check(name, &err), -1);
}

static void
test_name_decode(void **state)
{
    struct mw_err err;
    char out[MW_DNS_NAME_TEXT];
    unsigned char wire[300];
    size_t off = 0;
    static const unsigned char ok[] = "\x02mx\x07"
                                      "example\x03"
                                      "com";
    static const unsigned char odd[] = "\x03"
                                       "a.b\x02\x00z";

    (void)state;
    assert_int_equal(mw_dns_name_decode(ok, sizeof(ok), &off, out, &err), 0);
    assert_string_equal(out, "mx.example.com");
    assert_int_equal(off, sizeof(ok));
    off = 0;
    assert_int_equal(mw_dns_name_decode((const unsigned char *)"", 1, &off, out, &err), 0);
    assert_string_equal(out, ".");
    off = 0;
    assert_int_equal(mw_dns_name_decode(odd, sizeof(odd), &off, out, &err), 0);
    assert_string_equal(out, "a\\046b.\\000z");
    /* Compression pointer, truncation, missing root label, empty input. */
    off = 0;
    assert_int_equal(mw_dns_name_decode((const unsigned char *)"\xc0\x0c", 2, &off, out, &err), -1);
    off = 0;
    assert_int_equal(mw_dns_name_decode(ok, 5, &off, out, &err), -1);
    off = 0;
    assert_int_equal(mw_dns_name_decode(ok, sizeof(ok) - 1, &off, out, &err), -1);
    off = 0;
    assert_int_equal(mw_dns_name_decode(ok, 0, &off, out, &err), -1);
    assert_int_equal(off, 0);
    /* 4 labels of 63 + root = 257 wire bytes: too long; all \DDD fits the buffer. */
    memset(wire, 0xff, sizeof(wire));
    for (int i = 0; i < 4; i++)
        wire[i * 64] = 63;
    wire[256] = 0;
    off = 0;
    assert_int_equal(mw_dns_name_decode(wire, 257, &off, out, &err), -1);
    wire[192] = 61;
    wire[254] = 0;
    off = 0;
    assert_int_equal(mw_dns_name_decode(wire, 255, &off, out, &err), 0);
    assert_int_equal(strlen(out), (63 * 3 + 61) * 4 + 3);
}

static void
test_txt_decode(void **state)
{
    struct mw_err err;
    struct mw_buf b;
    static const unsigned char two[] = {3, 'a', 'b', 'c', 0, 2, 'd', 'e'};

    (void)state;
    mw_buf_init(&b);
    assert_int_equal(mw_dns_txt_decode(two, sizeof(two), &b, &err), 0);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "abcde");
    mw_buf_reset(&b);
    assert_int_equal(mw_dns_txt_decode((const unsigned char *)"\x00", 1, &b, &err), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(mw_dns_txt_decode((const unsigned char *)"", 0, &b, &err), -1);
    assert_int_equal(mw_dns_txt_decode((const unsigned char *)"\x04"
                                                              "abc",
                                       4, &b, &err),
                     -1);
    assert_int_equal(mw_dns_txt_decode((const unsigned char *)"\x01"
                                                              "a\x05",
                                       3, &b, &err),
                     -1);
    mw_buf_release(&b);
}

static void
test_mx_decode(void **state)
{
    struct mw_err err;
    struct mw_dns_mx mx;
    static const unsigned char ok[] = "\x00\x0a\x02mx\x07"
                                      "example\x03"
                                      "com";

    (void)state;
    assert_int_equal(mw_dns_mx_decode(ok, sizeof(ok), &mx, &err), 0);
    assert_int_equal(mx.preference, 10);
    assert_string_equal(mx.exchange, "mx.example.com");
    assert_int_equal(mw_dns_mx_decode((const unsigned char *)"\xff\xff", 3, &mx, &err), 0);
    assert_int_equal(mx.preference, 65535);
    assert_string_equal(mx.exchange, ".");
    assert_int_equal(mw_dns_mx_decode(ok, 2, &mx, &err), -1);
    assert_int_equal(mw_dns_mx_decode(ok, sizeof(ok) - 1, &mx, &err), -1);
    assert_int_equal(mw_dns_mx_decode((const unsigned char *)"\x00\x01\x00x", 4, &mx, &err), -1);
    assert_non_null(strstr(err.text, "after the exchange"));
    assert_int_equal(mw_dns_mx_decode((const unsigned char *)"\x00\x01\xc0\x0c", 4, &mx, &err), -1);
}

static void
test_addr_decode(void **state)
{
    struct mw_err err;
    char out[MW_DNS_ADDR_TEXT];
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

    (void)state;
    assert_int_equal(
        mw_dns_addr_decode(MW_DNS_A, (const unsigned char *)"\xc0\x00\x02\x01", 4, out, &err), 0);
    assert_string_equal(out, "192.0.2.1");
    assert_int_equal(mw_dns_addr_decode(MW_DNS_AAAA, v6, 16, out, &err), 0);
    assert_string_equal(out, "2001:db8::1");
    assert_int_equal(mw_dns_addr_decode(MW_DNS_A, v6, 16, out, &err), -1);
    assert_int_equal(mw_dns_addr_decode(MW_DNS_AAAA, v6, 4, out, &err), -1);
    assert_int_equal(mw_dns_addr_decode(MW_DNS_A, v6, 3, out, &err), -1);
    assert_int_equal(mw_dns_addr_decode(MW_DNS_MX, v6, 4, out, &err), -1);
}

static void
test_tlsa_decode(void **state)
{
    struct mw_err err;
    struct mw_dns_tlsa t;
    static const unsigned char ok[] = {3, 1, 1, 0xaa, 0xbb};

    (void)state;
    assert_int_equal(mw_dns_tlsa_decode(ok, sizeof(ok), &t, &err), 0);
    assert_int_equal(t.usage, 3);
    assert_int_equal(t.selector, 1);
    assert_int_equal(t.matching_type, 1);
    assert_int_equal(t.data_len, 2);
    assert_ptr_equal(t.data, ok + 3);
    assert_int_equal(mw_dns_tlsa_decode(ok, 3, &t, &err), -1);
    assert_int_equal(mw_dns_tlsa_decode(ok, 0, &t, &err), -1);
}

/* ---- the resolver against a real server ---------------------------------- */

static const char *world_port, *world_anchors;

static struct mw_dns *
open_dns(const char *anchors, int timeout_ms)
{
    char text[1024];
    struct mw_err err;
    struct mw_config *cfg;
    struct mw_dns *d;
    size_t n = 0;

    snprintf(text, sizeof(text),
             "[dns]\nforwarders = 127.0.0.1@%s\ntrust_anchor_file = %s\n"
             "timeout_ms = %d\n",
             world_port, anchors, timeout_ms);
    cfg = mw_config_parse("test.conf", text, strlen(text), &err);
    assert_non_null(cfg);
    while (mw_cfg_core_sections[n] != NULL)
        n++;
    assert_int_equal(mw_config_validate(cfg, mw_cfg_core_sections, n), 0);
    d = mw_dns_open(cfg, &err);
    if (d == NULL)
        fail_msg("mw_dns_open: %s", err.text);
    mw_config_free(&cfg);
    return d;
}

static int
world_setup(void **state)
{
    if (world_port == NULL)
        return 0;
    *state = open_dns(world_anchors, 5000);
    return 0;
}

static int
world_teardown(void **state)
{
    struct mw_dns *d = *state;

    mw_dns_close(&d);
    return 0;
}

static struct mw_dns_answer *
ask(void **state, const char *name, int type)
{
    struct mw_dns_answer *a = NULL;
    struct mw_err err;

    if (world_port == NULL)
        skip();
    if (mw_dns_resolve(*state, name, type, &a, &err) < 0)
        fail_msg("%s: %s", name, err.text);
    assert_non_null(a);
    assert_string_equal(a->qname, name);
    assert_int_equal(a->qtype, type);
    return a;
}

static void
assert_a(const struct mw_dns_answer *a, const char *want)
{
    struct mw_err err;
    char out[MW_DNS_ADDR_TEXT];

    assert_int_equal(a->status, MW_DNS_OK);
    assert_int_equal(a->count, 1);
    assert_int_equal(mw_dns_addr_decode(MW_DNS_A, a->rr[0].data, a->rr[0].len, out, &err), 0);
    assert_string_equal(out, want);
}

static void
test_secure(void **state)
{
    struct mw_dns_answer *a = ask(state, "www.secure.test", MW_DNS_A);

    assert_a(a, "192.0.2.1");
    assert_int_equal(a->dnssec, MW_DNSSEC_SECURE);
    assert_int_equal(a->rcode, 0);
    assert_null(a->canonname);
    assert_null(a->why_bogus);
    /* The zone says 1234; a cached copy may have aged, never grown. */
    assert_in_range(a->ttl, 1000, 1234);
    mw_dns_answer_free(&a);
    assert_null(a);
}

static void
test_insecure(void **state)
{
    struct mw_dns_answer *a = ask(state, "www.plain.test", MW_DNS_A);

    assert_a(a, "192.0.2.2");
    assert_int_equal(a->dnssec, MW_DNSSEC_INSECURE);
    assert_in_range(a->ttl, 400, 600);
    mw_dns_answer_free(&a);
}

static void
test_bogus(void **state)
{
    struct mw_dns_answer *a = ask(state, "www.bogus.test", MW_DNS_A);

    assert_int_equal(a->status, MW_DNS_TEMPFAIL);
    assert_int_equal(a->dnssec, MW_DNSSEC_BOGUS);
    assert_non_null(a->why_bogus);
    assert_int_equal(a->count, 0);
    assert_int_equal(a->ttl, 0);
    mw_dns_answer_free(&a);
}

static void
test_nxdomain(void **state)
{
    struct mw_dns_answer *a = ask(state, "nx.secure.test", MW_DNS_A);

    assert_int_equal(a->status, MW_DNS_NXDOMAIN);
    assert_int_equal(a->rcode, 3);
    assert_int_equal(a->dnssec, MW_DNSSEC_SECURE);
    assert_int_equal(a->count, 0);
    /* The SOA's negative TTL. */
    assert_in_range(a->ttl, 1, 300);
    mw_dns_answer_free(&a);
    a = ask(state, "nx.plain.test", MW_DNS_TXT);
    assert_int_equal(a->status, MW_DNS_NXDOMAIN);
    assert_int_equal(a->dnssec, MW_DNSSEC_INSECURE);
    mw_dns_answer_free(&a);
}

static void
test_nodata(void **state)
{
    struct mw_dns_answer *a = ask(state, "www.secure.test", MW_DNS_TXT);

    assert_int_equal(a->status, MW_DNS_NODATA);
    assert_int_equal(a->rcode, 0);
    assert_int_equal(a->dnssec, MW_DNSSEC_SECURE);
    assert_int_equal(a->count, 0);
    assert_in_range(a->ttl, 1, 300);
    mw_dns_answer_free(&a);
}

static void
test_txt_long(void **state)
{
    struct mw_dns_answer *a = ask(state, "long.secure.test", MW_DNS_TXT);
    struct mw_err err;
    struct mw_buf b;

    assert_int_equal(a->status, MW_DNS_OK);
    assert_int_equal(a->count, 1);
    mw_buf_init(&b);
    assert_int_equal(mw_dns_txt_decode(a->rr[0].data, a->rr[0].len, &b, &err), 0);
    assert_int_equal(b.len, 300);
    assert_int_equal(strspn(b.data, "a"), 200);
    assert_int_equal(strspn(b.data + 200, "b"), 100);
    mw_buf_release(&b);
    mw_dns_answer_free(&a);
}

static void
test_mx(void **state)
{
    struct mw_dns_answer *a = ask(state, "plain.test", MW_DNS_MX);
    struct mw_dns_mx mx[2];
    struct mw_err err;
    int zero;

    assert_int_equal(a->status, MW_DNS_OK);
    assert_int_equal(a->count, 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(mw_dns_mx_decode(a->rr[i].data, a->rr[i].len, &mx[i], &err), 0);
    zero = mx[0].preference == 0 ? 0 : 1;
    assert_int_equal(mx[zero].preference, 0);
    assert_string_equal(mx[zero].exchange, ".");
    assert_int_equal(mx[1 - zero].preference, 20);
    assert_string_equal(mx[1 - zero].exchange, "mail.plain.test");
    mw_dns_answer_free(&a);
    a = ask(state, "secure.test", MW_DNS_MX);
    assert_int_equal(a->dnssec, MW_DNSSEC_SECURE);
    assert_int_equal(a->count, 1);
    assert_int_equal(mw_dns_mx_decode(a->rr[0].data, a->rr[0].len, &mx[0], &err), 0);
    assert_int_equal(mx[0].preference, 10);
    assert_string_equal(mx[0].exchange, "mx.secure.test");
    mw_dns_answer_free(&a);
}

static void
test_tlsa(void **state)
{
    struct mw_dns_answer *a = ask(state, "_25._tcp.mx.secure.test", MW_DNS_TLSA);
    struct mw_dns_tlsa t;
    struct mw_err err;

    assert_int_equal(a->status, MW_DNS_OK);
    assert_int_equal(a->dnssec, MW_DNSSEC_SECURE);
    assert_in_range(a->ttl, 700, 900);
    assert_int_equal(a->count, 1);
    assert_int_equal(mw_dns_tlsa_decode(a->rr[0].data, a->rr[0].len, &t, &err), 0);
    assert_int_equal(t.usage, 3);
    assert_int_equal(t.selector, 1);
    assert_int_equal(t.matching_type, 1);
    assert_int_equal(t.data_len, 32);
    for (size_t i = 0; i < t.data_len; i++)
        assert_int_equal(t.data[i], 0xcc);
    mw_dns_answer_free(&a);
}

static void
test_cname(void **state)
{
    struct mw_dns_answer *a = ask(state, "alias.secure.test", MW_DNS_A);

    assert_a(a, "192.0.2.1");
    assert_int_equal(a->dnssec, MW_DNSSEC_SECURE);
    assert_non_null(a->canonname);
    assert_string_equal(a->canonname, "www.secure.test");
    mw_dns_answer_free(&a);
}

static void
test_tempfail(void **state)
{
    struct mw_dns_answer *a = ask(state, "x.fail.test", MW_DNS_A);

    assert_int_equal(a->status, MW_DNS_TEMPFAIL);
    assert_int_not_equal(a->dnssec, MW_DNSSEC_BOGUS);
    assert_non_null(a->error);
    assert_int_equal(a->count, 0);
    mw_dns_answer_free(&a);
}

static void
test_bad_name(void **state)
{
    struct mw_dns_answer *a = NULL;
    struct mw_err err;

    if (world_port == NULL)
        skip();
    assert_int_equal(mw_dns_resolve(*state, "a..secure.test", MW_DNS_A, &a, &err), -1);
    assert_null(a);
    assert_int_equal(mw_dns_resolve(*state, "a b.test", MW_DNS_A, &a, &err), -1);
}

static void
test_timeout(void **state)
{
    struct mw_dns *d;
    struct mw_dns_answer *a = NULL;
    struct mw_err err;

    (void)state;
    if (world_port == NULL)
        skip();
    /* The server drops queries for drop.test: only our time limit ends them. */
    d = open_dns(world_anchors, 1000);
    assert_int_equal(mw_dns_resolve(d, "x.drop.test", MW_DNS_A, &a, &err), 0);
    assert_int_equal(a->status, MW_DNS_TIMEOUT);
    assert_non_null(a->error);
    assert_int_equal(a->count, 0);
    mw_dns_answer_free(&a);
    /* The resolver still works after a cancelled lookup. */
    assert_int_equal(mw_dns_resolve(d, "www.plain.test", MW_DNS_A, &a, &err), 0);
    assert_a(a, "192.0.2.2");
    mw_dns_answer_free(&a);
    mw_dns_close(&d);
    assert_null(d);
}

static void
test_no_validation(void **state)
{
    struct mw_dns *d;
    struct mw_dns_answer *a = NULL;
    struct mw_err err;

    (void)state;
    if (world_port == NULL)
        skip();
    /* Without a trust anchor nothing is secure, and nothing is bogus either. */
    d = open_dns("", 5000);
    assert_int_equal(mw_dns_resolve(d, "www.bogus.test", MW_DNS_A, &a, &err), 0);
    assert_a(a, "192.0.2.3");
    assert_int_equal(a->dnssec, MW_DNSSEC_INSECURE);
    mw_dns_answer_free(&a);
    mw_dns_close(&d);
}

/* Several milter threads at once, each with its own expectations. */
struct thread_job {
    struct mw_dns *d;
    int index;
    int failures;
};

static void *
thread_main(void *arg)
{
    struct thread_job *job = arg;
    static const char *const names[] = {"www.secure.test", "www.plain.test", "alias.secure.test",
                                        "nx.secure.test"};
    static const char *const want[] = {"192.0.2.1", "192.0.2.2", "192.0.2.1", NULL};

    for (int i = 0; i < 20; i++) {
        int k = (job->index + i) % 4;
        struct mw_dns_answer *a = NULL;
        struct mw_err err;
        char out[MW_DNS_ADDR_TEXT];

        if (mw_dns_resolve(job->d, names[k], MW_DNS_A, &a, &err) < 0) {
            job->failures++;
            continue;
        }
        if (want[k] == NULL)
            job->failures += a->status != MW_DNS_NXDOMAIN;
        else if (a->status != MW_DNS_OK || a->count != 1 ||
                 mw_dns_addr_decode(MW_DNS_A, a->rr[0].data, a->rr[0].len, out, &err) < 0 ||
                 strcmp(out, want[k]) != 0)
            job->failures++;
        mw_dns_answer_free(&a);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    pthread_t t[8];
    struct thread_job jobs[8];

    if (world_port == NULL)
        skip();
    for (int i = 0; i < 8; i++) {
        jobs[i] = (struct thread_job){.d = *state, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
}

/* ---- async -------------------------------------------------------------- */

struct async_slot {
    const char *name;
    int type;
    enum mw_dns_status want;
    int calls;
    struct mw_dns_answer *a;
};

struct async_run {
    struct event_base *base;
    int outstanding;
};

static struct async_run *current_run;

static void
async_cb(void *arg, struct mw_dns_answer *a)
{
    struct async_slot *s = arg;

    s->calls++;
    s->a = a;
    if (current_run != NULL && --current_run->outstanding == 0)
        event_base_loopexit(current_run->base, NULL);
}

static void
run_async(struct mw_dns *d, struct event_base *base, struct async_slot *s, size_t n)
{
    struct async_run run = {.base = base, .outstanding = (int)n};
    struct mw_err err;

    current_run = &run;
    for (size_t i = 0; i < n; i++)
        if (mw_dns_resolve_async(d, base, s[i].name, s[i].type, async_cb, &s[i], &err) < 0)
            fail_msg("%s: %s", s[i].name, err.text);
    /* Never delivered from inside the call. */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(s[i].calls, 0);
    assert_int_equal(event_base_dispatch(base), 0);
    current_run = NULL;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].calls, 1);
        assert_non_null(s[i].a);
        assert_string_equal(s[i].a->qname, s[i].name);
        if (s[i].a->status != s[i].want)
            fail_msg("%s: %s, want %s", s[i].name, mw_dns_status_name(s[i].a->status),
                     mw_dns_status_name(s[i].want));
    }
}

static void
free_slots(struct async_slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mw_dns_answer_free(&s[i].a);
}

static void
test_async(void **state)
{
    struct mw_dns *d;
    struct event_base *base, *other;
    struct mw_err err;
    struct async_slot s[] = {
        {"www.secure.test", MW_DNS_A, MW_DNS_OK, 0, NULL},
        {"www.plain.test", MW_DNS_A, MW_DNS_OK, 0, NULL},
        {"www.bogus.test", MW_DNS_A, MW_DNS_TEMPFAIL, 0, NULL},
        {"nx.plain.test", MW_DNS_A, MW_DNS_NXDOMAIN, 0, NULL},
        {"www.secure.test", MW_DNS_TXT, MW_DNS_NODATA, 0, NULL},
        {"_25._tcp.mx.secure.test", MW_DNS_TLSA, MW_DNS_OK, 0, NULL},
        {"long.secure.test", MW_DNS_TXT, MW_DNS_OK, 0, NULL},
        {"x.fail.test", MW_DNS_A, MW_DNS_TEMPFAIL, 0, NULL},
    };
    size_t n = sizeof(s) / sizeof(s[0]);

    (void)state;
    if (world_port == NULL)
        skip();
    /* A resolver of its own: a resolver stays bound to the first base it serves. */
    d = open_dns(world_anchors, 5000);
    base = event_base_new();
    assert_non_null(base);
    run_async(d, base, s, n);
    assert_int_equal(s[0].a->dnssec, MW_DNSSEC_SECURE);
    assert_int_equal(s[1].a->dnssec, MW_DNSSEC_INSECURE);
    assert_int_equal(s[2].a->dnssec, MW_DNSSEC_BOGUS);
    assert_int_equal(s[5].a->dnssec, MW_DNSSEC_SECURE);
    free_slots(s, n);
    /* One resolver serves one loop; a bad name is refused at once. */
    other = event_base_new();
    assert_int_equal(
        mw_dns_resolve_async(d, other, "www.plain.test", MW_DNS_A, async_cb, &s[0], &err), -1);
    assert_int_equal(mw_dns_resolve_async(d, base, "a..b", MW_DNS_A, async_cb, &s[0], &err), -1);
    assert_int_equal(s[0].calls, 1);
    event_base_free(other);
    mw_dns_close(&d);
    event_base_free(base);
}

/* A callback run by mw_dns_close() tries to start another lookup. */
static struct mw_dns *closing_dns;
static struct event_base *closing_base;
static int closing_rc;

static void
closing_cb(void *arg, struct mw_dns_answer *a)
{
    struct mw_err err;

    async_cb(arg, a);
    closing_rc = mw_dns_resolve_async(closing_dns, closing_base, "www.plain.test", MW_DNS_A,
                                      async_cb, arg, &err);
}

static void
test_async_timeout_and_close(void **state)
{
    struct event_base *base;
    struct mw_dns *d;
    struct async_slot s[] = {
        {"x.drop.test", MW_DNS_A, MW_DNS_TIMEOUT, 0, NULL},
        {"y.drop.test", MW_DNS_TXT, MW_DNS_TIMEOUT, 0, NULL},
        {"www.plain.test", MW_DNS_A, MW_DNS_OK, 0, NULL},
    };
    struct async_slot late = {"z.drop.test", MW_DNS_A, MW_DNS_TEMPFAIL, 0, NULL};
    struct mw_err err;

    (void)state;
    if (world_port == NULL)
        skip();
    base = event_base_new();
    d = open_dns(world_anchors, 1000);
    run_async(d, base, s, 3);
    free_slots(s, 3);
    /* Closing with a lookup in flight answers it now, once. */
    closing_dns = d;
    closing_base = base;
    assert_int_equal(mw_dns_resolve_async(d, base, late.name, late.type, closing_cb, &late, &err),
                     0);
    mw_dns_close(&d);
    assert_int_equal(closing_rc, -1);
    assert_int_equal(late.calls, 1);
    assert_int_equal(late.a->status, MW_DNS_TEMPFAIL);
    assert_string_equal(late.a->error, "resolver closed");
    mw_dns_answer_free(&late.a);
    event_base_free(base);
}

/* ---- answer cache (no world) ------------------------------------------ */

static struct mw_dns_answer *
answer(const char *name, int qtype, enum mw_dns_status st, uint32_t ttl, const char *rdata)
{
    struct mw_dns_answer *a = mw_calloc(1, sizeof(*a));

    a->status = st;
    a->qname = mw_strdup(name);
    a->qtype = qtype;
    a->ttl = ttl;
    a->rr = mw_calloc(1, sizeof(*a->rr));
    if (rdata != NULL) {
        a->count = 1;
        a->rr[0].len = strlen(rdata);
        a->rr[0].data = (unsigned char *)mw_strdup(rdata);
    }
    return a;
}

static void
assert_cached(struct mw_dns_cache *c, const char *name, int qtype, double now, const char *rdata,
              uint32_t ttl)
{
    struct mw_dns_answer *a = mw_dns_cache_get(c, name, qtype, now);

    assert_non_null(a);
    assert_string_equal(a->qname, name);
    assert_int_equal(a->qtype, qtype);
    assert_int_equal(a->ttl, ttl);
    if (rdata != NULL) {
        assert_int_equal(a->count, 1);
        assert_memory_equal(a->rr[0].data, rdata, strlen(rdata));
    } else {
        assert_int_equal(a->count, 0);
    }
    mw_dns_answer_free(&a);
}

static void
test_cache_keep(void **state)
{
    struct mw_dns_cache *c = mw_dns_cache_new(64);
    struct mw_dns_answer *a = answer("Example.COM", MW_DNS_TXT, MW_DNS_OK, 300, "v=spf1 -all");

    (void)state;
    a->dnssec = MW_DNSSEC_SECURE;
    mw_dns_cache_put(c, a, 1000.0);
    mw_dns_answer_free(&a); /* the cache keeps its own copy */
    assert_cached(c, "example.com", MW_DNS_TXT, 1000.0, "v=spf1 -all", 300);
    assert_cached(c, "EXAMPLE.com.", MW_DNS_TXT, 1100.5, "v=spf1 -all", 200);
    a = mw_dns_cache_get(c, "example.com", MW_DNS_TXT, 1299.2);
    assert_int_equal(a->ttl, 1);
    assert_int_equal(a->dnssec, MW_DNSSEC_SECURE);
    mw_dns_answer_free(&a);
    /* Another type or name is another answer; at its TTL the answer is gone. */
    assert_null(mw_dns_cache_get(c, "example.com", MW_DNS_A, 1000.0));
    assert_null(mw_dns_cache_get(c, "www.example.com", MW_DNS_TXT, 1000.0));
    assert_null(mw_dns_cache_get(c, "example.com", MW_DNS_TXT, 1300.0));
    assert_null(mw_dns_cache_get(c, "example.com", MW_DNS_TXT, 1000.0));
    /* Negative answers are kept for their (negative) TTL. */
    a = answer("nx.example.com", MW_DNS_A, MW_DNS_NXDOMAIN, 60, NULL);
    mw_dns_cache_put(c, a, 0.0);
    mw_dns_answer_free(&a);
    assert_cached(c, "nx.example.com", MW_DNS_A, 30.0, NULL, 30);
    mw_dns_cache_free(&c);
    assert_null(c);
}

static void
test_cache_refuse(void **state)
{
    struct mw_dns_cache *c = mw_dns_cache_new(64);
    struct mw_dns_answer *a;

    (void)state;
    a = answer("t.example", MW_DNS_A, MW_DNS_TEMPFAIL, 300, NULL);
    mw_dns_cache_put(c, a, 0.0);
    mw_dns_answer_free(&a);
    a = answer("o.example", MW_DNS_A, MW_DNS_TIMEOUT, 300, NULL);
    mw_dns_cache_put(c, a, 0.0);
    mw_dns_answer_free(&a);
    a = answer("z.example", MW_DNS_A, MW_DNS_OK, 0, "x");
    mw_dns_cache_put(c, a, 0.0);
    mw_dns_answer_free(&a);
    a = answer("b.example", MW_DNS_A, MW_DNS_OK, 300, "x");
    a->dnssec = MW_DNSSEC_BOGUS;
    mw_dns_cache_put(c, a, 0.0);
    mw_dns_answer_free(&a);
    assert_null(mw_dns_cache_get(c, "t.example", MW_DNS_A, 1.0));
    assert_null(mw_dns_cache_get(c, "o.example", MW_DNS_A, 1.0));
    assert_null(mw_dns_cache_get(c, "z.example", MW_DNS_A, 0.0));
    assert_null(mw_dns_cache_get(c, "b.example", MW_DNS_A, 1.0));
    mw_dns_cache_free(&c);
    /* Size 0: no cache, every call a no-op. */
    assert_null(mw_dns_cache_new(0));
    a = answer("a.example", MW_DNS_A, MW_DNS_OK, 300, "x");
    mw_dns_cache_put(NULL, a, 0.0);
    assert_null(mw_dns_cache_get(NULL, "a.example", MW_DNS_A, 0.0));
    mw_dns_answer_free(&a);
}

static void
test_cache_replace(void **state)
{
    struct mw_dns_cache *c = mw_dns_cache_new(1); /* every key in the same slot */
    struct mw_dns_answer *a;

    (void)state;
    a = answer("one.example", MW_DNS_TXT, MW_DNS_OK, 100, "1");
    mw_dns_cache_put(c, a, 0.0);
    mw_dns_answer_free(&a);
    a = answer("two.example", MW_DNS_TXT, MW_DNS_OK, 100, "2");
    mw_dns_cache_put(c, a, 0.0);
    mw_dns_answer_free(&a);
    assert_null(mw_dns_cache_get(c, "one.example", MW_DNS_TXT, 1.0));
    assert_cached(c, "two.example", MW_DNS_TXT, 1.0, "2", 99);
    /* A newer answer for the same key replaces the old one. */
    a = answer("two.example", MW_DNS_TXT, MW_DNS_OK, 50, "2b");
    mw_dns_cache_put(c, a, 10.0);
    mw_dns_answer_free(&a);
    assert_cached(c, "two.example", MW_DNS_TXT, 10.0, "2b", 50);
    mw_dns_cache_free(&c);
}

/* Through the resolver: the second lookup is a cache hit with the same answer. */
static void
test_cache_resolver(void **state)
{
    struct mw_counter *hits = mw_metrics_counter("mailward_dns_cache_hits_total", "", "");
    struct mw_dns_answer *a = ask(state, "txt.plain.test", MW_DNS_TXT), *b;
    uint64_t before = mw_counter_value(hits);

    b = ask(state, "TXT.plain.test", MW_DNS_TXT);
    assert_int_equal(mw_counter_value(hits), before + 1);
    assert_int_equal(b->status, MW_DNS_OK);
    assert_int_equal(b->dnssec, a->dnssec);
    assert_int_equal(b->count, a->count);
    assert_memory_equal(b->rr[0].data, a->rr[0].data, a->rr[0].len);
    assert_true(b->ttl <= a->ttl && b->ttl > 0);
    mw_dns_answer_free(&a);
    mw_dns_answer_free(&b);
    /* A temporary failure is asked again each time. */
    a = ask(state, "www.bogus.test", MW_DNS_A);
    before = mw_counter_value(hits);
    b = ask(state, "www.bogus.test", MW_DNS_A);
    assert_int_equal(b->status, MW_DNS_TEMPFAIL);
    assert_int_equal(mw_counter_value(hits), before);
    mw_dns_answer_free(&a);
    mw_dns_answer_free(&b);
}

int
main(void)
{
    const struct CMUnitTest decoders[] = {
        cmocka_unit_test(test_name_check),  cmocka_unit_test(test_name_decode),
        cmocka_unit_test(test_txt_decode),  cmocka_unit_test(test_mx_decode),
        cmocka_unit_test(test_addr_decode), cmocka_unit_test(test_tlsa_decode),
        cmocka_unit_test(test_cache_keep),  cmocka_unit_test(test_cache_refuse),
        cmocka_unit_test(test_cache_replace),
    };
    const struct CMUnitTest world[] = {
        cmocka_unit_test(test_secure),
        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_bogus),
        cmocka_unit_test(test_nxdomain),
        cmocka_unit_test(test_nodata),
        cmocka_unit_test(test_txt_long),
        cmocka_unit_test(test_mx),
        cmocka_unit_test(test_tlsa),
        cmocka_unit_test(test_cname),
        cmocka_unit_test(test_tempfail),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_no_validation),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_async_timeout_and_close),
        cmocka_unit_test(test_cache_resolver),
    };
    int failed;

    world_port = getenv("MW_DNS_TEST_PORT");
    world_anchors = getenv("MW_DNS_TEST_ANCHORS");
    if (world_anchors == NULL)
        world_port = NULL;
    failed = cmocka_run_group_tests_name("dns decoders", decoders, NULL, NULL);
    failed += cmocka_run_group_tests_name("dns resolver", world, world_setup, world_teardown);
    return failed ? 1 : 0;
}
