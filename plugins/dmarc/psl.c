/*
 * psl.c - organizational domains from the Public Suffix List (see psl.h).
 *
 * The rules are kept as strings in one sorted array ("ck", "*.ck", "!www.ck")
 * and looked up with bsearch: for each suffix of a name, shortest first, an
 * exception "!S", a plain rule "S" and a wildcard "*.S'" (S' being S
 * without its first label) are tried. About 10,000 rules; a lookup costs
 * three binary searches per label.
 *
 * Unicode rules are turned into A-labels with the punycode encoder of
 * RFC 3492 §6.3 (the list's Unicode is already lowercase NFC, so IDNA's
 * mapping step has nothing left to do). A rule that is no valid name after
 * that is skipped, never half-used.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc/psl.h"
#include "mw/alloc.h"
#include "mw/buf.h"

/* Larger than any list ever published (about 250 KB today). */
#define MW_PSL_FILE_MAX (16 * 1024 * 1024)

struct mw_psl {
    char **rules; /* sorted with strcmp */
    size_t n;
};

/* ---- punycode (RFC 3492), for Unicode labels of the list ---- */

enum { PUNY_BASE = 36, PUNY_TMIN = 1, PUNY_TMAX = 26, PUNY_SKEW = 38, PUNY_DAMP = 700 };

static uint32_t
mw_puny_adapt(uint32_t delta, uint32_t points, bool first)
{
    uint32_t k = 0;

    delta = first ? delta / PUNY_DAMP : delta / 2;
    delta += delta / points;
    while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
        delta /= PUNY_BASE - PUNY_TMIN;
        k += PUNY_BASE;
    }
    return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

static char
mw_puny_digit(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + d - 26);
}

/* Decode UTF-8 (no overlongs, no surrogates); returns the count or -1. */
static int
mw_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < len; n++) {
        uint32_t c = s[i], min;
        size_t more;

        if (n == max)
            return -1;
        if (c < 0x80)
            more = 0, min = 0;
        else if ((c & 0xe0) == 0xc0)
            more = 1, c &= 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            more = 2, c &= 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            more = 3, c &= 0x07, min = 0x10000;
        else
            return -1;
        if (i + more >= len)
            return -1;
        for (size_t j = 1; j <= more; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return -1;
            c = (c << 6) | (s[i + j] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return -1;
        cp[n] = c;
        i += more + 1;
    }
    return (int)n;
}

/* Append "xn--" and the punycode of label (UTF-8) to out; -1 if invalid. */
static int
mw_puny_encode(const char *label, size_t len, struct mw_buf *out)
{
    uint32_t cp[64], n = 128, delta = 0, bias = 72, h, b = 0;
    int count = mw_utf8_decode((const unsigned char *)label, len, cp, 64);

    if (count <= 0)
        return -1;
    mw_buf_puts(out, "xn--");
    for (int i = 0; i < count; i++)
        if (cp[i] < 0x80) {
            mw_buf_putc(out, cp[i] >= 'A' && cp[i] <= 'Z' ? (int)(cp[i] - 'A' + 'a') : (int)cp[i]);
            b++;
        }
    if (b > 0)
        mw_buf_putc(out, '-');
    for (h = b; h < (uint32_t)count; n++, delta++) {
        uint32_t m = UINT32_MAX;

        for (int i = 0; i < count; i++)
            if (cp[i] >= n && cp[i] < m)
                m = cp[i];
        /* At most 63 code points below 0x110000: no overflow in 32 bits. */
        delta += (m - n) * (h + 1);
        n = m;
        for (int i = 0; i < count; i++) {
            if (cp[i] < n)
                delta++;
            if (cp[i] != n)
                continue;
            uint32_t q = delta;
            for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
                uint32_t t = k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
                if (q < t)
                    break;
                mw_buf_putc(out, mw_puny_digit(t + (q - t) % (PUNY_BASE - t)));
                q = (q - t) / (PUNY_BASE - t);
            }
            mw_buf_putc(out, mw_puny_digit(q));
            bias = mw_puny_adapt(delta, h + 1, h == b);
            delta = 0;
            h++;
        }
    }
    return 0;
}

/* ---- names and rules ---- */

/* A lowercase ASCII host name (see psl.h); returns its label count or -1. */
static int
mw_psl_name_labels(const char *d)
{
    size_t len = strlen(d), label = 0;
    int labels = 1;

    if (len == 0 || len > MW_DNS_NAME_MAX)
        return -1;
    for (const char *p = d; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return -1;
            label = 0;
            labels++;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
            if (++label > 63)
                return -1;
        } else {
            return -1;
        }
    }
    return label == 0 ? -1 : labels;
}

/* One rule of the file (its first word) in stored form into out; -1 to skip it. */
static int
mw_psl_rule(const char *w, size_t len, struct mw_buf *out)
{
    size_t start;

    mw_buf_reset(out);
    if (len > 0 && w[0] == '!') {
        mw_buf_putc(out, '!');
        w++, len--;
    } else if (len > 1 && w[0] == '*' && w[1] == '.') {
        mw_buf_puts(out, "*.");
        w += 2, len -= 2;
    }
    start = out->len;
    while (len > 0) {
        const char *dot = memchr(w, '.', len);
        size_t n = dot != NULL ? (size_t)(dot - w) : len;
        bool ascii = true;

        for (size_t i = 0; i < n; i++)
            ascii = ascii && (unsigned char)w[i] < 0x80;
        if (ascii) {
            for (size_t i = 0; i < n; i++)
                mw_buf_putc(out, w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
        } else if (mw_puny_encode(w, n, out) < 0) {
            return -1;
        }
        if (dot == NULL)
            break;
        mw_buf_putc(out, '.');
        w += n + 1, len -= n + 1;
    }
    return mw_psl_name_labels(out->data + start) < 0 ? -1 : 0;
}

static int
mw_psl_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct mw_psl *
mw_psl_parse(const char *text, size_t len, struct mw_err *err)
{
    struct mw_psl *psl = mw_calloc(1, sizeof(*psl));
    size_t cap = 0;
    struct mw_buf rule;

    mw_buf_init(&rule);
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end, *w = p;
        size_t n;

        while (w < eol && (*w == ' ' || *w == '\t'))
            w++;
        for (n = 0; w + n < eol && w[n] != ' ' && w[n] != '\t' && w[n] != '\r'; n++)
            ;
        p = nl != NULL ? nl + 1 : end;
        if (n == 0 || (n >= 2 && w[0] == '/' && w[1] == '/') || memchr(w, '\0', n) != NULL)
            continue;
        if (mw_psl_rule(w, n, &rule) < 0)
            continue;
        if (psl->n == cap) {
            cap = cap ? cap * 2 : 1024;
            psl->rules = mw_reallocarray(psl->rules, cap, sizeof(*psl->rules));
        }
        psl->rules[psl->n++] = mw_strdup(rule.data);
    }
    mw_buf_release(&rule);
    if (psl->n == 0) {
        mw_psl_free(&psl);
        mw_err_set(err, "no public suffix rule found");
        return NULL;
    }
    qsort(psl->rules, psl->n, sizeof(*psl->rules), mw_psl_cmp);
    return psl;
}

struct mw_psl *
mw_psl_load(const char *path, struct mw_err *err)
{
    FILE *fp = fopen(path, "re");
    struct mw_buf text;
    struct mw_psl *psl = NULL;
    char chunk[8192];
    size_t n;

    if (fp == NULL) {
        mw_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    mw_buf_init(&text);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && text.len <= MW_PSL_FILE_MAX)
        mw_buf_append(&text, chunk, n);
    if (ferror(fp))
        mw_err_set(err, "%s: read error", path);
    else if (text.len > MW_PSL_FILE_MAX)
        mw_err_set(err, "%s: larger than %d bytes", path, MW_PSL_FILE_MAX);
    else if ((psl = mw_psl_parse(text.data, text.len, err)) == NULL)
        mw_err_set(err, "%s: no public suffix rule found", path);
    fclose(fp);
    mw_buf_release(&text);
    return psl;
}

void
mw_psl_free(struct mw_psl **pp)
{
    struct mw_psl *psl = *pp;

    if (psl == NULL)
        return;
    for (size_t i = 0; i < psl->n; i++)
        mw_free(&psl->rules[i]);
    mw_free(&psl->rules);
    mw_free(pp);
}

size_t
mw_psl_count(const struct mw_psl *psl)
{
    return psl->n;
}

static bool
mw_psl_has(const struct mw_psl *psl, const char *prefix, const char *suffix)
{
    char key[MW_DNS_NAME_MAX + 3];
    const char *k = key;

    snprintf(key, sizeof(key), "%s%s", prefix, suffix);
    return bsearch(&k, psl->rules, psl->n, sizeof(*psl->rules), mw_psl_cmp) != NULL;
}

int
mw_psl_org_domain(const struct mw_psl *psl, const char *domain, char org[MW_DNS_NAME_MAX + 1])
{
    int labels = mw_psl_name_labels(domain), exception = 0, rule = 1, suffix;
    const char *start[MW_DNS_NAME_MAX / 2 + 2]; /* start[k]: the suffix of k labels */

    if (labels < 0)
        return -1;
    start[labels] = domain;
    for (int k = labels - 1; k >= 1; k--)
        start[k] = strchr(start[k + 1], '.') + 1;
    for (int k = 1; k <= labels; k++) {
        if (mw_psl_has(psl, "!", start[k]))
            exception = k;
        if (mw_psl_has(psl, "", start[k]) && k > rule)
            rule = k;
        if (k >= 2 && mw_psl_has(psl, "*.", start[k - 1]) && k > rule)
            rule = k;
    }
    /* An exception beats every rule and means: its parent is the suffix. */
    suffix = exception > 0 ? exception - 1 : rule;
    strcpy(org, start[suffix < labels ? suffix + 1 : labels]);
    return 0;
}
