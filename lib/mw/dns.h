/*
 * mw/dns.h - the one resolver: libunbound, blocking and on libevent.
 *
 * SYNOPSIS
 *   d = mw_dns_open(cfg, &err);
 *   mw_dns_resolve(d, "example.com", MW_DNS_MX, &a, &err);      (any thread)
 *   mw_dns_resolve_async(d, base, "example.com", MW_DNS_TLSA, cb, arg, &err);
 *   mw_dns_answer_free(&a);
 *   mw_dns_close(&d);
 *
 *   mw_dns_name_check(), mw_dns_name_decode(), mw_dns_txt_decode(),
 *   mw_dns_mx_decode(), mw_dns_addr_decode(), mw_dns_tlsa_decode()
 *
 * DESCRIPTION
 *   A process opens one struct mw_dns from the [dns] section and lends it to
 *   every plugin, so that one libunbound context, and therefore one cache
 *   and one DNSSEC validator, serve every lookup (SPF, DKIM, DMARC, MTA-STS,
 *   DANE). With forwarders the context forwards to them; without, it
 *   recurses from the root. With a trust_anchor_file it validates.
 *
 *   Every answer carries its DNSSEC status and the TTL for which it may be
 *   cached (for NXDOMAIN and NODATA: the negative TTL). A lookup never takes
 *   longer than timeout_ms: then the answer is MW_DNS_TIMEOUT.
 *
 *   The record decoders are pure functions over one record's rdata as
 *   libunbound returns it (uncompressed wire format): bytes in, struct or
 *   error out, every length checked.
 *
 * MEMORY
 *   An answer belongs to whoever receives it (the blocking caller or the
 *   async callback) and is freed with mw_dns_answer_free().
 *
 * THREADS
 *   mw_dns_resolve() may be called from many threads at once. The async
 *   API belongs to the thread that runs the event loop. Open and close are
 *   not concurrent with anything else.
 */
#ifndef MW_DNS_H
#define MW_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "mw/buf.h"
#include "mw/config.h"
#include "mw/err.h"

struct event_base;
struct mw_dns;

/* Record types mailward asks for (RFC 1035, 3596, 6698). */
#define MW_DNS_A 1
#define MW_DNS_NS 2
#define MW_DNS_CNAME 5
#define MW_DNS_SOA 6
#define MW_DNS_PTR 12
#define MW_DNS_MX 15
#define MW_DNS_TXT 16
#define MW_DNS_AAAA 28
#define MW_DNS_TLSA 52

/* Longest name we query (presentation form without the final dot). */
#define MW_DNS_NAME_MAX 253
/* Room for any decoded wire name as text, \DDD escapes and NUL included. */
#define MW_DNS_NAME_TEXT 1024

enum mw_dns_status {
    MW_DNS_OK,       /* records follow (count > 0) */
    MW_DNS_NXDOMAIN, /* the name does not exist */
    MW_DNS_NODATA,   /* the name exists, with no record of this type */
    MW_DNS_TEMPFAIL, /* SERVFAIL, REFUSED, bogus, network error: try later */
    MW_DNS_TIMEOUT,  /* no answer within timeout_ms */
};

enum mw_dnssec {
    MW_DNSSEC_INSECURE, /* not validated (no anchor covers it, or no validation) */
    MW_DNSSEC_SECURE,   /* validated from a trust anchor */
    MW_DNSSEC_BOGUS,    /* validation failed: status is MW_DNS_TEMPFAIL */
};

/* One record's rdata in wire format. */
struct mw_dns_rr {
    unsigned char *data;
    size_t len;
};

struct mw_dns_answer {
    enum mw_dns_status status;
    enum mw_dnssec dnssec;
    int rcode;       /* DNS rcode as received (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN...) */
    uint32_t ttl;    /* seconds this answer may be cached; 0 on TEMPFAIL/TIMEOUT */
    char *qname;     /* the name asked */
    int qtype;       /* the type asked */
    char *canonname; /* the name after CNAMEs, NULL when no CNAME was followed */
    char *why_bogus; /* validator's reason when dnssec is BOGUS, else NULL */
    char *error;     /* one line for TEMPFAIL and TIMEOUT, else NULL */
    size_t count;    /* records in rr (0 unless status is MW_DNS_OK) */
    struct mw_dns_rr *rr;
};

/* An async answer; the callback owns a and frees it with mw_dns_answer_free(). */
typedef void mw_dns_cb(void *arg, struct mw_dns_answer *a);

/*
 * Open the resolver described by cfg's [dns] section. Fails on a bad
 * forwarder, an unreadable trust anchor file or when libunbound fails.
 */
struct mw_dns *mw_dns_open(const struct mw_config *cfg, struct mw_err *err);

/*
 * Close the resolver and NULL the pointer. No blocking lookup may be in
 * progress. Async lookups still pending get their callback now, with a
 * TEMPFAIL answer, so callers' state is released (they cannot start new
 * lookups then); close the resolver before freeing the event base or
 * anything those callbacks use.
 */
void mw_dns_close(struct mw_dns **dp);

/*
 * Look up name/rrtype (class IN), waiting at most timeout_ms. Returns 0 and
 * an answer in *out (every status, TIMEOUT included, is an answer), or -1
 * with err when the name is invalid (mw_dns_name_check) or libunbound
 * refuses the query. Thread-safe; must not run in the event loop's thread.
 */
int mw_dns_resolve(struct mw_dns *d, const char *name, int rrtype, struct mw_dns_answer **out,
                   struct mw_err *err);

/*
 * Start a lookup whose answer is delivered on base (the policy daemon's
 * loop): returns 0, and cb(arg, answer) will then run exactly once, from
 * the loop, never from inside this call; a lookup that outlives timeout_ms
 * is answered MW_DNS_TIMEOUT. Returns -1 with err, and cb is never called,
 * when the name is invalid, libunbound refuses, the resolver is closing, or
 * base differs from the base of earlier calls (one resolver serves one
 * event loop).
 */
int mw_dns_resolve_async(struct mw_dns *d, struct event_base *base, const char *name, int rrtype,
                         mw_dns_cb *cb, void *arg, struct mw_err *err);

/* A deep copy of a, owned by the caller (freed with mw_dns_answer_free()). */
struct mw_dns_answer *mw_dns_answer_copy(const struct mw_dns_answer *a);

/* Free an answer and NULL the pointer; NULL is fine. */
void mw_dns_answer_free(struct mw_dns_answer **ap);

/* "OK", "NXDOMAIN", ... and "secure", "insecure", "bogus", for logs. */
const char *mw_dns_status_name(enum mw_dns_status s);
const char *mw_dns_dnssec_name(enum mw_dnssec s);

/*
 * Check a name before it is queried: at most MW_DNS_NAME_MAX bytes (a final
 * dot aside), labels of 1..63 bytes, printable ASCII except blank and
 * backslash (libunbound reads names in presentation form, where a backslash
 * is an escape). Names from mail (SPF macros, selectors) are untrusted.
 */
int mw_dns_name_check(const char *name, struct mw_err *err);

/*
 * Decode the wire-format name at rd[*off] (no compression: libunbound
 * returns rdata uncompressed) into text of at most MW_DNS_NAME_TEXT bytes,
 * "." for the root, without a final dot otherwise; bytes other than letters,
 * digits, '-', '_' and '*' are written \DDD. Advances *off past the name.
 */
int mw_dns_name_decode(const unsigned char *rd, size_t len, size_t *off, char out[MW_DNS_NAME_TEXT],
                       struct mw_err *err);

/* TXT: append the character-strings of one record, concatenated, to out. */
int mw_dns_txt_decode(const unsigned char *rd, size_t len, struct mw_buf *out, struct mw_err *err);

struct mw_dns_mx {
    unsigned int preference;
    char exchange[MW_DNS_NAME_TEXT]; /* "." for a null MX (RFC 7505) */
};
/* MX: preference and exchange. */
int mw_dns_mx_decode(const unsigned char *rd, size_t len, struct mw_dns_mx *mx, struct mw_err *err);

/* Room for an IPv6 address as text (INET6_ADDRSTRLEN). */
#define MW_DNS_ADDR_TEXT 46
/* A (4 bytes) or AAAA (16 bytes) to text; rrtype says which is expected. */
int mw_dns_addr_decode(int rrtype, const unsigned char *rd, size_t len, char out[MW_DNS_ADDR_TEXT],
                       struct mw_err *err);

struct mw_dns_tlsa {
    unsigned int usage;         /* 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE */
    unsigned int selector;      /* 0 full certificate, 1 SubjectPublicKeyInfo */
    unsigned int matching_type; /* 0 exact, 1 SHA-256, 2 SHA-512 */
    const unsigned char *data;  /* points into rd: valid as long as rd */
    size_t data_len;            /* at least 1 */
};
/* TLSA (RFC 6698): the three fields and the association data. */
int mw_dns_tlsa_decode(const unsigned char *rd, size_t len, struct mw_dns_tlsa *t,
                       struct mw_err *err);

#endif
