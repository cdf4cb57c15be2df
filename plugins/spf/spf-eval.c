/*
 * spf-eval.c - check_host() of RFC 7208 for the native evaluator: initial
 * processing (§4.3), record lookup and selection (§4.4, §4.5), evaluation
 * of the terms left to right (§4.6), include (§5.2), redirect after all
 * mechanisms (§6.1) and exp= for a fail (§6.2).
 *
 * check_domain() is the recursive check_host(): include and redirect call
 * it again, and each of them first counts against the limit of 10
 * DNS-querying terms, so the depth is bounded by that limit. An include's
 * verdict only says match or not (its exp= and deciding term are never
 * used); a redirect hands over the whole verdict, including the exp= of
 * the record redirected to (the original record's exp= is not used).
 *
 * The verdict's strings are mw_strdup()ed; mw_spf_verdict_release() frees
 * them. Thread-safe: all state lives in a per-call context.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "mw/alloc.h"
#include "spf-ctx.h"
#include "spf-record.h"

static enum mw_spf_result check_domain(struct mw_spf_ctx *ctx, const char *domain,
                                       struct mw_spf_verdict *out);

const char *
mw_spf_result_name(enum mw_spf_result r)
{
    switch (r) {
    case MW_SPF_NONE:
        return "none";
    case MW_SPF_NEUTRAL:
        return "neutral";
    case MW_SPF_PASS:
        return "pass";
    case MW_SPF_FAIL:
        return "fail";
    case MW_SPF_SOFTFAIL:
        return "softfail";
    case MW_SPF_TEMPERROR:
        return "temperror";
    case MW_SPF_PERMERROR:
        return "permerror";
    }
    return "permerror";
}

void
mw_spf_verdict_release(struct mw_spf_verdict *v)
{
    mw_free(&v->explanation);
    mw_free(&v->mechanism);
    mw_free(&v->problem);
}

static enum mw_spf_result
qualifier_result(char q)
{
    switch (q) {
    case '-':
        return MW_SPF_FAIL;
    case '~':
        return MW_SPF_SOFTFAIL;
    case '?':
        return MW_SPF_NEUTRAL;
    default:
        return MW_SPF_PASS;
    }
}

/* §6.2: the explanation of the record's exp=, or nothing if anything about
 * it goes wrong (macro, name, DNS, not exactly one TXT record, bad text). */
static void
explain(struct mw_spf_ctx *ctx, const struct mw_spf_record *rec, struct mw_spf_verdict *out)
{
    char name[MW_SPF_NAME_MAX + 1], text[MW_SPF_EXPAND_MAX];
    struct mw_spf_rrset rr;

    if (!rec->exp || mw_spf_target(ctx, rec->exp, name) != 1)
        return;
    if (mw_spf_lookup(ctx, name, MW_SPF_TXT, &rr) == MW_SPF_DNS_OK && rr.nstr == 1 &&
        mw_spf_macro_expand(ctx, rr.str[0], strlen(rr.str[0]), 1, text, sizeof(text)) == 0)
        out->explanation = mw_strdup(text);
    mw_spf_rrset_clear(&rr);
}

/* include: match if the included domain passes (§5.2). */
static enum mw_spf_match
match_include(struct mw_spf_ctx *ctx, const struct mw_spf_term *t)
{
    char name[MW_SPF_NAME_MAX + 1];
    const char *saved = ctx->domain;
    enum mw_spf_result r;
    int ready;

    if (mw_spf_count_lookup(ctx, t) < 0 || (ready = mw_spf_target(ctx, t, name)) < 0)
        return MW_SPF_MATCH_PERM;
    r = ready ? check_domain(ctx, name, NULL) : MW_SPF_NONE;
    ctx->domain = saved;
    switch (r) {
    case MW_SPF_PASS:
        return MW_SPF_MATCH;
    case MW_SPF_FAIL:
    case MW_SPF_SOFTFAIL:
    case MW_SPF_NEUTRAL:
        return MW_SPF_NOMATCH;
    case MW_SPF_TEMPERROR:
        return MW_SPF_MATCH_TEMP;
    case MW_SPF_NONE:
        mw_spf_ctx_problem(ctx, "no SPF record to include at", t->text, t->tlen);
        return MW_SPF_MATCH_PERM;
    default:
        return MW_SPF_MATCH_PERM;
    }
}

/* redirect= (§6.1), after no mechanism matched. */
static enum mw_spf_result
follow_redirect(struct mw_spf_ctx *ctx, const struct mw_spf_term *t, struct mw_spf_verdict *out)
{
    char name[MW_SPF_NAME_MAX + 1];
    enum mw_spf_result r;
    int ready;

    if (mw_spf_count_lookup(ctx, t) < 0 || (ready = mw_spf_target(ctx, t, name)) < 0)
        return MW_SPF_PERMERROR;
    r = ready ? check_domain(ctx, name, out) : MW_SPF_NONE;
    if (r != MW_SPF_NONE)
        return r;
    mw_spf_ctx_problem(ctx, "no SPF record to redirect to at", t->text, t->tlen);
    return MW_SPF_PERMERROR;
}

static void
set_mechanism(struct mw_spf_verdict *out, const struct mw_spf_term *t)
{
    if (out && !out->mechanism)
        out->mechanism = mw_strndup(t->text, t->tlen);
}

/* §4.6: the mechanisms left to right, then redirect, else neutral. out is
 * NULL inside an include (no explanation, no deciding term). */
static enum mw_spf_result
eval_record(struct mw_spf_ctx *ctx, const struct mw_spf_record *rec, struct mw_spf_verdict *out)
{
    for (size_t i = 0; i < rec->n; i++) {
        const struct mw_spf_term *t = &rec->terms[i];
        enum mw_spf_match m;
        enum mw_spf_result r;

        if (t->kind == MW_SPF_REDIRECT || t->kind == MW_SPF_EXP || t->kind == MW_SPF_MODIFIER)
            continue;
        m = t->kind == MW_SPF_INCLUDE ? match_include(ctx, t) : mw_spf_mech_match(ctx, t);
        if (m == MW_SPF_NOMATCH)
            continue;
        set_mechanism(out, t);
        if (m == MW_SPF_MATCH_TEMP)
            return MW_SPF_TEMPERROR;
        if (m == MW_SPF_MATCH_PERM)
            return MW_SPF_PERMERROR;
        r = qualifier_result(t->qual);
        if (r == MW_SPF_FAIL && out)
            explain(ctx, rec, out);
        return r;
    }
    if (rec->redirect)
        return follow_redirect(ctx, rec->redirect, out);
    return MW_SPF_NEUTRAL;
}

/* §4.3: a domain check_host() can work on: a usable DNS name of more than
 * one label whose last label is a toplabel (no address literal). */
static int
domain_ok(const char *domain, char *name)
{
    size_t len = strlen(domain);
    const char *dot;

    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (len == 0 || domain[len - 1] == '.' || len > MW_SPF_NAME_MAX ||
        mw_spf_name_prepare(domain, len, name) < 0)
        return 0;
    dot = strrchr(name, '.');
    return dot && mw_spf_toplabel_ok(dot + 1, strlen(dot + 1));
}

/* §4.4, §4.5: the one SPF record of name, parsed into rec: 0, or -1 with
 * *r set to none, temperror or permerror. */
static int
fetch_record(struct mw_spf_ctx *ctx, const char *name, struct mw_spf_record *rec,
             enum mw_spf_result *r)
{
    struct mw_spf_rrset rr;
    enum mw_spf_dns_rc rc = mw_spf_lookup(ctx, name, MW_SPF_TXT, &rr);
    const char *txt = NULL;
    int n = 0, found = 0;

    for (size_t i = 0; rc == MW_SPF_DNS_OK && i < rr.nstr; i++)
        if (mw_spf_record_is_spf(rr.str[i]) && n++ == 0)
            txt = rr.str[i];
    if (rc == MW_SPF_DNS_TEMP) {
        mw_spf_ctx_problem(ctx, "DNS lookup of the SPF record failed for", name, strlen(name));
        *r = MW_SPF_TEMPERROR;
    } else if (n == 0) {
        mw_spf_ctx_problem(ctx, "no SPF record at", name, strlen(name));
        *r = MW_SPF_NONE;
    } else if (n > 1) {
        mw_spf_ctx_problem(ctx, "more than one SPF record at", name, strlen(name));
        *r = MW_SPF_PERMERROR;
    } else if (mw_spf_record_parse(rec, txt) < 0) {
        if (rec->bad)
            mw_spf_ctx_problem(ctx, "syntax error in the SPF record at term", rec->bad,
                               rec->badlen);
        else
            mw_spf_ctx_problem(ctx, "invalid character in the SPF record of", name, strlen(name));
        *r = MW_SPF_PERMERROR;
    } else {
        found = 1;
    }
    mw_spf_rrset_clear(&rr);
    return found ? 0 : -1;
}

static enum mw_spf_result
check_domain(struct mw_spf_ctx *ctx, const char *domain, struct mw_spf_verdict *out)
{
    char name[MW_SPF_NAME_MAX + 1];
    struct mw_spf_record rec;
    enum mw_spf_result r;

    if (!domain_ok(domain, name)) {
        mw_spf_ctx_problem(ctx, "not a domain SPF can check:", domain, strlen(domain));
        return MW_SPF_NONE;
    }
    memset(&rec, 0, sizeof(rec));
    if (fetch_record(ctx, name, &rec, &r) == 0) {
        ctx->domain = name;
        r = eval_record(ctx, &rec, out);
        ctx->domain = NULL; /* name is about to go out of scope */
    }
    mw_spf_record_release(&rec);
    return r;
}

/* Fill the context's sender parts (§4.3): no sender means postmaster@helo,
 * no local-part means "postmaster". */
static void
set_sender(struct mw_spf_ctx *ctx, const char *sender)
{
    const char *at;

    if (!sender || !*sender) {
        size_t n = strlen(ctx->helo) + sizeof("postmaster@");
        ctx->sender = mw_malloc(n);
        memcpy(ctx->sender, "postmaster@", sizeof("postmaster@") - 1);
        memcpy(ctx->sender + sizeof("postmaster@") - 1, ctx->helo, strlen(ctx->helo) + 1);
    } else {
        ctx->sender = mw_strdup(sender);
    }
    at = strrchr(ctx->sender, '@');
    if (!at) {
        ctx->local = mw_strdup("postmaster");
        ctx->sdomain = mw_strdup(ctx->sender);
        return;
    }
    ctx->local = at == ctx->sender ? mw_strdup("postmaster")
                                   : mw_strndup(ctx->sender, (size_t)(at - ctx->sender));
    ctx->sdomain = mw_strdup(at + 1);
}

/* The client address as SPF sees it: IPv4-mapped IPv6 is IPv4 (§5). */
static int
set_client(struct mw_spf_ctx *ctx, const struct mw_spf_ip *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(&ctx->ip, 0, sizeof(ctx->ip));
    if (ip->family == AF_INET) {
        ctx->ip.family = AF_INET;
        memcpy(ctx->ip.b, ip->b, 4);
    } else if (ip->family == AF_INET6 && memcmp(ip->b, mapped, sizeof(mapped)) == 0) {
        ctx->ip.family = AF_INET;
        memcpy(ctx->ip.b, ip->b + 12, 4);
    } else if (ip->family == AF_INET6) {
        ctx->ip = *ip;
    } else {
        return -1;
    }
    return 0;
}

void
mw_spf_check_host(const struct mw_spf_dns *dns, const struct mw_spf_ip *ip, const char *domain,
                  const char *sender, const char *helo, const char *receiver,
                  struct mw_spf_verdict *out)
{
    struct mw_spf_ctx ctx;

    memset(out, 0, sizeof(*out));
    memset(&ctx, 0, sizeof(ctx));
    if (!dns || !dns->lookup || !ip || !domain || set_client(&ctx, ip) < 0) {
        out->result = MW_SPF_TEMPERROR;
        out->problem = mw_strdup("check_host() called without a resolver, client or domain");
        return;
    }
    ctx.dns = dns;
    clock_gettime(CLOCK_MONOTONIC, &ctx.started);
    ctx.helo = mw_strdup(helo ? helo : "");
    ctx.receiver = receiver ? mw_strdup(receiver) : NULL;
    set_sender(&ctx, sender);
    out->result = check_domain(&ctx, domain, out);
    if (out->result == MW_SPF_NONE || out->result == MW_SPF_TEMPERROR ||
        out->result == MW_SPF_PERMERROR) {
        out->problem = ctx.problem;
        ctx.problem = NULL;
    }
    if (out->result != MW_SPF_FAIL)
        mw_free(&out->explanation);
    mw_spf_ctx_release(&ctx);
}
