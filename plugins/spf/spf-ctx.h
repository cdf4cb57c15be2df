/*
 * spf-ctx.h - state of one check_host() evaluation and the functions the
 * parts of the native evaluator share: spf-eval.c (records, include,
 * redirect, exp), spf-mech.c (the other mechanisms), spf-names.c (lookups,
 * names, addresses) and spf-macro.c (§7 macros). Internal to plugins/spf
 * (and the fuzz targets): nothing else includes it.
 *
 * All strings are owned by the context and freed by mw_spf_ctx_release().
 * A context belongs to one thread.
 */
#ifndef MW_SPF_CTX_H
#define MW_SPF_CTX_H

#include <time.h>

#include "spf-eval.h"

#define MW_SPF_NAME_MAX 253       /* a domain name, after §7.3 truncation */
#define MW_SPF_EXPAND_MAX 2048    /* an expansion kept (explanations included), a macro value */
#define MW_SPF_EXPAND_TOTAL 65536 /* bytes one expansion may produce */
#define MW_SPF_TERM_LIMIT 10      /* §4.6.4: DNS-querying terms */
#define MW_SPF_VOID_LIMIT 2       /* §4.6.4: void lookups */
#define MW_SPF_NAMES_LIMIT 10     /* §4.6.4: MX names, PTR names */
#define MW_SPF_TIME_LIMIT 20      /* §4.6.4: seconds for one check_host(), then temperror */

/* What a lookup-based mechanism found (spf-mech.c). */
enum mw_spf_match { MW_SPF_NOMATCH, MW_SPF_MATCH, MW_SPF_MATCH_TEMP, MW_SPF_MATCH_PERM };

struct mw_spf_ctx {
    const struct mw_spf_dns *dns;
    struct mw_spf_ip ip; /* the client; an IPv4-mapped IPv6 address is IPv4 */
    char *sender, *local, *sdomain, *helo, *receiver;
    const char *domain;      /* %{d}: the domain of the record being evaluated */
    struct timespec started; /* CLOCK_MONOTONIC at the start */
    int lookups;             /* DNS-querying terms so far */
    int voids;               /* void lookups so far */
    /* The validated names of the client (§5.5), computed once for ptr and
     * %{p}: ptr_state 0 = not yet, 1 = done, 2 = the PTR lookup was void,
     * 3 = it failed. */
    int ptr_state;
    size_t nptr;
    char *ptr[MW_SPF_NAMES_LIMIT];
    char *problem; /* the first reason for temperror/permerror/none */
};

/* spf-names.c */
/* Look name up through the callback; an OK answer without records of the
 * asked kind becomes NODATA. Past MW_SPF_TIME_LIMIT seconds of the
 * evaluation every lookup is TEMP without asking. */
enum mw_spf_dns_rc mw_spf_lookup(struct mw_spf_ctx *ctx, const char *name, enum mw_spf_qtype type,
                                 struct mw_spf_rrset *out);
/* Copy a domain name into out (MW_SPF_NAME_MAX + 1 bytes) the way §7.3 and
 * §4.3 want it for a query: one trailing dot removed, labels cut off the
 * left until it fits 253 octets. 0, or -1 if it is no usable DNS name
 * (empty, an empty or over-long label, a control character). */
int mw_spf_name_prepare(const char *name, size_t len, char *out);
/* Is s (len bytes) a toplabel of the §7.1 ABNF? */
int mw_spf_toplabel_ok(const char *s, size_t len);
/* Does name equal domain or end in "." domain (ASCII case-insensitive)? */
int mw_spf_name_within(const char *name, const char *domain);
/* Does ip fall into net/bits (same family only)? */
int mw_spf_ip_match(const struct mw_spf_ip *ip, const struct mw_spf_ip *net, int bits);
/* The reverse-lookup name of ip (in-addr.arpa / ip6.arpa) into out. */
void mw_spf_reverse_name(const struct mw_spf_ip *ip, char *out, size_t outsz);
/* Record the first problem (what, then a printable, shortened copy of
 * detail[0..dlen)); later ones are dropped. */
void mw_spf_ctx_problem(struct mw_spf_ctx *ctx, const char *what, const char *detail, size_t dlen);
/* Free what a context owns. */
void mw_spf_ctx_release(struct mw_spf_ctx *ctx);

/* spf-mech.c */
/* Evaluate a, mx, ptr, exists, ip4, ip6 or all (term kinds from
 * spf-record.h) for the current domain; counts lookups and voids. */
struct mw_spf_term;
enum mw_spf_match mw_spf_mech_match(struct mw_spf_ctx *ctx, const struct mw_spf_term *t);
/* Expand a term's domain-spec (or take the current domain) and prepare it
 * for a query into out (MW_SPF_NAME_MAX + 1 bytes): 1 ready, 0 no usable
 * name (the mechanism does not match), -1 expansion failed (permerror). */
int mw_spf_target(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, char *out);
/* Count one DNS-querying term; -1 (and the problem noted) over the limit. */
int mw_spf_count_lookup(struct mw_spf_ctx *ctx, const struct mw_spf_term *t);
/* %{p}: the validated name of the client that is the current domain, else
 * one within it, else any, else "unknown", into out. */
void mw_spf_validated_ptr(struct mw_spf_ctx *ctx, char *out, size_t outsz);

/* spf-macro.c */
/* Check the syntax of a macro-string (exp = 0) or explain-string (exp = 1)
 * s[0..len); *ends_in_macro (may be NULL) tells whether its last token is
 * a macro-expand (for domain-end). 0, or -1 on a syntax error. */
int mw_spf_macro_check(const char *s, size_t len, int exp, int *ends_in_macro);
/* Expand it into out (NUL-terminated, at most outsz bytes). 0, or -1 on a
 * syntax error, a macro value over MW_SPF_EXPAND_MAX - 1 bytes, or when the
 * result does not fit (never a silent cut). */
int mw_spf_macro_expand(struct mw_spf_ctx *ctx, const char *s, size_t len, int exp, char *out,
                        size_t outsz);
/* The same for a domain-spec whose result is a name to query: when the
 * result does not fit, only its right part is kept (at least outsz / 2
 * bytes; outsz must be at least 2 * (MW_SPF_NAME_MAX + 2)), which §7.3's
 * left truncation (mw_spf_name_prepare) then cuts to a whole name. Fails
 * on a syntax error, an over-long macro value or more than
 * MW_SPF_EXPAND_TOTAL bytes of output. */
int mw_spf_macro_expand_name(struct mw_spf_ctx *ctx, const char *s, size_t len, char *out,
                             size_t outsz);

#endif
