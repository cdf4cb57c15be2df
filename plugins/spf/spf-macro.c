/*
 * spf-macro.c - RFC 7208 §7 macros for the native SPF evaluator.
 *
 * mw_spf_macro_check() checks a macro-string (or an explain-string, which
 * also allows SP and the letters c, r, t) with strict syntax: an unknown
 * letter, a zero digit transformer, a '%' not followed by '{', '%', '_' or
 * '-', an unclosed '{' or a byte outside %x21-7E is an error. The record
 * parser uses it so that a bad macro anywhere in a record is a permerror
 * whether the term is reached or not.
 *
 * mw_spf_macro_expand() expands with the values of one evaluation (the
 * context): transformers split on the delimiters, reverse, keep the
 * rightmost parts and join with '.'; an upper-case letter URL-escapes the
 * result (RFC 3986 unreserved characters stay, the rest become %XX with
 * upper-case hex). Output is bounded by the caller's buffer: overflow is an
 * error, never a silent cut, except for mw_spf_macro_expand_name(): a name
 * for a query loses its left part anyway (§7.3), so there only the right
 * part is kept (at least half the buffer, always more than a name's 253
 * octets); the left truncation itself is mw_spf_name_prepare()'s. Either
 * way an expansion producing more than MW_SPF_EXPAND_TOTAL bytes fails,
 * which bounds the work a hostile record can cause. %{i} of an IPv6 client is the dotted nibble
 * form in upper-case hex, as the RFC 7208 test suite's reference
 * implementation writes it (DNS does not care about the case; explanations
 * compared with the suite do). No allocation; thread-safe.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "spf-ctx.h"

_Static_assert(MW_SPF_EXPAND_MAX < UINT16_MAX, "part offsets are 16 bits");

/* One parsed "%{" letter transformers delimiters "}". */
struct macro {
    int letter; /* lower case */
    int upper;  /* URL-escape the result */
    int rev;
    unsigned keep; /* rightmost parts to keep; 0: all */
    char delims[8];
};

struct out {
    char *p;
    size_t len, cap;
    size_t total; /* bytes produced, kept or not */
    int tail;     /* when full, drop the oldest half instead of failing */
};

static int
put(struct out *o, const char *s, size_t n)
{
    if (n > MW_SPF_EXPAND_TOTAL - o->total)
        return -1;
    o->total += n;
    if (n < o->cap - o->len) {
        memcpy(o->p + o->len, s, n);
        o->len += n;
        o->p[o->len] = '\0';
        return 0;
    }
    if (!o->tail)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (o->len + 1 >= o->cap) {
            size_t keep = o->cap / 2;
            memmove(o->p, o->p + o->len - keep, keep);
            o->len = keep;
        }
        o->p[o->len++] = s[i];
    }
    o->p[o->len] = '\0';
    return 0;
}

/* Parse "{...}" at s[*i] (just after the '%') into m; advance *i. */
static int
parse_macro(const char *s, size_t len, size_t *i, int exp, struct macro *m)
{
    size_t j = *i + 1, nd = 0;
    int c;

    memset(m, 0, sizeof(*m));
    if (j >= len)
        return -1;
    c = (unsigned char)s[j++];
    m->upper = c >= 'A' && c <= 'Z';
    if (m->upper)
        c += 'a' - 'A';
    if (c == '\0' || !strchr(exp ? "slodiphvcrt" : "slodiphv", c))
        return -1;
    m->letter = c;
    if (j < len && s[j] >= '0' && s[j] <= '9') {
        while (j < len && s[j] >= '0' && s[j] <= '9') {
            m->keep = m->keep * 10 + (unsigned)(s[j++] - '0');
            if (m->keep > MW_SPF_EXPAND_MAX)
                m->keep = MW_SPF_EXPAND_MAX; /* more parts than any value has */
        }
        if (m->keep == 0)
            return -1;
    }
    if (j < len && (s[j] == 'r' || s[j] == 'R')) {
        m->rev = 1;
        j++;
    }
    while (j < len && s[j] != '\0' && strchr(".-+,/_=", s[j])) {
        if (!memchr(m->delims, s[j], nd))
            m->delims[nd++] = s[j];
        j++;
    }
    if (j >= len || s[j] != '}')
        return -1;
    *i = j + 1;
    return 0;
}

/* The next token at s[*i]: a literal byte (*lit, *litlen), or a macro
 * (m->letter set). Returns 1 for a macro-expand (%{..}, %%, %_, %-), 0 for
 * a macro-literal, -1 on a syntax error. */
static int
next_token(const char *s, size_t len, size_t *i, int exp, struct macro *m, const char **lit,
           size_t *litlen)
{
    unsigned char c = (unsigned char)s[*i];

    m->letter = 0;
    if (c != '%') {
        if ((c < 0x21 || c > 0x7e) && !(exp && c == ' '))
            return -1;
        *lit = s + *i, *litlen = 1;
        (*i)++;
        return 0;
    }
    if (*i + 1 >= len)
        return -1;
    switch (s[*i + 1]) {
    case '%':
        *lit = "%", *litlen = 1;
        break;
    case '_':
        *lit = " ", *litlen = 1;
        break;
    case '-':
        *lit = "%20", *litlen = 3;
        break;
    case '{':
        (*i)++;
        return parse_macro(s, len, i, exp, m) < 0 ? -1 : 1;
    default:
        return -1;
    }
    *i += 2;
    return 1;
}

int
mw_spf_macro_check(const char *s, size_t len, int exp, int *ends_in_macro)
{
    struct macro m;
    const char *lit;
    size_t i = 0, litlen;
    int kind = 0;

    while (i < len)
        if ((kind = next_token(s, len, &i, exp, &m, &lit, &litlen)) < 0)
            return -1;
    if (ends_in_macro)
        *ends_in_macro = kind == 1;
    return 0;
}

static int
ip_text(const struct mw_spf_ip *ip, int nibbles, char *buf, size_t sz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    if (ip->family == AF_INET)
        return inet_ntop(AF_INET, ip->b, buf, (socklen_t)sz) ? 0 : -1;
    if (!nibbles)
        return inet_ntop(AF_INET6, ip->b, buf, (socklen_t)sz) ? 0 : -1;
    if (sz < 64)
        return -1;
    for (int i = 0; i < 16; i++) {
        buf[n++] = hex[ip->b[i] >> 4];
        buf[n++] = '.';
        buf[n++] = hex[ip->b[i] & 15];
        buf[n++] = '.';
    }
    buf[n - 1] = '\0';
    return 0;
}

/* The raw value of a macro letter into val; -1 if it does not fit. */
static int
letter_value(struct mw_spf_ctx *ctx, int c, char *val, size_t sz)
{
    const char *s = NULL;

    switch (c) {
    case 's':
        s = ctx->sender;
        break;
    case 'l':
        s = ctx->local;
        break;
    case 'o':
        s = ctx->sdomain;
        break;
    case 'd':
        s = ctx->domain;
        break;
    case 'h':
        s = ctx->helo;
        break;
    case 'r':
        s = ctx->receiver ? ctx->receiver : "unknown";
        break;
    case 'v':
        s = ctx->ip.family == AF_INET ? "in-addr" : "ip6";
        break;
    case 'i':
        return ip_text(&ctx->ip, 1, val, sz);
    case 'c':
        return ip_text(&ctx->ip, 0, val, sz);
    case 't':
        return snprintf(val, sz, "%lld", (long long)time(NULL)) < (int)sz ? 0 : -1;
    case 'p':
        mw_spf_validated_ptr(ctx, val, sz);
        return 0;
    default:
        return -1;
    }
    if (!s)
        s = "";
    if (strlen(s) >= sz)
        return -1;
    memcpy(val, s, strlen(s) + 1);
    return 0;
}

static int
put_escaped(struct out *o, const char *s, size_t n, int escape)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        int unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (put(o, escape && !unreserved ? e : s + i, escape && !unreserved ? 3 : 1) < 0)
            return -1;
    }
    return 0;
}

/* Split val on m's delimiters ("." if none), reverse if asked, keep the
 * rightmost m->keep parts, join them with '.' and escape if asked. */
static int
transform(struct out *o, const char *val, const struct macro *m)
{
    uint16_t start[MW_SPF_EXPAND_MAX + 1], plen[MW_SPF_EXPAND_MAX + 1];
    const char *delims = m->delims[0] ? m->delims : ".";
    size_t np = 0, len = strlen(val), first;

    start[0] = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || strchr(delims, val[i])) {
            plen[np] = (uint16_t)(i - start[np]);
            np++;
            start[np] = (uint16_t)(i + 1);
        }
    first = (m->keep && m->keep < np) ? np - m->keep : 0;
    /* Part k of the (possibly reversed) list; keep its rightmost ones. */
    for (size_t k = first; k < np; k++) {
        size_t idx = m->rev ? np - 1 - k : k;
        if ((k > first && put(o, ".", 1) < 0) ||
            put_escaped(o, val + start[idx], plen[idx], m->upper) < 0)
            return -1;
    }
    return 0;
}

static int
expand(struct mw_spf_ctx *ctx, const char *s, size_t len, int exp, struct out *o)
{
    char val[MW_SPF_EXPAND_MAX];
    struct macro m;
    const char *lit;
    size_t i = 0, litlen;

    if (o->cap == 0 || !ctx)
        return -1;
    o->p[0] = '\0';
    while (i < len) {
        if (next_token(s, len, &i, exp, &m, &lit, &litlen) < 0)
            return -1;
        if (!m.letter) {
            if (put(o, lit, litlen) < 0)
                return -1;
            continue;
        }
        if (letter_value(ctx, m.letter, val, sizeof(val)) < 0 || transform(o, val, &m) < 0)
            return -1;
    }
    return 0;
}

int
mw_spf_macro_expand(struct mw_spf_ctx *ctx, const char *s, size_t len, int exp, char *out,
                    size_t outsz)
{
    struct out o = {out, 0, outsz, 0, 0};

    return expand(ctx, s, len, exp, &o);
}

int
mw_spf_macro_expand_name(struct mw_spf_ctx *ctx, const char *s, size_t len, char *out, size_t outsz)
{
    struct out o = {out, 0, outsz, 0, 1};

    if (outsz < 2 * (MW_SPF_NAME_MAX + 2))
        return -1; /* the kept half must hold a whole name and its dots */
    return expand(ctx, s, len, 0, &o);
}
