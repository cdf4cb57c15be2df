/*
 * spf-eval.h - the native RFC 7208 SPF evaluator: check_host() over a DNS
 * callback, with no I/O of its own.
 *
 * The caller supplies struct mw_spf_dns (one lookup callback for TXT, A,
 * AAAA, MX and PTR); the evaluator parses every record it fetches (strict
 * RFC 7208 syntax: any error is permerror), enforces the §4.6.4 limits (10
 * DNS-querying terms across includes and redirects, 2 void lookups, 10 MX
 * names, 10 PTR names, and 20 seconds in all, after which lookups fail as
 * temporary errors), expands macros (§7) and fetches exp= (§6.2) only for
 * a fail of the top-level record (or the record it redirects to).
 * Every input (records, names, addresses) is distrusted and every string is
 * bounded; recursion is bounded by the 10-term limit.
 *
 * Memory: the callback fills a struct mw_spf_rrset with mw_spf_rrset_add_*
 * and the evaluator frees it. mw_spf_check_host() fills a struct
 * mw_spf_verdict the caller releases with mw_spf_verdict_release().
 * Thread-safety: no global state; the callback is called from the calling
 * thread only, so evaluations in several threads may run at once.
 */
#ifndef MW_SPF_EVAL_H
#define MW_SPF_EVAL_H

#include <stddef.h>

enum mw_spf_result {
    MW_SPF_NONE,
    MW_SPF_NEUTRAL,
    MW_SPF_PASS,
    MW_SPF_FAIL,
    MW_SPF_SOFTFAIL,
    MW_SPF_TEMPERROR,
    MW_SPF_PERMERROR,
};

enum mw_spf_qtype { MW_SPF_TXT, MW_SPF_A, MW_SPF_AAAA, MW_SPF_MX, MW_SPF_PTR };

/* What a lookup found: OK with records, or why there are none. TEMP is any
 * failure other than "no such name" / "no such data" (SERVFAIL, timeout,
 * a name the resolver cannot encode, a bogus DNSSEC answer). */
enum mw_spf_dns_rc { MW_SPF_DNS_OK, MW_SPF_DNS_NXDOMAIN, MW_SPF_DNS_NODATA, MW_SPF_DNS_TEMP };

/* An IPv4 or IPv6 address (family AF_INET or AF_INET6, bytes in network
 * order; an IPv4 address uses b[0..3]). */
struct mw_spf_ip {
    int family;
    unsigned char b[16];
};

/* One answer: TXT (each record's strings already concatenated), MX
 * exchange names, PTR names in str; A/AAAA addresses in ip. */
struct mw_spf_rrset {
    size_t nstr, nip;
    char **str;
    struct mw_spf_ip *ip;
};

struct mw_spf_dns {
    /* Look name up and fill out (empty on entry). name has no trailing dot
     * and is raw label text joined by '.': it may hold any byte from 0x20
     * to 0xff except '.' inside a label (e.g. "foo:bar/baz.example.com",
     * a space from %_), so a resolver taking presentation format must
     * escape it. An OK answer with no records counts as NODATA. CNAMEs are
     * the resolver's business: answer with the target's records. */
    enum mw_spf_dns_rc (*lookup)(void *ctx, const char *name, enum mw_spf_qtype type,
                                 struct mw_spf_rrset *out);
    void *ctx;
};

struct mw_spf_verdict {
    enum mw_spf_result result;
    char *explanation; /* fail with a usable exp=: the expanded text; else NULL */
    char *mechanism;   /* the term that decided (e.g. "-all"), or NULL */
    char *problem;     /* why temperror/permerror/none, or NULL */
};

/* Add a string (len bytes, may be unterminated) / an address to an rrset.
 * A NUL byte inside a string (never valid in an SPF record or explanation)
 * is stored as 0x7f, equally invalid there, so the string stays a C string
 * and a record holding one still fails to parse instead of being cut. */
void mw_spf_rrset_add_str(struct mw_spf_rrset *rr, const char *s, size_t len);
void mw_spf_rrset_add_ip(struct mw_spf_rrset *rr, const struct mw_spf_ip *ip);
/* Free an rrset's contents and empty it. */
void mw_spf_rrset_clear(struct mw_spf_rrset *rr);

/* Parse a textual IPv4/IPv6 address; 0 on success, -1 if malformed. */
int mw_spf_ip_parse(const char *s, struct mw_spf_ip *ip);

/* RFC 7208 check_host(): ip is the client, domain the one to check (the
 * MAIL FROM domain or the HELO name), sender the MAIL FROM (empty or NULL:
 * postmaster@helo), helo the HELO name, receiver the receiving host's
 * domain for %{r} (NULL: "unknown"). Always fills out (result never
 * undefined); release it with mw_spf_verdict_release(). */
void mw_spf_check_host(const struct mw_spf_dns *dns, const struct mw_spf_ip *ip, const char *domain,
                       const char *sender, const char *helo, const char *receiver,
                       struct mw_spf_verdict *out);
/* Free what a verdict holds. */
void mw_spf_verdict_release(struct mw_spf_verdict *v);
/* "pass", "fail", ... as RFC 7208 spells the result. */
const char *mw_spf_result_name(enum mw_spf_result r);

#endif
