/*
 * spf-mech.c - the mechanisms of RFC 7208 §5 other than include (which
 * recurses and lives in spf-eval.c): all, a, mx, ptr, ip4, ip6, exists,
 * and the validated client names behind ptr and %{p}.
 *
 * mw_spf_mech_match() answers match / no match / temperror / permerror for
 * one term in the current domain. It counts the term against the limit of
 * 10 DNS-querying terms and every void lookup (NXDOMAIN or no data for
 * the term's own query) against the limit of 2 (§4.6.4). An mx answer of
 * more than 10 names is a permerror; of the client's PTR names only the
 * first 10 are looked at; an address lookup that fails while validating a
 * PTR name skips that name (§5.5). A target name that is no usable DNS
 * name after expansion (an empty or over-long label) does not match.
 *
 * The validated names are computed once per evaluation and kept in the
 * context. Thread-safe (state lives in the caller's context).
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mw/alloc.h"
#include "spf-ctx.h"
#include "spf-record.h"

int
mw_spf_count_lookup(struct mw_spf_ctx *ctx, const struct mw_spf_term *t)
{
    if (++ctx->lookups <= MW_SPF_TERM_LIMIT)
        return 0;
    mw_spf_ctx_problem(ctx, "more than 10 DNS-querying terms, at", t->text, t->tlen);
    return -1;
}

/* A void lookup for term t; -1 (permerror) past the limit. */
static int
count_void(struct mw_spf_ctx *ctx, const struct mw_spf_term *t)
{
    if (++ctx->voids <= MW_SPF_VOID_LIMIT)
        return 0;
    mw_spf_ctx_problem(ctx, "more than 2 void lookups, at", t->text, t->tlen);
    return -1;
}

int
mw_spf_target(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, char *out)
{
    char buf[MW_SPF_EXPAND_MAX];

    if (!t->arg)
        return mw_spf_name_prepare(ctx->domain, strlen(ctx->domain), out) < 0 ? 0 : 1;
    if (mw_spf_macro_expand_name(ctx, t->arg, t->alen, buf, sizeof(buf)) < 0) {
        mw_spf_ctx_problem(ctx, "macro expansion failed in", t->text, t->tlen);
        return -1;
    }
    return mw_spf_name_prepare(buf, strlen(buf), out) < 0 ? 0 : 1;
}

static enum mw_spf_qtype
addr_type(const struct mw_spf_ctx *ctx)
{
    return ctx->ip.family == AF_INET ? MW_SPF_A : MW_SPF_AAAA;
}

/* Does any address of rr match the client within the term's CIDR? */
static int
any_addr_matches(const struct mw_spf_ctx *ctx, const struct mw_spf_rrset *rr,
                 const struct mw_spf_term *t)
{
    int bits = ctx->ip.family == AF_INET ? t->c4 : t->c6;

    for (size_t i = 0; i < rr->nip; i++)
        if (mw_spf_ip_match(&ctx->ip, &rr->ip[i], bits))
            return 1;
    return 0;
}

/* The lookup of a term's own query: MATCH means "records found". */
static enum mw_spf_match
term_lookup(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, const char *name,
            enum mw_spf_qtype type, struct mw_spf_rrset *rr)
{
    switch (mw_spf_lookup(ctx, name, type, rr)) {
    case MW_SPF_DNS_OK:
        return MW_SPF_MATCH;
    case MW_SPF_DNS_TEMP:
        mw_spf_ctx_problem(ctx, "DNS lookup failed for", name, strlen(name));
        return MW_SPF_MATCH_TEMP;
    default:
        return count_void(ctx, t) < 0 ? MW_SPF_MATCH_PERM : MW_SPF_NOMATCH;
    }
}

static enum mw_spf_match
match_a(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, const char *name)
{
    struct mw_spf_rrset rr;
    enum mw_spf_match m = term_lookup(ctx, t, name, addr_type(ctx), &rr);

    if (m == MW_SPF_MATCH && !any_addr_matches(ctx, &rr, t))
        m = MW_SPF_NOMATCH;
    mw_spf_rrset_clear(&rr);
    return m;
}

/* One MX name: its addresses (a DNS error is temperror, §5). */
static enum mw_spf_match
match_mx_host(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, const char *host)
{
    char name[MW_SPF_NAME_MAX + 1];
    struct mw_spf_rrset rr;
    enum mw_spf_match m = MW_SPF_NOMATCH;

    if (mw_spf_name_prepare(host, strlen(host), name) < 0)
        return MW_SPF_NOMATCH; /* "." (null MX, RFC 7505) or garbage */
    switch (mw_spf_lookup(ctx, name, addr_type(ctx), &rr)) {
    case MW_SPF_DNS_OK:
        m = any_addr_matches(ctx, &rr, t) ? MW_SPF_MATCH : MW_SPF_NOMATCH;
        break;
    case MW_SPF_DNS_TEMP:
        mw_spf_ctx_problem(ctx, "DNS lookup failed for MX host", name, strlen(name));
        m = MW_SPF_MATCH_TEMP;
        break;
    default:
        break;
    }
    mw_spf_rrset_clear(&rr);
    return m;
}

static enum mw_spf_match
match_mx(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, const char *name)
{
    struct mw_spf_rrset rr;
    enum mw_spf_match m = term_lookup(ctx, t, name, MW_SPF_MX, &rr);

    if (m != MW_SPF_MATCH)
        return m;
    if (rr.nstr > MW_SPF_NAMES_LIMIT) {
        mw_spf_ctx_problem(ctx, "more than 10 MX names for", name, strlen(name));
        m = MW_SPF_MATCH_PERM;
    } else {
        m = MW_SPF_NOMATCH;
        for (size_t i = 0; i < rr.nstr && m == MW_SPF_NOMATCH; i++)
            m = match_mx_host(ctx, t, rr.str[i]);
    }
    mw_spf_rrset_clear(&rr);
    return m;
}

/* Is one PTR name validated: does it lead back to the client? */
static int
ptr_validates(struct mw_spf_ctx *ctx, const char *host, char *name)
{
    struct mw_spf_rrset rr;
    int ok = 0;

    if (mw_spf_name_prepare(host, strlen(host), name) < 0)
        return 0;
    if (mw_spf_lookup(ctx, name, addr_type(ctx), &rr) == MW_SPF_DNS_OK)
        for (size_t i = 0; i < rr.nip && !ok; i++)
            ok = mw_spf_ip_match(&ctx->ip, &rr.ip[i], ctx->ip.family == AF_INET ? 32 : 128);
    mw_spf_rrset_clear(&rr);
    return ok;
}

/* Fill ctx->ptr with the validated names (§5.5), once. */
static void
validate_ptrs(struct mw_spf_ctx *ctx)
{
    char rev[80], name[MW_SPF_NAME_MAX + 1];
    struct mw_spf_rrset rr;
    enum mw_spf_dns_rc rc;

    if (ctx->ptr_state)
        return;
    mw_spf_reverse_name(&ctx->ip, rev, sizeof(rev));
    rc = mw_spf_lookup(ctx, rev, MW_SPF_PTR, &rr);
    ctx->ptr_state = rc == MW_SPF_DNS_OK ? 1 : rc == MW_SPF_DNS_TEMP ? 3 : 2;
    for (size_t i = 0; i < rr.nstr && i < MW_SPF_NAMES_LIMIT; i++)
        if (ptr_validates(ctx, rr.str[i], name))
            ctx->ptr[ctx->nptr++] = mw_strdup(name);
    mw_spf_rrset_clear(&rr);
}

static enum mw_spf_match
match_ptr(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, const char *target)
{
    validate_ptrs(ctx);
    if (ctx->ptr_state == 2 && count_void(ctx, t) < 0)
        return MW_SPF_MATCH_PERM;
    for (size_t i = 0; i < ctx->nptr; i++)
        if (mw_spf_name_within(ctx->ptr[i], target))
            return MW_SPF_MATCH;
    return MW_SPF_NOMATCH; /* also when the PTR lookup failed (§5.5) */
}

void
mw_spf_validated_ptr(struct mw_spf_ctx *ctx, char *out, size_t outsz)
{
    const char *best = NULL;

    validate_ptrs(ctx);
    for (size_t i = 0; i < ctx->nptr && !best; i++)
        if (strcasecmp(ctx->ptr[i], ctx->domain) == 0)
            best = ctx->ptr[i];
    for (size_t i = 0; i < ctx->nptr && !best; i++)
        if (mw_spf_name_within(ctx->ptr[i], ctx->domain))
            best = ctx->ptr[i];
    if (!best)
        best = ctx->nptr ? ctx->ptr[0] : "unknown";
    snprintf(out, outsz, "%s", best); /* names are at most 253 octets */
}

static enum mw_spf_match
match_exists(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, const char *name)
{
    struct mw_spf_rrset rr;
    enum mw_spf_match m = term_lookup(ctx, t, name, MW_SPF_A, &rr);

    mw_spf_rrset_clear(&rr);
    return m;
}

static enum mw_spf_match
match_ip(const struct mw_spf_ctx *ctx, const struct mw_spf_term *t)
{
    int bits = t->kind == MW_SPF_IP4 ? t->c4 : t->c6;

    return mw_spf_ip_match(&ctx->ip, &t->ip, bits) ? MW_SPF_MATCH : MW_SPF_NOMATCH;
}

enum mw_spf_match
mw_spf_mech_match(struct mw_spf_ctx *ctx, const struct mw_spf_term *t)
{
    char name[MW_SPF_NAME_MAX + 1];
    int r;

    switch (t->kind) {
    case MW_SPF_ALL:
        return MW_SPF_MATCH;
    case MW_SPF_IP4:
    case MW_SPF_IP6:
        return match_ip(ctx, t);
    case MW_SPF_A_MECH:
    case MW_SPF_MX_MECH:
    case MW_SPF_PTR_MECH:
    case MW_SPF_EXISTS:
        break;
    default:
        return MW_SPF_MATCH_PERM; /* include/modifiers never get here */
    }
    if (mw_spf_count_lookup(ctx, t) < 0 || (r = mw_spf_target(ctx, t, name)) < 0)
        return MW_SPF_MATCH_PERM;
    if (r == 0)
        return MW_SPF_NOMATCH;
    switch (t->kind) {
    case MW_SPF_A_MECH:
        return match_a(ctx, t, name);
    case MW_SPF_MX_MECH:
        return match_mx(ctx, t, name);
    case MW_SPF_PTR_MECH:
        return match_ptr(ctx, t, name);
    default:
        return match_exists(ctx, t, name);
    }
}
