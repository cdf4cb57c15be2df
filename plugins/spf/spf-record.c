/*
 * spf-record.c - parse one SPF record (RFC 7208 §4.6, §5, §6, §12 ABNF)
 * into terms for spf-eval.c. Strict: a non-ASCII byte, an unknown
 * mechanism, a bad CIDR, a bad macro anywhere, a duplicate redirect= or
 * exp= is an error (permerror), whether the term would be reached or not.
 * The record owns a copy of the text; terms point into it.
 * Thread-safe (no shared state).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mw/alloc.h"
#include "spf-ctx.h"
#include "spf-record.h"

static int
ci_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* "/" ("0" / %x31-39 0*2DIGIT) up to max; -1 if malformed. */
static int
cidr_len(const char *s, size_t n, int max)
{
    int v = 0;

    if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v > max ? -1 : v;
}

/* domain-spec = macro-string domain-end, domain-end = ( "." toplabel [ "." ] )
 * / macro-expand (§7.1 ABNF). */
static int
domain_spec_ok(const char *s, size_t n)
{
    size_t end = n, dot;
    int macro_end;

    if (n == 0 || mw_spf_macro_check(s, n, 0, &macro_end) < 0)
        return 0;
    if (macro_end)
        return 1;
    if (s[end - 1] == '.')
        end--;
    for (dot = end; dot > 0 && s[dot - 1] != '.'; dot--)
        ;
    return dot > 0 && mw_spf_toplabel_ok(s + dot, end - dot);
}

/* Strip a trailing "/" cidr-length (at most max) off s[0..*n) into *out:
 * 1 if stripped, 0 if there is none, -1 if malformed. */
static int
strip_cidr(const char *s, size_t *n, int max, int *out)
{
    size_t i = *n;

    while (i > 0 && isdigit((unsigned char)s[i - 1]))
        i--;
    if (i == 0 || s[i - 1] != '/')
        return 0;
    if ((*out = cidr_len(s + i, *n - i, max)) < 0)
        return -1;
    *n = i - 1;
    return 1;
}

/* dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ] */
static int
dual_cidr(const char *s, size_t *n, struct mw_spf_term *t)
{
    size_t i = *n;

    while (i > 0 && isdigit((unsigned char)s[i - 1]))
        i--;
    if (i >= 2 && s[i - 1] == '/' && s[i - 2] == '/') {
        if ((t->c6 = cidr_len(s + i, *n - i, 128)) < 0)
            return -1;
        *n = i - 2;
    }
    return strip_cidr(s, n, 32, &t->c4) < 0 ? -1 : 0;
}

static int
parse_ip(struct mw_spf_term *t, const char *a, size_t n, int fam)
{
    char buf[64];

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, a, n);
    buf[n] = '\0';
    t->ip.family = fam;
    return inet_pton(fam, buf, t->ip.b) == 1 ? 0 : -1;
}

static const struct {
    const char *name;
    enum mw_spf_kind kind;
} mechs[] = {
    {"all", MW_SPF_ALL},    {"include", MW_SPF_INCLUDE}, {"a", MW_SPF_A_MECH},
    {"mx", MW_SPF_MX_MECH}, {"ptr", MW_SPF_PTR_MECH},    {"ip4", MW_SPF_IP4},
    {"ip6", MW_SPF_IP6},    {"exists", MW_SPF_EXISTS},
};

static int
parse_mech(struct mw_spf_term *t, const char *s, size_t n)
{
    size_t nl = 0, alen;
    const char *arg;

    t->qual = '+';
    if (n && strchr("+-~?", s[0])) {
        t->qual = s[0];
        s++, n--;
    }
    while (nl < n && s[nl] != ':' && s[nl] != '/')
        nl++;
    t->kind = MW_SPF_NOKIND;
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
        if (ci_eq(s, nl, mechs[i].name))
            t->kind = mechs[i].kind;
    arg = s + nl;
    alen = n - nl;
    t->c4 = 32, t->c6 = 128;
    switch (t->kind) {
    case MW_SPF_ALL:
        return alen ? -1 : 0;
    case MW_SPF_INCLUDE:
    case MW_SPF_EXISTS:
        if (alen < 2 || arg[0] != ':')
            return -1;
        t->arg = arg + 1, t->alen = alen - 1;
        return domain_spec_ok(t->arg, t->alen) ? 0 : -1;
    case MW_SPF_A_MECH:
    case MW_SPF_MX_MECH:
        if (dual_cidr(arg, &alen, t) < 0)
            return -1;
        /* fall through */
    case MW_SPF_PTR_MECH:
        if (alen == 0)
            return 0;
        if (alen < 2 || arg[0] != ':')
            return -1;
        t->arg = arg + 1, t->alen = alen - 1;
        return domain_spec_ok(t->arg, t->alen) ? 0 : -1;
    case MW_SPF_IP4:
    case MW_SPF_IP6:
        if (alen < 2 || arg[0] != ':')
            return -1;
        arg++, alen--;
        if (strip_cidr(arg, &alen, t->kind == MW_SPF_IP4 ? 32 : 128,
                       t->kind == MW_SPF_IP4 ? &t->c4 : &t->c6) < 0)
            return -1;
        return parse_ip(t, arg, alen, t->kind == MW_SPF_IP4 ? AF_INET : AF_INET6);
    default:
        return -1;
    }
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) "=" ... */
static int
parse_modifier(struct mw_spf_record *r, struct mw_spf_term *t, const char *s, size_t n, size_t eq)
{
    if (eq == 0 || !isalpha((unsigned char)s[0]))
        return -1;
    for (size_t i = 1; i < eq; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
            return -1;
    t->arg = s + eq + 1, t->alen = n - eq - 1;
    if (ci_eq(s, eq, "redirect") || ci_eq(s, eq, "exp")) {
        int redir = ci_eq(s, eq, "redirect");
        if ((redir ? r->redirect : r->exp) || !domain_spec_ok(t->arg, t->alen))
            return -1;
        t->kind = redir ? MW_SPF_REDIRECT : MW_SPF_EXP;
        if (redir)
            r->redirect = t;
        else
            r->exp = t;
        return 0;
    }
    t->kind = MW_SPF_MODIFIER;
    return mw_spf_macro_check(t->arg, t->alen, 0, NULL);
}

static int
parse_term(struct mw_spf_record *r, struct mw_spf_term *t, const char *s, size_t n)
{
    size_t eq = 0;

    t->text = s, t->tlen = n;
    while (eq < n && s[eq] != '=' && s[eq] != ':' && s[eq] != '/')
        eq++;
    if (eq < n && s[eq] == '=')
        return parse_modifier(r, t, s, n, eq);
    return parse_mech(t, s, n);
}

int
mw_spf_record_is_spf(const char *txt)
{
    return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == ' ' || txt[6] == '\0');
}

int
mw_spf_record_parse(struct mw_spf_record *r, const char *txt)
{
    size_t i, len = strlen(txt), nt = 0;

    memset(r, 0, sizeof(*r));
    if (len > 65535 || !mw_spf_record_is_spf(txt))
        return -1;
    r->buf = mw_strdup(txt);
    for (i = 0; i < len; i++)
        if ((unsigned char)txt[i] < 0x20 || (unsigned char)txt[i] > 0x7e)
            return -1;
    for (i = 0; i < len; i++)
        if (txt[i] == ' ')
            nt++;
    r->terms = mw_calloc(nt + 1, sizeof(*r->terms));
    for (i = 6; i < len;) {
        size_t s;
        while (i < len && r->buf[i] == ' ')
            i++;
        if (i >= len)
            break;
        for (s = i; i < len && r->buf[i] != ' ';)
            i++;
        if (parse_term(r, &r->terms[r->n], r->buf + s, i - s) < 0) {
            r->bad = r->buf + s, r->badlen = i - s;
            return -1;
        }
        r->n++;
    }
    return 0;
}

void
mw_spf_record_release(struct mw_spf_record *r)
{
    mw_free(&r->buf);
    mw_free(&r->terms);
    r->n = 0;
    r->redirect = r->exp = NULL;
    r->bad = NULL;
}
