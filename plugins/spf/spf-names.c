/*
 * spf-names.c - the DNS side of the native SPF evaluator: answer sets
 * (mw_spf_rrset_*), the lookup wrapper, domain names as RFC 7208 wants them
 * for a query (§4.3, §7.3), addresses and CIDR matching, reverse names, and
 * the context's problem note. Nothing here trusts what a lookup returned:
 * names are re-checked before use, addresses are matched by family.
 *
 * mw_spf_rrset_add_* copy their input; mw_spf_rrset_clear() frees it.
 * Thread-safe (no shared state).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "mw/alloc.h"
#include "spf-ctx.h"

void
mw_spf_rrset_add_str(struct mw_spf_rrset *rr, const char *s, size_t len)
{
    char *copy;

    if (len == SIZE_MAX)
        len--; /* keeps len + 1 from wrapping; no answer is that long */
    copy = mw_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        copy[i] = s[i] ? s[i] : 0x7f;
    copy[len] = '\0';
    rr->str = mw_reallocarray(rr->str, rr->nstr + 1, sizeof(*rr->str));
    rr->str[rr->nstr++] = copy;
}

void
mw_spf_rrset_add_ip(struct mw_spf_rrset *rr, const struct mw_spf_ip *ip)
{
    rr->ip = mw_reallocarray(rr->ip, rr->nip + 1, sizeof(*rr->ip));
    rr->ip[rr->nip++] = *ip;
}

void
mw_spf_rrset_clear(struct mw_spf_rrset *rr)
{
    for (size_t i = 0; i < rr->nstr; i++)
        mw_free(&rr->str[i]);
    mw_free(&rr->str);
    mw_free(&rr->ip);
    rr->nstr = rr->nip = 0;
}

int
mw_spf_ip_parse(const char *s, struct mw_spf_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    if (inet_pton(AF_INET, s, ip->b) == 1) {
        ip->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, ip->b) == 1) {
        ip->family = AF_INET6;
        return 0;
    }
    return -1;
}

/* Seconds since the evaluation started (CLOCK_MONOTONIC). */
static double
elapsed(const struct mw_spf_ctx *ctx)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - ctx->started.tv_sec) +
           (double)(now.tv_nsec - ctx->started.tv_nsec) / 1e9;
}

enum mw_spf_dns_rc
mw_spf_lookup(struct mw_spf_ctx *ctx, const char *name, enum mw_spf_qtype type,
              struct mw_spf_rrset *out)
{
    enum mw_spf_dns_rc rc;
    int want = type == MW_SPF_A ? AF_INET : type == MW_SPF_AAAA ? AF_INET6 : 0;
    size_t keep = 0;

    memset(out, 0, sizeof(*out));
    if (elapsed(ctx) > MW_SPF_TIME_LIMIT) {
        mw_spf_ctx_problem(ctx, "time limit of check_host() exceeded before looking up", name,
                           strlen(name));
        return MW_SPF_DNS_TEMP;
    }
    rc = ctx->dns->lookup(ctx->dns->ctx, name, type, out);
    if (rc != MW_SPF_DNS_OK) {
        mw_spf_rrset_clear(out);
        return rc == MW_SPF_DNS_NXDOMAIN || rc == MW_SPF_DNS_NODATA ? rc : MW_SPF_DNS_TEMP;
    }
    if (want) {
        /* Keep only addresses of the family asked for. */
        for (size_t i = 0; i < out->nip; i++)
            if (out->ip[i].family == want)
                out->ip[keep++] = out->ip[i];
        out->nip = keep;
        if (keep == 0) {
            mw_spf_rrset_clear(out);
            return MW_SPF_DNS_NODATA;
        }
    } else if (out->nstr == 0) {
        mw_spf_rrset_clear(out);
        return MW_SPF_DNS_NODATA;
    }
    return MW_SPF_DNS_OK;
}

int
mw_spf_name_prepare(const char *name, size_t len, char *out)
{
    size_t label = 0;

    if (len > 0 && name[len - 1] == '.')
        len--;
    /* §7.3: remove whole labels from the left until it fits. */
    while (len > MW_SPF_NAME_MAX) {
        const char *dot = memchr(name, '.', len);
        if (!dot)
            return -1;
        len -= (size_t)(dot + 1 - name);
        name = dot + 1;
    }
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return -1;
        if (c != '.') {
            if (++label > 63)
                return -1;
            continue;
        }
        if (label == 0)
            return -1;
        label = 0;
    }
    memcpy(out, name, len);
    out[len] = '\0';
    return 0;
}

int
mw_spf_toplabel_ok(const char *s, size_t n)
{
    int alpha = 0, dash = 0;

    if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '-')
            dash = 1;
        else if (isalpha(c))
            alpha = 1;
        else if (!isdigit(c))
            return 0;
    }
    /* ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
    return alpha || dash;
}

int
mw_spf_name_within(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (d > 0 && domain[d - 1] == '.')
        d--;
    if (d == 0 || n < d || strncasecmp(name + n - d, domain, d) != 0)
        return 0;
    return n == d || name[n - d - 1] == '.';
}

int
mw_spf_ip_match(const struct mw_spf_ip *ip, const struct mw_spf_ip *net, int bits)
{
    int full = bits / 8, rest = bits % 8;

    if (ip->family != net->family || bits < 0 || bits > (ip->family == AF_INET ? 32 : 128))
        return 0;
    if (memcmp(ip->b, net->b, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((ip->b[full] ^ net->b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

void
mw_spf_reverse_name(const struct mw_spf_ip *ip, char *out, size_t outsz)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    if (ip->family == AF_INET) {
        snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", ip->b[3], ip->b[2], ip->b[1], ip->b[0]);
        return;
    }
    for (int i = 15; i >= 0 && n + 4 < outsz; i--) {
        out[n++] = hex[ip->b[i] & 15];
        out[n++] = '.';
        out[n++] = hex[ip->b[i] >> 4];
        out[n++] = '.';
    }
    snprintf(out + n, outsz - n, "ip6.arpa");
}

void
mw_spf_ctx_problem(struct mw_spf_ctx *ctx, const char *what, const char *detail, size_t dlen)
{
    char buf[256], shown[96];
    size_t n = 0;

    if (ctx->problem)
        return;
    for (size_t i = 0; detail && i < dlen && n + 4 < sizeof(shown); i++) {
        unsigned char c = (unsigned char)detail[i];
        shown[n++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    if (detail && n < dlen) {
        memcpy(shown + n, "...", 3);
        n += 3;
    }
    shown[n] = '\0';
    if (detail)
        snprintf(buf, sizeof(buf), "%s '%s'", what, shown);
    else
        snprintf(buf, sizeof(buf), "%s", what);
    ctx->problem = mw_strdup(buf);
}

void
mw_spf_ctx_release(struct mw_spf_ctx *ctx)
{
    mw_free(&ctx->sender);
    mw_free(&ctx->local);
    mw_free(&ctx->sdomain);
    mw_free(&ctx->helo);
    mw_free(&ctx->receiver);
    for (size_t i = 0; i < ctx->nptr; i++)
        mw_free(&ctx->ptr[i]);
    ctx->nptr = 0;
    mw_free(&ctx->problem);
}
