/*
 * verdict.h - what DNS said about a domain, and the DANE verdict (RFC 7672).
 *
 * SYNOPSIS
 *   mw_dane_rr_set(&rr, answer)                 summarise one DNS answer
 *   mw_dane_tlsa_usable(rdata, len)             is one TLSA record usable for SMTP?
 *   mw_dane_addr_state(&host)                   the state of a host's A/AAAA lookups
 *   mw_dane_tlsa_pick(&host)                    the TLSA RRset that counts for a host
 *   mw_dane_decide(&facts, &verdict)            the verdict for the whole domain
 *   mw_dane_verdict_format(&v, &buf)            verdict to cache value
 *   mw_dane_verdict_parse(buf, len, &v, err)    cache value to verdict
 *
 * DESCRIPTION
 *   lookup.c walks the DNS (MX, then A, AAAA and _25._tcp TLSA of each MX
 *   host) and records every answer in a struct mw_dane_facts; this module
 *   turns the facts into one of four verdicts, as RFC 7672 section 2 asks:
 *
 *   MW_DANE_ALL   the MX RRset is DNSSEC-secure and every MX host that has
 *                 addresses has secure addresses and a secure TLSA RRset
 *                 with at least one usable record (usage 2 or 3, selector
 *                 0 or 1, matching type 0, 1 or 2 with a digest of the right
 *                 length): mandatory DANE ("dane-only") loses nothing.
 *   MW_DANE_SOME  secure MX RRset, and some hosts have secure TLSA RRsets
 *                 (usable or not) while others have none: Postfix's
 *                 opportunistic "dane" applies RFC 7672 host by host.
 *   MW_DANE_NONE  no DANE: no such domain, a null MX, an insecure MX RRset,
 *                 or no host with secure addresses and a secure TLSA RRset.
 *   MW_DANE_FAIL  a lookup whose answer matters failed or was bogus: the
 *                 caller answers TEMP, never a weaker policy.
 *
 *   A lookup failure only ever makes the verdict stricter or FAIL: a host
 *   whose addresses cannot be looked up is left out only when every other
 *   host is covered by usable TLSA records (dane-only is then still right).
 *   The verdict's ttl is the smallest TTL of the RRsets it rests on.
 *
 *   Everything here is pure (no I/O, no globals): unit tests and the fuzz
 *   target call it directly.
 */
#ifndef MW_DANE_VERDICT_H
#define MW_DANE_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "mw/buf.h"
#include "mw/dns.h"
#include "mw/err.h"

/* MX hosts considered, lowest preference first (Postfix tries at most smtp_mx_address_limit). */
#define MW_DANE_HOSTS_MAX 10
/* Longest reason text kept with a verdict. */
#define MW_DANE_REASON_MAX 640

/* One DNS answer, summarised. */
struct mw_dane_rr {
    int asked;                 /* a lookup was started */
    int done;                  /* its answer arrived */
    enum mw_dns_status status; /* valid when done */
    enum mw_dnssec dnssec;
    uint32_t ttl;
    unsigned int records; /* records in the answer */
    unsigned int usable;  /* TLSA only: records usable for SMTP */
};

struct mw_dane_host {
    char name[MW_DNS_NAME_MAX + 1];  /* the MX exchange, as queried */
    char canon[MW_DNS_NAME_MAX + 1]; /* the name after CNAMEs (address lookups), or "" */
    struct mw_dane_rr a, aaaa;
    struct mw_dane_rr tlsa;       /* _25._tcp.NAME */
    struct mw_dane_rr tlsa_canon; /* _25._tcp.CANON, asked when canon is secure */
};

struct mw_dane_facts {
    char domain[MW_DNS_NAME_MAX + 1];
    struct mw_dane_rr mx;
    int null_mx;  /* an MX record with exchange "." (RFC 7505) */
    int implicit; /* no MX records: the domain itself is the host */
    size_t nhosts;
    struct mw_dane_host host[MW_DANE_HOSTS_MAX];
};

enum mw_dane_class { MW_DANE_NONE, MW_DANE_SOME, MW_DANE_ALL, MW_DANE_FAIL };

struct mw_dane_verdict {
    enum mw_dane_class cls;
    uint32_t ttl; /* seconds the verdict may be cached; 0 for FAIL */
    char reason[MW_DANE_REASON_MAX];
};

/* The state of a host's address lookups. */
enum mw_dane_addr {
    MW_DANE_ADDR_PENDING,  /* an answer is still missing */
    MW_DANE_ADDR_SECURE,   /* addresses, every answer secure */
    MW_DANE_ADDR_INSECURE, /* addresses, some answer insecure */
    MW_DANE_ADDR_NONE,     /* no addresses (NXDOMAIN / NODATA both) */
    MW_DANE_ADDR_FAIL,     /* no addresses and a lookup failed */
    MW_DANE_ADDR_BOGUS,    /* an answer failed DNSSEC validation */
};

/* Record answer a (not NULL) in rr: status, DNSSEC, TTL, and for TLSA the usable count. */
void mw_dane_rr_set(struct mw_dane_rr *rr, const struct mw_dns_answer *a);
/* 1 when the TLSA record rd[0..len) is usable for SMTP (RFC 7672 section 3), else 0. */
int mw_dane_tlsa_usable(const unsigned char *rd, size_t len);
enum mw_dane_addr mw_dane_addr_state(const struct mw_dane_host *h);
/*
 * The TLSA RRset that decides for h (RFC 7672 section 2.2.2): the one at the
 * CNAME-expanded name when it was asked and is not empty, else the one at
 * the MX name. NULL while an answer that matters is still missing.
 */
const struct mw_dane_rr *mw_dane_tlsa_pick(const struct mw_dane_host *h);
/* The verdict for f (every lookup done); v->reason says why, for logs and TEMP. */
void mw_dane_decide(const struct mw_dane_facts *f, struct mw_dane_verdict *v);

/* "all", "some", "none", "fail". */
const char *mw_dane_class_name(enum mw_dane_class c);
/* The cache value of a verdict (NONE, SOME, ALL): "CLASS REASON". */
void mw_dane_verdict_format(const struct mw_dane_verdict *v, struct mw_buf *out);
/* Parse a cache value (from Redis: untrusted) into v; FAIL is never a valid value. */
int mw_dane_verdict_parse(const char *buf, size_t len, struct mw_dane_verdict *v,
                          struct mw_err *err);

#endif
