/*
 * policy.c - MTA-STS TXT records and policy bodies: strict parsers and the
 * Postfix answer (see policy.h for the grammar accepted).
 *
 * Every parser walks the bytes once with explicit lengths; no input is
 * assumed to be NUL-terminated or printable.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "mw/alloc.h"
#include "policy.h"

#define MW_STS_NAME_MAX 32 /* extension names: 1 + 31 characters */
#define MW_STS_DOMAIN_MAX 253

static int
mw_sts_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
mw_sts_wsp(int c)
{
    return c == ' ' || c == '\t';
}

/* An extension name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
static int
mw_sts_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > MW_STS_NAME_MAX || !mw_sts_alnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!mw_sts_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

int
mw_sts_txt_is_sts(const char *rec, size_t len)
{
    return len >= 7 && memcmp(rec, "v=STSv1", 7) == 0 &&
           (len == 7 || rec[7] == ';' || mw_sts_wsp((unsigned char)rec[7]));
}

/* One "name=value" field of a TXT record at rec[*i..end); the id goes to id. */
static int
mw_sts_txt_field(const char *rec, size_t len, size_t *i, char *id, struct mw_err *err)
{
    size_t start = *i, eq, vstart;

    while (*i < len && rec[*i] != '=' && rec[*i] != ';' && !mw_sts_wsp((unsigned char)rec[*i]))
        (*i)++;
    if (*i >= len || rec[*i] != '=' || !mw_sts_name_ok(rec + start, *i - start))
        return mw_err_set(err, "bad field name at offset %zu", start);
    eq = *i;
    vstart = ++(*i);
    if (eq - start == 2 && memcmp(rec + start, "id", 2) == 0) {
        while (*i < len && mw_sts_alnum((unsigned char)rec[*i]))
            (*i)++;
        if (*i == vstart || *i - vstart > MW_STS_ID_MAX ||
            (*i < len && rec[*i] != ';' && !mw_sts_wsp((unsigned char)rec[*i])))
            return mw_err_set(err, "id must be 1 to %d letters and digits", MW_STS_ID_MAX);
        if (*id != '\0')
            return mw_err_set(err, "more than one id");
        memcpy(id, rec + vstart, *i - vstart);
        id[*i - vstart] = '\0';
        return 0;
    }
    while (*i < len && (unsigned char)rec[*i] >= 0x21 && (unsigned char)rec[*i] <= 0x7e &&
           rec[*i] != ';' && rec[*i] != '=')
        (*i)++;
    if (*i == vstart)
        return mw_err_set(err, "empty value at offset %zu", vstart);
    return 0;
}

int
mw_sts_txt_parse(const char *rec, size_t len, char id[MW_STS_ID_MAX + 1], struct mw_err *err)
{
    size_t i = 7;

    id[0] = '\0';
    if (!mw_sts_txt_is_sts(rec, len))
        return mw_err_set(err, "does not start with v=STSv1");
    for (;;) {
        while (i < len && mw_sts_wsp((unsigned char)rec[i]))
            i++;
        if (i == len)
            break;
        if (rec[i] != ';')
            return mw_err_set(err, "expected \";\" at offset %zu", i);
        i++;
        while (i < len && mw_sts_wsp((unsigned char)rec[i]))
            i++;
        if (i == len)
            break;
        if (mw_sts_txt_field(rec, len, &i, id, err) < 0) {
            id[0] = '\0';
            return -1;
        }
    }
    if (id[0] == '\0')
        return mw_err_set(err, "no id");
    return 0;
}

int
mw_sts_txt_pick(const struct mw_buf *recs, size_t n, char id[MW_STS_ID_MAX + 1], struct mw_err *err)
{
    size_t found = 0, which = 0;
    struct mw_err why;

    id[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (mw_sts_txt_is_sts(recs[i].data, recs[i].len)) {
            found++;
            which = i;
        }
    if (found == 0)
        return mw_err_set(err, "no v=STSv1 record");
    if (found > 1)
        return mw_err_set(err, "%zu v=STSv1 records (exactly one allowed)", found);
    if (mw_sts_txt_parse(recs[which].data, recs[which].len, id, &why) < 0)
        return mw_err_set(err, "invalid v=STSv1 record: %s", why.text);
    return 0;
}

/* Length of a well-formed UTF-8 sequence of 2 to 4 bytes at s (n left), else 0. */
static size_t
mw_sts_utf8(const unsigned char *s, size_t n)
{
    size_t need;
    unsigned int cp;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        need = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        need = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        need = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (n < need)
        return 0;
    for (size_t k = 1; k < need; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

/* sts-policy-ext-value: visible ASCII or UTF-8, blanks only between them. */
static int
mw_sts_ext_value_ok(const char *v, size_t len)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t i = 0, k;

    if (len == 0)
        return 0;
    while (i < len) {
        if (s[i] >= 0x21 && s[i] <= 0x7e)
            i++;
        else if (mw_sts_wsp(s[i]) && i > 0)
            i++;
        else if ((k = mw_sts_utf8(s + i, len - i)) > 0)
            i += k;
        else
            return 0;
    }
    return 1;
}

/* An mx pattern: ["*."] Domain (RFC 5321), lower-cased into a new string. */
static char *
mw_sts_mx_parse(const char *v, size_t len)
{
    size_t i = 0, label = 0;
    char *out;

    if (len >= 2 && v[0] == '*' && v[1] == '.')
        i = 2;
    if (len - i == 0 || len - i > MW_STS_DOMAIN_MAX)
        return NULL;
    for (size_t j = i; j < len; j++) {
        int c = (unsigned char)v[j];
        if (c == '.') {
            if (label == 0 || v[j - 1] == '-')
                return NULL;
            label = 0;
        } else if (mw_sts_alnum(c) || (c == '-' && label > 0)) {
            if (++label > 63)
                return NULL;
        } else {
            return NULL;
        }
    }
    if (label == 0 || v[len - 1] == '-')
        return NULL;
    out = mw_strndup(v, len);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

struct mw_sts_seen {
    int version, mode, max_age;
};

/* One "key: value" line (without its terminator) into p. */
static int
mw_sts_policy_line(const char *l, size_t len, struct mw_sts_policy *p, struct mw_sts_seen *seen,
                   struct mw_err *err)
{
    const char *colon = memchr(l, ':', len), *v;
    size_t klen, vlen;
    char *mx;

    if (colon == NULL || !mw_sts_name_ok(l, (size_t)(colon - l)))
        return mw_err_set(err, "not a \"key: value\" field");
    klen = (size_t)(colon - l);
    v = colon + 1;
    vlen = len - klen - 1;
    while (vlen > 0 && mw_sts_wsp((unsigned char)*v))
        v++, vlen--;
    while (vlen > 0 && mw_sts_wsp((unsigned char)v[vlen - 1]))
        vlen--;
    if (!mw_sts_ext_value_ok(v, vlen))
        return mw_err_set(err, "bad value");
    if (klen == 7 && memcmp(l, "version", 7) == 0) {
        if (seen->version++)
            return mw_err_set(err, "duplicate version");
        if (vlen != 5 || memcmp(v, "STSv1", 5) != 0)
            return mw_err_set(err, "version is not STSv1");
    } else if (klen == 4 && memcmp(l, "mode", 4) == 0) {
        if (seen->mode++)
            return mw_err_set(err, "duplicate mode");
        if (vlen == 7 && memcmp(v, "enforce", 7) == 0)
            p->mode = MW_STS_MODE_ENFORCE;
        else if (vlen == 7 && memcmp(v, "testing", 7) == 0)
            p->mode = MW_STS_MODE_TESTING;
        else if (vlen == 4 && memcmp(v, "none", 4) == 0)
            p->mode = MW_STS_MODE_NONE;
        else
            return mw_err_set(err, "mode is not enforce, testing or none");
    } else if (klen == 7 && memcmp(l, "max_age", 7) == 0) {
        unsigned long long n = 0;
        if (seen->max_age++)
            return mw_err_set(err, "duplicate max_age");
        if (vlen == 0 || vlen > 10)
            return mw_err_set(err, "max_age is not 1 to 10 digits");
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                return mw_err_set(err, "max_age is not 1 to 10 digits");
            n = n * 10 + (unsigned long long)(v[i] - '0');
        }
        p->max_age = n > MW_STS_MAX_AGE_MAX ? MW_STS_MAX_AGE_MAX : (unsigned long)n;
    } else if (klen == 2 && memcmp(l, "mx", 2) == 0) {
        if ((mx = mw_sts_mx_parse(v, vlen)) == NULL)
            return mw_err_set(err, "bad mx pattern");
        p->mx = mw_reallocarray(p->mx, p->nmx + 1, sizeof(*p->mx));
        p->mx[p->nmx++] = mx;
    }
    return 0;
}

int
mw_sts_policy_parse(const char *text, size_t len, struct mw_sts_policy **out, struct mw_err *err)
{
    struct mw_sts_policy *p;
    struct mw_sts_seen seen = {0, 0, 0};
    struct mw_err why;
    size_t pos = 0, lineno = 0;

    *out = NULL;
    if (len > MW_STS_POLICY_MAX)
        return mw_err_set(err, "policy larger than %d bytes", MW_STS_POLICY_MAX);
    p = mw_calloc(1, sizeof(*p));
    while (pos < len) {
        const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - l) : len - pos;

        lineno++;
        pos += llen + (nl ? 1 : 0);
        if (llen > 0 && l[llen - 1] == '\r' && nl != NULL)
            llen--;
        if (llen == 0)
            continue;
        if (mw_sts_policy_line(l, llen, p, &seen, &why) < 0) {
            mw_sts_policy_free(&p);
            return mw_err_set(err, "line %zu: %s", lineno, why.text);
        }
    }
    if (!seen.version || !seen.mode || !seen.max_age ||
        (p->nmx == 0 && p->mode != MW_STS_MODE_NONE)) {
        mw_err_set(err, "missing %s",
                   !seen.version   ? "version"
                   : !seen.mode    ? "mode"
                   : !seen.max_age ? "max_age"
                                   : "mx");
        mw_sts_policy_free(&p);
        return -1;
    }
    *out = p;
    return 0;
}

void
mw_sts_policy_free(struct mw_sts_policy **pp)
{
    struct mw_sts_policy *p = *pp;

    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nmx; i++)
        mw_free(&p->mx[i]);
    mw_free(&p->mx);
    mw_free(pp);
}

const char *
mw_sts_mode_name(enum mw_sts_mode m)
{
    switch (m) {
    case MW_STS_MODE_ENFORCE:
        return "enforce";
    case MW_STS_MODE_TESTING:
        return "testing";
    case MW_STS_MODE_NONE:
        break;
    }
    return "none";
}

/* Non-zero when pattern i appeared earlier in the list (patterns are lower case). */
static int
mw_sts_mx_dup(const struct mw_sts_policy *p, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(p->mx[j], p->mx[i]) == 0)
            return 1;
    return 0;
}

int
mw_sts_policy_answer(const struct mw_sts_policy *p, const char *domain, int tlsrpt, size_t max,
                     struct mw_buf *out, struct mw_err *err)
{
    size_t start = out->len;
    char sep = '=';

    mw_buf_puts(out, "secure match");
    for (size_t i = 0; i < p->nmx; i++) {
        if (mw_sts_mx_dup(p, i))
            continue;
        mw_buf_putc(out, sep);
        mw_buf_puts(out, p->mx[i][0] == '*' ? p->mx[i] + 1 : p->mx[i]);
        sep = ':';
    }
    mw_buf_puts(out, " servername=hostname");
    if (tlsrpt) {
        mw_buf_printf(out, " policy_type=sts policy_domain=%s", domain);
        for (size_t i = 0; i < p->nmx; i++)
            if (!mw_sts_mx_dup(p, i))
                mw_buf_printf(out, " mx_host_pattern=%s", p->mx[i]);
        mw_buf_printf(out, " { policy_string = version: STSv1 } { policy_string = mode: %s }",
                      mw_sts_mode_name(p->mode));
        for (size_t i = 0; i < p->nmx; i++)
            mw_buf_printf(out, " { policy_string = mx: %s }", p->mx[i]);
        mw_buf_printf(out, " { policy_string = max_age: %lu }", p->max_age);
    }
    if (out->len - start > max) {
        out->len = start;
        out->data[start] = '\0';
        return mw_err_set(err, "the answer would exceed %zu bytes", max);
    }
    return 0;
}
