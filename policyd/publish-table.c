/*
 * publish-table.c - the MTA-STS sites we publish and their policy text (see
 * publish-table.h). The policy_file is admin-written but distrusted like any
 * input: bounded lines, every attribute checked, errors name the line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "mw/alloc.h"
#include "mw/config.h"
#include "mw/dns.h"
#include "publish-table.h"

#define MW_STS_LINE_MAX 4096
#define MW_STS_FILE_MAX (1024 * 1024)

int
mw_sts_domain_check(const char *domain, struct mw_err *err)
{
    if (*domain == '\0' || strchr(domain, '*') != NULL || domain[strlen(domain) - 1] == '.')
        return mw_err_set(err, "\"%.64s\" is not a domain name", domain);
    for (const char *p = domain; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            return mw_err_set(err, "\"%.64s\" is not a domain name", domain);
    return mw_dns_name_check(domain, err);
}

int
mw_sts_mx_check(const char *pattern, struct mw_err *err)
{
    const char *host = strncmp(pattern, "*.", 2) == 0 ? pattern + 2 : pattern;

    if (mw_sts_domain_check(host, err) < 0)
        return mw_err_set(err, "\"%.64s\" is not an mx pattern (host or *.host)", pattern);
    return 0;
}

int
mw_sts_id_check(const char *id, struct mw_err *err)
{
    size_t n = strlen(id);

    if (n == 0 || n > MW_STS_ID_MAX)
        return mw_err_set(err, "an id has 1 to %d letters and digits", MW_STS_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]))
            return mw_err_set(err, "an id has only letters and digits (RFC 8461 3.1)");
    return 0;
}

void
mw_sts_site_release(struct mw_sts_site *s)
{
    mw_free(&s->domain);
    mw_free(&s->mode);
    mw_strv_free(&s->mx);
    mw_free(&s->cert);
    mw_free(&s->key);
    mw_free(&s->id);
    memset(s, 0, sizeof(*s));
}

void
mw_sts_table_release(struct mw_sts_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        mw_sts_site_release(&t->sites[i]);
    mw_free(&t->sites);
    t->n = 0;
}

struct mw_sts_site *
mw_sts_table_find(const struct mw_sts_table *t, const char *domain)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->sites[i].domain, domain) == 0)
            return &t->sites[i];
    return NULL;
}

static char *
mw_sts_dup_or_null(const char *s)
{
    return s != NULL ? mw_strdup(s) : NULL;
}

void
mw_sts_table_put(struct mw_sts_table *t, const struct mw_sts_site *s)
{
    struct mw_sts_site *d = mw_sts_table_find(t, s->domain);

    if (d != NULL) {
        mw_sts_site_release(d);
    } else {
        t->sites = mw_reallocarray(t->sites, t->n + 1, sizeof(*t->sites));
        d = &t->sites[t->n++];
    }
    d->domain = mw_strdup(s->domain);
    d->mode = mw_strdup(s->mode);
    d->max_age = s->max_age;
    d->mx = mw_calloc(s->nmx + 1, sizeof(*d->mx));
    for (size_t i = 0; i < s->nmx; i++)
        d->mx[i] = mw_strdup(s->mx[i]);
    d->nmx = s->nmx;
    d->cert = mw_sts_dup_or_null(s->cert);
    d->key = mw_sts_dup_or_null(s->key);
    d->id = mw_sts_dup_or_null(s->id);
}

/* One "name=value" attribute of a line into s; 0 or -1 with err set. */
static int
mw_sts_attr(struct mw_sts_site *s, const char *name, const char *value, struct mw_err *err)
{
    char ***listp = NULL;
    char **strp = NULL;
    char *end;

    if (strcmp(name, "mode") == 0) {
        if (strcmp(value, "enforce") && strcmp(value, "testing") && strcmp(value, "none"))
            return mw_err_set(err, "mode \"%.32s\" is not enforce, testing or none", value);
        strp = &s->mode;
    } else if (strcmp(name, "max_age") == 0) {
        if (s->max_age >= 0)
            return mw_err_set(err, "max_age given twice");
        s->max_age = strtol(value, &end, 10);
        if (!isdigit((unsigned char)*value) || *end != '\0' || s->max_age > MW_STS_MAX_AGE_MAX)
            return mw_err_set(err, "max_age \"%.32s\" is not 0..%ld", value, MW_STS_MAX_AGE_MAX);
        return 0;
    } else if (strcmp(name, "mx") == 0) {
        listp = &s->mx;
    } else if (strcmp(name, "cert") == 0) {
        strp = &s->cert;
    } else if (strcmp(name, "key") == 0) {
        strp = &s->key;
    } else if (strcmp(name, "id") == 0) {
        if (mw_sts_id_check(value, err) < 0)
            return -1;
        strp = &s->id;
    } else {
        return mw_err_set(err, "unknown attribute \"%.32s\"", name);
    }
    if ((strp && *strp) || (listp && *listp))
        return mw_err_set(err, "%s given twice", name);
    if (*value == '\0')
        return mw_err_set(err, "%s is empty", name);
    if (strp != NULL) {
        *strp = mw_strdup(value);
        return 0;
    }
    *listp = mw_strv_split(value, &s->nmx);
    if (s->nmx == 0) /* "mx=," : separators only */
        return mw_err_set(err, "%s is empty", name);
    if (s->nmx > MW_STS_MX_MAX)
        return mw_err_set(err, "more than %d mx patterns", MW_STS_MX_MAX);
    for (size_t i = 0; i < s->nmx; i++) {
        for (char *p = s->mx[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (mw_sts_mx_check(s->mx[i], err) < 0)
            return -1;
    }
    return 0;
}

/* One non-comment line (NUL-terminated, modified in place) into s. */
static int
mw_sts_line(char *line, struct mw_sts_site *s, struct mw_err *err)
{
    static const char blank[] = " \t";
    char *word, *save = NULL, *eq;

    s->max_age = -1;
    word = strtok_r(line, blank, &save);
    for (char *p = word; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (mw_sts_domain_check(word, err) < 0)
        return -1;
    s->domain = mw_strdup(word);
    while ((word = strtok_r(NULL, blank, &save)) != NULL) {
        if ((eq = strchr(word, '=')) == NULL)
            return mw_err_set(err, "\"%.32s\" is not name=value", word);
        *eq = '\0';
        if (mw_sts_attr(s, word, eq + 1, err) < 0)
            return -1;
    }
    if (s->mode == NULL || s->max_age < 0 || s->mx == NULL)
        return mw_err_set(err, "%s: mode, max_age and mx are required", s->domain);
    if ((s->cert == NULL) != (s->key == NULL))
        return mw_err_set(err, "%s: cert and key go together", s->domain);
    return 0;
}

/* A line-level error: free what was read, report "NAME:LINE: text". */
static int
mw_sts_fail(struct mw_sts_table *t, struct mw_sts_site *s, const char *name, int lineno,
            const char *text, struct mw_err *err)
{
    mw_sts_site_release(s);
    mw_sts_table_release(t);
    return mw_err_set(err, "%s:%d: %s", name, lineno, text);
}

int
mw_sts_table_parse(const char *name, const char *text, size_t len, struct mw_sts_table *t,
                   struct mw_err *err)
{
    char line[MW_STS_LINE_MAX + 1];
    const char *p = text, *end = text + len;
    struct mw_sts_site s;
    struct mw_err e;

    memset(t, 0, sizeof(*t));
    memset(&s, 0, sizeof(s));
    for (int lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        const char *first;

        if (n > MW_STS_LINE_MAX)
            return mw_sts_fail(t, &s, name, lineno, "line too long", err);
        if (memchr(p, '\0', n) != NULL)
            return mw_sts_fail(t, &s, name, lineno, "NUL byte", err);
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (nl != NULL);
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        first = line + strspn(line, " \t");
        if (*first == '\0' || *first == '#')
            continue;
        if (mw_sts_line(line, &s, &e) < 0)
            return mw_sts_fail(t, &s, name, lineno, e.text, err);
        if (mw_sts_table_find(t, s.domain) != NULL)
            return mw_sts_fail(t, &s, name, lineno, "domain listed twice", err);
        mw_sts_table_put(t, &s);
        mw_sts_site_release(&s);
    }
    return 0;
}

int
mw_sts_table_load(const char *path, int missing_ok, struct mw_sts_table *t, struct mw_err *err)
{
    struct mw_buf text;
    char chunk[4096];
    FILE *fp;
    size_t n;
    int rc;

    memset(t, 0, sizeof(*t));
    if ((fp = fopen(path, "r")) == NULL) {
        if (errno == ENOENT && missing_ok)
            return 1;
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    }
    mw_buf_init(&text);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && text.len <= MW_STS_FILE_MAX)
        mw_buf_append(&text, chunk, n);
    fclose(fp);
    if (text.len > MW_STS_FILE_MAX)
        rc = mw_err_set(err, "%s: larger than %d bytes", path, MW_STS_FILE_MAX);
    else
        rc = mw_sts_table_parse(path, text.data, text.len, t, err);
    mw_buf_release(&text);
    return rc;
}

void
mw_sts_site_policy(const struct mw_sts_site *s, struct mw_buf *out)
{
    mw_buf_printf(out, "version: STSv1\r\nmode: %s\r\n", s->mode);
    for (size_t i = 0; i < s->nmx; i++)
        mw_buf_printf(out, "mx: %s\r\n", s->mx[i]);
    mw_buf_printf(out, "max_age: %ld\r\n", s->max_age);
}

void
mw_sts_site_format(const struct mw_sts_site *s, struct mw_buf *out)
{
    mw_buf_printf(out, "%s mode=%s max_age=%ld mx=", s->domain, s->mode, s->max_age);
    for (size_t i = 0; i < s->nmx; i++)
        mw_buf_printf(out, "%s%s", i ? "," : "", s->mx[i]);
    if (s->cert != NULL)
        mw_buf_printf(out, " cert=%s key=%s", s->cert, s->key);
    if (s->id != NULL)
        mw_buf_printf(out, " id=%s", s->id);
    mw_buf_putc(out, '\n');
}

int
mw_sts_site_same_policy(const struct mw_sts_site *a, const struct mw_sts_site *b)
{
    struct mw_buf pa, pb;
    int same;

    mw_buf_init(&pa);
    mw_buf_init(&pb);
    mw_sts_site_policy(a, &pa);
    mw_sts_site_policy(b, &pb);
    same = pa.len == pb.len && memcmp(pa.data, pb.data, pa.len) == 0;
    mw_buf_release(&pa);
    mw_buf_release(&pb);
    return same;
}
