/*
 * publish-table.h - the MTA-STS policies we publish: one site per domain,
 * read from [mta-sts-publish] and from its policy_file, and the policy text
 * served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461 §3.2).
 *
 * SYNOPSIS
 *   mw_sts_table_parse(name, text, len, t, err)   policy_file text -> sites
 *   mw_sts_table_load(path, missing_ok, t, err)  read and parse the file (1: missing)
 *   mw_sts_table_release(t)                      free every site
 *   mw_sts_table_find(t, domain)                 the site of domain or NULL
 *   mw_sts_table_put(t, site)                    add or replace (copies site)
 *   mw_sts_site_policy(s, out)                   the policy text, CRLF lines
 *   mw_sts_site_format(s, out)                   the site as a policy_file line
 *   mw_sts_site_same_policy(a, b)                do a and b serve the same text?
 *
 * policy_file: one site per line, "#" starts a comment line, blank lines are
 * skipped:
 *   DOMAIN mode=enforce|testing|none max_age=SECONDS mx=PATTERN[,PATTERN...]
 *          [cert=FILE key=FILE] [id=ID]
 * mode, max_age and mx are required; a pattern is a host name or "*." and a
 * host name (RFC 8461 §4.1); max_age is 0..31557600 (§3.2); id is what
 * "mailwardctl sts init" last published in _mta-sts.DOMAIN TXT (1-32
 * letters and digits, §3.1); cert/key (PEM files) override the section's.
 * A line longer than 4096 bytes, an unknown or repeated attribute, a
 * repeated domain or a bad value is an error naming the line.
 *
 * Pure functions but mw_sts_table_load (the file, at most 1 MiB): no I/O,
 * no globals, so they fuzz well. The table owns its strings.
 */
#ifndef MW_POLICYD_PUBLISH_TABLE_H
#define MW_POLICYD_PUBLISH_TABLE_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/err.h"

#define MW_STS_MAX_AGE_MAX 31557600L
#define MW_STS_ID_MAX 32
#define MW_STS_MX_MAX 64

struct mw_sts_site {
    char *domain; /* lower case, no final dot */
    char *mode;   /* "enforce", "testing" or "none" */
    long max_age; /* seconds */
    char **mx;    /* NULL-terminated patterns */
    size_t nmx;
    char *cert; /* PEM chain or NULL (the section's cert_file) */
    char *key;  /* PEM key or NULL */
    char *id;   /* the published policy id or NULL */
};

struct mw_sts_table {
    struct mw_sts_site *sites;
    size_t n;
};

int mw_sts_table_parse(const char *name, const char *text, size_t len, struct mw_sts_table *t,
                       struct mw_err *err);
/* 0, 1 when path is missing and missing_ok (t empty), or -1 with err set. */
int mw_sts_table_load(const char *path, int missing_ok, struct mw_sts_table *t, struct mw_err *err);
void mw_sts_table_release(struct mw_sts_table *t);
struct mw_sts_site *mw_sts_table_find(const struct mw_sts_table *t, const char *domain);
void mw_sts_table_put(struct mw_sts_table *t, const struct mw_sts_site *s);

/* Checks of one value, as the parser does them (also for the config keys). */
int mw_sts_domain_check(const char *domain, struct mw_err *err);
int mw_sts_mx_check(const char *pattern, struct mw_err *err);
int mw_sts_id_check(const char *id, struct mw_err *err);

void mw_sts_site_policy(const struct mw_sts_site *s, struct mw_buf *out);
void mw_sts_site_format(const struct mw_sts_site *s, struct mw_buf *out);
int mw_sts_site_same_policy(const struct mw_sts_site *a, const struct mw_sts_site *b);
/* Free the strings of s (not s itself). */
void mw_sts_site_release(struct mw_sts_site *s);

#endif
