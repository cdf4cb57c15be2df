/*
 * fuzz-dane-verdict.c - libFuzzer target for the dane plugin's parsers and
 * verdict (plugins/dane/verdict.c): the cache value parser (values come back
 * from Redis, which other hosts write), the TLSA usability check over any
 * rdata, and mw_dane_decide() over DNS facts made from the input bytes.
 * Never a crash, leak or undefined behaviour; a parsed value formats back
 * to something that parses to the same verdict.
 */
// fuzz-sources: lib/dns-rr.c plugins/dane/verdict.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dane/verdict.h"
#include "mw/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One answer slot from 3 bytes: status, DNSSEC, TTL class, usable count. */
static void
fuzz_rr(struct mw_dane_rr *rr, const uint8_t *b)
{
    rr->asked = 1;
    rr->done = (b[0] & 0x80) == 0;
    rr->status = (enum mw_dns_status)(b[0] % 5);
    rr->dnssec = (enum mw_dnssec)(b[1] % 3);
    rr->ttl = (uint32_t)b[2] * 60u;
    rr->records = rr->status == MW_DNS_OK;
    rr->usable = b[1] >> 4;
}

static void
fuzz_decide(const uint8_t *data, size_t size)
{
    struct mw_dane_facts f;
    struct mw_dane_verdict v;
    size_t pos = 3;

    if (size < 4)
        return;
    memset(&f, 0, sizeof(f));
    memcpy(f.domain, "example.net", 12);
    fuzz_rr(&f.mx, data);
    f.null_mx = data[3] & 1;
    pos = 4;
    while (f.nhosts < MW_DANE_HOSTS_MAX && size - pos >= 12) {
        struct mw_dane_host *h = &f.host[f.nhosts++];

        memcpy(h->name, "mx.example.net", 15);
        fuzz_rr(&h->a, data + pos);
        fuzz_rr(&h->aaaa, data + pos + 3);
        fuzz_rr(&h->tlsa, data + pos + 6);
        if (data[pos + 9] & 1)
            fuzz_rr(&h->tlsa_canon, data + pos + 9);
        pos += 12;
    }
    mw_dane_decide(&f, &v);
    if ((unsigned int)v.cls > MW_DANE_FAIL || memchr(v.reason, '\0', sizeof(v.reason)) == NULL)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    struct mw_dane_verdict v, w;
    struct mw_err err;
    struct mw_buf b;

    if (!opened) {
        mw_log_open("fuzz-dane-verdict", 0);
        opened = 1;
    }
    if (mw_dane_verdict_parse((const char *)data, size, &v, &err) == 0) {
        mw_buf_init(&b);
        mw_dane_verdict_format(&v, &b);
        if (mw_dane_verdict_parse(b.data, b.len, &w, &err) < 0 || w.cls != v.cls ||
            strcmp(w.reason, v.reason) != 0)
            __builtin_trap();
        mw_buf_release(&b);
    }
    (void)mw_dane_tlsa_usable(data, size);
    fuzz_decide(data, size);
    return 0;
}
